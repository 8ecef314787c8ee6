#!/usr/bin/env python3
"""bench/platform_eval.py -- evaluates every --for esp-idf|zephyr|zephyr-cfg-file output
on the platforms' own Kconfig and config headers (issue 24).

    /usr/bin/python3 bench/platform_eval.py [--all-trees] [--write docs/platform-matrix.md] [CASE...]

For every shipped profile and the variants (tlsfit.header.platforms.matrix.CASES, and
CASES4: the same with --mbedtls 4.0, --for esp-idf on ESP-IDF v6), gen
writes the bare-metal header and each platform output; evaluate.py applies the fragment
with kconfiglib over the reference tree (shared/upstream/platforms beside the checkout,
or $TLSFIT_UPSTREAM), runs the platform's config header through gcc -E -dM and compares
the option set with the header's.  Prints one line per case, format and tree; exit 1
when any differs.  --all-trees also evaluates the trees tlsfit does not claim (to say
why not).  --write PATH writes the matrix page.
"""
import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tool"))

from tlsfit.header.platforms import evaluate, matrix  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="*", help="case names (default: all)")
    ap.add_argument("--all-trees", action="store_true")
    ap.add_argument("--write", metavar="PATH")
    args = ap.parse_args()
    up = evaluate.upstream_dir()
    if up is None:
        sys.exit("platform_eval: no shared/upstream beside the checkout (set TLSFIT_UPSTREAM)")
    cases = [c for c in matrix.CASES + matrix.CASES4 if not args.cases or c[0] in args.cases]
    results = []
    with tempfile.TemporaryDirectory(prefix="tlsfit-platform-eval-") as tmp:
        for case in cases:
            for r in matrix.run_case(case, Path(tmp), up, claimed_only=not args.all_trees):
                results.append(r)
                print(f"{'ok  ' if r.ok else 'FAIL'} {r.case:40} {r.fmt:16} {r.tree:20} "
                      f"{r.note}", flush=True)
                for line in r.failures + [f"{o}: platform {p!r}, header {b!r}"
                                          for o, p, b in r.differences] + r.model:
                    print(f"       {line}")
    if args.write:
        Path(args.write).write_text(matrix.page(results))
    claimed = {t.name for t in evaluate.trees() if t.claimed}
    mine = [r for r in results if r.tree in claimed or r.tree == "-"]
    bad = sum(not r.ok for r in mine)
    print(f"{len(mine) - bad}/{len(mine)} equal on the trees tlsfit claims"
          + (f" ({len(results) - len(mine)} rows on the others)" if len(results) > len(mine)
             else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
