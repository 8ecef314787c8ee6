"""ALPN: an endpoint shaped like AWS IoT Core's MQTT on 443 (HAProxy on 127.0.0.1
drops a ClientHello without ALPN x-amzn-mqtt-ca, terminates TLS with it selected and
a device certificate required, and forwards MQTT to mosquitto)."""
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
