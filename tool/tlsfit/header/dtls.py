"""DTLS in a header: what a profile with a "dtls" object (tlsfit probe --dtls) adds to
its server's wants, values, duties and preamble (rules.toml [dtls]).

    dtls_wants(doc, rules, line)            {option: [reasons]} ({} for a TLS server)
    dtls_values(servers, enabled, values)   TLSFIT_DTLS, the MTU, CID lengths, input buffer
    dtls_duties(values)                     the calls the application owes
    dtls_notes(servers, rules, line)        the preamble's lines: what was left out, why
    header_is_dtls(config_path)             whether a header file defines TLSFIT_DTLS
    refuse_on_target(dtls, resume)          what measure/fit refuse of DTLS (resumption)

The candidates are TLS 1.2's (the profile lists TLSv1.2, the handshake DTLS 1.2
carries); these add the datagram layer.  A TLS server's header is unchanged, byte for
byte.
"""
import math
import re
from pathlib import Path

from ..core.errors import DTLS_ON_TARGET, TlsfitError
from ..profile import dtlsfacts

# The client's own CID: none (mbedtls_ssl_set_cid with length 0: the server sends its
# records without one); 1, not 0, because include/mbedtls/ssl.h:2009 declares
# own_cid[MBEDTLS_SSL_CID_IN_LEN_MAX].
OWN_CID_LEN = 0
CID_IN_LEN_MAX = 1
# IPv6's minimum link MTU (RFC 8200 section 5): the client's datagrams never need IP
# fragmentation on any path.
MTU = 1280
IN_ROUND = 256


def dtls_servers(servers):
    return [s for s in servers if dtlsfacts.is_dtls(s.doc)]


def _cid_usable(doc, rules, line):
    return (dtlsfacts.cid_len(doc) is not None
            and line not in rules.dtls.get("connection_id_unsupported", {}))


def dtls_wants(doc, rules, line):
    """{option: [reasons]} a DTLS server adds; {} for a TLS server."""
    if not dtlsfacts.is_dtls(doc):
        return {}
    d = doc["dtls"]
    wants = {name: [f"the server speaks {d['version'] or 'DTLS'} over UDP (tlsfit probe --dtls)"]
             for name in rules.dtls.get("options", []) if rules.available(name, line)}
    if _cid_usable(doc, rules, line):
        for name in rules.dtls.get("connection_id", []):
            wants[name] = [f"the server chose a {d['connection_id_len']}-byte Connection ID"]
    return wants


def dtls_values(servers, enabled, values):
    """Adds, in place, the values a DTLS header needs: TLSFIT_DTLS (the harnesses'
    marker), the MTU, the Connection ID lengths, and an input buffer that holds the
    largest datagram (mbedTLS reads a whole datagram into it)."""
    ds = dtls_servers(servers)
    if not ds:
        return
    values["TLSFIT_DTLS"] = (1, "the server speaks DTLS over UDP: the client uses "
                                "MBEDTLS_SSL_TRANSPORT_DATAGRAM, timers and mbedtls_ssl_set_mtu()")
    values["TLSFIT_DTLS_MTU"] = (MTU, "pass to mbedtls_ssl_set_mtu(): IPv6's minimum link MTU "
                                      "(RFC 8200 section 5), so no datagram of the client "
                                      "needs IP fragmentation")
    if "MBEDTLS_SSL_DTLS_CONNECTION_ID" in enabled:
        out = max(dtlsfacts.cid_len(s.doc) or 0 for s in ds)
        values["MBEDTLS_SSL_CID_OUT_LEN_MAX"] = (out, f"the server's Connection ID: {out} bytes")
        values["MBEDTLS_SSL_CID_IN_LEN_MAX"] = (
            CID_IN_LEN_MAX, "the client asks for no CID of its own (mbedtls_ssl_set_cid with "
                            "length 0); 1, not 0: mbedTLS declares an array of this length")
        values["TLSFIT_DTLS_CID"] = (1, "call mbedtls_ssl_set_cid(&ssl, MBEDTLS_SSL_CID_ENABLED, "
                                        "NULL, 0) before the handshake")
    name = "MBEDTLS_SSL_IN_CONTENT_LEN"
    datagram = max(s.doc["dtls"]["max_datagram_len"] for s in ds)
    if name in values and values[name][0] < datagram:
        need = math.ceil(datagram / IN_ROUND) * IN_ROUND
        values[name] = (need, f"the server's largest datagram: {datagram} bytes (mbedTLS reads "
                              f"a whole datagram into its input buffer), rounded to {IN_ROUND}")


def dtls_duties(values):
    """The calls a DTLS header's application owes, in the order it makes them."""
    if "TLSFIT_DTLS" not in values:
        return []
    duties = ["mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, "
              "MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT)",
              "mbedtls_ssl_set_timer_cb(&ssl, &timer, mbedtls_timing_set_delay, "
              "mbedtls_timing_get_delay) or the device's own timer pair (retransmission)",
              "mbedtls_ssl_set_bio(&ssl, &udp, send, NULL, recv_timeout) with a receive that "
              "waits at most its timeout argument (as mbedtls_net_recv_timeout)",
              "mbedtls_ssl_set_mtu(&ssl, TLSFIT_DTLS_MTU)"]
    if "TLSFIT_DTLS_CID" in values:
        duties.append("mbedtls_ssl_set_cid(&ssl, MBEDTLS_SSL_CID_ENABLED, NULL, 0) before the "
                      "handshake")
    return duties


def dtls_notes(servers, rules, line):
    """The preamble's DTLS lines: what each left-out option is and why, and a Connection
    ID the line cannot use."""
    ds = dtls_servers(servers)
    if not ds:
        return []
    notes = ["DTLS 1.2 over UDP; left out (a client never needs them):"]
    notes += [f"  {name}: {why}" for name, why in rules.dtls.get("excluded", {}).items()]
    unsupported = rules.dtls.get("connection_id_unsupported", {}).get(line)
    if unsupported and any(dtlsfacts.cid_len(s.doc) is not None for s in ds):
        notes.append(f"The server offers a Connection ID; not used: {unsupported}")
    return notes


# ------------------------------------------------- a DTLS header, read back

_DTLS_DEFINE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+TLSFIT_DTLS\b(?!_)", re.M)


def header_is_dtls(config_path):
    """True when the header defines TLSFIT_DTLS (False when it cannot be read: the
    build reports that)."""
    try:
        return bool(_DTLS_DEFINE.search(Path(config_path).read_bytes()))
    except OSError:
        return False


_ON_TARGET = ("the firmware's datagram relay (target/dgramrelay.py) carries one DTLS "
              "association, and a second one resuming the first is not measured; measure "
              "or fit without --resume (a header from gen --resume for a DTLS server: gen "
              "it without --resume)")


def refuse_on_target(dtls, resume, what="the header"):
    """TlsfitError(DTLS_ON_TARGET) for what measure/fit cannot do with DTLS on the target:
    resumption (a second association).  what names the DTLS header or profile."""
    if dtls and resume:
        raise TlsfitError(DTLS_ON_TARGET, f"{what} is DTLS and asks for resumption: "
                                          f"{_ON_TARGET}")
