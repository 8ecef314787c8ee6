"""Unit tests of the rules data and the policies: header/rules.py (loading rules.toml,
the closure over option requirements, rules.check on a malformed document, the knobs)
and header/policy.py (the policies' predicates and how apply() keeps candidates).

Pure: the shipped rules.toml / costs.json and small hand-made candidates; no server,
no prober, no cross toolchain. Split out of test_header_units.py (candidate enumeration,
the chain's needs, selection and generate).
"""
import functools
import tomllib

import pytest

from tlsfit.core.errors import RULES, TlsfitError
from tlsfit.header import policy as policy_mod
from tlsfit.header import rules as rules_mod
from tlsfit.header.types import Candidate


# ================================================================== rules: load and closure

def test_load_succeeds_on_the_shipped_rules(rules):
    assert rules.lines == ("3.6", "2.28")
    assert "MBEDTLS_SSL_TLS_C" in rules.options
    assert rules.suites["TLS_AES_128_GCM_SHA256"] == ("TLS13", "AES_128_GCM", "aead", "sha256")
    assert rules.fact("versions", "TLSv1.3", "2.28").unsupported
    assert rules.fact("versions", "TLSv1.3", "3.6").unsupported is None
    assert rules.fact("groups", "nope", "3.6").unsupported == \
        "tlsfit's rules have no entry for nope"
    assert rules_mod.load() is rules                       # cached


def test_load_reports_unreadable_and_invalid_files(tmp_path):
    with pytest.raises(TlsfitError) as e:
        rules_mod.load(tmp_path / "missing.toml")
    assert e.value.code == RULES and "cannot read" in e.value.message
    bad = tmp_path / "bad.toml"
    bad.write_text("schema = [\n")
    with pytest.raises(TlsfitError) as e:
        rules_mod.load(bad)
    assert e.value.code == RULES and "bad.toml: not valid TOML" in e.value.message


def test_closure_adds_requirements_with_reasons(rules, cost):
    e = rules.closure({"MBEDTLS_X509_CRT_PARSE_C": ["why"]}, "3.6", cost)
    assert e["MBEDTLS_X509_CRT_PARSE_C"] == ["why"]
    assert e["MBEDTLS_X509_USE_C"] == ["required by MBEDTLS_X509_CRT_PARSE_C"]
    assert e["MBEDTLS_PK_PARSE_C"] == ["required by MBEDTLS_X509_USE_C"]
    assert e["MBEDTLS_PK_C"] == ["required by MBEDTLS_PK_PARSE_C"]
    # PK_C needs RSA or ECP: RSA adds less flash (costs.json) and is taken
    assert cost({"MBEDTLS_RSA_C"}) < cost({"MBEDTLS_ECP_C"})
    assert e["MBEDTLS_RSA_C"] == ["required by MBEDTLS_PK_C"]
    assert "MBEDTLS_ECP_C" not in e
    # closed: every requirement of every option is met
    for name in e:
        assert all(rules.holds(item, e) for item in rules.options[name].requires), name


def test_closure_does_not_mutate_its_input(rules, cost):
    wanted = {"MBEDTLS_X509_USE_C": ["a"]}
    rules.closure(wanted, "3.6", cost)
    assert wanted == {"MBEDTLS_X509_USE_C": ["a"]}


def test_closure_any_of_already_met_costs_nothing(rules, cost):
    e = rules.closure({"MBEDTLS_PK_C": ["a"], "MBEDTLS_ECP_C": ["b"]}, "3.6", cost)
    assert "MBEDTLS_RSA_C" not in e


def test_closure_any_of_takes_the_cheapest_alternative(rules):
    free = rules.closure({"MBEDTLS_ENTROPY_C": []}, "3.6", lambda opts: 0)
    assert set(free) == {"MBEDTLS_ENTROPY_C", "MBEDTLS_SHA256_C"}    # a tie: the first listed
    pricey256 = rules.closure({"MBEDTLS_ENTROPY_C": []}, "3.6",
                              lambda opts: 100 * ("MBEDTLS_SHA256_C" in opts))
    assert set(pricey256) == {"MBEDTLS_ENTROPY_C", "MBEDTLS_SHA512_C"}
    assert pricey256["MBEDTLS_SHA512_C"] == ["required by MBEDTLS_ENTROPY_C"]


