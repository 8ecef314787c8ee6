"""`tlsfit bench`: the benchmark matrix (profiles x targets x {fitted, default}) run by
CTest, merged into bench/results/<commit>.json, drawn into bench/results/index.html,
and optionally gated against a baseline (--check, exit 47 on a regression)."""
import argparse
import contextlib
import json
import shutil
import sys
import time
from pathlib import Path

from ..core import paths
from ..core.errors import REGRESSION, TARGET, USAGE, TlsfitError
from ..core.text import display_path, say

HELP = """\
Runs the benchmark matrix: every profile x target x {fitted, default}.  A fitted
cell is `tlsfit fit --objective rom` against the profile's server on the target;
a default cell measures mbedTLS's default configuration (config.py
baremetal_size) against the same server.  The matrix is a CTest project
(<state>/bench/run/CTestTestfile.cmake, one test per cell) run with
`ctest -j N`; every cell writes its own JSON, then they are merged into
RESULTS/<commit>.json (tlsfit, mbedTLS and compiler versions; per cell the
six figures, the handshake, the per-module ROM, fit's report.json) and
RESULTS/index.html is rebuilt from every results file in RESULTS (charts per
profile and target over commits, fitted/default ratio, per-module ROM, the
regression table).  Cross builds are cached per header and target, so a
second run only boots QEMU.  CTest's line per finished cell shows its time;
the summary table at the end repeats it.

profiles: the library's (profiles/NAME.json, `tlsfit profiles`), each served by
its replica on 127.0.0.1 (`tlsfit replay`) while its cells run, the fit using
the profile instead of probing; by default all of them (the bench's own
reference servers below when the library is empty).  The bench's own servers,
each stood up on 127.0.0.1 with a fresh test PKI for its cell:
%(profiles)s

The fit cache: a fitted cell fits the first time and keeps the fit's choices
(its report.json) in ~/.cache/tlsfit/fits ($TLSFIT_CACHE/fits; --fit-cache-dir
DIR) under a key of everything that decides the fit: the profile's facts (not
the port, dates,
serials or certificate bytes), the sizes gen derives from them, the target the
fit measured on and its targets/ file, objective, policy, mbedTLS line, the
mbedTLS tree's SHA-256, the compiler's version and flags, and the SHA-256 of
tlsfit's own sources that decide the search (rules, templates, gen, the
search, measure, the firmware, the replica).  On a hit the cell renders those
choices for this run's profile and measures that header and mbedTLS's default
on its target against this run's server: every figure is this run's, and only a
handshake the server accepted counts (a header that no longer verifies is a
miss: the cell fits again).  The cell says "fit_cached": true; its report keeps
the cached fit's search history (trials, ablation) and names it under
fit_cached.from_fit.  --no-fit-cache fits every cell afresh.
--fit-target T fits each profile once, on T, and measures that header on every
other target (CTest runs those cells after T's); a per-target fit may choose
another header, so the default is a fit per target.

Sharding over CI machines (CTest's test-index striding, `ctest -I K,,N`):
machine K of N runs `tlsfit bench --shard K/N` and writes
RESULTS/<commit>.shard-K-of-N.json; the dashboard and --check merge the
shards of one commit (copy them into one RESULTS directory).

The gate: --check BASELINE.json compares this run's cells with the
baseline's (cells missing from either side are notes) and prints a markdown
table of what grew -- profile, target, variant, figure or module, baseline,
current, change -- and exits 47 (REGRESSION) when a figure grew by more than
--tolerance percent or a cell that verified in the baseline fails now; the gate
alone decides the exit code then.  Without --check a failed cell (a handshake
that did not verify, a refused server) fails the run with its own exit code
(41 when it has none), after the results and the dashboard are written.
`tlsfit size --diff A.json B.json` compares two results files the same way
without running anything.

examples:
  ./tlsfit bench --jobs 2                                 the whole matrix
  ./tlsfit bench --profiles openssl-ecdsa --targets cortex-m4
  ./tlsfit bench --profiles openssl-ecdsa --targets cortex-m4 \\
      --check bench/baseline/gate.json --tolerance 2      the CI size gate
  ./tlsfit bench --shard 2/3                              CI machine 2 of 3
  ./tlsfit bench --jobs 2 --fit-target cortex-m4          a fit per profile, not per cell
"""

