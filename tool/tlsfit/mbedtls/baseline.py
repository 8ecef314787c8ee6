"""mbedTLS's own default configuration, as the baseline every measurement is compared
with: the tree's mbedtls_config.h (config.h in 2.x) put through its scripts/config.py
bare-metal preset, plus what a bare-metal build needs (made once, in the cache).

    baseline_config(tree) -> path of the header    baseline_preset(tree) -> preset name
    default_config(tree)  -> the tree's own default configuration file

For a 4.x tree the baseline is its default configuration pair unchanged, built with
the platform change of baseline4.py (the report names it).
"""
import hashlib
import os
import shutil
import subprocess
import sys

from ..core import paths
from ..core.errors import SETUP, TlsfitError
from ..core.proc import locked
from ..core.text import say
from . import baseline4
from .tree import resolve_tree

BASELINE_FORMAT = "tlsfit-baseline-1"


# What the default needs to build and run bare-metal, beyond the preset:
# the harness's entropy source, and no built-in PSA keys (they need a
# platform function the test framework supplies).
BASELINE_SET = ("MBEDTLS_ENTROPY_HARDWARE_ALT",)


BASELINE_UNSET = ("MBEDTLS_PSA_CRYPTO_BUILTIN_KEYS", "MBEDTLS_TEST_HOOKS", "MBEDTLS_SELF_TEST",
                  "MBEDTLS_DEBUG_C")


CONFIG_PY_PYTHON = "/usr/bin/python3"


def default_config(tree):
    inc = tree.path / "include" / "mbedtls"
    return inc / ("mbedtls_config.h" if tree.major >= 3 else "config.h")


def baseline_preset(tree):
    if tree.major >= 4:
        return baseline4.PRESET         # the default itself (baseline4.py)
    script = tree.path / "scripts" / "config.py"
    try:
        text = script.read_text(errors="replace")
    except OSError:
        raise TlsfitError(SETUP, f"{script} is missing; the baseline needs mbedTLS's "
                                 "scripts/config.py") from None
    return "baremetal_size" if "baremetal_size" in text else "baremetal"


def _config_py(tree, args, cwd):
    python = CONFIG_PY_PYTHON if os.path.exists(CONFIG_PY_PYTHON) else sys.executable
    argv = [python, str(tree.path / "scripts" / "config.py"), *args]
    proc = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=120)
    if proc.returncode != 0 and args[-2:-1] != ["unset"]:
        raise TlsfitError(SETUP, f"mbedTLS's config.py failed: {' '.join(argv)}: "
                                 f"{proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def baseline_config(tree=None, progress=False):
    """Path of the baseline header for this tree (made once, in the cache)."""
    tree = resolve_tree(tree)
    if tree.major >= 4:
        return baseline4.baseline_pair(tree, progress)
    source = default_config(tree)
    ident = hashlib.sha256(f"{BASELINE_FORMAT}\0{tree.path}\0{tree.version}".encode() +
                           source.read_bytes()).hexdigest()[:16]
    d = paths.xbuild_dir() / f"baseline-{tree.line}-{ident}"
    header = d / "mbedtls_default_baremetal.h"
    if header.is_file():
        return header
    with locked(d):
        if header.is_file():
            return header
        work = d / "work"
        work.mkdir(parents=True, exist_ok=True)
        copy = work / source.name
        shutil.copyfile(source, copy)
        args = ["-f", str(copy)]
        crypto = tree.path / "include" / "psa" / "crypto_config.h"
        if tree.major >= 3 and crypto.is_file():
            # config.py may edit the PSA crypto config too: give it a copy
            # (the build uses the tree's, which this preset leaves as it is).
            shutil.copyfile(crypto, work / "crypto_config.h")
            args += ["-c", str(work / "crypto_config.h")]
        preset = baseline_preset(tree)
        if progress:
            say(f"preparing the baseline: mbedTLS {tree.version}'s {source.name} through "
                 f"scripts/config.py {preset} (first time only)...")
        _config_py(tree, [*args, preset], work)
        for name in BASELINE_UNSET:
            _config_py(tree, [*args, "unset", name], work)
        for name in BASELINE_SET:
            _config_py(tree, [*args, "set", name], work)
        text = copy.read_text()
        banner = (f"/* tlsfit baseline: mbedTLS {tree.version}'s {source.name} put through "
                  f"scripts/config.py {preset},\n * then set {', '.join(BASELINE_SET)}; unset "
                  f"{', '.join(BASELINE_UNSET)}.  Generated; do not edit. */\n")
        tmp = d / (header.name + ".tmp")
        tmp.write_text(banner + text)
        os.replace(tmp, header)
        shutil.rmtree(work, ignore_errors=True)
    return header
