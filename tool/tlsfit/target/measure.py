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

Link-time optimisation (lto=True, `measure --lto`): mbedTLS is cross-built with
-flto -ffat-lto-objects (xbuild.py: its own cache key), the harness compiled the
same way and the image linked with -flto -Os; that image is the one measured and
every figure is its own.  The same fat objects are linked a second time without
-flto (no run: a link of a second or so), and the report's "lto" says
what LTO changed: {enabled, rom_bytes_without_lto, rom_tls_bytes_without_lto,
rom_change_bytes, rom_tls_change_bytes, unattributed_rom_bytes, modules_from,
build {lto_compile_s, plain_compile_s (first builds, from the cache's records;
None when not known), lto_link_ms, plain_link_ms}}.  Under LTO the map names the
link-time compiler's output, not mbedTLS's objects: rom_tls_bytes and
"modules" count each function and variable in the object that defines it (its
name looked up in the plain link's map, linkmap.attribute_lto); code LTO inlined
into the harness counts as the harness's, and the few bytes with no name left
(merged constants) are unattributed_rom_bytes, in neither.  lto="both" also runs
the plain image (the ordinary build, as without --lto) under "without_lto" and
gives "lto_change" (LTO minus plain, per figure).  The baseline, when asked
for, is built the same way as the header.

A failed handshake is a report with handshake.ok False (error, code, state,
hint); build problems raise TlsfitError (CONFIG 36 for a header mbedTLS
rejects, XBUILD 40 otherwise).
"""
import contextlib
import hashlib
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ..core import identity as identity_mod, interrupt, proof as proof_mod
from ..core.errors import FILE, TARGET, USAGE, XBUILD, TlsfitError
from ..core.text import one_line, say as _say
from ..mbedtls import baseline as baseline_mod, names as mbedtls_names
from ..mbedtls.tree import Tree, identity as tree_identity, resolve_tree
from . import elf as elf_mod, heapfloor, linkmap, xbuild
from .firmware import fw
from .relay import Relay, RelayError, WireObserver
from .result import Measurement

DEFAULT_TIMEOUT = 60
HARNESS = ("tls_client.c", "alloc.c", "test_entropy.c", "tls_platform.c",
           "../harness/rng.c", "../harness/hooks.c")   # tool/harness: shared with verify
PROOF_SOURCE = fw.FIRMWARE_DIR.parent / "proof" / "proof.c"   # shared with the verify client
SYSTEM_STORE_DIR = Path("/etc/ssl/certs")
PROOF_REPLY_MS = 4000         # how long the firmware waits for the proof's reply
# s QEMU may keep running after the server closed: the firmware cannot see the close
# and may sit out the proof's flight window and reply wait first.
SERVER_CLOSED_GRACE = 5.0 + (proof_mod.WAIT_MS + PROOF_REPLY_MS) / 1000
RUNS_KEPT = 3                 # firmware run directories kept per build...
RUNS_MIN_AGE = 600            # ...and any younger than this (s)
DEFAULT_SEED = (0x746C7366, 0x69742D6D, 0x65617375, 0x72652121)   # "tlsfit-measure!!"
RATIO_FIELDS = ("rom_bytes", "rom_tls_bytes", "heap_peak_bytes", "ram_static_bytes",
                "stack_peak_bytes", "handshake_instructions")
_STATE_LINE = re.compile(r"^tlsfit-fw: state (\d+)$", re.M)
_FAULT_LINE = re.compile(r"^tlsfit-fw: FAULT .*$", re.M)


def cross_build(config_path, target, tree=None, progress=True):
    """Cross-builds mbedTLS for target with config_path (cached; safe from parallel
    threads and processes) and returns the directory holding libmbedtls.a,
    libmbedx509.a and libmbedcrypto.a.  xbuild.cross_build gives the details
    (XBuild: cflags, ldflags, whether it was cached)."""
    return xbuild.cross_build(config_path, target, tree, progress=progress).lib_dir


# ----------------------------------------------------------- trust anchors

_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)


def _der_elements(data):
    """Splits concatenated DER certificates."""
    out, off = [], 0
    while off < len(data):
        if data[off] != 0x30 or off + 2 > len(data):
            raise ValueError("not DER")
        n, hdr = data[off + 1], 2
        if n & 0x80:
            k = n & 0x7F
            if not 1 <= k <= 4 or off + 2 + k > len(data):
                raise ValueError("bad DER length")
            n, hdr = int.from_bytes(data[off + 2:off + 2 + k], "big"), 2 + k
        if off + hdr + n > len(data):
            raise ValueError("truncated DER")
        out.append(data[off:off + hdr + n])
        off += hdr + n
    return out


def read_anchors(path):
    """The certificates of a PEM bundle or DER file, as DER."""
    import base64
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise TlsfitError(FILE, f"{p}: cannot read the CA file: {e.strerror}") from None
    pems = _PEM.findall(data)
    if pems:
        return [base64.b64decode(b"".join(body.split())) for body in pems]
    try:
        certs = _der_elements(data)
    except ValueError:
        certs = []
    if not certs:
        raise TlsfitError(FILE, f"{p}: holds no certificate (PEM or DER)")
    return certs


def _openssl(args, what, stdin=b"", timeout=30):
    exe = shutil.which("openssl")
    if not exe:
        raise TlsfitError(USAGE, f"{what}: openssl is not installed; name the root with --ca")
    try:
        return subprocess.run([exe, *args], input=stdin, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TlsfitError(TARGET, f"{what}: openssl took more than {timeout} s") from None


def system_anchors(host, port, sni):
    """The system-store root(s) that issued the server's last certificate:
    one `openssl s_client -showcerts` connection, then the hashed names in
    /etc/ssl/certs.  Only those go into the firmware."""
    what = "finding the server's root in the system store (no --ca given)"
    proc = _openssl(["s_client", "-connect", _hostport(host, port), "-servername", sni,
                     "-showcerts"], what)
    chain = re.findall(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                       proc.stdout, re.S)
    if not chain:
        raise TlsfitError(TARGET, f"{what}: the server at {_hostport(host, port)} sent no "
                                  "certificate; name the root with --ca FILE")
    h = _openssl(["x509", "-noout", "-issuer_hash"], what, stdin=chain[-1]).stdout.strip()
    found = sorted(SYSTEM_STORE_DIR.glob(f"{h.decode()}.[0-9]*")) if h else []
    if not found:
        raise TlsfitError(USAGE, f"no --ca given and the root that issued the server's "
                                 f"certificates is not in {SYSTEM_STORE_DIR}; name it "
                                 "with --ca FILE")
    certs = []
    for f in found:
        certs.extend(read_anchors(f))
    return certs, [str(f) for f in found]


def _c_bytes(data, indent="    "):
    rows = [", ".join(f"0x{b:02x}" for b in data[i:i + 16]) for i in range(0, len(data), 16)]
    return ",\n".join(indent + r for r in rows)


def _c_string(s):
    return '"' + "".join(c if c.isalnum() or c in "-._:[]" else f"\\x{ord(c):02x}"
                         for c in s) + '"'


def _c_array(name, data):
    """A static const byte array (at least one element: C has no empty arrays)."""
    body = _c_bytes(data) if data else "    0x00"
    return f"static const unsigned char {name}[{max(1, len(data))}] = {{\n{body}\n}};"


def run_params_c(anchors, sni, heap_limit, seed, uart_timeout_polls=0, proof=None,
                 client=None):
    """The generated run_params.c (struct tf_run_params, tls_harness.h).  proof: a
    core.proof.Proof (None: no-alert).  client: a ClientIdentity whose certificate and
    key go in as DER (the file is then compiled with -DTLSFIT_CLIENT_IDENTITY)."""
    proof = proof or proof_mod.Proof("no-alert")
    parts = ["/* Generated by tlsfit measure for one run; see tls_harness.h. */",
             '#include "tls_harness.h"', ""]
    identity = ""
    if client is not None:
        parts.append("/* The device identity: a TEST certificate and key, for this measurement "
                     "only. */")
        parts.append(_c_array("own_cert", client.cert_der()))
        parts.append(_c_array("own_key", client.key_der()))
        identity = ("    .own_cert = own_cert,\n    .own_cert_len = sizeof own_cert,\n"
                    "    .own_key = own_key,\n    .own_key_len = sizeof own_key,\n")
    for i, der in enumerate(anchors):
        parts.append(f"static const unsigned char anchor{i}[{len(der)}] = {{\n"
                     f"{_c_bytes(der)}\n}};")
    parts.append("static const struct tf_cert_der anchors[] = {")
    parts.extend(f"    {{anchor{i}, sizeof anchor{i}}}," for i in range(len(anchors)))
    parts.append("};")
    parts.append(_c_array("proof_send", proof.send))
    parts.append(_c_array("proof_expect", proof.expect))
    parts.append("const struct tf_run_params tf_run = {\n"
                 f"    .sni = {_c_string(sni)},\n"
                 f"    .anchors = anchors,\n"
                 f"    .anchor_count = {len(anchors)},\n"
                 f"    .heap_limit = {int(heap_limit or 0)}u,\n"
                 f"    .seed = {{{', '.join(f'0x{s:08x}u' for s in seed)}}},\n"
                 f"    .uart_timeout_polls = {int(uart_timeout_polls)}u,\n"
                 f"    .proof_kind = {proof.code}u,    /* {proof.label} */\n"
                 f"    .proof_send = proof_send,\n"
                 f"    .proof_send_len = {len(proof.send)}u,\n"
                 f"    .proof_expect = proof_expect,\n"
                 f"    .proof_expect_len = {len(proof.expect)}u,\n"
                 f"    .proof_wait_ms = {proof_mod.WAIT_MS}u,\n"
                 f"    .proof_reply_ms = {PROOF_REPLY_MS}u,\n"
                 f"{identity}"
                 "};")
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------- phases

def _hostport(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


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


def link_firmware(xb, anchors, sni, heap_limit, seed=DEFAULT_SEED, proof=None, client=None):
    """Compiles the harness with the build's configuration and links it; returns
    (elf, map).  proof: a core.proof.Proof (None: no-alert).  client: the device's
    ClientIdentity (None: none), built in with TLSFIT_CLIENT_IDENTITY.  An LTO build
    (xb.lto) links with -flto, and also without it into tls_client-plain.elf/.map
    beside (plain_image()).  Raises TlsfitError(XBUILD) on failure."""
    runs = xb.dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=runs))
    params = run_dir / "run_params.c"
    params.touch(mode=0o600)
    params.write_text(run_params_c(anchors, sni, heap_limit, seed, proof=proof, client=client))
    sources = [fw.FIRMWARE_DIR / s for s in HARNESS] + [PROOF_SOURCE, params]
    cflags = list(xb.cflags()) + (["-DTLSFIT_CLIENT_IDENTITY"] if client is not None else [])
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


class _Observer(WireObserver):
    """The relay's observer, also noting a TLS 1.2 CertificateRequest (plaintext
    handshake type 13): a handshake_failure after one means the server wanted a
    client certificate."""

    certificate_requested = False

    def _handshake_messages(self):
        off, hs = 0, self._hs
        while off + 4 <= len(hs):
            length = int.from_bytes(hs[off + 1:off + 4], "big")
            if off + 4 + length > len(hs):
                break
            if hs[off] == 13:
                self.certificate_requested = True
            off += 4 + length
        super()._handshake_messages()


class RunOutcome:
    """What one QEMU run produced."""

    def __init__(self):
        self.exit_code = None
        self.stdout = ""
        self.stderr = ""
        self.result = None          # the TLSFIT-RESULT dict
        self.ended = None           # "exit", "timeout", "server_closed"
        self.elapsed = 0.0
        self.relay = None
        self.connect_error = None


def run_session(elf, target, host, port, timeout):
    """Boots the image under QEMU (-icount shift=0) with UART0 relayed to the
    server; QEMU never outlives this call."""
    out = RunOutcome()
    start = time.monotonic()
    try:
        relay = Relay(host, port, connect_timeout=min(timeout, 15))
        relay.observer = _Observer()
        relay.open()
    except RelayError as e:
        out.connect_error = str(e)
        out.elapsed = time.monotonic() - start
        return out
    out.relay = relay
    argv = fw.qemu_argv(elf, target, relay.port, icount_shift=0)
    # Output to files, not pipes: nobody reads while waiting, and a pipe could fill.
    with tempfile.TemporaryFile() as fout, tempfile.TemporaryFile() as ferr:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fout, stderr=ferr)
        except OSError as e:
            relay.close()
            raise TlsfitError(TARGET, f"cannot run {argv[0]}: {e.strerror}") from None
        ours = False
        try:
            out.ended = _wait(proc, relay, start + timeout)
        finally:
            if proc.poll() is None:
                ours = True
                proc.kill()
            proc.wait()
            relay.close()
        if not ours:
            interrupt.killed(proc.returncode, f"QEMU ({argv[0]})")
        fout.seek(0)
        ferr.seek(0)
        out.stdout = fout.read().decode(errors="replace")
        out.stderr = ferr.read().decode(errors="replace")
    out.exit_code = proc.returncode
    out.result = fw.parse_result(out.stdout)
    out.elapsed = time.monotonic() - start
    return out


def _wait(proc, relay, deadline):
    """Waits for QEMU; "exit", "timeout", or "server_closed" (the server hung up
    and the firmware, which cannot see that on a UART, kept waiting)."""
    while True:
        try:
            proc.wait(timeout=0.1)
            return "exit"
        except subprocess.TimeoutExpired:
            pass
        interrupt.check()           # a stopping signal (in fit's pool: not our thread's)
        now = time.monotonic()
        if now >= deadline:
            return "timeout"
        closed = relay.server_closed_at
        if closed is not None and now - closed > SERVER_CLOSED_GRACE:
            return "server_closed"


# ------------------------------------------------------------- the report

def _code_text(code):
    return f"-0x{-code:04X}" if code < 0 else f"0x{code:04X}"


def _group_name(obs):
    if obs is None:
        return None
    gid = obs.group_id
    if obs.version != 0x0304:
        _, kx = mbedtls_names.iana_suite(obs.suite_id) if obs.suite_id is not None \
            else (None, None)
        if kx is None or not kx.startswith("ECDHE"):
            gid = None
    if gid is None:
        return None
    return mbedtls_names.iana_group(gid) or f"0x{gid:04X}"


def _last_state(stdout):
    states = _STATE_LINE.findall(stdout or "")
    return int(states[-1]) if states else None


def _handshake(out, names, res, proof, clock_hz, client=None):
    """The report's "handshake" object."""
    hs = {"ok": False, "version": None, "ciphersuite": None, "ciphersuite_id": None,
          "group": None, "error": None, "code": None, "step": None, "state": None,
          "state_number": None, "message": None, "hint": None, "verify_flags": None,
          "server_alert": None, "proof": proof.label, "proof_result": None}
    obs = out.relay.observer if out.relay else None
    if obs is not None and obs.suite_id is not None:
        hs["ciphersuite_id"] = f"0x{obs.suite_id:04X}"
    if obs is not None and obs.alert is not None:
        hs["server_alert"] = {"level": obs.alert[0], "description": obs.alert[1],
                              "name": proof_mod.alert_name(obs.alert[1])}
    if out.connect_error:
        hs.update(error="connect_failed", step="connect", message=out.connect_error)
        return hs
    if res is not None and res.get("step") in ("proof", "done") and res.get("version"):
        iana, _ = mbedtls_names.iana_suite(obs.suite_id) if obs and obs.suite_id is not None \
            else (None, None)
        hs.update(version=res.get("version"),
                  ciphersuite=iana or mbedtls_names.iana_suite_name(res.get("ciphersuite")),
                  group=_group_name(obs))
        hs["proof_result"] = _proof_result(res.get("proof"), proof, out.relay, clock_hz)
    if res is not None and res.get("ok") and hs["proof_result"]["ok"]:
        hs.update(ok=True, step="done", verify_flags=[])
        return hs
    if hs["proof_result"] is not None:
        return _proof_failed(hs, res, names, proof, client)
    hs["group"] = _group_name(obs)
    if res is None:
        return _no_result(hs, out, names)
    hs["step"] = res.get("step")
    state = res.get("state", -1)
    if state is not None and state >= 0:
        hs["state_number"] = state
        hs["state"] = names.ssl_state(state) or f"state {state}"
    _error(hs, res, names)
    if res.get("verify_flags") not in (None, 0, 0xFFFFFFFF):
        hs["verify_flags"] = names.verify_flags(res["verify_flags"])
    where = f"in state {hs['state']}" if hs["state"] else f"during {hs['step']}"
    hs["message"] = f"the handshake failed {where} with {hs['error']}" + \
        (f" ({hs['code']})" if hs["code"] else "")
    if hs["step"] == "identity":
        hs["message"] = (f"the firmware cannot parse the device certificate or key: "
                         f"{hs['error']}" + (f" ({hs['code']})" if hs["code"] else ""))
    hs["hint"] = _hint(hs, res, obs, client)
    return hs


