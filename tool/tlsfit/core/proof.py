"""The proof that the server accepted the session, after the handshake (issue 13).

In TLS 1.3 the client's handshake is over before the server has judged the
client's flight; a server that rejects the client (e.g. a broker with
`require_certificate true` and no client certificate) says so afterwards,
with an alert (certificate_required, 116) or by closing.  So `verify`,
`measure` and `fit` call a handshake verified only after one exchange
(tool/proof/proof.c, shared by the verify client and the firmware): the
server's post-handshake flight is read (a TLS 1.3 NewSessionTicket, or an
alert), then the application's first message is sent and its reply read.

    parse_proof("mqtt" | "http" | "no-alert" | "send:HEX,expect:HEX") -> Proof
    default_proof(port, dtls) -> Proof  8883 mqtt; 443, 8443 http; 5684 coap (DTLS); else no-alert
    resolve(proof, port, dtls) -> Proof None: by port; text; a Proof
    proof_arg(text)                  argparse type for --proof
    describe(kind_label, result)     one line for humans from a proof result
    alert_name(description)          "certificate_required"
"""
import argparse
from dataclasses import dataclass

KINDS = ("no-alert", "mqtt", "http", "bytes", "coap")   # index: tool/proof/proof.h's enum
LABELS = {"no-alert": "no-alert", "mqtt": "mqtt-connack", "http": "http",
          "bytes": "send-expect", "coap": "coap-content"}
WAIT_MS = 2000          # the post-handshake flight / no-alert window
SEND_MAX = 1024
EXPECT_MAX = 64
MQTT_PORTS = (8883,)
HTTP_PORTS = (443, 8443)
COAP_PORTS = (5684,)        # coaps, CoAP over DTLS (RFC 7252 section 6.2): DTLS headers only

HELP = """\
after the handshake, prove the server accepted the session: mqtt (an MQTT
CONNECT, any CONNACK), http (HEAD /, a status line), no-alert (no alert and no
close within 2 s; a whole record that is not an alert, such as TLS 1.3's
NewSessionTicket, ends the wait early), coap (CoAP over DTLS: a confirmable
GET /.well-known/core, its piggybacked 2.05 Content), or send:HEX,expect:HEX
(these bytes, a reply starting with those; send may be empty for a server that
speaks first).  Default by port: 8883 mqtt, 443 and 8443 http, 5684 coap (a
DTLS header), any other no-alert"""

MQTT_CODES = {0: "connection accepted", 1: "unacceptable protocol version",
              2: "identifier rejected", 3: "server unavailable",
              4: "bad user name or password", 5: "not authorized"}

ALERTS = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
    21: "decryption_failed", 22: "record_overflow", 30: "decompression_failure",
    40: "handshake_failure", 41: "no_certificate", 42: "bad_certificate",
    43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired",
    46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca",
    49: "access_denied", 50: "decode_error", 51: "decrypt_error",
    60: "export_restriction", 70: "protocol_version", 71: "insufficient_security",
    80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
    100: "no_renegotiation", 109: "missing_extension", 110: "unsupported_extension",
    111: "certificate_unobtainable", 112: "unrecognized_name",
    113: "bad_certificate_status_response", 114: "bad_certificate_hash_value",
    115: "unknown_psk_identity", 116: "certificate_required",
    120: "no_application_protocol",
}


class ProofError(ValueError):
    """A --proof text that is not one of the forms; str() says which forms there are."""


@dataclass(frozen=True)
class Proof:
    """One proof: kind ("no-alert", "mqtt", "http", "bytes") and, for "bytes",
    what is sent and the reply's expected first bytes."""
    kind: str
    send: bytes = b""
    expect: bytes = b""

    @property
    def label(self):
        """The name reports use: "mqtt-connack", "http", "no-alert", "send-expect"."""
        return LABELS[self.kind]

    @property
    def code(self):
        """tool/proof/proof.h's enum tf_proof_kind."""
        return KINDS.index(self.kind)

    @property
    def spec(self):
        """The --proof text that gives this proof back (parse_proof(p.spec) == p)."""
        if self.kind == "bytes":
            return f"send:{self.send.hex()},expect:{self.expect.hex()}"
        return self.kind

    def __str__(self):
        return self.spec


