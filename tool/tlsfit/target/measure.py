"""`tlsfit measure`: what a configuration costs on a Cortex-M target, handshake included.

    measure(MeasureRequest(config_path, target, host, port, sni=None, ca=None,
                           tree=None, heap_limit=None, timeout=60, baseline=False,
                           progress=True, *, line=None, proof=None, client=None,
                           lto=False)) -> Measurement
    measure(config_path, target, host, port, **fields)   the same, the request built here
    cross_build(config_path, target, tree=None) -> Path of the libraries (cached)
    format_report(report) -> the human-readable lines (text.py)
(the `tlsfit measure` command: cli/measure.py)

The phases, one module each:
  request.py   MeasureRequest: the one value every phase reads
  anchors.py   the trust anchors (--ca, or the system-store root of the server's chain)
  params.py    the generated run_params.c
  image.py     the link, and the image's sizes from its map (linkmap.py, elf.py)
  session.py   the QEMU run through the relay
  outcome.py   the report's "handshake": what the firmware printed and the wire showed
  heapfloor.py the peak's blocks and the heap floor
  lto.py       the -flto image beside the plain one
  text.py      the human-readable report

One measurement:
  build  mbedTLS cross-built for the target with the header (xbuild.py;
         cached per header, target and tree, so usually no time at all)
  link   the TLS client firmware (tool/firmware/tls_client.c and friends)
         compiled with the header and linked with the libraries; the trust
         anchors, server name, heap limit and test-only seed go into a
         generated run_params.c (params.py)
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
from dataclasses import dataclass, replace
from pathlib import Path

from ..core import resumption
from ..core.errors import FILE, TlsfitError
from ..core.text import say as _say
from ..header.dtls import refuse_on_target
from ..mbedtls import baseline as baseline_mod, baseline4, names as mbedtls_names
from ..mbedtls.tree import identity as tree_identity
from . import heapfloor, linkmap, outcome, runcache, timings, xbuild
from .anchors import SYSTEM_STORE_DIR, read_anchors, system_anchors
from .firmware import fw
from .heapfloor import floor_of
from .image import image_sizes, link_firmware, plain_image
from .lto import lto_change, lto_facts, lto_mode
from .params import run_params_c
from .request import DEFAULT_TIMEOUT, MeasureRequest
from .result import RATIO_FIELDS, Measurement
from .session import run_session
from .text import format_report

# measure() and what tests and tools read from this module (re-exported from the
# modules that own them).
__all__ = ["measure", "MeasureRequest", "measure_one", "compose", "cross_build",
           "config_info", "format_report", "lto_mode", "lto_change", "floor_of",
           "read_anchors", "system_anchors", "run_params_c", "link_firmware", "image_sizes",
           "plain_image", "run_session", "DEFAULT_TIMEOUT", "SYSTEM_STORE_DIR"]
# measure() looks up the server's root in SYSTEM_STORE_DIR as this module holds it when
# called (a test points it at a store of its own with monkeypatch).


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


@dataclass(frozen=True)
class MeasuredRun:
    """One image linked and run: its files, image_sizes() of it, the
    session.RunOutcome and the seconds of each phase (build, link, run, total)."""
    elf: Path
    map_path: Path
    image: tuple
    out: object
    elapsed: dict


def compose(req, xb, cfg_info, run):
    """The report of one MeasuredRun of XBuild xb for the resolved request req;
    cfg_info: the report's "config" (config_info())."""
    t = fw.load_target(req.target)
    out, elf, client = run.out, run.elf, req.client
    res = out.result
    sizes, rom_tls, ram_tls, modules = run.image
    heap = (res or {}).get("heap") or {}
    counted = bool(res and res.get("heap_counted"))
    hs = outcome.handshake(out, mbedtls_names.for_tree(req.tree), res, req.proof,
                           t["cpu_clock_hz"], client)
    if req.dtls:
        hs = outcome.dtls_silent(hs, out.relay, req.server)
    obs = out.relay.observer if out.relay else None
    # Instructions only for a handshake that started (the handshake's alone).
    ticks = res.get("ticks") if res and res.get("step") in ("handshake", "proof", "done") \
        else None
    return {
        "target": t["name"],
        "server": req.server,
        "sni": req.sni,
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
        "heap_limit": req.heap_limit,
        "heap_brk_peak_bytes": heap.get("brk_peak"),
        "heap_peak_blocks": heapfloor.peak_blocks(res, elf, heap.get("peak")) if counted
        else None,
        "stack_peak_bytes": (res or {}).get("stack_peak"),
        "stack_peak_handshake_bytes": (res or {}).get("stack_peak_handshake"),
        "handshake": hs,
        "resumption": resumption.from_firmware((res or {}).get("resumption"),
                                               t["cpu_clock_hz"]) if req.resume else None,
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
            "largest_record_to_server": out.relay.client_records.largest_record,
            **(dgram_facts(out.relay, res) if req.dtls else {})},
        "modules": modules,
        "elapsed_ms": {k: int(round(v * 1000)) for k, v in run.elapsed.items()},
        "artifacts": {"elf": str(elf), "map": str(run.map_path), "mbedtls_build": str(xb.dir)},
    }


