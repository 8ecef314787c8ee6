"""The profile's JSON Schema (draft 2020-12), built from the validator's own tables.

    json_schema() -> dict       the schema; docs/profile-schema.json is its text
    text()        -> str        json_schema() as written to docs/profile-schema.json
    ./tlsfit regenerate profile-schema      (regenerates it; or python3 -m tlsfit.profile.schema)

Every enum, bound and per-curve size comes from model.py (VERSION_NAMES, KEY_TYPES,
SIG_HASHES, RSA_BITS, DSA_BITS, EC_CURVE_BITS, EC_OTHER_BITS, EDWARDS_BITS,
UNKNOWN_BITS, MAX_RECORD, MAX_HANDSHAKE, MAX_CHAIN_SENT, BY_VERSION,
PROVENANCE_SERVER_KEYS) and the suite names from the prober's table
(mbedtls.names.iana_suite), so a change there changes the schema with it;
tests/test_profile_schema.py fails when docs/profile-schema.json is stale and proves
the schema and the validator agree on every shipped profile and on malformed ones.

What JSON Schema cannot say (no comparison between values of a document) stays with
the validator alone; VALIDATOR_ONLY lists it, and the schema's description repeats it.
Patterns end in `$(?!\\n)`: the same in ECMA-262 and in Python's re (whose `$` also
matches before a final newline, which the validator's \\Z does not).
"""
import itertools
import json

from ..mbedtls import names as mbedtls_names
from . import dtlsfacts, model

SCHEMA_ID = "https://tlsfit.invalid/docs/profile-schema.json"
VALIDATOR_ONLY = (
    "der_len equals the size der_b64 decodes to",
    "chain_path and chain_unused name positions of chain, each once, together all of them",
    "a trust_anchor with source \"sent\" is the last certificate of chain_path",
    "chain_truncated.kept equals the length of chain and sent is larger",
    "a suite id is listed once per version",
    "a suite id the prober's table lacks, named by a hex id, is named by its own id",
    "no integer has more digits than Python reads (4300)",
    "an integer is written without a fraction (1, not 1.0)",
    "a version under resumption is one the profile lists",
    "psk.identity is at most 128 bytes as UTF-8; psk.tls13_suite is not null when tls13_modes lists a mode",
)
# Shapes (the validator's regular expressions, in a form ECMA-262 and Python agree on).
UTC = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$(?!\n)"
OID = r"^[0-9]+(\.[0-9]+)+$(?!\n)"
HEX = r"^[0-9a-f]+$(?!\n)"
SHA256 = r"^[0-9a-f]{64}$(?!\n)"
SUITE_ID = r"^0x[0-9A-F]{4}$(?!\n)"
# base64 of a DER SEQUENCE: its first byte 0x30 encodes as "M"; whole quanta, padded.
DER_B64 = r"^(?=M)(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$(?!\n)"


def _nullable(schema):
    return {"anyOf": [{"type": "null"}, schema]}


def _str(min_length=0, **more):
    s = {"type": "string", **more}
    if min_length:
        s["minLength"] = min_length
    return s


def _int(low=None, high=None):
    s = {"type": "integer"}
    if low is not None:
        s["minimum"] = low
    if high is not None:
        s["maximum"] = high
    return s


def _object(properties, required=None):
    return {"type": "object", "properties": properties,
            "required": list(required if required is not None else properties)}


def _bits_rules():
    """The key size rules of model._key: per named curve, per key type."""
    rules = [{"if": {"properties": {"type": {"const": "ec"}, "curve": {"const": curve}}},
              "then": {"properties": {"bits": {"const": bits}}}}
             for curve, bits in model.EC_CURVE_BITS.items()]
    rules.append({"if": {"properties": {"type": {"const": "ec"},
                                        "curve": {"not": {"enum": list(model.EC_CURVE_BITS)}}}},
                  "then": {"properties": {"bits": _int(*model.EC_OTHER_BITS)}}})
    ranges = {"rsa": model.RSA_BITS, "rsa-pss": model.RSA_BITS,
              "unknown": model.UNKNOWN_BITS, **model.EDWARDS_BITS}
    rules += [{"if": {"properties": {"type": {"const": kind}}},
               "then": {"properties": {"bits": _int(*bounds)}}} for kind, bounds in ranges.items()]
    rules.append({"if": {"properties": {"type": {"const": "dsa"}}},
                  "then": {"properties": {"bits": {"anyOf": [{"const": 0},
                                                             _int(*model.DSA_BITS)]}}}})
    return rules


def _case_insensitive(text):
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in text)


