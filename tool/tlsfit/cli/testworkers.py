"""How many processes `tlsfit test` runs pytest in (pytest-xdist), and the arguments that
say so (docs/testing.md, "Running in parallel").

    plan = worker_plan(extra_args, jobs, env, cpus, have_xdist)    (pure)
    plan.args     pytest arguments to add: ["-n", "N", "--dist", DIST] or []
    plan.note     one line saying why the run is serial, or None

The number of workers: --jobs N, else $TLSFIT_TEST_JOBS, else the machine's cores
(DEFAULT_EXTRA added: most of the suite's time is spent waiting on servers, QEMU and
deadlines, not computing).  1 or 0 runs pytest serially, in one process.  The user's own
-n/--numprocesses (pytest-xdist's option, 0 for serial) or `-p no:xdist` is left alone.
--pdb and --trace need one process, as does a run of one test file (--dist loadfile
keeps a file on one worker: a second worker would only start up and collect).
"""
import re
from dataclasses import dataclass

from ..core.errors import USAGE, TlsfitError

JOBS_ENV = "TLSFIT_TEST_JOBS"
# Workers beyond the cores.  Measured (docs/testing.md): the cold full tier on 2 cores.
DEFAULT_EXTRA = 0
# loadfile: a file's tests run on one worker, so its module-scoped servers and fits start
# once; tests/scheduling.py also keeps the files that share a session fit together and
# hands out the slowest files first.
DIST = "loadfile"
INSTALL_HINT = "./tlsfit setup installs python3-pytest-xdist"
_TEST_FILE = re.compile(r"(^|/)test_[^/]*\.py(::.*)?$")


@dataclass
class WorkerPlan:
    args: list          # pytest arguments to add
    note: str = None    # one line: why pytest runs serially (None: it does not, or the user said)


def _user_workers(extra_args):
    """The user's -n/--numprocesses value (a string), "" for `-p no:xdist`, else None."""
    for i, a in enumerate(extra_args):
        nxt = extra_args[i + 1] if i + 1 < len(extra_args) else ""
        if a in ("-n", "--numprocesses"):
            return nxt
        if a.startswith("--numprocesses="):
            return a.split("=", 1)[1]
        if a.startswith("-n") and not a.startswith("--") and len(a) > 2:
            return a[2:]
        if (a == "-p" and nxt == "no:xdist") or a == "-pno:xdist":
            return ""
    return None


def parse_jobs(text, where):
    """A worker count from the command line or the environment: an integer >= 0."""
    try:
        n = int(text)
    except (TypeError, ValueError):
        n = -1
    if n < 0:
        raise TlsfitError(USAGE, f"{where} {text!r}: the number of pytest processes must be "
                                 "a whole number, 0 or 1 to run serially")
    return n


def worker_plan(extra_args, jobs, env, cpus, have_xdist):
    """The WorkerPlan of a run.  jobs: --jobs (None: not given); env: the environment
    (JOBS_ENV); cpus: the cores this process may use; have_xdist: whether the Python that
    runs pytest has pytest-xdist."""
    user = _user_workers(extra_args)
    if user is not None:                    # the user's own -n (or -p no:xdist) decides
        if user in ("", "0"):
            return WorkerPlan([], "pytest runs serially (-n 0 / -p no:xdist given)")
        if not have_xdist:
            raise TlsfitError(USAGE, f"-n {user}: pytest-xdist is not installed ({INSTALL_HINT})")
        given_dist = any(a == "--dist" or a.startswith("--dist=") or a == "-d"
                         for a in extra_args)
        return WorkerPlan([] if given_dist else ["--dist", DIST])
    if jobs is not None:
        n, source = jobs, f"--jobs {jobs}"
    elif env.get(JOBS_ENV, "") != "":
        n, source = parse_jobs(env[JOBS_ENV], f"${JOBS_ENV}"), f"{JOBS_ENV}={env[JOBS_ENV]}"
    else:
        n, source = max(1, cpus) + DEFAULT_EXTRA, None
    if n <= 1:
        return WorkerPlan([], f"pytest runs serially ({source or f'{cpus} core'})")
    if not have_xdist:
        return WorkerPlan([], f"pytest runs serially: pytest-xdist is not installed "
                              f"({INSTALL_HINT})")
    if {"--pdb", "--trace"} & set(extra_args):
        return WorkerPlan([], "pytest runs serially (--pdb/--trace need one process)")
    files = {a.split("::", 1)[0] for a in extra_args if _TEST_FILE.search(a)}
    if len(files) == 1:
        return WorkerPlan([], "pytest runs serially (one test file)")
    return WorkerPlan(["-n", str(n), "--dist", DIST])
