"""DTLS 1.2 over UDP: the prober against real DTLS servers on 127.0.0.1 (OpenSSL's
s_server -dtls1_2, mbedTLS's ssl_server2 with a Connection ID, libcoap's coap-server) and
its failure paths against tiny UDP peers (tests/hostile_udp.py).

Servers are module-scoped and each is probed once; the tests read that one profile.
"""
import json
import re
import socket
import subprocess

import pytest

from conftest import require_tools
from hostile_udp import UdpPeer, dtls_record, hello_verify_request
from tlsfit.host.verify import ssl_server2_path
from tlsfit.lab import refservers, udpservers
from tlsfit.core import proof as proof_mod
from tlsfit.header import gen
from tlsfit.header.types import GenOptions
from tlsfit.host import verify
from tlsfit.core.errors import TlsfitError
from tlsfit.header.dtls import header_is_dtls
from tlsfit.profile import model as profile

SUITE = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
CCM8 = "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"
CID = "beefcafe"                  # ssl_server2's cid_val: the CID it asks the client to use
PROBE_TIMEOUT = "1"
ERRORS = {26: "TF_ERR_UDP_UNREACHABLE", 27: "TF_ERR_DTLS_COOKIE", 28: "TF_ERR_DTLS_SILENT",
          13: "TF_ERR_NOT_TLS", 15: "TF_ERR_MALFORMED"}


@pytest.fixture(scope="module")
def ec_chain(tmp_path_factory):
    chain = refservers.make_chain(tmp_path_factory.mktemp("dtls-pki"), "ec", "ec:P-256",
                                  "ec:P-256", "ec:P-256", label="DTLS")
    # coap-server sends its leaf alone: the probe and the client find the intermediate here
    chain.dir.joinpath("cas.pem").write_bytes(chain.root.pem.read_bytes()
                                              + chain.inter.pem.read_bytes())
    return chain


def _cas(chain):
    return chain.dir / "cas.pem"


@pytest.fixture(scope="module")
def openssl_dtls(ec_chain, server_logs):
    with udpservers.openssl_dtls_server(ec_chain, "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256",
                                        "-groups", "P-256", log_dir=server_logs) as srv:
        yield srv


@pytest.fixture(scope="module")
def openssl_dtls_sessions(ec_chain, server_logs):
    """The same server for verify: its sessions stay open after the handshake."""
    with udpservers.openssl_dtls_server(ec_chain, "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256",
                                        "-groups", "P-256", log_dir=server_logs,
                                        keep_sessions=True) as srv:
        yield srv


@pytest.fixture(scope="module")
def mbedtls_cid(ec_chain, server_logs):
    with udpservers.mbedtls_dtls_server(ssl_server2_path(), ec_chain, "cid=1", f"cid_val={CID}",
                                        "force_ciphersuite=TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8",
                                        "groups=secp256r1", log_dir=server_logs) as srv:
        yield srv


@pytest.fixture(scope="module")
def coap_dtls(ec_chain, server_logs):
    require_tools(udpservers.COAP_SERVER)
    with udpservers.coap_dtls_server(ec_chain, log_dir=server_logs) as srv:
        yield srv


def _probe(prober, srv, chain, out):
    """One probe of srv (the root from --ca); its profile, validated."""
    argv = [str(prober), "--dtls", "--timeout", "2", "--ca", str(_cas(chain)), "-o", str(out),
            srv.hostport]
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, f"$ {' '.join(argv)}\nexit {proc.returncode}\n{proc.stderr}"
    return profile.load(out)


@pytest.fixture(scope="module")
def openssl_profile(openssl_dtls, ec_chain, prober, tmp_path_factory):
    return _probe(prober, openssl_dtls, ec_chain, tmp_path_factory.mktemp("dtls") / "openssl.json")


@pytest.fixture(scope="module")
def cid_profile(mbedtls_cid, ec_chain, prober, tmp_path_factory):
    return _probe(prober, mbedtls_cid, ec_chain, tmp_path_factory.mktemp("dtls") / "cid.json")


