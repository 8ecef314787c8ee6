#!/usr/bin/python3
"""DTLS on a Cortex-M4: fitted headers beside mbedTLS's DTLS-PSK preset and its default
configuration, all measured in one run over the firmware's datagram relay (QEMU,
tool/firmware/dgram.h) against real servers on 127.0.0.1.

Servers (Debian packages): libcoap's coap-server-openssl with DTLS-PSK (the CoAP
proof: GET /.well-known/core -> 2.05 Content), and mbedTLS's ssl_server2 dtls=1 with an
ECDSA P-256 chain (DTLS ECDHE-ECDSA, cookie exchange on).  Rows:

  coap PSK fit     `tlsfit fit --dtls` of coap-server with the key (default policy:
                   forward secrecy first, so ECDHE-PSK when the server offers it)
  coap PSK-CCM-8   the same server fitted to the one suite mbedTLS's preset is about
                   (`--profile` of `openssl s_server -dtls1_2 -psk -cipher PSK-AES128-CCM8`,
                   which only offers that suite; every header measured against coap-server)
  ECDHE-ECDSA fit  `tlsfit fit --dtls` of ssl_server2 dtls=1
  preset           mbedTLS's configs/config-ccm-psk-dtls1_2.h (3.6 tree), `tlsfit measure
                   --dtls` against coap-server, with the firmware's required additions
                   (PRESET_ADDITIONS below, stated in the output)
  default          mbedTLS's default configuration: each fit's baseline, measured in its run

Columns: flash (whole image, mbedTLS's share), static RAM, peak heap, stack, handshake
instructions, round trips to the server's Finished (cookie exchange included).

Not a test: it prints figures and is not run by CI.

    bench/dtls_bench.py [--json FILE]
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

from tlsfit.host.verify import ssl_server2_path  # noqa: E402
from tlsfit.lab import refservers, udpservers  # noqa: E402
from tlsfit.mbedtls.tree import resolve_tree  # noqa: E402

IDENTITY = "coap-node-1"
KEY = b"bench-dtls-psk!!"       # 16 bytes (the preset's MBEDTLS_PSK_MAX_LEN); printable for coap-server
FIGURES = ("rom_bytes", "rom_tls_bytes", "ram_static_bytes", "heap_peak_bytes",
           "stack_peak_bytes", "handshake_instructions")
HEADS = ("ROM", "mbedTLS ROM", "static RAM", "heap", "stack", "instructions", "RTT")
PRESET = "configs/config-ccm-psk-dtls1_2.h"
LIMIT = 7200                    # s each server may run: the whole bench (three fits) is longer than their default
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
        sys.exit(f"tlsfit {args[0]} failed (exit {p.returncode}): "
                 f"{p.stderr.strip().splitlines()[-1:]}")
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tlsfit-dtls-bench-"))
    env = dict(os.environ, TLSFIT_STATE_DIR=str(work / "state"))
    key_file = work / "node.key"
    key_file.write_bytes(KEY)
    psk = ("--psk-identity", IDENTITY, "--psk-key-file", key_file)
    chain = refservers.make_chain(work / "pki", "ec", "ec:P-256", "ec:P-256", "ec:P-256",
                                  label="DTLS bench")
    header, tree = preset_header(work)
    rows = {}
    with udpservers.coap_psk_server(KEY, log_dir=work, limit=LIMIT) as coap, \
            udpservers.openssl_dtls_psk_server(IDENTITY, KEY, "-cipher", "PSK-AES128-CCM8",
                                               log_dir=work, limit=LIMIT) as ccm8, \
            udpservers.mbedtls_dtls_server(ssl_server2_path(), chain, log_dir=work,
                                           limit=LIMIT) as ecdsa:
        ccm8_profile = work / "ccm8.json"
        ccm8_profile.write_text(tlsfit(["probe", "--dtls", "--timeout", "2", ccm8.hostport,
                                        *psk, "--json"], env))
        rows["coap PSK fit"] = fit(coap.hostport, work / "fit-coap", env, *psk,
                                   "--proof", "coap")
        rows["coap PSK-CCM-8 fit"] = fit(coap.hostport, work / "fit-ccm8", env, *psk,
                                         "--proof", "coap", "--profile", ccm8_profile)
        rows["ECDHE-ECDSA fit"] = fit(ecdsa.hostport, work / "fit-ecdsa", env, "--sni",
                                      "localhost", "--ca", chain.root.pem, "--jobs", "1")
        preset = measure(header, coap.hostport, env, *psk, "--proof", "coap")
    rtt = lambda r: (r.get("dtls") or r.get("wire") or {}).get("round_trips")  # noqa: E731
    print(f"DTLS 1.2 on cortex-m4 (mbedTLS {tree.version}), objective rom; every row "
          "measured in this run over the datagram relay")
    print(f"{'':<28}" + "".join(f"{h:>13}" for h in HEADS[:-1]) + f"{HEADS[-1]:>6}")
    for name, r in rows.items():
        hs = r["handshake"]
        print(f"{name:<28}{cells(r, rtt(r))}   {hs['ciphersuite']} {hs['group'] or ''}")
        b = r["baseline"]
        print(f"{'  mbedTLS default':<28}{cells(b, rtt(b))}   {b['handshake']['ciphersuite']}")
    phs = preset["handshake"]
    print(f"{'preset ' + Path(PRESET).name:<28}{cells(preset, rtt(preset))}   "
          f"{phs['ciphersuite']} (ok: {phs['ok']})")
    print("preset additions for the firmware: " + "; ".join(f"{a} ({why})"
                                                          for a, why in PRESET_ADDITIONS))
    for name in ("coap PSK fit", "coap PSK-CCM-8 fit"):
        r = rows[name]
        diff = r["rom_tls_bytes"] - preset["rom_tls_bytes"]
        print(f"{name} vs preset: mbedTLS flash {diff:+,} B, heap "
              f"{r['heap_peak_bytes'] - preset['heap_peak_bytes']:+,} B, instructions "
              f"{r['handshake_instructions'] - preset['handshake_instructions']:+,}")
    print("preset's largest modules: " + ", ".join(f"{m['name']} {m['rom_bytes']}"
                                                   for m in preset["modules"][:8]))
    if args.json:
        Path(args.json).write_text(json.dumps({"fits": rows, "preset": preset,
                                               "preset_additions": PRESET_ADDITIONS},
                                              indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
