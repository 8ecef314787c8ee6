"""gen's options on the Mbed TLS 4.x line, proven on the host against real servers.

Two 4.x builds for the module (verify's cache and ccache keep them), against openssl
s_servers on the standard PKI's ECDSA chain (root P-384, intermediate and leaf P-256),
A asking for the device's certificate (-Verify 1, the client CA), B not:
  device  `gen A B --mbedtls 4.0 --tls 1.3 --client-cert device.pem --anchor inter.pem
          --resume`: one pair, verified against each server with the intermediate as the
          only anchor, presenting the device's certificate to A, and resuming a TLS 1.3
          ticket with each (TLS 1.3 with a client certificate and resumption: 5 + 1 + 1 =
          7 PSA key slots). A's ticket holds the device's certificate (OpenSSL keeps the
          peer's certificate in the session), which the probe never saw: gen sizes the
          buffers for it (header/sizes.resumed_hello_len; the 1,024-byte output buffer
          failed with MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL at the resumption).
  psk     `gen --mbedtls 4.0 --tls 1.3 --psk-identity ID --psk-key-file FILE` for
          openssl s_server -psk: verified with the key, no X.509 in either file, the
          key in neither.
"""
import json
import re

import pytest

from conftest import require_tools, run_tlsfit
from tlsfit.core import pskkey
from tlsfit.core.identity import ClientIdentity
from tlsfit.host import verify
from tlsfit.lab import refservers
from tlsfit.lab.pskservers import openssl_psk_server

IDENTITY = "dev-4"
KEY = bytes.fromhex("5a0b6c1d7e2f8a3b9c4d0e1f2a3b4c5d")


def _defined(text):
    return set(re.findall(r"^#define (\w+)", text, re.M))


@pytest.fixture(scope="module")
def device(pki, tree4, server_logs, prober, tmp_path_factory):
    """{gen, cfg, plan, mtls, plain}: the device pair's gen process, plan and verify's
    results (each a full handshake, then a resumed one)."""
    require_tools("openssl")
    d = tmp_path_factory.mktemp("gen4-device")
    dev = refservers.make_client_cert(pki.client_ca, d, "device", "ec:P-256")
    out = {"cfg": d / "dev.h"}
    mtls = ("-Verify", "1", "-CAfile", str(pki.client_ca.pem))
    with refservers.openssl_server(pki.ec, *mtls, log_dir=server_logs) as a, \
            refservers.openssl_server(pki.ec, log_dir=server_logs) as b:
        profiles = []
        for name, srv in (("mtls", a), ("plain", b)):
            proc = run_tlsfit(prober, d / "state", "probe", srv.hostport, "--sni", "localhost",
                              "--ca", pki.ec.root.pem, "--json")
            assert proc.returncode == 0, proc.stderr
            profiles.append(d / f"{name}.json")
            profiles[-1].write_text(proc.stdout)
        out["gen"] = run_tlsfit(prober, d / "state", "gen", *profiles, "--mbedtls", "4.0",
                                "--tls", "1.3", "--client-cert", dev.pem, "--anchor",
                                pki.ec.inter.pem, "--resume", "-o", out["cfg"], "--json")
        if out["gen"].returncode != 0:
            return out
        out["plan"] = json.loads(out["gen"].stdout)
        four = dict(sni="localhost", ca=pki.ec.inter.pem, mbedtls_dir=tree4.path, resume=True)
        out["mtls"] = verify.verify(out["cfg"], "127.0.0.1", a.port,
                                    client=ClientIdentity.load(dev.pem, dev.key), **four)
        out["plain"] = verify.verify(out["cfg"], "127.0.0.1", b.port, **four)
    return out


@pytest.mark.server
def test_device_pair_with_client_cert_and_anchor_is_written(device):
    assert device["gen"].returncode == 0, device["gen"].stderr
    tls = device["cfg"].read_text()
    crypto = device["cfg"].with_name("dev_crypto.h").read_text()
    assert "MBEDTLS_SSL_PROTO_TLS1_3" in _defined(tls)
    assert "PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_IMPORT" in _defined(crypto)    # the device key
    # the anchor is the P-256 intermediate: nothing P-384 (only the root needed it)
    assert "PSA_WANT_ECC_SECP_R1_384" not in _defined(crypto)
    assert "mbedtls_pk_wrap_psa()" in tls
    assert re.search(r"^#define MBEDTLS_PSA_KEY_SLOT_COUNT 7 ", crypto, re.M)
    # sized for a ticket that holds the device's certificate, not the probe's 1,024
    out_len = int(re.search(r"^#define MBEDTLS_SSL_OUT_CONTENT_LEN (\d+)", tls, re.M)[1])
    assert out_len > 1024


@pytest.mark.server
def test_device_pair_presents_the_device_certificate_and_serves_both(device):
    for name in ("mtls", "plain"):
        res = device[name]
        assert res["ok"] is True, json.dumps(res.to_json(), indent=1)
        assert res["mbedtls"] == "4.0.0" and res["version"] == "TLSv1.3"
    # A requires a client certificate (-Verify 1): the handshake held only with it
    assert device["mtls"]["client"]["key_type"] == "ec"


@pytest.mark.server
def test_device_pair_resumes_a_tls13_ticket_with_each_server(device):
    for name in ("mtls", "plain"):
        res = device[name]
        assert res["resumption"]["mode"] == "tls13-ticket", (name, res["resumption"])
        assert res["resumption"]["accepted"] is True, (name, res["resumption"])


@pytest.mark.server
def test_psk_pair_verifies_without_x509(tree4, server_logs, prober, tmp_path):
    require_tools("openssl")
    key_file = tmp_path / "device.key"
    key_file.write_text(KEY.hex() + "\n")
    psk_args = ("--psk-identity", IDENTITY, "--psk-key-file", key_file)
    cfg = tmp_path / "psk.h"
    with openssl_psk_server(IDENTITY, KEY, log_dir=server_logs) as srv:
        proc = run_tlsfit(prober, tmp_path / "state", "probe", srv.hostport, *psk_args,
                          "--json")
        assert proc.returncode == 0, proc.stderr
        (tmp_path / "psk.json").write_text(proc.stdout)
        gen = run_tlsfit(prober, tmp_path / "state", "gen", tmp_path / "psk.json", *psk_args,
                         "--mbedtls", "4.0", "--tls", "1.3", "-o", cfg)
        assert gen.returncode == 0, gen.stderr
        res = verify.verify(cfg, "127.0.0.1", srv.port, mbedtls_dir=tree4.path,
                            psk=pskkey.load(IDENTITY, key_file))
    assert res["ok"] is True, json.dumps(res.to_json(), indent=1)
    assert res["psk_identity"] == IDENTITY and res["mbedtls"] == "4.0.0"
    assert res["version"] == "TLSv1.3"
    crypto = tmp_path.joinpath("psk_crypto.h").read_text()
    assert re.search(r"^#define MBEDTLS_PSA_KEY_SLOT_COUNT 6 ", crypto, re.M)  # TLS 1.3 PSK
    both = cfg.read_text() + crypto
    assert not {n for n in _defined(both) if n.startswith("MBEDTLS_X509")}
    assert KEY.hex() not in both.lower()
