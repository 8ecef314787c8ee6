#!/usr/bin/python3
"""DTLS on a Cortex-M4: fitted headers beside mbedTLS's DTLS-PSK preset and its default
configuration, all measured in one run over the firmware's datagram relay (QEMU,
tool/firmware/dgram.h) against real servers on 127.0.0.1.

Servers (Debian packages): libcoap's coap-server-openssl with DTLS-PSK (the CoAP
proof: GET /.well-known/core -> 2.05 Content), and three servers with one ECDSA P-256
chain (DTLS ECDHE-ECDSA, cookie exchange on): mbedTLS's ssl_server2 dtls=1, OpenSSL's
s_server -dtls1_2 and GnuTLS's gnutls-serv --udp --echo.  Rows (`--rows` name):

  coap-psk     coap PSK fit     `tlsfit fit --dtls` of coap-server with the key (default
                                policy: forward secrecy first, so ECDHE-PSK when the
                                server offers it)
  coap-ccm8    coap PSK-CCM-8   the same server fitted to the one suite mbedTLS's preset is
                                about (`--profile` of `openssl s_server -dtls1_2 -psk
                                -cipher PSK-AES128-CCM8`, which only offers that suite;
                                every header measured against coap-server)
  ssl_server2  ECDHE-ECDSA fit  `tlsfit fit --dtls` of ssl_server2 dtls=1
  openssl      openssl fit      `tlsfit fit --dtls --profile` of s_server -dtls1_2 (its
                                default suites and groups): the probe of one s_server, the
                                fit against a second, same chain and arguments, that keeps
                                each session for the no-alert proof and is restarted after
                                it (row_openssl says why)
  gnutls       gnutls-serv fit  `tlsfit fit --dtls --profile` of gnutls-serv --udp with
                                certificates (its default DTLS 1.2 priority), echo proof
  preset       preset           mbedTLS's configs/config-ccm-psk-dtls1_2.h (3.6 tree),
                                `tlsfit measure --dtls` against coap-server, with the
                                firmware's required additions (PRESET_ADDITIONS below,
                                stated in the output)
  (every fit)  default          mbedTLS's default configuration: each fit's baseline,
                                measured in its run

Columns: flash (whole image, mbedTLS's share), static RAM, peak heap, stack, handshake
instructions, round trips to the server's Finished (cookie exchange included).

Not a test: it prints figures and is not run by CI.

    bench/dtls_bench.py [--rows A,B] [--json FILE]     (default: every row)
"""
import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))

from tlsfit.host.verify import ssl_server2_path  # noqa: E402
from tlsfit.lab import refservers, udpservers  # noqa: E402
from tlsfit.mbedtls.tree import resolve_tree  # noqa: E402

IDENTITY = "coap-node-1"
KEY = b"bench-dtls-psk!!"       # 16 bytes (the preset's MBEDTLS_PSK_MAX_LEN); printable for coap-server
FIGURES = ("rom_bytes", "rom_tls_bytes", "ram_static_bytes", "heap_peak_bytes",
           "stack_peak_bytes", "handshake_instructions")
HEADS = ("ROM", "mbedTLS ROM", "static RAM", "heap", "stack", "instructions", "RTT")
PRESET = "configs/config-ccm-psk-dtls1_2.h"
LIMIT = 7200                    # s each server may run: the whole bench (five fits) is longer than their default
# What the firmware needs beyond the preset, and why: the preset is a host example (its
# ssl_client2/ssl_server2 use the POSIX sockets and timer), and the measure firmware is
# built against the configuration header alone.
PRESET_ADDITIONS = (
    ("#undef MBEDTLS_NET_C", "net_sockets.c is POSIX sockets; the firmware's BIO is its UART"),
    ("#undef MBEDTLS_TIMING_C", "timing.c is POSIX/Windows; the firmware's timer is SysTick"),
    (f'#define TLSFIT_PSK_IDENTITY "{IDENTITY}"', "the identity the harness sets with "
                                                  "mbedtls_ssl_conf_psk (the key comes over "
                                                  "the UART)"),
)


