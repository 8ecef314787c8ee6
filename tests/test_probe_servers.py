"""The prober against real reference servers (openssl s_server, gnutls-serv) on
127.0.0.1, each configured with explicit lists so the expected profile is exact.

Every probe's profile is also validated against schema v1 (conftest.run_probe).
"""
import base64

import pytest

from tlsfit.lab import refservers
from tlsfit.lab.refservers import iana_suites

# Every test probes a real server (tests/markers.py; docs/testing.md).
pytestmark = pytest.mark.server

TIMEOUT = ["--timeout", "5"]

# (a)/(b): three ECDHE-RSA suites in an order no client would pick by itself.
TLS12_CIPHERS = "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"
# (c)
TLS13_SUITES = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"


def suites(pairs):
    return [{"id": i, "name": n} for i, n in pairs]


def names(suite_list):
    return [s["name"] for s in suite_list]


def b64(der):
    return base64.b64encode(der).decode()


def tls12_certificate_msg_len(certs):
    return 4 + 3 + sum(3 + len(c.der) for c in certs)


def tls13_certificate_msg_len(certs):
    # header, empty certificate_request_context, list length, per entry: len, DER, no extensions
    return 4 + 1 + 3 + sum(3 + len(c.der) + 2 for c in certs)


@pytest.fixture
def openssl(server_logs):
    """openssl(chain, *s_server args) -> context manager of a running s_server."""
    def start(chain, *args, chain_file=None):
        return refservers.openssl_server(chain, *args, log_dir=server_logs,
                                         chain_file=chain_file)
    return start


@pytest.fixture
def gnutls(server_logs):
    def start(chain, *args, priority, request_client_cert=False):
        return refservers.gnutls_server(chain, *args, priority=priority, log_dir=server_logs,
                                        request_client_cert=request_client_cert)
    return start


# ---------------------------------------------------------------- (a), (b)

