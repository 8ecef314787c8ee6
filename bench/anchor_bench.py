#!/usr/bin/python3
"""What anchoring at the intermediate saves on the device (`fit --anchor CERT`, issue 18
item 3): one server with a mixed chain -- P-384 root -> P-256 intermediate -> P-256
leaf, the intermediate signed with ecdsa-with-SHA384 -- fitted twice in one run, one
fit at a time: with the root as the device's trust anchor, and with `--anchor` the
intermediate (the only CA of every measured handshake).

openssl s_server on 127.0.0.1 sends leaf + intermediate; each fit is `tlsfit fit
--target cortex-m4 --objective rom --sni localhost --ca root.pem` (plus `--anchor
inter.pem`).  Printed side by side: mbedTLS's share of the flash, the whole image,
peak heap, handshake instructions, whether the fit's header is driver-only P-256 and
the chosen candidate; the change the anchor makes.

Not a test: it prints figures and is not run by CI.

    bench/anchor_bench.py [--tls 1.2|1.3] [--objective rom|heap|...] [--json FILE]
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

FIGURES = ("rom_tls_bytes", "rom_bytes", "heap_peak_bytes", "handshake_instructions")
HEAD = ("mbedTLS ROM", "ROM", "heap peak", "instructions")


def fit(srv, chain, out, env, objective, anchor=None):
    args = [str(REPO / "tlsfit"), "fit", srv.hostport, "--sni", "localhost",
            "--ca", str(chain.root.pem), "--target", "cortex-m4", "--objective", objective,
            "--jobs", "2", "--out", str(out), "--json"]
    if anchor:
        args += ["--anchor", str(anchor)]
    print(f"anchor_bench: {' '.join(args[1:])}", file=sys.stderr, flush=True)
    p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
                       env=env, timeout=3600, cwd=REPO)
    if p.returncode != 0:
        sys.exit(f"fit failed (exit {p.returncode})")
    return json.loads(p.stdout)


def ecc(r):
    return "driver-only P-256" if "MBEDTLS_PSA_P256M_DRIVER_ENABLED" in r["options"] \
        else "built-in ECC"


def row(name, r):
    return f"{name:<26}" + "".join(f"{r[k]:>14,}" for k in FIGURES) + f"  {ecc(r)}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tls", choices=("1.2", "1.3"), default="1.3")
    ap.add_argument("--objective", default="rom")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tlsfit-anchor-"))
    env = dict(os.environ, TLSFIT_STATE_DIR=str(work / "state"))
    chain = refservers.make_chain(work / "pki", "mixed", "ec:P-384", "ec:P-256", "ec:P-256",
                                  label="mixed")
    with refservers.openssl_server(chain, f"-tls{args.tls.replace('.', '_')}",
                                   log_dir=work) as srv:
        root = fit(srv, chain, work / "fit-root", env, args.objective)
        inter = fit(srv, chain, work / "fit-anchor", env, args.objective, chain.inter.pem)
    print(f"openssl s_server, TLS {args.tls}, chain P-256 leaf <- P-256 intermediate "
          f"(ecdsa-with-SHA384) <- P-384 root; cortex-m4, -Os, objective {args.objective}")
    print(f"{'trust anchor':<26}" + "".join(f"{h:>14}" for h in HEAD))
    print(row("root (P-384)", root))
    print(row("--anchor intermediate", inter))
    print(f"{'change':<26}" + "".join(f"{inter[k] - root[k]:>+14,}" for k in FIGURES))
    for name, r in (("root", root), ("--anchor intermediate", inter)):
        print(f"{name}: {r['chosen']}; removed {', '.join(r['removed']) or 'nothing'}; "
              f"MBEDTLS_MPI_MAX_SIZE {r['values'].get('MBEDTLS_MPI_MAX_SIZE', '-')}; "
              f"heap floor {r.get('heap_floor_bytes')}")
    print(f"fits in {work}")
    if args.json:
        Path(args.json).write_text(json.dumps({"root": root, "anchor": inter}, indent=1) + "\n")


if __name__ == "__main__":
    main()