def _error(hs, res, names):
    """hs "error" and "code" from the firmware's ret (an mbedTLS or PSA code) or what."""
    ret = res.get("ret") or 0
    if res.get("psa_status"):
        hs["error"] = names.psa_status(ret) or "PSA_ERROR"
        hs["code"] = str(ret)
    elif ret:
        hs["error"] = names.error(ret) or "MBEDTLS_ERR_UNKNOWN"
        hs["code"] = _code_text(ret)
    else:
        hs["error"] = res.get("what") or "TLSFIT_FAILED"


# The proof's outcomes that are acceptance without a reply: a server that hung up
# before the firmware's close_notify (which a UART cannot show) turns them into a
# rejection.
_QUIET_OUTCOMES = ("flight", "quiet", "data")


def _closed_during_proof(relay, tx_bytes):
    """Whether the server hung up before the firmware's close_notify (and before the
    firmware itself went away, after which the relay closes the server's side)."""
    if relay is None or relay.server_closed_at is None or relay.bytes_to_server_at_close is None:
        return False
    first = relay.client_closed_at is None or relay.server_closed_at <= relay.client_closed_at
    return first and relay.bytes_to_server_at_close <= tx_bytes


def _proof_result(fw_proof, proof, relay, clock_hz):
    """The report's handshake.proof_result from the firmware's "proof" object and
    what the relay saw: ok, outcome, reply, reply_hex, mqtt_return_code, http_status,
    server_flight, sent_bytes, waited_ms, alert."""
    p = fw_proof or {}
    outcome = p.get("outcome") or "error"
    closed = _closed_during_proof(relay, p.get("tx_bytes") or 0)
    if closed and outcome in _QUIET_OUTCOMES + ("timeout",):
        outcome = "closed"
    reply = bytes.fromhex(p.get("reply_hex") or "")
    accepted = outcome in ("accepted",) + _QUIET_OUTCOMES
    status = None
    if proof.kind == "http" and outcome == "accepted":
        line = reply.split(b"\n", 1)[0].rstrip(b"\r")
        status = "".join(chr(b) if 0x20 <= b < 0x7F else "?" for b in line)
    alert, code, ticks = p.get("alert"), p.get("mqtt_code"), p.get("elapsed_ticks")
    r = {"ok": accepted, "outcome": outcome, "reply_hex": reply.hex(),
         "mqtt_return_code": code if code is not None and code >= 0 else None,
         "http_status": status, "server_flight": bool(p.get("flight")),
         "sent_bytes": p.get("sent"),
         "waited_ms": None if ticks is None else int(round(ticks * 1000 / clock_hz)),
         "alert": proof_mod.alert_text(alert) if alert is not None and alert >= 0 else None}
    r["reply"] = proof_mod.describe(proof.label, r)
    return r


