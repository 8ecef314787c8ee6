"""Running the C prober and keeping what it found.

    run(target, options)  -> profile dict (validated), raising TlsfitError with
                             the prober's own exit code when it fails
    keep(doc, save_as, server=None, script=None)
                          -> writes .tlsfit/last-profile.json and profiles/NAME.json
    prober_build(version) -> {"version", "sources_sha256"}: the prober's provenance

run() adds `provenance.prober` to the profile; keep() adds `provenance.server` (the
server software, for profiles of the shipped library and --server-software) and
`provenance.script` (the script that produced a shipped profile).

The prober prints its one-line error (and --progress lines) on stderr itself;
its stderr is passed straight through, so `tlsfit probe` fails with exactly
the prober's line and exit code.

Time is bounded three ways: the prober's --timeout bounds each read, the
prober ends each connection at 2 x --timeout, and the whole probe is killed at
`deadline` seconds (Options.deadline, default default_deadline()), which fails
with DEADLINE (46) and writes no profile.
"""
import contextlib
import importlib
import os
import re
from collections import namedtuple
import signal
import threading
from pathlib import Path

from ..core import paths
from ..core.errors import DEADLINE, FILE, TlsfitError
from . import build

# The prober's sources: their SHA-256 names the build that wrote a profile (the same
# sources probe the same way whatever compiler built them).
PROBER_SOURCES = ("CMakeLists.txt", "tool/probe", "tool/codec", "tool/errors")
TF_ERR_INTERNAL = 22
DEFAULT_DEADLINE = 120      # seconds for a whole probe: a healthy server takes a few
DELAY_CONNECTIONS = 200     # --delay MS adds MS x this to the default deadline (a probe
                            # makes 30-150 connections, each after the delay)
SAVE_NAME = re.compile(r"[A-Za-z0-9._-]+\Z")


class Options(namedtuple("Options", "sni timeout cas no_system_store delay progress deadline alpn psk dtls "
                                     "client",
                          defaults=(None, None, (), False, None, False, None, (), None, False, None))):
    """What to pass the prober: --sni, --alpn (a tuple of names), --timeout, --ca (each), --no-system-store,
    --delay, --progress, `psk` (a core.pskkey.Psk: --psk-identity and the key on an inherited
    pipe, --psk-key-fd), --dtls (DTLS 1.2 over UDP), `client` (a core.identity.ClientIdentity
    with its key: --client-cert and --client-key, the PATHS; the prober reads them itself and
    presents the certificate in the resumption step to a server that asks for one); and
    `deadline`, the seconds the whole probe may take
    (None: default_deadline()), enforced here (a namedtuple: the probe path does not
    import dataclasses)."""
    __slots__ = ()


def check_save_name(name):
    """Raises ValueError unless NAME is usable as profiles/NAME.json."""
    if not SAVE_NAME.match(name) or name.startswith("."):
        raise ValueError(f"invalid profile name {name!r}: use letters, digits, '.', '_' and '-' "
                         "(not starting with '.')")
    return name


def default_deadline(opts):
    """Seconds the whole probe may take without --deadline: DEFAULT_DEADLINE, plus the
    pauses --delay asks for."""
    return DEFAULT_DEADLINE + (opts.delay or 0) * DELAY_CONNECTIONS // 1000


def prober_argv(binary, target, opts, out_path, psk_fd=None):
    argv = [str(binary)]
    if opts.psk is not None:
        from ..core import pskkey
        argv += pskkey.fd_args(opts.psk, psk_fd)
    if opts.sni is not None:
        argv += ["--sni", opts.sni]
    if opts.alpn:
        argv += ["--alpn", ",".join(opts.alpn)]
    if opts.timeout is not None:
        argv += ["--timeout", str(int(opts.timeout))]
    for ca in opts.cas:
        argv += ["--ca", str(ca)]
    if opts.no_system_store:
        argv.append("--no-system-store")
    if opts.delay is not None:
        argv += ["--delay", str(opts.delay)]
    if opts.progress:
        argv.append("--progress")
    if opts.dtls:
        argv.append("--dtls")
    if opts.client is not None and opts.client.key is not None:
        argv += ["--client-cert", str(opts.client.cert), "--client-key", str(opts.client.key)]
    argv += ["-o", str(out_path), target]
    return argv


