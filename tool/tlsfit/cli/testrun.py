"""`tlsfit test`: the C unit tests under ASan/UBSan, then the pytest suite.

    1. cmake configure + build of build/asan (-DTLSFIT_SANITIZE=ON), all targets
    2. ctest --output-on-failure in build/asan
    3. /usr/bin/python3 -m pytest -q tests [extra args]

Both parts always run; the pytest summary is the last line printed.
"""
import os
import shutil
import subprocess
import sys

from ..core import paths
from ..core.errors import TESTS, TlsfitError
from ..core.text import say as _say
from ..mbedtls.tree import prober_tree
from ..profile import prober

DEBIAN_PYTHON = "/usr/bin/python3"
CTEST_TIMEOUT = 300        # seconds per C unit test
PYTEST_LIMIT = 80 * 60     # seconds for the whole pytest run (CI allows 90 minutes)


def _announce(first_run):
    what = "first run, ~60 s" if first_run else "sources changed"
    _say(f"building the C unit tests with ASan/UBSan ({what})...")


def run_unit_tests(mbedtls):
    """Returns None on success or a one-line reason."""
    try:
        bdir = prober.cmake_build(prober.asan_build_dir(), mbedtls, target=None,
                                 extra_defs={"TLSFIT_SANITIZE": "ON"}, announce=_announce)
    except TlsfitError as e:
        _say(f"C unit tests: {e.message}")
        return "the sanitizer build failed"
    ctest = shutil.which("ctest")
    if not ctest:
        return "ctest is not installed (run ./tlsfit setup)"
    _say(f"C unit tests (ctest in {os.path.relpath(bdir, paths.repo_root())})")
    sys.stdout.flush()
    try:
        proc = subprocess.run([ctest, "--test-dir", str(bdir), "--output-on-failure",
                               "--timeout", str(CTEST_TIMEOUT), "-j2"],
                              stdin=subprocess.DEVNULL, timeout=CTEST_TIMEOUT * 4)
    except subprocess.TimeoutExpired:
        return "ctest did not finish in time"
    return None if proc.returncode == 0 else f"ctest failed (exit {proc.returncode})"


def run_pytest(extra_args):
    python = DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable
    env = dict(os.environ)
    tool = str(paths.repo_root() / "tool")
    env["PYTHONPATH"] = tool + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    _say("Python tests (pytest)")
    sys.stdout.flush()
    try:
        proc = subprocess.run([python, "-m", "pytest", "-q", "tests", *extra_args],
                              cwd=paths.repo_root(), env=env, stdin=subprocess.DEVNULL,
                              timeout=PYTEST_LIMIT)
    except subprocess.TimeoutExpired:
        return f"pytest did not finish within {PYTEST_LIMIT // 60} minutes"
    return None if proc.returncode == 0 else f"pytest failed (exit {proc.returncode})"


def run_tests(extra_args, unit=True):
    mbedtls = prober_tree().path
    unit_failure = run_unit_tests(mbedtls) if unit else None
    if unit_failure:
        _say(f"C unit tests FAILED: {unit_failure}; running the Python tests anyway")
    py_failure = run_pytest(extra_args)
    if unit_failure or py_failure:
        # Nothing more is printed: pytest's summary stays the last line.
        raise TlsfitError(TESTS, unit_failure or py_failure, quiet=True)
    return 0
