#!/usr/bin/python3
"""Fit time benchmark: where `tlsfit fit`'s wall time goes, cold and warm, per server,
and (--vs REV) the same fits by an older commit against the very same servers.

    bench/fit_time.py [--quick] [--servers a,b] [--vs REV] [--objective O] [--jobs N]
                      [--empty-builds] [--json FILE]
    bench/fit_time.py --table FILE...      the table of saved rows (--json), nothing run

The servers: the demo's two (`tlsfit demo`: rsa, ecdsa) and the seven of
bench/fit_bench.py, each an `openssl s_server` on 127.0.0.1 with a throwaway PKI made
once for the run, so every fit of a server -- cold, warm, old, new -- talks to the same
server with the same certificates.  --quick: the demo's two only.

Per server each checkout runs `tlsfit fit HOST:PORT --sni localhost --ca ROOT --json`
twice in a row: "cold" with an empty image and result cache (target/runcache.py; its
own directory, TLSFIT_RUNCACHE) and "warm" right after with what the cold fit stored.
The cross builds' cache is the machine's (a header built before is not built again:
what a second fit on a developer's machine meets) -- unless --empty-builds: then each
checkout's cold fit of each server starts from nothing but the mbedTLS sources (its own
empty TLSFIT_CACHE, CCACHE_DIR and object store, the machine's 3.6 tree as MBEDTLS_DIR:
what a fresh machine meets), and its warm fit reuses what the cold one built; the
directory is deleted after the warm fit.  The old commit (--vs REV) is checked out in a
temporary git worktree and runs its own ./tlsfit the same way; old and new alternate
per server, so the machine's drift hits both.  Both checkouts are set up (`tlsfit setup`: the prober) before any fit
is timed.  Printed: each fit's wall seconds, the ratio new/old, whether the same
header was chosen (its options) and the new fit's breakdown (report "timings").

Not a test: it prints figures and is not run by CI.  Standard library only.
"""
import argparse
import contextlib
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
sys.path.insert(0, str(REPO / "bench"))

import fit_bench  # noqa: E402
from tlsfit.cli.demo import SERVERS as DEMO_SERVERS  # noqa: E402
from tlsfit.core import paths  # noqa: E402
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


def empty_cache(where):
    """The env of a fit on a fresh machine: an empty TLSFIT_CACHE and CCACHE_DIR, and the
    machine's mbedTLS 3.6 tree as MBEDTLS_DIR (the path `tlsfit setup` built each
    checkout's prober against, so no fit rebuilds it)."""
    where.mkdir(parents=True)
    return {"TLSFIT_CACHE": str(where), "CCACHE_DIR": str(where / "ccache"),
            "MBEDTLS_DIR": str(paths.cache_dir() / "mbedtls-3.6")}


def one_fit(checkout, hostport, chain, out_dir, env, args):
    """(wall seconds, report or None, error) of one `tlsfit fit` by checkout's ./tlsfit."""
    argv = [str(checkout / "tlsfit"), "fit", hostport, "--sni", "localhost", "--ca",
            str(chain.root.pem), "--target", TARGET, "--objective", args.objective,
            "--jobs", str(args.jobs), "--out", str(out_dir), "--json"]
    env = {**os.environ, **env}
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
    env = {"TLSFIT_RUNCACHE": str(cache)}
    if args.empty_builds:
        env.update(empty_cache(cache / "cache"))
    row = {}
    for run in ("cold", "warm"):
        out = work / "fits" / label / name / run
        wall, rep, err = one_fit(checkout, hostport, chain, out, env, args)
        row[run] = {"wall_s": wall, "error": err,
                    "phases_s": rep.get("phases_s") if rep else None,
                    "timings": rep.get("timings") if rep else None,
                    "header": header_of(out) if rep else None,
                    "rom_tls_bytes": rep.get("rom_tls_bytes") if rep else None}
        log(f"{name}: {label} {run}: {wall} s" + (f" ({err})" if err else ""))
    shutil.rmtree(cache, ignore_errors=True)
    return row


def _ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


def header_verdict(new, old):
    """"same" (the same options), "smaller" / "larger" (mbedTLS's flash in the image), or
    "-" when either fit failed: the new fit's warm header against the old one's."""
    if not new["header"] or not old["header"]:
        return "-"
    if new["header"] == old["header"]:
        return "same"
    a, b = new.get("rom_tls_bytes"), old.get("rom_tls_bytes")
    if a is None or b is None:
        return "other"
    return f"smaller ({a} B < {b} B)" if a < b else f"larger ({a} B >= {b} B)" \
        if a > b else f"other, as small ({a} B)"


