#!/usr/bin/env python3
"""Regenerates the fuzz seed corpora, tests/fuzz/corpus/<target>/, from real handshakes.

    /usr/bin/python3 tests/fuzz/make_seeds.py [--out DIR]

Each scenario starts `openssl s_server` on 127.0.0.1 with a fresh test PKI
(tlsfit.lab.refservers: an ECDSA P-256 chain and an RSA-2048 chain, the
server sending leaf + intermediate), connects `openssl s_client -msg`
through a small relay on 127.0.0.1, and keeps two views of the same
connection:

  - the raw bytes the server sent (the relay), for the record layer and the
    whole-connection targets;
  - every handshake message the server sent, decrypted where TLS 1.3
    encrypts it (s_client -msg prints them in hex), for the message parsers.

Each target's seeds are then written in the input format its harness
documents (tests/fuzz/fuzz_<target>.c).  The PKI is new on every run (fresh
keys, serials and dates), so the files change each time: regenerate only
when a parser gains a feature the seeds do not reach.  Seeds are capped in
size so the committed corpora stay a few KB per target.
"""
import argparse
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tool"))

from tlsfit.lab import refservers  # noqa: E402

LOCALHOST = "127.0.0.1"
MAX_SEED = 4096          # bytes per seed file (the fuzzers' default -max_len)

# name -> (chain, server args, client args, version slot of the answer)
SCENARIOS = {
    "ec13": ("ec", ["-verify", "1"], ["-tls1_3"], 3),
    "ec13hrr": ("ec", ["-groups", "P-256"], ["-tls1_3", "-groups", "X25519:P-256"], 3),
    "ec12": ("ec", ["-verify", "1"], ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"], 2),
    "rsa12dhe": ("rsa", [], ["-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256"], 2),
    "rsa13": ("rsa", [], ["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"], 3),
}

# tool/probe/tables.h tf_kx values used by the kx seeds
KX = {"ECDHE-ECDSA": 6, "DHE-RSA": 1}
SUITE_INDEX = {0x1301: 0, 0x1302: 1, 0x1303: 2, 0x1304: 3, 0x1305: 4}   # fuzz_tls13.c


class Relay(threading.Thread):
    """Accepts one connection on 127.0.0.1, forwards it to the server, records its bytes."""

    def __init__(self, upstream_port):
        super().__init__(daemon=True)
        self.upstream_port = upstream_port
        self.listener = socket.socket()
        self.listener.bind((LOCALHOST, 0))
        self.listener.listen(1)
        self.listener.settimeout(20)
        self.port = self.listener.getsockname()[1]
        self.from_server = bytearray()

    def run(self):
        import selectors
        try:
            client, _ = self.listener.accept()
        except OSError:
            return
        server = socket.create_connection((LOCALHOST, self.upstream_port), timeout=20)
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ, server)
        sel.register(server, selectors.EVENT_READ, client)
        open_ends = 2
        while open_ends:
            events = sel.select(timeout=20)
            if not events:
                break
            for key, _ in events:
                data = key.fileobj.recv(65536)
                if not data:
                    sel.unregister(key.fileobj)
                    open_ends -= 1
                    continue
                if key.fileobj is server:
                    self.from_server += data
                key.data.sendall(data)
        client.close()
        server.close()
        self.listener.close()


_HEADER = re.compile(r"^<<< TLS [\d.]+, Handshake \[length ([0-9a-f]+)\], (\w+)")


def server_messages(msg_output):
    """(name, bytes) of each handshake message the server sent, from s_client -msg."""
    out, current = [], None
    for line in msg_output.splitlines():
        m = _HEADER.match(line)
        if m:
            current = [m.group(2), bytearray()]
            out.append(current)
        elif line.startswith("    ") and current is not None:
            current[1] += bytes.fromhex(line.strip())
        else:
            current = None
    return [(name, bytes(b)) for name, b in out]


