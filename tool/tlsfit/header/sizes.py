"""Sizes: the input and output buffers (MBEDTLS_SSL_IN/OUT_CONTENT_LEN) from the records
the probe saw, what keeps a server's application records within the input buffer, and
the largest number the header must hold (MBEDTLS_MPI_MAX_SIZE, MBEDTLS_ECP_MAX_BITS)."""
import math

from ..profile import dtlsfacts
from . import client as client_mod
from .resume import negotiated, ticket_flight
from .servers import whose
from .types import Refusal

MAX_CONTENT_LEN = 16384          # mbedTLS cannot buffer more than one full record
IN_HEADROOM = 256                # bytes above the largest record the server was seen to send
IN_ROUND = 256
OUT_CONTENT_LEN = 1024           # a client's ClientHello and Finished fit; writes are split
HELLO_ROOM = 512                 # a resuming ClientHello's own fields beside its ticket


def in_content_len(doc, line, who="the server", resume=False, versions=None, ticket_extra=0):
    """(value, why) for MBEDTLS_SSL_IN_CONTENT_LEN from one server's records and its
    NewSessionTickets in `versions` (None: any; resume.ticket_flight: named in the reason
    with --resume, or when they are the largest); who names the server in the reason;
    ticket_extra: bytes a ticket may grow by beyond what the probe saw (the device's
    Certificate message, which a server may keep in a resumable session)."""
    rec = doc.records
    plain = rec.get("max_plaintext_len") or 0
    hs = rec.get("max_handshake_msg_len") or 0
    cert = rec.get("certificate_msg_len")
    tickets = ticket_flight(doc, line, resume, versions)
    if tickets and ticket_extra:
        count = max(1, ((doc.get("resumption") or {}).get("TLSv1.3") or {}).get("tickets") or 1)
        tickets = (tickets[0] + count * ticket_extra, f"{tickets[1]}, + {count} x "
                   f"{ticket_extra} for the device's Certificate message the server may keep "
                   "in each ticket")
    need = max(plain, hs, tickets[0] if tickets else 0)
    if need == 0:
        return MAX_CONTENT_LEN, ("" if who == "the server" else f"the probe of {who}: ") + (
            f"the probe recorded no record sizes: mbedTLS's full {MAX_CONTENT_LEN}")
    if need > MAX_CONTENT_LEN:
        raise Refusal(f"the server's largest handshake message is {need} bytes; mbedTLS must "
                      f"hold a whole handshake message in its {MAX_CONTENT_LEN}-byte input buffer")
    # DTLS handshake messages carry their own fragment headers, which 2.28 does reassemble
    # (ssl_msg.c, ssl_buffer_message); only TLS records split a message it cannot.
    if line == "2.28" and hs > plain and not dtlsfacts.is_dtls(doc):
        raise Refusal(f"the server splits a {hs}-byte handshake message over records of at "
                      f"most {plain} bytes; mbedTLS 2.28 cannot reassemble that")
    value = min(MAX_CONTENT_LEN, math.ceil((need + IN_HEADROOM) / IN_ROUND) * IN_ROUND)
    what = f"its largest handshake message {hs} bytes"
    if cert:
        what += f" (Certificate message {cert} bytes)"
    if tickets and (resume or tickets[0] > max(plain, hs)):
        what += f"; {tickets[1]}"
    return value, (f"largest record from {who}: {plain} bytes, {what}; "
                   f"+{IN_HEADROOM} spare, rounded to {IN_ROUND}")


def _no_limit(doc, chosen, line, dropped=None):
    """Why no record limit keeps the server's application records small, true for the
    line and the version chosen (dropped: why the header leaves max_fragment_length out)."""
    rec = doc.records
    if any(c.version == "TLSv1.3" for c in chosen):
        if not rec.get("record_size_limit"):
            return "the server did not acknowledge record_size_limit"
        return "the server acknowledged record_size_limit but sent larger records"
    if rec.get("mfl_honoured") and line == "2.28":
        return ("the server honours max_fragment_length, but mbedTLS 2.28 cannot reassemble "
                "the handshake messages it would split, so it is not asked for")
    if rec.get("mfl_honoured") and dropped:
        return f"the server honours max_fragment_length, but it is not asked for: {dropped}"
    return "the server does not honour max_fragment_length"


LIMITS = {"MBEDTLS_SSL_MAX_FRAGMENT_LENGTH": ("TLSv1.2", "mfl_honoured"),
          "MBEDTLS_SSL_RECORD_SIZE_LIMIT": ("TLSv1.3", "record_size_limit_honoured")}


def limit_of(server, options):
    """The record limit (option name) that keeps this server's application records within
    the input buffer, or None."""
    for name, (version, honoured) in LIMITS.items():
        if name in options and server.doc.records.get(honoured) and \
                any(c.version == version for c in server.chosen):
            return name
    return None


def _app_records(servers, options, line, dropped=None):
    """What keeps the servers' application data records within a small input buffer."""
    if len(servers) == 1:
        s = servers[0]
        limit = [o for o in LIMITS if o in options]
        return (f". Application data records are kept within it by {limit[0][len('MBEDTLS_SSL_'):].lower()}"
                if limit else f". Application data records must fit too, and "
                f"{_no_limit(s.doc, s.chosen, line, dropped)}: raise it if your protocol receives "
                "more at once")
    kept, loose = [], []
    for s in servers:
        lim = limit_of(s, options)
        if lim:
            kept.append(f"for {s.who} by {lim[len('MBEDTLS_SSL_'):].lower()}")
        else:
            loose.append(f"for {s.who} {_no_limit(s.doc, s.chosen, line, dropped)}")
    out = ". Application data records must fit too"
    if kept:
        out += ": they are kept within it " + " and ".join(kept)
    if loose:
        out += ("; but " if kept else ", and ") + "; ".join(loose) + \
            ": raise it if your protocol receives more at once from " + \
            ("it" if len(loose) == 1 else "them")
    return out