def _suite_rules():
    """A known id carries its IANA name (or its own hex id, any case); another id a
    name starting with "unknown" (any case) or a hex id."""
    known = {}
    for i in range(0x10000):
        name, _ = mbedtls_names.iana_suite(i)
        if name:
            known[f"0x{i:04X}"] = name
    rules = [{"if": {"properties": {"id": {"const": sid}}},
              "then": {"properties": {"name": {"anyOf": [
                  {"const": name}, {"pattern": f"^{_case_insensitive(sid)}$(?!\\n)"}]}}}}
             for sid, name in sorted(known.items())]
    rules.append({"if": {"properties": {"id": {"not": {"enum": sorted(known)}}}},
                  "then": {"properties": {"name": {
                      "pattern": r"^(?:[uU][nN][kK][nN][oO][wW][nN]|0[xX][0-9A-Fa-f]{4}$(?!\n))"}}}})
    return rules


def _by_version_rules():
    """versions is one of the ordered, non-empty subsets of VERSION_NAMES; each object
    keyed by version has exactly those keys, and chain_from is one of them (or null,
    only when the chain is empty: a PSK-only server)."""
    subsets = [list(c) for n in range(1, len(model.VERSION_NAMES) + 1)
               for c in itertools.combinations(model.VERSION_NAMES, n)]
    rules = []
    for versions in subsets:
        keyed = {"type": "object", "required": versions, "propertyNames": {"enum": versions}}
        then = {"properties": {name: keyed for name in model.BY_VERSION}}
        then["properties"]["chain_from"] = {"enum": [*versions, None]}
        rules.append({"if": {"properties": {"versions": {"const": versions}}}, "then": then})
    rules.append({"if": {"properties": {"chain": {"minItems": 1}}},
                  "then": {"properties": {"chain_from": {"type": "string"}}}})
    return subsets, rules


def _defs():
    key = _object({"type": {"enum": list(model.KEY_TYPES)}, "bits": _int(0),
                   "curve": _nullable(_str()), "oid": _str(pattern=OID)})
    key["allOf"] = _bits_rules()
    cert_common = {"subject": _str(), "issuer": _str(), "signature_algorithm": _str(),
                   "key": {"$ref": "#/$defs/key"},
                   "signature_hash": {"enum": list(model.SIG_HASHES)},
                   "not_before": {"$ref": "#/$defs/utc"}, "not_after": {"$ref": "#/$defs/utc"},
                   "der_b64": _str(4, pattern=DER_B64)}
    certificate = _object({**cert_common, "signature_oid": _str(pattern=OID),
                           "serial": _str(pattern=HEX),
                           "san": {"type": "array", "items": _str()},
                           "is_ca": {"type": "boolean"}, "der_len": _int(1)})
    anchor = _object({"source": _str(1), **cert_common})
    suite = _object({"id": _str(pattern=SUITE_ID), "name": _str(1)})
    suite["allOf"] = _suite_rules()
    names = {"type": "array", "items": _str(1), "uniqueItems": True}
    key_exchange = _nullable({"type": "object", "properties": {
        "curve": _str(1), "group": _str(1), "dh_bits": _int(*model.RSA_BITS)}})
    return {
        "utc": _str(pattern=UTC),
        "key": key,
        "certificate": certificate,
        "trust_anchor": anchor,
        "suite": suite,
        "suites": {"type": "array", "items": {"$ref": "#/$defs/suite"}, "uniqueItems": True},
        "names": names,
        "key_exchange": key_exchange,
        "bool_or_null": {"type": ["boolean", "null"]},
    }


def _by_version(item):
    return {"type": "object", "additionalProperties": item}


def _resumption_schema():
    """resumption: per version, model.RESUMPTION_FIELDS, every field required."""
    return _object({version: _object({
        field: ({"$ref": "#/$defs/bool_or_null"} if kind == "bool" else _nullable(_int(0)))
        for field, kind in fields.items()}) for version, fields in model.RESUMPTION_FIELDS.items()},
        required=())


def _provenance_schema():
    """provenance (optional): the prober's version and sources, the script, the server."""
    server = _object({k: _str(1) for k in model.PROVENANCE_SERVER_KEYS}, required=("software",))
    return _object({"prober": _object({"version": _str(1),
                                       "sources_sha256": _str(pattern=SHA256)}),
                    "script": _str(1), "server": server}, required=())


def _psk_schema():
    """psk (optional): what the probe's psk step proved for the identity."""
    return _object({"identity": _str(1), "tls12_suites": {"$ref": "#/$defs/suites"},
                    "tls13_modes": {"type": "array", "items": {"enum": list(model.PSK_MODES)},
                                    "uniqueItems": True},
                    "tls13_suite": _nullable({"$ref": "#/$defs/suite"}),
                    "tls13_group": _nullable(_str(1))})