def _proof_failed(hs, res, names, proof, client=None):
    """The handshake completed but the proof did not show the server's acceptance."""
    pr = hs["proof_result"]
    hs["step"] = "proof"
    if pr["outcome"] == "closed" and not (res.get("ret") or 0):
        hs["error"] = "TLSFIT_PROOF_CLOSED"
    elif pr["outcome"] in ("timeout", "mismatch"):
        hs["error"] = f"TLSFIT_PROOF_{pr['outcome'].upper()}"
    else:
        _error(hs, res, names)
    if pr["alert"]:
        desc = (res.get("proof") or {}).get("alert")
        hs["server_alert"] = {"level": 2, "description": desc,
                              "name": proof_mod.alert_name(desc)}
        hs["message"] = (f"the server rejected the session after the handshake with alert "
                         f"{pr['alert']} (proof {proof.label})")
        hs["hint"] = identity_mod.client_cert_hint(desc, None, client) or _alert_hint(desc)
    elif pr["outcome"] == "closed":
        hs["message"] = (f"the server closed the connection after the handshake "
                         f"(proof {proof.label})")
        hs["hint"] = ("a server that ends the session after the handshake did not accept the "
                      "client: check what it requires of clients (its log says why)")
    else:
        hs["message"] = f"the {proof.label} proof failed after the handshake: {pr['reply']}"
        hs["hint"] = "name the server's application protocol with --proof"
    return hs


