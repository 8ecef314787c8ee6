"""The measured firmware image: the TLS client linked with the cross-built mbedTLS.

    link_firmware(xb, request) -> (elf, map)     request: a request.MeasureRequest
    image_sizes(elf, map, target, lto=False) -> (sizes, rom_tls, ram_tls, modules)
    plain_image(elf) -> (elf, map) of an LTO link's plain twin

The harness (tool/firmware/tls_client.c and friends, tool/proof/proof.c) is compiled
with the build's configuration and run_params.c (params.py) in a fresh run directory
under the build's runs/ (the newest RUNS_KEPT kept); an LTO build is also linked
without -flto beside it (lto.py).
"""
import contextlib
import re
import shutil
import tempfile
import time
from pathlib import Path

from ..core import interrupt
from ..core.errors import XBUILD, TlsfitError
from ..core.text import one_line
from ..header.dtls import MTU as DTLS_MTU
from . import elf as elf_mod, linkmap
from .firmware import fw
from .params import run_params_c

HARNESS = ("tls_client.c", "tls_report.c", "psk_key.c", "dgram.c", "alloc.c", "test_entropy.c",
           "tls_platform.c", "../harness/rng.c", "../harness/hooks.c")   # tool/harness: shared with verify
HARNESS4 = ("../harness/rng4.c", "../harness/hooks4.c")   # also linked for a 4.x tree
# A DTLS request's firmware defines (-D) what gen's DTLS header defines, spelled the same
# (a header that defines them too redefines them identically).
DTLS_DEFINE = 1
PROOF_SOURCE = fw.FIRMWARE_DIR.parent / "proof" / "proof.c"   # shared with the verify client
RUNS_KEPT = 3                 # firmware run directories kept per build...
RUNS_MIN_AGE = 600            # ...and any younger than this (s)


def _prune_runs(runs_dir):
    """Keeps the newest RUNS_KEPT run directories, and anything younger than
    RUNS_MIN_AGE (a parallel measurement may still be using it)."""
    now = time.time()
    dirs = sorted((d for d in runs_dir.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime)
    for d in dirs[:-RUNS_KEPT]:
        if now - d.stat().st_mtime > RUNS_MIN_AGE:
            shutil.rmtree(d, ignore_errors=True)


_UNDEF = re.compile(r"undefined reference to [`'](?P<sym>[^'`]+)'")


def _forget_identity(run_dir, params):
    """Deletes the run parameters that held the device key, and their object."""
    for f in (params, run_dir / "tls_client.obj" / "run_params.o"):
        with contextlib.suppress(OSError):
            f.unlink()


def psk_identity_define(identity):
    """-DTLSFIT_PSK_IDENTITY as the header from gen defines it (the same C string, so a
    PSK header's own definition is an identical one), for an image whose header has none
    (measure --baseline)."""
    return '-DTLSFIT_PSK_IDENTITY="' + identity.replace("\\", "\\\\").replace('"', '\\"') + '"'


def link_firmware(xb, request):
    """Compiles the harness with the build's configuration and links it; returns
    (elf, map).  request: a resolved request.MeasureRequest with its anchors; its
    sni, heap_limit, seed and proof go into run_params.c, and its client (the device's
    ClientIdentity, or None) is built in with TLSFIT_CLIENT_IDENTITY, its resume with
    TLSFIT_RESUME (the second, resuming connection).  An LTO build
    (xb.lto) links with -flto, and also without it into tls_client-plain.elf/.map
    beside (plain_image()).  Raises TlsfitError(XBUILD) on failure."""
    runs = xb.dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=runs))
    params = run_dir / "run_params.c"
    params.touch(mode=0o600)
    client = request.client
    params.write_text(run_params_c(request.anchors, request.sni, request.heap_limit, request.seed,
                                   proof=request.proof, client=client))
    harness = HARNESS + (HARNESS4 if xb.tree.major >= 4 else ())
    sources = [fw.FIRMWARE_DIR / s for s in harness] + [PROOF_SOURCE, params]
    cflags = list(xb.cflags()) + (["-DTLSFIT_CLIENT_IDENTITY"] if client is not None else []) \
        + (["-DTLSFIT_RESUME=1"] if request.resume else [])
    if request.psk is not None:      # the key comes over the UART; the identity may be built in
        cflags.append(psk_identity_define(request.psk.identity))
    if request.dtls:                 # as gen's DTLS header defines them (header/dtls.py)
        cflags += [f"-DTLSFIT_DTLS={DTLS_DEFINE}", f"-DTLSFIT_DTLS_MTU={DTLS_MTU}"]
    try:
        elf = fw.build(xb.target, sources, run_dir, cflags, name="tls_client",
                       extra_ldflags=xb.ldflags(), lto=xb.lto, also_plain=xb.lto)
    except fw.FirmwareError as e:
        interrupt.killed(getattr(e, "returncode", None), "the firmware's compiler or linker")
        if client is not None:
            _forget_identity(run_dir, params)
        text = str(e)
        m = _UNDEF.search(text)
        why = (f"undefined reference to {m.group('sym')} (a platform hook or _ALT function "
               "the configuration expects the device to supply)") if m else \
            one_line(text.splitlines()[0] if text else "failed", 300)
        (run_dir / "link.log").write_text(text + "\n")
        raise TlsfitError(XBUILD, f"linking the TLS client firmware for {xb.target} failed: "
                                  f"{why}; log: {run_dir / 'link.log'}") from None
    if client is not None:
        _forget_identity(run_dir, params)
    with contextlib.suppress(OSError):
        _prune_runs(runs)
    return elf, elf.with_suffix(".map")


def plain_image(elf):
    """(elf, map) of the plain link an LTO link_firmware() made beside the LTO image."""
    plain = elf.with_name(elf.stem + "-plain.elf")
    return plain, plain.with_suffix(".map")


def image_sizes(elf, map_path, target, lto=False):
    """(elf_sizes dict, rom_tls_bytes, ram_static_tls_bytes, modules) of a linked image;
    lto: an LTO image, attributed through its plain link (plain_image); the
    elf_sizes dict then also has "unattributed_rom_bytes"."""
    sizes = elf_mod.elf_sizes(elf, target)
    sections = linkmap.parse_map(map_path.read_text())
    if lto:
        sections, unattributed = linkmap.attribute_lto(
            sections, plain_image(elf)[1].read_text())
        sizes["unattributed_rom_bytes"] = unattributed
    rom_tls, ram_tls, modules = linkmap.tls_sizes(sections)
    return sizes, rom_tls, ram_tls, modules
