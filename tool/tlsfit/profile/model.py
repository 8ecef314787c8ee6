"""Loading and validating profiles (docs/profile-schema.md, schema version 1).

    read(path, name)      -> Profile (frozen), or TlsfitError(32, "PATH: ...")
    load(path)            -> the validated document as a dict (for scripts and tests)
    loads(text, name)     same for a string
    validate(doc, name)   raises on the first violation
    failed_steps(doc)     [(name, step)] of the steps the probe records as failed
    Profile.of(doc)       the typed view of a document (profile/types.py)
    dump(doc) / save(doc, path)

Every error is one line, "NAME: field X: what is wrong", X being a path such
as chain[1].key.bits.  Unknown keys are accepted (the schema only ever grows
within a version); missing keys, wrong types and values outside the contract
are not.  `gen` reads user-supplied profiles through this module, so it is
deliberately strict.
"""
import base64
import binascii
import json
import re
import sys
from pathlib import Path

from ..core import paths
from ..core.errors import PROFILE, TlsfitError
from ..mbedtls import names as mbedtls_names
from . import dtlsfacts
from .checks import C, Invalid as _Invalid, join as _join, short as _short

SCHEMA_VERSION = 1
VERSION_NAMES = ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
KEY_TYPES = ("rsa", "ec", "ed25519", "ed448", "rsa-pss", "dsa", "unknown")
SIG_HASHES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "", "unknown")
_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")
_SUITE_ID = re.compile(r"0x[0-9A-F]{4}\Z")
_OID = re.compile(r"[0-9]+(\.[0-9]+)+\Z")
_HEX = re.compile(r"[0-9a-f]+\Z")
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
# provenance (optional, added within schema v1): who wrote the profile.
PROVENANCE_SERVER_KEYS = ("software", "version", "package", "package_version", "configuration")
# What any real server can have (docs/profile-schema.md, "Limits"): values outside these
# are refused, so no absurd number reaches a generated header.
RSA_BITS = (512, 16384)             # rsa, rsa-pss; also the DH prime (dh_bits)
DSA_BITS = (512, 16384)             # or 0: parameters inherited from the issuer
EC_CURVE_BITS = {                   # the prober's named curves (tool/probe/x509.c)
    "secp192r1": 192, "secp224r1": 224, "secp256r1": 256, "secp384r1": 384,
    "secp521r1": 521, "secp256k1": 256, "brainpoolP224r1": 224, "brainpoolP256r1": 256,
    "brainpoolP320r1": 320, "brainpoolP384r1": 384, "brainpoolP512r1": 512, "sm2": 256,
}
EC_OTHER_BITS = (0, 1024)           # explicit/implicit parameters or an unknown curve: a guess
EDWARDS_BITS = {"ed25519": (255, 256), "ed448": (448, 456)}
UNKNOWN_BITS = (0, 16384)
MAX_RECORD = 16384 + 2048           # TLSCiphertext.length (RFC 5246 6.2.3)
MAX_HANDSHAKE = 4 + (1 << 24) - 1   # a handshake header and the largest 24-bit body
MAX_CHAIN_SENT = 1 << 24            # certificates in one Certificate message, at most
# Objects keyed by version (one key per entry of "versions").
BY_VERSION = ("ciphersuites", "server_preference", "groups", "group_preferred",
              "key_exchange", "signature_algorithms")




def _str_list(v, where):
    C.list_(v, where, lambda x, w: C.str_(x, w, nonempty=True))
    dups = sorted({x for x in v if v.count(x) > 1})
    if dups:
        raise _Invalid(where, f"{json.dumps(dups[0])} is listed twice")
    return v


def _utc(v, where, nullable=False):
    return C.str_(v, where, nullable=nullable, pattern=_UTC,
                  what="a UTC time like 2026-11-23T17:30:00Z")


