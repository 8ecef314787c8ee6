#!/usr/bin/python3
"""What mutual TLS costs on the device: the same broker software fitted without and
with a client certificate, in one run, each beside mbedTLS's default configuration
measured in that run (with the certificate loaded where the broker requires it).

Two mosquitto brokers on 127.0.0.1 serve the ECDSA chain (P-384 root -> P-256): one
asks for nothing, one has `require_certificate true` with a device CA; the device
has a P-256 key (--key rsa: RSA-2048).  For each, `tlsfit fit --target cortex-m4
--objective rom --proof mqtt` (with --client-cert/--client-key for the second), and
the figures: flash (whole image and mbedTLS's share), peak heap, handshake
instructions, fitted and default, and what mutual TLS adds to each.

Not a test: it prints figures and is not run by CI.

    bench/mtls_bench.py [--key p256|rsa] [--tls 1.2|1.3] [--json FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))

from tlsfit.lab import refservers  # noqa: E402

FIGURES = ("rom_bytes", "rom_tls_bytes", "heap_peak_bytes", "handshake_instructions")


def fit(broker, ca, out, env, client=None):
    args = [str(REPO / "tlsfit"), "fit", broker.hostport, "--sni", "localhost", "--ca", str(ca),
            "--proof", "mqtt", "--target", "cortex-m4", "--objective", "rom", "--out", str(out),
            "--json"]
    if client:
        args += ["--client-cert", str(client.pem), "--client-key", str(client.key)]
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                       timeout=1800, cwd=REPO)
    if p.returncode != 0:
        sys.exit(f"fit failed (exit {p.returncode}): {p.stderr.strip().splitlines()[-1:]}")
    return json.loads(p.stdout)


def row(name, r):
    b = r["baseline"]
    cells = [f"{r[k]:>14,}" for k in FIGURES] + [f"{b[k] or 0:>14,}" for k in FIGURES]
    return f"{name:<22}" + "".join(cells)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--key", choices=("p256", "rsa"), default="p256")
    ap.add_argument("--tls", choices=("1.2", "1.3"), default="1.3")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tlsfit-mtls-"))
    env = dict(os.environ, TLSFIT_STATE_DIR=str(work / "state"))
    pki = refservers.standard_pki(work / "pki")
    ca = refservers.make_ca(work, "devca", "tlsfit device CA", "ec:P-256")
    device = refservers.make_client_cert(ca, work, "device",
                                         "ec:P-256" if args.key == "p256" else "rsa:2048")
    version = f"tlsv{args.tls}"
    with refservers.mosquitto_server(pki.ec, tls_version=version, log_dir=work) as plain, \
            refservers.mosquitto_server(pki.ec, require_certificate=True, cafile=ca.pem,
                                        tls_version=version, log_dir=work) as mutual:
        one = fit(plain, pki.ec.root.pem, work / "fit-plain", env)
        two = fit(mutual, pki.ec.root.pem, work / "fit-mtls", env, client=device)
    head = "".join(f"{k:>14}" for k in ("ROM", "mbedTLS ROM", "heap", "instructions")) * 2
    print(f"mosquitto on TLS {args.tls}, ECDSA chain, device key {args.key}, cortex-m4, "
          "objective rom; fitted | mbedTLS default (same run)")
    print(f"{'':<22}{head}")
    print(row("no client auth", one))
    print(row("mutual TLS", two))
    print(f"{'mutual TLS adds':<22}" + "".join(f"{two[k] - one[k]:>+14,}" for k in FIGURES)
          + "".join(f"{(two['baseline'][k] or 0) - (one['baseline'][k] or 0):>+14,}"
                    for k in FIGURES))
    for name, r in (("no client auth", one), ("mutual TLS", two)):
        print(f"{name}: {r['chosen']}; proof {r['handshake']['proof']}: "
              f"{r['handshake']['proof_reply']}; default: {r['baseline']['handshake']['ok']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"plain": one, "mtls": two}, indent=1) + "\n")


if __name__ == "__main__":
    main()
