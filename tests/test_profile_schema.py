"""Issue 15, item 4: docs/profile-schema.json, the profile's JSON Schema, agrees with
the validator (tool/tlsfit/profile/model.py): both accept every shipped profile and the
fixtures; both reject each malformed profile below, made by mutating real ones (the
bounds of tests/test_profile_limits.py among them); the few rules JSON Schema cannot
state are rejected by the validator alone, as the schema's description says.  The
schema is generated from the validator's tables (tlsfit.profile.schema): the committed
file must be what the generator writes."""
import copy
import json

import pytest

from conftest import REPO, profile_error
from tlsfit.profile import library, model, schema

jsonschema = pytest.importorskip("jsonschema", reason="python3-jsonschema: run ./tlsfit setup")

SCHEMA_FILE = REPO / "docs" / "profile-schema.json"
FIXTURES = [REPO / "tests" / "fixtures" / "profile-v1.json",
            *sorted((REPO / "tests" / "fixtures" / "compat").glob("openssl-*.json")),
            *sorted((REPO / "tests" / "fixtures" / "compat").glob("gnutls-*.json"))]
GOOD = [library.resolve(n) for n in library.names()] + FIXTURES
# Real profiles the malformed ones are made from: RSA (fixture), ECDSA, client certificates.
BASES = ("tests/fixtures/profile-v1.json", "profiles/nginx-intermediate.json",
         "profiles/mosquitto-mtls.json", "profiles/gnutls-serv.json")


@pytest.fixture(scope="module")
def checker():
    doc = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(doc)
    return jsonschema.Draft202012Validator(doc)


def test_committed_schema_is_generated():
    assert SCHEMA_FILE.read_text() == schema.text(), \
        "docs/profile-schema.json is stale: ./tlsfit regenerate profile-schema"


def test_schema_states_what_it_leaves_to_the_validator():
    description = json.loads(SCHEMA_FILE.read_text())["description"]
    for rule in schema.VALIDATOR_ONLY:
        assert rule in description


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_both_accept_real_profiles(path, checker):
    doc = model.load(path)
    errors = [e.message for e in checker.iter_errors(doc)]
    assert errors == []


def _set(path, value):
    """A mutation setting doc[path...] = value (path: keys and indexes)."""
    def mutate(doc):
        node = doc
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
    return mutate


def _drop(path):
    def mutate(doc):
        node = doc
        for k in path[:-1]:
            node = node[k]
        del node[path[-1]]
    return mutate


def _first_ec(doc):
    return next(c["key"] for c in doc["chain"] if c["key"]["type"] == "ec")


def _first_rsa(doc):
    return next(c["key"] for c in doc["chain"] if c["key"]["type"] == "rsa")


def _tls12(doc):
    assert "TLSv1.2" in doc["versions"]
    return doc


