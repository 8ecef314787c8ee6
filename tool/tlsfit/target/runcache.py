"""Linked images and their measured results, cached by content.

    elf, map_path, seconds, hit = runcache.link(xb, request)     the image cache
    report = runcache.lookup(elf, request)       a stored result of this image, or None
    runcache.store(elf, request, report, out)    after a QEMU session
    server_facts(profile) -> sha256 hex of what a server showed its probe

The image cache: the firmware image is a function of its inputs -- the cross build
(xb.key: header, overlay, target, flags, tree, compiler; LTO or not), the harness and
firmware sources and the target's file (every file of FIRMWARE_INPUTS), the compile
flags and run_params.c's text (anchors, server name, heap limit, seed, proof), and
for a DTLS request (-DTLSFIT_DTLS) that it is one.  The
SHA-256 of all of them names a directory $TLSFIT_CACHE/images/<key>/ holding the ELF
and its map (and the plain twin of an LTO image), so a header that changes nothing a
trial before it (an ablation step whose option gen's rules put back, a comment) links
once.  An image with a device identity is never cached (its run_params.c held the
key), nor anything of a request with a pre-shared key (the relay sends it; the outcome
depends on it).  A resuming request (TLSFIT_RESUME) is its own image and result.

The result cache: a report of one QEMU session is stored under the SHA-256 of
(the ELF's bytes, the request's server facts, host, timeout, the target's file: a
local server started again on another port with the same certificates is the same).
It is used only when the request carries server_facts (fit sets them from each
server's probe: server_facts() of its profile) and is not `live`; the stored report
names the image's hash and the facts, and lookup() checks both before using it.  Only
sessions that ended on their own (the firmware printed its result: a handshake that
completed, or one the server or the header refused) are stored -- a timeout, a server
that hung up or could not be reached is not a fact about the image, nor a DTLS
handshake that ended on a timeout or heard nothing (DTLS_NOT_FACTS).  A hit's report
says so: "cached_result" {image_sha256, server_facts, measured_at}.
"""
import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from functools import lru_cache
from pathlib import Path

from ..core import paths
from ..core.errors import TlsfitError
from . import timings
from .image import link_firmware, plain_image
from .params import run_params_c

FORMAT = "tlsfit-runcache-1"
# Directories (relative to the repository root) whose every file goes into an image:
# the firmware, the harness it shares with the verify client, the proof, the error
# table the firmware names failures from, and the targets' memory maps and flags.
FIRMWARE_INPUTS = ("tool/firmware", "tool/harness", "tool/proof", "tool/errors", "targets")
# Profile fields that are not facts about how the server behaves (when and how it was
# probed), and record sizes that change by a byte with each ECDSA signature.
PROFILE_NOT_FACTS = ("probed_at", "stats", "provenance")
RECORD_JITTER = ("max_record_len", "max_plaintext_len", "max_handshake_msg_len",
                 "certificate_msg_len")
RESULT_NAME = "result.json"


def _root():
    """$TLSFIT_RUNCACHE, else the tlsfit cache (bench/fit_time.py gives each run its own)."""
    explicit = os.environ.get("TLSFIT_RUNCACHE")
    return Path(explicit).expanduser() if explicit else paths.cache_dir()


def images_dir():
    return _root() / "images"


def results_dir():
    return _root() / "results"


def _digest(parts):
    h = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


