"""`tlsfit COMMAND ...`: the registry of commands and main(), the one place where
exceptions become exit codes.

COMMANDS lists (name, one-line summary, module); a command's module under cli/
defines HELP, configure(parser) and run(args) (and TAKES_EXTRA_ARGS when unknown
arguments go through, as `test` passes them to pytest).  main() imports only the
module of the command it runs.  Every TlsfitError becomes its exit code and a
one-line `tlsfit: ...` message; a Jinja2 template error is a defect in tlsfit's
data (exit 39); anything else is a driver bug (exit 1, with the traceback).
"""
import argparse
import importlib
import os
import signal
import sys

from .. import __version__
from ..core.errors import INTERNAL, RULES, USAGE, TlsfitError

PROG = "tlsfit"

# (name, summary, module under cli/) in the order `tlsfit --help` lists them.
COMMANDS = (
    ("setup", "install packages, fetch mbedTLS, build the prober", "setup"),
    ("probe", "record what a TLS server accepts into a profile", "probe"),
    ("profiles", "list the profile library (profiles/NAME.json) and its key facts", "profiles"),
    ("demo", "fit two local reference servers end to end (the main job)", "demo"),
    ("test", "run the C unit tests and the pytest suite", "test"),
    ("gen", "render the smallest mbedTLS configuration for a probed server", "gen"),
    ("verify", "prove a tls_config.h: build mbedTLS with it and handshake with a server",
     "verify"),
    ("measure", "measure a tls_config.h on an emulated Cortex-M: ROM, RAM, heap, stack, "
                "instructions", "measure"),
    ("fit", "search for the smallest verified configuration on a Cortex-M target", "fit"),
    ("replay", "serve a local replica of a profiled server (offline verify, measure, fit)",
     "replay"),
    ("bench", "run the benchmark matrix (profiles x targets x fitted/default), results + "
              "dashboard, size gate", "bench"),
    ("size", "compare two bench results files (or fit reports): what grew, where, by how "
             "much", "size"),
    ("errors", "list all exit codes", "errors"),
    ("regenerate", "re-make the generated files (errnames.h, schema, exit-code page, ...); "
                   "--check lists stale ones", "regenerate"),
)

MAIN_HELP = """\
tlsfit sizes an embedded device's mbedTLS configuration to the servers it must
talk to: probe records what a server accepts, gen renders the smallest header
for it, verify proves it on the host, measure runs the handshake on a Cortex-M
under QEMU, fit searches for the best verified header.
Each command has its own help: tlsfit COMMAND --help.

quick start:
  ./tlsfit demo                                   set-up, then fit two local servers
  ./tlsfit probe example.com && ./tlsfit gen -o tls_config.h
  ./tlsfit fit example.com --target cortex-m4     the whole chain, measured
  ./tlsfit test                                   set-up, then every test
  ./tlsfit bench --jobs 2                         benchmark matrix, results, dashboard

environment:
  MBEDTLS_DIR     mbedTLS 3.x source tree to build against (--mbedtls-dir wins)
  TLSFIT_CACHE    cache directory (default ~/.cache/tlsfit: mbedTLS sources)
  TLSFIT_PROBER   use this tlsfit-probe binary instead of building one

exit codes: tlsfit errors
"""


def _columns():
    """The terminal's width as argparse's formatter finds it ($COLUMNS, else the
    terminal of stdout, else 80), without shutil: HelpFormatter imports shutil for
    get_terminal_size() on every add_argument, ~2.4 ms of each `tlsfit probe`."""
    try:
        n = int(os.environ.get("COLUMNS", ""))
        if n > 0:
            return n
    except ValueError:
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """RawDescriptionHelpFormatter with the width from _columns() (less the 2 columns
    HelpFormatter leaves when it measures the width itself)."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        super().__init__(prog, indent_increment, max_help_position,
                         _columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line plus a pointer to --help (exit 2)."""

    def error(self, message):
        print(f"{self.prog}: error: {message} (see: {self.prog} --help)", file=sys.stderr)
        raise SystemExit(USAGE)


