"""`tlsfit test`: the C unit tests under ASan/UBSan, the fuzz pass, then the pytest suite.

    1. cmake configure + build of build/asan (-DTLSFIT_SANITIZE=ON), all targets
    2. ctest --output-on-failure in build/asan
    3. tests/fuzz/run.sh FUZZ_SECONDS: every libFuzzer target for a few seconds
       (clang, ASan + UBSan, build/fuzz), so a parser that crashes fails the run
    4. /usr/bin/python3 -m pytest -q [extra args] (one -q, the user's or ours): pytest.ini's testpaths (tests/) unless
       the arguments name test files (./tlsfit test --no-unit tests/test_gen.py: that file),
       in as many processes as testworkers.worker_plan says (pytest-xdist: -n N --dist loadfile)

The tier (docs/testing.md): "full" runs every test; "fast" gives pytest FAST_SELECTION
(every pure test and the ones marked fast) and runs the fuzz pass for FAST_FUZZ_SECONDS
per target.  Every part always runs; the last line printed is the tier, pytest's counts
and the wall time of the whole run (a figure to read, not a limit).
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..core import paths
from ..core.errors import TESTS, USAGE, TlsfitError
from ..core.text import say as _say
from ..mbedtls.tree import prober_tree
from ..profile import build
from . import testworkers

DEBIAN_PYTHON = "/usr/bin/python3"
CTEST_TIMEOUT = 300        # seconds per C unit test
PYTEST_LIMIT = 80 * 60     # seconds for the whole pytest run (CI allows 90 minutes)
FUZZ_SECONDS = 4           # per fuzz target: 9 targets + a cold build stay under 2 minutes
FUZZ_LIMIT = 10 * 60       # the whole fuzz pass, build included (a hung build must not stall CI)
FAST_FUZZ_SECONDS = 1      # per fuzz target in the fast tier
# The fast tier: every test that starts no server, QEMU or fit, and the live ones marked
# fast (one per stage).  The markers: pytest.ini and tests/markers.py.
FAST_SELECTION = "fast or not (server or qemu or fit)"
# pytest -q's last line, e.g. "1139 passed, 2 skipped in 1181.20s (0:19:41)"
_PYTEST_COUNTS = re.compile(r"^=*\s*(\d+ (?:passed|failed|error|errors|skipped|deselected|"
                            r"xfailed|xpassed|warnings?|no tests ran)\b.*?) in [\d.]+s")


C_LOG = "test-c.log"        # in build/: the C unit tests' and fuzz pass's output beside pytest


def _sayer(log):
    """say() for a part: our stderr, or the part's log when it runs beside pytest."""
    if log is None:
        return _say
    return lambda msg: print(f"tlsfit: {msg}", file=log, flush=True)


def run_unit_tests(mbedtls, log=None):
    """Returns None on success or a one-line reason.  log: an open file for the output
    (None: ours)."""
    say = _sayer(log)

    def announce(first_run):
        what = "first run, ~60 s" if first_run else "sources changed"
        say(f"building the C unit tests with ASan/UBSan ({what})...")
    try:
        bdir = build.cmake_build(build.asan_build_dir(), mbedtls, target=None,
                                 extra_defs={"TLSFIT_SANITIZE": "ON"}, announce=announce)
    except TlsfitError as e:
        say(f"C unit tests: {e.message}")
        return "the sanitizer build failed"
    ctest = shutil.which("ctest")
    if not ctest:
        return "ctest is not installed (run ./tlsfit setup)"
    say(f"C unit tests (ctest in {os.path.relpath(bdir, paths.repo_root())})")
    sys.stdout.flush()
    try:
        proc = subprocess.run([ctest, "--test-dir", str(bdir), "--output-on-failure",
                               "--timeout", str(CTEST_TIMEOUT), "-j2"],
                              stdin=subprocess.DEVNULL, timeout=CTEST_TIMEOUT * 4, stdout=log,
                              stderr=subprocess.STDOUT if log else None)
    except subprocess.TimeoutExpired:
        return "ctest did not finish in time"
    return None if proc.returncode == 0 else f"ctest failed (exit {proc.returncode})"


