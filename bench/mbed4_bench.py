#!/usr/bin/python3
"""mbedTLS 4.0 beside 3.6: the same local servers fitted on both lines, side by side.

For every server (bench/fit_bench.py's seven, imported, plus an all-P-256 TLS 1.3-only
server), every target (cortex-m4, cortex-m33) and every variant of the matrix it runs
`tlsfit fit --objective rom` once per line (3.6 from Debian, 4.0 from the setup
archive) and prints ONE table: flash (whole image and mbedTLS's share), static RAM, peak
heap and handshake instructions, 3.6 and 4.0 side by side with the 4.0/3.6 ratio, for

  default   mbedTLS's default configuration of each line (the fit's own baseline,
            -Os: 3.6's config.py baremetal_size, 4.0's default pair made bare-metal),
  fitted    the fitted header at -Os, and with --lto the same header with -flto.

Where 4.0's mbedTLS share is larger than 3.6's on the same server, the objects
responsible are named: the per-object flash of both -Os images (their link maps),
3.6's library/*.o matched to 4.x's library/*.o or tf-psa-crypto/*.o
(tool/tlsfit/bench/linecompare.py), largest growers first.

    bench/mbed4_bench.py [--servers a,b] [--targets cortex-m33,cortex-m4]
                         [--lto on|off|both] [--external-rng on|off|both]
                         [--ecc auto,p256m,builtin] [--out DIR] [--json] [--render DIR]

Variants: --lto on (default) fits with --lto (the -Os figures come with it);
--external-rng on (default), off or both; --ecc auto (default: the fit tries the built-in
ECC and driver-only P-256 where p256-m can serve, and keeps the smaller), p256m or
builtin (only that form; applies to servers whose every key and group is P-256, the
others are fitted once with auto).  Cells run in priority order: the first variant on
every server and target, then the next.  Each finished cell is written to
DIR/cells/*.json (default DIR: bench/results/mbed4) and not run again: an interrupted
run continues where it stopped; --render DIR prints the table of what is there.
--json prints the whole document on stdout, nothing else.

Not a test: it prints figures and is not run by CI.  Standard library and the
repository's own modules only; run it with Debian's /usr/bin/python3, after
`./tlsfit setup --mbedtls-archive ../shared/upstream/mbedtls-4.0.0.tar.xz`.
"""
import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))
sys.path.insert(0, str(REPO / "bench"))

import fit_bench  # noqa: E402  (bench/fit_bench.py: its servers and chains)
from tlsfit.bench import linecompare  # noqa: E402
from tlsfit.core import interrupt, paths  # noqa: E402
from tlsfit.core.errors import TlsfitError  # noqa: E402
from tlsfit.fit import search as fit  # noqa: E402
from tlsfit.lab import refservers  # noqa: E402

LINES = ("3.6", "4.0")
TARGETS = ("cortex-m33", "cortex-m4")
P256_SERVER = "p256-tls13"
# the eighth server: every key, signature and group P-256, TLS 1.3 only (p256-m can serve it)
SERVERS = {P256_SERVER: ("p256", ("-tls1_3", "-groups", "P-256"),
                         "TLS 1.3 only, all-P-256 chain, group P-256"),
           **fit_bench.SERVERS}
P256_ONLY = (P256_SERVER,)        # the servers --ecc p256m / builtin apply to
DEFAULT_OUT = REPO / "bench" / "results" / "mbed4"