def _half(new, old, header):
    """Whether the new fit took at most half the old one's wall time, for a header the
    same or at least as small."""
    if not new or not old or header.startswith(("larger", "-")):
        return "no"
    return "yes" if new <= old / 2 else "no"


def print_table(rows, vs):
    print(f"tlsfit fit wall seconds on {TARGET} ({os.cpu_count()} CPUs)"
          + (f", this checkout against {vs}" if vs else ""))
    head = "| server | new cold | new warm |"
    if vs:
        head += (" old cold | old warm | cold new/old | warm new/old | header vs old |"
                 " cold <= 1/2 | warm <= 1/2 |")
    print(head)
    print("|" + " --- |" * (head.count("|") - 1))
    for r in rows:
        new = r["new"]
        line = f"| {r['server']} | {new['cold']['wall_s']} | {new['warm']['wall_s']} |"
        if vs:
            old = r["old"]
            verdict = header_verdict(new["warm"], old["warm"])
            nc, oc = new["cold"]["wall_s"], old["cold"]["wall_s"]
            nw, ow = new["warm"]["wall_s"], old["warm"]["wall_s"]
            line += (f" {oc} | {ow} | {_ratio(nc, oc)} | {_ratio(nw, ow)} | {verdict} | "
                     f"{_half(nc, oc, verdict)} | {_half(nw, ow, verdict)} |")
        print(line)
    print("\nwhere the new fits' time went (seconds, count, cached):")
    for r in rows:
        for run in ("cold", "warm"):
            t = r["new"][run]["timings"] or {}
            parts = [f"{k} {v['seconds']:.1f}/{v['count']}/{v['cached']}"
                     for k, v in t.items() if v["count"]]
            print(f"  {r['server']} {run}: " + ("; ".join(parts) or r["new"][run]["error"]))
    print("\nthe fits' phases, wall seconds (report phases_s), new | old:")
    for r in rows:
        for run in ("cold", "warm"):
            new = r["new"][run]["phases_s"] or {}
            old = (r.get("old") or {}).get(run, {}).get("phases_s") or {}
            print(f"  {r['server']} {run}: " + ", ".join(
                f"{k} {new.get(k, '-')} | {old.get(k, '-')}" for k in new))


def set_up(checkout):
    """`tlsfit setup` of a checkout before any fit is timed: its prober built against the
    machine's mbedTLS tree (the one --empty-builds links to), so no fit pays for it."""
    subprocess.run([str(checkout / "tlsfit"), "setup"], cwd=checkout, capture_output=True,
                   stdin=subprocess.DEVNULL)


@contextlib.contextmanager
def old_checkout(rev, work):
    """A temporary git worktree of rev (removed afterwards)."""
    where = work / "old"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(where), rev],
                   check=True, capture_output=True)
    try:
        set_up(where)
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
    ap.add_argument("--empty-builds", action="store_true",
                    help="cold also means no cross builds, ccache or object store (a fresh machine)")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the rows here")
    ap.add_argument("--table", type=Path, nargs="+", metavar="FILE",
                    help="print the table of rows --json wrote (one run, or its parts), "
                         "run nothing")
    args = ap.parse_args()
    if args.table:
        docs = [json.loads(f.read_text()) for f in args.table]
        print_table([r for d in docs for r in d["rows"]], docs[0]["vs"])
        return 0
    chosen = names[:2] if args.quick else names
    if args.servers:
        chosen = [s.strip() for s in args.servers.split(",") if s.strip()]
        unknown = [s for s in chosen if s not in names]
        if unknown:
            ap.error(f"unknown server(s): {', '.join(unknown)}")
    work = Path(tempfile.mkdtemp(prefix="tlsfit-fit-time-"))
    rows = []
    set_up(REPO)
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
                if args.json:             # after each server: a stopped run keeps its rows
                    args.json.write_text(json.dumps({"vs": args.vs, "rows": rows}, indent=2)
                                         + "\n")
    print_table(rows, args.vs)
    if args.json:
        args.json.write_text(json.dumps({"vs": args.vs, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