def run_fuzz_pass(mbedtls, seconds=FUZZ_SECONDS, log=None):
    """The short fuzz pass (tests/fuzz/run.sh).  Returns None on success or a one-line reason.
    log: an open file for the output (None: ours)."""
    script = paths.repo_root() / "tests" / "fuzz" / "run.sh"
    env = dict(os.environ, MBEDTLS_DIR=str(mbedtls))
    _sayer(log)(f"fuzz pass ({seconds} s per target, tests/fuzz/run.sh)")
    sys.stdout.flush()
    try:
        proc = subprocess.run(["bash", str(script), str(seconds)], cwd=paths.repo_root(), env=env,
                              stdin=subprocess.DEVNULL, timeout=FUZZ_LIMIT, stdout=log,
                              stderr=subprocess.STDOUT if log else None)
    except subprocess.TimeoutExpired:
        return f"the fuzz pass did not finish within {FUZZ_LIMIT // 60} minutes"
    if proc.returncode == 1:
        return "a fuzz target crashed (reproducer in build/fuzz/artifacts)"
    if proc.returncode == 2:
        return "the fuzz targets did not build (log: build/fuzz/build.log)"
    return None if proc.returncode == 0 else f"the fuzz pass failed (tests/fuzz/run.sh exit {proc.returncode})"


def _python():
    return DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable


