#!/usr/bin/python3
"""Fit benchmark: the header `tlsfit fit` produces, mbedTLS's default configuration and a
hand-tuned expert configuration, side by side on one emulated Cortex-M, per server.

For every server of a matrix of local `openssl s_server`s (throwaway PKI, 127.0.0.1) it
  1. runs `tlsfit fit` (probe, candidate search, ablation; the fit also measures
     mbedTLS's default configuration -- config.py baremetal_size -- in the same run),
  2. measures bench/expert/rtthread_tuned_3.6.h (RT-Thread's tuned tls_config.h from
     chapter 6 of its mbedTLS manual, carried to mbedTLS 3.6) against the same server,
and prints ROM (whole image and mbedTLS's share), peak heap, stack and handshake
instructions of all three, the ratios fitted/default and fitted/expert, the targets of
issue 5 (PASS/MISS), and the fit's wall time per server and per phase.

Not a test: it prints figures and is not run by CI.  Standard library and the
repository's own modules only; run it with Debian's /usr/bin/python3:

    bench/fit_bench.py [--quick] [--objective rom] [--out DIR] [--json FILE]
                       [--servers a,b] [--jobs N] [--cold] [--render FILE] [--write-costs]
                       [--lto]

--lto runs each fit with --lto: the fitted header is measured again with -flto (fit/lto.py)
and the table gains a "fitted -flto" line and the change against -Os alone.

--cold gives the run an empty tlsfit cache and an empty ccache (the mbedTLS source trees
are shared), so every cross-build happens in the run: the first fit on a machine that
has fetched the sources.  Without it the usual caches are used.
"""
import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))

from tlsfit.core import paths  # noqa: E402
from tlsfit.fit import objective, search as fit  # noqa: E402
from tlsfit.header import costs as costs_mod  # noqa: E402
from tlsfit.lab import refservers  # noqa: E402
from tlsfit.target import measure  # noqa: E402
from tlsfit.core.errors import TlsfitError  # noqa: E402

EXPERT = REPO / "bench" / "expert" / "rtthread_tuned_3.6.h"
TARGET = "cortex-m4"
KIB = 1024
# Issue 5, "Figures to reach".
ROM_RATIO_MAX = 0.25            # fitted ROM <= 25 % of the default configuration's
HEAP_RATIO_MAX = 0.20           # fitted peak heap <= 20 % of the default configuration's
P256_TLS_ROM_MAX = 50 * KIB     # TLS 1.2 ECDSA P-256: mbedTLS's ROM share <= ~50 KB
P256_HEAP_MAX = 9 * KIB         # ... and peak heap < 9 KB
FIT_TIME_MAX = 60.0             # one fit under a minute
FLOOR_RATIO_MAX = 1.5           # issue 18: peak heap within 1.5x of the floor, or named
P256_SERVER = "ecdsa-p256-tls12"

# name -> (chain name, s_server arguments, what it is).  Chains: see make_chains().
SERVERS = {
    "ecdsa-p256-tls12": ("ec", ("-tls1_2",),
                         "TLS 1.2, ECDSA P-256 leaf (P-384 root -> P-256 intermediate)"),
    "ecdsa-tls13": ("ec", ("-tls1_3",), "TLS 1.3, same ECDSA chain"),
    "rsa2048-tls12": ("rsa", ("-tls1_2",), "TLS 1.2, RSA-2048 x3"),
    "rsa2048-default": ("rsa", (), "openssl defaults (TLS 1.2 + 1.3), RSA-2048 x3"),
    "rsa4096-big-tls12": ("big", ("-tls1_2",),
                          "TLS 1.2, RSA-4096 x3 (SHA-384), 150 SANs, Certificate > 4 KiB"),
    "rsa4096-root-tls12": ("le", ("-tls1_2",),
                           "TLS 1.2, RSA-4096 root -> RSA-2048 x2, all SHA-256 "
                           "(shaped like ISRG Root X1's chains)"),
    "mixed-default": ("mixed", (), "openssl defaults, RSA-4096 root -> P-384 "
                                   "intermediate -> P-256 leaf"),
}
QUICK = ("ecdsa-p256-tls12", "rsa2048-tls12")
FIGS = ("rom_bytes", "rom_tls_bytes", "heap_peak_bytes", "stack_peak_bytes",
        "handshake_instructions")


