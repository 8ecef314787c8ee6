"""Set-up: Debian packages and mbedTLS sources (tool/setup.sh), then the prober.

The ./tlsfit launcher runs tool/setup.sh itself before `setup`, `demo` and
`test` and exports TLSFIT_SETUP_DONE=1; run_setup_script() then does nothing,
so `python3 -m tlsfit.cli demo` (without the launcher) still gets a set-up.
"""
import os
import subprocess

from ..core import paths
from ..core.errors import SETUP, TlsfitError
from ..mbedtls.tree import prober_tree, tree_source
from ..profile.build import ensure_prober

SETUP_LIMIT = 3600     # seconds: apt-get on a slow mirror


def run_setup_script():
    if os.environ.get("TLSFIT_SETUP_DONE") == "1":
        return
    script = paths.repo_root() / "tool" / "setup.sh"
    env = dict(os.environ)
    path, origin = tree_source()
    if origin == "--mbedtls-dir":
        env["MBEDTLS_DIR"] = path
    try:
        proc = subprocess.run(["bash", str(script)], stdin=subprocess.DEVNULL, env=env,
                              timeout=SETUP_LIMIT)
    except subprocess.TimeoutExpired:
        raise TlsfitError(SETUP, f"tool/setup.sh did not finish within {SETUP_LIMIT} s") from None
    if proc.returncode != 0:
        raise TlsfitError(SETUP, f"tool/setup.sh failed (exit {proc.returncode}); "
                                 "its messages are above")
    os.environ["TLSFIT_SETUP_DONE"] = "1"


def ready():
    """Full set-up; returns (prober path, the mbedTLS Tree it links)."""
    run_setup_script()
    tree = prober_tree()
    return ensure_prober(tree.path), tree