def tlsfit(args, env):
    p = subprocess.run([str(REPO / "tlsfit"), *map(str, args)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, env=env, timeout=3600, cwd=REPO)
    if p.returncode != 0:
        tail = "\n  ".join(p.stderr.strip().splitlines()[-4:])
        sys.exit(f"tlsfit {args[0]} failed (exit {p.returncode}):\n  {tail}")
    return p.stdout


def fit(hostport, out, env, *extra):
    args = ["fit", "--dtls", hostport, "--target", "cortex-m4", "--objective", "rom",
            "--out", out, "--json", *extra]
    return json.loads(tlsfit(args, env))


def measure(header, hostport, env, *extra):
    args = ["measure", "--dtls", "--config", header, "--target", "cortex-m4", "--server",
            hostport, "--json", *extra]
    return json.loads(tlsfit(args, env))


def preset_header(work):
    tree = resolve_tree(line="3.6")
    path = work / "preset-dtls.h"
    lines = [f'#include "{tree.path / PRESET}"'] + [a for a, _ in PRESET_ADDITIONS]
    path.write_text("\n".join(lines) + "\n")
    return path, tree


def cells(r, rtt):
    return "".join(f"{r.get(k) or 0:>13,}" for k in FIGURES) + f"{rtt if rtt is not None else '?':>6}"


ROWS = {                        # --rows name: the row's label
    "coap-psk": "coap PSK fit",
    "coap-ccm8": "coap PSK-CCM-8 fit",
    "ssl_server2": "ECDHE-ECDSA fit",
    "openssl": "openssl ECDHE-ECDSA fit",
    "gnutls": "gnutls-serv cert fit",
    "preset": "preset",
}
ECHO = b"tlsfit-echo"           # gnutls-serv --udp --echo sends it back
ECHO_PROOF = f"send:{ECHO.hex()},expect:{ECHO.hex()}"


class Lab:
    """What the rows share: the work directory, the environment, the key and the chain,
    and the servers, each started the first time a row asks for it (so `--rows` starts
    only the ones its rows use) and stopped at the end of the run."""

    def __init__(self, stack, work, env):
        self.stack, self.work, self.env = stack, work, env
        self.key_file = work / "node.key"
        self.key_file.write_bytes(KEY)
        self.psk = ("--psk-identity", IDENTITY, "--psk-key-file", self.key_file)
        self.chain = refservers.make_chain(work / "pki", "ec", "ec:P-256", "ec:P-256",
                                           "ec:P-256", label="DTLS bench")
        self.servers = {}

    def server(self, name):
        if name not in self.servers:
            self.servers[name] = self.stack.enter_context(self._start(name))
        return self.servers[name]

    def _start(self, name):
        w, chain = self.work, self.chain
        if name == "coap":
            return udpservers.coap_psk_server(KEY, log_dir=w, limit=LIMIT)
        if name == "ccm8":
            return udpservers.openssl_dtls_psk_server(IDENTITY, KEY, "-cipher", "PSK-AES128-CCM8",
                                                      log_dir=w, limit=LIMIT)
        if name == "ssl_server2":
            return udpservers.mbedtls_dtls_server(ssl_server2_path(), chain, log_dir=w,
                                                  limit=LIMIT)
        if name == "openssl-probe":     # s_server as it is: ends each session after the handshake
            return udpservers.openssl_dtls_server(chain, log_dir=w, limit=LIMIT)
        if name == "openssl":           # the same, keeping each session, one per process
            return udpservers.openssl_dtls_sessions_server(chain, log_dir=w, limit=LIMIT)
        if name == "gnutls":
            return udpservers.gnutls_dtls_server(chain, log_dir=w, limit=LIMIT)
        raise ValueError(name)

    def probe(self, server, out, *extra):
        out.write_text(tlsfit(["probe", "--dtls", "--timeout", "2", self.server(server).hostport,
                               *extra, "--json"], self.env))
        return out


def row_coap_psk(lab):
    return fit(lab.server("coap").hostport, lab.work / "fit-coap", lab.env, *lab.psk,
               "--proof", "coap")


def row_coap_ccm8(lab):
    profile = lab.probe("ccm8", lab.work / "ccm8.json", *lab.psk)
    return fit(lab.server("coap").hostport, lab.work / "fit-ccm8", lab.env, *lab.psk,
               "--proof", "coap", "--profile", profile)


def row_ssl_server2(lab):
    return fit(lab.server("ssl_server2").hostport, lab.work / "fit-ecdsa", lab.env, "--sni",
               "localhost", "--ca", lab.chain.root.pem, "--jobs", "1")


def row_openssl(lab):
    """s_server -dtls1_2 as it is ends each session right after the handshake (the
    no-alert proof fails), and with its sessions kept it answers no one after the first
    (lab/udpservers.py): the probe is of s_server as it is, the fit (--profile of that
    probe) against s_server with the same chain and arguments restarted after each
    session (udpservers.openssl_dtls_sessions_server)."""
    profile = lab.probe("openssl-probe", lab.work / "openssl.json", "--sni", "localhost",
                        "--ca", lab.chain.root.pem)
    return fit(lab.server("openssl").hostport, lab.work / "fit-openssl", lab.env, "--sni",
               "localhost", "--ca", lab.chain.root.pem, "--profile", profile, "--jobs", "2")


def row_gnutls(lab):
    """gnutls-serv --udp --echo with certificates only, its default DTLS 1.2 priority
    (udpservers.GNUTLS_DTLS_PRIORITY); the echo proof, as tests/test_dtls_gnutls.py."""
    profile = lab.probe("gnutls", lab.work / "gnutls.json", "--ca", lab.chain.root.pem)
    return fit(lab.server("gnutls").hostport, lab.work / "fit-gnutls", lab.env, "--ca",
               lab.chain.root.pem, "--profile", profile, "--proof", ECHO_PROOF, "--jobs", "2")


def row_preset(lab):
    header, _ = preset_header(lab.work)
    return measure(header, lab.server("coap").hostport, lab.env, *lab.psk, "--proof", "coap")


ROW_RUNS = {"coap-psk": row_coap_psk, "coap-ccm8": row_coap_ccm8,
            "ssl_server2": row_ssl_server2, "openssl": row_openssl, "gnutls": row_gnutls,
            "preset": row_preset}


def row_names(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in ROWS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown row(s) {', '.join(bad) or '(none)'}; "
                                         f"choose from {','.join(ROWS)}")
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--rows", type=row_names, default=list(ROWS), metavar="A,B",
                    help=f"run only these rows (default all: {','.join(ROWS)})")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tlsfit-dtls-bench-"))
    env = dict(os.environ, TLSFIT_STATE_DIR=str(work / "state"))
    tree = resolve_tree(line="3.6")
    rows, preset = {}, None
    with contextlib.ExitStack() as stack:
        lab = Lab(stack, work, env)
        for name in ROWS:
            if name not in args.rows:
                continue
            if name == "preset":
                preset = row_preset(lab)
            else:
                rows[ROWS[name]] = ROW_RUNS[name](lab)
    print_rows(rows, preset, tree)
    if args.json:
        Path(args.json).write_text(json.dumps({"fits": rows, "preset": preset,
                                               "preset_additions": PRESET_ADDITIONS},
                                              indent=2, default=str) + "\n")