def _key(v, where):
    C.obj(v, where)
    kind = C.str_(C.key(v, "type", where), _join(where, "type"), choices=KEY_TYPES)
    bits = C.int_(C.key(v, "bits", where), _join(where, "bits"), minimum=0)
    curve = C.str_(C.key(v, "curve", where), _join(where, "curve"), nullable=True)
    C.str_(C.key(v, "oid", where), _join(where, "oid"), pattern=_OID, what="a dotted OID")
    w = _join(where, "bits")
    if kind == "ec" and curve in EC_CURVE_BITS:
        if bits != EC_CURVE_BITS[curve]:
            raise _Invalid(w, f"{_short(bits)} is not the size of {curve} "
                              f"({EC_CURVE_BITS[curve]} bits)")
        return
    if kind == "dsa" and bits == 0:
        return                      # parameters inherited from the issuer
    low, high = {"rsa": RSA_BITS, "rsa-pss": RSA_BITS, "dsa": DSA_BITS, "ec": EC_OTHER_BITS,
                 "unknown": UNKNOWN_BITS}.get(kind) or EDWARDS_BITS[kind]
    label = {"rsa": "an RSA key", "rsa-pss": "an RSA-PSS key", "dsa": "a DSA key",
             "ec": "an EC key on this curve", "unknown": "a key"}.get(kind, f"an {kind} key")
    if not low <= bits <= high:
        raise _Invalid(w, f"{_short(bits)} is outside {low}..{high}, the sizes {label} can have")


def _der_b64(v, where, der_len=None):
    C.str_(v, where)
    try:
        der = base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        raise _Invalid(where, "is not valid base64") from None
    if not der or der[0] != 0x30:
        raise _Invalid(where, "does not decode to a DER SEQUENCE (a certificate)")
    if der_len is not None and len(der) != der_len:
        raise _Invalid(where, f"decodes to {len(der)} bytes but der_len says {der_len}")


def _undecoded_certificate(v, where):
    """A certificate the prober's decoder rejected ("decoded": false): only its DER is
    known; names are "", key type and hash "unknown", bits 0, OIDs, times and serial
    null (docs/profile-schema.md, "A certificate the decoder rejects")."""
    for name in ("subject", "issuer", "signature_algorithm"):
        C.str_(C.key(v, name, where), _join(where, name))
    key = C.obj(C.key(v, "key", where), _join(where, "key"))
    kw = _join(where, "key")
    C.str_(C.key(key, "type", kw), _join(kw, "type"), choices=("unknown",))
    C.int_(C.key(key, "bits", kw), _join(kw, "bits"), minimum=0, maximum=0)
    C.str_(C.key(key, "curve", kw), _join(kw, "curve"), nullable=True)
    C.str_(C.key(key, "oid", kw), _join(kw, "oid"), nullable=True, pattern=_OID,
           what="a dotted OID")
    C.str_(C.key(v, "signature_hash", where), _join(where, "signature_hash"),
           choices=("unknown",))
    C.str_(C.key(v, "signature_oid", where), _join(where, "signature_oid"), nullable=True,
           pattern=_OID, what="a dotted OID")
    for name in ("not_before", "not_after"):
        _utc(C.key(v, name, where), _join(where, name), nullable=True)
    C.str_(C.key(v, "serial", where), _join(where, "serial"), nullable=True, pattern=_HEX,
           what="lower-case hex")
    _str_list_loose(C.key(v, "san", where), _join(where, "san"))
    C.bool_(C.key(v, "is_ca", where), _join(where, "is_ca"))
    der_len = C.int_(C.key(v, "der_len", where), _join(where, "der_len"), minimum=1)
    _der_b64(C.key(v, "der_b64", where), _join(where, "der_b64"), der_len)


