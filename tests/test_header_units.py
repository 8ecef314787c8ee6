"""Direct unit tests of the header stage's pure functions (issue 12, item 5):
candidate enumeration and selection (header/gen.py). The chain's needs are in
test_chain_units.py, the rules and the policies in test_rules_units.py.

Everything here reads the recorded profiles in tests/fixtures/compat/ (or small edited
copies of them) and the shipped rules.toml / costs.json: no server is started, the
prober is not built and no cross toolchain is needed.
"""
import copy

import pytest

from compat_profiles import profile
from tlsfit.core.errors import REFUSED, USAGE, TlsfitError
from tlsfit.header import assembly, commands, gen, optionsets, policy as policy_mod
from tlsfit.header import rules as rules_mod, selection
from tlsfit.header.types import Candidate, GenOptions, Refusal
from tlsfit.profile.types import Profile

PROFILES = ("openssl-rsa-12-13", "openssl-ec-13", "openssl-ec-12", "openssl-big-12",
            "gnutls-rsa-12")
PSS_DEFECT = "mbedTLS 3.6.6 rejects an RSA-PSS-signed TLS 1.2 ServerKeyExchange"


def labels(cands):
    return [c.label() for c in cands]


def enum(name_or_doc, **opts):
    doc = profile(name_or_doc) if isinstance(name_or_doc, str) else name_or_doc
    return selection.enumerate_candidates(doc, GenOptions(**opts))


def refusal(doc, **opts):
    with pytest.raises(Refusal) as e:
        gen.generate(doc, GenOptions(**opts))
    assert e.value.code == REFUSED
    return e.value.message


# ================================================================== enumerate_candidates

@pytest.mark.parametrize("name", PROFILES)
def test_every_accepted_suite_mbedtls_implements_yields_a_row(name, rules):
    doc = profile(name)
    cands = enum(name)
    offered = {(v, s["name"]) for v, suites in doc["ciphersuites"].items() for s in suites}
    implemented = {(v, s) for v, s in offered if s in rules.suites}
    assert implemented == offered          # the recorded servers offer only known suites
    assert {(r.candidate.version, r.candidate.suite) for r in cands.rows} == implemented
    # nothing about a suite was rejected (only groups and signature schemes)
    assert not [w for w, _ in cands.enumeration.rejected
                if not w.startswith(("group ", "signature "))]


@pytest.mark.parametrize("name, rows", [
    # TLS 1.2: 3 suites x 2 groups x 6 schemes (rsa_pkcs1_sha224 has no rule);
    # TLS 1.3: 2 suites x 2 groups x 3 PSS schemes
    ("openssl-rsa-12-13", 3 * 2 * 6 + 2 * 2 * 3),
    # 3 suites x 4 groups (x448 and the ffdhe groups are rejected) x 1 scheme
    ("openssl-ec-13", 3 * 4 * 1),
    # 3 suites x secp256r1 x 3 ECDSA schemes (ecdsa_sha224 has no rule)
    ("openssl-ec-12", 3 * 1 * 3),
])
def test_row_count_is_the_product_of_what_the_server_accepts(name, rows):
    assert len(enum(name).rows) == rows


def test_rows_carry_candidate_options_and_flash(cost):
    cands = enum("openssl-rsa-12-13")
    assert isinstance(cands.policy, policy_mod.Policy) and cands.policy.name == "default"
    assert isinstance(cands.rules, rules_mod.Rules)
    for r in cands.rows:
        assert isinstance(r, selection.Row)
        assert r.flash == cost(set(r.options)) == cands.cost(set(r.options))
        assert cands.flash(r.candidate) == r.flash
        proto = "MBEDTLS_SSL_PROTO_TLS1_3" if r.candidate.version == "TLSv1.3" else \
            "MBEDTLS_SSL_PROTO_TLS1_2"
        assert f"the server accepts {r.candidate.version}" in r.options[proto]
        # the chain's needs are in every row
        assert "MBEDTLS_RSA_C" in r.options and "MBEDTLS_X509_CRT_PARSE_C" in r.options