# The bench's own reference servers until the profile library and its replicas are in
# this checkout: name -> (root, intermediate, leaf key specs, extra s_server args,
# why it is in the matrix).  openssl s_server answers HTTP (-www); the proof is by port.
FIXTURES = {
    "openssl-ecdsa": ("ec:P-256", "ec:P-256", "ec:P-256", (),
                      "openssl s_server, P-256 chain, TLS 1.2 + 1.3 (an IoT broker's shape)"),
    "openssl-rsa": ("rsa:2048", "rsa:2048", "rsa:2048", ("-tls1_2",),
                    "openssl s_server, RSA-2048 chain, TLS 1.2 only (a legacy web host)"),
}
# openssl s_server -www answers a GET at once: the proof takes no 2 s no-alert wait.
GET_PROOF = "send:" + b"GET / HTTP/1.0\r\n\r\n".hex() + ",expect:" + b"HTTP/1.".hex()


def _profiles_help():
    return "\n".join(f"  {n:15s} {f[4]}" for n, f in FIXTURES.items())


def configure(p):
    from ..bench.matrix import CELL_TIMEOUT
    from ..bench.results import VARIANTS
    from ..target.firmware import fw
    p.description = HELP % {"profiles": _profiles_help()}
    p.add_argument("--profiles", nargs="+", metavar="NAME",
                   help="profiles to run: library names or the bench's own servers "
                        f"({', '.join(FIXTURES)}); default: the whole library")
    p.add_argument("--targets", nargs="+", metavar="NAME",
                   help=f"targets in targets/ (default: all: {', '.join(fw.target_names())})")
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS),
                   help="which of fitted and default to run (default: both)")
    p.add_argument("--jobs", type=int, default=2, metavar="N",
                   help="cells run at once (ctest -j N; default 2); each fit measures one "
                        "header at a time")
    p.add_argument("--shard", metavar="K/N", help="run only this machine's share: ctest's "
                   "tests K, K+N, K+2N, ... (-I K,,N)")
    p.add_argument("--results", metavar="DIR", default=None,
                   help="results directory (default bench/results)")
    p.add_argument("--check", metavar="BASELINE.json",
                   help="compare with this results file; exit 47 on a regression")
    p.add_argument("--tolerance", type=float, default=1.0, metavar="PCT",
                   help="growth allowed before a figure regresses, in percent (default 1)")
    p.add_argument("--timeout", type=int, default=CELL_TIMEOUT, metavar="SEC",
                   help=f"seconds one cell may take (default {CELL_TIMEOUT})")
    p.add_argument("--no-fit-cache", dest="fit_cache", action="store_false",
                   help="fit every fitted cell afresh instead of re-measuring a cached fit "
                        "(see 'The fit cache' above)")
    p.add_argument("--fit-cache-dir", metavar="DIR",
                   help="the fit cache's directory (default $TLSFIT_CACHE/fits)")
    p.add_argument("--fit-target", metavar="NAME",
                   help="fit each profile once, on this target, and measure that header on "
                        "every target (default: a fit per target)")
    p.add_argument("--json", action="store_true",
                   help="print the results document on stdout, nothing else")
    # One cell, as CTest runs it (internal).
    p.add_argument("--cell", nargs=3, metavar=("PROFILE", "TARGET", "VARIANT"),
                   help=argparse.SUPPRESS)
    p.add_argument("--cell-out", metavar="FILE", help=argparse.SUPPRESS)


# ---------------------------------------------------------------- one cell's server