def dgram_facts(relay, res):
    """A DTLS session's "wire" additions: the relay's datagram counts, round trips and
    cookie exchange (dgramrelay.DatagramRelay.facts); the server's records, bytes and
    largest DTLS record as they were on the wire; and the firmware's own counts
    ("dgram": retransmission timeouts)."""
    facts = relay.facts()
    if relay.wire is not None:          # as on the wire (the observer saw them in TLS form)
        facts.update(largest_record=relay.wire.largest_record,
                     records_from_server=relay.wire.records,
                     bytes_from_server=relay.wire.bytes)
    facts["firmware"] = (res or {}).get("dgram")
    return facts


def measure_one(req, xb, cfg_info, label):
    """Links and runs one image of XBuild xb for the resolved request req (anchors
    included) and returns its report; xb.elapsed counts as the build phase.  label
    names the image in progress lines ("measured", "baseline", ...)."""
    t1 = time.monotonic()
    t0 = t1 - xb.elapsed
    elf, map_path, link_s, _ = runcache.link(xb, req)
    stored = runcache.lookup(elf, req)
    if stored is not None:
        timings.add("qemu", time.monotonic() - t1 - link_s, cached=True)
        return _from_cache(stored, req, cfg_info, elf, map_path)
    image = image_sizes(elf, map_path, req.target, lto=xb.lto)
    t2 = time.monotonic()
    if req.progress:
        _say(f"running the {label} handshake on {xb.target} under QEMU against "
             f"{req.server}...")
    out = run_session(elf, req)
    t3 = time.monotonic()
    timings.add("qemu", t3 - t2)
    elapsed = {"build": t1 - t0, "link": t2 - t1, "run": t3 - t2, "total": t3 - t0}
    with timings.timed("heap_floor"):
        report = compose(req, xb, cfg_info, MeasuredRun(elf, map_path, image, out, elapsed))
        floor = heapfloor.floor_of(report) if report["handshake"]["ok"] else None
    report["heap_floor_bytes"] = floor.floor_bytes if floor else None
    report["heap_floor"] = floor.to_json() if floor else None
    if req.psk is not None:           # the identity (the key never): and no X.509 code with it?
        report["psk"] = {"identity": req.psk.identity,
                         "certificate_objects": linkmap.certificate_objects(report["modules"])}
    if xb.lto:
        report["lto"] = lto_facts(xb, elf, image, link_s)
    runcache.store(elf, req, report, out)
    return report


def _from_cache(stored, req, cfg_info, elf, map_path):
    """A stored report of this very image against the same server facts, with this
    request's header file and image paths; elapsed_ms says nothing ran."""
    stored.update(config=cfg_info, server=req.server, sni=req.sni,
                  elapsed_ms={"build": 0, "link": 0, "run": 0, "total": 0})
    stored["artifacts"] = {**stored.get("artifacts", {}), "elf": str(elf),
                           "map": str(map_path)}
    return stored