def test_candidate_fields_follow_the_rules():
    by_suite = {r.candidate.suite: r.candidate for r in enum("gnutls-rsa-12").rows}
    static = by_suite["TLS_RSA_WITH_AES_128_CBC_SHA"]
    assert (static.kx, static.cipher, static.mac, static.prf) == \
        ("RSA", "AES_128_CBC", "sha1", "sha256")
    assert static.forward_secret is False and static.aead is False
    assert static.group is None and static.sigalg is None     # static RSA signs nothing
    assert static.label() == "TLSv1.2 TLS_RSA_WITH_AES_128_CBC_SHA"
    dhe = by_suite["TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"]
    assert dhe.forward_secret is True and dhe.aead is True and dhe.group is None
    assert dhe.sigalg is not None
    ecdhe = by_suite["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"]
    assert ecdhe.group is not None and ecdhe.kx == "ECDHE_RSA"


def test_tls13_rows_use_only_tls13_suites_and_the_leaf_curve():
    cands = enum("openssl-ec-13")
    assert {r.candidate.version for r in cands.rows} == {"TLSv1.3"}
    assert {r.candidate.kx for r in cands.rows} == {"TLS13"}
    assert {r.candidate.group for r in cands.rows} == {"x25519", "secp256r1", "secp384r1",
                                                       "secp521r1"}
    assert {r.candidate.sigalg for r in cands.rows} == {"ecdsa_secp256r1_sha256"}
    rejected = dict(cands.enumeration.rejected)
    assert "group x448" in rejected and "group ffdhe2048" in rejected


def test_tls13_drops_tls12_only_schemes_and_other_curves():
    doc = profile("openssl-rsa-12-13")
    doc["signature_algorithms"]["TLSv1.3"] = ["rsa_pkcs1_sha256", "rsa_pss_rsae_sha256"]
    assert {r.candidate.sigalg for r in enum(doc).rows if r.candidate.version == "TLSv1.3"} \
        == {"rsa_pss_rsae_sha256"}
    doc = profile("openssl-ec-13")           # P-256 leaf
    doc["signature_algorithms"]["TLSv1.3"] = ["ecdsa_secp384r1_sha384", "ecdsa_secp256r1_sha256"]
    assert {r.candidate.sigalg for r in enum(doc).rows} == {"ecdsa_secp256r1_sha256"}
    doc = profile("openssl-ec-12")           # TLS 1.2 ECDSA schemes are not tied to a curve
    assert {r.candidate.sigalg for r in enum(doc).rows} == {
        "ecdsa_secp256r1_sha256", "ecdsa_secp384r1_sha384", "ecdsa_secp521r1_sha512"}


def test_profile_with_only_tls13_gives_no_tls12_rows():
    doc = profile("openssl-rsa-12-13")
    doc["versions"] = ["TLSv1.3"]
    cands = enum(doc)
    assert cands.rows and {r.candidate.version for r in cands.rows} == {"TLSv1.3"}


def test_tls_flag_restricts_the_version_and_says_so():
    cands = enum("openssl-rsa-12-13", tls="1.3")
    assert {r.candidate.version for r in cands.rows} == {"TLSv1.3"}
    assert cands.enumeration.rejected[0] == ("TLSv1.2", "--tls 1.3")
    cands = enum("openssl-rsa-12-13", tls="1.2")
    assert {r.candidate.version for r in cands.rows} == {"TLSv1.2"}
    assert ("TLSv1.3", "--tls 1.2") in cands.enumeration.rejected


