"""What the firmware's output and the relay's view of the wire say about one run.

    handshake(out, names, res, proof, clock_hz, client=None) -> the report's "handshake"

ok only when the handshake completed and the proof after it showed the server's
acceptance (core/proof.py).  A failure names the mbedTLS or PSA error, the handshake
state, the server's alert and a hint naming the next step: a record larger than
MBEDTLS_SSL_IN_CONTENT_LEN, an allocation refused at the heap limit, an anchor or
device identity the header cannot parse, a server that wants a client certificate
(core.identity.client_cert_hint).  No result line at all: the timeout, the server
hanging up, a CPU fault or the firmware's end, with the last state it printed.
"""
import re

from ..core import identity as identity_mod, proof as proof_mod, resumption
from ..mbedtls import names as mbedtls_names

_STATE_LINE = re.compile(r"^tlsfit-fw: state (\d+)$", re.M)
_FAULT_LINE = re.compile(r"^tlsfit-fw: FAULT .*$", re.M)


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


def handshake(out, names, res, proof, clock_hz, client=None):
    """The report's "handshake" object for one run (session.RunOutcome `out`, its
    TLSFIT-RESULT `res`): ok, version, ciphersuite, group, error, code, step, state,
    message, hint, verify_flags, server_alert, proof, proof_result.  names: the tree's
    mbedtls.names; clock_hz: the target's CPU clock (the proof's wait in ms)."""
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
    if hs["step"] == "resume":
        return _resume_failed(hs, res, names)
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


def _resume_failed(hs, res, names):
    """The full handshake was proven; saving or resuming the session failed."""
    _error(hs, res, names)
    hs["message"] = resumption.failure_message(hs["error"], (res.get("resumption") or {})
                                               .get("mode"))
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


SILENT = "TLSFIT_DTLS_SILENT"      # tool/errors/errors.h: the firmware's name, and this one's


def dtls_silent(hs, relay, server):
    """A failed DTLS handshake during which the server sent no datagram at all (the
    firmware's retransmissions ran out, or QEMU was stopped first): hs's error becomes
    SILENT, named with the port and, when an ICMP port unreachable came back, that
    nothing listens there.  A server that sent only HelloVerifyRequests gets a hint
    saying so; hs is otherwise unchanged."""
    if hs["ok"] or relay is None or relay.datagrams_to_server == 0:
        return hs
    wire = relay.wire
    heard = relay.datagrams_from_server
    if heard and wire is not None and wire.hello_verify_requests == heard:
        hs["hint"] = ("the server sent only HelloVerifyRequest: it never answered the "
                      "ClientHello that carried its cookie")
    if heard:
        return hs
    why = ("nothing listens on that UDP port (ICMP port unreachable)" if relay.unreachable
           else "it dropped every ClientHello (no HelloVerifyRequest, no ServerHello)")
    hs.update(error=SILENT, step="handshake",
              message=f"the DTLS server {server} sent no datagram in answer to "
                      f"{relay.datagrams_to_server} ClientHello datagram(s): {why}",
              hint="check the server runs DTLS on that port (tlsfit probe --dtls HOST:PORT)")
    return hs

