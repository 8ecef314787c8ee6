"""The command line: argparse over the library modules, and the one main().

Subcommands are entries of COMMANDS (name, one-line summary, long help,
argument set-up, runner).  A later step (gen, measure, fit, verify) adds one
entry; main() maps every TlsfitError to its exit code and a one-line
`tlsfit: ...` message, so no runner prints tracebacks for expected failures.
"""
import argparse
import subprocess
import sys
import traceback
from dataclasses import dataclass
from typing import Callable

from . import __version__, build, paths, probe as probe_mod, verify as verify_mod
from . import fit as fit_mod, gen as gen_mod, measure as measure_mod
from .errors import DRIVER_CODES, INTERNAL, INTERRUPTED, USAGE, TlsfitError

PROG = "tlsfit"


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line plus a pointer to --help (exit 2)."""

    def error(self, message):
        print(f"{self.prog}: error: {message} (see: {self.prog} --help)", file=sys.stderr)
        raise SystemExit(USAGE)


@dataclass
class Command:
    name: str
    summary: str
    description: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    takes_extra_args: bool = False


# ------------------------------------------------------------------- setup

def _setup_args(p):
    pass


def _setup_run(args):
    from . import prepare
    binary, tree, version = prepare.ready()
    print(f"tlsfit: ready. prober: {probe_mod.display_path(binary)}; "
          f"mbedTLS {version} in {tree}")
    return 0


SETUP_HELP = """\
Installs what tlsfit needs and builds the prober.

  1. tool/setup.sh: missing Debian packages (cmake, gcc, openssl, gnutls-bin,
     python3-jinja2, python3-pytest, the Arm cross toolchain, QEMU, ...) and
     the mbedTLS 3.6 and 2.28 LTS sources from Debian's source packages, into
     the cache (%(cache)s).  Quiet when everything is present.
  2. builds tlsfit-probe with cmake into build/host-<hash of the mbedTLS path>.

Safe to run again at any time.  ./tlsfit demo and ./tlsfit test do it too.

example:
  ./tlsfit setup
  ./tlsfit --mbedtls-dir ~/src/mbedtls setup     # use your own mbedTLS 3.x tree
"""


# ------------------------------------------------------------------- probe

def _int_range(lo, hi, unit):
    """argparse type: a whole number of `unit` between lo and hi."""
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number of {unit}: {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be between {lo} and {hi} {unit}: {text!r}")
        return v
    return parse


_timeout = _int_range(1, 600, "seconds")
_delay = _int_range(0, 60000, "ms")


def _save_name(text):
    try:
        return probe_mod.check_save_name(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _probe_args(p):
    p.add_argument("target", metavar="HOST[:PORT]",
                   help="server to probe; port 443 when omitted; IPv6 as [::1]:4433")
    p.add_argument("--sni", metavar="NAME",
                   help="server name sent in the handshake (default: HOST when it is a name, "
                        "none for an IP address)")
    p.add_argument("--timeout", type=_timeout, metavar="SEC",
                   help="per-operation I/O timeout: give up on a silent server after SEC "
                        "seconds (1-600, default 5)")
    p.add_argument("--ca", action="append", default=[], metavar="FILE",
                   help="PEM bundle to look for the trust anchor in when the server does not "
                        "send its root (repeatable; searched before the system store)")
    p.add_argument("--no-system-store", action="store_true",
                   help="do not look for the anchor in /etc/ssl/certs/ca-certificates.crt")
    p.add_argument("--delay", type=_delay, metavar="MS",
                   help="pause MS milliseconds between connections (rate-limited servers)")
    p.add_argument("--json", action="store_true",
                   help="print the profile JSON instead of the summary")
    p.add_argument("--save", type=_save_name, metavar="NAME",
                   help="also store the profile as profiles/NAME.json (NAME: letters, digits, "
                        "'.', '_', '-')")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="one line per probe step on stderr (default: when stderr is a terminal)")


def _show_profile(doc, written, as_json):
    """Prints a profile: its JSON, or the summary and where it was stored."""
    if as_json:
        from .profile import dump
        sys.stdout.write(dump(doc))
    else:
        from .summary import format_summary
        print(format_summary(doc))
        print(f"profile: {', '.join(probe_mod.display_path(p) for p in written)}")


def _probe_run(args):
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    opts = probe_mod.Options(sni=args.sni, timeout=args.timeout, cas=args.ca,
                             no_system_store=args.no_system_store, delay=args.delay,
                             progress=progress)
    doc = probe_mod.run(args.target, opts)
    written = probe_mod.keep(doc, args.save)
    _show_profile(doc, written, args.json)
    return 0


PROBE_HELP = """\
Records what a TLS server accepts into a JSON profile (docs/profile-schema.md):
versions, cipher suites and their order, groups, signature algorithms, the
certificate chain and its trust anchor, record and handshake-message sizes,
max_fragment_length / record_size_limit, extensions, client-certificate
requests.  The probe makes a few dozen short connections and never sends
application data.