def test_unknown_suite_and_unknown_scheme_are_rejected_with_reasons():
    doc = profile("openssl-rsa-12-13")
    doc["ciphersuites"]["TLSv1.2"].append({"id": "0xFFFF", "name": "TLS_FOO_WITH_BAR"})
    cands = enum(doc)
    rejected = cands.enumeration.rejected
    assert ("TLS_FOO_WITH_BAR",
            "not a suite mbedTLS implements (or not in tlsfit's rules)") in rejected
    assert ("signature rsa_pkcs1_sha224",
            "tlsfit's rules have no entry for rsa_pkcs1_sha224") in rejected
    assert "TLS_FOO_WITH_BAR" not in {r.candidate.suite for r in cands.rows}


def test_tls13_needs_a_line_that_has_it():
    cands = enum("openssl-rsa-12-13", line="2.28")
    assert {r.candidate.version for r in cands.rows} == {"TLSv1.2"}
    assert ("TLSv1.3", "needs MBEDTLS_SSL_PROTO_TLS1_3, which mbedTLS 2.28 does not have") \
        in cands.enumeration.rejected


def test_pss_defect_marks_tls12_pss_rows_on_36_only():
    rows = enum("openssl-rsa-12-13").rows
    for r in rows:
        pss12 = r.candidate.version == "TLSv1.2" and "pss" in r.candidate.sigalg
        assert (r.defect is not None) == pss12, r.candidate.label()
        if pss12:
            assert r.defect.startswith(PSS_DEFECT)
            assert "MBEDTLS_X509_RSASSA_PSS_SUPPORT" in r.options
    assert sum(1 for r in rows if r.defect) == 3 * 2 * 3
    # 2.28 has no such defect entry (and no PSS schemes for TLS 1.2)
    assert not [r for r in enum("openssl-rsa-12-13", line="2.28").rows if r.defect]


def test_no_pss_defect_when_the_server_does_not_sign_with_pss():
    doc = profile("openssl-rsa-12-13")
    doc["signature_algorithms"]["TLSv1.2"] = ["rsa_pkcs1_sha256"]
    rows = enum(doc).rows
    assert not [r for r in rows if r.defect]
    assert {r.candidate.sigalg for r in rows if r.candidate.version == "TLSv1.2"} == \
        {"rsa_pkcs1_sha256"}


def test_natural_sigalgs_when_the_probe_listed_none():
    doc = profile("openssl-rsa-12-13")
    doc["signature_algorithms"] = {}
    sig = {(r.candidate.version, r.candidate.sigalg) for r in enum(doc).rows}
    assert sig == {("TLSv1.2", "rsa_pkcs1_sha256"), ("TLSv1.3", "rsa_pss_rsae_sha256")}
    doc = profile("openssl-ec-12")
    doc["signature_algorithms"] = {}
    assert {r.candidate.sigalg for r in enum(doc).rows} == {"ecdsa_secp256r1_sha256"}


# ================================================================== candidate_wants

def test_candidate_wants_names_each_fact(rules):
    c = Candidate("TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE_RSA", "AES_128_CBC",
                  "sha1", "sha256", "x25519", "rsa_pkcs1_sha256", aead=False)
    w = optionsets.candidate_wants(c, rules, "3.6")
    assert w["MBEDTLS_SSL_PROTO_TLS1_2"] == ["the server accepts TLSv1.2"]
    assert w["MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED"] == \
        ["suite TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"]
    assert w["MBEDTLS_CIPHER_MODE_CBC"] == ["suite TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"]
    assert w["MBEDTLS_SHA1_C"] == ["suite TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA (HMAC-SHA1)"]
    assert w["MBEDTLS_SHA256_C"] == [
        "suite TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA (handshake hash SHA256)",
        "the server signs its key exchange with rsa_pkcs1_sha256"]
    assert w["MBEDTLS_ECP_DP_CURVE25519_ENABLED"] == \
        ["key exchange on x25519, which the server accepts"]
    assert w["MBEDTLS_PKCS1_V15"] == ["the server signs its key exchange with rsa_pkcs1_sha256"]
    assert "MBEDTLS_SSL_PROTO_TLS1_3" not in w and "MBEDTLS_GCM_C" not in w