def config_info(path):
    """The report's "config": {path, sha256} of the header; TlsfitError(FILE) when it
    cannot be read."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise TlsfitError(FILE, f"{p}: cannot read the configuration header: "
                                f"{e.strerror or e}") from None
    return {"path": str(p), "sha256": hashlib.sha256(data).hexdigest()}


def measure(request, *args, **fields):
    """Measures request.config_path on request.target against request.host:port and
    returns the report: a Measurement (target/result.py), a read-only mapping over
    the report's JSON document.  request: a MeasureRequest (request.py says what
    each field means); measure(config_path, target, host, port, **fields) builds one
    from the same arguments."""
    if isinstance(request, MeasureRequest):
        if args or fields:
            raise TypeError("measure(MeasureRequest) takes nothing else: "
                            "use dataclasses.replace() on the request")
    else:
        request = MeasureRequest(request, *args, **fields)
    req = request.resolved()
    refuse_on_target(req.dtls, req.resume, str(req.config_path))   # DTLS: no resumption
    cfg_info = config_info(req.config_path)
    req = replace(req, lto=lto_mode(req.lto))
    # Build first: a header mbedTLS rejects fails before anything else happens.
    xb = xbuild.cross_build(req.config_path, req.target, req.tree, progress=req.progress,
                            lto=bool(req.lto))
    plain_xb = xbuild.cross_build(req.config_path, req.target, req.tree,
                                  progress=req.progress) if req.lto == "both" else None
    if req.baseline:
        header = baseline_mod.baseline_config(req.tree, progress=req.progress)
        base_xb = xbuild.cross_build(header, req.target, req.tree, progress=req.progress,
                                     lto=bool(req.lto))
    req, ca_files = _with_anchors(req)
    report = measure_one(req, xb, cfg_info, "measured")
    report["ca"] = ca_files
    if plain_xb is not None:
        _add_plain(report, req, plain_xb, cfg_info, ca_files)
    if req.baseline:
        with timings.timed("baseline"):
            _add_baseline(report, replace(req, heap_limit=None, live=False), base_xb, header)
    return Measurement.from_json(report)


def _with_anchors(req):
    """(req with its anchors, the report's "ca": the files they came from)."""
    if req.anchors is not None:
        return req, [] if req.ca is None else [str(req.ca)]
    if req.ca is not None:
        anchors, ca_files = read_anchors(req.ca), [str(req.ca)]
    elif req.psk is not None:
        anchors, ca_files = (), []        # the pre-shared key authenticates the server
    else:
        anchors, ca_files = system_anchors(req.host, req.port, req.sni, SYSTEM_STORE_DIR)
    return replace(req, anchors=tuple(anchors)), ca_files


def _add_plain(report, req, plain_xb, cfg_info, ca_files):
    """lto="both": the plain image under "without_lto", and "lto_change"."""
    plain = measure_one(req, plain_xb, cfg_info, "plain (no LTO)")
    plain["ca"] = ca_files
    report["without_lto"] = plain
    report["lto_change"] = lto_change(report, plain)
    report["lto"]["build"]["plain_compile_s"] = plain_xb.compile_seconds
    report["lto"]["build"]["plain_link_ms"] = plain["elapsed_ms"]["link"]


def _add_baseline(report, req, base_xb, header):
    """baseline=True: mbedTLS's default configuration (header) under "baseline", and
    "ratios" (measured / baseline)."""
    binfo = config_info(header)
    binfo.update(preset=baseline_mod.baseline_preset(base_xb.tree),
                 source=str(baseline_mod.default_config(base_xb.tree)))
    if base_xb.tree.major >= 4:
        binfo["platform_change"] = baseline4.platform_change()
    base = measure_one(req, base_xb, binfo, "baseline")
    report["baseline"] = base
    report["ratios"] = {k: _ratio(report[k], base[k]) for k in RATIO_FIELDS}