The profile is always stored as .tlsfit/last-profile.json; --save NAME also
stores it as profiles/NAME.json.  Prints a summary, or the JSON with --json.

examples:
  tlsfit probe example.com                  # port 443, SNI example.com
  tlsfit probe 192.0.2.10:8883 --sni broker.example.com --save broker
  tlsfit probe localhost:4433 --ca root.pem --json > profile.json

exit status: 0 when the profile was written; otherwise the prober's code,
e.g. 10 name did not resolve, 11 refused, 12 timeout, 13 not TLS, 14 closed
mid-handshake, 15 malformed TLS, 16 no common version (all: tlsfit errors).
"""


# -------------------------------------------------------------------- demo

def _demo_args(p):
    p.add_argument("--target", default="cortex-m4", help="target in targets/ (default cortex-m4)")
    p.add_argument("--objective", default="balanced", choices=fit_mod.OBJECTIVES)
    p.add_argument("--only", choices=("rsa", "ecdsa"), help="fit one of the two servers")


def _demo_run(args):
    from . import demo, prepare
    prepare.run_setup_script()
    results = demo.run_demo(args.target, args.objective, [args.only] if args.only else None)
    for name, report, out in results:
        print(f"== {name} ==")
        print(fit_mod.summary_lines(report))
        print(f"  report for a pull request: {probe_mod.display_path(out / 'report.md')}")
    return 0


DEMO_HELP = """\
The main job on this machine, end to end: creates two realistic test PKIs in
.tlsfit/demo/ (an RSA chain under an RSA-4096 root, an ECDSA chain P-384 ->
P-256), serves each with `openssl s_server` on 127.0.0.1, and runs `tlsfit fit`
on each: probe, candidates measured under QEMU, ablation to a 1-minimal header,
mbedTLS's default configuration measured beside it.  Writes
.tlsfit/demo/<name>/fit/{tls_config.h,report.md,report.json}.  Runs the set-up
first (packages, mbedTLS sources, prober build).  A few minutes the first time
(cross builds), about a minute per server after.

example:
  ./tlsfit demo
  ./tlsfit demo --only ecdsa --objective rom
"""


# -------------------------------------------------------------------- test

def _test_args(p):
    p.add_argument("--no-unit", action="store_true",
                   help="skip the C unit tests (sanitizer build + ctest)")


def _test_run(args):
    from . import prepare, testrun
    prepare.run_setup_script()
    return testrun.run_tests(args.extra, unit=not args.no_unit)


TEST_HELP = """\
Runs every test: the C unit tests (tests/unit) built with AddressSanitizer and
UBSan in build/asan and run by ctest, then the pytest suite (tests/) with the
Debian Python, which starts real `openssl s_server` / `gnutls-serv` processes
and hostile fake peers on 127.0.0.1.  Arguments it does not know are passed to
pytest.  Runs the set-up first.

examples:
  ./tlsfit test
  ./tlsfit test -k errors -x          # only the error tests, stop at the first failure
  ./tlsfit test --no-unit -v

exit status: 0 when everything passed, 34 otherwise.
"""


# ------------------------------------------------------------------ errors

def _errors_args(p):
    p.add_argument("--driver-only", action="store_true",
                   help="only the driver's codes (no prober build needed)")


def _prober_table():
    try:
        binary = build.ensure_prober()
    except TlsfitError as e:
        return None, e.message
    try:
        proc = subprocess.run([str(binary), "--list-errors"], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"cannot run {binary} --list-errors: {e}"
    if proc.returncode != 0 or not proc.stdout.strip():
        return None, f"{binary} --list-errors printed no table (exit {proc.returncode})"
    rows = []
    for line in proc.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0].isdigit():
            rows.append((int(parts[0]), parts[1], parts[2] if len(parts) > 2 else ""))
    return rows, None


def _errors_run(args):
    out = []
    if not args.driver_only:
        rows, problem = _prober_table()
        out.append("Exit codes of tlsfit-probe and `tlsfit probe` (tool/probe/errors.c):")
        if rows:
            out.extend(f"  {c:3d}  {n:<20} {m}" for c, n, m in rows)
        else:
            out.append(f"  (unavailable: {problem})")
        out.append("")
    out.append("Exit codes of the tlsfit driver (tool/tlsfit/errors.py):")
    out.extend(f"  {c:3d}  {n:<20} {m}" for c, n, m in DRIVER_CODES)
    print("\n".join(out))
    return 0


ERRORS_HELP = """\
Prints every exit code: the prober's (`tlsfit-probe --list-errors`, which
`tlsfit probe` passes through unchanged) and the driver's own.