def _alert_hint(desc):
    return f"the server sent alert {proof_mod.alert_text(desc)} after the handshake"


def _no_result(hs, out, names):
    """No TLSFIT-RESULT line: killed at the timeout, fault, or died."""
    state = _last_state(out.stdout)
    if state is not None:
        hs["state_number"] = state
        hs["state"] = names.ssl_state(state) or f"state {state}"
    at = f" in state {hs['state']}" if hs["state"] else ""
    fault = _FAULT_LINE.search(out.stdout or "")
    if out.ended == "timeout":
        hs.update(error="timeout", step="handshake" if state is not None else None,
                  message=f"no result within the timeout ({out.elapsed:.0f} s){at}; "
                          "QEMU was stopped")
    elif out.ended == "server_closed":
        hs.update(error="server_closed", step="handshake",
                  message=f"the server closed the connection{at} and the firmware kept "
                          "waiting for data; QEMU was stopped")
    elif fault:
        hs.update(error="fault", step="handshake" if state is not None else "setup",
                  message=fault.group(0)[len("tlsfit-fw: "):] + at,
                  hint="a CPU fault; '(stack overflow)' means the 32 KiB stack was too small")
    else:
        tail = (out.stderr or out.stdout or "").strip().splitlines()[-1:] or ["no output"]
        hs.update(error="no_result", message=f"the firmware ended (exit {out.exit_code}) "
                                             f"without a result line{at}: {tail[0]}")
    return hs