def log(msg):
    print(f"[mbed4-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def on_off(text):
    return {"on": (True,), "off": (False,), "both": (True, False)}[text]


def variants(args):
    """The fitted variants, in priority order: (lto, external_rng, ecc)."""
    out = []
    for rng in on_off(args.external_rng):
        for lto in on_off(args.lto):
            for ecc in args.ecc:
                out.append(linecompare.Variant(lto, rng, ecc))
    return out


def plan_cells(names, targets, variant_list):
    """[(server, target, line, variant)] in run order: variant first, then server and
    target, each pair of lines together; --ecc other than auto only where p256-m can serve."""
    cells = []
    for v in variant_list:
        for name in names:
            if v.ecc != "auto" and name not in P256_ONLY:
                continue
            for target in targets:
                cells += [(name, target, line, v) for line in LINES]
    return cells


def make_chains(work, names):
    chains = fit_bench.make_chains(work, {SERVERS[n][0] for n in names if n in fit_bench.SERVERS})
    if P256_SERVER in names:
        chains["p256"] = refservers.make_chain(work / "pki", "p256", "ec:P-256", "ec:P-256",
                                               "ec:P-256", label="all-P-256")
    return chains


def run_cell(server, target, line, v, srv, chain, out_dir, jobs):
    """One fit; returns the cell's record (linecompare.cell_record)."""
    opts = fit.FitOptions(target=target, objective="rom", line=line, sni="localhost",
                          ca=str(chain.root.pem), jobs=jobs, progress=False, lto=v.lto,
                          external_rng=v.external_rng, ecc=None if v.ecc == "auto" else v.ecc)
    shutil.rmtree(out_dir, ignore_errors=True)
    t0 = time.perf_counter()
    try:
        rep = fit.fit(srv.hostport, opts, out_dir)
        error = None
    except TlsfitError as e:
        rep, error = None, f"fit failed (exit {e.code}): {e.message}"
    wall = round(time.perf_counter() - t0, 1)
    return linecompare.cell_record(server, target, line, v, rep, error, wall)


def run(args, names, out):
    cells_dir = out / "cells"
    cells_dir.mkdir(parents=True, exist_ok=True)
    todo = [c for c in plan_cells(names, args.targets, variants(args))
            if not (cells_dir / linecompare.cell_file(*c)).is_file()]
    log(f"{len(todo)} fits to run ({cells_dir} holds the finished ones)")
    if not todo:
        return
    work = Path(tempfile.mkdtemp(prefix="tlsfit-mbed4-bench-"))
    try:
        chains = make_chains(work, {c[0] for c in todo})
        with contextlib.ExitStack() as stack:
            servers = {}
            for name in dict.fromkeys(c[0] for c in todo):
                chain_name, s_args, _ = SERVERS[name]
                servers[name] = stack.enter_context(refservers.openssl_server(
                    chains[chain_name], *s_args, log_dir=work / "logs", limit=6 * 3600))
            for i, (name, target, line, v) in enumerate(todo, 1):
                log(f"[{i}/{len(todo)}] {name} {target} mbedTLS {line} {v.label()} "
                    f"on {servers[name].hostport}")
                rec = run_cell(name, target, line, v, servers[name],
                               chains[SERVERS[name][0]], work / "fits" / f"{i}", args.jobs)
                rec["what"] = SERVERS[name][2]
                f = rec["fitted"] or {}
                log(f"  {'ok' if rec['ok'] else 'FAILED'} in {rec['fit_wall_s']} s: "
                    f"mbedTLS {f.get('rom_tls_bytes')} B -Os, "
                    f"{(rec.get('fitted_lto') or {}).get('rom_tls_bytes')} B -flto"
                    + (f"; {rec['error']}" if rec["error"] else ""))
                paths.write_atomic(cells_dir / linecompare.cell_file(name, target, line, v),
                                   json.dumps(rec, indent=1) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def load_cells(out):
    cells = []
    for f in sorted((out / "cells").glob("*.json")):
        cells.append(json.loads(f.read_text()))
    return cells


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--servers", help="comma-separated subset of: " + ", ".join(SERVERS))
    ap.add_argument("--targets", default=",".join(TARGETS),
                    help="comma-separated (default: " + ",".join(TARGETS) + ")")
    ap.add_argument("--lto", choices=("on", "off", "both"), default="on")
    ap.add_argument("--external-rng", choices=("on", "off", "both"), default="on")
    ap.add_argument("--ecc", default="auto",
                    help="comma-separated: auto, p256m, builtin (default auto)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2,
                    help="measurements a fit runs at once (default: the number of CPUs)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help=f"where finished cells are kept (default {DEFAULT_OUT.relative_to(REPO)})")
    ap.add_argument("--render", type=Path, metavar="DIR",
                    help="only print the table of the cells in DIR/cells")
    ap.add_argument("--json", action="store_true", help="print the document as JSON, nothing else")
    args = ap.parse_args()
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    args.ecc = [e.strip() for e in args.ecc.split(",") if e.strip()]
    bad = [t for t in args.targets if not (REPO / "targets" / f"{t}.toml").is_file()]
    if bad:
        ap.error(f"--targets: no targets/{bad[0]}.toml; known: "
                 + ", ".join(sorted(f.stem for f in (REPO / "targets").glob("*.toml"))))
    bad = [e for e in args.ecc if e not in linecompare.ECC_FORMS]
    if bad:
        ap.error(f"--ecc: unknown form(s) {', '.join(bad)}: use auto, p256m, builtin")
    names = list(SERVERS)
    if args.servers:
        names = [s.strip() for s in args.servers.split(",") if s.strip()]
        unknown = [s for s in names if s not in SERVERS]
        if unknown:
            ap.error(f"unknown server(s): {', '.join(unknown)}; known: {', '.join(SERVERS)}")
    out = (args.render or args.out).resolve()
    if not args.render:
        # SIGINT, SIGTERM, SIGHUP: the servers and the fit's children are stopped, the
        # finished cells stay (a later run continues)
        interrupt.install()
        started = time.perf_counter()
        try:
            run(args, names, out)
        except KeyboardInterrupt:
            log("stopped by a signal; the finished cells are kept")
            return interrupt.exit_code()
        log(f"done in {time.perf_counter() - started:.0f} s")
    doc = linecompare.document(load_cells(out), order=list(SERVERS))
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print(linecompare.render(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