MALFORMED = {
    "top level a list": lambda d: [d],
    "schema_version 2": _set(["schema_version"], 2),
    "schema_version a string": _set(["schema_version"], "1"),
    "tool missing": _drop(["tool"]),
    "tool.version empty": _set(["tool", "version"], ""),
    "target.port 0": _set(["target", "port"], 0),
    "target.port 65536": _set(["target", "port"], 65536),
    "target.port true": _set(["target", "port"], True),
    "target.sni a number": _set(["target", "sni"], 5),
    "probed_at without Z": _set(["probed_at"], "2026-11-23T17:30:00"),
    "probed_at a date": _set(["probed_at"], "2026-11-23"),
    "versions empty": _set(["versions"], []),
    "versions unknown": _set(["versions"], ["SSLv3"]),
    "versions newest first": lambda d: d.update(versions=d["versions"][::-1])
    if len(d["versions"]) > 1 else pytest.skip(),
    "versions twice": lambda d: d.update(versions=d["versions"] + d["versions"][-1:]),
    "ciphersuites lacks a version": lambda d: d["ciphersuites"].pop(d["versions"][0]),
    "groups has an extra version": lambda d: d["groups"].update({"TLSv1.0": []})
    if "TLSv1.0" not in d["versions"] else d["groups"].pop("TLSv1.0"),
    "suite id lower-case hex": lambda d: d["ciphersuites"][d["versions"][-1]][0].update(
        id="0xc02b", name="TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    "suite named as another": lambda d: d["ciphersuites"][d["versions"][-1]][0].update(
        name="TLS_RSA_WITH_NULL_MD5"),
    "known suite named unknown": lambda d: d["ciphersuites"][d["versions"][-1]][0].update(
        name="unknown"),
    "unknown suite with a real name": lambda d: d["ciphersuites"][d["versions"][-1]].__setitem__(
        0, {"id": "0xFAFA", "name": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}),
    "suite name empty": lambda d: d["ciphersuites"][d["versions"][-1]][0].update(name=""),
    "server_preference a string": lambda d: d["server_preference"].update(
        {d["versions"][-1]: "yes"}),
    "group listed twice": lambda d: d["groups"].update(
        {d["versions"][-1]: ["x25519", "x25519"]}),
    "group name empty": lambda d: d["groups"].update({d["versions"][-1]: [""]}),
    "signature algorithm twice": lambda d: d["signature_algorithms"].update(
        {d["versions"][-1]: ["ed25519", "ed25519"]}),
    "dh_bits 10**7": lambda d: _tls12(d)["key_exchange"].update({"TLSv1.2": {"dh_bits": 10 ** 7}}),
    "dh_bits 128": lambda d: _tls12(d)["key_exchange"].update({"TLSv1.2": {"dh_bits": 128}}),
    "key exchange group empty": lambda d: d["key_exchange"].update(
        {d["versions"][-1]: {"group": ""}}),
    "chain not a list": _set(["chain"], {}),
    "certificate lacks der_len": _drop(["chain", 0, "der_len"]),
    "RSA key 10**9 bits": lambda d: _first_rsa(d).update(bits=10 ** 9),
    "RSA key 256 bits": lambda d: _first_rsa(d).update(bits=256),
    "anchor RSA key 10**6 bits": lambda d: d["trust_anchor"]["key"].update(type="rsa",
                                                                           bits=10 ** 6),
    "P-256 key of 384 bits": lambda d: _first_ec(d).update(bits=384),
    "explicit curve of 5000 bits": lambda d: _first_ec(d).update(curve="explicit", bits=5000),
    "ed25519 key of 512 bits": lambda d: d["chain"][0]["key"].update(type="ed25519", bits=512,
                                                                     curve=None),
    "DSA key of 100 bits": lambda d: d["chain"][0]["key"].update(type="dsa", bits=100,
                                                                 curve=None),
    "key type unknown name": _set(["chain", 0, "key", "type"], "x448"),
    "key oid not dotted": _set(["chain", 0, "key", "oid"], "rsaEncryption"),
    "signature_hash md4": _set(["chain", 0, "signature_hash"], "md4"),
    "serial upper-case": _set(["chain", 0, "serial"], "ABCDEF"),
    "not_after not a time": _set(["chain", 0, "not_after"], "tomorrow"),
    "is_ca a number": _set(["chain", 0, "is_ca"], 1),
    "der_b64 not base64": _set(["chain", 0, "der_b64"], "not base64!"),
    "der_b64 not a SEQUENCE": _set(["chain", 0, "der_b64"], "AAAA"),
    "der_b64 empty": _set(["chain", 0, "der_b64"], ""),
    "chain_from not a version of the profile": lambda d: d.update(
        chain_from=next(v for v in model.VERSION_NAMES if v not in d["versions"])),
    "trust_anchor source empty": _set(["trust_anchor", "source"], ""),
    "trust_anchor a list": _set(["trust_anchor"], []),
    "chain_complete null": _set(["chain_complete"], None),
    "chain_path without chain_unused": lambda d: d.pop("chain_unused", None) or
    d.setdefault("chain_path", [0]),
    "chain_path starting at 1": lambda d: d.update(chain_path=[1, 0], chain_unused=[]),
    "chain_path empty": lambda d: d.update(chain_path=[],
                                           chain_unused=list(range(len(d["chain"])))),
    "chain_path repeats": lambda d: d.update(chain_path=[0, 0], chain_unused=[]),
    "chain_truncated sent over 2**24": lambda d: d.update(
        chain_truncated={"kept": len(d["chain"]), "sent": (1 << 24) + 1}),
    "max_record_len 10**12": _set(["records", "max_record_len"], 10 ** 12),
    "max_record_len 18433": _set(["records", "max_record_len"], 18433),
    "certificate_msg_len 10**30": _set(["records", "certificate_msg_len"], 10 ** 30),
    "max_plaintext_len negative": _set(["records", "max_plaintext_len"], -1),
    "record_size_limit 63": _set(["records", "record_size_limit"], 63),
    "mfl_honoured a string": _set(["records", "mfl_honoured"], "yes"),
    "extensions lacks alpn": _drop(["extensions", "alpn"]),
    "session_ticket a number": _set(["extensions", "session_ticket"], 0),
    "client certificate requested, no request": lambda d: d.update(client_cert_requested=True,
                                                                   client_cert_request=None),
    "client_cert_request lacks ca_names": lambda d: d["client_cert_request"].pop("ca_names"),
    "cert_types over 255": lambda d: d["client_cert_request"].update(cert_types=[1, 256]),
    "stats.connections negative": _set(["stats", "connections"], -1),
    "step status unknown": lambda d: d["steps"].update(x={"status": "skipped"}),
    "failed step without reason": lambda d: d["steps"].update(x={"status": "error", "code": 12}),
    "failed step code 0": lambda d: d["steps"].update(x={"status": "error", "reason": "r",
                                                         "code": 0}),
    "provenance a string": _set(["provenance"], "me"),
    "provenance sha256 short": lambda d: d["provenance"]["prober"].update(sources_sha256="ab"),
    "provenance server lacks software": lambda d: d["provenance"]["server"].pop("software"),
    "provenance script empty": lambda d: d["provenance"].update(script=""),
}

