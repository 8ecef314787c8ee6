#!/usr/bin/python3
"""Where mbedTLS 4.0's built-in ECC spends more instructions than 3.6's: one TLS 1.3
handshake of the host verify client under callgrind, per line, per function.

Against one local `openssl s_server -tls1_3 -groups P-256` with an all-P-256 chain,
gen writes a `--ecc builtin --external-rng` configuration for 3.6 and for 4.0 (the same
ECP knobs on both: window 2, no fixed-point tables), `tlsfit verify`'s client is built
for each, and one handshake of each runs under `valgrind --tool=callgrind`.  Printed:
the instructions of the whole run on each line, then the functions whose own
(exclusive) instructions differ most, with their call counts -- the host's x86-64
figures, not the target's, but the same C code and knobs.

    bench/ecc_instructions4.py [--top N]

Not a test: it prints figures and is not run by CI.  Needs valgrind and the 4.0 tree
(`./tlsfit setup --mbedtls-archive ...`); Debian's /usr/bin/python3.
"""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))

from tlsfit.host import verify  # noqa: E402
from tlsfit.lab import refservers  # noqa: E402

LINES = ("3.6", "4.0")
_ROW = re.compile(r"^\s*([\d,]+) \([^)]*\)\s+\S*:(\S+) ")
_CALLS = re.compile(r"^\s*([\d,]+) \([^)]*\)\s+< \S*:(\S+) \(([\d,]+)x\)")


def _int(text):
    return int(text.replace(",", ""))


def self_costs(out):
    """{function: exclusive Ir} and the program's total, from callgrind_annotate."""
    text = subprocess.run(["callgrind_annotate", "--threshold=100", str(out)],
                          capture_output=True, text=True, check=True).stdout
    total = _int(re.search(r"([\d,]+) \([^)]*\)\s+PROGRAM TOTALS", text).group(1))
    costs = {}
    for line in text.splitlines():
        m = _ROW.match(line)
        if m:
            costs[m.group(2)] = costs.get(m.group(2), 0) + _int(m.group(1))
    return total, costs


def call_counts(out, names):
    """{function: calls} for the named functions (the sum over their callers)."""
    text = subprocess.run(["callgrind_annotate", "--tree=caller", "--threshold=100", str(out)],
                          capture_output=True, text=True, check=True).stdout
    counts, pending = {}, []
    for line in text.splitlines():
        m = _CALLS.match(line)
        if m:
            pending.append(_int(m.group(3)))
            continue
        m = _ROW.match(line.replace("*  ", "   ", 1)) if "*  " in line else None
        if m and m.group(2) in names:
            counts[m.group(2)] = sum(pending)
        if not line.strip() or m:
            pending = []
    return counts


def run(work):
    chain = refservers.make_chain(work / "pki", "p256", "ec:P-256", "ec:P-256", "ec:P-256")
    outs = {}
    with refservers.openssl_server(chain, "-tls1_3", "-groups", "P-256",
                                   log_dir=work / "logs") as srv:
        probe = subprocess.run([str(REPO / "tlsfit"), "probe", f"127.0.0.1:{srv.port}",
                                "--sni", "localhost", "--ca", str(chain.root.pem), "--json"],
                               check=True, capture_output=True, text=True)
        profile = work / "profile.json"
        profile.write_text(probe.stdout)
        for line in LINES:
            cfg = work / line / "tls_config.h"
            cfg.parent.mkdir()
            subprocess.run([str(REPO / "tlsfit"), "gen", str(profile), "--mbedtls", line,
                            "--ecc", "builtin", "--external-rng", "-o", str(cfg)],
                           check=True, capture_output=True)
            client = verify.ensure_client(cfg, line=line, announce=False)
            argv = verify.client_argv(client, "127.0.0.1", srv.port, "localhost",
                                      chain.root.pem, 60)
            outs[line] = work / line / "callgrind.out"
            proc = subprocess.run(["valgrind", "--tool=callgrind",
                                   f"--callgrind-out-file={outs[line]}", *argv],
                                  capture_output=True, text=True)
            if proc.returncode != 0 or '"ok": true' not in proc.stdout:
                raise SystemExit(f"mbedTLS {line}: the handshake failed: {proc.stdout[-500:]}")
    return outs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--top", type=int, default=6, help="functions to list (default 6)")
    args = ap.parse_args()
    if not shutil.which("valgrind"):
        print("bench/ecc_instructions4.py: valgrind is not installed (apt-get install valgrind)",
              file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="tlsfit-ecc4-"))
    try:
        outs = run(work)
        figs = {line: self_costs(outs[line]) for line in LINES}
        (t36, c36), (t40, c40) = figs["3.6"], figs["4.0"]
        names = sorted(set(c36) | set(c40), key=lambda n: -abs(c40.get(n, 0) - c36.get(n, 0)))
        top = names[:args.top]
        calls = {line: call_counts(outs[line], set(top)) for line in LINES}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("one TLS 1.3 handshake, built-in ECC (P-256), host verify client under callgrind")
    print(f"instructions: 3.6 {t36:,}  4.0 {t40:,}  ({(t40 - t36) / t36:+.1%}, {t40 - t36:+,})")
    print(f"{'function (own instructions)':<34} {'3.6':>13} {'4.0':>13} {'change':>13}"
          f" {'calls 3.6 / 4.0':>18}")
    for n in top:
        a, b = c36.get(n, 0), c40.get(n, 0)
        ca, cb = calls["3.6"].get(n, "-"), calls["4.0"].get(n, "-")
        print(f"{n:<34} {a:>13,} {b:>13,} {b - a:>+13,} {f'{ca} / {cb}':>18}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
