#!/usr/bin/python3
"""What resuming a session saves on the device: full vs resumed handshake on
cortex-m4, for each way of resuming, against three server programs on 127.0.0.1.

Servers (ECDSA chain, P-384 root -> P-256 leaf; lab/refservers.py): openssl s_server
(its defaults: a session cache and tickets), nginx (ssl_session_cache shared, tickets
on) and mosquitto (its defaults; proof: an MQTT CONNECT).  Modes, each one header
(the measure test fixtures' ECDHE-ECDSA AES-128-GCM P-256 headers plus what the mode
needs, as gen --resume adds it):

    tls12-session-id  TLS 1.2, no MBEDTLS_SSL_SESSION_TICKETS: the client offers no
                      ticket extension, so the server can only resume by session ID
    tls12-ticket      TLS 1.2 with MBEDTLS_SSL_SESSION_TICKETS
    tls13-ticket      TLS 1.3 with tickets and the PSK-with-(EC)DHE key exchange

Each cell is one `tlsfit measure --resume`: the full handshake and its proof, then a
second connection resuming the session and its proof.  Printed: handshake
instructions, peak heap, bytes sent and received, full -> resumed.  A server that does
not resume in a mode shows why (exit 55: it ran a full handshake again).

Not a test: it prints figures and is not run by CI (~1 minute with warm caches).

    bench/resume_bench.py [--json FILE]
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

FIXTURES = REPO / "tests" / "fixtures" / "measure"
# mode -> (the fixture header, what the mode adds to it)
MODES = {
    "tls12-session-id": ("tls12_ecdhe_ecdsa.h", ()),
    "tls12-ticket": ("tls12_ecdhe_ecdsa.h", ("MBEDTLS_SSL_SESSION_TICKETS",)),
    "tls13-ticket": ("tls13_ecdhe_ecdsa.h", (
        "MBEDTLS_SSL_SESSION_TICKETS",
        "MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED")),
}
NGINX_TLS = "ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:tlsfit:1m; " \
            "ssl_session_tickets on;"
FIGURES = ("handshake_instructions", "heap_peak_bytes", "bytes_sent", "bytes_received")
HEADS = ("instructions", "heap peak", "bytes sent", "bytes received")


def header(mode, d):
    """The mode's header: the fixture plus its options and TLSFIT_RESUME."""
    name, options = MODES[mode]
    text = (FIXTURES / name).read_text().rstrip()
    assert text.endswith("#endif"), name
    extra = "".join(f"#define {o}\n" for o in options)
    extra += f'#define TLSFIT_RESUME 1\n#define TLSFIT_RESUME_MODE "{mode}"\n'
    path = d / f"{mode}.h"
    path.write_text(text[:-len("#endif")] + extra + "#endif\n")
    return path


def measure(config, srv, ca, proof, env):
    """`tlsfit measure --resume --json`: (exit status, report or None)."""
    args = [str(REPO / "tlsfit"), "measure", "--config", str(config), "--target", "cortex-m4",
            "--server", srv.hostport, "--sni", "localhost", "--ca", str(ca), "--proof", proof,
            "--resume", "--json"]
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       env=env, timeout=600, cwd=REPO)
    try:
        return p.returncode, json.loads(p.stdout)
    except ValueError:
        return p.returncode, {"error": p.stderr.strip().splitlines()[-1:]}


def cell_text(rc, report):
    res = (report or {}).get("resumption") or {}
    full, resumed = res.get("full") or {}, res.get("resumed") or {}
    if rc != 0 or not res.get("accepted"):
        hs = (report or {}).get("handshake") or {}
        why = hs.get("error") or report.get("error")
        return [f"not resumed (exit {rc}: {why})"]
    return [f"{full[k]:,} -> {resumed[k]:,}" for k in FIGURES]


def run(work, env):
    pki = refservers.standard_pki(work / "pki")
    headers = {m: header(m, work) for m in MODES}
    rows = []
    servers = (
        ("openssl s_server", lambda: refservers.openssl_server(pki.ec, log_dir=work),
         "no-alert"),
        ("nginx", lambda: refservers.nginx_server(pki.ec, log_dir=work, tls=NGINX_TLS),
         "http"),
        ("mosquitto", lambda: refservers.mosquitto_server(pki.ec, log_dir=work), "mqtt"),
    )
    for name, start, proof in servers:
        with start() as srv:
            for mode, config in headers.items():
                rc, report = measure(config, srv, pki.ec.root.pem, proof, env)
                rows.append({"server": name, "mode": mode, "exit": rc,
                             "resumption": (report or {}).get("resumption"),
                             "cells": cell_text(rc, report)})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tlsfit-resume-"))
    env = dict(os.environ, TLSFIT_STATE_DIR=str(work / "state"))
    rows = run(work, env)
    print("cortex-m4, ECDSA P-256 chain, AES-128-GCM; full -> resumed handshake")
    print(f"| server | mode | {' | '.join(HEADS)} |")
    print("|---|---|" + "---:|" * len(HEADS))
    for r in rows:
        cells = r["cells"] + [""] * (len(HEADS) - len(r["cells"]))
        print(f"| {r['server']} | {r['mode']} | {' | '.join(cells)} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
