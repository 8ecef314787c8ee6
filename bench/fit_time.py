#!/usr/bin/python3
"""Fit time benchmark: where `tlsfit fit`'s wall time goes, cold and warm, per server,
and (--vs REV) the same fits by an older commit against the very same servers.

    bench/fit_time.py [--quick] [--servers a,b] [--vs REV] [--objective O] [--jobs N]
                      [--json FILE]

The servers: the demo's two (`tlsfit demo`: rsa, ecdsa) and the seven of
bench/fit_bench.py, each an `openssl s_server` on 127.0.0.1 with a throwaway PKI made
once for the run, so every fit of a server -- cold, warm, old, new -- talks to the same
server with the same certificates.  --quick: the demo's two only.

Per server each checkout runs `tlsfit fit HOST:PORT --sni localhost --ca ROOT --json`
twice in a row: "cold" with an empty image and result cache (target/runcache.py; its
own directory, TLSFIT_RUNCACHE) and "warm" right after with what the cold fit stored.
The cross builds' cache is the machine's (a header built before is not built again:
what a second fit on a developer's machine meets).  The old commit (--vs REV) is
checked out in a temporary git worktree and runs its own ./tlsfit the same way (its
first fit also builds its prober); old and new alternate per server, so the machine's
drift hits both.  Printed: each fit's wall seconds, the ratio new/old, whether the same
header was chosen (its options) and the new fit's breakdown (report "timings").

Not a test: it prints figures and is not run by CI.  Standard library only.
"""
import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))
sys.path.insert(0, str(REPO / "bench"))

import fit_bench  # noqa: E402
from tlsfit.cli.demo import SERVERS as DEMO_SERVERS  # noqa: E402
from tlsfit.lab import refservers  # noqa: E402

TARGET = "cortex-m4"