def capture(chain, server_args, client_args, log_dir):
    with refservers.openssl_server(chain, *server_args, log_dir=log_dir) as srv:
        relay = Relay(srv.port)
        relay.start()
        proc = subprocess.run(["openssl", "s_client", "-connect", f"{LOCALHOST}:{relay.port}",
                               "-servername", "localhost", "-msg", *client_args],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
        relay.join(timeout=30)
    msgs = server_messages(proc.stdout)
    if not any(name == "ServerHello" for name, _ in msgs):
        raise SystemExit(f"make_seeds: no ServerHello captured for {client_args}:\n{proc.stdout[-2000:]}")
    return bytes(relay.from_server), msgs


def certificates(msg, tls13):
    """DER certificates of a Certificate message (header included)."""
    body = msg[4:]
    pos = 0
    if tls13:
        pos = 1 + body[0]
    total = int.from_bytes(body[pos:pos + 3], "big")
    pos += 3
    end = pos + total
    ders = []
    while pos < end:
        n = int.from_bytes(body[pos:pos + 3], "big")
        ders.append(body[pos + 3:pos + 3 + n])
        pos += 3 + n
        if tls13:
            pos += 2 + int.from_bytes(body[pos:pos + 2], "big")
    return ders


def suite_of(server_hello):
    sid_len = server_hello[4 + 34]
    return int.from_bytes(server_hello[4 + 35 + sid_len:4 + 37 + sid_len], "big")


def tls13_records(suite, msgs):
    """fuzz_tls13.c input: the suite, then each message as a handshake record, and one alert."""
    out = bytearray([SUITE_INDEX.get(suite, 0)])
    for m in msgs:
        out += bytes([22, 0]) + struct.pack(">H", len(m)) + m
    out += bytes([21, 3]) + struct.pack(">H", 2) + bytes([1, 0])     # close_notify, 3 bytes padding
    return bytes(out)


def profile_seed(cert_msg, certreq_msg, suite, slot):
    """fuzz_profile.c fill() input for a profile holding one version's facts and the chain."""
    def s(text, cap):
        b = text.encode()[:cap - 1]
        return bytes([len(b)]) + b
    out = bytearray(s("localhost", 256) + s("localhost", 256) + struct.pack(">HH", 4433, 9))
    out.append(1 << slot)
    out += bytes([1]) + struct.pack(">H", suite)                        # suites
    out += bytes([2]) + struct.pack(">HH", 0x001d, 0x0017)              # groups
    out += bytes([2]) + struct.pack(">HH", 0x0403, 0x0804)              # signature schemes
    out += bytes([2]) + struct.pack(">H", 0x001d) + bytes([0, 1]) + struct.pack(">HH", 0x001d, 0)
    out += bytes([slot + 1]) + struct.pack(">H", len(cert_msg)) + cert_msg
    out += bytes([slot]) + struct.pack(">H", len(certreq_msg)) + certreq_msg
    out += bytes([1 if certreq_msg else 0]) + struct.pack(">HHH", 1400, 1380, len(cert_msg))
    out += bytes([0b00110101]) + struct.pack(">H", 0) + bytes([0]) + s("", 64)
    steps = [("versions", 1, 0, ""), ("flight." + ("TLSv1.3" if slot == 3 else "TLSv1.2"), 0, 12,
                                                  "no answer within 5000 ms (waiting for a record)")]
    out.append(len(steps))
    for name, ok, code, reason in steps:
        out += s(name, 32) + bytes([ok, code]) + s(reason, 256)
    out += struct.pack(">H", 1234) + s("2026-12-01T12:00:00Z", 32)
    return bytes(out)


def seeds_for(name, slot, raw, msgs, chain):
    """{target: {file name: bytes}} for one captured connection."""
    tls13 = slot == 3
    by = {}
    for mname, m in msgs:
        by.setdefault(mname, []).append(m)
    seeds = {t: {} for t in ("record", "session", "server_hello", "certificate", "x509", "kx",
                             "tls13", "profile", "pem")}
    seeds["record"][name] = raw
    until = 2 if "Certificate" in by else 0
    seeds["session"][name] = bytes([slot | (until << 2)]) + raw
    for i, m in enumerate(by.get("ServerHello", [])):
        seeds["server_hello"][f"{name}-sh{i}"] = m
    for m in by.get("EncryptedExtensions", []):
        seeds["server_hello"][f"{name}-ee"] = m
    cert = by.get("Certificate", [b""])[0]
    certreq = by.get("CertificateRequest", [b""])[0]
    if cert:
        seeds["certificate"][name] = bytes([1 if tls13 else 0]) + cert
        for i, der in enumerate(certificates(cert, tls13)):
            seeds["x509"][f"{chain}-{i}"] = der
    for m in by.get("ServerKeyExchange", []):
        kx = "ECDHE-ECDSA" if chain == "ec" else "DHE-RSA"
        seeds["kx"][f"{name}-ske"] = bytes([0 | (slot << 2), KX[kx]]) + m
    if certreq:
        seeds["kx"][f"{name}-certreq"] = bytes([1 | (slot << 2) | (16 if tls13 else 0), 0]) + certreq
    for m in by.get("CertificateVerify", []):
        seeds["kx"][f"{name}-cv"] = bytes([2 | (slot << 2), 0]) + m
    if tls13 and cert:
        flight = [m for mname, m in msgs if mname in
                  ("EncryptedExtensions", "CertificateRequest", "Certificate", "CertificateVerify", "Finished")]
        seeds["tls13"][name] = tls13_records(suite_of(by["ServerHello"][-1]), flight)
    if cert:
        seeds["profile"][name] = profile_seed(cert, certreq, suite_of(by["ServerHello"][-1]), slot)
    return seeds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "corpus", help="corpus root (default: %(default)s)")
    args = ap.parse_args()
    if not shutil.which("openssl"):
        raise SystemExit("make_seeds: openssl is not installed (run ./tlsfit setup)")
    with tempfile.TemporaryDirectory(prefix="tlsfit-seeds-") as tmp:
        tmp = Path(tmp)
        chains = {"ec": refservers.make_chain(tmp, "ec", root="ec:P-256", inter="ec:P-256", leaf="ec:P-256",
                                              label="fuzz"),
                  "rsa": refservers.make_chain(tmp, "rsa", label="fuzz")}
        all_seeds = {}
        for name, (chain, sargs, cargs, slot) in SCENARIOS.items():
            raw, msgs = capture(chains[chain], sargs, cargs, tmp / "logs")
            for target, files in seeds_for(name, slot, raw, msgs, chain).items():
                all_seeds.setdefault(target, {}).update(files)
        all_seeds["pem"]["ec-fullchain"] = chains["ec"].fullchain.read_bytes()
        all_seeds["pem"]["ec-root"] = chains["ec"].root.pem.read_bytes()
        for target, files in sorted(all_seeds.items()):
            d = args.out / target
            if d.exists():
                shutil.rmtree(d)
            d.mkdir(parents=True)
            for fname, data in sorted(files.items()):
                (d / fname).write_bytes(data[:MAX_SEED])
            size = sum(len(v[:MAX_SEED]) for v in files.values())
            print(f"{target}: {len(files)} seeds, {size} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
