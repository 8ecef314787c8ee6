#!/usr/bin/python3
"""Real server software, configured as IoT back-ends are: probe -> gen -> verify (-> fit).

Stands up each server from Debian's packages on 127.0.0.1 (tlsfit.lab.daemons: lighttpd
with OpenSSL and with mbedTLS, HAProxy, Apache httpd, stunnel4; each with an ECDSA
chain P-384 root -> P-256 and an RSA-2048 chain) and runs the whole chain as a user
would, through ./tlsfit:

    tlsfit probe HOST:PORT --sni localhost --ca ROOT --json
    tlsfit gen PROFILE -o tls_config.h
    tlsfit verify --config tls_config.h HOST:PORT --sni localhost --ca ROOT
    tlsfit fit HOST:PORT ... --target cortex-m4 --objective rom      (with --fit)

and prints one row per server and chain: what the server negotiated with gen's header,
the verify verdict (exit code and first line), and with --fit the fitted ROM and peak
heap beside mbedTLS's default measured in the same run.  Every server either gets a
header its verify proves, or a refusal naming the cause; anything else is a finding.

Not a test: it prints figures and is not run by CI.  bench/setup.sh installs the
servers.

    bench/setup.sh && bench/real_servers.py [--only NAME] [--fit] [--json FILE]
"""
import argparse
import contextlib
import functools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))

from tlsfit.core.errors import TlsfitError  # noqa: E402
from tlsfit.lab import daemons, refservers  # noqa: E402

TLSFIT = str(REPO / "tlsfit")


@contextlib.contextmanager
def plain_backend():
    """A TCP listener on 127.0.0.1 that accepts and holds connections (stunnel's
    back-end: a session that is accepted and then quiet)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((refservers.LOCALHOST, 0))
    s.listen(8)
    s.settimeout(0.5)
    stop = threading.Event()
    held = []

    def serve():
        while not stop.is_set():
            try:
                held.append(s.accept()[0])
            except OSError:
                continue
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield s.getsockname()[1]
    finally:
        stop.set()
        t.join(2)
        for c in held:
            c.close()
        s.close()


def servers(backend_port):
    """(name, factory(chain, log_dir)) of every server in the matrix."""
    return [
        ("lighttpd+openssl", daemons.lighttpd),
        ("lighttpd+mbedtls", functools.partial(daemons.lighttpd, tls="mbedtls")),
        ("haproxy", daemons.haproxy),
        ("apache2", daemons.apache),
        ("stunnel4", functools.partial(daemons.stunnel, connect=backend_port)),
    ]


def tlsfit(*args, env, timeout=1800):
    t0 = time.monotonic()
    p = subprocess.run([TLSFIT, *map(str, args)], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, env=env, timeout=timeout, cwd=REPO)
    return p, time.monotonic() - t0


def first_line(text):
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[0][:160] if lines else ""


def one(name, make, chain, work, env, fit):
    row = {"server": name, "chain": chain.name}
    with make(chain, log_dir=work / "logs") as srv:
        row["proof"] = srv.proof
        ca = str(chain.root.pem)
        p, _ = tlsfit("probe", srv.hostport, "--sni", "localhost", "--ca", ca, "--json", env=env)
        row["probe_exit"] = p.returncode
        if p.returncode != 0:
            row["verdict"] = f"probe failed: {first_line(p.stderr)}"
            return row
        prof = json.loads(p.stdout)
        row["versions"] = prof["versions"]
        path = work / f"{name}-{chain.name}.json"
        path.write_text(p.stdout)
        header = work / f"{name}-{chain.name}.h"
        g, _ = tlsfit("gen", path, "-o", header, env=env)
        row["gen_exit"] = g.returncode
        if g.returncode != 0:
            row["verdict"] = f"refused: {first_line(g.stderr)}"
            return row
        v, _ = tlsfit("verify", "--config", header, srv.hostport, "--sni", "localhost",
                      "--ca", ca, "--json", env=env)
        row["verify_exit"] = v.returncode
        res = json.loads(v.stdout) if v.stdout.strip() else {}
        row["negotiated"] = " ".join(str(res.get(k)) for k in ("version", "ciphersuite", "group")
                                     if res.get(k))
        row["verdict"] = "verified" if v.returncode == 0 else \
            f"verify failed: {res.get('error')} {res.get('message') or first_line(v.stderr)}"
        if fit and v.returncode == 0:
            f, took = tlsfit("fit", srv.hostport, "--sni", "localhost", "--ca", ca, "--target",
                             "cortex-m4", "--objective", "rom", "--out", work / f"fit-{name}-"
                             f"{chain.name}", "--json", env=env)
            row["fit_exit"], row["fit_s"] = f.returncode, round(took, 1)
            if f.returncode == 0:
                r = json.loads(f.stdout)
                row.update(fit_rom=r["rom_bytes"], fit_heap=r["heap_peak_bytes"],
                           default_rom=(r.get("baseline") or {}).get("rom_bytes"),
                           default_heap=(r.get("baseline") or {}).get("heap_peak_bytes"),
                           fit_chosen=r["chosen"])
            else:
                row["verdict"] += f"; fit failed: {first_line(f.stderr)}"
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="run the servers whose name contains this")
    ap.add_argument("--fit", action="store_true", help="also fit each verified server")
    ap.add_argument("--json", metavar="FILE", help="write the rows as JSON")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tlsfit-real-"))
    env = dict(os.environ, TLSFIT_STATE_DIR=str(work / "state"))
    pki = refservers.standard_pki(work / "pki")
    print("servers: " + "; ".join(f"{k}: {v}" for k, v in daemons.versions().items()),
          file=sys.stderr)
    rows = []
    with plain_backend() as backend:
        for name, make in servers(backend):
            if args.only and args.only not in name:
                continue
            for chain in (pki.ec, pki.rsa):
                try:
                    row = one(name, make, chain, work, env, args.fit)
                except TlsfitError as e:
                    row = {"server": name, "chain": chain.name, "verdict": f"not run: {e}"}
                rows.append(row)
                print(f"{name:<18} {chain.name:<4} {row.get('negotiated', ''):<60} "
                      f"{row['verdict']}", flush=True)
    if args.fit:
        print(f"\n{'server':<18} {'chain':<5} {'fit ROM':>9} {'default':>9} {'ratio':>6} "
              f"{'fit heap':>9} {'default':>9} {'ratio':>6}")
        for r in rows:
            if "fit_rom" in r and r.get("default_rom"):
                print(f"{r['server']:<18} {r['chain']:<5} {r['fit_rom']:>9} {r['default_rom']:>9} "
                      f"{r['fit_rom'] / r['default_rom']:6.3f} {r['fit_heap']:>9} "
                      f"{r['default_heap'] or '-':>9} "
                      f"{(r['fit_heap'] / r['default_heap']) if r.get('default_heap') else 0:6.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    print(f"work directory: {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
