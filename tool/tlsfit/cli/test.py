"""`tlsfit test`: the C unit tests, the fuzz pass and the pytest suite."""

HELP = """\
Runs every test: the C unit tests (tests/unit) built with AddressSanitizer and
UBSan in build/asan and run by ctest, a short pass of every libFuzzer target
(tests/fuzz/run.sh, a few seconds each, built with clang in build/fuzz; a
crash fails the run), then the pytest suite (tests/) with the
Debian Python, which starts real `openssl s_server` / `gnutls-serv` processes
and hostile fake peers on 127.0.0.1.  Arguments it does not know are passed to
pytest.  Runs the set-up first.

examples:
  ./tlsfit test
  ./tlsfit test -k errors -x          # only the error tests, stop at the first failure
  ./tlsfit test --no-unit -v
  ./tlsfit test --no-unit --no-fuzz -k gen   # Python tests only
  ./tlsfit test --no-unit --no-fuzz tests/test_properties.py   # one test file
  tests/fuzz/run.sh 60                # every fuzz target for a minute each

exit status: 0 when everything passed, 34 otherwise.
"""
TAKES_EXTRA_ARGS = True


def configure(p):
    p.add_argument("--no-unit", action="store_true",
                   help="skip the C unit tests (sanitizer build + ctest)")
    p.add_argument("--no-fuzz", action="store_true",
                   help="skip the fuzz pass (tests/fuzz/run.sh; run it longer by hand)")


def run(args):
    from . import prepare, testrun
    prepare.run_setup_script()
    return testrun.run_tests(args.extra, unit=not args.no_unit, fuzz=not args.no_fuzz)
