"""`tlsfit measure`: what a configuration costs on a Cortex-M target, handshake included.

    measure(config_path, target, host, port, sni=None, ca=None, tree=None,
            heap_limit=None, timeout=60, baseline=False, progress=True, *, line=None,
            proof=None, client=None) -> Measurement
    cross_build(config_path, target, tree=None) -> Path of the libraries (cached)
    format_report(report) -> the human-readable lines
(the `tlsfit measure` command: cli/measure.py)

One measurement:
  build  mbedTLS cross-built for the target with the header (xbuild.py;
         cached per header, target and tree, so usually no time at all)
  link   the TLS client firmware (tool/firmware/tls_client.c and friends)
         compiled with the header and linked with the libraries; the trust
         anchors, server name, heap limit and test-only seed go into a
         generated run_params.c
  run    QEMU boots it with -icount shift=0; UART0 reaches the server through
         relay.Relay; the firmware's TLSFIT-RESULT line and the relay's view of
         the wire make the report.  QEMU is killed at the timeout.

After the handshake the firmware proves that the server accepted the session
(core/proof.py, tool/proof/proof.c): `proof` (None: by port) is built into
run_params.c.  A rejection after the handshake (e.g. alert
certificate_required from a broker that wants a client certificate) makes
handshake.ok False with step "proof" and the alert named, for the measured
header and the baseline alike.  handshake.proof names the proof ("mqtt-connack",
"http", "no-alert", "send-expect") and handshake.proof_result says how it
ended; heap_peak_bytes covers the handshake and the proof,
handshake_instructions the handshake alone.

The report's stable names: rom_bytes, rom_tls_bytes, ram_static_bytes,
heap_peak_bytes, stack_peak_bytes, handshake {ok, version, ciphersuite,
group, error, proof, proof_result}, handshake_instructions, modules, target, server, config {path,
sha256}, mbedtls, heap_allocs, heap_largest_block, heap_alloc_failed,
heap_peak_blocks (the block sizes held at the peak, largest first; "named": the
peak by allocation site, each with the function that allocated it and its group),
heap_floor_bytes and heap_floor (target/heapfloor.py: what the session cannot do without, the peak's
groups, and what is above the floor and why; None for a failed handshake),
elapsed_ms {build, link, run}; with baseline=True also baseline (the same
fields, for mbedTLS's default configuration) and ratios (measured/baseline).

client (a core.identity.ClientIdentity with its key): the firmware is built with
TLSFIT_CLIENT_IDENTITY and presents the device certificate and signs with the key, for
the measured header and the baseline.  Both are embedded as DER in run_params.c for that
run only (a test build: the key is a test key); the run directory is in the cache,
run_params.c and its object are deleted once the image is linked, and the report's
"client" holds the public facts (paths, key type, subject), never key material.  A
server that wants a certificate and got none (alert certificate_required, or a TLS 1.2
handshake_failure after a CertificateRequest) gets core.identity.MISSING_HINT.

Link-time optimisation (lto=True, `measure --lto`, lto="both"): target/lto.py.

A failed handshake is a report with handshake.ok False (error, code, state,
hint); build problems raise TlsfitError (CONFIG 36 for a header mbedTLS
rejects, XBUILD 40 otherwise).
"""
import hashlib
import time
from pathlib import Path

from ..core import proof as proof_mod
from ..core.errors import FILE, USAGE, TlsfitError
from ..core.hostport import format_hostport
from ..core.text import say as _say
from ..mbedtls import baseline as baseline_mod, names as mbedtls_names
from ..mbedtls.tree import Tree, identity as tree_identity, resolve_tree
from . import heapfloor, outcome, xbuild
from .heapfloor import floor_of
from .anchors import read_anchors, system_anchors
from .params import run_params_c
from .firmware import fw
from .image import image_sizes, link_firmware, link_seconds, plain_image
from .session import run_session
from .lto import lto_change, lto_facts, lto_mode
from .result import RATIO_FIELDS, Measurement
from .text import format_report