def json_schema():
    subsets, by_version_rules = _by_version_rules()
    records = _object({"max_record_len": _int(0, model.MAX_RECORD),
                       "max_plaintext_len": _int(0, model.MAX_RECORD),
                       "max_handshake_msg_len": _int(0, model.MAX_HANDSHAKE),
                       "certificate_msg_len": _int(0, model.MAX_HANDSHAKE),
                       "mfl_honoured": {"$ref": "#/$defs/bool_or_null"},
                       "record_size_limit": _nullable(_int(64, 16385))})
    flags = ("extended_master_secret", "encrypt_then_mac", "session_ticket", "renegotiation_info")
    extensions = _object({**{f: {"$ref": "#/$defs/bool_or_null"} for f in flags},
                          "alpn": _nullable(_str()),
                          "alpn_offered": {"type": "array", "items": _str(1)},
                          "alpn_required": {"$ref": "#/$defs/bool_or_null"}},
                         required=(*flags, "alpn"))
    request = _object({"signature_algorithms": {"type": "array", "items": _str()},
                       "ca_names": {"type": "array", "items": _str()},
                       "cert_types": _nullable({"type": "array", "items": _int(0, 255)})},
                      required=("signature_algorithms", "ca_names"))
    step = _object({"status": {"enum": ["ok", "error"]}, "note": _str(1)}, required=("status",))
    step["if"] = {"properties": {"status": {"const": "error"}}}
    step["then"] = _object({"reason": _str(1), "code": _int(1, 255)})
    provenance = _provenance_schema()
    properties = {
        "schema_version": {"const": model.SCHEMA_VERSION},
        "tool": _object({"name": _str(1), "version": _str(1)}),
        "target": _object({"host": _str(1), "port": _int(1, 65535), "sni": _nullable(_str()),
                           "address": _str(1)}),
        "probed_at": {"$ref": "#/$defs/utc"},
        "versions": {"enum": subsets},
        "ciphersuites": _by_version({"$ref": "#/$defs/suites"}),
        "server_preference": _by_version({"$ref": "#/$defs/bool_or_null"}),
        "groups": _by_version({"$ref": "#/$defs/names"}),
        "group_preferred": _by_version(_nullable(_str())),
        "key_exchange": _by_version({"$ref": "#/$defs/key_exchange"}),
        "signature_algorithms": _by_version({"$ref": "#/$defs/names"}),
        "chain": {"type": "array", "items": {"$ref": "#/$defs/certificate"}},
        "chain_from": {"enum": [*model.VERSION_NAMES, None]},
        "chain_path": {"type": "array", "items": _int(0), "uniqueItems": True,
                       "prefixItems": [{"const": 0}]},
        "chain_unused": {"type": "array", "items": _int(0), "uniqueItems": True},
        "chain_truncated": _object({"kept": _int(1), "sent": _int(2, model.MAX_CHAIN_SENT)}),
        "trust_anchor": _nullable({"$ref": "#/$defs/trust_anchor"}),
        "chain_complete": {"type": "boolean"},
        "records": records,
        "extensions": extensions,
        "client_cert_requested": {"type": "boolean"},
        "client_cert_request": _nullable(request),
        "stats": _object({"connections": _int(0), "elapsed_ms": _int(0)}),
        "steps": {"type": "object", "additionalProperties": step},
        "provenance": provenance,
        "resumption": _resumption_schema(),
        "psk": _psk_schema(),
        "dtls": dtlsfacts.json_schema(_object, _nullable, _int, _str),
    }
    optional = ("chain_path", "chain_unused", "chain_truncated", "provenance", "resumption", "psk",
                "dtls")
    rules = by_version_rules + [
        {"if": {"properties": {"client_cert_requested": {"const": True}},
                "required": ["client_cert_requested"]},
         "then": {"properties": {"client_cert_request": {"type": "object"}}}},
        {"if": {"properties": {"chain": {"minItems": 1}}, "required": ["chain", "chain_path"]},
         "then": {"properties": {"chain_path": {"minItems": 1}}}},
    ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"tlsfit profile, schema version {model.SCHEMA_VERSION}",
        "description": "What `tlsfit probe` records about a TLS server (docs/profile-schema.md). "
                       "Generated by `python3 -m tlsfit.profile.schema` from the validator's "
                       "tables (tool/tlsfit/profile/model.py); do not edit. Unknown keys are "
                       "allowed. Checked by tlsfit's validator only: "
                       + "; ".join(VALIDATOR_ONLY) + ".",
        "type": "object",
        "required": [k for k in properties if k not in optional],
        "properties": properties,
        "dependentRequired": {"chain_path": ["chain_unused"], "chain_unused": ["chain_path"]},
        "allOf": rules,
        "$defs": _defs(),
    }


def text():
    return json.dumps(json_schema(), indent=1) + "\n"


if __name__ == "__main__":
    import sys
    sys.stdout.write(text())