def _certificate(v, where):
    C.obj(v, where)
    if "decoded" in v and not C.bool_(v["decoded"], _join(where, "decoded")):
        return _undecoded_certificate(v, where)
    for name in ("subject", "issuer", "signature_algorithm"):
        C.str_(C.key(v, name, where), _join(where, name))
    _key(C.key(v, "key", where), _join(where, "key"))
    C.str_(C.key(v, "signature_hash", where), _join(where, "signature_hash"), choices=SIG_HASHES)
    C.str_(C.key(v, "signature_oid", where), _join(where, "signature_oid"), pattern=_OID,
           what="a dotted OID")
    _utc(C.key(v, "not_before", where), _join(where, "not_before"))
    _utc(C.key(v, "not_after", where), _join(where, "not_after"))
    C.str_(C.key(v, "serial", where), _join(where, "serial"), pattern=_HEX,
           what="lower-case hex")
    _str_list_loose(C.key(v, "san", where), _join(where, "san"))
    C.bool_(C.key(v, "is_ca", where), _join(where, "is_ca"))
    der_len = C.int_(C.key(v, "der_len", where), _join(where, "der_len"), minimum=1)
    _der_b64(C.key(v, "der_b64", where), _join(where, "der_b64"), der_len)


def _str_list_loose(v, where):
    # SAN lists may legitimately repeat a name; only the types are checked.
    return C.list_(v, where, lambda x, w: C.str_(x, w))


def _trust_anchor(v, where):
    if v is None:
        return
    C.obj(v, where)
    C.str_(C.key(v, "source", where), _join(where, "source"), nonempty=True)
    for name in ("subject", "issuer", "signature_algorithm"):
        C.str_(C.key(v, name, where), _join(where, name))
    _key(C.key(v, "key", where), _join(where, "key"))
    C.str_(C.key(v, "signature_hash", where), _join(where, "signature_hash"), choices=SIG_HASHES)
    _utc(C.key(v, "not_before", where), _join(where, "not_before"))
    _utc(C.key(v, "not_after", where), _join(where, "not_after"))
    _der_b64(C.key(v, "der_b64", where), _join(where, "der_b64"))


def _indices(v, where, n):
    C.list_(v, where, lambda x, w: C.int_(x, w))
    for i, x in enumerate(v):
        if not 0 <= x < n:
            raise _Invalid(_join(where, i), f"index {x} is out of range (chain has {n} "
                                            f"certificate{'' if n == 1 else 's'})")
        if x in v[:i]:
            raise _Invalid(_join(where, i), f"index {x} is listed twice")
    return v


def _chain_path(doc):
    """chain_path / chain_unused (optional, added within schema v1): positions in chain;
    the path from the leaf (0) to the anchor, the rest unused, each position once."""
    present = [k for k in ("chain_path", "chain_unused") if k in doc]
    if not present:
        return                      # a profile from before the fields: the chain is the path
    for k in ("chain_path", "chain_unused"):
        if k not in doc:
            raise _Invalid(k, f"missing ({present[0]} is given)")
    n = len(doc["chain"])
    path = _indices(doc["chain_path"], "chain_path", n)
    unused = _indices(doc["chain_unused"], "chain_unused", n)
    if n and not path:
        raise _Invalid("chain_path", "is empty (the path starts at the leaf, index 0)")
    if path and path[0] != 0:
        raise _Invalid("chain_path[0]", f"is {path[0]}, not 0 (the path starts at the leaf)")
    for i, x in enumerate(unused):
        if x in path:
            raise _Invalid(_join("chain_unused", i), f"index {x} is also in chain_path")
    missing = sorted(set(range(n)) - set(path) - set(unused))
    if missing:
        raise _Invalid("chain_unused", f"lacks index {missing[0]} (every certificate of chain "
                                       "is in chain_path or chain_unused)")
    anchor = doc["trust_anchor"]
    if anchor is not None and anchor["source"] == "sent" and path and \
            anchor["der_b64"] != doc["chain"][path[-1]]["der_b64"]:
        raise _Invalid("trust_anchor", f"is \"sent\" but is not chain[{path[-1]}], the last "
                                       "certificate of chain_path")


