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


@pytest.fixture
def aws_endpoint_tls12(pki, tmp_path):
    """The same endpoint accepting TLS 1.2 only: a fit of it measures one version's
    candidate (of both, the search measures one header per version), and what the fit
    proves -- the protocol offered and required, the device certificate, CONNACK -- does
    not depend on the version."""
    require_tools("haproxy", "mosquitto")
    from tlsfit.lab import daemons
    with daemons.aws_iot_shaped(pki.ec, client_ca=pki.client_ca.pem, log_dir=tmp_path,
                                max_version="TLSv1.2") as srv:
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
def test_fit_with_alpn_and_a_device_certificate(aws_endpoint_tls12, device, pki, run_driver,
                                                tmp_path):
    out = tmp_path / "fit"
    proc = run_driver("fit", aws_endpoint_tls12.hostport, "--sni", "localhost", "--ca",
                      pki.ec.root.pem, "--alpn", AWS, "--proof", "mqtt", "--client-cert",
                      device.pem, "--client-key", device.key, "--candidates", "1",
                      "--objective", "rom", "--out", out, "--json", timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["handshake"]["ok"] is True
    assert report["handshake"]["proof"] == "mqtt-connack"
    assert report["handshake"]["version"] == "TLSv1.2"        # the endpoint's one version
    assert report["gen_options"]["alpn"] == [AWS]
    text = (out / "tls_config.h").read_text()
    assert f'#define TLSFIT_ALPN "{AWS}"' in text and "#define MBEDTLS_SSL_ALPN" in text


@pytest.mark.server
def test_device_file_alpn_per_server_probes_gens_and_verifies(aws_endpoint, device, pki, prober,
                                                              run_driver, server_logs, tmp_path,
                                                              monkeypatch):
    """A device file giving the AWS-shaped endpoint its ALPN and a plain server another:
    each server is probed with its own list (the endpoint drops a hello without it), the
    joint header defines the union the harness offers and each server's own list, and
    verify passes against both (the broker answers CONNACK; the plain server selects no
    protocol, since openssl s_server without -alpn ignores the extension)."""
    from dataclasses import replace
    from tlsfit.fit import device as device_mod, search, sites
    from tlsfit.header import gen
    from tlsfit.lab import refservers
    monkeypatch.setenv("TLSFIT_STATE_DIR", str(tmp_path / "state"))
    with refservers.openssl_server(pki.ec, log_dir=server_logs) as plain:
        toml = tmp_path / "device.toml"
        toml.write_text(f'[client]\ncert = "{device.pem}"\nkey = "{device.key}"\n'
                        f'[[server]]\nhost = "{aws_endpoint.hostport}"\nsni = "localhost"\n'
                        f'ca = "{pki.ec.root.pem}"\nalpn = ["{AWS}"]\n'
                        f'[[server]]\nhost = "{plain.hostport}"\nsni = "localhost"\n'
                        f'ca = "{pki.ec.root.pem}"\nalpn = "h2,http/1.1"\n')
        opts = search.FitOptions(progress=False)
        dev = sites.as_device(device_mod.load(toml), opts)
        probed = sites.probe_sites(dev, opts, tmp_path / "work", search.Progress(False))
        assert [s.profile.extensions["alpn_offered"] for s in probed] == [[AWS], ["h2", "http/1.1"]]
        assert [s.profile.extensions["alpn_required"] for s in probed] == [True, False]
        opts = replace(opts, server_alpn=search.server_alpn(probed, opts))
        plan = gen.generate_device([s.profile for s in probed],
                                   search.gen_options(opts, search.client_kwargs(dev.client)))
        values = {k: v[0] for k, v in plan.values.items() if k.startswith("TLSFIT_ALPN")}
        assert values == {"TLSFIT_ALPN": f'"{AWS}", "h2", "http/1.1"',
                          "TLSFIT_ALPN_1": f'"{AWS}"', "TLSFIT_ALPN_2": '"h2", "http/1.1"'}
        header = tmp_path / "tls_config.h"
        header.write_text(plan.text)
        common = ("--sni", "localhost", "--ca", pki.ec.root.pem, "--client-cert", device.pem,
                  "--client-key", device.key, "--json")
        broker = run_driver("verify", "--config", header, aws_endpoint.hostport, "--proof",
                            "mqtt", *common, timeout=600)
        other = run_driver("verify", "--config", header, plain.hostport, *common, timeout=600)
    for proc in (broker, other):
        assert proc.returncode == 0, proc.stderr + proc.stdout[-2000:]
    broker, other = json.loads(broker.stdout), json.loads(other.stdout)
    assert (broker["ok"], broker["alpn"], broker["proof"]) == (True, AWS, "mqtt-connack")
    assert (other["ok"], other["alpn"]) == (True, None)