def test_candidate_wants_aead_tls13_has_no_hmac_and_no_tls12(rules):
    c = Candidate("TLSv1.3", "TLS_AES_128_GCM_SHA256", "TLS13", "AES_128_GCM", "aead",
                  "sha256", "secp256r1", "ecdsa_secp256r1_sha256")
    w = optionsets.candidate_wants(c, rules, "3.6")
    assert w["MBEDTLS_SSL_PROTO_TLS1_3"] == ["the server accepts TLSv1.3"]
    assert w["MBEDTLS_GCM_C"] == ["suite TLS_AES_128_GCM_SHA256"]
    assert w["MBEDTLS_ECDSA_C"] == ["the server signs its key exchange with ecdsa_secp256r1_sha256"]
    assert "MBEDTLS_SSL_PROTO_TLS1_2" not in w
    assert not [r for reasons in w.values() for r in reasons if "HMAC" in r]


def test_candidate_wants_without_group_or_sigalg(rules):
    c = Candidate("TLSv1.2", "TLS_RSA_WITH_AES_128_GCM_SHA256", "RSA", "AES_128_GCM", "aead",
                  "sha256", forward_secret=False)
    w = optionsets.candidate_wants(c, rules, "3.6")
    assert not [r for reasons in w.values() for r in reasons
                if "key exchange on" in r or "signs its key exchange" in r]
    assert "MBEDTLS_KEY_EXCHANGE_RSA_ENABLED" in w


# ================================================================== select

def test_select_keeps_cheapest_first_then_preference():
    cands = enum("openssl-ec-13")
    sel = selection.select(cands)
    assert isinstance(sel, selection.Selection)
    flashes = [cands.flash(c) for c in sel.kept]
    assert flashes == sorted(flashes)
    ranks = [(cands.flash(c), optionsets.rank(c, cands.rules)) for c in sel.kept]
    assert ranks == sorted(ranks)
    # secp256r1 and secp384r1 cost the same (the chain needs both curves anyway):
    # [preference] groups puts secp256r1 first
    assert labels(sel.kept[:3]) == [
        "TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 secp256r1 ecdsa_secp256r1_sha256",
        "TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 secp384r1 ecdsa_secp256r1_sha256",
        "TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 x25519 ecdsa_secp256r1_sha256"]
    assert cands.flash(sel.kept[0]) == cands.flash(sel.kept[1]) < cands.flash(sel.kept[2])
    assert len(sel.kept) == len(cands.rows) and sel.excluded == [] and sel.warnings == []


def test_select_drops_defective_rows_into_considered():
    cands = enum("openssl-rsa-12-13")
    sel = selection.select(cands)
    defective = [r for r in cands.rows if r.defect]
    assert len(sel.kept) == len(cands.rows) - len(defective)
    assert not set(sel.kept) & {r.candidate for r in defective}
    verdicts = {label: (flash, v) for label, flash, v in sel.considered}
    for r in defective:
        assert verdicts[r.candidate.label()] == (r.flash, f"excluded: {r.defect}")


def test_select_only_one_candidate():
    cands = enum("openssl-ec-12")
    want = cands.rows[4].candidate
    sel = selection.select(cands, only=want)
    assert sel.kept == [want]
    others = [v for label, _, v in sel.considered if label != want.label()]
    assert others == ["not the candidate asked for"] * (len(cands.rows) - 1)


def test_select_policy_exclusions_have_no_flash():
    cands = enum("gnutls-rsa-12")
    sel = selection.select(cands)
    assert sel.excluded
    assert all(c.forward_secret and c.aead and c.kx != "DHE_RSA" for c in sel.kept)
    excluded_labels = {c.label() for c, _ in sel.excluded}
    for label, flash, verdict in sel.considered:
        if label in excluded_labels and verdict.startswith("excluded: policy"):
            assert flash is None
    static = [why for c, why in sel.excluded if c.kx == "RSA"]
    assert static and all(w.startswith("policy default: TLS_RSA_") and
                          w.endswith("static RSA key exchange has no forward secrecy")
                          for w in static)


