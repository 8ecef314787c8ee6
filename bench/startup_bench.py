#!/usr/bin/python3
"""Start-up benchmark: `tlsfit probe` end to end beside the bare prober, in one run.

Starts one local `openssl s_server` (a throwaway RSA PKI, TLS 1.2 + 1.3) and probes
it alternately, N times each, as

  bare     tool's prober binary itself:  tlsfit-probe -o FILE 127.0.0.1:PORT
  driver   the launcher, as a user runs it:  ./tlsfit probe 127.0.0.1:PORT --json
  import   the driver's start alone: ./tlsfit probe --help (no server contact)
  also     with --also CHECKOUT: that checkout's launcher, the same way as driver

and prints the median and min wall time of each and the driver's overhead (driver
minus bare, median).  Issue 12's goal is an overhead under 0.05 s; the figure is
printed, not asserted.  Also prints the modules `tlsfit probe` imports (-X importtime,
top 8 by cumulative time).

Not a test: it prints figures and is not run by CI.

    bench/startup_bench.py [--runs N] [--also CHECKOUT]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))

from tlsfit.lab import refservers  # noqa: E402
from tlsfit.profile import build as prober  # noqa: E402

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def timed(argv, env):
    """Wall time of one run.  A blocking wait (no timeout: subprocess's timeout polls
    with sleeps that would add milliseconds to every figure); a timer kills a hang."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    timer = threading.Timer(120, proc.kill)
    timer.start()
    proc.wait()
    elapsed = time.perf_counter() - t0
    timer.cancel()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)}: exit {proc.returncode}")
    return elapsed


def import_profile(env):
    proc = subprocess.run([PYTHON, "-S", "-X", "importtime", "tool/tlsfit_entry.py", "probe", "--help"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    rows = []
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[1].isdigit():
            rows.append((int(parts[1]), parts[2]))
    return sorted(rows, reverse=True)[:8]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="probes per variant (default 15)")
    ap.add_argument("--also", metavar="CHECKOUT",
                    help="also time CHECKOUT/tlsfit probe (e.g. a worktree of an older "
                         "commit: `git worktree add /tmp/old COMMIT`)")
    args = ap.parse_args()
    binary = prober.ensure_prober()
    work = Path(tempfile.mkdtemp(prefix="tlsfit-startup-"))
    env = dict(os.environ, TLSFIT_STATE_DIR=str(work / "state"), PYTHONPATH=str(REPO / "tool"))
    chain = refservers.make_chain(work, "pki", "rsa:2048", "rsa:2048", "rsa:2048", label="bench")
    times = {"bare": [], "driver": [], "import": []}
    if args.also:
        times["also"] = []
    with refservers.openssl_server(chain, log_dir=work) as srv:
        target = srv.hostport
        for i in range(args.runs):            # interleaved: load changes hit every variant
            times["bare"].append(timed([str(binary), "-o", str(work / "p.json"), target], env))
            times["driver"].append(timed([str(REPO / "tlsfit"), "probe", target, "--json"], env))
            times["import"].append(timed([str(REPO / "tlsfit"), "probe", "--help"], env))
            if args.also:
                times["also"].append(timed([str(Path(args.also) / "tlsfit"), "probe", target,
                                            "--json"], env))
    print(f"tlsfit probe start-up, {args.runs} runs each, against openssl s_server on {target}")
    print(f"{'variant':<8} {'median s':>9} {'min s':>7}")
    for name, ts in times.items():
        print(f"{name:<8} {statistics.median(ts):9.4f} {min(ts):7.4f}")
    over = statistics.median(times["driver"]) - statistics.median(times["bare"])
    print(f"driver overhead (median driver - median bare): {over:.4f} s "
          f"(goal < 0.05 s: {'met' if over < 0.05 else 'NOT met'})")
    if args.also:
        old = statistics.median(times["also"]) - statistics.median(times["bare"])
        print(f"{args.also} overhead: {old:.4f} s; this checkout's is {over / old:.2f}x of it")
    print("largest imports of `tlsfit probe` (cumulative microseconds):")
    for us, name in import_profile(env):
        print(f"  {us:8d}  {name}")


if __name__ == "__main__":
    main()
