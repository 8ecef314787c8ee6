"""`tlsfit gen P1 P2 ...`: one header for a device that talks to several servers
(issue 14 item 2, header/gen.py generate_device and header/joint.py).

The pure tests read the recorded profiles in tests/fixtures/compat/ (and edited copies):
no server, no prober.  test_joint_header_verifies_against_both_servers starts two
reference servers, probes them, generates the joint header and verifies it against each.
"""
import copy
import functools
import json
import re
import time
from pathlib import Path

import pytest

from tlsfit.cli import main as cli
from tlsfit.core.errors import REFUSED
from tlsfit.header import gen, joint, optionsets, policy as policy_mod
from tlsfit.header.chain import ChainNeeds
from tlsfit.header.types import Candidate, GenOptions, Refusal
from tlsfit.lab import refservers
from tlsfit.profile import model
from tlsfit.profile.types import Profile

REPO = Path(__file__).resolve().parent.parent
COMPAT = REPO / "tests" / "fixtures" / "compat"
PROFILES = ("openssl-rsa-12-13", "openssl-ec-13", "openssl-ec-12", "openssl-big-12",
            "gnutls-rsa-12")
VARIANTS = [{}, {"line": "2.28"}, {"policy": "strict"}, {"policy": "compat"}, {"tls": "1.2"},
            {"tls": "1.3"}, {"time": False, "pem": True}]


@functools.lru_cache(maxsize=None)
def _loaded(name):
    return model.load(COMPAT / f"{name}.json")


def profile(name, host=None, port=None):
    """A fresh copy of a recorded profile, optionally moved to another host:port."""
    doc = copy.deepcopy(_loaded(name))
    if host:
        doc["target"]["host"] = doc["target"]["sni"] = host
    if port:
        doc["target"]["port"] = port
    return doc


def device(*docs, names=None, **opts):
    return gen.generate_device(list(docs), GenOptions(**opts), names)


def single(doc, **opts):
    return gen.generate(doc, GenOptions(**opts))


def define(text, name):
    m = re.search(rf"^#define {name}(?: (.+?))?(?: +/\* (.*) \*/)?$", text, re.M)
    return None if m is None else (m.group(1) or True, m.group(2))


def refusal(*docs, **opts):
    with pytest.raises(Refusal) as e:
        device(*docs, **opts)
    assert e.value.code == REFUSED
    return e.value.message


# ================================================================== one profile

@pytest.mark.parametrize("opts", VARIANTS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items())
                         or "default")
@pytest.mark.parametrize("name", PROFILES)
def test_one_profile_is_generate_byte_for_byte(name, opts):
    try:
        want = single(profile(name), **opts)
    except Refusal as e:
        assert refusal(profile(name), **opts) == e.message
        return
    got = device(profile(name), names=["profile"], **opts)
    assert got.text == want.text and got.options == want.options and got.values == want.values
    assert got.servers == want.servers and len(got.servers) == 1


# ================================================================== the joint choice