def _hint(hs, res, obs, client=None):
    in_len = res.get("in_content_len")
    heap = res.get("heap") or {}
    if res.get("step") == "identity" and not heap.get("failures"):
        return (f"this configuration cannot parse the device certificate or key "
                f"({client.label() if client else 'the identity'}): `tlsfit gen --client-cert` "
                "adds what its key type, curve or size and its certificate's signature need")
    if res.get("step") == "ca" and not heap.get("failures"):
        # Before any handshake: what the server did afterwards is beside the point.
        return ("this configuration cannot parse the trust anchor given with --ca: its key "
                "type or size (MBEDTLS_MPI_MAX_SIZE) or its signature's hash needs an option "
                "the header lacks")
    if obs is not None and in_len and obs.largest_record > in_len:
        return (f"the server sent a record larger than MBEDTLS_SSL_IN_CONTENT_LEN ({in_len}): "
                f"{obs.largest_record} bytes; raise MBEDTLS_SSL_IN_CONTENT_LEN to at least "
                f"{obs.largest_record}")
    if heap.get("failures"):
        size = heap.get("failed_size")
        if heap.get("limit"):
            return (f"an allocation of {size} bytes was refused: it would have taken the heap "
                    f"beyond the limit of {heap['limit']} bytes")
        return f"out of memory: an allocation of {size} bytes failed"
    flags = hs.get("verify_flags") or []
    if "MBEDTLS_X509_BADCERT_NOT_TRUSTED" in flags:
        return "the server's chain does not lead to a trust anchor given with --ca"
    if "MBEDTLS_X509_BADCERT_CN_MISMATCH" in flags:
        return "the server's certificate is not for the name given with --sni"
    if "MBEDTLS_X509_BADCERT_EXPIRED" in flags or "MBEDTLS_X509_BADCERT_FUTURE" in flags:
        return "a certificate is outside its validity period (checked against this machine's clock)"
    if res.get("uart_timeout"):
        return "the server sent nothing more (the firmware's UART read timed out)"
    if hs.get("server_alert"):
        desc = hs["server_alert"]["description"]
        asked = getattr(obs, "certificate_requested", False)
        return identity_mod.client_cert_hint(desc, asked, client) or \
            f"the server sent alert {desc}"
    return None


