"""Pre-shared keys over DTLS 1.2: the probe's psk step over UDP, gen for a DTLS-PSK
device and the host verify with the CoAP proof, against libcoap's coap-server-openssl
with DTLS-PSK and `openssl s_server -dtls1_2 -psk -nocert` limited to PSK-AES128-CCM8.

One module-scoped lab: each server probed once, ONE header for both (one verify build),
verified against coap-server.
"""
import json
import re
from pathlib import Path

import pytest

from conftest import require_tools, run_tlsfit
from tlsfit.lab import udpservers

IDENTITY = "coap-node-3"
KEY = b"tlsfit-dtls-psk!"             # printable: coap-server takes its -k as a string
CCM8 = "TLS_PSK_WITH_AES_128_CCM_8"
X509_OPTIONS = ("MBEDTLS_X509_", "MBEDTLS_PK_", "MBEDTLS_SSL_SERVER_NAME_INDICATION")
COAP_ACK_205 = "6045"                 # CoAP ver 1 ACK, no token; code 2.05 Content (RFC 7252 3)


@pytest.fixture(scope="module")
def lab(prober, server_logs, tmp_path_factory):
    require_tools(udpservers.COAP_SERVER, "openssl")
    d = tmp_path_factory.mktemp("dtls-psk")
    key_file = d / "device.key"
    key_file.write_bytes(KEY)                      # raw bytes (not hex): parse_key keeps them
    psk_args = ("--psk-identity", IDENTITY, "--psk-key-file", key_file)

    def tlsfit(*args):
        return run_tlsfit(prober, d / "state", *args, timeout=300)
    out = {"dir": d, "key_file": key_file}
    with udpservers.coap_psk_server(KEY, log_dir=server_logs) as coap, \
            udpservers.openssl_dtls_psk_server(IDENTITY, KEY, "-cipher", "PSK-AES128-CCM8",
                                               log_dir=server_logs) as ossl:
        for name, srv in (("coap", coap), ("openssl", ossl)):
            out[f"probe_{name}"] = tlsfit("probe", "--dtls", "--timeout", "2", srv.hostport,
                                          *psk_args, "--json")
            (d / f"{name}.json").write_text(out[f"probe_{name}"].stdout)
        # the CCM-8 device header (s_server's one suite), proven against coap-server,
        # which accepts that suite too: one verify build
        out["gen"] = tlsfit("gen", d / "openssl.json", *psk_args, "-o", d / "dtls_psk.h")
        out["gen_coap"] = tlsfit("gen", d / "coap.json", *psk_args, "-o", d / "coap.h")
        out["verify"] = tlsfit("verify", "--config", d / "dtls_psk.h", coap.hostport,
                               "--proof", "coap", *psk_args, "--json")
        # a wrong key: s_server drops the client's Finished it cannot decrypt, so its one
        # suite costs the connection's deadline (2 x --timeout)
        bad = d / "bad.key"
        bad.write_bytes(b"not-the-right-key")
        out["wrong_key"] = tlsfit("probe", "--dtls", "--timeout", "1", ossl.hostport,
                                  "--psk-identity", IDENTITY, "--psk-key-file", bad)
    return out


def _profile(lab, name):
    proc = lab[f"probe_{name}"]
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.server
def test_probe_proves_coap_server_psk_suites_over_udp(lab):
    doc = _profile(lab, "coap")
    assert doc["dtls"]["version"] == "DTLSv1.2" and doc["dtls"]["transport"] == "udp"
    assert doc["dtls"]["hello_verify"] is True            # libcoap asks for a cookie
    psk = doc["psk"]
    names = [s["name"] for s in psk["tls12_suites"]]
    assert psk["identity"] == IDENTITY
    assert CCM8 in names and "TLS_PSK_WITH_AES_128_GCM_SHA256" in names
    # libcoap offers PSK suites only, all of which mbedTLS implements: each completed
    accepted = [s["name"] for s in doc["ciphersuites"]["TLSv1.2"]]
    assert names == accepted and all("_PSK_" in n for n in names)
    assert psk["tls13_modes"] == [] and psk["tls13_suite"] is None     # no DTLS 1.3
    assert doc["chain"] == [] and doc["steps"]["psk"]["status"] == "ok"