# The prober's stdin and stdout: /dev/null (its profile goes to -o FILE, its one-line
# error and progress to the stderr it shares with tlsfit).
_QUIET_STDIO = ((os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0))


def _run_bounded(argv, limit, meanwhile=None):
    """Runs argv to completion, killed after `limit` seconds; (return code as
    subprocess gives it -- -N when signal N killed it --, timed out?, what meanwhile()
    returned).  meanwhile, when given, runs while the child does (an exception from it
    kills the child).

    os.posix_spawn and os.waitid/waitpid, not subprocess (whose import is ~2.5 ms of
    every `tlsfit probe`), and a blocking wait (subprocess's timeout polls with
    sleeps).  Invariant: the child is signalled only while it has not been reaped, so
    a kill never reaches a recycled pid -- the waiter first waits with WNOWAIT (the
    child stays a zombie), then marks it reaped and reaps it under the lock the
    deadline timer takes to kill."""
    lock = threading.Lock()
    child = {"pid": None, "reaped": False, "expired": False}

    def kill(expired):
        with lock:
            if child["pid"] is not None and not child["reaped"]:
                child["expired"] |= expired
                os.kill(child["pid"], signal.SIGKILL)

    def reap():
        with lock:
            child["reaped"] = True
            return os.waitstatus_to_exitcode(os.waitpid(child["pid"], 0)[1])

    timer = threading.Timer(limit, kill, (True,))
    timer.daemon = True
    try:
        # Everything after the spawn is inside the try: a signal (Interrupted) that
        # arrives while the timer thread starts must still kill the prober, or it
        # outlives tlsfit holding its stderr.
        child["pid"] = os.posix_spawn(argv[0], argv, os.environ, file_actions=_QUIET_STDIO)
        timer.start()
        early = meanwhile() if meanwhile else None
        os.waitid(os.P_PID, child["pid"], os.WEXITED | os.WNOWAIT)
        rc = reap()
    except BaseException:
        if child["pid"] is not None and not child["reaped"]:
            kill(False)
            reap()
        raise
    finally:
        timer.cancel()
    return rc, child["expired"], early


def _remove_work(work):
    """The probe's work directory holds the profile file at most (shutil.rmtree would
    cost `tlsfit probe` its import)."""
    for f in work.iterdir():
        try:
            f.unlink()
        except OSError:
            pass
    try:
        work.rmdir()
    except OSError:
        pass


def _sha256():
    try:
        from _sha256 import sha256      # no OpenSSL start-up (see build.py)
    except ImportError:
        from hashlib import sha256
    return sha256()


def _source_files(root):
    """[(path relative to root, posix; absolute path)] of PROBER_SOURCES, sorted
    (os.walk: pathlib's rglob costs a probe two more milliseconds)."""
    found = []
    for rel in PROBER_SOURCES:
        top = os.path.join(root, rel)
        if not os.path.isdir(top):
            found.append((rel, top))
            continue
        for d, _, names in os.walk(top):
            found.extend((os.path.relpath(os.path.join(d, n), root).replace(os.sep, "/"),
                          os.path.join(d, n)) for n in names)
    return sorted(found)


