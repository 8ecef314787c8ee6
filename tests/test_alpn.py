"""ALPN: an endpoint shaped like AWS IoT Core's MQTT on 443 (HAProxy on 127.0.0.1
drops a ClientHello without ALPN x-amzn-mqtt-ca, terminates TLS with it selected and
a device certificate required, and forwards MQTT to mosquitto)."""
import json

import pytest

from conftest import require_tools

AWS = "x-amzn-mqtt-ca"


@pytest.fixture
def aws_endpoint(pki, tmp_path):
    require_tools("haproxy", "mosquitto")
    from tlsfit.lab import daemons
    with daemons.aws_iot_shaped(pki.ec, client_ca=pki.client_ca.pem, log_dir=tmp_path) as srv:
        yield srv


def test_probe_with_alpn_records_the_selection_and_the_requirement(aws_endpoint, pki, run_probe):
    res = run_probe(aws_endpoint.hostport, "--sni", "localhost", "--ca", pki.ec.root.pem,
                    "--alpn", AWS)
    assert res.returncode == 0, res.explain()
    ext = res.profile["extensions"]
    assert ext["alpn"] == AWS
    assert ext["alpn_offered"] == [AWS]
    assert ext["alpn_required"] is True
    assert res.profile["versions"] == ["TLSv1.2", "TLSv1.3"]
    assert res.profile["client_cert_requested"] is True
    assert res.profile["steps"]["alpn"] == {"status": "ok"}


def test_probe_without_alpn_names_what_the_hellos_offered(aws_endpoint, run_probe):
    res = run_probe(aws_endpoint.hostport, "--sni", "localhost")
    assert res.returncode == 14, res.explain()      # TF_ERR_CLOSED
    assert res.stderr.rstrip("\n").endswith(
        "(the hellos offered SNI localhost and no ALPN): a server that routes by name or by "
        "protocol drops a hello without the one it expects; try --sni NAME and --alpn PROTO "
        "[TF_ERR_CLOSED]"), res.stderr


def test_probe_without_alpn_of_a_server_that_needs_none(pki, run_probe, server_logs):
    """Without --alpn the probe offers its four protocols once; the server (openssl
    s_server without -alpn) selects none and a hello without ALPN was answered."""
    from tlsfit.lab import refservers
    with refservers.openssl_server(pki.ec, log_dir=server_logs) as srv:
        res = run_probe(srv.hostport, "--sni", "localhost", "--ca", pki.ec.root.pem)
    assert res.returncode == 0, res.explain()
    ext = res.profile["extensions"]
    assert (ext["alpn"], ext["alpn_required"]) == (None, False)
    assert ext["alpn_offered"] == ["h2", "http/1.1", "mqtt", AWS]


@pytest.mark.parametrize("value, why", [
    ("a,,b", "an empty protocol name in 'a,,b'"),
    ("has space", "not a protocol name: 'has space'"),
])
def test_probe_alpn_is_checked(run_driver, value, why):
    proc = run_driver("probe", "127.0.0.1:1", "--alpn", value)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1].startswith(f"tlsfit probe: error: argument --alpn: {why}")


@pytest.fixture
def aws_profile(aws_endpoint, pki, run_probe, tmp_path):
    """The endpoint probed with --alpn, kept as a profile file."""
    res = run_probe(aws_endpoint.hostport, "--sni", "localhost", "--ca", pki.ec.root.pem,
                    "--alpn", AWS)
    assert res.returncode == 0, res.explain()
    path = tmp_path / "aws.json"
    path.write_text(json.dumps(res.profile))
    return path


@pytest.fixture
def device(pki, tmp_path):
    """A P-256 device certificate issued by the CA the endpoint requires."""
    from tlsfit.lab import refservers
    return refservers.make_client_cert(pki.client_ca, tmp_path, "thing")


def test_gen_offers_the_protocol_the_server_requires(aws_profile, run_driver, tmp_path):
    header = tmp_path / "tls_config.h"
    proc = run_driver("gen", aws_profile, "-o", header, "--json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    why = ("the server requires ALPN: a hello without it was refused, the same hello offering "
           f"{AWS} was answered (the server selected {AWS})")
    assert plan["options"]["MBEDTLS_SSL_ALPN"] == [why]
    assert plan["values"]["TLSFIT_ALPN"] == f'"{AWS}"'
    text = header.read_text()
    assert f'#define TLSFIT_ALPN "{AWS}"' in text
    assert "mbedtls_ssl_conf_alpn_protocols(&conf, alpn)" in text


def test_without_a_requirement_no_alpn_unless_asked(run_driver, tmp_path):
    """A server that needs no ALPN: none in the header; gen --alpn puts the list in and
    its Regenerate line says so."""
    plain, asked = tmp_path / "plain.h", tmp_path / "asked.h"
    assert run_driver("gen", "mosquitto-tls", "-o", plain).returncode == 0
    assert "MBEDTLS_SSL_ALPN" not in plain.read_text()
    proc = run_driver("gen", "mosquitto-tls", "--alpn", "mqtt,h2", "-o", asked)
    assert proc.returncode == 0, proc.stderr
    text = asked.read_text()
    assert '#define TLSFIT_ALPN "mqtt", "h2"' in text
    assert "--alpn mqtt,h2" in text.splitlines()[3]       # the Regenerate line


@pytest.mark.server
def test_verify_offers_alpn_and_the_broker_answers(aws_endpoint, aws_profile, device, pki,
                                                   run_driver, tmp_path):
    """gen's header, built on the host: the handshake offers x-amzn-mqtt-ca, signs with the
    device's key, and the broker behind the endpoint answers MQTT CONNECT (CONNACK)."""
    header = tmp_path / "tls_config.h"
    assert run_driver("gen", aws_profile, "--client-cert", device.pem, "-o",
                      header).returncode == 0
    proc = run_driver("verify", "--config", header, aws_endpoint.hostport, "--sni", "localhost",
                      "--ca", pki.ec.root.pem, "--proof", "mqtt", "--client-cert", device.pem,
                      "--client-key", device.key, "--json", timeout=600)
    assert proc.returncode == 0, proc.stderr + proc.stdout[-2000:]
    res = json.loads(proc.stdout)
    assert (res["ok"], res["alpn"], res["proof"]) == (True, AWS, "mqtt-connack")


@pytest.mark.fit
def test_fit_with_alpn_and_a_device_certificate(aws_endpoint, device, pki, run_driver, tmp_path):
    out = tmp_path / "fit"
    proc = run_driver("fit", aws_endpoint.hostport, "--sni", "localhost", "--ca",
                      pki.ec.root.pem, "--alpn", AWS, "--proof", "mqtt", "--client-cert",
                      device.pem, "--client-key", device.key, "--candidates", "1",
                      "--objective", "rom", "--out", out, "--json", timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["handshake"]["ok"] is True
    assert report["handshake"]["proof"] == "mqtt-connack"
    assert report["gen_options"]["alpn"] == [AWS]
    text = (out / "tls_config.h").read_text()
    assert f'#define TLSFIT_ALPN "{AWS}"' in text and "#define MBEDTLS_SSL_ALPN" in text