def test_closure_alternatives_respect_the_line(rules):
    # SSL_TLS_C needs one of SHA256/SHA384/SHA512; SHA384_C exists on 3.6 only
    def price(opts):
        return 100 * ("MBEDTLS_SHA256_C" in opts) + 50 * ("MBEDTLS_SHA512_C" in opts)
    on36 = rules.closure({"MBEDTLS_SSL_TLS_C": []}, "3.6", price)
    on228 = rules.closure({"MBEDTLS_SSL_TLS_C": []}, "2.28", price)
    assert "MBEDTLS_SHA384_C" in on36 and "MBEDTLS_SHA512_C" not in on36
    assert "MBEDTLS_SHA384_C" not in on228 and "MBEDTLS_SHA512_C" in on228


def tiny_rules(options):
    doc = {"schema": 1, "lines": ["3.6", "2.28"], "options": options}
    return rules_mod.check(doc)


def test_closure_terminates_on_a_requirement_cycle():
    r = tiny_rules({
        "MBEDTLS_A": {"section": "tls", "doc": "a", "requires": ["MBEDTLS_B"]},
        "MBEDTLS_B": {"section": "tls", "doc": "b", "requires": ["MBEDTLS_A"]},
    })
    assert r.closure({"MBEDTLS_A": ["x"]}, "3.6", lambda o: 0) == {
        "MBEDTLS_A": ["x"], "MBEDTLS_B": ["required by MBEDTLS_A"]}


def test_closure_gap_on_a_line_is_a_rules_error():
    r = tiny_rules({
        "MBEDTLS_A": {"section": "tls", "doc": "a", "requires": [["MBEDTLS_B", "MBEDTLS_C"]],
                      "lines": ["3.6"]},
        "MBEDTLS_B": {"section": "tls", "doc": "b", "lines": ["3.6"]},
        "MBEDTLS_C": {"section": "tls", "doc": "c", "lines": ["3.6"]},
    })
    with pytest.raises(TlsfitError) as e:
        r.closure({"MBEDTLS_A": []}, "2.28", lambda o: 0)
    assert e.value.code == RULES
    assert "MBEDTLS_A needs ('MBEDTLS_B', 'MBEDTLS_C') on mbedTLS 2.28" in e.value.message


def test_knobs_for_follow_when_and_unless(rules):
    gcm = {k.name for k in rules.knobs_for({"MBEDTLS_AES_C": []}, "3.6")}
    assert {"MBEDTLS_AES_ROM_TABLES", "MBEDTLS_BLOCK_CIPHER_NO_DECRYPT"} <= gcm
    cbc = {k.name for k in rules.knobs_for({"MBEDTLS_AES_C": [], "MBEDTLS_CIPHER_MODE_CBC": []},
                                           "3.6")}
    assert "MBEDTLS_BLOCK_CIPHER_NO_DECRYPT" not in cbc and "MBEDTLS_AES_ROM_TABLES" in cbc
    assert "MBEDTLS_BLOCK_CIPHER_NO_DECRYPT" not in \
        {k.name for k in rules.knobs_for({"MBEDTLS_AES_C": []}, "2.28")}


# ================================================================== rules.check

@functools.lru_cache(maxsize=None)
def _rules_text():
    return rules_mod.RULES_PATH.read_text(encoding="utf-8")


