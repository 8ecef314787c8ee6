#!/usr/bin/python3
"""What building `tlsfit verify`'s client for an mbedTLS 4.0 pair costs, per checkout.

For each checkout given (default: this one) it builds the client three times with
empty caches of its own (TLSFIT_CACHE, CCACHE_DIR in a fresh directory; the 4.0 tree
is the set-up one, shared) and prints wall and CPU (user + sys of the build's
processes) side by side:

  cold     the first pair (gen's, for profiles/lighttpd.json), nothing cached,
  second   another server's pair (profiles/haproxy.json): what the first build
           left in the object store / ccache serves the objects that preprocess
           the same,
  stored   the second pair again after deleting the verify directory (the client
           is rebuilt, every object is stored).

Both pairs are written once by THIS checkout's gen, so every checkout builds the
same files.  To compare with an older commit:

    git worktree add /tmp/before <commit>      # or: git archive <commit> | tar -x -C DIR
    bench/verify4_build.py --repos .,/tmp/before

Not a test: it prints figures and is not run by CI (the machine's load is printed
beside them: compare CPU, not wall, on a shared machine).  Standard library only;
Debian's /usr/bin/python3, after `./tlsfit setup --mbedtls-archive ...`.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROFILES = ("lighttpd", "haproxy")
BUILD = ("import sys; sys.path.insert(0, sys.argv[1]); "
         "from tlsfit.host import verify; "
         "verify.ensure_client(sys.argv[2], mbedtls_dir=sys.argv[3], announce=False)")


def tree40():
    sys.path.insert(0, str(REPO / "tool"))
    from tlsfit.mbedtls.tree import resolve_tree
    return resolve_tree(line="4.0").path


def make_pairs(work):
    pairs = []
    for name in PROFILES:
        out = work / "pairs" / name / "tls_config.h"
        out.parent.mkdir(parents=True)
        subprocess.run([str(REPO / "tlsfit"), "gen", "--mbedtls", "4.0",
                        str(REPO / "profiles" / f"{name}.json"), "-o", str(out)],
                       check=True, capture_output=True)
        pairs.append(out)
    return pairs


def timed(repo, cfg, tree, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(["/usr/bin/python3", "-c", BUILD, str(Path(repo) / "tool"), str(cfg), str(tree)],
                   check=True, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, os.getloadavg()[0]


def measure(repo, pairs, tree, work):
    d = work / f"cache-{abs(hash(str(repo)))}"
    env = dict(os.environ, TLSFIT_CACHE=str(d / "tlsfit"), CCACHE_DIR=str(d / "ccache"),
               XDG_CACHE_HOME=str(d / "xdg"))
    rows = {"cold": timed(repo, pairs[0], tree, env),
            "second": timed(repo, pairs[1], tree, env)}
    shutil.rmtree(d / "tlsfit" / "verify")
    rows["stored"] = timed(repo, pairs[1], tree, env)
    shutil.rmtree(d)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", default=str(REPO),
                    help="comma-separated checkouts to build with (default: this one)")
    args = ap.parse_args()
    repos = [Path(r).resolve() for r in args.repos.split(",") if r.strip()]
    tree = tree40()
    work = Path(tempfile.mkdtemp(prefix="tlsfit-verify4-build-"))
    try:
        pairs = make_pairs(work)
        results = {r: measure(r, pairs, tree, work) for r in repos}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"verify's client for a 4.0 pair (tree {tree}); wall s / CPU s (load)")
    print(f"{'checkout':<40} {'cold':>20} {'second pair':>20} {'all stored':>20}")
    for repo, rows in results.items():
        cells = [f"{w:6.1f} / {c:5.1f} ({ld:4.1f})" for w, c, ld in
                 (rows[k] for k in ("cold", "second", "stored"))]
        print(f"{str(repo):<40} " + " ".join(f"{c:>20}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
