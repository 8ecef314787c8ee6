#!/usr/bin/python3
"""Driver-only P-256 (`gen --ecc p256m`) proven on every Cortex-M target, beside the
built-in ECC header, in one run (mbedTLS 3.6, arm-none-eabi-gcc -Os, QEMU).

One local `openssl s_server` on 127.0.0.1 with an all-P-256 chain (root, intermediate
and leaf P-256, ecdsa-with-SHA256, a fresh throwaway PKI), TLS 1.3 only (or TLS 1.2
with --tls 1.2).  The server is probed once; gen renders its header twice, --ecc
builtin and --ecc p256m (with --external-rng when asked); `tlsfit measure` runs each
on every target against the server (a verified session: the server accepted it) and
the table gives mbedTLS's share of the image, the whole image, peak heap, stack and
handshake instructions, and the driver-only/built-in ratios per target.

Not a test: it prints figures and is not run by CI (a cold run cross-builds mbedTLS
twice per target).

    bench/p256m_targets.py [--tls 1.3|1.2] [--external-rng] [--targets cortex-m4,...]
                           [--json FILE]
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))

from tlsfit.core.errors import TlsfitError  # noqa: E402
from tlsfit.header import gen  # noqa: E402
from tlsfit.header.types import GenOptions  # noqa: E402
from tlsfit.lab import refservers  # noqa: E402
from tlsfit.profile import probing as probe  # noqa: E402
from tlsfit.target.firmware import fw  # noqa: E402
from tlsfit.target import measure  # noqa: E402

FIGS = ("rom_tls_bytes", "rom_bytes", "heap_peak_bytes", "stack_peak_bytes",
        "handshake_instructions")


def log(msg):
    print(f"p256m_targets: {msg}", file=sys.stderr, flush=True)


def measure_one(header, target, srv, chain):
    try:
        m = measure.measure(measure.MeasureRequest(
            header, target, refservers.LOCALHOST, srv.port, sni="localhost",
            ca=str(chain.root.pem), progress=False))
    except TlsfitError as e:
        return {"ok": False, "error": f"exit {e.code}: {e.message}"}
    hs = m.get("handshake") or {}
    return {"ok": bool(hs.get("ok")), "version": hs.get("version"),
            "error": None if hs.get("ok") else (hs.get("error") or hs.get("message")),
            **{k: m.get(k) for k in FIGS}}


def headers(prof, work, rng):
    out = {}
    for ecc in ("builtin", "p256m"):
        plan = gen.generate(prof, GenOptions(ecc=ecc, external_rng=rng))
        path = work / ecc / "tls_config.h"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(plan.text)
        out[ecc] = (path, plan.facts["ecc"])
    return out


def _b(n):
    return "-" if n is None else f"{n:,}"


def print_table(rows, args):
    print(f"\n## driver-only P-256 vs built-in ECC, TLS {args.tls}, all-P-256 chain"
          f"{', --external-rng' if args.external_rng else ''} (mbedTLS 3.6, -Os)\n")
    print("| target | ECC | verified | mbedTLS share | whole image | peak heap | stack | "
          "instructions |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for target, by in rows.items():
        for ecc, f in by.items():
            if not f["ok"]:
                print(f"| {target} | {ecc} | no: {f['error']} | | | | | |")
                continue
            print(f"| {target} | {ecc} | yes ({f['version']}) | {_b(f['rom_tls_bytes'])} | "
                  f"{_b(f['rom_bytes'])} | {_b(f['heap_peak_bytes'])} | "
                  f"{_b(f['stack_peak_bytes'])} | {f['handshake_instructions'] / 1e6:.0f} M |")
    print("\nratios driver-only / built-in (same target, same run):\n")
    print("| target | mbedTLS share | peak heap | instructions |")
    print("|---|---:|---:|---:|")
    for target, by in rows.items():
        a, b = by.get("p256m"), by.get("builtin")
        if not (a and b and a["ok"] and b["ok"]):
            print(f"| {target} | - | - | - |")
            continue
        print(f"| {target} | {a['rom_tls_bytes'] / b['rom_tls_bytes']:.3f} | "
              f"{a['heap_peak_bytes'] / b['heap_peak_bytes']:.3f} | "
              f"{a['handshake_instructions'] / b['handshake_instructions']:.3f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tls", choices=("1.3", "1.2"), default="1.3")
    ap.add_argument("--external-rng", action="store_true")
    ap.add_argument("--targets", default=",".join(fw.target_names()))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    targets = args.targets.split(",")
    with tempfile.TemporaryDirectory(prefix="p256m-targets-") as tmp:
        work = Path(tmp)
        chain = refservers.make_chain(work, "p256", "ec:P-256", "ec:P-256", "ec:P-256")
        s_args = ("-tls1_3",) if args.tls == "1.3" else ("-tls1_2",)
        with refservers.openssl_server(chain, *s_args, log_dir=work, limit=4 * 3600) as srv:
            log(f"probing {srv.hostport}")
            prof = probe.run(srv.hostport, probe.Options(sni="localhost",
                                                         cas=[str(chain.root.pem)]))
            hdrs = headers(prof, work, args.external_rng)
            rows = {}
            for target in targets:
                rows[target] = {}
                for ecc, (path, kept) in hdrs.items():
                    log(f"{target}: measuring gen --ecc {ecc} (kept: {kept})")
                    rows[target][ecc] = measure_one(path, target, srv, chain)
    print_table(rows, args)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all(f["ok"] for by in rows.values() for f in by.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
