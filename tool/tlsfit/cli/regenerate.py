"""`tlsfit regenerate [NAME ...] [--check]`: re-make the repository's generated files
(a developer command; the registry is tlsfit.regen)."""
import sys

from ..core.errors import STALE, TlsfitError

HELP = """\
Re-makes the files of this repository that programs write (docs/regenerating.md):

  errnames        tool/verify/errnames.h      mbedTLS error names (set-up trees)
  profile-schema  docs/profile-schema.json    the profile's JSON Schema
  exit-codes      docs/exit-codes.md          every exit code of tlsfit
  compat          tests/fixtures/compat/      gen outputs and summaries of the
                                              recorded profiles (on purpose only)
  costs           tool/tlsfit/header/costs.json     measured: cross builds
  knob-costs      tool/tlsfit/fit/knob_costs.json   measured: QEMU, minutes

With no NAME, every rendered file is rewritten where it differs (the measured
tables only when named).  --check writes nothing: it compares every rendered file
with what its generator makes now and checks that each measured table still
covers the current option, curve and knob set and names the set-up mbedTLS tree;
it lists each stale file with the command that regenerates it and exits 51 when
any is.

examples:
  ./tlsfit regenerate exit-codes        after adding a code to core/errors.py
  ./tlsfit regenerate --check
  ./tlsfit regenerate knob-costs        re-measure the knob table (QEMU)
"""


def configure(p):
    p.add_argument("names", nargs="*", metavar="NAME", help="what to regenerate (default: "
                   "every rendered file; with --check: everything)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 51 listing every stale file")


def _check(entries):
    from .. import regen
    stale = []
    for entry in entries:
        found = regen.problems(entry)
        stale += found
        print(f"{entry.name}: {'stale' if found else 'current'}"
              f"{' (measured: consistency checked)' if entry.measured else ''}")
    for line in stale:
        print(f"  {line}")
    if stale:
        raise TlsfitError(STALE, f"{len(stale)} generated file(s) stale or inconsistent "
                                 "(listed above); run the command named beside each")
    return 0


def run(args):
    from .. import regen
    entries = regen.by_name(args.names)
    if args.check:
        return _check(entries)
    for entry in entries:
        if entry.measured:
            if not args.names:
                continue            # minutes of cross builds or QEMU: only when named
            print(f"{entry.name}: measuring with {' '.join(entry.measure)} (minutes)",
                  file=sys.stderr, flush=True)
            regen.measure(entry)
            continue
        written = regen.write(entry)
        print(f"{entry.name}: " + (f"wrote {', '.join(written)}" if written else "current"))
    return 0
