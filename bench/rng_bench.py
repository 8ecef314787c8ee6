#!/usr/bin/python3
"""Issue 18's figures with and without the device's TRNG (`--external-rng`), side by side in
one run, on cortex-m4 (arm-none-eabi-gcc -Os; QEMU), mbedTLS 3.6.

Two local `openssl s_server`s on 127.0.0.1 with an all-P-256 chain (root, intermediate and
leaf P-256, ecdsa-with-SHA256, a fresh throwaway PKI): TLS 1.3 only, and TLS 1.2 only.
For each server
  1. `tlsfit fit --lto` with --objective rom (and, for TLS 1.2, --objective heap), once
     without and once with --external-rng: the fitted header's -Os and -Os -flto figures,
     which ECC code the fit kept, and the other ECC header's figures from the fit's own
     search (fit measures the built-in and the driver-only P-256 header side by side);
  2. gen's own headers, not fitted, measured with `tlsfit measure`: built-in ECC and
     --ecc p256m, each without and with --external-rng (what the opt-in alone changes);
  3. TLS 1.2 only: gen's built-in --external-rng header with a PSA core added only to take
     the TRNG through MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG -- the alternative gen rejected (it
     takes the application's f_rng through mbedtls_ssl_conf_rng() instead), measured to
     document the choice.
and prints the table with issue 18's targets (TLS 1.3: mbedTLS share <= 44,500 B and
heap <= 6,500 B in one header; TLS 1.2: <= 36,000 B with objective rom, <= 5,000 B heap
with objective heap), met or missed.

Not a test: it prints figures and is not run by CI.  Fits run one at a time; the machine's
CPUs are shared, so keep --jobs small:

    bench/rng_bench.py [--jobs 2] [--out DIR] [--json FILE] [--no-lto] [--servers tls13,tls12]
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))

from tlsfit.core.errors import TlsfitError  # noqa: E402
from tlsfit.fit import search as fit  # noqa: E402
from tlsfit.header import gen  # noqa: E402
from tlsfit.header.types import GenOptions  # noqa: E402
from tlsfit.lab import refservers  # noqa: E402
from tlsfit.profile import model  # noqa: E402
from tlsfit.target import measure  # noqa: E402

TARGET = "cortex-m4"
FIGS = ("rom_bytes", "rom_tls_bytes", "heap_peak_bytes", "stack_peak_bytes",
        "handshake_instructions")
# name -> (s_server arguments, objectives fitted, what it is)
SERVERS = {
    "tls13": (("-tls1_3",), ("rom",), "TLS 1.3 only, all-P-256 chain"),
    "tls12": (("-tls1_2",), ("rom", "heap"), "TLS 1.2 only, same chain"),
}
# Issue 18, "Figures to reach": (server, objective) -> {figure: at most}
TARGETS = {
    ("tls13", "rom"): {"rom_tls_bytes": 44500, "heap_peak_bytes": 6500},
    ("tls12", "rom"): {"rom_tls_bytes": 36000},
    ("tls12", "heap"): {"heap_peak_bytes": 5000},
}
# What a TLS 1.2 header without PSA would need to take the TRNG through PSA instead.
PSA_FOR_RNG = """
/* bench/rng_bench.py: a PSA core only to take the TRNG through PSA (the rejected choice) */
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_CRYPTO_CONFIG
#define MBEDTLS_PSA_CRYPTO_CONFIG_FILE "mbedtls/build_info.h"
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG
#define MBEDTLS_PSA_KEY_SLOT_COUNT 4
"""


def log(msg):
    print(f"rng_bench: {msg}", file=sys.stderr, flush=True)


def figures(doc):
    hs = doc.get("handshake") or {}
    return {"ok": bool(hs.get("ok")), "version": hs.get("version"),
            "ciphersuite": hs.get("ciphersuite"),
            "error": None if hs.get("ok") else (hs.get("error") or hs.get("message")),
            **{k: doc.get(k) for k in FIGS}}


def _ecc_of(label):
    return "p256m" if "p256m" in label or "driver-only" in label else "builtin"


def run_fit(srv, chain, objective, rng, args, out):
    opts = fit.FitOptions(target=TARGET, objective=objective, sni="localhost",
                          ca=str(chain.root.pem), jobs=args.jobs, progress=True,
                          lto=args.lto, external_rng=rng)
    t0 = time.perf_counter()
    try:
        rep = fit.fit(srv.hostport, opts, out)
    except TlsfitError as e:
        return {"ok": False, "error": f"fit failed (exit {e.code}): {e.message}",
                "wall_s": round(time.perf_counter() - t0, 1)}
    row = {"wall_s": round(time.perf_counter() - t0, 1), "fitted": figures(rep),
           "ecc": rep["gen_options"]["ecc"], "external_rng": rep["gen_options"]["external_rng"],
           "rng": rep.get("rng"), "chosen": rep["chosen"], "removed": rep["removed"],
           "heap_floor_bytes": rep.get("heap_floor_bytes"),
           "options": sorted(rep["options"]),
           "modules": {m["name"]: m["rom_bytes"] for m in rep.get("modules") or []}}
    if rep.get("lto"):
        lto = rep["lto"]
        row["lto"] = {"ok": lto["ok"], **{k: lto.get(k) for k in FIGS},
                      "change": {k: lto["change"].get(k) for k in FIGS}}
    # the other ECC code's best verified header in the fit's own search (not ablated)
    other = [s for s in rep["search"] if s["phase"] == "search" and s["ok"]
             and _ecc_of(s["label"]) != row["ecc"]]
    if other:
        best = min(other, key=lambda s: s["rom_tls_bytes"] if objective == "rom"
                   else s["heap_peak_bytes"])
        row["other_ecc"] = {"label": best["label"], **{k: best.get(k) for k in FIGS}}
    return row


def measure_gen(srv, chain, prof, ecc, rng, work, extra=""):
    plan = gen.generate(prof, GenOptions(ecc=ecc, external_rng=rng))
    cfg = work / f"gen-{ecc}-{'rng' if rng else 'drbg'}{'-psa' if extra else ''}" / "tls_config.h"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    text = plan.text
    if extra:
        text = text.replace("#endif /* TLSFIT_TLS_CONFIG_H */", extra + "\n#endif /* TLSFIT_TLS_CONFIG_H */")
    cfg.write_text(text)
    try:
        m = measure.measure(measure.MeasureRequest(
            cfg, TARGET, refservers.LOCALHOST, srv.port, sni="localhost",
            ca=str(chain.root.pem), progress=False))
    except TlsfitError as e:
        return {"ok": False, "error": f"measure failed (exit {e.code}): {e.message}"}
    return {**figures(m), "ecc": plan.facts["ecc"], "rng": m.get("rng"),
            "modules": {x["name"]: x["rom_bytes"] for x in m.get("modules") or []},
            "ram_static_bytes": m.get("ram_static_bytes")}


def run_server(name, chain, args, out_root, log_dir):
    s_args, objectives, what = SERVERS[name]
    res = {"server": name, "what": what, "fits": {}, "gen": {}}
    with refservers.openssl_server(chain, *s_args, log_dir=log_dir, limit=3 * 3600) as srv:
        for objective in objectives:
            for rng in (False, True):
                key = f"{objective}{'-rng' if rng else ''}"
                log(f"{name}: tlsfit fit --objective {objective}"
                    f"{' --external-rng' if rng else ''}{' --lto' if args.lto else ''}")
                out = out_root / name / f"fit-{key}"
                shutil.rmtree(out, ignore_errors=True)
                res["fits"][key] = run_fit(srv, chain, objective, rng, args, out)
                log(f"{name}: {key}: {json.dumps(res['fits'][key].get('fitted'))}")
        prof_path = out_root / name / f"fit-{objectives[0]}" / "profile.json"
        prof = model.load(prof_path) if prof_path.exists() else None
        if prof is None:
            return res
        for ecc in ("builtin", "p256m"):
            for rng in (False, True):
                key = f"{ecc}{'-rng' if rng else ''}"
                log(f"{name}: measuring gen's header, --ecc {ecc}{' --external-rng' if rng else ''}")
                res["gen"][key] = measure_gen(srv, chain, prof, ecc, rng, out_root / name)
        if name == "tls12":
            log(f"{name}: measuring the rejected choice: a PSA core only for the TRNG")
            res["gen"]["builtin-rng-psa"] = measure_gen(srv, chain, prof, "builtin", True,
                                                        out_root / name, PSA_FOR_RNG)
    return res


# ------------------------------------------------------------------ the table

def _b(n):
    return "-" if n is None else f"{n:,}"


def _m(n):
    return "-" if n is None else f"{n / 1e6:.0f} M"


def _verdict(name, objective, f):
    want = TARGETS.get((name, objective))
    if not want or not f or not f.get("ok"):
        return ""
    parts = []
    for k, limit in want.items():
        v = f.get(k)
        short = "ROM" if k == "rom_tls_bytes" else "heap"
        parts.append(f"{short} <= {limit:,}: " + ("met" if v is not None and v <= limit
                                                  else f"missed by {v - limit:,}"))
    return "; ".join(parts)


def print_table(results):
    print("\n## fitted (tlsfit fit --lto), cortex-m4, mbedTLS share (whole image) / peak heap / "
          "instructions\n")
    print("| server | objective | --external-rng | ECC kept | -Os: mbedTLS (image) | peak heap "
          "| instructions | -Os -flto: mbedTLS (image) | change | the other ECC header (search) "
          "| target |")
    print("|---|---|---|---|---|---:|---:|---|---:|---|---|")
    for r in results:
        for key, f in r["fits"].items():
            objective = key.split("-")[0]
            rng = "on" if key.endswith("-rng") else "off"
            if not f.get("fitted") or not f["fitted"]["ok"]:
                print(f"| {r['server']} | {objective} | {rng} | - | failed: "
                      f"{(f.get('fitted') or f).get('error')} | | | | | | |")
                continue
            x, lto, o = f["fitted"], f.get("lto") or {}, f.get("other_ecc")
            other = (f"{o['label']}: {_b(o['rom_tls_bytes'])} / {_b(o['heap_peak_bytes'])}"
                     if o else "-")
            print(f"| {r['server']} | {objective} | {rng} | {f['ecc']} | "
                  f"{_b(x['rom_tls_bytes'])} ({_b(x['rom_bytes'])}) | {_b(x['heap_peak_bytes'])} "
                  f"| {_m(x['handshake_instructions'])} | "
                  f"{_b(lto.get('rom_tls_bytes'))} ({_b(lto.get('rom_bytes'))}) | "
                  f"{_b((lto.get('change') or {}).get('rom_tls_bytes'))} | {other} | "
                  f"{_verdict(r['server'], objective, x)} |")
    print("\n## gen's headers (not fitted), tlsfit measure, cortex-m4 -Os\n")
    print("| server | header | mbedTLS share | whole image | static RAM | peak heap "
          "| instructions | rng (firmware) |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        for key, m in r["gen"].items():
            if not m.get("ok"):
                print(f"| {r['server']} | {key} | failed: {m.get('error')} | | | | | |")
                continue
            print(f"| {r['server']} | {key} (ecc {m['ecc']}) | {_b(m['rom_tls_bytes'])} | "
                  f"{_b(m['rom_bytes'])} | {_b(m['ram_static_bytes'])} | "
                  f"{_b(m['heap_peak_bytes'])} | {_m(m['handshake_instructions'])} | {m['rng']} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--servers", default="tls13,tls12", help="comma-separated: tls13, tls12")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-lto", dest="lto", action="store_false")
    ap.add_argument("--out", help="keep the fits here (default: a temporary directory)")
    ap.add_argument("--json", help="write every figure to this file")
    args = ap.parse_args()
    names = args.servers.split(",")
    bad = [n for n in names if n not in SERVERS]
    if bad:
        ap.error(f"unknown server(s) {', '.join(bad)}; choose from {', '.join(SERVERS)}")
    work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="rng-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    chain = refservers.make_chain(work / "pki", "p256", "ec:P-256", "ec:P-256", "ec:P-256",
                                  label="P-256")
    results = [run_server(n, chain, args, work, work / "logs") for n in names]
    doc = {"target": TARGET, "lto": args.lto, "jobs": args.jobs, "cpus": os.cpu_count(),
           "wall_s": round(time.perf_counter() - t0, 1), "results": results}
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
    print_table(results)
    print(f"\nrun: {doc['wall_s']} s, --jobs {args.jobs}, {doc['cpus']} CPUs; files in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