# ================================================================== generate: policies

CHOSEN = {
    "openssl-rsa-12-13": "TLSv1.2 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 x25519 rsa_pkcs1_sha256",
    "openssl-ec-13": "TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 secp256r1 ecdsa_secp256r1_sha256",
    "openssl-ec-12": "TLSv1.2 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 secp256r1 "
                     "ecdsa_secp256r1_sha256",
    "openssl-big-12": "TLSv1.2 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 x25519 rsa_pkcs1_sha256",
    "gnutls-rsa-12": "TLSv1.2 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 x25519 rsa_pkcs1_sha256",
}
COMPAT_ALSO = {
    "openssl-rsa-12-13": "TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 secp256r1 rsa_pkcs1_sha256",
    "openssl-ec-13": "TLSv1.3 TLS_AES_128_GCM_SHA256 secp384r1 ecdsa_secp256r1_sha256",
    "openssl-ec-12": "TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_CCM secp256r1 ecdsa_secp256r1_sha256",
    "openssl-big-12": "TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 secp256r1 rsa_pkcs1_sha384",
    "gnutls-rsa-12": "TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 secp256r1 rsa_pkcs1_sha256",
}


@pytest.mark.parametrize("name", PROFILES)
@pytest.mark.parametrize("policy", ["default", "strict"])
def test_generate_chooses_the_cheapest_kept_candidate(name, policy):
    doc = profile(name)
    cands = selection.enumerate_candidates(doc, GenOptions(policy=policy))
    sel = selection.select(cands)
    plan = gen.generate(doc, GenOptions(policy=policy))
    assert labels(plan.chosen) == [CHOSEN[name]]
    assert plan.chosen[0] == sel.kept[0]
    assert plan.policy == policy and plan.warnings == []
    assert plan.considered[0] == (CHOSEN[name], cands.flash(plan.chosen[0]), "chosen")
    assert plan.ciphersuites == [assembly.suite_macro(plan.chosen[0].suite)]


@pytest.mark.parametrize("name", PROFILES)
def test_compat_keeps_a_second_suite(name):
    plan = gen.generate(profile(name), GenOptions(policy="compat"))
    assert labels(plan.chosen) == [CHOSEN[name], COMPAT_ALSO[name]]
    first, second = plan.chosen
    assert first.version == second.version and first.suite != second.suite
    # the second suite is on another group whenever the server accepts more than one
    assert (first.group != second.group) == (name != "openssl-ec-12")
    assert plan.considered[1][2] == "kept (compat)"
    assert len(plan.ciphersuites) == 2


def test_compat_warns_without_a_second_suite():
    doc = profile("openssl-ec-12")
    doc["ciphersuites"]["TLSv1.2"] = doc["ciphersuites"]["TLSv1.2"][:1]
    plan = gen.generate(doc, GenOptions(policy="compat"))
    assert labels(plan.chosen) == [
        "TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 secp256r1 ecdsa_secp256r1_sha256"]
    assert plan.warnings == ["policy compat: the server offers no second suite for TLSv1.2; "
                             "only one is configured"]


def test_considered_names_why_each_kept_candidate_lost():
    plan = gen.generate(profile("openssl-ec-13"))
    verdicts = {label: (flash, v) for label, flash, v in plan.considered}
    chosen_flash = verdicts[CHOSEN["openssl-ec-13"]][0]
    assert verdicts["TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 secp384r1 ecdsa_secp256r1_sha256"] \
        == (chosen_flash, "ties, later in preference")
    assert verdicts["TLSv1.3 TLS_AES_128_GCM_SHA256 secp256r1 ecdsa_secp256r1_sha256"][1] == \
        "costs more"