def have_xdist(python):
    """Whether `python` can import pytest-xdist (a user's clone may lack it)."""
    try:
        return subprocess.run([python, "-c", "import xdist"], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def workers_args(extra_args, jobs):
    """pytest's worker arguments (testworkers.worker_plan), saying in one line when the run
    is serial or how many processes it uses."""
    plan = testworkers.worker_plan(extra_args, jobs, os.environ, len(os.sched_getaffinity(0)),
                                   have_xdist(_python()))
    if plan.note:
        _say(plan.note)
    elif plan.args[:1] == ["-n"]:           # not when the user gave -n (only --dist added)
        _say(f"pytest in {plan.args[1]} processes (pytest-xdist {' '.join(plan.args)}; "
             f"--jobs 1 or {testworkers.JOBS_ENV}=1: serially)")
    return plan.args


def _kill_tree(pid):
    """SIGKILLs pid and every process below it (pytest-xdist's workers and what they run)."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    stat = f.read()
                children.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(children.get(p, []))
    for p in seen:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def run_pytest(extra_args):
    """Runs pytest, its output passed through.  Returns (None or a one-line reason, the
    counts from pytest's last line or None)."""
    python = _python()
    env = dict(os.environ)
    tool = str(paths.repo_root() / "tool")
    env["PYTHONPATH"] = tool + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    env["PYTHONUNBUFFERED"] = "1"           # its lines reach us as they are written
    color = ["--color=yes"] if sys.stdout.isatty() else []
    _say("Python tests (pytest)")
    sys.stdout.flush()
    counts = None
    # No "tests" argument: pytest.ini's testpaths is the default, and an explicit
    # "tests" made `./tlsfit test tests/test_x.py` run the whole suite besides.
    # -q once: pytest's last line is then its counts (-qq, also given by the user, drops it)
    quiet = [] if {"-q", "--quiet"} & set(extra_args) else ["-q"]
    with subprocess.Popen([python, "-m", "pytest", *quiet, *color, *extra_args],
                          cwd=paths.repo_root(), env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, text=True, errors="replace") as proc:
        expired = threading.Event()

        def expire():                       # a hung test must not stall CI
            expired.set()
            _kill_tree(proc.pid)
        watchdog = threading.Timer(PYTEST_LIMIT, expire)
        watchdog.start()
        try:
            for line in proc.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
                m = _PYTEST_COUNTS.match(re.sub(r"\x1b\[[0-9;]*m", "", line.strip()))
                if m:
                    counts = m.group(1)
            code = proc.wait()
        finally:
            watchdog.cancel()
    if expired.is_set():
        return f"pytest did not finish within {PYTEST_LIMIT // 60} minutes", counts
    return (None if code == 0 else f"pytest failed (exit {code})"), counts


def wall_time(seconds):
    """"19 min 41 s", "48 s"."""
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def tier_args(fast, extra_args):
    """pytest's arguments for the tier: the fast tier's selection before the user's."""
    if not fast:
        return list(extra_args)
    if any(a == "-m" or a.startswith("-m") and not a.startswith("--") for a in extra_args):
        raise TlsfitError(USAGE, "--fast selects tests by marker itself: leave out -m, "
                                 "or run without --fast")
    return ["-m", FAST_SELECTION, *extra_args]


def _timed(parts, name, run, *args):
    """run(*args), its wall time appended to parts as (name, seconds)."""
    start = time.monotonic()
    try:
        return run(*args)
    finally:
        parts.append((name, time.monotonic() - start))


def _c_parts(mbedtls, unit, fuzz_seconds, parts, failures, log=None):
    """The C unit tests (unit: whether) and the fuzz pass (fuzz_seconds: None to skip);
    their failures appended to `failures` as (part, reason)."""
    if unit:
        why = _timed(parts, "C unit tests", run_unit_tests, mbedtls, log)
        if why:
            failures.append(("C unit tests", why))
    if fuzz_seconds:
        why = _timed(parts, "fuzz", run_fuzz_pass, mbedtls, fuzz_seconds, log)
        if why:
            failures.append(("fuzz pass", why))


def _beside_pytest(mbedtls, unit, fuzz_seconds, parts, failures):
    """Starts _c_parts in a thread writing build/C_LOG; returns (thread, log path)."""
    log_path = paths.build_root() / C_LOG
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w")

    def work():
        try:
            _c_parts(mbedtls, unit, fuzz_seconds, parts, failures, log)
        except BaseException as e:          # noqa: BLE001 -- reported as the part's failure
            failures.append(("C unit tests / fuzz pass", f"{type(e).__name__}: {e}"))
        finally:
            log.close()
    thread = threading.Thread(target=work, name="c-parts", daemon=True)
    thread.start()
    return thread, log_path


def run_tests(extra_args, unit=True, fuzz=True, fast=False, jobs=None):
    """jobs: --jobs (pytest's processes; None: testworkers decides).  With pytest in several
    processes the C unit tests and the fuzz pass run beside it (their output into
    build/test-c.log, its tail printed when one failed), else before it."""
    tier = "fast" if fast else "full"
    pytest_args = tier_args(fast, extra_args)
    _say(f"{tier} tier" + (f" (pytest {' '.join(extra_args)})" if extra_args else ""))
    workers = workers_args(pytest_args, jobs)
    pytest_args = workers + pytest_args
    start, parts, c_failures = time.monotonic(), [], []
    mbedtls = prober_tree().path
    fuzz_seconds = (FAST_FUZZ_SECONDS if fast else FUZZ_SECONDS) if fuzz else None
    beside = None
    if workers and (unit or fuzz):
        beside = _beside_pytest(mbedtls, unit, fuzz_seconds, parts, c_failures)
        what = " and ".join(w for w, on in (("the C unit tests", unit), ("the fuzz pass", fuzz))
                            if on)
        _say(f"{what} run{'s' if not (unit and fuzz) else ''} beside pytest "
             f"(output: {os.path.relpath(beside[1], paths.repo_root())})")
    else:
        _c_parts(mbedtls, unit, fuzz_seconds, parts, c_failures)
        for part, why in c_failures:
            _say(f"{part} FAILED: {why}; running the other tests anyway")
    py_failure, counts = _timed(parts, "pytest", run_pytest, pytest_args)
    if beside:
        beside[0].join()
        if c_failures:
            print(f"--- the last lines of {beside[1]} ---", flush=True)
            for line in Path(beside[1]).read_text(errors="replace").splitlines()[-40:]:
                print(line, flush=True)
    failed = [why for _, why in c_failures] + ([py_failure] if py_failure else [])
    order = {"C unit tests": 0, "fuzz": 1, "pytest": 2}
    each = ", ".join(f"{name} {wall_time(secs)}"
                     for name, secs in sorted(parts, key=lambda p: order[p[0]]))
    print(f"tlsfit test: {tier} tier, {counts or 'no counts (pytest printed no summary line)'}"
          + ("" if not failed else f" ({'; '.join(failed)})")
          + f" in {wall_time(time.monotonic() - start)} ({each}"
          + (f"; {' and '.join(n for n, _ in parts if n != 'pytest')} beside pytest)"
             if beside else ")"), flush=True)
    if failed:
        # Nothing more is printed: the tier line stays the last line.
        raise TlsfitError(TESTS, failed[0], quiet=True)
    return 0