def _chain_truncated(doc):
    """chain_truncated (optional, added within schema v1): the Certificate message held more
    certificates than the prober keeps; chain is the first `kept` of the `sent`."""
    if "chain_truncated" not in doc:
        return
    v = C.obj(doc["chain_truncated"], "chain_truncated")
    n = len(doc["chain"])
    kept = C.int_(C.key(v, "kept", "chain_truncated"), "chain_truncated.kept", minimum=1)
    if kept != n:
        raise _Invalid("chain_truncated.kept", f"is {kept}, but chain has {n} "
                                               f"certificate{'' if n == 1 else 's'}")
    C.int_(C.key(v, "sent", "chain_truncated"), "chain_truncated.sent", minimum=kept + 1,
           maximum=MAX_CHAIN_SENT)


def _suite(v, where):
    """id and name must agree (gen goes by the name): a suite of the prober's table
    (tool/probe/tables.c) has its IANA name; an id the table lacks has the id itself as
    its name (what the prober writes) or an "unknown..." name.  A known id named by its
    hex id is a profile from a prober whose table lacked it."""
    C.obj(v, where)
    sid = C.str_(C.key(v, "id", where), _join(where, "id"), pattern=_SUITE_ID,
                 what='a suite id like "0xC02B"')
    name = C.str_(C.key(v, "name", where), _join(where, "name"), nonempty=True)
    if name.upper() == sid.upper():
        return
    known, _ = mbedtls_names.iana_suite(int(sid, 16))
    if known is None:
        if not name.lower().startswith("unknown"):
            raise _Invalid(_join(where, "name"), f"{json.dumps(name)} names a suite, but {sid} "
                                                 f"is not a known suite (its name is {sid})")
    elif name != known:
        raise _Invalid(_join(where, "name"), f"{json.dumps(name)} is not the name of {sid} "
                                             f"({known})")


def _suites(v, where):
    C.list_(v, where, _suite)
    ids = [s["id"] for s in v]
    for i, sid in enumerate(ids):
        if sid in ids[:i]:
            raise _Invalid(_join(where, i), f"suite {sid} is listed twice")


def _key_exchange(v, where):
    if v is None:
        return          # the probe's handshake in this version did not reach the key exchange
    C.obj(v, where)
    if "curve" in v:
        C.str_(v["curve"], _join(where, "curve"), nonempty=True)
    if "group" in v:
        C.str_(v["group"], _join(where, "group"), nonempty=True)
    if "dh_bits" in v:
        C.int_(v["dh_bits"], _join(where, "dh_bits"), minimum=RSA_BITS[0], maximum=RSA_BITS[1])


def _records(v, where):
    C.obj(v, where)
    for name in ("max_record_len", "max_plaintext_len"):
        C.int_(C.key(v, name, where), _join(where, name), minimum=0, maximum=MAX_RECORD)
    for name in ("max_handshake_msg_len", "certificate_msg_len"):
        C.int_(C.key(v, name, where), _join(where, name), minimum=0, maximum=MAX_HANDSHAKE)
    C.bool_(C.key(v, "mfl_honoured", where), _join(where, "mfl_honoured"), nullable=True)
    C.int_(C.key(v, "record_size_limit", where), _join(where, "record_size_limit"),
           minimum=64, maximum=16385, nullable=True)


def _extensions(v, where):
    C.obj(v, where)
    for name in ("extended_master_secret", "encrypt_then_mac", "session_ticket",
                 "renegotiation_info"):
        C.bool_(C.key(v, name, where), _join(where, name), nullable=True)
    C.str_(C.key(v, "alpn", where), _join(where, "alpn"), nullable=True)
    if "alpn_offered" in v:     # added within schema v1: the list the alpn step offered
        C.list_(v["alpn_offered"], _join(where, "alpn_offered"),
                lambda x, w: C.str_(x, w, nonempty=True))
    if "alpn_required" in v:    # added within schema v1: a hello without ALPN was refused
        C.bool_(v["alpn_required"], _join(where, "alpn_required"), nullable=True)


def _client_cert_request(v, where):
    if v is None:
        return
    C.obj(v, where)
    _str_list_loose(C.key(v, "signature_algorithms", where), _join(where, "signature_algorithms"))
    _str_list_loose(C.key(v, "ca_names", where), _join(where, "ca_names"))
    if "cert_types" in v and v["cert_types"] is not None:
        C.list_(v["cert_types"], _join(where, "cert_types"),
                lambda x, w: C.int_(x, w, minimum=0, maximum=255))