def log(msg):
    print(f"[fit-time {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def servers(work, names):
    """{name: (chain, s_server args)} for the demo's two (demo-rsa, demo-ecdsa) and
    fit_bench's seven, as far as named."""
    out = {}
    for name, root, inter, leaf, _ in DEMO_SERVERS:
        if f"demo-{name}" in names:
            out[f"demo-{name}"] = (refservers.make_chain(work / "pki", f"demo-{name}", root,
                                                         inter, leaf, label=f"demo {name}"), ())
    bench = [n for n in names if n in fit_bench.SERVERS]
    if bench:
        chains = fit_bench.make_chains(work, {fit_bench.SERVERS[n][0] for n in bench})
        for n in bench:
            chain_name, s_args, _ = fit_bench.SERVERS[n]
            out[n] = (chains[chain_name], s_args)
    return out


def one_fit(checkout, hostport, chain, out_dir, cache, args):
    """(wall seconds, report or None, error) of one `tlsfit fit` by checkout's ./tlsfit."""
    argv = [str(checkout / "tlsfit"), "fit", hostport, "--sni", "localhost", "--ca",
            str(chain.root.pem), "--target", TARGET, "--objective", args.objective,
            "--jobs", str(args.jobs), "--out", str(out_dir), "--json"]
    env = {**os.environ, "TLSFIT_RUNCACHE": str(cache)}
    began = time.monotonic()
    proc = subprocess.run(argv, cwd=checkout, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    wall = round(time.monotonic() - began, 1)
    if proc.returncode != 0:
        return wall, None, (proc.stderr.strip().splitlines() or ["failed"])[-1]
    return wall, json.loads(proc.stdout), None


def header_of(out_dir):
    """What the fit chose: the final header's #define lines (comments aside), or None."""
    try:
        text = (out_dir / "tls_config.h").read_text()
    except OSError:
        return None
    return sorted(" ".join(line.split("/*")[0].split()) for line in text.splitlines()
                  if line.startswith("#define MBEDTLS_"))


def run_checkout(label, checkout, name, hostport, chain, work, args):
    """{cold, warm}: each {wall_s, phases_s, timings, header, rom_tls_bytes, error}."""
    cache = Path(tempfile.mkdtemp(prefix=f"runcache-{label}-", dir=work))
    row = {}
    for run in ("cold", "warm"):
        out = work / "fits" / label / name / run
        wall, rep, err = one_fit(checkout, hostport, chain, out, cache, args)
        row[run] = {"wall_s": wall, "error": err,
                    "phases_s": rep.get("phases_s") if rep else None,
                    "timings": rep.get("timings") if rep else None,
                    "header": header_of(out) if rep else None,
                    "rom_tls_bytes": rep.get("rom_tls_bytes") if rep else None}
        log(f"{name}: {label} {run}: {wall} s" + (f" ({err})" if err else ""))
    return row


def _ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


def print_table(rows, vs):
    print(f"tlsfit fit wall seconds on {TARGET} ({os.cpu_count()} CPUs)"
          + (f", this checkout against {vs}" if vs else ""))
    head = "| server | new cold | new warm |"
    if vs:
        head += " old cold | old warm | warm new/old | cold new/old | same header |"
    print(head)
    print("|" + " --- |" * (head.count("|") - 1))
    for r in rows:
        new = r["new"]
        line = f"| {r['server']} | {new['cold']['wall_s']} | {new['warm']['wall_s']} |"
        if vs:
            old = r["old"]
            same = old["warm"]["header"] == new["warm"]["header"] if old["warm"]["header"] \
                else "-"
            line += (f" {old['cold']['wall_s']} | {old['warm']['wall_s']} | "
                     f"{_ratio(new['warm']['wall_s'], old['warm']['wall_s'])} | "
                     f"{_ratio(new['cold']['wall_s'], old['cold']['wall_s'])} | "
                     f"{'yes' if same is True else 'no' if same is False else same} |")
        print(line)
    print("\nwhere the new fits' time went (seconds, count, cached):")
    for r in rows:
        for run in ("cold", "warm"):
            t = r["new"][run]["timings"] or {}
            parts = [f"{k} {v['seconds']:.1f}/{v['count']}/{v['cached']}"
                     for k, v in t.items() if v["count"]]
            print(f"  {r['server']} {run}: " + ("; ".join(parts) or r["new"][run]["error"]))


@contextlib.contextmanager
def old_checkout(rev, work):
    """A temporary git worktree of rev (removed afterwards)."""
    where = work / "old"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(where), rev],
                   check=True, capture_output=True)
    try:
        yield where
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(where)],
                       capture_output=True)


def main():
    names = [f"demo-{n[0]}" for n in DEMO_SERVERS] + list(fit_bench.SERVERS)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="only the demo's two servers")
    ap.add_argument("--servers", help="comma-separated subset of: " + ", ".join(names))
    ap.add_argument("--vs", metavar="REV", help="also fit with this commit, side by side")
    ap.add_argument("--objective", default="balanced")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the rows here")
    args = ap.parse_args()
    chosen = names[:2] if args.quick else names
    if args.servers:
        chosen = [s.strip() for s in args.servers.split(",") if s.strip()]
        unknown = [s for s in chosen if s not in names]
        if unknown:
            ap.error(f"unknown server(s): {', '.join(unknown)}")
    work = Path(tempfile.mkdtemp(prefix="tlsfit-fit-time-"))
    rows = []
    with contextlib.ExitStack() as stack:
        old = stack.enter_context(old_checkout(args.vs, work)) if args.vs else None
        for name, (chain, s_args) in servers(work, chosen).items():
            with refservers.openssl_server(chain, *s_args, log_dir=work / "logs",
                                           limit=3 * 3600) as srv:
                row = {"server": name, "hostport": srv.hostport}
                if old:
                    row["old"] = run_checkout("old", old, name, srv.hostport, chain, work, args)
                row["new"] = run_checkout("new", REPO, name, srv.hostport, chain, work, args)
                rows.append(row)
    print_table(rows, args.vs)
    if args.json:
        args.json.write_text(json.dumps({"vs": args.vs, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