def static_rsa_only():
    doc = profile("gnutls-rsa-12")
    doc["ciphersuites"]["TLSv1.2"] = [s for s in doc["ciphersuites"]["TLSv1.2"]
                                      if s["name"].startswith("TLS_RSA_")]
    return doc


def test_default_lets_static_rsa_through_with_warnings():
    plan = gen.generate(static_rsa_only())
    assert labels(plan.chosen) == ["TLSv1.2 TLS_RSA_WITH_AES_128_CCM"]
    assert plan.warnings == [
        "policy default prefers forward-secrecy, but the server offers no candidate with it",
        "TLS_RSA_WITH_AES_128_CCM: static RSA key exchange has no forward secrecy"]


def test_strict_refuses_static_rsa_naming_the_reason():
    msg = refusal(static_rsa_only(), policy="strict")
    assert msg.startswith("mbedTLS 3.6 cannot talk to 127.0.0.1:33271 under policy strict: ")
    assert ("TLSv1.2 TLS_RSA_WITH_AES_128_CBC_SHA: policy strict: TLS_RSA_WITH_AES_128_CBC_SHA: "
            "static RSA key exchange has no forward secrecy") in msg


def test_default_takes_cbc_when_nothing_else_and_strict_refuses():
    doc = profile("gnutls-rsa-12")
    doc["ciphersuites"]["TLSv1.2"] = [s for s in doc["ciphersuites"]["TLSv1.2"]
                                      if s["name"].startswith("TLS_ECDHE_") and "CBC" in s["name"]]
    plan = gen.generate(copy.deepcopy(doc))
    assert plan.chosen[0].aead is False and plan.chosen[0].kx == "ECDHE_RSA"
    assert plan.warnings[0] == "policy default prefers aead, but the server offers no " \
                               "candidate with it"
    msg = refusal(doc, policy="strict")
    assert "CBC (MAC-then-encrypt) suite, not AEAD" in msg
    assert msg.endswith("more)")          # more than six reasons: the rest are counted


# ================================================================== Refusals

def test_tls12_on_a_tls13_only_profile_refuses_naming_the_reason():
    msg = refusal(profile("openssl-ec-13"), tls="1.2")
    assert msg == "mbedTLS 3.6 cannot talk to 127.0.0.1:57137 under policy default: " \
                  "TLSv1.3: --tls 1.2"


def test_tls13_on_a_tls12_only_profile_refuses():
    msg = refusal(profile("openssl-ec-12"), tls="1.3")
    assert msg == "mbedTLS 3.6 cannot talk to 127.0.0.1:51591 under policy default: " \
                  "TLSv1.2: --tls 1.3"


def test_tls13_only_server_on_228_refuses():
    msg = refusal(profile("openssl-ec-13"), line="2.28")
    assert msg == ("mbedTLS 2.28 cannot talk to 127.0.0.1:57137 under policy default: "
                   "TLSv1.3: needs MBEDTLS_SSL_PROTO_TLS1_3, which mbedTLS 2.28 does not have")


def test_only_defective_candidates_refuse_with_the_defect():
    doc = profile("openssl-rsa-12-13")
    doc["signature_algorithms"]["TLSv1.2"] = ["rsa_pss_rsae_sha256"]
    msg = refusal(doc, tls="1.2")
    assert f"excluded: {PSS_DEFECT}" in msg


def test_no_versions_refuses():
    doc = profile("openssl-rsa-12-13")
    doc["versions"] = []
    assert refusal(doc) == "127.0.0.1:47981: the profile lists no TLS version the server accepts"


def test_unknown_line_is_a_usage_error():
    with pytest.raises(TlsfitError) as e:
        gen.generate(profile("openssl-ec-12"), GenOptions(line="2.16"))
    assert e.value.code == USAGE and "--mbedtls must be one of 3.6, 2.28" in e.value.message