@pytest.mark.server
def test_probe_of_the_ccm8_server_is_exactly_one_suite(lab):
    doc = _profile(lab, "openssl")
    assert doc["ciphersuites"]["TLSv1.2"] == [{"id": "0xC0A8", "name": CCM8}]
    assert doc["psk"]["tls12_suites"] == [{"id": "0xC0A8", "name": CCM8}]
    assert (doc["dtls"]["hello_verify"], doc["dtls"]["cookie_len"]) == (True, 20)


@pytest.mark.server
def test_gen_makes_a_dtls_psk_header_without_x509(lab):
    assert lab["gen"].returncode == 0, lab["gen"].stderr
    text = (lab["dir"] / "dtls_psk.h").read_text()
    defined = re.findall(r"^#define (\S+)", text, re.M)
    assert re.search(rf"^#define MBEDTLS_SSL_CIPHERSUITES MBEDTLS_{CCM8} ", text, re.M)
    for option in ("MBEDTLS_SSL_PROTO_DTLS", "MBEDTLS_KEY_EXCHANGE_PSK_ENABLED", "MBEDTLS_CCM_C",
                   "MBEDTLS_AES_C", "TLSFIT_DTLS", "TLSFIT_PSK_IDENTITY"):
        assert option in defined, option
    assert re.search(rf"^#define MBEDTLS_PSK_MAX_LEN {len(KEY)} ", text, re.M)
    assert not [o for o in defined if o.startswith(X509_OPTIONS)]
    assert "MBEDTLS_SSL_TRANSPORT_DATAGRAM" in text and "mbedtls_ssl_conf_psk(&conf" in text
    assert "has no forward secrecy" in text       # plain PSK: the default policy warns


@pytest.mark.server
def test_gen_for_coap_server_prefers_ecdhe_psk(lab):
    """coap-server completes ECDHE-PSK too: the default policy takes forward secrecy,
    over UDP as over TCP."""
    assert lab["gen_coap"].returncode == 0, lab["gen_coap"].stderr
    text = (lab["dir"] / "coap.h").read_text()
    assert re.search(r"^#define MBEDTLS_SSL_CIPHERSUITES "
                     r"MBEDTLS_TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 ", text, re.M)
    defined = re.findall(r"^#define (\S+)", text, re.M)
    assert "MBEDTLS_SSL_PROTO_DTLS" in defined and "MBEDTLS_KEY_EXCHANGE_PSK_ENABLED" not in defined
    assert not [o for o in defined if o.startswith(X509_OPTIONS)]


@pytest.mark.server
def test_host_verify_over_udp_with_the_coap_proof(lab):
    proc = lab["verify"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = json.loads(proc.stdout)
    assert (res["ok"], res["version"], res["ciphersuite"]) == (True, "DTLSv1.2", CCM8)
    assert res["psk_identity"] == IDENTITY
    assert res["proof"] == "coap-content" and res["proof_result"]["outcome"] == "accepted"
    assert res["proof_result"]["reply"] == "CoAP 2.05 Content for GET /.well-known/core"
    assert res["proof_result"]["reply_hex"].startswith(COAP_ACK_205)
    assert res["verify_flags"] is None            # no certificate was checked


@pytest.mark.server
def test_no_file_the_commands_wrote_holds_the_key(lab):
    """Profiles, header, state directory and the verify build never hold the key."""
    build = Path(json.loads(lab["verify"].stdout)["build"])
    files = [p for p in lab["dir"].rglob("*") if p.is_file() and p != lab["key_file"]]
    files += [p for p in build.rglob("*") if p.is_file()]
    assert len(files) > 5
    needles = (KEY, KEY.hex().encode(), KEY.hex().upper().encode())
    for p in files:
        data = p.read_bytes()
        assert not [n for n in needles if n in data], p


@pytest.mark.server
def test_a_wrong_key_over_udp_is_one_line_exit_25(lab):
    proc = lab["wrong_key"]
    assert proc.returncode == 25, proc.stderr
    line, = proc.stderr.strip().splitlines()
    assert f'no pre-shared-key handshake completed for identity "{IDENTITY}" ' \
           f"(DTLSv1.2 {CCM8}: mbedTLS's handshake failed: -0x6800 " in line
    assert line.endswith("[TF_ERR_PSK_REFUSED]")