def print_rows(rows, preset, tree):
    rtt = lambda r: (r.get("dtls") or r.get("wire") or {}).get("round_trips")  # noqa: E731
    print(f"DTLS 1.2 on cortex-m4 (mbedTLS {tree.version}), objective rom; every row "
          "measured in this run over the datagram relay")
    print(f"{'':<28}" + "".join(f"{h:>13}" for h in HEADS[:-1]) + f"{HEADS[-1]:>6}")
    for name, r in rows.items():
        hs = r["handshake"]
        print(f"{name:<28}{cells(r, rtt(r))}   {hs['ciphersuite']} {hs['group'] or ''}")
        b = r["baseline"]
        print(f"{'  mbedTLS default':<28}{cells(b, rtt(b))}   {b['handshake']['ciphersuite']}")
    if preset is None:
        return
    phs = preset["handshake"]
    print(f"{'preset ' + Path(PRESET).name:<28}{cells(preset, rtt(preset))}   "
          f"{phs['ciphersuite']} (ok: {phs['ok']})")
    print("preset additions for the firmware: " + "; ".join(f"{a} ({why})"
                                                          for a, why in PRESET_ADDITIONS))
    for name in ("coap PSK fit", "coap PSK-CCM-8 fit"):
        r = rows.get(name)
        if r is None:
            continue
        diff = r["rom_tls_bytes"] - preset["rom_tls_bytes"]
        print(f"{name} vs preset: mbedTLS flash {diff:+,} B, heap "
              f"{r['heap_peak_bytes'] - preset['heap_peak_bytes']:+,} B, instructions "
              f"{r['handshake_instructions'] - preset['handshake_instructions']:+,}")
    print("preset's largest modules: " + ", ".join(f"{m['name']} {m['rom_bytes']}"
                                                   for m in preset["modules"][:8]))

if __name__ == "__main__":
    main()