@pytest.fixture(scope="module")
def coap_profile(coap_dtls, ec_chain, prober, tmp_path_factory):
    return _probe(prober, coap_dtls, ec_chain, tmp_path_factory.mktemp("dtls") / "coap.json")


@pytest.fixture(scope="module")
def device_header(openssl_profile, cid_profile, coap_profile, tmp_path_factory):
    """ONE header for the three DTLS servers (one build of the verify client serves every
    verify below)."""
    plan = gen.generate_device([openssl_profile, cid_profile, coap_profile], GenOptions(line="3.6"),
                               ["openssl", "ssl_server2", "coap-server"])
    path = tmp_path_factory.mktemp("dtls-header") / "tls_config.h"
    path.write_text(plan.text)
    return plan, path


def assert_one_line(stderr, hostport, code, context):
    lines = stderr.splitlines()
    assert len(lines) == 1, f"stderr must be exactly one line\n{context}"
    assert re.fullmatch(rf"tlsfit-probe: {re.escape(hostport)}: \S.* \[{ERRORS[code]}\]", lines[0]), \
        f"unexpected error line\n{context}"


# ------------------------------------------------------------------ real servers

@pytest.mark.server
def test_openssl_cookie_exchange_and_exact_offer(openssl_profile):
    p = openssl_profile
    assert p["versions"] == ["TLSv1.2"]
    assert [s["name"] for s in p["ciphersuites"]["TLSv1.2"]] == [SUITE]
    assert p["groups"]["TLSv1.2"] == ["secp256r1"]
    d = p["dtls"]
    assert d["version"] == "DTLSv1.2" and d["transport"] == "udp"
    # s_server -listen always asks for a cookie: an HMAC-SHA1, 20 bytes
    assert (d["hello_verify"], d["cookie_len"], d["round_trips"]) == (True, 20, 2)
    assert d["connection_id"] is False and d["connection_id_len"] is None
    assert len(p["chain"]) == 2 and p["chain_from"] == "TLSv1.2"      # leaf + intermediate
    assert p["records"]["certificate_msg_len"] == p["records"]["max_handshake_msg_len"]
    assert "resumption" not in p         # the resumption step speaks TCP only


@pytest.mark.server
def test_dtls_object_is_checked(openssl_profile):
    doc = json.loads(json.dumps(openssl_profile))
    doc["dtls"]["connection_id_len"] = 4          # without connection_id
    with pytest.raises(TlsfitError) as e:
        profile.validate(doc)
    assert "dtls.connection_id_len" in e.value.message
    del doc["dtls"]["transport"]
    with pytest.raises(TlsfitError):
        profile.validate(doc)


@pytest.mark.server
def test_ssl_server2_connection_id(cid_profile):
    d = cid_profile["dtls"]
    assert d["connection_id"] is True
    assert d["connection_id_len"] == len(bytes.fromhex(CID))
    assert (d["hello_verify"], d["cookie_len"]) == (True, 32)     # mbedTLS's cookie: 32 bytes
    assert [s["name"] for s in cid_profile["ciphersuites"]["TLSv1.2"]] == [CCM8]


# ------------------------------------------------------------------ gen and verify

@pytest.mark.server
def test_gen_dtls_header(device_header):
    plan, path = device_header
    for name in ("MBEDTLS_SSL_PROTO_DTLS", "MBEDTLS_SSL_DTLS_ANTI_REPLAY",
                 "MBEDTLS_SSL_DTLS_CONNECTION_ID", "MBEDTLS_CCM_C"):
        assert name in plan.options, name
    for name in ("MBEDTLS_SSL_DTLS_HELLO_VERIFY", "MBEDTLS_SSL_COOKIE_C",
                 "MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE"):
        assert name not in plan.options and f"{name}: " in plan.text, name   # left out, with why
    assert plan.values["MBEDTLS_SSL_CID_OUT_LEN_MAX"][0] == len(bytes.fromhex(CID))
    assert plan.values["TLSFIT_DTLS"][0] == 1
    assert "MBEDTLS_" + CCM8 in plan.ciphersuites        # all ssl_server2 was given
    assert header_is_dtls(path)