def _largest_ticket(servers):
    """The longest ticket any of the servers issued when probed (bytes; 0: none seen)."""
    return max([((s.doc.get("resumption") or {}).get(v) or {}).get("ticket_len") or 0
                for s in servers for v in ("TLSv1.2", "TLSv1.3")] or [0])


def resumed_hello_len(servers, client):
    """(value, why) for MBEDTLS_SSL_OUT_CONTENT_LEN when the device resumes a session in
    which it presented its certificate, or None (no ticket seen).  A server may keep the
    client's certificate in the session state its ticket carries (OpenSSL does), and the
    probe saw only sessions without one: the ticket the ClientHello sends back grows by
    about the device's Certificate message.  Measured: gen's 1,024-byte buffer failed with
    MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL resuming an openssl s_server -Verify 1 ticket."""
    ticket = _largest_ticket(servers)
    if not ticket:
        return None
    n = ticket + client.certificate_msg_len + HELLO_ROOM
    return -(-n // 256) * 256, (
        f"a resuming ClientHello carries the server's ticket, {ticket} bytes when probed, plus "
        f"up to the device's Certificate message ({client.certificate_msg_len} bytes) the "
        f"server may keep in it, plus {HELLO_ROOM} for the rest of the ClientHello; "
        "mbedtls_ssl_write() splits longer application writes")


def joint_in_len(servers, line, resume=False, client=None):
    """(value, why) for MBEDTLS_SSL_IN_CONTENT_LEN: the largest any server needs (with
    --resume and a device certificate, its tickets may hold that certificate too)."""
    extra = client.certificate_msg_len if resume and client is not None else 0
    per = [in_content_len(s.doc, line, "the server" if len(servers) == 1 else s.who, resume,
                          (negotiated(s, servers),), extra) for s in servers]
    value = max(v for v, _ in per)
    return value, "; ".join(why for v, why in per if v == value)


def _largest(servers, bits_of, what):
    """The largest of bits_of(server) and the reason naming the server(s) it comes from."""
    bits = max(bits_of(s) for s in servers)
    if not bits:
        return 0, None
    if len(servers) == 1:
        return bits, what.format(bits=bits)
    holders = whose([s for s in servers if bits_of(s) == bits], len(servers))
    return bits, f"{what.format(bits=bits)} of {holders}"


def _dh_bits(server):
    return max([(server.doc.key_exchange(c.version) or {}).get("dh_bits") or 2048
                for c in server.chosen if c.kx == "DHE_RSA"] or [0])


def size_values(servers, plan_options, rules, line, mfl_dropped=None, client=None,
                resume=False):
    """{option: (value, reason)} for the buffer and number sizes: the input buffer for the
    largest record any server needs, the output buffer, MBEDTLS_MPI_MAX_SIZE for the
    largest RSA key, DH prime or curve, and (2.28) MBEDTLS_ECP_MAX_BITS."""
    values = {}
    in_len, why = joint_in_len(servers, line, resume, client)
    if in_len < MAX_CONTENT_LEN:
        why += _app_records(servers, plan_options, line, mfl_dropped)
    values["MBEDTLS_SSL_IN_CONTENT_LEN"] = (in_len, why)
    values["MBEDTLS_SSL_OUT_CONTENT_LEN"] = (
        OUT_CONTENT_LEN, "the client's own handshake messages fit; mbedtls_ssl_write() "
                         "splits longer application writes")
    if client is not None:
        values["MBEDTLS_SSL_OUT_CONTENT_LEN"] = client_mod.out_content_len(
            client, OUT_CONTENT_LEN) or values["MBEDTLS_SSL_OUT_CONTENT_LEN"]
    if client is not None and resume:
        resumed = resumed_hello_len(servers, client)
        if resumed and resumed[0] > values["MBEDTLS_SSL_OUT_CONTENT_LEN"][0]:
            values["MBEDTLS_SSL_OUT_CONTENT_LEN"] = resumed
    curve_bits = [rules.facts["curves"][c].attrs["bits"] for c in rules.facts["curves"]
                  if any(o in plan_options for o in rules.facts["curves"][c].options)]
    rsa_bits, rsa_why = _largest(servers, lambda s: s.chain.rsa_bits,
                                 "RSA-{bits} in the chain or trust anchor")
    if client is not None and client.key_type == "rsa" and (client.bits or 0) > rsa_bits:
        rsa_bits, rsa_why = client.bits, f"the device's RSA-{client.bits} key"
    dh_bits, dh_why = _largest(servers, _dh_bits, "DHE with a {bits}-bit prime")
    mpi = max(math.ceil(b / 8) for b in [rsa_bits, dh_bits] + curve_bits)
    why = [w for w in (rsa_why, dh_why) if w]
    if curve_bits:
        why.append(f"{max(curve_bits)}-bit curves")
    if "MBEDTLS_BIGNUM_C" in plan_options:
        values["MBEDTLS_MPI_MAX_SIZE"] = (max(mpi, 32), "largest number: " + ", ".join(why))
    if line == "2.28" and curve_bits:
        values["MBEDTLS_ECP_MAX_BITS"] = (max(curve_bits), "largest curve enabled")
    return values