def _hex(text, what, limit, allow_empty):
    try:
        data = bytes.fromhex(text)
    except ValueError:
        data = None
    if data is None or (" " in text) or (not data and not allow_empty) or len(data) > limit:
        least = 0 if allow_empty else 1
        raise ProofError(f"--proof send:HEX,expect:HEX: {what} takes {least} to {limit} bytes "
                         f"as pairs of hex digits, not {text!r}")
    return data


def parse_proof(text):
    """The Proof a --proof text names; ProofError (one line) otherwise."""
    t = (text or "").strip()
    if t in ("mqtt", "http", "no-alert", "coap"):
        return Proof(t)
    if t.startswith("send:"):
        send, sep, expect = t[len("send:"):].partition(",")
        if not sep or not expect.startswith("expect:"):
            raise ProofError(f"--proof {text!r}: expected send:HEX,expect:HEX")
        return Proof("bytes", _hex(send, "send", SEND_MAX, True),
                     _hex(expect[len("expect:"):], "expect", EXPECT_MAX, False))
    raise ProofError(f"--proof {text!r}: expected mqtt, http, no-alert, coap or "
                     "send:HEX,expect:HEX")


def default_proof(port, dtls=False):
    """The proof the port suggests: 8883 MQTT, 443 and 8443 HTTP, 5684 CoAP when the
    session is DTLS (CoAP over TLS on 5684 frames its messages otherwise), else no-alert."""
    port = int(port)
    if dtls and port in COAP_PORTS:
        return Proof("coap")
    if port in MQTT_PORTS:
        return Proof("mqtt")
    if port in HTTP_PORTS:
        return Proof("http")
    return Proof("no-alert")


def resolve(proof, port, dtls=False):
    """A Proof from None (by port and transport), a --proof text or a Proof."""
    if proof is None:
        return default_proof(port, dtls)
    if isinstance(proof, Proof):
        return proof
    return parse_proof(proof)


def proof_arg(text):
    """argparse type for --proof."""
    try:
        return parse_proof(text)
    except ProofError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def alert_name(description):
    """The IANA name of a TLS alert description ("unknown" when not listed)."""
    return ALERTS.get(description, "unknown")


def alert_text(description):
    """"certificate_required (116)"."""
    return f"{alert_name(description)} ({description})"


def describe(label, result):
    """One line saying how the proof ended, from a proof result mapping (the verify
    client's "proof_result" or measure's handshake "proof_result"): outcome,
    mqtt_return_code, http_status, reply_hex, alert."""
    if not result:
        return "the proof did not run"
    outcome = result.get("outcome")
    code = result.get("mqtt_return_code")
    if outcome == "accepted":
        if code is not None:
            return f"CONNACK return code {code} ({MQTT_CODES.get(code, 'reserved')})"
        if result.get("http_status"):
            return result["http_status"]
        if label == LABELS["coap"]:
            return "CoAP 2.05 Content for GET /.well-known/core"
        reply = result.get("reply_hex") or ""
        return f"a reply starting {reply[:32]}{'...' if len(reply) > 32 else ''}"
    return {
        "flight": "the server's post-handshake flight (NewSessionTicket), no alert",
        "quiet": f"no alert and no close within {WAIT_MS / 1000:g} s",
        "data": "the server sent application data, no alert",
        "alert": f"alert {result.get('alert')} after the handshake",
        "closed": "the server closed the connection after the handshake",
        "timeout": f"no reply to the {label} proof",
        "mismatch": f"a reply the {label} proof does not expect: "
                    f"{(result.get('reply_hex') or '')[:32] or 'empty'}",
    }.get(outcome, f"the {label} proof failed ({outcome})")