def _stats(v, where):
    C.obj(v, where)
    C.int_(C.key(v, "connections", where), _join(where, "connections"), minimum=0)
    C.int_(C.key(v, "elapsed_ms", where), _join(where, "elapsed_ms"), minimum=0)


def _steps(v, where):
    C.obj(v, where)
    for name, step in v.items():
        w = _join(where, name)
        C.obj(step, w)
        status = C.str_(C.key(step, "status", w), _join(w, "status"), choices=("ok", "error"))
        if "note" in step:
            C.str_(step["note"], _join(w, "note"), nonempty=True)
        if status == "error":
            C.str_(C.key(step, "reason", w), _join(w, "reason"), nonempty=True)
            C.int_(C.key(step, "code", w), _join(w, "code"), minimum=1, maximum=255)
            if "error" in step:
                C.str_(step["error"], _join(w, "error"), nonempty=True)


# The resumption step's facts per version (added within schema v1, optional):
# field -> "bool" (true, false or null) or "count" (an integer >= 0 or null).
RESUMPTION_FIELDS = {
    "TLSv1.2": {"session_id": "bool", "ticket": "bool", "ticket_len": "count",
                "ticket_lifetime_s": "count"},
    "TLSv1.3": {"tickets": "count", "psk_dhe_ke": "bool", "psk_ke": "bool", "ticket_len": "count",
                "ticket_lifetime_s": "count"},
}


def _resumption(doc, versions):
    """resumption (optional): per TLS 1.2/1.3 version the profile lists, the
    RESUMPTION_FIELDS, each required, null when not known."""
    if "resumption" not in doc:
        return
    res = C.obj(doc["resumption"], "resumption")
    for version, facts in res.items():
        where = _join("resumption", version)
        if version not in RESUMPTION_FIELDS or version not in versions:
            raise _Invalid(where, f"{version} is not a version the profile lists among TLSv1.2, TLSv1.3")
        C.obj(facts, where)
        for field, kind in RESUMPTION_FIELDS[version].items():
            v = C.key(facts, field, where)
            if kind == "bool":
                C.bool_(v, _join(where, field), nullable=True)
            else:
                C.int_(v, _join(where, field), minimum=0, nullable=True)


# The psk step's facts (added within schema v1, optional): the identity probed (never
# the key), the TLS 1.2 suites and TLS 1.3 modes whose handshake completed with it.
PSK_MODES = ("psk_ke", "psk_dhe_ke")
PSK_MAX_IDENTITY = 128


def _psk(doc):
    """psk (optional): {identity, tls12_suites, tls13_modes, tls13_suite (null: no TLS 1.3
    PSK handshake completed), tls13_group (the psk_dhe_ke handshake's key share group, null
    without one)}, all required."""
    if "psk" not in doc:
        return
    v = C.obj(doc["psk"], "psk")
    ident = C.str_(C.key(v, "identity", "psk"), "psk.identity", nonempty=True)
    if len(ident.encode()) > PSK_MAX_IDENTITY:
        raise _Invalid("psk.identity", f"is over {PSK_MAX_IDENTITY} bytes")
    _suites(C.key(v, "tls12_suites", "psk"), "psk.tls12_suites")
    modes = C.list_(C.key(v, "tls13_modes", "psk"), "psk.tls13_modes",
                    lambda x, w: C.str_(x, w, choices=PSK_MODES))
    if len(set(modes)) != len(modes):
        raise _Invalid("psk.tls13_modes", "lists a mode twice")
    suite = C.key(v, "tls13_suite", "psk")
    if suite is not None:
        _suite(suite, "psk.tls13_suite")
    elif modes:
        raise _Invalid("psk.tls13_suite", "is null although tls13_modes lists a mode")
    C.str_(C.key(v, "tls13_group", "psk"), "psk.tls13_group", nonempty=True, nullable=True)


