"""The "dtls" object of a profile (optional, added within schema v1): what `tlsfit probe
--dtls` learnt about the server's DTLS 1.2 transport (tool/probe/dtls.h, profile.c
json_dtls).  A profile with it describes a server reached over UDP; its "versions" list
the TLS twin of the DTLS version (DTLSv1.2 -> TLSv1.2, whose handshake it carries).

    FIELDS            field -> kind ("bool", "count", "version", "udp", "cid_len")
    check(doc)        raises checks.Invalid on the first violation
    is_dtls(doc)      True when the profile describes a DTLS server
    cid_len(doc)      the CID length the server chose, None when it does not do CID
"""
from .checks import C, Invalid, join

DTLS_VERSIONS = ("DTLSv1.2", "DTLSv1.0")
# The CID is a uint8 vector (RFC 9146 section 3); mbedTLS refuses a longer one than
# MBEDTLS_SSL_CID_IN_LEN_MAX / OUT_LEN_MAX, 32 by default (mbedtls_config.h).
CID_MAX = 255
FIELDS = {
    "version": "version",
    "transport": "udp",
    "hello_verify": "bool",
    "cookie_len": "count",
    "round_trips": "count",
    "retransmissions": "count",
    "max_datagram_len": "count",
    "fragmented": "bool",
    "fragmented_across_datagrams": "bool",
    "connection_id": "bool",
    "connection_id_len": "cid_len",
}


def check(doc):
    if "dtls" not in doc:
        return
    d = C.obj(doc["dtls"], "dtls")
    for field, kind in FIELDS.items():
        v = C.key(d, field, "dtls")
        where = join("dtls", field)
        if kind == "bool":
            C.bool_(v, where)
        elif kind == "count":
            C.int_(v, where, minimum=0)
        elif kind == "version":
            C.str_(v, where, nullable=True, choices=DTLS_VERSIONS)
        elif kind == "udp":
            C.str_(v, where, choices=("udp",))
        else:
            C.int_(v, where, minimum=0, maximum=CID_MAX, nullable=True)
    if d["connection_id"] != (d["connection_id_len"] is not None):
        raise Invalid("dtls.connection_id_len", "is null exactly when connection_id is false")


def is_dtls(doc):
    return doc.get("dtls") is not None


def cid_len(doc):
    d = doc.get("dtls") or {}
    return d.get("connection_id_len") if d.get("connection_id") else None


def summary_line(doc):
    """One line for `tlsfit probe`'s summary, None for a TLS profile."""
    if not is_dtls(doc):
        return None
    d = doc["dtls"]
    cookie = (f"cookie exchange ({d['cookie_len']}-byte cookie, {d['round_trips']} round trips)"
              if d["hello_verify"] else "no cookie exchange")
    frag = ("handshake messages fragmented across datagrams" if d["fragmented_across_datagrams"]
            else "handshake messages fragmented" if d["fragmented"] else "no fragmentation")
    cid = (f"connection ID {d['connection_id_len']} bytes" if d["connection_id"]
           else "no connection ID")
    return (f"dtls: {d['version'] or 'version unknown'} over UDP, {cookie}, {frag} (largest "
            f"datagram {d['max_datagram_len']} B), {cid}")


def json_schema(object_, nullable, int_, str_):
    """The schema of "dtls", built with schema.py's helpers."""
    kinds = {"bool": {"type": "boolean"}, "count": int_(0),
             "version": nullable({"enum": list(DTLS_VERSIONS)}), "udp": {"const": "udp"},
             "cid_len": nullable(int_(0, CID_MAX))}
    return object_({field: kinds[kind] for field, kind in FIELDS.items()})
