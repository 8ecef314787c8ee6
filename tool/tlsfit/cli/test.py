"""`tlsfit test`: the C unit tests, the fuzz pass and the pytest suite, in two tiers."""

HELP = """\
Runs the tests: the C unit tests (tests/unit) built with AddressSanitizer and
UBSan in build/asan and run by ctest, a short pass of every libFuzzer target
(tests/fuzz/run.sh, built with clang in build/fuzz; a crash fails the run),
then the pytest suite (tests/) with the Debian Python, which starts real
`openssl s_server` / `gnutls-serv` processes and hostile fake peers on
127.0.0.1.  pytest runs in one process per core (pytest-xdist, --dist
loadfile: a file's tests on one worker), the C unit tests and the fuzz pass
beside it (their output in build/test-c.log); --jobs N or $TLSFIT_TEST_JOBS
sets the processes, 1 runs pytest serially after the C parts, as does a run
of one test file.  Arguments it does not know are passed to pytest.  Runs the
set-up first.  The last line printed is the tier, pytest's counts and the wall time
(and each part's).

tiers (docs/testing.md):
  full (the default, what CI runs): every test; the fuzz pass runs 4 s per target.
  --fast (while developing): every pure test (no server, QEMU or fit) and one
         live test per stage (probe, gen+verify, measure, one fit), i.e.
         pytest -m "fast or not (server or qemu or fit)"; the C unit tests run
         as in the full tier (33 s with a cold sanitizer build, seconds after)
         and the fuzz pass runs 1 s per target (26 s with its build).  Run the
         full tier before submitting.

markers (pytest.ini): server, qemu, fit (what a test starts), fast; e.g.
  ./tlsfit test --no-unit --no-fuzz -m "not qemu"

examples:
  ./tlsfit test
  ./tlsfit test --fast
  ./tlsfit test -k errors -x          # only the error tests, stop at the first failure
  ./tlsfit test --no-unit -v
  ./tlsfit test --jobs 1              # pytest in one process (default: one per core)
  ./tlsfit test --no-unit --no-fuzz -k gen   # Python tests only
  ./tlsfit test --no-unit --no-fuzz tests/test_properties.py   # one test file
  ./tlsfit test --no-unit --no-fuzz tests/test_fit.py --durations=10   # its slowest tests
  tests/fuzz/run.sh 60                # every fuzz target for a minute each

exit status: 0 when everything passed, 34 otherwise (2 for --fast with -m).
"""
TAKES_EXTRA_ARGS = True


def configure(p):
    p.add_argument("--fast", action="store_true",
                   help="the fast tier: pure tests and one live test per stage, a 1 s fuzz "
                        "pass (docs/testing.md)")
    p.add_argument("--no-unit", action="store_true",
                   help="skip the C unit tests (sanitizer build + ctest)")
    p.add_argument("--no-fuzz", action="store_true",
                   help="skip the fuzz pass (tests/fuzz/run.sh; run it longer by hand)")
    p.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                   help="pytest processes (pytest-xdist; default: the cores, or "
                        "$TLSFIT_TEST_JOBS); 1 runs pytest serially")


def _jobs(text):
    import argparse
    from ..core.errors import TlsfitError
    from .testworkers import parse_jobs
    try:
        return parse_jobs(text, "--jobs")
    except TlsfitError as e:
        raise argparse.ArgumentTypeError(e.message.split(": ", 1)[1]) from None


def run(args):
    from . import prepare, testrun
    prepare.run_setup_script()
    return testrun.run_tests(args.extra, unit=not args.no_unit, fuzz=not args.no_fuzz,
                             fast=args.fast, jobs=args.jobs)