@lru_cache(maxsize=None)
def _inputs_digest(stamp):
    """SHA-256 over every file of FIRMWARE_INPUTS (stamp: their names and mtimes, so
    an edit is seen and an unchanged tree is hashed once per process)."""
    root = paths.repo_root()
    parts = []
    for rel in FIRMWARE_INPUTS:
        for f in sorted((root / rel).rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                parts += [str(f.relative_to(root)), f.read_bytes()]
    return _digest(parts)


def firmware_inputs_digest():
    root = paths.repo_root()
    stamp = tuple((str(f), f.stat().st_mtime_ns) for rel in FIRMWARE_INPUTS
                  for f in sorted((root / rel).rglob("*")) if f.is_file())
    return _inputs_digest(stamp)


def image_key(xb, request):
    """The image cache key of link_firmware(xb, request) (see the module docstring)."""
    params = run_params_c(request.anchors, request.sni, request.heap_limit, request.seed,
                          proof=request.proof, client=request.client)
    return _digest([FORMAT, "image", xb.key, xb.lto, xb.target, firmware_inputs_digest(),
                    " ".join(map(str, xb.cflags())), bool(getattr(request, "resume", False)),
                    params] + (["dtls"] if getattr(request, "dtls", False) else []))


def _names(elf, lto):
    names = [elf, elf.with_suffix(".map")]
    if lto:
        names += list(plain_image(elf))
    return names


def link(xb, request):
    """(elf, map, seconds, hit): the image of link_firmware(xb, request), from the
    image cache when it holds one with the same inputs.  Counts under "link"."""
    began = time.monotonic()
    if _private(request):                   # a device key in the image, or a PSK: not kept
        elf, map_path = link_firmware(xb, request)
        seconds = time.monotonic() - began
        timings.add("link", seconds)
        return elf, map_path, seconds, False
    d = images_dir() / image_key(xb, request)[:32]
    elf = d / "tls_client.elf"
    if all(p.is_file() for p in _names(elf, xb.lto)):
        seconds = time.monotonic() - began
        timings.add("link", seconds, cached=True)
        return elf, elf.with_suffix(".map"), seconds, True
    made, _ = link_firmware(xb, request)
    d.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=d.parent))
    for src in _names(made, xb.lto):
        shutil.copyfile(src, tmp / src.name.replace(made.stem, "tls_client", 1))
    try:
        os.rename(tmp, d)
    except OSError:                         # another process stored the same image first
        shutil.rmtree(tmp, ignore_errors=True)
    seconds = time.monotonic() - began
    timings.add("link", seconds)
    return elf, elf.with_suffix(".map"), seconds, False


def server_facts(profile):
    """SHA-256 hex of a server's profile document without when and how it was probed
    (PROFILE_NOT_FACTS), the port it listened on, and the record sizes a signature's
    length moves (RECORD_JITTER): its host, certificates as sent, versions, suites,
    groups, extensions."""
    doc = {k: v for k, v in dict(profile).items() if k not in PROFILE_NOT_FACTS}
    if isinstance(doc.get("target"), dict):      # the same server on another port is the same
        doc["target"] = {k: v for k, v in doc["target"].items() if k != "port"}
    if isinstance(doc.get("records"), dict):
        doc["records"] = {k: v for k, v in doc["records"].items() if k not in RECORD_JITTER}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _result_path(image_sha, request):
    target_file = paths.repo_root() / "targets" / f"{request.target}.toml"
    spec = target_file.read_bytes() if target_file.is_file() else request.target
    key = _digest([FORMAT, "result", image_sha, request.server_facts, request.host,
                   request.timeout, bool(getattr(request, "resume", False)), spec])
    return results_dir() / key[:2] / f"{key}.json"


def _private(request):
    """A device identity (its key is in run_params.c) or a pre-shared key (sent over the
    UART; the outcome depends on it): nothing of such a request is cached."""
    return request.client is not None or getattr(request, "psk", None) is not None


# A DTLS handshake that ended on the firmware's retransmission timer, or heard nothing:
# the server's state as much as the image's (a server serving one peer at a time that is
# busy or wedged, target/dgramturns.py), so not stored as a fact about the image.
DTLS_NOT_FACTS = ("MBEDTLS_ERR_SSL_TIMEOUT", "TLSFIT_DTLS_SILENT")


def _timed_out(report):
    hs = report.get("handshake") or {}
    return not hs.get("ok") and hs.get("error") in DTLS_NOT_FACTS


def usable(request):
    """Whether this request may take a stored result: server facts given, not live, and
    nothing private (_private)."""
    return bool(getattr(request, "server_facts", None)) and not getattr(request, "live", False) \
        and not _private(request)


def lookup(elf, request):
    """The stored report of this image against these server facts, or None."""
    if not usable(request):
        return None
    image_sha = _sha256_file(elf)
    path = _result_path(image_sha, request)
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if entry.get("image_sha256") != image_sha or \
            entry.get("server_facts") != request.server_facts:
        return None
    report = entry["report"]
    report["cached_result"] = {k: entry[k] for k in ("image_sha256", "server_facts",
                                                      "measured_at")}
    return report


def store(elf, request, report, out):
    """Stores a session's report when the session ended on its own (see the docstring)."""
    if not getattr(request, "server_facts", None) or _private(request):
        return
    if out.ended != "exit" or out.connect_error or out.result is None:
        return
    if getattr(request, "dtls", False) and _timed_out(report):
        return
    image_sha = _sha256_file(elf)
    path = _result_path(image_sha, request)
    entry = {"format": FORMAT, "image_sha256": image_sha, "server_facts": request.server_facts,
             "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "report": report}
    try:
        text = json.dumps(entry, default=str)
    except (TypeError, ValueError):
        return
    with contextlib.suppress(OSError, TlsfitError):
        paths.write_atomic(path, text)