def rules_doc():
    return tomllib.loads(_rules_text())


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(schema=2), "rules.toml: schema: expected schema = 1"),
    (lambda d: d["groups"]["x25519"].update(options=["MBEDTLS_NO_SUCH_C"]),
     "rules.toml: groups.x25519: unknown option MBEDTLS_NO_SUCH_C"),
    (lambda d: d["groups"]["x25519"].update(unsupported="no"),
     "rules.toml: groups.x25519: needs exactly one of `options` and `unsupported`"),
    (lambda d: d["suites"].update(TLS_X=["RSA", "ROT13", "aead", "sha256"]),
     "rules.toml: suites.TLS_X: unknown cipher ROT13"),
    (lambda d: d["suites"].update(TLS_X=["RSA", "AES_128_GCM", "aead"]),
     "rules.toml: suites.TLS_X: must be [key exchange, cipher, MAC, PRF hash]"),
    (lambda d: d["suites"].update(TLS_X=["SRP", "AES_128_GCM", "aead", "sha256"]),
     "rules.toml: suites.TLS_X: unknown key exchange SRP"),
    (lambda d: d["preference"]["groups"].append("x999"),
     "rules.toml: preference.groups: unknown entry x999"),
    (lambda d: d["preference"].update(colours=[]),
     "rules.toml: preference.colours: unknown preference list"),
    (lambda d: d["knobs"]["MBEDTLS_AES_ROM_TABLES"].pop("why"),
     "rules.toml: knobs.MBEDTLS_AES_ROM_TABLES: needs a `why`"),
    (lambda d: d["knobs"]["MBEDTLS_AES_ROM_TABLES"].update(when=["MBEDTLS_NO_SUCH_C"]),
     "rules.toml: knobs.MBEDTLS_AES_ROM_TABLES: unknown option MBEDTLS_NO_SUCH_C"),
    (lambda d: d["defects"][0].pop("reason"), "rules.toml: defects[0]: needs exactly the keys"),
    (lambda d: d["defects"][0].update(all=["MBEDTLS_NO_SUCH_C"]),
     "rules.toml: defects[0]: unknown option MBEDTLS_NO_SUCH_C"),
    (lambda d: d["options"]["MBEDTLS_GCM_C"].update(requires=[["MBEDTLS_AES_C", 3]]),
     "rules.toml: options.MBEDTLS_GCM_C.requires: entry ['MBEDTLS_AES_C', 3] is neither"),
    (lambda d: d["options"]["MBEDTLS_GCM_C"].update(section="network"),
     "rules.toml: options.MBEDTLS_GCM_C: section must be one of"),
    (lambda d: d["options"]["MBEDTLS_GCM_C"].update(lines=["3.6", "4.0"]),
     "rules.toml: options.MBEDTLS_GCM_C: unknown line in ('3.6', '4.0')"),
    (lambda d: d["options"]["MBEDTLS_GCM_C"].pop("doc"),
     "rules.toml: options.MBEDTLS_GCM_C: needs a doc string"),
    (lambda d: d["base"]["options"].append("MBEDTLS_NO_SUCH_C"),
     "rules.toml: base.options: unknown option MBEDTLS_NO_SUCH_C"),
])
def test_check_rejects_a_malformed_rules_document(edit, message):
    doc = rules_doc()
    edit(doc)
    with pytest.raises(rules_mod.RulesError) as e:
        rules_mod.check(doc)
    assert e.value.code == RULES
    assert e.value.message.startswith(message), e.value.message


def test_check_accepts_the_unedited_document():
    r = rules_mod.check(rules_doc())
    assert set(r.options) == set(rules_mod.load().options)
    excluding = [d for d in r.defects if not d.route]
    assert len(excluding) == 1 and excluding[0].version == "TLSv1.2"
    routed = [d for d in r.defects if d.route]
    assert [d.route for d in routed] == [("MBEDTLS_SSL_TLS1_2_SOME_ECC",),
                                         ("MBEDTLS_KEY_EXCHANGE_PSK_ENABLED",)]
    assert set(r.drivers) == {"p256m"} and r.drivers["p256m"].curves == ("secp256r1",)


# ================================================================== policy

def cand(suite, kx="ECDHE_RSA", cipher="AES_128_GCM", fs=True, aead=True):
    return Candidate("TLSv1.2", suite, kx, cipher, "aead" if aead else "sha1", "sha256",
                     forward_secret=fs, aead=aead)


STATIC = cand("TLS_RSA_WITH_AES_128_GCM_SHA256", kx="RSA", fs=False)
STATIC_CBC = cand("TLS_RSA_WITH_AES_128_CBC_SHA", kx="RSA", cipher="AES_128_CBC", fs=False,
                  aead=False)