def test_openssl_tls12_server_order(pki, openssl, run_probe):
    """(a) TLS 1.2 only, three suites, -serverpref: exactly those, in the server's order."""
    with openssl(pki.rsa, "-tls1_2", "-cipher", TLS12_CIPHERS, "-serverpref",
                 "-groups", "secp384r1:x25519") as srv:
        res = run_probe(srv.hostport, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    p = res.profile
    assert p["versions"] == ["TLSv1.2"]
    assert p["ciphersuites"]["TLSv1.2"] == suites(iana_suites(TLS12_CIPHERS))
    assert p["server_preference"]["TLSv1.2"] is True
    assert p["groups"]["TLSv1.2"] == ["secp384r1", "x25519"]
    assert p["group_preferred"]["TLSv1.2"] == "secp384r1"
    assert p["key_exchange"]["TLSv1.2"] == {"curve": "secp384r1"}
    assert p["target"] == {"host": "127.0.0.1", "port": srv.port, "sni": None,
                           "address": "127.0.0.1"}
    assert p["client_cert_requested"] is False
    assert p["client_cert_request"] is None
    assert p["chain_from"] == "TLSv1.2"
    assert p["stats"]["connections"] >= 4
    assert all(step["status"] == "ok" for step in p["steps"].values()), p["steps"]
    # OpenSSL 3.0 does not implement record_size_limit (RFC 8449) but honours
    # max_fragment_length (RFC 6066).
    assert p["records"]["record_size_limit"] is None
    assert p["records"]["mfl_honoured"] is True
    assert p["extensions"]["extended_master_secret"] is True
    assert p["extensions"]["renegotiation_info"] is True


def test_openssl_tls12_client_order(pki, openssl, run_probe):
    """(b) the same suites without -serverpref: the server follows the client."""
    with openssl(pki.rsa, "-tls1_2", "-cipher", TLS12_CIPHERS) as srv:
        res = run_probe(srv.hostport, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    p = res.profile
    assert p["versions"] == ["TLSv1.2"]
    assert sorted(names(p["ciphersuites"]["TLSv1.2"])) == \
        sorted(n for _, n in iana_suites(TLS12_CIPHERS))
    assert p["server_preference"]["TLSv1.2"] is False


# --------------------------------------------------------------------- (c)

def test_openssl_tls13_ecdsa_chain(pki, openssl, run_probe):
    """(c) TLS 1.3 only, ECDSA P-256 leaf and intermediate under a P-384 root."""
    with openssl(pki.ec, "-tls1_3", "-ciphersuites", TLS13_SUITES,
                 "-groups", "x25519:secp384r1") as srv:
        res = run_probe(srv.hostport, "--sni", "localhost", "--ca", pki.ec.root.pem, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    p = res.profile
    assert p["versions"] == ["TLSv1.3"]
    assert sorted(p["ciphersuites"]["TLSv1.3"], key=lambda s: s["id"]) == \
        suites([("0x1302", "TLS_AES_256_GCM_SHA384"), ("0x1303", "TLS_CHACHA20_POLY1305_SHA256")])
    assert sorted(p["groups"]["TLSv1.3"]) == ["secp384r1", "x25519"]
    assert p["key_exchange"]["TLSv1.3"]["group"] in ("x25519", "secp384r1")
    # An ECDSA P-256 key signs TLS 1.3 CertificateVerify with exactly one scheme.
    assert p["signature_algorithms"]["TLSv1.3"] == ["ecdsa_secp256r1_sha256"]
    assert p["target"]["sni"] == "localhost"

    leaf, inter = p["chain"]
    assert p["chain_from"] == "TLSv1.3"
    assert (leaf["subject"], leaf["issuer"]) == ("CN=localhost", "CN=tlsfit ECDSA intermediate")
    assert (inter["subject"], inter["issuer"]) == ("CN=tlsfit ECDSA intermediate",
                                                   "CN=tlsfit ECDSA root")
    for cert in (leaf, inter):
        assert cert["key"] == {"type": "ec", "bits": 256, "curve": "secp256r1",
                               "oid": "1.2.840.10045.2.1"}
    assert leaf["signature_algorithm"] == "ecdsa-with-SHA256"
    assert leaf["signature_hash"] == "sha256"
    assert leaf["signature_oid"] == "1.2.840.10045.4.3.2"
    assert inter["signature_algorithm"] == "ecdsa-with-SHA384"
    assert inter["signature_hash"] == "sha384"
    assert inter["signature_oid"] == "1.2.840.10045.4.3.3"
    assert (leaf["is_ca"], inter["is_ca"]) == (False, True)
    assert leaf["san"] == ["localhost"]
    assert leaf["serial"] == pki.ec.leaf.serial
    assert leaf["der_b64"] == b64(pki.ec.leaf.der)
    assert inter["der_b64"] == b64(pki.ec.inter.der)
    assert leaf["der_len"] == len(pki.ec.leaf.der)

    anchor = p["trust_anchor"]
    assert anchor["subject"] == anchor["issuer"] == "CN=tlsfit ECDSA root"
    assert anchor["key"]["curve"] == "secp384r1" and anchor["key"]["bits"] == 384
    assert anchor["der_b64"] == b64(pki.ec.root.der)
    assert p["chain_complete"] is True
    assert p["records"]["certificate_msg_len"] == tls13_certificate_msg_len(pki.ec.served)
    # TLS 1.2 is off: its extension flags are unknown.
    assert p["extensions"]["extended_master_secret"] is None


# --------------------------------------------------------------------- (d)

def test_openssl_sigalgs_per_version(pki, openssl, run_probe):
    """(d) TLS 1.2 + 1.3 with -sigalgs rsa_pss_rsae_sha256:rsa_pkcs1_sha384: TLS 1.2 may use
    both, TLS 1.3 only the PSS one (PKCS#1 v1.5 is not allowed in CertificateVerify)."""
    with openssl(pki.rsa, "-min_protocol", "TLSv1.2", "-max_protocol", "TLSv1.3",
                 "-cipher", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384",
                 "-sigalgs", "rsa_pss_rsae_sha256:rsa_pkcs1_sha384") as srv:
        res = run_probe(srv.hostport, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    p = res.profile
    assert p["versions"] == ["TLSv1.2", "TLSv1.3"]
    assert sorted(p["signature_algorithms"]["TLSv1.2"]) == ["rsa_pkcs1_sha384",
                                                             "rsa_pss_rsae_sha256"]
    assert p["signature_algorithms"]["TLSv1.3"] == ["rsa_pss_rsae_sha256"]
    assert sorted(names(p["ciphersuites"]["TLSv1.2"])) == [
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]
    # s_server's default TLS 1.3 suites.
    assert sorted(names(p["ciphersuites"]["TLSv1.3"])) == [
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]


# --------------------------------------------------------------------- (e)

def test_big_chain(pki, openssl, run_probe):
    """(e) RSA-4096 chain with 150 SANs: the Certificate message exceeds 4 KiB."""
    with openssl(pki.big, "-min_protocol", "TLSv1.2") as srv:
        res = run_probe(srv.hostport, "--ca", pki.big.root.pem, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    p = res.profile
    r = p["records"]
    expected = (tls12_certificate_msg_len if p["chain_from"] == "TLSv1.2"
                else tls13_certificate_msg_len)(pki.big.served)
    assert expected > 4096
    assert r["certificate_msg_len"] == expected
    assert r["max_handshake_msg_len"] >= r["certificate_msg_len"]
    assert r["max_plaintext_len"] >= r["certificate_msg_len"]
    assert r["max_record_len"] >= r["max_plaintext_len"]
    leaf = p["chain"][0]
    assert leaf["key"]["bits"] == 4096
    assert [c["der_len"] for c in p["chain"]] == [len(c.der) for c in pki.big.served]
    assert p["chain_complete"] is True


def test_big_chain_all_sans(pki, openssl, run_probe):
    """The profile lists every dNSName of the leaf (151 here), not a truncated list."""
    with openssl(pki.big, "-tls1_2") as srv:
        res = run_probe(srv.hostport, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    san = res.profile["chain"][0]["san"]
    assert san[:32] == ["localhost", *refservers.BIG_SANS][:32]
    assert len(san) == 1 + len(refservers.BIG_SANS), f"{len(san)} SAN entries in the profile"


# --------------------------------------------------------------------- (f)

@pytest.mark.parametrize("verify,version", [("-verify", "-tls1_2"), ("-Verify", "-tls1_2"),
                                            ("-verify", "-tls1_3"), ("-Verify", "-tls1_3")])
def test_client_cert_request(pki, openssl, run_probe, verify, version):
    """(f) -verify (optional) / -Verify (required) client certificate with a client CA."""
    with openssl(pki.rsa, version, verify, "1", "-CAfile", pki.client_ca.pem) as srv:
        res = run_probe(srv.hostport, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    p = res.profile
    assert p["client_cert_requested"] is True
    req = p["client_cert_request"]
    assert req["ca_names"] == ["CN=tlsfit client CA"]
    assert req["signature_algorithms"], req
    if version == "-tls1_2":
        assert 1 in req["cert_types"] and 64 in req["cert_types"], req   # rsa_sign, ecdsa_sign


# --------------------------------------------------------------------- (g)

GNUTLS_TLS12 = ("NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+CHACHA20-POLY1305:"
                "-GROUP-ALL:+GROUP-SECP256R1")


def test_gnutls_tls12_priority(pki, gnutls, run_probe):
    """(g) gnutls-serv with a priority string.  With an RSA certificate and no DH
    parameters (no FFDHE group enabled) the DHE suites of NORMAL cannot be negotiated,
    so the server accepts exactly two ECDHE suites and static RSA."""
    with gnutls(pki.rsa, priority=GNUTLS_TLS12) as srv:
        res = run_probe(srv.hostport, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    p = res.profile
    assert p["versions"] == ["TLSv1.2"]
    assert sorted(names(p["ciphersuites"]["TLSv1.2"])) == [
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_RSA_WITH_AES_128_GCM_SHA256"]
    assert p["groups"]["TLSv1.2"] == ["secp256r1"]
    assert p["key_exchange"]["TLSv1.2"] == {"curve": "secp256r1"}
    assert p["client_cert_requested"] is False


def test_gnutls_tls13_server_precedence(pki, gnutls, run_probe):
    prio = ("NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305:"
            "+AES-256-GCM:-GROUP-ALL:+GROUP-SECP384R1:+GROUP-X25519")
    with gnutls(pki.ec, priority=prio) as srv:
        res = run_probe(srv.hostport, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    p = res.profile
    assert p["versions"] == ["TLSv1.3"]
    assert p["ciphersuites"]["TLSv1.3"] == suites([("0x1303", "TLS_CHACHA20_POLY1305_SHA256"),
                                                   ("0x1302", "TLS_AES_256_GCM_SHA384")])
    assert p["server_preference"]["TLSv1.3"] is True
    assert p["groups"]["TLSv1.3"] == ["secp384r1", "x25519"]
    assert p["signature_algorithms"]["TLSv1.3"] == ["ecdsa_secp256r1_sha256"]


def test_gnutls_fragment_limits_default(pki, gnutls, run_probe):
    """(g) gnutls-serv by default acknowledges record_size_limit (RFC 8449) with its
    maximum, 16384 in TLS 1.2, and echoes max_fragment_length=512 (RFC 6066) when a
    ClientHello offers it (checked with `openssl s_client -maxfraglen 512`)."""
    with gnutls(pki.rsa, priority="NORMAL:-VERS-ALL:+VERS-TLS1.2") as srv:
        res = run_probe(srv.hostport, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    r = res.profile["records"]
    assert r["record_size_limit"] == 16384
    assert r["mfl_honoured"] is True


def test_gnutls_record_size_limit_configured(pki, gnutls, run_probe):
    """gnutls-serv --recordsize 1024 advertises record_size_limit 1024."""
    with gnutls(pki.rsa, "--recordsize", "1024", priority="NORMAL:-VERS-ALL:+VERS-TLS1.2") as srv:
        res = run_probe(srv.hostport, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    assert res.profile["records"]["record_size_limit"] == 1024


def test_gnutls_requests_client_cert_by_default(pki, gnutls, run_probe):
    """gnutls-serv asks for an (optional) client certificate unless --disable-client-cert;
    it names no CA (it has no --x509cafile here)."""
    with gnutls(pki.rsa, priority="NORMAL:-VERS-ALL:+VERS-TLS1.2",
                request_client_cert=True) as srv:
        res = run_probe(srv.hostport, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    assert res.profile["client_cert_requested"] is True
    assert res.profile["client_cert_request"]["ca_names"] == []


# --------------------------------------------------------------------- (h)

def test_trust_anchor_from_ca_file(pki, openssl, run_probe):
    """(h) the server sends leaf + intermediate only; --ca root.pem supplies the anchor."""
    with openssl(pki.rsa) as srv:
        res = run_probe(srv.hostport, "--ca", pki.rsa.root.pem, "--no-system-store", *TIMEOUT)
    assert res.returncode == 0, res.explain()
    p = res.profile
    assert [c["subject"] for c in p["chain"]] == ["CN=localhost", "CN=tlsfit RSA intermediate"]
    anchor = p["trust_anchor"]
    assert anchor["subject"] == "CN=tlsfit RSA root"
    assert anchor["source"] == str(pki.rsa.root.pem)
    assert anchor["der_b64"] == b64(pki.rsa.root.der)
    assert anchor["key"]["type"] == "rsa" and anchor["key"]["bits"] == 2048
    assert p["chain_complete"] is True


def test_trust_anchor_from_bundle(pki, openssl, run_probe, tmp_path):
    """A bundle with other CAs first: the issuer of the last certificate is picked."""
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(b"".join(c.pem.read_bytes() for c in
                                (pki.client_ca, pki.ec.root, pki.big.root, pki.rsa.root)))
    with openssl(pki.rsa) as srv:
        res = run_probe(srv.hostport, "--ca", pki.client_ca.pem, "--ca", bundle, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    assert res.profile["trust_anchor"]["subject"] == "CN=tlsfit RSA root"
    assert res.profile["trust_anchor"]["source"] == str(bundle)
    assert res.profile["chain_complete"] is True


@pytest.mark.parametrize("store", [[], ["--no-system-store"]], ids=["system-store", "no-store"])
def test_trust_anchor_missing(pki, openssl, run_probe, store):
    """(h) without --ca the test root is nowhere (not in the system store): no anchor."""
    with openssl(pki.rsa) as srv:
        res = run_probe(srv.hostport, *store, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    assert res.profile["trust_anchor"] is None
    assert res.profile["chain_complete"] is False


def test_trust_anchor_sent_by_server(pki, openssl, run_probe, tmp_path):
    """A server that sends its root too: the anchor is the sent root."""
    chain_file = tmp_path / "inter+root.pem"
    chain_file.write_bytes(pki.rsa.inter.pem.read_bytes() + pki.rsa.root.pem.read_bytes())
    with openssl(pki.rsa, chain_file=chain_file) as srv:
        res = run_probe(srv.hostport, "--no-system-store", *TIMEOUT)
    assert res.returncode == 0, res.explain()
    p = res.profile
    assert [c["subject"] for c in p["chain"]] == ["CN=localhost", "CN=tlsfit RSA intermediate",
                                                  "CN=tlsfit RSA root"]
    assert p["trust_anchor"]["source"] == "sent"
    assert p["trust_anchor"]["subject"] == "CN=tlsfit RSA root"
    assert p["chain_complete"] is True


# ------------------------------------------------------------ extensions

def test_openssl_tls12_cbc_extensions(pki, openssl, run_probe):
    """With only CBC suites the TLS 1.2 handshake can use encrypt_then_mac (RFC 7366),
    which OpenSSL acknowledges, as it does extended_master_secret, session tickets and
    secure renegotiation."""
    with openssl(pki.rsa, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA") as srv:
        res = run_probe(srv.hostport, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    e = res.profile["extensions"]
    assert e == {**e, "extended_master_secret": True, "encrypt_then_mac": True,
                 "session_ticket": True, "renegotiation_info": True, "alpn": None}


def test_openssl_no_tickets(pki, openssl, run_probe):
    with openssl(pki.rsa, "-tls1_2", "-no_ticket") as srv:
        res = run_probe(srv.hostport, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    assert res.profile["extensions"]["session_ticket"] is False


def test_openssl_alpn(pki, openssl, run_probe):
    with openssl(pki.rsa, "-alpn", "mqtt") as srv:
        res = run_probe(srv.hostport, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    assert res.profile["extensions"]["alpn"] == "mqtt"


# ------------------------------------------------------------- Ed25519 chain

def test_tls13_ed25519_chain_captured(tmp_path, openssl, run_probe):
    """An all-Ed25519 chain (which mbedTLS 3.6 cannot verify): the prober still
    decrypts the TLS 1.3 flight itself and reports every key by type and OID."""
    chain = refservers.make_chain(tmp_path, "ed", "ed25519", "ed25519", "ed25519", label="Ed25519")
    with openssl(chain, "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256") as srv:
        res = run_probe(srv.hostport, "--sni", "localhost", "--ca", chain.root.pem, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    p = res.profile
    assert p["versions"] == ["TLSv1.3"]
    assert names(p["ciphersuites"]["TLSv1.3"]) == ["TLS_AES_128_GCM_SHA256"]
    assert p["signature_algorithms"]["TLSv1.3"] == ["ed25519"]
    assert [c["subject"] for c in p["chain"]] == ["CN=localhost", "CN=tlsfit Ed25519 intermediate"]
    for cert in p["chain"]:
        assert cert["key"] == {"type": "ed25519", "bits": 255, "curve": None, "oid": "1.3.101.112"}
        assert (cert["signature_algorithm"], cert["signature_oid"]) == ("ED25519", "1.3.101.112")
    assert p["chain"][0]["der_b64"] == b64(chain.leaf.der)
    assert p["trust_anchor"]["key"]["type"] == "ed25519"
    assert p["chain_complete"] is True
