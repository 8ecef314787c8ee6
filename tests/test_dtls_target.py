"""DTLS on the target: the measure firmware under QEMU speaks DTLS 1.2 to real servers on
127.0.0.1 through the datagram relay (target/dgramrelay.py, tool/firmware/dgram.h).

One shared fit (`fit --dtls` with a PSK) of libcoap's coap-server-openssl with DTLS-PSK,
proven with the CoAP GET of /.well-known/core: the facts that server was configured with,
no X.509 code in the image, no byte of the key in anything the fit wrote.  Then one
measure of mbedTLS's default configuration (`measure --dtls`; its cross build is the
baseline every fit shares) against OpenSSL's DTLS ECDHE-ECDSA server, and a UDP port
that never answers, under measure, ending with exit 60 at its --timeout.
"""
import json

import pytest

from conftest import require_tools, run_tlsfit
from hostile_udp import UdpPeer
from tlsfit.core.errors import DTLS_ON_TARGET, DTLS_SILENT, TlsfitError
from tlsfit.header.dtls import refuse_on_target
from tlsfit.lab import refservers, udpservers
from tlsfit.mbedtls import baseline
from tlsfit.target import measure

pytestmark = [pytest.mark.server, pytest.mark.qemu]

IDENTITY = "coap-node-7"
KEY = b"dtls-on-cortex-m"             # printable: coap-server takes its -k as a string
ECDHE_PSK = "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"   # coap-server's best (test_dtls_psk)
ECDSA_SUITE = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"


@pytest.fixture(scope="module")
def coap_fit(prober, server_logs, tmp_path_factory):
    """The one fit: coap-server with DTLS-PSK (it asks for a cookie), CoAP proof."""
    require_tools(udpservers.COAP_SERVER)
    d = tmp_path_factory.mktemp("dtls-fit")
    key_file = d / "node.key"
    key_file.write_bytes(KEY)
    out = d / "fit"
    with udpservers.coap_psk_server(KEY, log_dir=server_logs) as coap:
        proc = run_tlsfit(prober, d / "state", "fit", "--dtls", coap.hostport,
                          "--psk-identity", IDENTITY, "--psk-key-file", key_file,
                          "--proof", "coap", "--objective", "rom", "--candidates", "1",
                          "--target", "cortex-m4", "--out", out, "--json", timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"dir": out, "report": json.loads(proc.stdout), "key_file": key_file}


@pytest.mark.fit
def test_dtls_psk_fit_of_coap_server(coap_fit):
    r = coap_fit["report"]
    hs = r["handshake"]
    assert (hs["ok"], hs["version"], hs["ciphersuite"], hs["group"]) == \
        (True, "DTLSv1.2", ECDHE_PSK, "x25519")
    assert hs["proof"] == "coap-content"        # GET /.well-known/core answered 2.05 Content
    # libcoap asks for a cookie: HelloVerifyRequest, ServerHello..Done, CCS+Finished
    assert r["dtls"]["hello_verify_requests"] == 1 and r["dtls"]["round_trips"] == 3
    base = r["baseline"]
    assert base["handshake"]["ok"] and base["dtls"]["round_trips"] == 3
    assert r["rom_tls_bytes"] < base["rom_tls_bytes"] and r["heap_peak_bytes"] < \
        base["heap_peak_bytes"]
    header = (coap_fit["dir"] / "tls_config.h").read_text()
    assert "#define TLSFIT_DTLS 1" in header and "MBEDTLS_SSL_PROTO_DTLS" in header


@pytest.mark.fit
def test_dtls_psk_fit_has_no_x509_code(coap_fit):
    names = [m["name"] for m in coap_fit["report"]["modules"]]
    assert "ssl_tls12_client.o" in names        # the map was read
    assert not [n for n in names if n.startswith(("x509", "pk", "asn1", "oid", "pem"))], names
    assert "MBEDTLS_X509" not in (coap_fit["dir"] / "tls_config.h").read_text()


@pytest.mark.fit
def test_dtls_psk_fit_wrote_no_key_material(coap_fit):
    needles = (KEY, KEY.hex().encode(), KEY.hex().upper().encode())
    files = [p for p in coap_fit["dir"].rglob("*") if p.is_file()]
    assert any(p.name == "report.json" for p in files)
    for p in files:
        data = p.read_bytes()
        assert not [n for n in needles if n in data], f"{p} holds the key"
    assert IDENTITY in (coap_fit["dir"] / "tls_config.h").read_text()   # the identity may


@pytest.fixture(scope="module")
def ec_chain(tmp_path_factory):
    return refservers.make_chain(tmp_path_factory.mktemp("dtls-m-pki"), "ec", "ec:P-256",
                                 "ec:P-256", "ec:P-256", label="DTLS measure")


def test_measure_default_config_over_dtls_against_openssl_ecdsa(ec_chain, server_logs,
                                                                 tree36):
    """mbedTLS's default configuration, made DTLS by the request (measure --dtls)."""
    header = baseline.baseline_config(tree36, progress=False)
    with udpservers.openssl_dtls_server(ec_chain, "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256",
                                        "-groups", "P-256", log_dir=server_logs,
                                        keep_sessions=True) as srv:
        m = measure.measure(measure.MeasureRequest(
            header, "cortex-m4", "127.0.0.1", srv.port, sni="localhost", ca=ec_chain.root.pem,
            tree=tree36, progress=False, dtls=True))
    hs = m.handshake
    assert (hs.ok, hs.version, hs.ciphersuite, hs.group) == \
        (True, "DTLSv1.2", ECDSA_SUITE, "secp256r1"), hs.message
    wire = m.get("wire")
    assert (wire["transport"], wire["hello_verify_requests"], wire["round_trips"]) == \
        ("udp", 1, 3)                          # s_server -listen: the cookie exchange
    assert wire["firmware"]["broken"] is False and m.handshake_instructions > 0


def test_silent_udp_port_ends_at_the_deadline_with_exit_60(coap_fit, prober, tmp_path):
    with UdpPeer(lambda data, i: []) as peer:
        proc = run_tlsfit(prober, tmp_path / "state", "measure", "--config",
                          coap_fit["dir"] / "tls_config.h", "--target", "cortex-m4",
                          "--server", peer.hostport, "--psk-identity", IDENTITY,
                          "--psk-key-file", coap_fit["key_file"], "--timeout", "4",
                          timeout=240)
        heard = peer.datagrams
    assert proc.returncode == DTLS_SILENT, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("tlsfit: ")]
    assert lines and "sent no datagram" in lines[-1] and peer.hostport in lines[-1]
    assert heard >= 1                           # the firmware's ClientHello reached it


def test_dtls_resumption_stays_refused(tmp_path):
    with pytest.raises(TlsfitError) as e:
        refuse_on_target(True, True, "coap.h")
    assert e.value.code == DTLS_ON_TARGET and "one DTLS association" in e.value.message
    refuse_on_target(True, False)
    refuse_on_target(False, True)