def log(msg):
    print(f"[fit-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ setup

def make_chains(work, names):
    """The chains the selected servers need.  rsa, ec, big: refservers.standard_pki.
    le: RSA-4096 root whose certificates are all signed with SHA-256.  mixed: RSA-4096
    root -> P-384 intermediate -> P-256 leaf."""
    log(f"making the test PKI in {work / 'pki'} (RSA-4096 key generation takes a while)")
    pki = refservers.standard_pki(work / "pki")
    chains = {"rsa": pki.rsa, "ec": pki.ec, "big": pki.big}
    if "le" in names:
        chains["le"] = refservers.make_chain(work / "pki", "le", "rsa:4096", "rsa:2048",
                                             "rsa:2048", label="RSA-4096 root", digest="sha256")
    if "mixed" in names:
        chains["mixed"] = refservers.make_chain(work / "pki", "mixed", "rsa:4096", "ec:P-384",
                                                "ec:P-256", label="mixed")
    return chains


def cold_caches(work):
    """An empty tlsfit cache sharing only the mbedTLS trees, and an empty ccache."""
    cache = work / "cold-cache"
    cache.mkdir()
    for tree in ("mbedtls-3.6", "mbedtls-2.28"):
        src = paths.cache_dir() / tree
        if src.is_dir():
            (cache / tree).symlink_to(src.resolve())
    os.environ["TLSFIT_CACHE"] = str(cache)
    os.environ["CCACHE_DIR"] = str(work / "cold-ccache")
    return cache


def builds_for(out_dir):
    """Cross-builds in the tlsfit cache first made for a header under out_dir: the
    fit's builds that were not already cached (the cache is keyed by header content).
    Other processes sharing the cache do not count."""
    d = paths.cache_dir() / "xbuild"
    n = 0
    for inputs in d.glob("*/inputs.json") if d.is_dir() else ():
        try:
            cfg = json.loads(inputs.read_text()).get("config") or ""
        except (OSError, ValueError):
            continue
        if cfg.startswith(str(out_dir) + os.sep) and (inputs.parent / "done.json").exists():
            n += 1
    return n


# ------------------------------------------------------------------ one server

def figures(report):
    hs = report.get("handshake") or {}
    return {"ok": bool(hs.get("ok")), "version": hs.get("version"),
            "ciphersuite": hs.get("ciphersuite"), "group": hs.get("group"),
            "error": None if hs.get("ok") else hs.get("error"),
            "state": hs.get("state") or hs.get("step"),
            **{k: report.get(k) for k in FIGS}}


def failed_row(message):
    return {"ok": False, "error": message, **{k: None for k in FIGS}}


def run_server(name, chain, s_args, args, out_root, log_dir):
    row = {"server": name, "what": SERVERS[name][2]}
    out_dir = out_root / name
    shutil.rmtree(out_dir, ignore_errors=True)
    with refservers.openssl_server(chain, *s_args, log_dir=log_dir, limit=3 * 3600) as srv:
        log(f"{name}: openssl s_server {' '.join(s_args) or '(defaults)'} on {srv.hostport}; "
            f"tlsfit fit --objective {args.objective}")
        opts = fit.FitOptions(target=TARGET, objective=args.objective, sni="localhost",
                              ca=str(chain.root.pem), jobs=args.jobs, progress=True,
                              lto=getattr(args, "lto", False))
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        try:
            rep = fit.fit(srv.hostport, opts, out_dir)
            row["fit_wall_s"] = round(time.perf_counter() - t0, 1)
            row["fitted"] = figures(rep)
            row["default"] = figures(rep["baseline"]) if rep.get("baseline") else None
            row["mbedtls"] = rep.get("mbedtls")
            row["phases_s"] = rep["phases_s"]
            row["candidates_tried"] = rep["candidates_tried"]
            row["minimal"] = rep["minimal"]
            row["config_path"] = rep["config_path"]
            row["floor"] = {"heap": rep.get("heap_floor"), "rom": rep.get("rom_floor")}
            if rep.get("lto"):
                lto = rep["lto"]
                row["fitted_lto"] = {"ok": lto["ok"], "version": row["fitted"]["version"],
                                     "ciphersuite": row["fitted"]["ciphersuite"],
                                     "group": row["fitted"]["group"],
                                     "error": "; ".join(lto["failures"]) or None,
                                     "state": None, **{k: lto.get(k) for k in FIGS}}
                row["lto_change"] = {k: lto["change"].get(k) for k in FIGS}
                row["lto_build"] = lto["build"]
            # Flash each option costs in this fit's best header (its first ablation pass).
            row["option_costs"] = {a["option"]: a["rom_cost_bytes"] for a in rep["ablation"]
                                   if a.get("pass") == 1 and a.get("rom_cost_bytes") is not None}
        except TlsfitError as e:
            row["fit_wall_s"] = round(time.perf_counter() - t0, 1)
            row["fitted"] = failed_row(f"fit failed (exit {e.code}): {e.message}")
            row["phases_s"] = {}
            row["default"] = None
        row["new_builds"] = builds_for(out_dir)
        row["load_avg_1min"] = [round(load0, 1), round(os.getloadavg()[0], 1)]
        log(f"{name}: fit took {row['fit_wall_s']} s; measuring the expert configuration"
            + ("" if row["default"] else " and mbedTLS's default one"))
        try:
            exp = measure.measure(measure.MeasureRequest(
                EXPERT, TARGET, refservers.LOCALHOST, srv.port, sni="localhost",
                ca=str(chain.root.pem), baseline=row["default"] is None, progress=False))
            row["expert"] = figures(exp)
            row["expert"]["overlay"] = exp.get("overlay")
            if row["default"] is None:
                row["default"] = figures(exp["baseline"])
        except TlsfitError as e:
            row["expert"] = failed_row(f"measure failed (exit {e.code}): {e.message}")
            row["default"] = row["default"] or failed_row("not measured")
    row["ratios"] = ratios(row)
    row["targets"] = targets(row)
    return row


# ------------------------------------------------------------------ figures

def _ratio(a, b):
    return None if a is None or not b else round(a / b, 3)


def ratios(row):
    """fitted/default and fitted/expert.  ROM is static and always comparable; heap, stack
    and instructions only when both handshakes completed -- except heap against a failed
    default, kept and flagged: what it held until it failed is a lower bound of its peak,
    so the ratio is an upper bound (a PASS still holds, a MISS may not)."""
    f = row["fitted"]
    out = {}
    for other in ("default", "expert"):
        o = row[other] or {}
        r = {}
        for k in FIGS:
            both = f["ok"] and o.get("ok")
            static = k in ("rom_bytes", "rom_tls_bytes")
            heap_bound = k == "heap_peak_bytes" and f["ok"] and other == "default"
            r[k] = _ratio(f.get(k), o.get(k)) if (both or static or heap_bound) else None
        r["upper_bound"] = bool(f["ok"] and not o.get("ok"))
        out[other] = r
    return out


def _exact(row, k):
    a, b = row["fitted"].get(k), (row["default"] or {}).get(k)
    return None if a is None or not b else a / b


def targets(row):
    f, rd = row["fitted"], row["ratios"]["default"]
    t = []
    if f["ok"]:
        rom, tls = _exact(row, "rom_bytes"), _exact(row, "rom_tls_bytes")
        t.append(("ROM <= 25% of default", rom is not None and rom <= ROM_RATIO_MAX,
                  "-" if rom is None else f"{rom:.4f}; mbedTLS share alone {tls:.3f}"))
        h = _exact(row, "heap_peak_bytes") if rd["heap_peak_bytes"] is not None else None
        note = ", default failed: upper bound" if rd["upper_bound"] else ""
        t.append(("heap <= 20% of default", h is not None and h <= HEAP_RATIO_MAX,
                  ("-" if h is None else f"{h:.4f}") + note))
        if row["server"] == P256_SERVER:
            t.append(("mbedTLS ROM <= 50 KiB", f["rom_tls_bytes"] <= P256_TLS_ROM_MAX,
                      f"{f['rom_tls_bytes']:,} B"))
            t.append(("heap < 9 KiB", f["heap_peak_bytes"] is not None and
                      f["heap_peak_bytes"] < P256_HEAP_MAX, f"{f['heap_peak_bytes']:,} B"))
    else:
        t.append(("fit completed", False, f["error"]))
    t.append(("fit < 60 s", row["fit_wall_s"] < FIT_TIME_MAX, f"{row['fit_wall_s']} s"))
    return [{"target": n, "pass": bool(p), "value": v} for n, p, v in t]


def _b(n):
    return "-" if n is None else f"{n:,}"


def _signed(n):
    return "-" if n is None else f"{n:+d}"


def _ins(n):
    return "-" if n is None else f"{n / 1e6:.2f} M"


def _r(x, flag=""):
    return "-" if x is None else f"{x:.3f}{flag}"


def _hs(c):
    if c is None:
        return "not measured"
    if c["ok"]:
        suite = (c["ciphersuite"] or "?").replace("TLS_", "", 1).replace("_WITH_", " ")
        return f"ok {c['version'].replace('TLSv', '')} {suite}" + \
            (f" {c['group']}" if c.get("group") else "")
    state = {"ca": "loading the trust anchor", "connect": "connecting"}.get(
        c.get("state"), c.get("state"))
    where = f" {'in ' if state == c.get('state') else ''}{state}" if state else ""
    return f"FAILED{where}: {c['error']}"


def print_table(rows, args, cold=False, cpus=None):
    head = (f"{'server / config':<22} {'handshake':<52} {'ROM B':>9} {'mbedTLS ROM':>11} "
            f"{'heap peak':>9} {'stack':>7} {'instr':>9}")
    print(f"tlsfit fit benchmark: {TARGET} (arm-none-eabi-gcc -Os, QEMU -icount), "
          f"{cpus or os.cpu_count()} CPUs, objective {args.objective}, "
          f"mbedTLS {rows[0].get('mbedtls', '3.6')}, "
          f"{'cold caches (empty tlsfit cache and ccache)' if cold else 'usual caches'}; "
          "sizes in bytes")
    print(head)
    print("-" * len(head))
    for row in rows:
        print(f"{row['server']}  -- {row['what']}")
        for label in ("fitted", "fitted_lto", "default", "expert"):
            if label == "fitted_lto" and not row.get(label):
                continue
            c = row[label] or failed_row("not measured")
            hs = _hs(c)
            if len(hs) > 52:
                hs = hs[:51] + "~"
            shown = "fitted -flto" if label == "fitted_lto" else label
            print(f"  {shown:<20} {hs:<52} {_b(c['rom_bytes']):>9} {_b(c['rom_tls_bytes']):>11} "
                  f"{_b(c['heap_peak_bytes']):>9} {_b(c['stack_peak_bytes']):>7} "
                  f"{_ins(c['handshake_instructions']):>9}")
        if row.get("lto_change"):
            d = row["lto_change"]
            b = row.get("lto_build") or {}
            print(f"  {'-flto minus -Os':<20} {'LTO link %.1f s vs %.1f s' % ((b.get('lto_link_ms') or 0) / 1000, (b.get('plain_link_ms') or 0) / 1000):<52} "
                  f"{_signed(d['rom_bytes']):>9} {_signed(d['rom_tls_bytes']):>11} "
                  f"{_signed(d['heap_peak_bytes']):>9} {_signed(d['stack_peak_bytes']):>7} "
                  f"{_signed(d['handshake_instructions']):>9}")
        for other in ("default", "expert"):
            r = row["ratios"][other]
            flag = "*" if r["upper_bound"] and other == "default" else ""
            print(f"  {'fitted/' + other:<20} {'':<52} {_r(r['rom_bytes']):>9} "
                  f"{_r(r['rom_tls_bytes']):>11} {_r(r['heap_peak_bytes'], flag):>9} "
                  f"{_r(r['stack_peak_bytes']):>7} {_r(r['handshake_instructions']):>9}")
    print("* the default configuration's handshake failed: its heap is what it held until "
          "then, so the ratio is an upper bound; '-': not comparable (a handshake failed)")

    long_errors = [(row["server"], label, row[label]["error"]) for row in rows
                   for label in ("fitted", "default", "expert")
                   if row[label] and not row[label]["ok"] and row[label]["error"]
                   and len(_hs(row[label])) > 52]
    if long_errors:
        print("\nfailures in full:")
        for server, label, err in long_errors:
            print(f"  {server} {label}: {err}")

    print("\ntargets (issue 5): fitted ROM (whole image) <= 25% and peak heap <= 20% of the "
          f"default configuration's; {P256_SERVER}: mbedTLS ROM <= 50 KiB, heap < 9 KiB; "
          "fit < 60 s")
    for row in rows:
        cells = [f"{'PASS' if t['pass'] else 'MISS'} {t['target']} ({t['value']})"
                 for t in row["targets"]]
        print(f"  {row['server']:<20} " + "; ".join(cells))

    print("\nfit wall time (s) and report['phases_s']; cross-builds the fit had to make "
          "(not in the cache); 1-min load average before/after the fit")
    for row in rows:
        ph = ", ".join(f"{k} {v}" for k, v in row["phases_s"].items() if k != "total")
        extra = f"; {row.get('candidates_tried', '?')} headers measured, 1-minimal " \
                f"{'yes' if row.get('minimal') else 'no'}" if row["fitted"]["ok"] else ""
        print(f"  {row['server']:<20} {row['fit_wall_s']:>6.1f}  ({ph or 'no phases'}){extra}; "
              f"{row['new_builds']} new cross-builds; load {row['load_avg_1min'][0]}"
              f"/{row['load_avg_1min'][1]}")
    print_floors(rows)
    passed = sum(t["pass"] for row in rows for t in row["targets"])
    total = sum(len(row["targets"]) for row in rows)
    print(f"\n{passed}/{total} targets met")


def print_floors(rows):
    """Peak heap vs floor (issue 18): the fitted header's peak against what the session
    cannot do without, and the measured parts above the floor, largest first."""
    print(f"\npeak heap vs floor (fitted header; floor: the largest record each way, whole, "
          f"and the contexts at the peak; within {FLOOR_RATIO_MAX}x or the parts above it named)")
    print(f"  {'server':<20} {'peak B':>7} {'floor B':>7} {'ratio':>6}  {'mbedTLS ROM':>11} "
          f"{'ROM floor':>9}  above the floor (bytes)")
    for row in rows:
        fl = row.get("floor") or {}
        h, r = fl.get("heap") or {}, fl.get("rom") or {}
        if not h:
            print(f"  {row['server']:<20} {'-':>7} {'-':>7} {'-':>6}")
            continue
        above = ", ".join(f"{p['name']} {p['bytes']:,}" for p in h["above"] if p["bytes"] > 0)
        print(f"  {row['server']:<20} {h['heap_peak_bytes']:>7,} {h['heap_floor_bytes']:>7,} "
              f"{h['ratio']:>5.2f}x  {_b(r.get('rom_tls_bytes')):>11} "
              f"{_b(r.get('rom_floor_bytes')):>9}  {above}")


# ------------------------------------------------------------------ main

def write_option_costs(rows):
    """costs.json "options": per option, the median over the servers of what the fit's
    ablation measured it to cost (header with it minus without it, flash bytes of the
    linked image).  Costs depend on what else the header holds; the median is what
    gen --explain shows as "measured"."""
    seen = {}
    for row in rows:
        for name, cost in (row.get("option_costs") or {}).items():
            seen.setdefault(name, []).append(cost)
    costs = costs_mod.load_costs()
    costs["options"] = {name: int(statistics.median(v)) for name, v in sorted(seen.items())}
    costs["options_about"] = (
        f"options: measured by bench/fit_bench.py --write-costs ({len(rows)} servers, "
        f"{TARGET}, objective rom): the median over the fits of the flash of the fitted "
        "header with the option minus without it (the ablation's two linked images)")
    paths.write_atomic(costs_mod.COSTS_PATH, json.dumps(costs, indent=1, sort_keys=True) + "\n")
    log(f"wrote {len(costs['options'])} measured option costs to {costs_mod.COSTS_PATH}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="only " + " and ".join(QUICK))
    ap.add_argument("--servers", help="comma-separated subset of: " + ", ".join(SERVERS))
    ap.add_argument("--objective", choices=objective.OBJECTIVES, default="rom")
    ap.add_argument("--out", type=Path, help="where fit outputs go (default: a temp dir, "
                                             "removed at the end)")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2,
                    help="measurements a fit runs at once (default: the number of CPUs)")
    ap.add_argument("--cold", action="store_true",
                    help="empty tlsfit cache and ccache (sources shared)")
    ap.add_argument("--write-costs", action="store_true",
                    help="record the options' measured flash costs (the median over the "
                         "servers' ablations) in tool/tlsfit/header/costs.json, for gen --explain")
    ap.add_argument("--lto", action="store_true",
                    help="fit with --lto: the fitted header also measured with -flto")
    ap.add_argument("--render", type=Path, metavar="FILE",
                    help="only print the report of an earlier run's --json FILE")
    args = ap.parse_args()
    if args.render:
        doc = json.loads(args.render.read_text())
        args.objective = doc["objective"]
        for row in doc["rows"]:
            row["ratios"] = ratios(row)
            row["targets"] = targets(row)
        print_table(doc["rows"], args, doc.get("cold"), doc.get("cpus"))
        return 0
    names = list(QUICK) if args.quick else list(SERVERS)
    if args.servers:
        names = [s.strip() for s in args.servers.split(",") if s.strip()]
        unknown = [s for s in names if s not in SERVERS]
        if unknown:
            ap.error(f"unknown server(s): {', '.join(unknown)}")
    if not EXPERT.is_file():
        ap.error(f"{EXPERT} is missing")

    work = Path(tempfile.mkdtemp(prefix="tlsfit-fit-bench-"))
    out_root = args.out.resolve() if args.out else work / "fits"
    rows = []
    try:
        if args.cold:
            log(f"cold caches: TLSFIT_CACHE={cold_caches(work)}")
        chains = make_chains(work, {SERVERS[n][0] for n in names})
        started = time.perf_counter()
        for name in names:
            chain_name, s_args, _ = SERVERS[name]
            rows.append(run_server(name, chains[chain_name], s_args, args, out_root,
                                   work / "logs"))
        log(f"done in {time.perf_counter() - started:.0f} s")
    finally:
        with contextlib.suppress(OSError):
            if args.out:
                log(f"fit outputs in {out_root}")
            shutil.rmtree(work, ignore_errors=True)

    print_table(rows, args, args.cold)
    if args.write_costs:
        write_option_costs(rows)
    if args.json:
        doc = {"target": TARGET, "objective": args.objective, "cold": args.cold,
               "cpus": os.cpu_count(), "expert": str(EXPERT.relative_to(REPO)), "rows": rows}
        paths.write_atomic(args.json, json.dumps(doc, indent=2) + "\n")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
