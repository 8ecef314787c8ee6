#!/usr/bin/python3
"""Device benchmark (issue 14.2): one header for an MQTT broker and an OTA host beside a
header fitted to each alone, in one run, on one emulated Cortex-M.

Servers (127.0.0.1, throwaway PKI): a mosquitto broker with an ECDSA chain (P-384 root ->
P-256 intermediate -> P-256 leaf; proof MQTT CONNECT -> CONNACK) and an nginx HTTPS host
with an RSA-2048 chain (proof HTTP HEAD).  It runs `tlsfit fit` on each server alone and
`tlsfit fit --device` on both (the same objective and options), and prints mbedTLS's
flash share (rom_tls_bytes) of the joint header beside the sum and the maximum of the two
single-server headers', every handshake's verdict (each header proven on the target
against its server(s) with the final build), and the goal: joint < sum and joint <= 1.2
x max.  The joint fit's own per-server headers (report["joint"]) are printed too.

Not a test: it prints figures and is not run by CI.

    bench/fit_device_bench.py [--objective rom] [--candidates N] [--jobs N] [--out DIR]
                              [--json FILE]
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))

from tlsfit.core import proof  # noqa: E402
from tlsfit.fit import device, search  # noqa: E402
from tlsfit.lab import refservers  # noqa: E402

TARGET = "cortex-m4"
GOAL_OF_MAX = 1.2


def log(msg):
    print(f"[fit-device-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fit_one(what, opts, out_dir):
    t0 = time.perf_counter()
    rep = search.fit(what, opts, out_dir)
    return rep, round(time.perf_counter() - t0, 1)


def verdicts(rep):
    return [f"{s['server']} {s['handshake']['version']} {s['handshake']['ciphersuite']} "
            f"(proof {s['handshake']['proof']}: {s['handshake']['proof_reply']})"
            for s in rep["servers"] if s["handshake"]["ok"]]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objective", default="rom")
    ap.add_argument("--candidates", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, help="keep the fits here (default: a temporary dir)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="fit-device-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    log(f"work directory {work}")
    pki = refservers.standard_pki(work / "pki")
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    with refservers.mosquitto_server(pki.ec, log_dir=logs) as broker, \
            refservers.nginx_server(pki.rsa, log_dir=logs) as ota:
        specs = (device.ServerSpec("127.0.0.1", broker.port, "localhost", (Path(pki.ec.root.pem),),
                                   proof.parse_proof("mqtt")),
                 device.ServerSpec("127.0.0.1", ota.port, "localhost", (Path(pki.rsa.root.pem),),
                                   proof.parse_proof("http")))
        opts = search.FitOptions(target=TARGET, objective=args.objective,
                                 candidates=args.candidates, jobs=args.jobs)
        rows = {}
        for name, spec in zip(("broker", "ota"), specs):
            log(f"{name}: tlsfit fit {spec.hostport} --objective {args.objective}")
            rows[name] = fit_one(device.Device((spec,)), opts, work / name)
        log("both: tlsfit fit --device (broker + ota)")
        rows["joint"] = fit_one(device.Device(specs), opts, work / "joint")
    single = [rows[n][0]["rom_tls_bytes"] for n in ("broker", "ota")]
    joint = rows["joint"][0]
    total, top = sum(single), max(single)
    ok = all(s["handshake"]["ok"] for r, _ in rows.values() for s in r["servers"])
    out = {"broker_rom_tls_bytes": single[0], "ota_rom_tls_bytes": single[1],
           "sum_rom_tls_bytes": total, "max_rom_tls_bytes": top,
           "joint_rom_tls_bytes": joint["rom_tls_bytes"],
           "joint_over_max": round(joint["rom_tls_bytes"] / top, 3),
           "joint_fit_alone": joint["joint"], "all_verified": ok,
           "fit_wall_s": {n: t for n, (_, t) in rows.items()},
           "verified": {n: verdicts(r) for n, (r, _) in rows.items()}}
    print(f"mbedTLS flash (rom_tls_bytes) on {TARGET}, objective {args.objective}, one run:")
    for n, (r, t) in rows.items():
        print(f"  {n:<6} {r['rom_tls_bytes']:>7,} B  (ROM {r['rom_bytes']:,} B, heap "
              f"{r['heap_peak_bytes']:,} B; fit {t} s)")
        for v in verdicts(r):
            print(f"         verified: {v}")
    print(f"  sum of the single-server headers {total:,} B, largest {top:,} B")
    print(f"  joint / sum {joint['rom_tls_bytes'] / total:.3f}, joint / max "
          f"{out['joint_over_max']:.3f}; the second server cost "
          f"{joint['rom_tls_bytes'] - top:+,} B over the largest")
    print(f"  the joint fit's own per-server headers: {joint['joint']['alone_rom_tls_bytes']} "
          f"(extra {joint['joint']['extra_servers_rom_tls_bytes']:+,} B)")
    goal = joint["rom_tls_bytes"] < total and joint["rom_tls_bytes"] <= GOAL_OF_MAX * top
    print(f"  goal joint < sum and <= {GOAL_OF_MAX} x max: {'MET' if goal else 'MISSED'}; "
          f"every handshake verified: {'yes' if ok else 'NO'}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