def _provenance(doc):
    """provenance (optional, added within schema v1), each part optional: prober
    {version, sources_sha256} (tlsfit probe always writes it), server {software,
    version, package, package_version, configuration} (software required), script."""
    if "provenance" not in doc:
        return
    v = C.obj(doc["provenance"], "provenance")
    if "prober" in v:
        w = "provenance.prober"
        pr = C.obj(v["prober"], w)
        C.str_(C.key(pr, "version", w), _join(w, "version"), nonempty=True)
        C.str_(C.key(pr, "sources_sha256", w), _join(w, "sources_sha256"), pattern=_SHA256,
               what="64 lower-case hex digits (a SHA-256)")
    if "script" in v:
        C.str_(v["script"], "provenance.script", nonempty=True)
    if "server" in v:
        w = "provenance.server"
        server = C.obj(v["server"], w)
        C.key(server, "software", w)
        for name in PROVENANCE_SERVER_KEYS:
            if name in server:
                C.str_(server[name], _join(w, name), nonempty=True)


def _by_version(doc, name, versions, check):
    v = C.obj(C.key(doc, name, ""), name)
    for ver in v:
        if ver not in versions:
            raise _Invalid(_join(name, ver), "version not listed in versions")
    for ver in versions:
        if ver not in v:
            raise _Invalid(_join(name, ver), f"missing (versions lists {ver})")
        check(v[ver], _join(name, ver))


def _check(doc):
    C.obj(doc, "(top level)")
    sv = C.key(doc, "schema_version", "")
    C.int_(sv, "schema_version")
    if sv != SCHEMA_VERSION:
        raise _Invalid("schema_version", f"{sv} is not supported (this tlsfit reads schema "
                                         f"{SCHEMA_VERSION}; a newer tlsfit may read it)")
    tool = C.obj(C.key(doc, "tool", ""), "tool")
    C.str_(C.key(tool, "name", "tool"), "tool.name", nonempty=True)
    C.str_(C.key(tool, "version", "tool"), "tool.version", nonempty=True)
    target = C.obj(C.key(doc, "target", ""), "target")
    C.str_(C.key(target, "host", "target"), "target.host", nonempty=True)
    C.int_(C.key(target, "port", "target"), "target.port", minimum=1, maximum=65535)
    C.str_(C.key(target, "sni", "target"), "target.sni", nullable=True)
    C.str_(C.key(target, "address", "target"), "target.address", nonempty=True)
    _utc(C.key(doc, "probed_at", ""), "probed_at")

    versions = C.list_(C.key(doc, "versions", ""), "versions",
                       lambda x, w: C.str_(x, w, choices=VERSION_NAMES))
    if not versions:
        raise _Invalid("versions", "is empty (a profile needs at least one TLS version)")
    ordered = sorted(versions, key=VERSION_NAMES.index)
    if len(set(versions)) != len(versions):
        raise _Invalid("versions", "lists a version twice")
    if versions != ordered:
        raise _Invalid("versions", "is not oldest first")

    _by_version(doc, "ciphersuites", versions, _suites)
    _by_version(doc, "server_preference", versions, lambda v, w: C.bool_(v, w, nullable=True))
    _by_version(doc, "groups", versions, _str_list)
    _by_version(doc, "group_preferred", versions, lambda v, w: C.str_(v, w, nullable=True))
    _by_version(doc, "key_exchange", versions, _key_exchange)
    _by_version(doc, "signature_algorithms", versions, _str_list)

    chain = C.list_(C.key(doc, "chain", ""), "chain", _certificate)
    # null exactly when no handshake step captured a chain (the step says why)
    chain_from = C.str_(C.key(doc, "chain_from", ""), "chain_from", choices=VERSION_NAMES,
                        nullable=not chain)
    if chain_from is not None and chain_from not in versions:
        raise _Invalid("chain_from", f"{chain_from} is not listed in versions")
    _trust_anchor(C.key(doc, "trust_anchor", ""), "trust_anchor")
    C.bool_(C.key(doc, "chain_complete", ""), "chain_complete")
    _chain_path(doc)
    _chain_truncated(doc)
    _records(C.key(doc, "records", ""), "records")
    _extensions(C.key(doc, "extensions", ""), "extensions")
    C.bool_(C.key(doc, "client_cert_requested", ""), "client_cert_requested")
    _client_cert_request(C.key(doc, "client_cert_request", ""), "client_cert_request")
    if doc["client_cert_requested"] and doc["client_cert_request"] is None:
        raise _Invalid("client_cert_request", "is null although client_cert_requested is true")
    _stats(C.key(doc, "stats", ""), "stats")
    _steps(C.key(doc, "steps", ""), "steps")
    _resumption(doc, versions)
    _psk(doc)
    _provenance(doc)
    dtlsfacts.check(doc)