def _command_name(argv):
    """The first argument that is not a global option (or None)."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--mbedtls-dir":
            i += 2
            continue
        if not a.startswith("-"):
            return a
        i += 1
    return None


def build_parser(only=None):
    """The parser.  only=None: every command configured (every module imported);
    only=NAME: that command alone; only="": every command listed by name and summary
    (for the top-level help and an unknown command)."""
    parser = _Parser(prog=PROG, description=MAIN_HELP, formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--mbedtls-dir", metavar="DIR",
                        help="mbedTLS 3.x source tree (default: $MBEDTLS_DIR, else the one "
                             "./tlsfit setup fetched into the cache)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser,
                                title="commands")
    for name, summary, module_name in COMMANDS:
        if only and name != only:
            continue                  # running one command: the others need no parser
        module = importlib.import_module(f"{__package__}.{module_name}") \
            if only in (None, name) else None
        desc = module.HELP if module else summary
        if "%(cache)s" in desc:
            from ..core.paths import cache_dir
            desc = desc % {"cache": cache_dir()}
        p = sub.add_parser(name, help=summary, description=desc, formatter_class=_Formatter)
        p.prog = f"{PROG} {name}"
        if module:
            module.configure(p)
            p.set_defaults(_module=module)
    return parser


def _parse(argv):
    """(args, module) or an exit code for a usage error."""
    name = _command_name(argv)
    known = {c[0] for c in COMMANDS}
    parser = build_parser(only=name if name in known else "")
    try:
        args, extra = parser.parse_known_args(argv)
        module = getattr(args, "_module", None)
        if module is None:
            parser.error("no command given")
        if extra and not getattr(module, "TAKES_EXTRA_ARGS", False):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else USAGE
    args.extra = extra
    return args, module


def _template_error(e):
    """A Jinja2 template error (without importing Jinja2 when no command used it)."""
    jinja2 = sys.modules.get("jinja2")
    return jinja2 is not None and isinstance(e, jinja2.TemplateError)


def _template_message(e):
    """One line naming the template and line (a syntax error carries them; a render
    error is located by the template's frame in the traceback)."""
    import os
    import traceback
    where, line = getattr(e, "filename", None) or getattr(e, "name", None), \
        getattr(e, "lineno", None)
    for frame, lineno in traceback.walk_tb(e.__traceback__):
        if frame.f_code.co_filename.endswith(".j2"):
            where, line = frame.f_code.co_filename, lineno
    where = os.path.basename(where) if where else "(unknown)"
    return (f"template {where}{f' line {line}' if line else ''}: {e} "
            "(a bug in tlsfit's templates/; please report it)")


def _interrupted(interrupt):
    sig = interrupt.received()
    how = "interrupted" if sig in (None, signal.SIGINT) else f"stopped by {signal.Signals(sig).name}"
    print(f"{PROG}: {how}", file=sys.stderr)
    return interrupt.exit_code()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        build_parser(only="").print_help()
        return 0
    parsed = _parse(argv)
    if isinstance(parsed, int):
        return parsed
    args, module = parsed
    from ..core import interrupt
    interrupt.install()
    try:
        if args.mbedtls_dir:
            from ..mbedtls import tree
            tree.set_override(args.mbedtls_dir)
            tree.user_tree()            # a bad --mbedtls-dir fails every command at once
        return module.run(args) or 0
    except TlsfitError as e:
        if interrupt.received() is not None:     # a child died of our own signal first
            return _interrupted(interrupt)
        if not e.quiet:
            print(f"{PROG}: {e.message}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        return _interrupted(interrupt)
    except BrokenPipeError:
        # stdout closed early (e.g. `tlsfit probe ... | head`): not an error of ours.
        sys.stdout = None
        return 0
    except Exception as e:  # noqa: BLE001 -- the one place that reports driver bugs
        if _template_error(e):
            print(f"{PROG}: {_template_message(e)}", file=sys.stderr)
            return RULES
        import traceback
        traceback.print_exc()
        print(f"{PROG}: internal error (a bug in tlsfit; please report the traceback above)",
              file=sys.stderr)
        return INTERNAL
    finally:
        tree = sys.modules.get(__package__.rpartition(".")[0] + ".mbedtls.tree")
        if tree is not None:        # imported by this run or an earlier one in-process
            tree.set_override(None)