def _ratio(a, b):
    if a is None or not b:
        return None
    return round(a / b, 3)


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


def _link_seconds(xb, anchors, sni, heap_limit, proof, client):
    """(elf, map, seconds) of link_firmware."""
    t = time.monotonic()
    elf, map_path = link_firmware(xb, anchors, sni, heap_limit, proof=proof, client=client)
    return elf, map_path, time.monotonic() - t


def lto_facts(xb, elf, image, link_s, plain_link_s=None, plain_xb=None):
    """The report's "lto" section for an LTO image (see the module's docstring)."""
    sizes, rom_tls = image[0], image[1]
    plain_elf, plain_map = plain_image(elf)
    psizes, prom_tls, _, _ = image_sizes(plain_elf, plain_map, xb.target)
    return {
        "enabled": True,
        "flags": {"compile": list(fw.LTO_CFLAGS), "link": list(fw.LTO_LINK_FLAGS)},
        "rom_bytes_without_lto": psizes["rom_bytes"],
        "rom_tls_bytes_without_lto": prom_tls,
        "rom_change_bytes": sizes["rom_bytes"] - psizes["rom_bytes"],
        "rom_tls_change_bytes": rom_tls - prom_tls,
        "unattributed_rom_bytes": sizes.get("unattributed_rom_bytes"),
        "modules_from": "each LTO-placed function or variable counted in the object that "
                        "defines its name (the plain link of the same fat objects); code "
                        "inlined into the harness counts as the harness's",
        "build": {"lto_compile_s": xb.compile_seconds,
                  "plain_compile_s": plain_xb.compile_seconds if plain_xb else None,
                  "lto_link_ms": int(round(link_s * 1000)),
                  "plain_link_ms": None if plain_link_s is None else
                  int(round(plain_link_s * 1000))},
    }


def _peak_blocks(res, elf, peak):
    """The blocks that made up the peak heap, largest first: {blocks: [bytes...],
    untracked: bytes held in blocks beyond the firmware's table, named: [{bytes,
    function, group, role}...] (the peak by allocation site, heapfloor.classify),
    named_untracked: bytes charged to no site}."""
    at = (res or {}).get("heap_at_peak") or {}
    sites = [(int(pc), int(n)) for pc, n in at.get("sites") or ()]
    try:
        functions = elf_mod.elf_functions(elf)
    except (OSError, ValueError):
        functions = []
    named = heapfloor.classify(sites, functions, res.get("in_content_len"),
                               res.get("out_content_len"))
    return {"blocks": sorted((int(b) for b in at.get("blocks") or ()), reverse=True),
            "untracked": int(at.get("untracked") or 0),
            "named": [b.to_json() for b in named],
            "named_untracked": int(peak or 0) - sum(b.bytes for b in named)}


