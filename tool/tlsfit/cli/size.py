"""`tlsfit size`: what grew between two bench results files (or two fit reports)."""
import json

from ..core.errors import REGRESSION, USAGE, TlsfitError

HELP = """\
Compares two footprints cell by cell -- every (profile, target, variant) in both --
figure by figure (ROM, mbedTLS ROM, static RAM, peak heap, peak stack, handshake
instructions), and, under a ROM figure that grew beyond the tolerance, module by
module (the object files whose flash grew, largest first).  Prints a markdown
table for a pull request: profile, target, variant, what, baseline, current,
change, status.  Exits 47 (REGRESSION) when a figure grew by more than
--tolerance percent, or a cell that verified in A fails in B; a cell in only one
file is a note.

A and B are `tlsfit bench` results files (bench/results/<commit>.json) or a fit's
report.json (tlsfit fit --out DIR: its fitted header and the default beside it,
with the server as the profile).

examples:
  ./tlsfit size --diff bench/baseline/gate.json bench/results/$(git rev-parse --short HEAD).json
  ./tlsfit size --diff old-fit/report.json new-fit/report.json --tolerance 0
  ./tlsfit size bench/results/2e78cf5.json            one file's cells as a table
"""


def configure(p):
    p.add_argument("file", nargs="?", metavar="FILE", help="show one results file's cells")
    p.add_argument("--diff", nargs=2, metavar=("A.json", "B.json"),
                   help="compare B (current) with A (baseline)")
    p.add_argument("--tolerance", type=float, default=1.0, metavar="PCT",
                   help="growth allowed before a figure regresses, percent (default 1)")
    p.add_argument("--all", action="store_true",
                   help="list figures that shrank or stayed too, not only what grew")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")


def _as_json(c):
    return {"tolerance_pct": c.tolerance_pct, "ok": c.ok, "compared": c.compared,
            "rows": [{"profile": r.key.profile, "target": r.key.target,
                      "variant": r.key.variant, "what": r.what, "baseline": r.baseline,
                      "current": r.current, "delta": r.delta,
                      "pct": None if r.pct is None else round(r.pct, 2), "status": r.status}
                     for r in c.rows],
            "only_baseline": [k.label() for k in c.only_baseline],
            "only_current": [k.label() for k in c.only_current]}


def run(args):
    from ..bench import gate, results
    if args.tolerance < 0:
        raise TlsfitError(USAGE, f"--tolerance {args.tolerance:g}: must be 0 or more (percent)")
    if bool(args.diff) == bool(args.file):
        raise TlsfitError(USAGE, "give --diff A.json B.json, or one FILE to show")
    if args.file:
        doc = results.load(args.file)
        print(json.dumps(doc, indent=1) if args.json else gate.cells_table(doc))
        return 0
    a, b = (results.load(p) for p in args.diff)
    c = gate.compare(a, b, args.tolerance)
    if args.json:
        print(json.dumps(_as_json(c), indent=1))
    else:
        shown = ("regression", "failed", "grew", "shrank", "same") if args.all else \
            ("regression", "failed", "grew")
        print(gate.markdown(c, shown))
    if not c.ok:
        raise TlsfitError(REGRESSION, f"{args.diff[1]} regressed against {args.diff[0]}: "
                                      + "; ".join(gate.summary_of(c)[:3])
                                      + (" ..." if len(c.regressions) > 3 else ""))
    return 0