# JSON Schema cannot compare values of one document: the validator alone refuses these
# (schema.VALIDATOR_ONLY, in the schema's description).
VALIDATOR_ONLY = {
    "der_len is not the DER's size": lambda d: d["chain"][0].update(
        der_len=d["chain"][0]["der_len"] + 1),
    "chain_path index out of range": lambda d: d.update(chain_path=[0, 7], chain_unused=[]),
    "a position in neither chain_path nor chain_unused": lambda d: d.update(
        chain_path=[0], chain_unused=[]) if len(d["chain"]) > 1 else pytest.skip(),
    "sent anchor is not the path's last": lambda d: d.update(
        chain_path=[0], chain_unused=list(range(1, len(d["chain"]))),
        trust_anchor=dict(d["trust_anchor"], source="sent")),
    "chain_truncated.kept is not the chain's length": lambda d: d.update(
        chain_truncated={"kept": len(d["chain"]) + 1, "sent": 100}),
    "suite listed twice": lambda d: d["ciphersuites"][d["versions"][-1]].append(
        {"id": d["ciphersuites"][d["versions"][-1]][0]["id"],
         "name": d["ciphersuites"][d["versions"][-1]][0]["id"]}),
    "unknown suite named by another id": lambda d: d["ciphersuites"][d["versions"][-1]].__setitem__(
        0, {"id": "0xFAFA", "name": "0xFAFB"}),
    "an integer written with a fraction": _set(["target", "port"], 443.0),
}


def _mutated(mutate, limit=2):
    """The malformed documents: mutate applied to the first `limit` bases it applies to."""
    out = []
    for rel in BASES:
        doc = copy.deepcopy(model.load(REPO / rel))
        if "provenance" not in doc:
            doc["provenance"] = {"prober": {"version": "0.1.0", "sources_sha256": "0" * 64},
                                 "server": {"software": "s"}, "script": "x"}
        try:
            result = mutate(doc)
        except (KeyError, IndexError, StopIteration, AssertionError, TypeError, AttributeError):
            continue                        # not applicable to this base
        except pytest.skip.Exception:
            continue
        out.append((rel, result if isinstance(result, list) else doc))
        if len(out) == limit:
            break
    assert out, "the mutation applies to none of the bases"
    return out


@pytest.mark.parametrize("what", sorted(MALFORMED))
def test_both_reject_malformed(what, checker):
    for rel, doc in _mutated(MALFORMED[what]):
        message = profile_error(doc)            # the validator: one line, exit 32
        assert message.startswith("p.json: ")
        assert not checker.is_valid(doc), f"the schema accepts {what} (made from {rel}); " \
                                          f"the validator says: {message}"


@pytest.mark.parametrize("what", sorted(VALIDATOR_ONLY))
def test_validator_alone_rejects(what, checker):
    for rel, doc in _mutated(VALIDATOR_ONLY[what]):
        profile_error(doc)
        assert checker.is_valid(doc), f"the schema now rejects {what}: move it to MALFORMED " \
                                      "and out of schema.VALIDATOR_ONLY"
