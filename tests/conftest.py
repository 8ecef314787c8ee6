"""Session fixtures shared by the tests.

    prober        path of tlsfit-probe, built by the driver (tlsfit.build), or
                  $TLSFIT_PROBER when set (e.g. the sanitizer build)
    pki           the reference PKI (tlsfit.refservers.standard_pki), made once
    server_logs   directory for the reference servers' logs
    run_probe     run_probe(target, *args, timeout=60) -> ProbeResult
    run_driver    run_driver(*args, timeout=120) -> CompletedProcess of `python3 -m tlsfit.cli`
    budget_fit    one small fit (SharedFit) shared by the tests that read its outputs

Helpers: require_tools(*programs) fails a module whose cross toolchain, QEMU or
servers are missing; profile_error(doc_or_text) is the one-line PROFILE message.

Markers (pytest.ini; docs/testing.md): server, qemu, fit, fast.  Besides the marks the
test files write, collection adds the kinds a test's source and fixtures start
(tests/markers.py), and the summary names a test that started a server, QEMU or a fit
its marks do not say.

Everything runs on 127.0.0.1 and under a hard timeout.
"""
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))

import markers  # noqa: E402
import scheduling  # noqa: E402
from tlsfit.lab import refservers  # noqa: E402
from tlsfit.profile import model as profile, build  # noqa: E402
from tlsfit.core.errors import PROFILE, TlsfitError  # noqa: E402

DEBIAN_PYTHON = "/usr/bin/python3"


def pytest_collection_modifyitems(config, items):
    """Adds server/qemu/fit to each test whose source or fixtures start them
    (tests/markers.py), a test marked fit is a qemu test too; fast to FAST_TESTS."""
    for item in items:
        if item.nodeid in markers.FAST_TESTS:
            item.add_marker("fast")
        have = {m.name for m in item.iter_markers() if m.name in markers.KINDS}
        if "fit" in have:
            have.add("qemu")
        for kind in sorted(markers.auto_marks(item) | have):
            if kind not in {m.name for m in item.iter_markers()}:
                item.add_marker(kind)
    if hasattr(config, "workerinput"):      # a pytest-xdist worker: the costliest files first
        scheduling.order(items)


_UNMARKED = []      # (nodeid, kinds it started without the mark)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    with markers.Spawns() as spawned:
        yield
    have = {m.name for m in item.iter_markers()}
    missing = spawned.kinds - have
    if missing and not markers.reads_itself(item):
        _UNMARKED.append((item.nodeid, sorted(missing)))


def pytest_sessionfinish(session):
    """A pytest-xdist worker hands its _UNMARKED to the controller (pytest_testnodedown)."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["tlsfit_unmarked"] = [[n, k] for n, k in _UNMARKED]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    _UNMARKED.extend((n, k) for n, k in getattr(node, "workeroutput", {}).get("tlsfit_unmarked", []))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile with a file's SHARED group as one unit (tests/scheduling.py)."""
    if config.getvalue("dist") == "loadfile":
        return scheduling.make_scheduler(config, log)
    return None


def pytest_terminal_summary(terminalreporter):
    if not _UNMARKED:
        return
    tr = terminalreporter
    tr.section("tests that started what their marks do not say (tests/markers.py)")
    for nodeid, kinds in _UNMARKED:
        tr.write_line(f"{nodeid}: started {', '.join(kinds)}; add @pytest.mark.{kinds[0]}")


def require_tools(*programs):
    """pytest.fail naming what is missing: the cross toolchain and QEMU, and programs."""
    import shutil
    from tlsfit.target.firmware import fw
    missing = fw.toolchain_missing() + [p for p in programs if not shutil.which(p)]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run ./tlsfit setup", pytrace=False)


