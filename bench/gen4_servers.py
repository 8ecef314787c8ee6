#!/usr/bin/python3
"""gen's mbedTLS 4.0 pair against EVERY fixture server: proven on the host or refused.

The suite's tests/test_gen4_servers.py runs a representative set of test_gen.py's
servers (its SUITE); this runs the same test over the whole matrix (CASES4: every
3.6 server of test_gen.CASES, plus a DHE-RSA-only one) and prints one line per server:

  proven    `tlsfit gen --mbedtls 4.0` wrote the pair and `tlsfit verify` with the
            4.0.0 tree completed a verified handshake with that very server (version,
            suite, group), and both files' sizes (bytes, #define lines);
  refused   gen refused it (exit REFUSED) with the one line printed here: a key
            exchange 4.x removed (static RSA, DHE-RSA), which 3.6 can serve.

Each row is a pytest case, with the test's own assertions (what the server was
configured with); a case that fails is printed as FAILED and the exit status is 1.

    bench/gen4_servers.py [--json] [-- PYTEST ARGS...]

Not a test: it is not run by CI.  It runs `./tlsfit test --no-unit --no-fuzz
tests/test_gen4_servers.py` with TLSFIT_GEN4_ALL=1 (the whole matrix) and
TLSFIT_GEN4_RECORDS=DIR (each case writes DIR/<case>.json), the usual caches, after
`./tlsfit setup --mbedtls-archive ../shared/upstream/mbedtls-4.0.0.tar.xz` (or with
../shared/upstream beside the checkout).  Standard library only.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEST = "tests/test_gen4_servers.py"
CRYPTO = "tls_config_crypto.h"


def run_matrix(records, extra):
    """Runs the test over the whole matrix; returns (exit status, seconds, outcomes)
    where outcomes maps a case id to pytest's PASSED / FAILED / SKIPPED."""
    env = dict(os.environ, TLSFIT_GEN4_ALL="1", TLSFIT_GEN4_RECORDS=str(records))
    argv = [str(REPO / "tlsfit"), "test", "--no-unit", "--no-fuzz", TEST, "-rA", "-q", *extra]
    t0 = time.monotonic()
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - t0
    outcomes = {}
    for line in proc.stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("PASSED", "FAILED", "SKIPPED", "ERROR") and "[" in rest:
            outcomes[rest.split("[", 1)[1].split("]", 1)[0]] = word
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
    return proc.returncode, seconds, outcomes


def rows(records, outcomes):
    out = []
    for case in sorted(set(outcomes) | {f.stem for f in records.glob("*.json")}):
        f = records / f"{case}.json"
        rec = json.loads(f.read_text()) if f.is_file() else {"case": case}
        rec["pytest"] = outcomes.get(case, "?")
        out.append(rec)
    return out


def line_of(rec):
    if rec["pytest"] != "PASSED":
        return f"{rec['case']:<42} {rec['pytest']}"
    if rec.get("outcome") == "refused":
        return f"{rec['case']:<42} refused  {rec['reason']}"
    sizes = rec["sizes"]
    tls, crypto = sizes["tls_config.h"], sizes[CRYPTO]
    return (f"{rec['case']:<42} proven   {rec['version']} {rec['suite']} {rec.get('group') or '-'}"
            f"; tls_config.h {tls['bytes']:,} B / {tls['defines']} defines, "
            f"{CRYPTO} {crypto['bytes']:,} B / {crypto['defines']} defines")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print the records as JSON, nothing else")
    ap.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tlsfit-gen4-servers-") as tmp:
        records = Path(tmp)
        status, seconds, outcomes = run_matrix(records, args.pytest_args)
        found = rows(records, outcomes)
    if args.json:
        print(json.dumps({"seconds": round(seconds, 1), "cases": found}, indent=1))
    else:
        proven = sum(r["pytest"] == "PASSED" and r.get("outcome") == "proven" for r in found)
        refused = sum(r["pytest"] == "PASSED" and r.get("outcome") == "refused" for r in found)
        print(f"gen --mbedtls 4.0 against {len(found)} fixture servers "
              f"({seconds:.0f} s, {TEST} with TLSFIT_GEN4_ALL=1):")
        for rec in found:
            print("  " + line_of(rec))
        print(f"{proven} proven on the host, {refused} refused, "
              f"{len(found) - proven - refused} failed or skipped")
    return 0 if status == 0 and found else 1


if __name__ == "__main__":
    sys.exit(main())
