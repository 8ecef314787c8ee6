"""`tlsfit test`: the C unit tests under ASan/UBSan, the fuzz pass, then the pytest suite.

    1. cmake configure + build of build/asan (-DTLSFIT_SANITIZE=ON), all targets
    2. ctest --output-on-failure in build/asan
    3. tests/fuzz/run.sh FUZZ_SECONDS: every libFuzzer target for a few seconds
       (clang, ASan + UBSan, build/fuzz), so a parser that crashes fails the run
    4. /usr/bin/python3 -m pytest -q [extra args]: pytest.ini's testpaths (tests/) unless
       the arguments name test files (./tlsfit test --no-unit tests/test_gen.py: that file)

Every part always runs; the pytest summary is the last line printed.
"""
import os
import shutil
import subprocess
import sys

from ..core import paths
from ..core.errors import TESTS, TlsfitError
from ..core.text import say as _say
from ..mbedtls.tree import prober_tree
from ..profile import build

DEBIAN_PYTHON = "/usr/bin/python3"
CTEST_TIMEOUT = 300        # seconds per C unit test
PYTEST_LIMIT = 80 * 60     # seconds for the whole pytest run (CI allows 90 minutes)
FUZZ_SECONDS = 4           # per fuzz target: 9 targets + a cold build stay under 2 minutes
FUZZ_LIMIT = 10 * 60       # the whole fuzz pass, build included (a hung build must not stall CI)


def _announce(first_run):
    what = "first run, ~60 s" if first_run else "sources changed"
    _say(f"building the C unit tests with ASan/UBSan ({what})...")


def run_unit_tests(mbedtls):
    """Returns None on success or a one-line reason."""
    try:
        bdir = build.cmake_build(build.asan_build_dir(), mbedtls, target=None,
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


def run_fuzz_pass(mbedtls, seconds=FUZZ_SECONDS):
    """The short fuzz pass (tests/fuzz/run.sh).  Returns None on success or a one-line reason."""
    script = paths.repo_root() / "tests" / "fuzz" / "run.sh"
    env = dict(os.environ, MBEDTLS_DIR=str(mbedtls))
    _say(f"fuzz pass ({seconds} s per target, tests/fuzz/run.sh)")
    sys.stdout.flush()
    try:
        proc = subprocess.run(["bash", str(script), str(seconds)], cwd=paths.repo_root(), env=env,
                              stdin=subprocess.DEVNULL, timeout=FUZZ_LIMIT)
    except subprocess.TimeoutExpired:
        return f"the fuzz pass did not finish within {FUZZ_LIMIT // 60} minutes"
    if proc.returncode == 1:
        return "a fuzz target crashed (reproducer in build/fuzz/artifacts)"
    if proc.returncode == 2:
        return "the fuzz targets did not build (log: build/fuzz/build.log)"
    return None if proc.returncode == 0 else f"the fuzz pass failed (tests/fuzz/run.sh exit {proc.returncode})"


def run_pytest(extra_args):
    python = DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable
    env = dict(os.environ)
    tool = str(paths.repo_root() / "tool")
    env["PYTHONPATH"] = tool + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    _say("Python tests (pytest)")
    sys.stdout.flush()
    try:
        # No "tests" argument: pytest.ini's testpaths is the default, and an explicit
        # "tests" made `./tlsfit test tests/test_x.py` run the whole suite besides.
        proc = subprocess.run([python, "-m", "pytest", "-q", *extra_args],
                              cwd=paths.repo_root(), env=env, stdin=subprocess.DEVNULL,
                              timeout=PYTEST_LIMIT)
    except subprocess.TimeoutExpired:
        return f"pytest did not finish within {PYTEST_LIMIT // 60} minutes"
    return None if proc.returncode == 0 else f"pytest failed (exit {proc.returncode})"


def run_tests(extra_args, unit=True, fuzz=True):
    mbedtls = prober_tree().path
    unit_failure = run_unit_tests(mbedtls) if unit else None
    if unit_failure:
        _say(f"C unit tests FAILED: {unit_failure}; running the other tests anyway")
    fuzz_failure = run_fuzz_pass(mbedtls) if fuzz else None
    if fuzz_failure:
        _say(f"fuzz pass FAILED: {fuzz_failure}; running the Python tests anyway")
    py_failure = run_pytest(extra_args)
    if unit_failure or fuzz_failure or py_failure:
        # Nothing more is printed: pytest's summary stays the last line.
        raise TlsfitError(TESTS, unit_failure or fuzz_failure or py_failure, quiet=True)
    return 0
