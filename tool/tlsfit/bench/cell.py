"""One cell of the matrix, measured: a fit (variant "fitted") or mbedTLS's default
configuration (variant "default") on one target against one server.

    server = CellServer("127.0.0.1", 4433, sni="localhost", ca="root.pem", proof=None)
    cell = run_cell(CellKey("ecdsa", "cortex-m4", "fitted"), server, work_dir)

The server is given (where it comes from -- a reference server of the lab, a replica
of a profile -- is the command line's business); `profile` is the profile file the
fit uses instead of probing, when there is one.  Also what a results file records
about the tools: run_info().
"""
import datetime
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..core import paths
from ..fit import search
from ..mbedtls import baseline, tree as tree_mod
from ..target import measure
from ..target.firmware import fw
from . import fitcache
from .results import cell_from_measurement, cell_from_report

OBJECTIVE = "rom"   # the bench's fit objective: ROM is what the gate guards, and the
#                     rom objective's choice does not hinge on instruction counts,
#                     which move a little between runs


@dataclass(frozen=True)
class CellServer:
    host: str
    port: int
    sni: str = None
    ca: str = None
    proof: object = None
    profile: str = None
    client: object = None       # fit.device.ClientFiles: the device identity it accepts


def run_cell(key, server, work, objective=OBJECTIVE, jobs=1, line=None, use_cache=True,
             fit_target=None, cache_dir=None):
    """The cell's results entry (results.py); TlsfitError as fit and measure raise.
    A fitted cell goes through the fit cache (bench/fitcache.py) unless use_cache is
    False (cache_dir: the cache's directory, default <cache>/fits); fit_target: fit
    on that target and measure the header on the cell's."""
    t0 = time.monotonic()
    line = line or tree_mod.default_line()
    if key.variant == "fitted":
        opts = search.FitOptions(target=key.target, objective=objective, line=line,
                                 sni=server.sni, ca=server.ca, jobs=jobs,
                                 profile=server.profile, proof=server.proof,
                                 client=server.client)
        report = fitcache.fit_or_remeasure(f"{server.host}:{server.port}", opts,
                                           Path(work) / "fit", fit_target=fit_target,
                                           use_cache=use_cache, cache_dir=cache_dir)
        return cell_from_report(key.profile, report, round(time.monotonic() - t0, 1))
    tree = tree_mod.resolve_tree(None, line)
    header = baseline.baseline_config(tree, progress=True)
    m = measure.measure(measure.MeasureRequest(
        header, key.target, server.host, server.port, sni=server.sni, ca=server.ca, tree=tree,
        proof=server.proof, **search.client_kwargs(server.client)))
    return cell_from_measurement(key.profile, key.target, key.variant, m,
                                 round(time.monotonic() - t0, 1))


def _git(*args):
    try:
        p = subprocess.run(["git", "-C", str(paths.repo_root()), *args], capture_output=True,
                           text=True, stdin=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout.strip() if p.returncode == 0 else None


def run_info():
    """{commit, commit_date, run_at, tlsfit, compiler}: the commit is HEAD's short hash,
    "-dirty" appended when tracked files differ from it (a results file must not claim
    a commit it was not measured at)."""
    commit = _git("rev-parse", "--short=7", "HEAD") or "unknown"
    if _git("status", "--porcelain", "--untracked-files=no"):
        commit += "-dirty"
    try:
        p = subprocess.run([fw.CC, "--version"], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=30)
        compiler = p.stdout.splitlines()[0] if p.stdout else None
    except (OSError, subprocess.TimeoutExpired):
        compiler = None
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"commit": commit, "commit_date": _git("show", "-s", "--format=%cI", "HEAD"),
            "run_at": now, "tlsfit": __version__, "compiler": compiler}