def test_two_ecdsa_servers_share_one_suite_and_one_group():
    a = profile("openssl-ec-12")
    b = profile("openssl-ec-12", "ota.example.com", 443)
    b["ciphersuites"]["TLSv1.2"] = [s for s in b["ciphersuites"]["TLSv1.2"]
                                    if s["name"] == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
    # alone, server 1 takes ChaCha20 and server 2 its only suite, AES-128-GCM
    assert single(a).chosen[0].cipher == "CHACHA20_POLY1305"
    assert single(b).chosen[0].cipher == "AES_128_GCM"
    plan = device(a, b)
    # together one AEAD serves both: server 1 gives up ChaCha20
    assert plan.ciphersuites == ["MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
    assert [c.label() for c in plan.chosen] == [
        "TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 secp256r1 ecdsa_secp256r1_sha256"]
    assert "MBEDTLS_CHACHAPOLY_C" not in plan.options and "MBEDTLS_GCM_C" in plan.options
    assert define(plan.text, "TLSFIT_GROUPS")[0] == \
        "MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1, MBEDTLS_SSL_IANA_TLS_GROUP_NONE"
    assert define(plan.text, "MBEDTLS_SSL_CIPHERSUITES")[0] == \
        "MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
    # the union costs no more than the header server 2 needs alone
    assert plan.cost == single(b).cost
    # the considered list says what ChaCha20 would have cost server 1 beside server 2
    chacha = [v for label, _, v in plan.considered if label.startswith(
        "server 1 (127.0.0.1:51591): TLSv1.2 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 "
        "secp256r1 ecdsa_secp256r1_sha256")]
    assert chacha and re.fullmatch(r"with the other servers' choices the header would be "
                                   rf"~\d+ B \(chosen: ~{plan.cost} B\)", chacha[0]), chacha


@pytest.mark.parametrize("rsa", ["gnutls-rsa-12", "openssl-rsa-12-13"])
def test_ecdsa_and_rsa_servers_get_what_each_needs_and_the_largest_sizes(rsa):
    ec, other = profile("openssl-ec-12"), profile(rsa)
    alone = [single(ec), single(other)]
    plan = device(ec, other)
    # every option the chain of each server and its chosen candidate need is there
    for i, doc in enumerate((ec, other)):
        s = plan.servers[i]
        mine = [c for c in plan.chosen if c.label() in s["chosen"]]
        needs = set(ChainNeeds(Profile.of(doc), _rules(), "3.6",
                               policy_mod.POLICIES["default"]).options)
        for c in mine:
            needs |= set(optionsets.candidate_wants(c, _rules(), "3.6"))
        assert needs <= set(plan.options), sorted(needs - set(plan.options))
    assert {"MBEDTLS_ECDSA_C", "MBEDTLS_RSA_C", "MBEDTLS_PKCS1_V15",
            "MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED",
            "MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED"} <= set(plan.options)
    for name in ("MBEDTLS_MPI_MAX_SIZE", "MBEDTLS_SSL_IN_CONTENT_LEN"):
        assert plan.values[name][0] == max(p.values[name][0] for p in alone)
    assert plan.values["MBEDTLS_MPI_MAX_SIZE"][0] == 256          # RSA-2048 (EC alone: 48)
    assert alone[0].values["MBEDTLS_MPI_MAX_SIZE"][0] == 48
    mpi_why = plan.values["MBEDTLS_MPI_MAX_SIZE"][1]
    assert mpi_why.startswith(f"largest number: RSA-2048 in the chain or trust anchor of "
                              f"server 2 ({other['target']['host']}:{other['target']['port']})")
    in_why = plan.values["MBEDTLS_SSL_IN_CONTENT_LEN"][1]
    assert in_why.startswith(f"largest record from server 2 (127.0.0.1:{other['target']['port']}): "
                             f"{other['records']['max_plaintext_len']} bytes")
    # the joint estimate is below the sum: base, X.509, TLS core and a curve are paid once
    assert plan.cost < alone[0].cost + alone[1].cost
    assert plan.cost >= max(p.cost for p in alone)


@functools.lru_cache(maxsize=None)
def _rules():
    from tlsfit.header import rules
    return rules.load()


def test_joint_cost_is_at_most_the_sum_for_every_pair():
    for i, a in enumerate(PROFILES):
        for b in PROFILES[i + 1:]:
            plan = device(profile(a), profile(b))
            assert plan.cost <= single(profile(a)).cost + single(profile(b)).cost, (a, b)


def test_a_tls13_server_makes_a_server_that_accepts_it_negotiate_it():
    """openssl-rsa-12-13 alone is cheapest on TLS 1.2; beside a TLS 1.3-only server the
    header enables TLS 1.3, which the RSA server would then negotiate: it is served by
    its TLS 1.3 candidate (not by a TLS 1.2 one the handshake would never use)."""
    assert single(profile("openssl-rsa-12-13")).chosen[0].version == "TLSv1.2"
    plan = device(profile("openssl-ec-13"), profile("openssl-rsa-12-13"))
    assert [c.version for c in plan.chosen] == ["TLSv1.3", "TLSv1.3"]
    assert "MBEDTLS_SSL_PROTO_TLS1_2" not in plan.options
    # one TLS 1.3 suite serves both
    assert plan.ciphersuites == ["MBEDTLS_TLS1_3_AES_128_GCM_SHA256"]
    # a TLS 1.2-only server beside the TLS 1.3-only one: both versions, each its own
    plan = device(profile("openssl-ec-13"), profile("openssl-ec-12"))
    assert [c.version for c in plan.chosen] == ["TLSv1.3", "TLSv1.2"]
    assert {"MBEDTLS_SSL_PROTO_TLS1_2", "MBEDTLS_SSL_PROTO_TLS1_3"} <= set(plan.options)


def test_a_version_conflict_is_refused_naming_both_servers():
    rsa = profile("openssl-rsa-12-13", "ota.example.com", 443)
    rsa["ciphersuites"]["TLSv1.3"] = [{"id": "0x1304", "name": "TLS_AES_128_CCM_SHA256_X"}]
    assert single(rsa).chosen[0].version == "TLSv1.2"      # alone it is fine
    msg = refusal(profile("openssl-ec-13"), rsa)
    assert msg.startswith("one header for mbedTLS 3.6 cannot serve server 1 (127.0.0.1:57137) "
                          "and server 2 (ota.example.com:443) under policy default: "), msg
    assert ("server 1 (127.0.0.1:57137) needs TLSv1.3, and with TLSv1.3 enabled server 2 "
            "(ota.example.com:443) negotiates TLSv1.3 too, but none of its TLSv1.3 "
            "candidates is usable") in msg
    assert "with TLSv1.2 only, server 1 (127.0.0.1:57137) (accepts TLSv1.3) is not served" in msg


def test_a_server_mbedtls_cannot_talk_to_is_refused_by_number_and_address():
    ota = profile("openssl-ec-12", "ota.example.com", 443)
    msg = refusal(profile("openssl-ec-13"), ota, tls="1.3")
    assert msg == ("server 2 (ota.example.com:443): mbedTLS 3.6 cannot talk to "
                   "ota.example.com:443 under policy default: TLSv1.2: --tls 1.3 "
                   "(server 1 (127.0.0.1:57137) alone could be served; one header serves "
                   "only what every server allows)")
    bad = profile("openssl-ec-12", "prov.example.com", 8443)
    bad["chain"][0]["key"] = {"type": "ed25519", "bits": 256, "curve": None, "oid": "1.3.101.112"}
    msg = refusal(profile("openssl-ec-12"), profile("gnutls-rsa-12"), bad)
    assert msg.startswith('server 3 (prov.example.com:8443): leaf "CN=localhost" has a ed25519 '
                          "key"), msg
    assert msg.endswith("(server 1 (127.0.0.1:51591) and server 2 (127.0.0.1:33271) alone "
                        "could be served; one header serves only what every server allows)")


def test_strict_applies_to_each_server():
    cbc = profile("gnutls-rsa-12", "legacy.example.com", 443)
    cbc["ciphersuites"]["TLSv1.2"] = [s for s in cbc["ciphersuites"]["TLSv1.2"]
                                      if "CBC" in s["name"]]
    msg = refusal(profile("openssl-ec-12"), cbc, policy="strict")
    assert msg.startswith("server 2 (legacy.example.com:443): mbedTLS 3.6 cannot talk to "
                          "legacy.example.com:443 under policy strict: "), msg
    # under default the CBC server is served, with its warning named
    plan = device(profile("openssl-ec-12"), cbc)
    assert any(w.startswith("server 2 (legacy.example.com:443): ") and "CBC" in w
               for w in plan.warnings), plan.warnings


# ================================================================== the header

def test_header_names_every_server_its_anchor_its_name_and_its_proof():
    ec = profile("openssl-ec-12", "mqtt.example.com", 8883)
    rsa = profile("gnutls-rsa-12", "ota.example.com", 443)
    plan = device(ec, rsa, names=["profiles/mqtt.json", "profiles/ota.json"])
    text = plan.text
    assert " * tls_config.h -- mbedTLS 3.6 configuration for 2 servers:\n" \
           " *   server 1: mqtt.example.com:8883 (from profiles/mqtt.json, probed " \
           "2026-12-01T10:44:33Z)\n" \
           " *   server 2: ota.example.com:443 (from profiles/ota.json, probed " \
           "2026-12-01T10:44:39Z)\n" in text
    assert " * Regenerate rather than edit:  tlsfit gen profiles/mqtt.json profiles/ota.json " \
           "--mbedtls 3.6 --policy default\n" in text
    assert " * Chosen for server 1 (mqtt.example.com:8883): TLSv1.2 TLS_ECDHE_ECDSA_" in text
    assert " * Chosen for server 2 (ota.example.com:443): TLSv1.2 TLS_ECDHE_RSA_" in text
    for anchor, who in (("CN=tlsfit ECDSA root", "server 1 (mqtt.example.com:8883)"),
                        ("CN=tlsfit RSA root", "server 2 (ota.example.com:443)")):
        assert f'load the trust anchor "{anchor}" with mbedtls_x509_crt_parse_der() ' \
               f"(for {who})" in plan.duties
    for host, who in (("mqtt.example.com", "server 1 (mqtt.example.com:8883)"),
                      ("ota.example.com", "server 2 (ota.example.com:443)")):
        assert f'keep MBEDTLS_SSL_VERIFY_REQUIRED and call mbedtls_ssl_set_hostname(&ssl, ' \
               f'"{host}") on the connection to {who}' in plan.duties
    proofs = re.search(r"Prove it before flashing, against each server:\n((?: \*   .*\n)+)",
                       text).group(1)
    assert proofs == (" *   tlsfit verify --config tls_config.h mqtt.example.com:8883 --ca root.pem\n"
                      " *   tlsfit verify --config tls_config.h ota.example.com:443 --ca root.pem\n")
    # every option names the server fact, and which server needs it
    assert define(text, "MBEDTLS_ECDSA_C")[1].startswith("server 1 (mqtt.example.com:8883): ")
    assert define(text, "MBEDTLS_RSA_C")[1].startswith("server 2 (ota.example.com:443): ")
    assert define(text, "MBEDTLS_SSL_PROTO_TLS1_2")[1] == \
        "every server: the server accepts TLSv1.2"
    assert define(text, "MBEDTLS_SSL_SERVER_NAME_INDICATION")[1] == \
        'server 1 (mqtt.example.com:8883): the server is reached by name "mqtt.example.com" (+1 more)'
    assert plan.options["MBEDTLS_SSL_SERVER_NAME_INDICATION"][1] == \
        'server 2 (ota.example.com:443): the server is reached by name "ota.example.com"'
    assert define(text, "MBEDTLS_SSL_CIPHERSUITES")[0] == \
        ", ".join(plan.ciphersuites) and len(plan.ciphersuites) == 2


def test_sni_only_when_some_server_has_a_name():
    a, b = profile("openssl-ec-12"), profile("gnutls-rsa-12")
    for d in (a, b):
        d["target"]["sni"] = None
    assert "MBEDTLS_SSL_SERVER_NAME_INDICATION" not in device(a, b).options
    b["target"]["sni"] = "ota.example.com"
    assert device(a, b).options["MBEDTLS_SSL_SERVER_NAME_INDICATION"] == \
        ['server 2 (127.0.0.1:33271): the server is reached by name "ota.example.com"']


def test_record_limits_per_server():
    ec = profile("openssl-ec-12")
    deaf = profile("gnutls-rsa-12", "ota.example.com", 443)
    deaf["records"]["mfl_honoured"] = False
    deaf["records"]["record_size_limit"] = None
    plan = device(ec, deaf)
    assert "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH" in plan.options       # server 1 honours it
    why = plan.values["MBEDTLS_SSL_IN_CONTENT_LEN"][1]
    assert why.endswith("Application data records must fit too: they are kept within it for "
                        "server 1 (127.0.0.1:51591) by max_fragment_length; but for server 2 "
                        "(ota.example.com:443) the server does not honour max_fragment_length: "
                        "raise it if your protocol receives more at once from it"), why
    assert ("call mbedtls_ssl_conf_max_frag_len(&conf, TLSFIT_MAX_FRAG_LEN) before "
            "mbedtls_ssl_setup() (for server 1 (127.0.0.1:51591); a server that does not "
            "honour max_fragment_length ignores the request)") in plan.duties


def test_max_fragment_length_stays_out_beside_a_tls13_server_that_acknowledges_it():
    """One header for a TLS 1.2 and a TLS 1.3 server sends one ClientHello to both, with
    max_fragment_length; mbedTLS 3.6 fails the TLS 1.3 handshake when the server
    acknowledges it (UNSUPPORTED_EXTENSION: test_joint_header_verifies_against_both_servers
    [tls12+tls13] failed so before this rule)."""
    tls13 = profile("openssl-ec-13", "ota.example.com", 443)
    assert tls13["records"]["mfl_honoured"] is True
    plan = device(profile("openssl-ec-12"), tls13)
    assert [c.version for c in plan.chosen] == ["TLSv1.2", "TLSv1.3"]
    assert "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH" not in plan.options
    assert "TLSFIT_MAX_FRAG_LEN" not in plan.values
    assert not [d for d in plan.duties if "max_frag_len" in d]
    why = plan.values["MBEDTLS_SSL_IN_CONTENT_LEN"][1]
    assert ("for server 1 (127.0.0.1:51591) the server honours max_fragment_length, but it is "
            "not asked for: the ClientHello also offers TLS 1.3 (for server 2 "
            "(ota.example.com:443)), and mbedTLS 3.6 fails a TLS 1.3 handshake whose server "
            "acknowledges max_fragment_length (UNSUPPORTED_EXTENSION)") in why, why
    # a TLS 1.3 server seen to ignore it: asked for (for server 1), record_size_limit for 2
    tls13["records"].update(mfl_honoured=False, record_size_limit=16384,
                            record_size_limit_honoured=True)
    plan = device(profile("openssl-ec-12"), tls13)
    assert {"MBEDTLS_SSL_MAX_FRAGMENT_LENGTH", "MBEDTLS_SSL_RECORD_SIZE_LIMIT"} <= set(plan.options)
    why = plan.values["MBEDTLS_SSL_IN_CONTENT_LEN"][1]
    assert why.endswith("they are kept within it for server 1 (127.0.0.1:51591) by "
                        "max_fragment_length and for server 2 (ota.example.com:443) by "
                        "record_size_limit"), why


def test_groups_serving_more_servers_come_first():
    x = profile("openssl-ec-13", "a.example.com", 1)
    x["groups"]["TLSv1.3"] = ["x25519"]
    p256 = profile("openssl-ec-13", "b.example.com", 2)
    p256["groups"]["TLSv1.3"] = ["secp256r1"]
    plan = device(x, p256, profile("openssl-ec-12"))
    value, why = plan.values["TLSFIT_GROUPS"]
    assert value == ("MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1, MBEDTLS_SSL_IANA_TLS_GROUP_X25519, "
                     "MBEDTLS_SSL_IANA_TLS_GROUP_NONE")
    assert why.startswith("the groups to offer, in order (secp256r1: the chosen key exchange "
                          "of servers 2 and 3; x25519: the chosen key exchange of server 1 "
                          "(a.example.com:1))"), why


def test_tls12_certificate_curve_is_offered_for_its_server():
    ec = profile("openssl-ec-12")                # P-256 leaf, TLS 1.2, key exchange on x25519
    ec["groups"]["TLSv1.2"] = ["x25519"]
    rsa = profile("openssl-rsa-12-13", "ota.example.com", 443)
    rsa["versions"] = ["TLSv1.2"]
    rsa["groups"]["TLSv1.2"] = ["x25519"]
    plan = device(ec, rsa)
    assert [c.group for c in plan.chosen] == ["x25519", "x25519"]
    value, why = plan.values["TLSFIT_GROUPS"]
    assert value == ("MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1, "
                     "MBEDTLS_SSL_IANA_TLS_GROUP_NONE")
    assert why.startswith("the groups to offer, in order (x25519: the chosen key exchange of "
                          "every server; secp256r1: the certificate key of server 1 "
                          "(127.0.0.1:51591) (TLS 1.2 checks it against this list))"), why


def test_three_servers_are_fast():
    # CPU time of this process (the plan is computed in it): the same bound whatever
    # else the machine runs (pytest-xdist's other worker, other jobs)
    start = time.process_time()
    plan = device(profile("openssl-rsa-12-13"), profile("openssl-big-12"),
                  profile("gnutls-rsa-12"))
    assert time.process_time() - start < 5
    assert len(plan.servers) == 3 and plan.values["MBEDTLS_MPI_MAX_SIZE"][0] == 512


def test_pool_explores_shared_keys_first():
    mk = lambda cipher, group, flash, n: joint.Choice(  # noqa: E731
        Candidate("TLSv1.2", f"S{n}", "ECDHE_ECDSA", cipher, "aead", "sha256", group),
        frozenset({f"opt{n}"}), flash, (n,))
    mine = [mk("C", "g", 10 + n, n) for n in range(20)] + [mk("SHARED", "g", 100, 99)]
    other = [[mk("SHARED", "g", 5, 98)]]
    pool = joint._pool(mine, other)
    assert len(pool) == joint.POOL and pool[0].candidate.cipher == "SHARED"


# ================================================================== the command line

def test_cli_with_two_profiles(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    p1 = "tests/fixtures/compat/openssl-ec-12.json"
    p2 = "tests/fixtures/compat/gnutls-rsa-12.json"
    assert cli.main(["gen", p1, p2]) == 0
    text = capsys.readouterr().out
    assert " *   server 1: 127.0.0.1:51591 (from tests/fixtures/compat/openssl-ec-12.json" in text
    assert " *   server 2: 127.0.0.1:33271 (from tests/fixtures/compat/gnutls-rsa-12.json" in text
    assert text == device(profile("openssl-ec-12"), profile("gnutls-rsa-12"),
                          names=[p1, p2]).text
    assert cli.main(["gen", p1, p2, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["target"] == "127.0.0.1:51591, 127.0.0.1:33271"
    assert [s["target"] for s in doc["servers"]] == ["127.0.0.1:51591", "127.0.0.1:33271"]
    assert [c["suite"] for s in doc["servers"] for c in s["chosen"]] == \
        [c["suite"] for c in doc["chosen"]]
    assert doc["servers"][1]["prove"] == \
        "tlsfit verify --config tls_config.h 127.0.0.1:33271 --sni localhost --ca root.pem"
    assert cli.main(["gen", p1, p2, "--explain"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("tlsfit gen --explain: 127.0.0.1:51591, 127.0.0.1:33271, mbedTLS 3.6")
    assert "server 2 (127.0.0.1:33271): TLSv1.2 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" in out
    hdr = tmp_path / "tls_config.h"
    assert cli.main(["gen", p1, p2, "-o", str(hdr)]) == 0
    assert hdr.read_text() == text
    assert cli.main(["gen", p1, "tests/fixtures/compat/openssl-ec-13.json", "--tls", "1.2"]) \
        == REFUSED
    assert "server 2 (127.0.0.1:57137): " in capsys.readouterr().err


def test_cli_help_explains_several_profiles(capsys):
    assert cli.main(["gen", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Several PROFILEs" in out and "UNION" in out and "server 2 (ota.example.com:443)" in out


# ================================================================== live: verify each server

@pytest.mark.parametrize("ec_args, rsa_args, versions", [
    # both TLS 1.2: one version, ECDHE_ECDSA + ECDHE_RSA
    (("-tls1_2",), (), ["TLSv1.2", "TLSv1.2"]),
    # TLS 1.2 ECDSA beside TLS 1.3-only RSA: the hybrid ClientHello (max_fragment_length
    # asked for reaches the TLS 1.3 server too), legacy crypto beside PSA
    (("-tls1_2",), ("-tls1_3",), ["TLSv1.2", "TLSv1.3"]),
], ids=["tls12+tls12", "tls12+tls13"])
def test_joint_header_verifies_against_both_servers(ec_args, rsa_args, versions, pki,
                                                    server_logs, run_probe, run_driver,
                                                    tmp_path):
    with refservers.openssl_server(pki.ec, *ec_args, log_dir=server_logs) as ec_srv, \
            refservers.openssl_server(pki.rsa, *rsa_args, log_dir=server_logs) as rsa_srv:
        profiles = []
        for srv, chain in ((ec_srv, pki.ec), (rsa_srv, pki.rsa)):
            res = run_probe(f"127.0.0.1:{srv.port}", "--sni", "localhost", "--ca", chain.root.pem)
            assert res.returncode == 0, res.explain()
            profiles.append(res.argv[res.argv.index("-o") + 1])
        hdr = tmp_path / "tls_config.h"
        proc = run_driver("gen", *profiles, "-o", hdr, "--json")
        assert proc.returncode == 0, proc.stderr
        plan = json.loads(proc.stdout)
        text = hdr.read_text()
        assert f"server 1: 127.0.0.1:{ec_srv.port}" in text
        assert f"server 2: 127.0.0.1:{rsa_srv.port}" in text
        assert [s["chosen"][0]["version"] for s in plan["servers"]] == versions
        results = []
        for srv, chain in ((ec_srv, pki.ec), (rsa_srv, pki.rsa)):
            v = run_driver("verify", "--config", hdr, f"127.0.0.1:{srv.port}", "--sni",
                           "localhost", "--ca", chain.root.pem, "--json", timeout=600)
            results.append(v)
    for i, v in enumerate(results):
        assert v.returncode == 0, f"server {i + 1}: {v.stderr}\n{v.stdout[-3000:]}\n{text}"
        res = json.loads(v.stdout)
        assert res["ok"] is True
        mine = plan["servers"][i]["chosen"]
        assert res["ciphersuite"] in [c["suite"] for c in mine], (res["ciphersuite"], mine)
        assert res["version"] in [c["version"] for c in mine]


# ================================================================== ALPN per server

def test_the_same_alpn_for_every_server_is_tlsfit_alpn_alone():
    a, b = profile("openssl-ec-12"), profile("openssl-ec-12", "ota.example.com", 443)
    every = device(a, b, alpn=("mqtt",))
    own = device(a, b, alpn=("mqtt",), server_alpn=(("mqtt",), ()))
    for plan in (every, own):
        assert [k for k in plan.values if k.startswith("TLSFIT_ALPN")] == ["TLSFIT_ALPN"]
        assert plan.values["TLSFIT_ALPN"][0] == '"mqtt"'
        assert [d for d in plan.duties if "alpn" in d] == [
            "before mbedtls_ssl_setup(): static const char *alpn[] = { TLSFIT_ALPN, NULL }; "
            'mbedtls_ssl_conf_alpn_protocols(&conf, alpn); (offers "mqtt")']
    assert set(own.options) == set(every.options)


def test_servers_offered_different_lists_get_one_macro_each():
    from tlsfit.header import refit
    a, b = profile("openssl-ec-12"), profile("openssl-ec-12", "ota.example.com", 443)
    c = profile("openssl-ec-12", "cdn.example.com", 443)
    opts = GenOptions(server_alpn=(("x-amzn-mqtt-ca",), ("h2", "http/1.1"), ()))
    plan = gen.generate_device([a, b, c], opts)
    assert {k: v[0] for k, v in plan.values.items() if k.startswith("TLSFIT_ALPN")} == {
        "TLSFIT_ALPN": '"x-amzn-mqtt-ca", "h2", "http/1.1"',
        "TLSFIT_ALPN_1": '"x-amzn-mqtt-ca"', "TLSFIT_ALPN_2": '"h2", "http/1.1"'}
    assert define(plan.text, "TLSFIT_ALPN_2") == (
        '"h2", "http/1.1"', "server 2 (ota.example.com:443) only: pass { TLSFIT_ALPN_2, NULL } "
        "to mbedtls_ssl_conf_alpn_protocols() on the configuration of the connection to it; "
        "alpn = h2,http/1.1 in the device file: the application offers it")
    assert ("for server 3 (cdn.example.com:443): no ALPN of its own (a configuration without "
            "mbedtls_ssl_conf_alpn_protocols(), or TLSFIT_ALPN as tlsfit verified)") in plan.duties
    report = {"gen_options": refit.choices(opts)}
    assert report["gen_options"]["server_alpn"] == [["x-amzn-mqtt-ca"], ["h2", "http/1.1"], []]
    assert refit.apply(GenOptions(), report).server_alpn == opts.server_alpn
    assert gen.generate_device([a, b, c], refit.apply(GenOptions(), report)).text == plan.text