ECDHE_GCM = cand("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
ECDHE_CBC = cand("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", cipher="AES_128_CBC", aead=False)
DHE_GCM = cand("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", kx="DHE_RSA")
DHE_CBC = cand("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", kx="DHE_RSA", cipher="AES_128_CBC",
               aead=False)
NO_FS = "TLS_RSA_WITH_AES_128_GCM_SHA256: static RSA key exchange has no forward secrecy"
P = policy_mod.POLICIES


def test_policies_table():
    assert set(P) == {"default", "strict", "compat"}
    assert all(p.name == name for name, p in P.items())
    assert [p.name for p in P["default"].predicates] == ["forward-secrecy", "aead", "ECDHE"]
    assert [p.hard for p in P["default"].predicates] == [False, False, False]
    assert [p.hard for p in P["strict"].predicates] == [True, True, False]
    assert P["compat"].predicates == P["default"].predicates
    assert (P["strict"].refuse_sha1_certs, P["default"].refuse_sha1_certs) == (True, False)
    assert [p.keep_second for p in P.values()] == [False, False, True]


@pytest.mark.parametrize("name", ["default", "strict", "compat"])
def test_apply_keeps_the_passing_candidate(name):
    kept, excluded, warnings = policy_mod.apply(P[name], [STATIC, ECDHE_GCM, ECDHE_CBC])
    assert kept == [ECDHE_GCM]
    assert excluded == [
        (STATIC, f"policy {name}: {NO_FS}"),
        (ECDHE_CBC, f"policy {name}: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: CBC (MAC-then-encrypt) "
                    "suite, not AEAD")]
    assert warnings == []


@pytest.mark.parametrize("name", ["default", "compat"])
def test_soft_predicate_lets_through_when_nothing_passes(name):
    kept, excluded, warnings = policy_mod.apply(P[name], [STATIC])
    assert kept == [STATIC] and excluded == []
    assert warnings == [f"policy {name} prefers forward-secrecy, but the server offers no "
                        "candidate with it"]
    assert policy_mod.soft_failures(P[name], STATIC) == [NO_FS]


def test_hard_predicate_excludes_even_when_nothing_passes():
    kept, excluded, warnings = policy_mod.apply(P["strict"], [STATIC, STATIC_CBC])
    assert kept == []
    assert excluded == [(STATIC, f"policy strict: {NO_FS}"),
                        (STATIC_CBC, "policy strict: TLS_RSA_WITH_AES_128_CBC_SHA: static RSA "
                                     "key exchange has no forward secrecy")]
    assert not [w for w in warnings if "forward-secrecy" in w or "aead" in w]
    # strict's hard predicates are not warnings on a chosen candidate
    assert policy_mod.soft_failures(P["strict"], STATIC) == []


def test_predicates_apply_in_order():
    # default: forward secrecy first removes static RSA, then AEAD has a passing DHE_GCM
    kept, excluded, warnings = policy_mod.apply(P["default"], [STATIC, DHE_CBC, DHE_GCM])
    assert kept == [DHE_GCM]
    assert [c for c, _ in excluded] == [STATIC, DHE_CBC]
    assert warnings == ["policy default prefers ECDHE, but the server offers no candidate "
                        "with it"]


def test_strict_soft_ecdhe_lets_dhe_through():
    kept, excluded, warnings = policy_mod.apply(P["strict"], [DHE_GCM, ECDHE_CBC])
    assert kept == [DHE_GCM]
    assert excluded == [(ECDHE_CBC, "policy strict: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: CBC "
                                    "(MAC-then-encrypt) suite, not AEAD")]
    assert warnings == ["policy strict prefers ECDHE, but the server offers no candidate with it"]
    [why] = policy_mod.soft_failures(P["strict"], DHE_GCM)
    assert why.startswith("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: finite-field DHE costs")


def test_soft_failures_in_predicate_order():
    assert policy_mod.soft_failures(P["default"], ECDHE_GCM) == []
    assert policy_mod.soft_failures(P["default"], DHE_CBC) == [
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA: CBC (MAC-then-encrypt) suite, not AEAD",
        policy_mod._ecdhe(DHE_CBC)]
    assert policy_mod.soft_failures(P["strict"], DHE_CBC) == [policy_mod._ecdhe(DHE_CBC)]


def test_apply_on_no_candidates():
    kept, excluded, _ = policy_mod.apply(P["default"], [])
    assert (kept, excluded) == ([], [])
