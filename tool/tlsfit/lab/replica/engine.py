"""The replica's engine: tool/replay/ (tlsfit-replay, OpenSSL), built with the
prober's cmake tree, started on 127.0.0.1 with the plan's options and chain, and
stopped with every connection it serves.

    with serving("profiles/nginx-intermediate.json") as r:     # or a Profile, port=N
        r.host, r.port, r.ca_file, r.sni, r.proof, r.differences
"""
import contextlib
import os
import selectors
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ...core import paths, pskkey
from ...core.errors import REPLAY, TlsfitError
from ...core.text import say
from ...profile import model as profile_mod
from ...profile.types import Profile
from .pki import chain_dir, size_differences
from .planning import HOST, ReplicaPlan, plan

BINARY = "tlsfit-replay"
READY_TIMEOUT = 20          # seconds for the engine to listen


@dataclass(frozen=True)
class Replica:
    """A running replica: where it listens, the trust anchor to verify it with, what
    differs from the profiled server (one line each: the plan's, the engine's, the
    chain's sizes), the synthesized chain, and the plan it serves (the name its leaf is
    issued to, the proof it answers, whether it requests a client certificate)."""
    host: str
    port: int
    ca_file: str                # None for a PSK-only replica (no chain)
    differences: tuple
    chain_dir: str              # the synthesized chain (device_identity issues from it); None: no chain
    plan: ReplicaPlan

    @property
    def sni(self):
        return self.plan.sni

    @property
    def proof(self):
        return self.plan.proof

    @property
    def requires_client(self):
        """The profiled server requested a client certificate."""
        return self.plan.requires_client

    @property
    def dtls(self):
        """The replica serves DTLS 1.2 over UDP (a profile probed with --dtls)."""
        return "--dtls" in self.plan.engine_args

    @property
    def hostport(self):
        return f"{self.host}:{self.port}"

    def as_json(self):
        return {"host": self.host, "port": self.port, "ca_file": self.ca_file,
                "sni": self.sni, "proof": self.proof.spec, "dtls": self.dtls,
                "differences": list(self.differences),
                "requires_client_cert": self.requires_client}


def ensure_engine():
    """Builds tlsfit-replay (with the prober's cmake tree) if needed; its path."""
    from ...mbedtls.tree import prober_tree
    from ...profile import build
    mbedtls = prober_tree().path
    build_dir = build.host_build_dir(mbedtls)
    binary = build_dir / BINARY
    stamp = build_dir / build.STAMP.format(BINARY)
    src = paths.repo_root() / "tool" / "replay"
    newest = max(f.stat().st_mtime for f in [src, *src.iterdir()])
    fresh = build.up_to_date(build_dir, mbedtls, BINARY) and stamp.stat().st_mtime >= newest
    if not fresh:
        build.cmake_build(build_dir, mbedtls, target=BINARY,
                          announce=lambda first: say("building the replica server "
                                                     "(tool/replay)..."))
    if not os.access(binary, os.X_OK):
        raise TlsfitError(REPLAY, f"{binary} was not built: is libssl-dev installed? "
                                  "(./tlsfit setup installs it)")
    return binary


def _read_ready(proc, deadline):
    """The engine's "differs:" lines and its port, read from its stdout."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf, diffs = b"", []
    try:
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                return diffs, None
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode(errors="replace").strip()
                if text.startswith("differs: "):
                    diffs.append(text[len("differs: "):])
                elif text.startswith("listening "):
                    return diffs, int(text.split()[-1])
    finally:
        sel.close()
    return diffs, None


def _stop(proc):
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)         # children left behind, if any
    if proc.poll() is None:
        proc.wait(timeout=5)


def resolve(name_or_path):
    """A name in profiles/ or a profile file, as a Path (profile.library's rule); PROFILE
    error (32) naming the available names otherwise."""
    from ...profile import library
    return library.resolve(name_or_path)


def _load(profile):
    if isinstance(profile, Profile):
        return profile
    return Profile.of(profile_mod.read(profile))


def _log_dir(d):
    """Where an engine log goes by default: beside the chain, or (a PSK-only replica,
    no chain) <cache>/replay."""
    if d is not None:
        return d
    root = paths.cache_dir() / "replay"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _start(argv, log_path, psk):
    """The engine process; with psk, its key on an inherited pipe (--psk-key-fd)."""
    with contextlib.ExitStack() as stack:
        fds = ()
        if psk is not None:
            key_fd = stack.enter_context(pskkey.key_pipe(psk))
            argv = [*argv, "--psk-identity", psk.identity, "--psk-key-fd", str(key_fd)]
            fds = (key_fd,)
        with open(log_path, "wb") as err:
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=err, start_new_session=True, pass_fds=fds)


@contextlib.contextmanager
def serving(profile, port=0, log=None, psk=None):
    """A Replica of `profile` (a path, or a Profile) on 127.0.0.1:port (0: a free port)
    for the with-block; stopped (with every connection it serves) after it.  `log`: a
    file for the engine's stderr (default <chain dir>/replay.log).  `psk`: a
    core.pskkey.Psk, for the PSK suites of a DTLS profile (dgram.py)."""
    prof = _load(profile)
    p = plan(prof, psk_given=psk is not None)
    binary = ensure_engine()
    d = chain_dir(p) if p.has_chain else None
    argv = [str(binary), "--port", str(port), *p.engine_args]
    if d is not None:
        argv += ["--cert", str(d / "fullchain.pem"), "--key", str(d / "leaf.key")]
    if p.client_ca_names:
        argv += ["--client-ca", str(d / "client-cas.pem")]
    if log:
        log_path = Path(log)
    else:                               # one per replica: several may serve one chain
        fd, name = tempfile.mkstemp(prefix="replay-", suffix=".log", dir=_log_dir(d))
        os.close(fd)
        log_path = Path(name)
    proc = _start(argv, log_path, psk)
    try:
        diffs, bound = _read_ready(proc, time.monotonic() + READY_TIMEOUT)
        if bound is None:
            _stop(proc)
            why = log_path.read_text(errors="replace").strip().splitlines()
            raise TlsfitError(REPLAY, "the replica did not start: "
                              + (why[-1].removeprefix("tlsfit-replay: ") if why else
                                 f"no port after {READY_TIMEOUT} s")
                              + (f" (port {port})" if port else "")
                              + "".join(f"; {d}" for d in diffs))
        sizes = tuple(size_differences(p, d)) if d is not None else ()
        yield Replica(HOST, bound, str(d / "ca.pem") if d is not None else None,
                      p.differences + tuple(diffs) + sizes, str(d) if d is not None else None,
                      p)
    finally:
        _stop(proc)
        proc.stdout.close()
        with contextlib.suppress(OSError):
            if not log:
                log_path.unlink()