def sources_sha256(root=None):
    """SHA-256 (hex) over PROBER_SOURCES: each file's path relative to the checkout,
    its length and its bytes, in path order."""
    root = Path(root) if root is not None else paths.repo_root()
    h = _sha256()
    for rel, f in _source_files(root):
        with open(f, "rb") as fh:
            data = fh.read()
        h.update(f"{rel}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def _cached_sources_sha256():
    """sources_sha256() of the checkout, remembered in <cache>/prober-sources.sha256 under
    a fingerprint of the checkout's path and its files' paths, sizes and mtimes: hashing
    the sources costs ~7 ms of every `tlsfit probe`, the fingerprint ~1.5 ms."""
    root = paths.repo_root()
    h = _sha256()
    h.update(f"{root}\n".encode())
    for rel, f in _source_files(root):
        st = os.stat(f)
        h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    fingerprint = h.hexdigest()
    memo = paths.cache_dir() / "prober-sources.sha256"
    try:
        known, digest = memo.read_text().split()
        if known == fingerprint and len(digest) == 64:
            return digest
    except (OSError, ValueError):
        pass
    digest = sources_sha256(root)
    try:
        paths.write_atomic(memo, f"{fingerprint} {digest}\n")
    except TlsfitError:
        pass                        # a read-only cache only costs the hashing next time
    return digest


def _while_probing():
    """What run() does while the prober runs: imports the validator, returns
    sources_sha256 (prober_build's digest)."""
    importlib.import_module(".model", __package__)   # used once the prober is done
    return prober_build("")["sources_sha256"]


def prober_build(version):
    """provenance.prober: the prober's version (tool.version) and sources_sha256."""
    try:
        digest = _cached_sources_sha256()
    except OSError as e:
        raise TlsfitError(FILE, f"cannot read the prober's sources to record the profile's "
                                f"provenance: {e.strerror}") from None
    return {"version": version, "sources_sha256": digest}


def with_provenance(doc, server=None, script=None):
    """doc with provenance.server (a dict of model.PROVENANCE_SERVER_KEYS, software
    required) and provenance.script added; validated again."""
    from . import model
    doc = dict(doc)
    prov = dict(doc.get("provenance") or {})
    if server is not None:
        prov["server"] = {k: server[k] for k in model.PROVENANCE_SERVER_KEYS if server.get(k)}
    if script is not None:
        prov["script"] = script
    doc["provenance"] = prov
    return model.validate(doc, "the profile's provenance")


def run(target, opts=None, binary=None):
    """Probes target ("host[:port]") and returns the validated profile."""
    opts = opts or Options()
    binary = binary or build.ensure_prober()
    state = paths.state_dir()
    try:
        state.mkdir(parents=True, exist_ok=True)
        work = paths.unique_dir(state, "probe-")
    except OSError as e:
        raise TlsfitError(FILE, f"cannot create a work directory in {state}: {e.strerror}") from None
    out = work / "profile.json"
    try:
        deadline = opts.deadline if opts.deadline is not None else default_deadline(opts)
        # While the prober talks to the server (tens of milliseconds at least), the
        # driver imports the validator and hashes the prober's sources: `tlsfit probe`
        # then costs little more than the prober itself (bench/startup_bench.py).
        with contextlib.ExitStack() as stack:
            psk_fd = None
            if opts.psk is not None:
                from ..core import pskkey
                psk_fd = stack.enter_context(pskkey.key_pipe(opts.psk))
            rc, timed_out, digest = _run_bounded(prober_argv(binary, target, opts, out, psk_fd),
                                                 deadline, _while_probing)
        if timed_out and rc == -signal.SIGKILL:
            raise TlsfitError(DEADLINE, f"{target}: the probe did not finish within its deadline "
                                        f"of {deadline} s and was stopped; no profile was written "
                                        "(a slow server: raise --deadline; a server that holds "
                                        "connections open: lower --timeout)")
        if rc < 0:
            sig = signal.Signals(-rc).name
            raise TlsfitError(TF_ERR_INTERNAL, f"{target}: tlsfit-probe was killed by {sig} "
                                               "(a bug in the prober; please report it)")
        if rc != 0:
            # The prober has printed its own one-line error; pass its code through.
            raise TlsfitError(rc, "", quiet=True)
        if not out.exists():
            raise TlsfitError(TF_ERR_INTERNAL, f"{target}: tlsfit-probe exited 0 but wrote no "
                                               "profile (a bug in the prober)")
        from . import model
        doc = model.load(out, name=f"tlsfit-probe's profile of {target}")
        doc["provenance"] = {"prober": {"version": doc["tool"]["version"],
                                        "sources_sha256": digest}}
        return model.validate(doc, f"tlsfit-probe's profile of {target}")
    finally:
        _remove_work(work)


def keep(doc, save_as=None, server=None, script=None):
    """Stores the profile as the last one and, with save_as, as profiles/NAME.json,
    with provenance.server / provenance.script when given (with_provenance).
    Returns the list of paths written."""
    from . import model
    if server is not None or script is not None:
        doc = with_provenance(doc, server, script)
    written = [model.save(doc, paths.last_profile_path())]
    if save_as:
        written.append(model.save(doc, paths.profiles_dir() / f"{check_save_name(save_as)}.json"))
    return written
