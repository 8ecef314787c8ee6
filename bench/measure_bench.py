#!/usr/bin/python3
"""Measure benchmark: how long `tlsfit measure` takes, cold and cached, per phase.

Starts one local `openssl s_server` (a throwaway ECDSA PKI, TLS 1.2,
ECDHE-ECDSA-AES128-GCM-SHA256, P-256) and runs `tlsfit measure` against it
three times, each as the user would (`python3 -m tlsfit.cli measure ... --json`):

  cold         empty tlsfit cache ($TLSFIT_CACHE in a temp dir) and empty ccache
               ($CCACHE_DIR in a temp dir): mbedTLS is cross-built from scratch
  ccache warm  empty tlsfit cache again, ccache from the cold run: what a machine
               that keeps ccache but not the tlsfit cache (or a new tree) sees
  cached       everything cached: the usual case

and prints wall time and the report's build / link / run phases for each, with
the ROM / heap / instruction figures of the measurement (identical in all three).

Not a test: it prints figures and is not run by CI.  Standard library and the
repository's own modules only; run it with Debian's /usr/bin/python3:

    bench/measure_bench.py [--target cortex-m4] [--config FILE] [--baseline] [--keep]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))

from tlsfit.core import paths  # noqa: E402
from tlsfit.lab import refservers  # noqa: E402

DEFAULT_CONFIG = REPO / "tests" / "fixtures" / "measure" / "tls12_ecdhe_ecdsa.h"
SERVER_ARGS = ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-groups", "P-256")


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fresh_cache(work, name):
    """A tlsfit cache dir that shares only the mbedTLS source trees with the real one."""
    d = work / name
    d.mkdir()
    for tree in ("mbedtls-3.6", "mbedtls-2.28"):
        src = paths.cache_dir() / tree
        if src.is_dir():
            (d / tree).symlink_to(src.resolve())
    return d


def run_measure(args, srv, root, env):
    argv = [sys.executable, "-m", "tlsfit.cli", "measure", "--config", str(args.config),
            "--target", args.target, "--server", srv.hostport, "--sni", "localhost",
            "--ca", str(root), "--json"]
    if args.baseline:
        argv.append("--baseline")
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=1800)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"tlsfit measure failed (exit {proc.returncode})")
    return wall, json.loads(proc.stdout), proc.stderr


def phases(report):
    e = dict(report["elapsed_ms"])
    if "baseline" in report:
        for k, v in report["baseline"]["elapsed_ms"].items():
            e[k] = e.get(k, 0) + v
    return e


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", default="cortex-m4")
    ap.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    ap.add_argument("--baseline", action="store_true", help="measure with --baseline")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if not shutil.which("ccache"):
        log("ccache is not on PATH: the 'ccache warm' row will be as slow as the cold one")

    work = Path(tempfile.mkdtemp(prefix="tlsfit-measure-bench-"))
    rows = []
    try:
        log(f"making a throwaway ECDSA PKI in {work}")
        chain = refservers.make_chain(work / "pki", "ec", "ec:P-384", "ec:P-256", "ec:P-256",
                                      label="bench")
        with refservers.openssl_server(chain, *SERVER_ARGS, log_dir=work / "logs") as srv:
            base_env = dict(os.environ, PYTHONPATH=str(REPO / "tool"),
                            CCACHE_DIR=str(work / "ccache"))
            for label, cache in (("cold", "cache-cold"), ("ccache warm", "cache-warm"),
                                 ("cached", "cache-warm")):
                cdir = work / cache
                if not cdir.exists():
                    cdir = fresh_cache(work, cache)
                log(f"{label}: tlsfit measure --target {args.target} (TLSFIT_CACHE={cdir})")
                wall, report, _ = run_measure(args, srv, chain.root.pem,
                                              dict(base_env, TLSFIT_CACHE=str(cdir)))
                rows.append((label, wall, phases(report), report))
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    r = rows[-1][3]
    hs = r["handshake"]
    print(f"tlsfit measure: {args.config.name} on {r['target']} against openssl s_server "
          f"(TLS 1.2, ECDHE-ECDSA-AES128-GCM-SHA256, P-256){' with --baseline' if args.baseline else ''}; "
          f"mbedTLS {r['mbedtls']}; {os.cpu_count()} cores")
    print(f"{'':14} {'wall':>8} {'build':>8} {'link':>8} {'run':>8}")
    for label, wall, e, _ in rows:
        print(f"{label:14} {wall:7.1f}s {e['build'] / 1000:7.1f}s {e['link'] / 1000:7.1f}s "
              f"{e['run'] / 1000:7.1f}s")
    print(f"handshake: {'ok' if hs['ok'] else 'FAILED'} {hs['version']} {hs['ciphersuite']} "
          f"{hs['group']}")
    print(f"rom_bytes {r['rom_bytes']}, rom_tls_bytes {r['rom_tls_bytes']}, ram_static_bytes "
          f"{r['ram_static_bytes']}, heap_peak_bytes {r['heap_peak_bytes']}, stack_peak_bytes "
          f"{r['stack_peak_bytes']}, handshake_instructions {r['handshake_instructions']}")
    if args.baseline:
        print("ratios to the baseline: " + ", ".join(f"{k} {v}" for k, v in r["ratios"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