def default_stop_signals():
    """preexec_fn for a child a test stops with SIGINT, SIGTERM or SIGHUP: those three at
    their default disposition.  A suite started with nohup ignores SIGHUP, one started with
    `&` from a script ignores SIGINT; a child inherits SIG_IGN, and tlsfit keeps an ignored
    signal ignored (core/interrupt.py), so the signal would not stop it."""
    import signal
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def write_shared(path, data):
    """Writes bytes to a fixed path that pytest-xdist's workers may write at the same time
    (the same bytes): a unique temporary file renamed over it, so a reader never sees it
    half written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def profile_error(doc_or_text, name="p.json"):
    """The one-line exit-32 message the validator gives for a document or text."""
    with pytest.raises(TlsfitError) as info:
        if isinstance(doc_or_text, (str, bytes)):
            profile.loads(doc_or_text, name)
        else:
            profile.validate(doc_or_text, name)
    e = info.value
    assert e.code == PROFILE
    assert "\n" not in e.message
    return e.message


@pytest.fixture(scope="session")
def tree36():
    """The mbedTLS 3.6 tree `./tlsfit setup` fetched (or $MBEDTLS_DIR); without it the
    test fails naming why."""
    from tlsfit.mbedtls.tree import resolve_tree
    try:
        return resolve_tree(line="3.6")
    except TlsfitError as e:
        pytest.fail(f"no mbedTLS 3.6 tree: {e.message}", pytrace=False)


@pytest.fixture(scope="session")
def prober():
    try:
        return build.ensure_prober()
    except TlsfitError as e:
        pytest.fail(f"cannot build the prober: {e.message}", pytrace=False)


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return refservers.standard_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory):
    return tmp_path_factory.mktemp("server-logs")


@dataclass
class ProbeResult:
    argv: list
    returncode: int
    stdout: str
    stderr: str
    elapsed: float
    profile: dict = None

    @property
    def stderr_lines(self):
        return self.stderr.splitlines()

    def explain(self):
        return (f"$ {' '.join(self.argv)}\nexit {self.returncode} after {self.elapsed:.1f} s\n"
                f"--- stderr ---\n{self.stderr}--- stdout ---\n{self.stdout[:2000]}")


@pytest.fixture
def run_probe(prober, tmp_path):
    """Runs tlsfit-probe with -o into tmp_path; on exit 0 the profile is loaded and
    validated against schema v1 (tlsfit.profile), so every probe test checks the schema."""
    counter = iter(range(1000))

    def run(target, *args, timeout=120, validate=True):
        out = tmp_path / f"profile-{next(counter)}.json"
        argv = [str(prober), *map(str, args), "-o", str(out), target]
        start = time.monotonic()
        try:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"$ {' '.join(argv)}\nstill running after {timeout} s "
                        f"(stderr so far: {e.stderr!r})", pytrace=False)
        res = ProbeResult(argv, proc.returncode, proc.stdout, proc.stderr,
                          time.monotonic() - start)
        if proc.returncode == 0 and validate:
            if not out.exists():
                pytest.fail(f"exit 0 but no profile written\n{res.explain()}", pytrace=False)
            try:
                res.profile = profile.load(out)
            except TlsfitError as e:
                raw = out.read_text(errors="replace")[:3000]
                pytest.fail(f"the profile does not match schema v1: {e.message}\n"
                            f"{res.explain()}\n--- profile ---\n{raw}", pytrace=False)
        return res

    return run


def run_tlsfit(prober, state_dir, *args, timeout=180, env_extra=None):
    """`/usr/bin/python3 -m tlsfit.cli ARGS` with the session's prober and a state dir."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "tool")
    env["TLSFIT_PROBER"] = str(prober)
    env["TLSFIT_STATE_DIR"] = str(state_dir)
    env.update(env_extra or {})
    python = DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable
    return subprocess.run([python, "-m", "tlsfit.cli", *map(str, args)], cwd=REPO, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def run_driver(prober, tmp_path):
    """Runs `/usr/bin/python3 -m tlsfit.cli ARGS` with the session's prober."""

    def run(*args, timeout=180, env_extra=None):
        return run_tlsfit(prober, tmp_path / "state", *args, timeout=timeout,
                          env_extra=env_extra)

    return run


@dataclass
class SharedFit:
    proc: subprocess.CompletedProcess   # the fit's exit, stdout and stderr
    out: Path                           # its --out directory
    chain: object                       # the server's refservers chain
    hostport: str                       # the server it fitted (stopped now)


# The shared fit's hang guard (a limit, not an assertion): cold, it took 306 s alone on an
# idle machine and over 600 s beside the other worker's cross builds at load 30 (2026-12-07).
BUDGET_FIT_LIMIT = 1500


@pytest.fixture(scope="session")
def budget_fit(prober, server_logs, tmp_path_factory):
    """One small fit, run once per session and read by every test that inspects a fit of
    its kind (and the fast tier's fit): a P-256 chain served TLS 1.3 only by openssl
    s_server, `tlsfit fit --objective rom --candidates 1 --jobs 1 --max-rom 16K
    --max-heap 1M`, which is over its ROM budget (exit 47, report written)."""
    require_tools("openssl")
    d = tmp_path_factory.mktemp("budget-fit")
    chain = refservers.make_chain(d, "pki", "ec:P-256", "ec:P-256", "ec:P-256")
    with refservers.openssl_server(chain, "-tls1_3", log_dir=server_logs) as srv:
        proc = run_tlsfit(prober, d / "state", "fit", srv.hostport, "--sni", "localhost",
                          "--ca", chain.root.pem, "--objective", "rom", "--candidates", "1",
                          "--jobs", "1", "--out", d / "fit", "--max-rom", "16K",
                          "--max-heap", "1M", timeout=BUDGET_FIT_LIMIT)
    return SharedFit(proc, d / "fit", chain, srv.hostport)


# ------------------------------------------------------------ mbedTLS 4.0 (shared/upstream)

MBEDTLS4_ARCHIVE = "mbedtls-4.0.0.tar.xz"


def upstream_dir():
    env = os.environ.get("TLSFIT_UPSTREAM")
    return Path(env) if env else REPO.parent / "shared" / "upstream"


def upstream_archive():
    path = upstream_dir() / MBEDTLS4_ARCHIVE
    if not path.is_file():
        pytest.skip(f"no {path} (shared/upstream beside the checkout, or $TLSFIT_UPSTREAM): "
                    "the mbedTLS 4.0 release archive these tests build with")
    return path


@pytest.fixture(scope="session")
def tree4():
    """The set-up cache's 4.0 tree, unpacked from shared/upstream when it has none (a
    skip, saying why, without it)."""
    from tlsfit.core.errors import MBEDTLS4_MISSING, TlsfitError
    from tlsfit.mbedtls import archive, tree as tree_mod
    src = upstream_archive()
    try:
        return tree_mod.resolve_tree(line="4.0")
    except TlsfitError as e:
        if e.code != MBEDTLS4_MISSING:
            raise
    return archive.install_archive(src)[0]


@pytest.fixture(scope="session")
def rules():
    """The shipped rules.toml, loaded once (header/rules.py)."""
    from tlsfit.header import rules as rules_mod
    return rules_mod.load()


@pytest.fixture(scope="session")
def cost(rules):
    """gen's cost function over the shipped rules and costs.json."""
    from tlsfit.header.costs import load_costs, make_cost
    return make_cost(rules, load_costs())