@contextlib.contextmanager
def cell_server(profile, work):
    """The server a cell measures against, for as long as the cell runs: the ONE
    place that knows where it comes from.  A profile of the library (profiles/NAME.json)
    is served by its replica (lab.replica, `tlsfit replay`) and the fit uses the
    profile instead of probing; a FIXTURES name is a reference server of the lab with a
    fresh PKI in work/."""
    from ..bench.cell import CellServer
    if profile not in FIXTURES:
        from ..fit import device
        from ..lab import replica
        from ..profile import library
        path = library.resolve(profile)
        with replica.serving(path, log=Path(work) / "replay.log") as r:
            identity = replica.device_identity(r)   # a server that asks for a certificate
            yield CellServer(r.host, r.port, sni=r.sni, ca=r.ca_file, proof=r.proof,
                             profile=str(path),
                             client=device.ClientFiles(*identity) if identity else None)
        return
    from ..lab import refservers
    root, inter, leaf, extra, _ = FIXTURES[profile]
    chain = refservers.make_chain(work, "pki", root, inter, leaf, label=f"bench {profile}")
    with refservers.openssl_server(chain, *extra, log_dir=work) as srv:
        yield CellServer(refservers.LOCALHOST, srv.port, sni="localhost",
                         ca=str(chain.root.pem), proof=GET_PROOF)


def profile_label(arg):
    """A profile's name in the matrix: a library or FIXTURES name as it is, a profile
    file by its stem (profiles/x/broker.json -> broker)."""
    return Path(arg).stem if arg.endswith(".json") else arg


def _run_one_cell(args):
    from ..bench.cell import run_cell
    from ..bench.results import CellKey, failed_cell
    if not args.cell_out:
        raise TlsfitError(USAGE, "--cell needs --cell-out FILE")
    source, target, variant = args.cell
    key = CellKey(profile_label(source), target, variant)
    out = Path(args.cell_out)
    work = out.parent / key.slug()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t0 = time.monotonic()
    try:
        with cell_server(source, work) as server:
            cell = run_cell(key, server, work, use_cache=args.fit_cache,
                            fit_target=args.fit_target, cache_dir=args.fit_cache_dir)
    except TlsfitError as e:
        cell = failed_cell(key, e.message, round(time.monotonic() - t0, 1))
        cell["exit_code"] = e.code
        paths.write_atomic(out, json.dumps(cell, indent=1) + "\n")
        raise
    paths.write_atomic(out, json.dumps(cell, indent=1) + "\n")
    say(f"cell {key.label()}: {'ok' if cell['ok'] else 'FAILED'} in {cell['elapsed_s']} s")
    return 0


# ---------------------------------------------------------------- the matrix

def _selection(args):
    from ..profile import library
    from ..target.firmware import fw
    shipped = list(library.names())
    # by default the TCP ones: a fit over DTLS is refused on the targets (DTLS_ON_TARGET)
    profiles = args.profiles or [n for n in shipped if not library.is_dtls(n)] or list(FIXTURES)
    for p in profiles:
        if p.endswith(".json"):
            library.resolve(p)           # a profile file: PROFILE error when it is missing
        elif p not in FIXTURES and p not in shipped:
            raise TlsfitError(USAGE, f"--profiles: unknown profile {p!r} (the library's: "
                                     f"{', '.join(shipped) or 'none'}; the bench's own "
                                     f"servers: {', '.join(FIXTURES)}; or a profile FILE.json)")
    labels = [profile_label(p) for p in profiles]
    if args.fit_target and args.fit_target not in fw.target_names():
        raise TlsfitError(USAGE, f"--fit-target: unknown target {args.fit_target!r} (known: "
                                 f"{', '.join(fw.target_names())}; see targets/)")
    if len(set(labels)) != len(labels):
        raise TlsfitError(USAGE, f"--profiles: two profiles share a name ({', '.join(labels)}); "
                                 "rename one file")
    known = fw.target_names()
    targets = args.targets or known
    for t in targets:
        if t not in known:
            raise TlsfitError(USAGE, f"--targets: unknown target {t!r} (known: "
                                     f"{', '.join(known)}; see targets/)")
    # (CTest runs the cells in its own directory: a profile file is named absolutely)
    return {profile_label(p): str(Path(p).resolve()) if p.endswith(".json") else p
            for p in profiles}, list(dict.fromkeys(targets))