def validate(doc, name="profile"):
    """Raises TlsfitError(32, "NAME: field X: ...") when doc is not a schema-1 profile."""
    try:
        _check(doc)
    except _Invalid as e:
        raise TlsfitError(PROFILE, f"{name}: field {e.where}: {e.what}") from None
    return doc


def _position(text, pos):
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, column


def loads(text, name="profile"):
    """Parses and validates a profile given as text (str or bytes)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            line = text.count(b"\n", 0, e.start) + 1
            raise TlsfitError(PROFILE, f"{name}: not UTF-8 text (byte {e.start}, "
                                       f"line {line})") from None
    if not text.strip():
        raise TlsfitError(PROFILE, f"{name}: empty file, expected a JSON profile")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        if not text[e.pos:].strip() or e.msg.startswith("Unterminated string"):
            line, column = _position(text, len(text.rstrip()))
            raise TlsfitError(PROFILE, f"{name}: truncated JSON: the text ends at line {line}, "
                                       f"column {column} inside a value") from None
        reason = e.msg[0].lower() + e.msg[1:]
        raise TlsfitError(PROFILE, f"{name}: not JSON (line {e.lineno}, column {e.colno}): "
                                   f"{reason}") from None
    except RecursionError:
        raise TlsfitError(PROFILE, f"{name}: not JSON: nested too deeply") from None
    except ValueError:
        # int() refuses numbers over sys.get_int_max_str_digits() digits: no real value is so long
        limit = sys.get_int_max_str_digits()
        m = re.search(r"[0-9]{%d,}" % (limit + 1), text)
        where = f" (line {_position(text, m.start())[0]})" if m else ""
        raise TlsfitError(PROFILE, f"{name}: not a profile: an integer of more than {limit} "
                                   f"digits{where}") from None
    return validate(doc, name)


def load(path, name=None):
    """Reads, parses and validates the profile at path; `name` is how errors call it."""
    name = name or str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise TlsfitError(PROFILE, f"{name}: no such file") from None
    except IsADirectoryError:
        raise TlsfitError(PROFILE, f"{name}: is a directory, expected a JSON profile") from None
    except OSError as e:
        raise TlsfitError(PROFILE, f"{name}: cannot read: {e.strerror}") from None
    return loads(data, name)


def read(path, name=None):
    """The profile at path as a Profile (read, parsed, validated; profile/types.py)."""
    from .types import Profile
    return Profile.of(load(path, name))


def failed_steps(doc, prefix=""):
    """[(name, step)] of the probe steps a profile (a document or a Profile) records as
    failed, in probe order; with `prefix` only those whose name starts with it
    ("handshake" -> handshake.TLSv1.2, ...)."""
    return [(name, step) for name, step in (doc.get("steps") or {}).items()
            if step.get("status") == "error" and name.startswith(prefix)]


def describe_failures(doc, prefix=""):
    """"step NAME failed (REASON)[; ...]" for the failed steps, or "" when none did."""
    return "; ".join(f"step {name} failed ({step.get('reason')})"
                     for name, step in failed_steps(doc, prefix))


def dump(doc):
    if hasattr(doc, "to_json"):          # a Profile
        doc = doc.to_json()
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def save(doc, path):
    """Writes the profile to path atomically (see paths.write_atomic)."""
    return paths.write_atomic(path, dump(doc))