def _verify(header, srv, chain, tree36, proof=None):
    res = verify.verify(header, "127.0.0.1", srv.port, ca=_cas(chain), mbedtls_dir=tree36.path,
                        proof=proof)
    assert res["ok"] is True, json.dumps(dict(res), indent=1, default=str)
    assert res["version"] == "DTLSv1.2"
    return res


@pytest.mark.server
def test_verify_openssl_over_udp(device_header, openssl_dtls_sessions, ec_chain, tree36):
    res = _verify(device_header[1], openssl_dtls_sessions, ec_chain, tree36)
    assert (res["ciphersuite"], res["group"]) == (SUITE, "secp256r1")     # read off the datagrams
    assert res["connection_id_len"] is None        # offered; s_server does not do CID
    assert res["proof"] == "no-alert" and res["proof_result"]["outcome"] == "quiet"


@pytest.mark.server
def test_verify_ssl_server2_with_cid(device_header, mbedtls_cid, ec_chain, tree36):
    res = _verify(device_header[1], mbedtls_cid, ec_chain, tree36)
    assert res["ciphersuite"] == CCM8
    assert res["connection_id_len"] == len(bytes.fromhex(CID))     # the CID is in use


@pytest.mark.server
def test_verify_coap_proof(device_header, coap_dtls, ec_chain, tree36):
    res = _verify(device_header[1], coap_dtls, ec_chain, tree36, proof="coap")
    assert res["proof"] == "coap-content" and res["proof_result"]["outcome"] == "accepted"
    assert res["proof_result"]["reply_hex"].startswith("60457f5a")     # ACK 2.05, our message ID


def test_coap_is_the_default_proof_of_port_5684_over_dtls_only():
    assert proof_mod.resolve(None, 5684, dtls=True) == proof_mod.Proof("coap")
    assert proof_mod.resolve(None, 5684, dtls=False) == proof_mod.Proof("no-alert")
    assert proof_mod.parse_proof("coap").code == 4          # tool/proof/proof.h TF_PROOF_COAP


# ------------------------------------------------------------------ failure paths

def test_unreachable_udp_port(run_probe):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    hostport = f"127.0.0.1:{port}"          # closed again: the kernel answers ICMP unreachable
    res = run_probe(hostport, "--dtls", "--timeout", PROBE_TIMEOUT, timeout=30)
    assert res.returncode == 26, res.explain()
    assert_one_line(res.stderr, hostport, 26, res.explain())


@pytest.mark.server
def test_silent_udp_server(run_probe):
    with UdpPeer(lambda data, i: []) as peer:
        res = run_probe(peer.hostport, "--dtls", "--timeout", PROBE_TIMEOUT, timeout=30)
        retransmitted = peer.datagrams
    assert res.returncode == 28, res.explain()
    assert_one_line(res.stderr, peer.hostport, 28, res.explain())
    assert retransmitted > 1, "the hello is sent again while the server is silent"


@pytest.mark.server
def test_server_that_never_answers_the_cookie(run_probe):
    def cookie_then_silence(data, i):
        return [hello_verify_request(b"\x42" * 16)] if i == 0 else []
    with UdpPeer(cookie_then_silence) as peer:
        res = run_probe(peer.hostport, "--dtls", "--timeout", PROBE_TIMEOUT, timeout=30)
    assert res.returncode == 27, res.explain()
    assert_one_line(res.stderr, peer.hostport, 27, res.explain())
    assert "16-byte cookie" in res.stderr


def _overlong_record():
    """A DTLS record header whose length (0xFFFF) runs past its datagram."""
    rec = dtls_record(22, b"\x02\x00\x00\x10" + b"\x00" * 4)
    return rec[:11] + b"\xff\xff" + rec[13:]


@pytest.mark.server
@pytest.mark.parametrize("answer, code", [
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", 13),
    (_overlong_record(), 15),
], ids=["text", "overlong-record"])
def test_hostile_datagrams(run_probe, answer, code):
    with UdpPeer(lambda data, i: [answer]) as peer:
        res = run_probe(peer.hostport, "--dtls", "--timeout", PROBE_TIMEOUT, timeout=30)
    assert res.returncode == code, res.explain()
    assert_one_line(res.stderr, peer.hostport, code, res.explain())