def _argv_of(args, work, sources):
    from ..bench.matrix import cell_path
    launcher = str(paths.repo_root() / "tlsfit")
    glob = ["--mbedtls-dir", args.mbedtls_dir] if args.mbedtls_dir else []
    fit = ([] if args.fit_cache else ["--no-fit-cache"]) + \
        (["--fit-target", args.fit_target] if args.fit_target else []) + \
        (["--fit-cache-dir", str(Path(args.fit_cache_dir).resolve())]
         if args.fit_cache_dir else [])
    return lambda k: [launcher, *glob, "bench", "--cell", sources[k.profile], k.target,
                      k.variant, "--cell-out", str(cell_path(work, k)), *fit]


def _collect(keys, work):
    from ..bench.matrix import cell_path
    from ..bench.results import failed_cell
    cells = []
    for k in keys:
        try:
            cells.append(json.loads(cell_path(work, k).read_text()))
        except (OSError, ValueError):
            cells.append(failed_cell(k, "the cell wrote no result (see CTest's output above)"))
    return cells


def run(args):
    if args.cell:
        return _run_one_cell(args)
    from ..bench import dashboard, gate, matrix, results
    from ..bench.cell import run_info
    if args.tolerance < 0:
        raise TlsfitError(USAGE, f"--tolerance {args.tolerance:g}: must be 0 or more (percent)")
    baseline = results.load(args.check) if args.check else None   # a bad file fails first
    shard = matrix.parse_shard(args.shard) if args.shard else None
    sources, targets = _selection(args)
    profiles = list(sources)
    keys = matrix.cells(profiles, targets, args.variants)
    work = paths.state_dir() / "bench" / "run"
    shutil.rmtree(work, ignore_errors=True)
    matrix.write_ctest(work, keys, _argv_of(args, work, sources), args.timeout,
                       matrix.fit_target_depends(keys, args.fit_target))
    mine = keys[shard[0] - 1::shard[1]] if shard else keys
    say(f"bench: {len(mine)} cells ({len(profiles)} profiles x {len(targets)} targets x "
        f"{len(args.variants)}{f', shard {args.shard}' if shard else ''}) with ctest -j "
        f"{args.jobs} in {display_path(work)}")
    t0 = time.monotonic()
    matrix.run_ctest(work, args.jobs, shard, log=sys.stderr)
    cells = _collect(mine, work)
    info = run_info()
    mbedtls = next((c["mbedtls"] for c in cells if c.get("mbedtls")), None)
    doc = results.document(cells, mbedtls=mbedtls, shard=args.shard, **info)
    rdir = Path(args.results) if args.results else paths.repo_root() / "bench" / "results"
    name = info["commit"] + (f".shard-{shard[0]}-of-{shard[1]}" if shard else "")
    out = rdir / f"{name}.json"
    stored = doc
    if out.is_file():        # a rerun of some cells at this commit keeps the others
        stored = results.merge_by_commit([results.load(out), doc])[0]
    paths.write_atomic(out, json.dumps(stored, indent=1) + "\n")
    index = dashboard.rebuild(rdir, args.tolerance)
    say(f"bench: {len(cells)} cells in {time.monotonic() - t0:.0f} s; results "
        f"{display_path(out)}, dashboard {display_path(index)}")
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print(gate.cells_table(doc))
    failed = [c for c in cells if not c.get("ok")]
    for c in failed:
        say(f"cell {c['profile']} / {c['target']} / {c['variant']} failed: {c.get('error')}")
    if baseline is not None:
        # With a baseline the gate decides: a cell that fails now but verified in the
        # baseline is a regression; one that failed there too is the same fact again.
        c = gate.compare(baseline, doc, args.tolerance)
        print(gate.markdown(c), file=sys.stderr if args.json else sys.stdout)
        if not c.ok:
            raise TlsfitError(REGRESSION, f"size regression against {args.check}: "
                                          + "; ".join(gate.summary_of(c)[:3])
                                          + (" ..." if len(c.regressions) > 3 else ""))
    elif failed:
        first = failed[0]
        # the first failed cell's own exit code; TARGET when it has none (a handshake
        # that failed on the target, CTest's timeout, a signal)
        raise TlsfitError(first.get("exit_code") or TARGET,
                          f"{len(failed)} of {len(cells)} cells failed; first: "
                          f"{first['profile']} / {first['target']} / {first['variant']}: "
                          f"{first.get('error')}")
    return 0
