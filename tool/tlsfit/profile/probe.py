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
"""
import os
import re
from collections import namedtuple
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from ..core import paths
from ..core.errors import FILE, TlsfitError
from . import model, prober

# The prober's sources: their SHA-256 names the build that wrote a profile (the same
# sources probe the same way whatever compiler built them).
PROBER_SOURCES = ("CMakeLists.txt", "tool/probe", "tool/codec")
TF_ERR_TIMEOUT = 12
TF_ERR_INTERNAL = 22
HARD_LIMIT = 900            # seconds: a guard in case the prober hangs despite --timeout
SAVE_NAME = re.compile(r"[A-Za-z0-9._-]+\Z")


class Options(namedtuple("Options", "sni timeout cas no_system_store delay progress",
                          defaults=(None, None, (), False, None, False))):
    """What to pass the prober: --sni, --timeout, --ca (each), --no-system-store,
    --delay, --progress (a namedtuple: the probe path does not import dataclasses)."""
    __slots__ = ()


def check_save_name(name):
    """Raises ValueError unless NAME is usable as profiles/NAME.json."""
    if not SAVE_NAME.match(name) or name.startswith("."):
        raise ValueError(f"invalid profile name {name!r}: use letters, digits, '.', '_' and '-' "
                         "(not starting with '.')")
    return name


def prober_argv(binary, target, opts, out_path):
    argv = [str(binary)]
    if opts.sni is not None:
        argv += ["--sni", opts.sni]
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
    argv += ["-o", str(out_path), target]
    return argv


def _run_bounded(argv, limit):
    """Runs argv to completion, killed after `limit` seconds; (process, timed out?).
    A timer thread kills it, so the wait itself blocks in waitpid: subprocess.run's
    timeout polls with sleeps that add up to tens of milliseconds to a short probe."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    expired = threading.Event()

    def kill():
        expired.set()
        proc.kill()
    timer = threading.Timer(limit, kill)
    timer.daemon = True
    timer.start()
    try:
        proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        timer.cancel()
    return proc, expired.is_set()


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
        from _sha256 import sha256      # no OpenSSL start-up (see prober.py)
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
    binary = binary or prober.ensure_prober()
    state = paths.state_dir()
    try:
        state.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="probe-", dir=state))
    except OSError as e:
        raise TlsfitError(FILE, f"cannot create a work directory in {state}: {e.strerror}") from None
    out = work / "profile.json"
    try:
        proc, timed_out = _run_bounded(prober_argv(binary, target, opts, out), HARD_LIMIT)
        if timed_out:
            raise TlsfitError(TF_ERR_TIMEOUT, f"{target}: tlsfit-probe did not finish within "
                                              f"{HARD_LIMIT} s and was stopped")
        if proc.returncode < 0:
            sig = signal.Signals(-proc.returncode).name
            raise TlsfitError(TF_ERR_INTERNAL, f"{target}: tlsfit-probe was killed by {sig} "
                                               "(a bug in the prober; please report it)")
        if proc.returncode != 0:
            # The prober has printed its own one-line error; pass its code through.
            raise TlsfitError(proc.returncode, "", quiet=True)
        if not out.exists():
            raise TlsfitError(TF_ERR_INTERNAL, f"{target}: tlsfit-probe exited 0 but wrote no "
                                               "profile (a bug in the prober)")
        doc = model.load(out, name=f"tlsfit-probe's profile of {target}")
        doc["provenance"] = {"prober": prober_build(doc["tool"]["version"])}
        return model.validate(doc, f"tlsfit-probe's profile of {target}")
    finally:
        _remove_work(work)


def keep(doc, save_as=None, server=None, script=None):
    """Stores the profile as the last one and, with save_as, as profiles/NAME.json,
    with provenance.server / provenance.script when given (with_provenance).
    Returns the list of paths written."""
    if server is not None or script is not None:
        doc = with_provenance(doc, server, script)
    written = [model.save(doc, paths.last_profile_path())]
    if save_as:
        written.append(model.save(doc, paths.profiles_dir() / f"{check_save_name(save_as)}.json"))
    return written