# measure() and what tests and tools have long read from this module (re-exported
# from the modules that own them: anchors.py, params.py, image.py, session.py).
__all__ = ["measure", "cross_build", "format_report", "lto_mode", "lto_change", "floor_of",
           "read_anchors", "system_anchors", "run_params_c", "link_firmware", "image_sizes",
           "plain_image", "run_session", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 60
def cross_build(config_path, target, tree=None, progress=True):
    """Cross-builds mbedTLS for target with config_path (cached; safe from parallel
    threads and processes) and returns the directory holding libmbedtls.a,
    libmbedx509.a and libmbedcrypto.a.  xbuild.cross_build gives the details
    (XBuild: cflags, ldflags, whether it was cached)."""
    return xbuild.cross_build(config_path, target, tree, progress=progress).lib_dir


def _ratio(a, b):
    if a is None or not b:
        return None
    return round(a / b, 3)


def _compose(cfg_info, target, host, port, sni, heap_limit, xb, elf, map_path, image, out,
             names, elapsed, proof, client=None):
    t = fw.load_target(target)
    res = out.result
    sizes, rom_tls, ram_tls, modules = image
    heap = (res or {}).get("heap") or {}
    counted = bool(res and res.get("heap_counted"))
    hs = outcome.handshake(out, names, res, proof, t["cpu_clock_hz"], client)
    obs = out.relay.observer if out.relay else None
    # Instructions only for a handshake that started (the handshake's alone).
    ticks = res.get("ticks") if res and res.get("step") in ("handshake", "proof", "done") \
        else None
    return {
        "target": t["name"],
        "server": format_hostport(host, port),
        "sni": sni,
        "config": cfg_info,
        "mbedtls": (res or {}).get("mbedtls") or xb.tree.version,
        "mbedtls_tree": tree_identity(xb.tree),
        "rom_bytes": sizes["rom_bytes"],
        "rom_tls_bytes": rom_tls,
        "ram_static_bytes": sizes["ram_static_bytes"],
        "ram_static_tls_bytes": ram_tls,
        "heap_peak_bytes": heap.get("peak") if counted else None,
        "heap_allocs": heap.get("allocs") if counted else None,
        "heap_largest_block": heap.get("largest") if counted else None,
        "heap_alloc_failed": bool(heap.get("failures")) if counted else None,
        "heap_failed_request_bytes": heap.get("failed_size") or None if counted else None,
        "heap_limit": heap_limit,
        "heap_brk_peak_bytes": heap.get("brk_peak"),
        "heap_peak_blocks": heapfloor.peak_blocks(res, elf, heap.get("peak")) if counted else None,
        "stack_peak_bytes": (res or {}).get("stack_peak"),
        "stack_peak_handshake_bytes": (res or {}).get("stack_peak_handshake"),
        "handshake": hs,
        "client": None if client is None else client.facts(),
        "handshake_instructions": None if ticks is None else
        int(round(ticks * 1e9 / t["cpu_clock_hz"])),
        "in_content_len": (res or {}).get("in_content_len"),
        "out_content_len": (res or {}).get("out_content_len"),
        "overlay": (res or {}).get("overlay"),
        "rng": (res or {}).get("rng"),
        "wire": None if obs is None else {
            "bytes_from_server": obs.bytes, "bytes_to_server": out.relay.bytes_to_server,
            "records_from_server": obs.records, "largest_record": obs.largest_record,
            "largest_handshake_message": obs.largest_handshake_message,
            "client_hello_record": out.relay.client_records.first_record,
            "largest_record_to_server": out.relay.client_records.largest_record},
        "modules": modules,
        "elapsed_ms": {k: int(round(v * 1000)) for k, v in elapsed.items()},
        "artifacts": {"elf": str(elf), "map": str(map_path), "mbedtls_build": str(xb.dir)},
    }


def _measure_one(xb, cfg_info, target, host, port, sni, anchors, tree, heap_limit,
                 timeout, progress, label, proof, client=None):
    """Links and runs one image for an XBuild; xb.elapsed counts as the build phase."""
    names = mbedtls_names.for_tree(tree)
    t1 = time.monotonic()
    t0 = t1 - xb.elapsed
    elf, map_path, link_s = link_seconds(xb, anchors, sni, heap_limit, proof, client)
    image = image_sizes(elf, map_path, target, lto=xb.lto)
    t2 = time.monotonic()
    if progress:
        _say(f"running the {label} handshake on {xb.target} under QEMU against "
             f"{format_hostport(host, port)}...")
    out = run_session(elf, target, host, port, timeout)
    t3 = time.monotonic()
    elapsed = {"build": t1 - t0, "link": t2 - t1, "run": t3 - t2, "total": t3 - t0}
    report = _compose(cfg_info, target, host, port, sni, heap_limit, xb, elf, map_path, image,
                      out, names, elapsed, proof, client)
    floor = heapfloor.floor_of(report) if report["handshake"]["ok"] else None
    report["heap_floor_bytes"] = floor.floor_bytes if floor else None
    report["heap_floor"] = floor.to_json() if floor else None
    if xb.lto:
        report["lto"] = lto_facts(xb, elf, image, link_s)
    return report


def _config_info(path):
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise TlsfitError(FILE, f"{p}: cannot read the configuration header: "
                                f"{e.strerror or e}") from None
    return {"path": str(p), "sha256": hashlib.sha256(data).hexdigest()}


def _resolve_tree(tree, line):
    if isinstance(tree, Tree):
        if line and tree.line != line:
            raise TlsfitError(USAGE, f"{tree.path} is mbedTLS {tree.version}, not {line}")
        return tree
    return resolve_tree(tree, line)


def measure(config_path, target, host, port, sni=None, ca=None, tree=None, heap_limit=None,
            timeout=DEFAULT_TIMEOUT, baseline=False, progress=True, *, line=None, proof=None,
            client=None, lto=False):
    """Measures config_path on target against host:port; returns the report.

    sni: the name sent and checked (default host).  ca: a PEM/DER file of trust
    anchors (default: the system-store root of the server's chain).  tree: an
    mbedTLS tree (mbedtls.tree.Tree or path; default the 3.x one, or `line`).
    heap_limit: cap in bytes on what mbedTLS may hold at once.  timeout: seconds
    before QEMU is killed.  baseline: also measure mbedTLS's default
    configuration (config.py baremetal_size) the same way, under "baseline",
    with "ratios" (measured / baseline).  proof: the proof that the server accepted
    the session, a core.proof.Proof or a --proof text (None: by port), for both.
    client: the device's core.identity.ClientIdentity (key included), presented by both
    images when the server asks for a client certificate (None: no identity).
    lto: False, True (measure the LTO build) or "both" (and the plain one beside it,
    under "without_lto", with "lto_change"); see the module's docstring.
    Returns a Measurement (target/result.py), a read-only mapping over the report's
    JSON document."""
    t = _target(target)
    proof = proof_mod.resolve(proof, port)
    if client is not None and client.key is None:
        raise TlsfitError(USAGE, f"--client-cert {client.cert} needs --client-key: the device "
                                 "signs the handshake with its key")
    tree = _resolve_tree(tree, line)
    sni = sni or host
    cfg_info = _config_info(config_path)
    lto = lto_mode(lto)
    # Build first: a header mbedTLS rejects fails before anything else happens.
    xb = xbuild.cross_build(config_path, t, tree, progress=progress, lto=bool(lto))
    plain_xb = xbuild.cross_build(config_path, t, tree, progress=progress) \
        if lto == "both" else None
    if baseline:
        header = baseline_mod.baseline_config(tree, progress=progress)
        base_xb = xbuild.cross_build(header, t, tree, progress=progress, lto=bool(lto))
    if ca is not None:
        anchors, ca_files = read_anchors(ca), [str(ca)]
    else:
        anchors, ca_files = system_anchors(host, port, sni)
    report = _measure_one(xb, cfg_info, t, host, port, sni, anchors, tree, heap_limit,
                          timeout, progress, "measured", proof, client)
    report["ca"] = ca_files
    if plain_xb is not None:
        plain = _measure_one(plain_xb, cfg_info, t, host, port, sni, anchors, tree, heap_limit,
                             timeout, progress, "plain (no LTO)", proof, client)
        plain["ca"] = ca_files
        report["without_lto"] = plain
        report["lto_change"] = lto_change(report, plain)
        report["lto"]["build"]["plain_compile_s"] = plain_xb.compile_seconds
        report["lto"]["build"]["plain_link_ms"] = plain["elapsed_ms"]["link"]
    if baseline:
        binfo = _config_info(header)
        binfo.update(preset=baseline_mod.baseline_preset(tree),
                     source=str(baseline_mod.default_config(tree)))
        base = _measure_one(base_xb, binfo, t, host, port, sni, anchors, tree, None, timeout,
                            progress, "baseline", proof, client)
        report["baseline"] = base
        report["ratios"] = {k: _ratio(report[k], base[k]) for k in RATIO_FIELDS}
    return Measurement.from_json(report)


def _target(name):
    try:
        return fw.load_target(name)["name"]
    except fw.FirmwareError as e:
        raise TlsfitError(USAGE, str(e)) from None