example:
  tlsfit errors
"""


COMMANDS = [
    Command("setup", "install packages, fetch mbedTLS, build the prober", SETUP_HELP,
            _setup_args, _setup_run),
    Command("probe", "record what a TLS server accepts into a profile", PROBE_HELP,
            _probe_args, _probe_run),
    Command("demo", "fit two local reference servers end to end (the main job)", DEMO_HELP,
            _demo_args, _demo_run),
    Command("test", "run the C unit tests and the pytest suite", TEST_HELP,
            _test_args, _test_run, takes_extra_args=True),
    Command("gen", gen_mod.SUMMARY, gen_mod.HELP, gen_mod.configure, gen_mod.run),
    Command("verify", verify_mod.SUMMARY, verify_mod.HELP, verify_mod.configure, verify_mod.run),
    Command("measure", measure_mod.SUMMARY, measure_mod.HELP, measure_mod.configure,
            measure_mod.run),
    Command("fit", fit_mod.SUMMARY, fit_mod.HELP, fit_mod.configure, fit_mod.run),
    Command("errors", "list all exit codes", ERRORS_HELP, _errors_args, _errors_run),
]

MAIN_HELP = """\
tlsfit sizes an embedded device's mbedTLS configuration to the servers it must
talk to: probe records what a server accepts, gen renders the smallest header
for it, verify proves it on the host, measure runs the handshake on a Cortex-M
under QEMU, fit searches for the best verified header.
Each command has its own help: tlsfit COMMAND --help.

quick start:
  ./tlsfit demo                                   set-up, then fit two local servers
  ./tlsfit probe example.com && ./tlsfit gen > tls_config.h
  ./tlsfit fit example.com --target cortex-m4     the whole chain, measured
  ./tlsfit test                                   set-up, then every test

environment:
  MBEDTLS_DIR     mbedTLS 3.x source tree to build against (--mbedtls-dir wins)
  TLSFIT_CACHE    cache directory (default ~/.cache/tlsfit: mbedTLS sources)
  TLSFIT_PROBER   use this tlsfit-probe binary instead of building one

exit codes: tlsfit errors
"""


def build_parser():
    parser = _Parser(prog=PROG, description=MAIN_HELP,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--mbedtls-dir", metavar="DIR",
                        help="mbedTLS 3.x source tree (default: $MBEDTLS_DIR, else the one "
                             "./tlsfit setup fetched into the cache)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser,
                                title="commands")
    for c in COMMANDS:
        desc = c.description % {"cache": paths.cache_dir()} if "%(" in c.description \
            else c.description
        p = sub.add_parser(c.name, help=c.summary, description=desc,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.prog = f"{PROG} {c.name}"
        c.configure(p)
        p.set_defaults(_command=c)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if not argv:
        parser.print_help()
        return 0
    try:
        args, extra = parser.parse_known_args(argv)
        command = getattr(args, "_command", None)
        if command is None:
            parser.error("no command given")
        if extra and not command.takes_extra_args:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else USAGE
    args.extra = extra
    paths.set_mbedtls_override(args.mbedtls_dir)
    try:
        return command.run(args) or 0
    except TlsfitError as e:
        if not e.quiet:
            print(f"{PROG}: {e.message}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # stdout closed early (e.g. `tlsfit probe ... | head`): not an error of ours.
        sys.stdout = None
        return 0
    except Exception:  # noqa: BLE001 -- the one place that reports driver bugs
        traceback.print_exc()
        print(f"{PROG}: internal error (a bug in tlsfit; please report the traceback above)",
              file=sys.stderr)
        return INTERNAL
    finally:
        paths.set_mbedtls_override(None)
