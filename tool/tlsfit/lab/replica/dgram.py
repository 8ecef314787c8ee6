"""What the replica of a DTLS profile (`dtls.transport` "udp", `tlsfit probe --dtls`)
serves beyond the TLS plan (planning.py): DTLS 1.2 over UDP from the same engine
(tool/replay/dtls.c), the HelloVerifyRequest cookie of the recorded length, the
recorded datagram size when the server fragmented its handshake to keep under it, and
TLS 1.2 PSK suites when the run brings the key (--psk-identity, --psk-key-file: the
engine reads it from an inherited pipe; no profile holds a key).

    is_dtls(prof)                    the profile was probed over UDP
    is_psk_suite(name)               a TLS 1.2 PSK suite (plain, ECDHE-, DHE-, RSA-PSK)
    psk_only(prof)                   no chain, PSK suites only: a PSK-only server
    dtls_args(prof, psk_given, diffs)  the engine's --dtls options (diffs: appended)

Refused (REPLAY, 48): a server that uses a Connection ID (OpenSSL 3.0 has no RFC 9146),
and a PSK-only server without the key.
"""
from ...core.errors import REPLAY, TlsfitError

# OpenSSL's default cookie would be 20 bytes (s_server's HMAC-SHA1); the engine takes 1..255.
COOKIE_MAX = 255
# The engine's --mtu bounds (tool/replay/main.c set_mtu): a datagram OpenSSL can fill.
MTU_MIN, MTU_MAX = 228, 65507
# A handshake message in one datagram: record header (13) + DTLS message header (12) in
# place of TLS's (4), RFC 6347 sections 4.1 and 4.2.2.
DTLS_MSG_OVERHEAD = 13 + 12 - 4


def is_dtls(prof):
    return ((prof.document.get("dtls") or {}).get("transport")) == "udp"


def is_psk_suite(name):
    return "_PSK_" in name


def psk_only(prof):
    names = [s["name"] for s in prof.ciphersuites("TLSv1.2")]
    return not prof.chain and bool(names) and all(is_psk_suite(n) for n in names)


def psk_refusal():
    return TlsfitError(REPLAY, "the server authenticates by a pre-shared key only: give "
                               "--psk-identity and --psk-key-file (the replica needs the key "
                               "the device uses; it is read once, never stored)")


def _mtu_bound(prof):
    """The server kept its datagrams under a size smaller than its largest handshake
    message would need in one (a record header, 13 bytes, and DTLS's 12-byte message
    header for TLS's 4): it fragments to an MTU, which the replica then keeps to.  (A
    server that fragments only when the probe asked for max_fragment_length is not.)"""
    d = prof.document.get("dtls") or {}
    size = d.get("max_datagram_len") or 0
    whole = ((prof.records or {}).get("max_handshake_msg_len") or 0) + DTLS_MSG_OVERHEAD
    return bool(d.get("fragmented_across_datagrams")) and MTU_MIN <= size < whole and \
        size <= MTU_MAX


def dtls_args(prof, psk_given, diffs):
    """The engine's DTLS options for prof; difference lines appended to diffs."""
    d = prof.document.get("dtls") or {}
    if d.get("connection_id"):
        raise TlsfitError(REPLAY, "dtls.connection_id: the server uses a Connection ID "
                                  "(RFC 9146); OpenSSL 3.0 has none, so the replica cannot "
                                  "serve it")
    if d.get("version") not in (None, "DTLSv1.2"):
        raise TlsfitError(REPLAY, f"dtls.version: {d.get('version')}; the replica serves "
                                  "DTLSv1.2 only")
    args = ["--dtls"]
    if d.get("hello_verify"):
        if d.get("cookie_len"):
            args += ["--cookie-len", str(min(COOKIE_MAX, int(d["cookie_len"])))]
    else:
        diffs.append("dtls.hello_verify: the server asks no cookie; the replica always does "
                     "(OpenSSL's DTLSv1_listen)")
    if _mtu_bound(prof):
        args += ["--mtu", str(d["max_datagram_len"])]
    if not psk_given and any(is_psk_suite(s["name"]) for s in prof.ciphersuites("TLSv1.2")):
        diffs.append("ciphersuites: the PSK suites are left out: no --psk-identity and "
                     "--psk-key-file given")
    return args