def test_tls13_choice_when_asked():
    plan = gen.generate(profile("openssl-rsa-12-13"), GenOptions(tls="1.3"))
    assert labels(plan.chosen) == ["TLSv1.3 TLS_AES_128_GCM_SHA256 x25519 rsa_pss_rsae_sha256"]


def test_record_size_limit_only_when_honoured_and_tls13():
    doc = profile("openssl-ec-13")
    plan = gen.generate(copy.deepcopy(doc))
    assert "MBEDTLS_SSL_RECORD_SIZE_LIMIT" not in plan.options     # not recorded as honoured
    doc["records"].update(record_size_limit=1024, record_size_limit_honoured=True)
    plan = gen.generate(doc)
    assert plan.options["MBEDTLS_SSL_RECORD_SIZE_LIMIT"][0].startswith(
        "the server honours record_size_limit: announcing 1280")      # 930 + 256 -> 1280
    assert plan.values["MBEDTLS_SSL_IN_CONTENT_LEN"][0] == 1280


def test_in_content_len_is_headroom_over_the_largest_record():
    plan = gen.generate(profile("openssl-rsa-12-13"))
    value, why = plan.values["MBEDTLS_SSL_IN_CONTENT_LEN"]
    # 1683 + 256 spare, rounded up to a multiple of 256
    assert value == 2048
    assert why.startswith("largest record from the server: 1683 bytes")
    assert "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH" in plan.options    # the server honours MFL


# ================================================================== the header's own lines

@pytest.mark.parametrize("source, expected", [
    ("sent", "tlsfit verify --config tls_config.h 127.0.0.1:4433 --sni localhost"),
    ("/etc/ssl/certs/ca-certificates.crt",
     "tlsfit verify --config tls_config.h 127.0.0.1:4433 --sni localhost"),
    ("pki/root.pem", "tlsfit verify --config tls_config.h 127.0.0.1:4433 --sni localhost "
                     "--ca pki/root.pem"),
    ("/tmp/pytest-of-root/pytest-7/pki0/ec/root.pem",
     "tlsfit verify --config tls_config.h 127.0.0.1:4433 --sni localhost --ca root.pem"),
])
def test_prove_command_names_sni_and_ca(source, expected):
    """The header's "Prove it" line works as written: the server name the probe sent and
    the CA file it found the anchor in (relative, or its file name: never a path from
    the probing machine's temporary directories)."""
    doc = profile("openssl-ec-12")
    doc["target"] = {"host": "127.0.0.1", "port": 4433, "sni": "localhost",
                     "address": "127.0.0.1"}
    doc["trust_anchor"]["source"] = source
    assert commands.prove_command(Profile.of(doc), "3.6") == expected
    assert commands.prove_command(Profile.of(doc), "2.28") == expected + " --mbedtls 2.28"
    header = gen.generate(doc).text
    assert f" * Prove it before flashing:  {expected}\n" in header


def test_group_pin_lists_the_chosen_group_then_the_leaf_curve():
    """TLS 1.2 checks the server's EC key against the offered groups: the pin offers the
    chosen group first, then the leaf's curve when it differs."""
    doc = profile("openssl-ec-12")
    doc["groups"]["TLSv1.2"] = ["x25519"]      # the P-256 leaf, key exchange on X25519
    plan = gen.generate(doc)
    assert plan.chosen[0].group == "x25519"
    assert plan.values["TLSFIT_GROUPS"][0] == (
        "MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1, "
        "MBEDTLS_SSL_IANA_TLS_GROUP_NONE")
    plan = gen.generate(doc, GenOptions(line="2.28"))
    assert plan.values["TLSFIT_CURVES"][0] == (
        "MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE")
    assert any("mbedtls_ssl_conf_curves(&conf, tlsfit_curves)" in d for d in plan.duties)


def test_no_group_pin_without_a_group():
    plan = gen.generate(static_rsa_only())
    assert not {"TLSFIT_GROUPS", "TLSFIT_CURVES"} & set(plan.values)