def floor_of(report, handshake_message=None):
    """The heap floor (heapfloor.HeapFloor) of a measure report (its heap_peak_blocks,
    wire and handshake), or None when the heap was not counted or nothing went over
    the wire.  handshake_message: the profile's largest handshake message, header
    included (fit knows it; the wire shows only plaintext ones)."""
    at, wire = report.get("heap_peak_blocks"), report.get("wire")
    if not at or not wire or report.get("heap_peak_bytes") is None:
        return None
    blocks = tuple(heapfloor.PeakBlock(b["bytes"], b["function"], b["group"], b["role"])
                   for b in at.get("named") or ())
    hs = report.get("handshake") or {}
    return heapfloor.heap_floor(blocks, at.get("named_untracked"), report["heap_peak_bytes"],
                                wire, handshake_message, hs.get("version"), hs.get("ciphersuite"),
                                report.get("in_content_len"), report.get("out_content_len"))


def _compose(cfg_info, target, host, port, sni, heap_limit, xb, elf, map_path, image, out,
             names, elapsed, proof, client=None):
    t = fw.load_target(target)
    res = out.result
    sizes, rom_tls, ram_tls, modules = image
    heap = (res or {}).get("heap") or {}
    counted = bool(res and res.get("heap_counted"))
    hs = _handshake(out, names, res, proof, t["cpu_clock_hz"], client)
    obs = out.relay.observer if out.relay else None
    # Instructions only for a handshake that started (the handshake's alone).
    ticks = res.get("ticks") if res and res.get("step") in ("handshake", "proof", "done") \
        else None
    return {
        "target": t["name"],
        "server": _hostport(host, port),
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
        "heap_peak_blocks": _peak_blocks(res, elf, heap.get("peak")) if counted else None,
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
    elf, map_path, link_s = _link_seconds(xb, anchors, sni, heap_limit, proof, client)
    image = image_sizes(elf, map_path, target, lto=xb.lto)
    t2 = time.monotonic()
    if progress:
        _say(f"running the {label} handshake on {xb.target} under QEMU against "
             f"{_hostport(host, port)}...")
    out = run_session(elf, target, host, port, timeout)
    t3 = time.monotonic()
    elapsed = {"build": t1 - t0, "link": t2 - t1, "run": t3 - t2, "total": t3 - t0}
    report = _compose(cfg_info, target, host, port, sni, heap_limit, xb, elf, map_path, image,
                      out, names, elapsed, proof, client)
    floor = floor_of(report) if report["handshake"]["ok"] else None
    report["heap_floor_bytes"] = floor.floor_bytes if floor else None
    report["heap_floor"] = floor.to_json() if floor else None
    if xb.lto:
        report["lto"] = lto_facts(xb, elf, image, link_s)
    return report


LTO_CHOICES = (False, True, "both")


def lto_mode(value):
    """measure()'s lto from a --lto value: None/False/"off" -> False, True/"on" -> True,
    "both" -> "both"; anything else: TlsfitError(USAGE)."""
    table = {None: False, False: False, "off": False, True: True, "on": True, "both": "both"}
    try:
        return table[value]
    except (KeyError, TypeError):
        raise TlsfitError(USAGE, f"--lto {value}: expected on, off or both") from None


def lto_change(lto_report, plain_report):
    """{figure: LTO minus plain} of RATIO_FIELDS (None where either is unknown)."""
    return {k: None if lto_report.get(k) is None or plain_report.get(k) is None
            else lto_report[k] - plain_report[k] for k in RATIO_FIELDS}


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


# ------------------------------------------------------------- human output

def _kib(n):
    return "?" if n is None else f"{n} B ({n / 1024:.1f} KiB)"


def _one_summary(r, indent=""):
    hs = r["handshake"]
    lines = []
    if hs["ok"]:
        parts = [hs["version"], hs["ciphersuite"], hs["group"]]
        lines.append(f"handshake: ok, {' '.join(p for p in parts if p)}")
        if hs.get("proof_result"):
            lines.append(f"session accepted (proof {hs['proof']}): "
                         f"{hs['proof_result']['reply']}")
    else:
        lines.append(f"handshake: FAILED: {hs['message'] or hs['error']}")
        if hs.get("hint"):
            lines.append(f"  hint: {hs['hint']}")
        if hs.get("verify_flags"):
            lines.append(f"  certificate: {', '.join(hs['verify_flags'])}")
    c = r.get("client")
    if c:
        lines.append(f"client certificate: {c['subject']} ({c['key_type']} "
                     f"{c['curve'] or c['bits']}), from {c['cert']}")
    ins = r["handshake_instructions"]
    if ins is not None:
        lines.append(f"handshake instructions: {ins:,} (about {ins / 1e6:.1f} M)")
    lines.append(f"ROM: {_kib(r['rom_bytes'])}, of which mbedTLS {_kib(r['rom_tls_bytes'])}")
    lines.append(f"static RAM: {_kib(r['ram_static_bytes'])}")
    heap = f"heap peak: {_kib(r['heap_peak_bytes'])}"
    if r["heap_allocs"] is not None:
        heap += f" in {r['heap_allocs']} allocations, largest {r['heap_largest_block']} B"
    if r["heap_alloc_failed"]:
        heap += f"; an allocation FAILED (limit {r['heap_limit']})" if r["heap_limit"] \
            else "; an allocation FAILED"
    lines.append(heap)
    if r.get("heap_floor"):
        lines.append("heap floor: " + heapfloor.floor_line(r["heap_floor"]))
    lines.append(f"stack peak: {_kib(r['stack_peak_bytes'])}")
    if "external" in (r.get("rng") or ""):
        lines.append(f"random: {r['rng']} -- the header's --external-rng hook, answered by "
                     "tool/firmware/test_entropy.c (deterministic, for measuring only)")
    top = ", ".join(f"{m['name']} {m['rom_bytes']}" for m in r["modules"][:6])
    if top:
        lines.append(f"largest mbedTLS modules (ROM bytes): {top}")
    e = r["elapsed_ms"]
    lines.append(f"time: build {e['build'] / 1000:.1f} s, link {e['link'] / 1000:.1f} s, "
                 f"run {e['run'] / 1000:.1f} s")
    return [indent + ln for ln in lines]


def _lto_lines(r):
    lto = r.get("lto")
    if not lto:
        return []
    b = lto["build"]
    lines = [f"link-time optimisation (-flto): ROM {lto['rom_bytes_without_lto']} -> "
             f"{r['rom_bytes']} B ({lto['rom_change_bytes']:+d}), mbedTLS "
             f"{lto['rom_tls_bytes_without_lto']} -> {r['rom_tls_bytes']} B "
             f"({lto['rom_tls_change_bytes']:+d}); {lto['unattributed_rom_bytes']} B "
             "unattributed (modules: by function name, see --help)"]
    cost = [f"LTO link {b['lto_link_ms'] / 1000:.1f} s"]
    if b.get("plain_link_ms") is not None:
        cost.append(f"plain link {b['plain_link_ms'] / 1000:.1f} s")
    if b.get("lto_compile_s") is not None:
        cost.append(f"LTO compile {b['lto_compile_s']:.1f} s")
    if b.get("plain_compile_s") is not None:
        cost.append(f"plain compile {b['plain_compile_s']:.1f} s")
    lines.append("build time: " + ", ".join(cost) + " (compiles: the first build's, ccache "
                                                    "as it was)")
    return lines


def format_report(r):
    lines = [f"{Path(r['config']['path']).name} on {r['target']} against {r['server']} "
             f"(sni {r['sni']}), mbedTLS {r['mbedtls']}" + (" with -flto" if r.get("lto")
                                                          else "")]
    t = r.get("mbedtls_tree")
    if t:
        lines.append(f"  mbedTLS tree: {t['path']} ({t['version']}, sources sha256 "
                     f"{t['sha256'][:16]})")
    lines += _one_summary(r, "  ")
    lines += ["  " + ln for ln in _lto_lines(r)]
    if r.get("without_lto"):
        lines.append("without LTO (the plain build):")
        lines += _one_summary(r["without_lto"], "  ")
        change = ", ".join(f"{k} {v:+d}" for k, v in r["lto_change"].items() if v is not None)
        lines.append(f"change with LTO (LTO - plain): {change}")
    if "baseline" in r:
        b = r["baseline"]
        lines.append(f"baseline: mbedTLS's default configuration ({b['config'].get('preset')})")
        lines += _one_summary(b, "  ")
        ratios = ", ".join(f"{k} {v:.2f}" for k, v in r["ratios"].items() if v is not None)
        lines.append(f"ratios (measured / baseline): {ratios}")
    return lines


# ------------------------------------------------------------- subcommand


