"""Unit tests of what a server's certificate chain asks of mbedTLS: header/chain.py's
ChainNeeds (key sizes, curves, hashes, the trust anchor, MPI size) and its refusals
(an unknown or self-signed anchor, an empty chain, SHA-1 signatures, small RSA keys).

Pure: the recorded profiles of tests/fixtures/compat/ (or edited copies) and the shipped
rules.toml; no server, no prober. Split out of test_header_units.py.
"""
import copy

import pytest

from compat_profiles import profile
from tlsfit.header import gen, policy as policy_mod
from tlsfit.header.chain import ChainNeeds
from tlsfit.header.types import Refusal
from tlsfit.profile.types import Profile


# ================================================================== ChainNeeds

def chain_needs(doc, rules, policy="default", line="3.6"):
    # ChainNeeds reads the typed profile gen itself converts documents to
    return ChainNeeds(Profile.of(doc), rules, line, policy_mod.POLICIES[policy])


@pytest.mark.parametrize("name, rsa, ec, curves, anchor", [
    ("openssl-rsa-12-13", 2048, 0, set(), "CN=tlsfit RSA root"),
    ("openssl-big-12", 4096, 0, set(), "CN=tlsfit big root"),
    # P-256 leaf and intermediate, P-384 trust anchor
    ("openssl-ec-12", 0, 384, {"secp256r1", "secp384r1"}, "CN=tlsfit ECDSA root"),
    ("openssl-ec-13", 0, 384, {"secp256r1", "secp384r1"}, "CN=tlsfit ECDSA root"),
])
def test_chain_needs_key_sizes_and_curves(name, rsa, ec, curves, anchor, rules):
    need = chain_needs(profile(name), rules)
    assert (need.rsa_bits, need.ec_bits, need.curves) == (rsa, ec, curves)
    assert need.anchor["subject"] == anchor
    assert need.leaf["subject"] == "CN=localhost"
    if rsa:
        assert f'leaf "CN=localhost" has an RSA-{rsa} key' in need.options["MBEDTLS_RSA_C"]
    else:
        assert "MBEDTLS_ECP_DP_SECP384R1_ENABLED" in need.options
        assert "MBEDTLS_RSA_C" not in need.options


def test_rsa_bits_is_the_largest_in_the_chain(rules):
    doc = profile("openssl-rsa-12-13")
    doc["chain"][0]["key"]["bits"] = 4096           # the leaf, checked first
    need = chain_needs(doc, rules)
    assert need.rsa_bits == 4096
    assert 'intermediate "CN=tlsfit RSA intermediate" has an RSA-2048 key' in \
        need.options["MBEDTLS_RSA_C"]


def test_sha384_signed_chain_needs_sha384(rules):
    need = chain_needs(profile("openssl-big-12"), rules)
    assert 'leaf "CN=localhost" is signed with sha384WithRSAEncryption' in \
        need.options["MBEDTLS_SHA384_C"]


def test_larger_anchor_key_raises_rsa_bits(rules):
    doc = profile("openssl-rsa-12-13")
    doc["trust_anchor"]["key"]["bits"] = 3072
    need = chain_needs(doc, rules)
    assert need.rsa_bits == 3072
    assert 'trust anchor "CN=tlsfit RSA root" has an RSA-3072 key' in need.options["MBEDTLS_RSA_C"]


@pytest.mark.parametrize("name, mpi", [
    ("openssl-rsa-12-13", 2048 // 8), ("openssl-big-12", 4096 // 8),
    ("openssl-ec-12", 384 // 8), ("openssl-ec-13", 384 // 8), ("gnutls-rsa-12", 2048 // 8),
])
def test_mpi_max_size_covers_the_largest_key(name, mpi):
    plan = gen.generate(profile(name))
    value, why = plan.values["MBEDTLS_MPI_MAX_SIZE"]
    assert value == mpi
    assert why.startswith("largest number: ")


def test_mpi_max_size_covers_a_dhe_prime():
    doc = profile("gnutls-rsa-12")
    doc["ciphersuites"]["TLSv1.2"] = [s for s in doc["ciphersuites"]["TLSv1.2"]
                                      if s["name"].startswith("TLS_DHE_RSA_")]
    doc["key_exchange"]["TLSv1.2"] = {"dh_bits": 3072}
    plan = gen.generate(doc)
    assert plan.chosen[0].kx == "DHE_RSA"
    assert plan.values["MBEDTLS_MPI_MAX_SIZE"] == (
        3072 // 8, "largest number: RSA-2048 in the chain or trust anchor, DHE with a "
                   "3072-bit prime")


def test_unknown_anchor_is_refused(rules):
    doc = profile("openssl-rsa-12-13")
    del doc["trust_anchor"]
    with pytest.raises(Refusal) as e:
        chain_needs(doc, rules)
    assert e.value.message == (
        'the trust anchor of this chain is unknown (issuer "CN=tlsfit RSA root" was not '
        "found): re-probe with --ca FILE so its key can be configured")


def test_self_signed_last_certificate_is_its_own_anchor(rules):
    doc = profile("openssl-rsa-12-13")
    del doc["trust_anchor"]
    root = copy.deepcopy(doc["chain"][1])
    root["subject"] = root["issuer"] = "CN=tlsfit RSA root"
    doc["chain"].append(root)
    need = chain_needs(doc, rules)
    assert need.anchor["subject"] == "CN=tlsfit RSA root"


def test_empty_chain_is_refused(rules):
    doc = profile("openssl-ec-12")
    doc["chain"] = []
    with pytest.raises(Refusal, match="the profile has no certificate chain"):
        chain_needs(doc, rules)


@pytest.mark.parametrize("policy, tail", [
    ("default", "mbedTLS's default certificate profile rejects SHA1 signatures (BADCERT_BAD_MD)"),
    ("strict", "policy strict refuses SHA1 certificate signatures"),
])
def test_sha1_signed_certificate_is_refused(policy, tail, rules):
    doc = profile("openssl-rsa-12-13")
    doc["chain"][1]["signature_algorithm"] = "sha1WithRSAEncryption"
    doc["chain"][1]["signature_hash"] = "sha1"
    with pytest.raises(Refusal) as e:
        chain_needs(doc, rules, policy)
    assert e.value.message.startswith(
        'intermediate "CN=tlsfit RSA intermediate" is signed with sha1WithRSAEncryption: ')
    assert tail in e.value.message
    assert ("policy strict" in e.value.message) == (policy == "strict")


def test_small_rsa_key_is_refused(rules):
    doc = profile("openssl-rsa-12-13")
    doc["chain"][0]["key"]["bits"] = 1024
    with pytest.raises(Refusal) as e:
        chain_needs(doc, rules)
    assert e.value.message == ('leaf "CN=localhost" has a 1024-bit RSA key; mbedTLS\'s '
                               "default certificate profile needs 2048 bits or more")


def test_unknown_curve_and_unknown_signature_are_refused(rules):
    doc = profile("openssl-ec-12")
    doc["chain"][0]["key"]["curve"] = "secp224k1"
    with pytest.raises(Refusal, match='leaf "CN=localhost" has a key on curve secp224k1: '
                                      "tlsfit's rules have no entry for secp224k1"):
        chain_needs(doc, rules)
    doc = profile("openssl-ec-12")
    doc["chain"][0]["signature_algorithm"] = "md5WithFoo"
    with pytest.raises(Refusal, match='leaf "CN=localhost" is signed with md5WithFoo, '
                                      "which tlsfit's rules do not know"):
        chain_needs(doc, rules)
