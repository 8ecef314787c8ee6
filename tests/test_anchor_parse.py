"""Every certificate the device parses must be parseable by the header: the trust
anchor too, even self-signed, whose own signature is never verified but whose
algorithm and hash mbedTLS must know to load it.

The shape of DigiCert Global Root G2 and the chains below it (Azure IoT Hub): an
RSA-2048 root self-signed with SHA-256, the intermediate and the leaf signed with
SHA-384, a server with ECDHE-RSA AES-256-GCM-SHA384 only -- nothing of the session
needs SHA-256.  A header without it cannot load its CA
(MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG + MBEDTLS_ERR_OID_NOT_FOUND)."""
import json
import re

import pytest

from tlsfit.lab import refservers

ROOT_REASON = ('trust anchor "CN=tlsfit g2 root" is signed with sha256WithRSAEncryption: '
               "mbedTLS must know that algorithm to load it (the anchor's own signature is "
               "not verified)")


def defines(text):
    return set(re.findall(r"^#define (\w+)", text, re.M))


@pytest.fixture(scope="module")
def g2_chain(tmp_path_factory):
    return refservers.make_chain(tmp_path_factory.mktemp("g2"), "g2", digest="sha384",
                                 root_digest="sha256")


@pytest.fixture(scope="module")
def g2_server(g2_chain, server_logs):
    """TLS 1.2 only, ECDHE-RSA AES-256-GCM-SHA384 only: no cheaper candidate to fall back on."""
    with refservers.openssl_server(g2_chain, "-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384",
                                   log_dir=server_logs) as srv:
        yield srv


@pytest.mark.server
def test_a_root_self_signed_with_another_hash_loads_and_verifies(g2_chain, g2_server, run_probe,
                                                                 run_driver, tmp_path):
    srv = g2_server
    res = run_probe(srv.hostport, "--sni", "localhost", "--ca", g2_chain.root.pem)
    assert res.returncode == 0, res.explain()
    anchor = res.profile["trust_anchor"]
    assert (anchor["signature_algorithm"], anchor["signature_hash"]) == \
        ("sha256WithRSAEncryption", "sha256")
    profile = tmp_path / "g2.json"
    profile.write_text(json.dumps(res.profile))
    header = tmp_path / "tls_config.h"
    gen = run_driver("gen", profile, "-o", header, "--json")
    assert gen.returncode == 0, gen.stderr
    plan = json.loads(gen.stdout)
    assert [c["suite"] for c in plan["chosen"]] == ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]
    assert "MBEDTLS_SHA256_C" in defines(header.read_text())
    assert ROOT_REASON in plan["options"]["MBEDTLS_SHA256_C"]
    proof = run_driver("verify", "--config", header, srv.hostport, "--sni", "localhost",
                       "--ca", g2_chain.root.pem, "--json", timeout=600)
    assert proof.returncode == 0, proof.stderr + proof.stdout[-2000:]
    assert json.loads(proof.stdout)["ok"] is True


@pytest.mark.fit
def test_a_fit_on_cortex_m4_verifies(g2_chain, g2_server, run_driver, tmp_path):
    """The fit of that server on the target (it exited 42, no candidate verified, while gen
    left the root's hash out); with the CLI's cheapest settings: one candidate, rom."""
    out = tmp_path / "fit"
    proc = run_driver("fit", g2_server.hostport, "--sni", "localhost", "--ca", g2_chain.root.pem,
                      "--target", "cortex-m4", "--candidates", "1", "--objective", "rom",
                      "--out", out, "--json", timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["handshake"]["ok"] is True
    assert report["handshake"]["ciphersuite"] == "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
    text = (out / "tls_config.h").read_text()
    assert "MBEDTLS_SHA256_C" in defines(text) and "MBEDTLS_SHA384_C" in defines(text)
    assert "MBEDTLS_SHA256_C" not in report["removed"]
