"""`tlsfit fit` for a device that talks to several servers (issue 14.2): the device file
(fit/device.py) parsed and validated field by field, the HOST1 HOST2 shorthand, and live
fits of one header against two openssl servers on cortex-m4 (an ECDSA chain, TLS 1.2,
and an RSA chain), each proven on the target with the final header in the same run."""
import json
import re
import socket
from pathlib import Path

import pytest

from conftest import run_tlsfit
from test_compat import check_shape
from tlsfit.cli import main as cli
from tlsfit.cli.common import alpn_list as cli_alpn
from tlsfit.core.errors import DEVICE, DRIVER_CODES, TlsfitError
from tlsfit.core.proof import Proof
from tlsfit.fit import device, objective, search, sites
from tlsfit.lab import refservers

# openssl s_server -www answers "GET /" with "HTTP/1.0 200 ok": a proof without the
# no-alert proof's 2 s wait.
GET = "GET / HTTP/1.0\r\n\r\n".encode().hex()
PROOF = f"send:{GET},expect:{'HTTP/1.0 200'.encode().hex()}"


# ================================================================== the device file (pure)

def write(tmp_path, text, files=("broker-root.pem", "ota-root.pem", "device.pem", "device.key")):
    for f in files:
        (tmp_path / f).write_text("x")
    p = tmp_path / "device.toml"
    p.write_text(text)
    return p


EXAMPLE = """\
target = "cortex-m4"
[client]
cert = "device.pem"
key  = "device.key"
[[server]]
host = "broker.example.com"
port = 8883
ca   = "broker-root.pem"
proof = "mqtt"
[[server]]
host = "ota.example.com"
sni = "ota.example.net"
ca = ["broker-root.pem", "ota-root.pem"]
"""


def test_the_example_parses_with_paths_relative_to_the_file(tmp_path, monkeypatch):
    p = write(tmp_path, EXAMPLE)
    monkeypatch.chdir("/")
    dev = device.load(p)
    assert dev.target == "cortex-m4" and dev.source == str(p)
    assert dev.client == device.ClientFiles(tmp_path / "device.pem", tmp_path / "device.key")
    broker, ota = dev.servers
    assert (broker.host, broker.port, broker.sni, broker.proof) == \
        ("broker.example.com", 8883, None, Proof("mqtt"))
    assert broker.ca == (tmp_path / "broker-root.pem",)
    assert (ota.hostport, ota.sni, ota.proof) == ("ota.example.com:443", "ota.example.net", None)
    assert ota.ca == (tmp_path / "broker-root.pem", tmp_path / "ota-root.pem")


def test_host_may_carry_the_port_and_ipv6():
    dev = device.parse({"server": [{"host": "[::1]:8883"}, {"host": "b.example:4433"}]},
                       "d.toml", "/")
    assert [(s.host, s.port) for s in dev.servers] == [("::1", 8883), ("b.example", 4433)]
    assert dev.target is None and dev.client is None


BAD = [
    ('[[server]]\nhost = "a"\n[[server]]\nhost = "b"\nport = "x"\n',
     "server[2].port: expected a whole number 1-65535, got 'x'"),
    ('[[server]]\nhost = "a"\nport = 0\n', "server[1].port: expected a whole number 1-65535, got 0"),
    ('[[server]]\nhost = "a"\nport = 65536\n',
     "server[1].port: expected a whole number 1-65535, got 65536"),
    ('[[server]]\nhost = "a"\nport = true\n',
     "server[1].port: expected a whole number 1-65535, got True"),
    ('[[server]]\nhost = "a:1"\nport = 2\n',
     "server[1].port: the port is given twice (in host and as port): keep one"),
    ('[[server]]\nport = 443\n', "server[1].host: missing: every [[server]] names its host"),
    ('[[server]]\nhost = ""\n', "server[1].host: expected a non-empty string, got ''"),
    ('[[server]]\nhost = "a"\nhots = "b"\n',
     "server[1].hots: unknown key (expected one of host, port, sni, ca, proof, alpn, "
     "psk_identity, psk_key_file, dtls)"),
    ('[[server]]\nhost = "a"\nalpn = "a,,b"\n',
     "server[1].alpn: an empty protocol name in 'a,,b' (e.g. x-amzn-mqtt-ca or h2,http/1.1)"),
    ('[[server]]\nhost = "a"\nalpn = ["h2", "has space"]\n',
     "server[1].alpn: not a protocol name: 'has space' (printable ASCII, no space or comma, "
     "at most 255 characters)"),
    ('[[server]]\nhost = "a"\nalpn = ["h2,mqtt"]\n',
     "server[1].alpn: not a protocol name: 'h2,mqtt' (printable ASCII, no space or comma, "
     "at most 255 characters)"),
    ('[[server]]\nhost = "a"\nalpn = []\n',
     "server[1].alpn: no protocol name (e.g. x-amzn-mqtt-ca or h2,http/1.1)"),
    ('[[server]]\nhost = "a"\nalpn = [3]\n',
     "server[1].alpn: not a protocol name: 3 (a string, e.g. x-amzn-mqtt-ca or h2,http/1.1)"),
    ('[[server]]\nhost = "a"\nalpn = 3\n',
     "server[1].alpn: expected a list of protocol names or \"P1,P2\", got 3"),
    ('[[server]]\nhost = "a"\nalpn = "' + "p" * 200 + ',' + "q" * 60 + '"\n',
     f"server[1].alpn: the list is over 255 bytes: '{'p' * 200},{'q' * 60}'"),
    ('[[server]]\nhost = "a"\nca = "missing.pem"\n',
     "server[1].ca: no such file missing.pem (paths are relative to the device file)"),
    ('[[server]]\nhost = "a"\nca = 3\n',
     "server[1].ca: expected a file name or a list of file names, got 3"),
    ('[[server]]\nhost = "a"\nproof = "smtp"\n',
     "server[1].proof: 'smtp': expected mqtt, http, no-alert, coap or send:HEX,expect:HEX"),
    ('[[server]]\nhost = "a"\n[[server]]\nhost = "a"\nport = 443\n',
     "server[2]: the same server as server[1] (a:443)"),
    ('target = "cortex-m4"\n', "server: missing: list each server as a [[server]] table with its host"),
    ('server = []\n', "server: expected one or more [[server]] tables"),
    ('targte = "m4"\n[[server]]\nhost = "a"\n',
     "targte: unknown key (expected one of target, client, server)"),
    ('target = 4\n[[server]]\nhost = "a"\n', "target: expected a non-empty string, got 4"),
    ('[client]\ncert = "device.pem"\n[[server]]\nhost = "a"\n',
     "client.key: missing: the identity needs both cert and key"),
    ('[client]\ncert = "device.pem"\nkey = "nokey.pem"\n[[server]]\nhost = "a"\n',
     "client.key: no such file nokey.pem (paths are relative to the device file)"),
]


@pytest.mark.parametrize("text, expected", BAD, ids=[e.split(":")[0] + str(i)
                                                     for i, (_, e) in enumerate(BAD)])
def test_a_bad_field_is_one_line_naming_it(text, expected, tmp_path):
    p = write(tmp_path, text)
    with pytest.raises(TlsfitError) as info:
        device.load(p)
    assert info.value.code == DEVICE == 43
    assert info.value.message == f"{p}: {expected}"
    assert "\n" not in info.value.message


def test_not_toml_and_a_missing_file(tmp_path):
    p = write(tmp_path, "[[server]\nhost = 'a'\n")
    with pytest.raises(TlsfitError) as info:
        device.load(p)
    assert info.value.code == DEVICE and info.value.message.startswith(f"{p}: not valid TOML: ")
    with pytest.raises(TlsfitError) as info:
        device.load(tmp_path / "nope.toml")
    assert info.value.code == DEVICE and "cannot read the device file" in info.value.message


def test_alpn_is_a_list_or_a_comma_string_as_the_cli_takes_it():
    dev = device.parse({"server": [{"host": "a", "alpn": ["x-amzn-mqtt-ca"]},
                                   {"host": "b", "alpn": "h2,http/1.1"}, {"host": "c"}]},
                       "d.toml", "/")
    assert [s.alpn for s in dev.servers] == [("x-amzn-mqtt-ca",), ("h2", "http/1.1"), ()]
    assert cli_alpn("h2,http/1.1") == dev.servers[1].alpn


def test_fit_alpn_applies_to_the_servers_without_their_own():
    dev = device.parse({"server": [{"host": "a", "alpn": ["x-amzn-mqtt-ca"]}, {"host": "b"}]},
                       "d.toml", "/")
    opts = search.FitOptions(alpn=("mqtt",))
    assert [s.alpn for s in sites.as_device(dev, opts).servers] == [("x-amzn-mqtt-ca",),
                                                                     ("mqtt",)]
    assert [s.alpn for s in sites.as_device(["a", "b"], opts).servers] == [("mqtt",), ("mqtt",)]


def test_the_shorthand_applies_sni_ca_and_proof_to_every_server():
    dev = device.from_hosts(["a:8883", "b"], "localhost", ["r1.pem", "r2.pem"], Proof("http"))
    assert [(s.hostport, s.sni, s.ca, s.proof) for s in dev.servers] == [
        ("a:8883", "localhost", (Path("r1.pem"), Path("r2.pem")), Proof("http")),
        ("b:443", "localhost", (Path("r1.pem"), Path("r2.pem")), Proof("http"))]
    with pytest.raises(TlsfitError, match="a:443 is given twice"):
        device.from_hosts(["a", "a:443"])


def test_the_exit_code_is_in_the_table():
    assert (DEVICE, "TLSFIT_DEVICE") in [(c, n) for c, n, _ in DRIVER_CODES]


def test_cli_device_errors(tmp_path, capsys):
    p = write(tmp_path, '[[server]]\nhost = "a"\n[[server]]\nhost = "b"\nport = "x"\n')
    assert cli.main(["fit", "--device", str(p)]) == 43
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"tlsfit: {p}: server[2].port: expected a whole number 1-65535, got 'x'"]
    assert cli.main(["fit", "--device", str(p), "a.example"]) == 2
    assert "not both" in capsys.readouterr().err
    assert cli.main(["fit", "--device", str(p), "--sni", "x"]) == 2
    assert "with --device give it in the device file" in capsys.readouterr().err
    assert cli.main(["fit"]) == 2
    assert "--device FILE" in capsys.readouterr().err


def test_help_documents_both_forms(capsys):
    assert cli.main(["fit", "--help"]) == 0
    out = capsys.readouterr().out
    assert "HOST1 HOST2" in out and "--device FILE" in out and "[[server]]" in out
    assert "exit 43" in out and "servers" in out and "joint" in out


class FakeMeasurement:
    def __init__(self, ok, heap, rom=1000):
        self.ok, self.heap, self.rom = ok, heap, rom

    def figures(self):
        return {"rom_bytes": self.rom, "rom_tls_bytes": 900, "ram_static_bytes": 10,
                "heap_peak_bytes": self.heap, "stack_peak_bytes": None if self.heap is None else self.heap // 10,
                "handshake_instructions": None if self.heap is None else self.heap * 100}


def test_joint_figures_are_the_build_and_the_worst_server():
    f = objective.joint_figures([FakeMeasurement(True, 500), FakeMeasurement(True, 700)])
    assert f == {"rom_bytes": 1000, "rom_tls_bytes": 900, "ram_static_bytes": 10,
                 "heap_peak_bytes": 700, "stack_peak_bytes": 70, "handshake_instructions": 70000}
    assert objective.joint_figures([FakeMeasurement(True, 500), FakeMeasurement(False, None)]
                                   )["heap_peak_bytes"] == 500


def test_a_trial_counts_only_when_every_server_verified():
    def trial(*ms):
        return search.Trial("t", Path("x"), None, None, list(ms))
    assert trial(FakeMeasurement(True, 1), FakeMeasurement(True, 2)).ok
    assert not trial(FakeMeasurement(True, 1), FakeMeasurement(False, 2)).ok
    assert not trial(FakeMeasurement(True, 1), None).ok          # server 2 never measured
    t = trial(FakeMeasurement(True, 1), FakeMeasurement(True, 2))
    t.mismatch = "server 2 (b:443): negotiated TLSv1.3, but the header chose TLSv1.2"
    assert not t.ok


# ================================================================== live: two servers, one header

@pytest.fixture(scope="module")
def two_servers(pki, server_logs):
    with refservers.openssl_server(pki.ec, "-tls1_2", log_dir=server_logs) as ec, \
            refservers.openssl_server(pki.rsa, log_dir=server_logs) as rsa:
        yield ec, rsa


def check_two(report, out, ec, rsa):
    check_shape(report, "report.shape.json")          # every key a one-server report has
    servers = report["servers"]
    assert [s["server"] for s in servers] == [f"127.0.0.1:{ec.port}", f"127.0.0.1:{rsa.port}"]
    for s in servers:
        hs = s["handshake"]
        assert hs["ok"] is True and hs["proof"] == "send-expect", s
        assert hs["proof_reply"] and s["baseline"]["handshake"]["proof"] == "send-expect"
        assert s["rom_tls_bytes"] == report["rom_tls_bytes"]        # one build
    assert servers[0]["handshake"]["ciphersuite"].startswith("TLS_ECDHE_ECDSA_")
    assert servers[1]["handshake"]["sigalg"].startswith("rsa_")
    assert report["server"] == servers[0]["server"]              # the first server's meaning
    assert report["handshake"] == servers[0]["handshake"]
    assert report["heap_peak_bytes"] == max(s["heap_peak_bytes"] for s in servers)
    text = (out / "tls_config.h").read_text()
    assert f"server 1: 127.0.0.1:{ec.port}" in text and f"server 2: 127.0.0.1:{rsa.port}" in text
    j = report["joint"]
    each = [s["alone"]["rom_tls_bytes"] for s in servers]
    assert all(s["alone"]["ok"] for s in servers)
    assert j["alone_rom_tls_bytes"] == each and j["alone_max_rom_tls_bytes"] == max(each)
    assert j["extra_servers_rom_tls_bytes"] == report["rom_tls_bytes"] - max(each)
    assert report["rom_tls_bytes"] < sum(each)               # one header beats two
    md = (out / "report.md").read_text()
    assert "None" not in md and "{'" not in md, md
    assert f"| server 2 (127.0.0.1:{rsa.port}) | TLSv1." in md
    assert "### server 1" in md and "### server 2" in md and "over the largest" in md


@pytest.fixture(scope="module")
def two_server_fit(pki, two_servers, prober, tmp_path_factory):
    """The one live fit of the two servers (it used to be two: the device file and the
    HOST1 HOST2 shorthand fitted the same servers the same way), through the device file:
    server 1's CA relative to the file, server 2 with two CA files, so its handshakes read
    the one trust store fit bundles them into (the shorthand's --ca --ca).  Without
    --json: stdout is the summary.  (CompletedProcess, out dir)."""
    ec, rsa = two_servers
    d = tmp_path_factory.mktemp("two-server-fit")
    (d / "ec-root.pem").write_bytes(Path(pki.ec.root.pem).read_bytes())
    dev = d / "device.toml"
    dev.write_text(f'target = "cortex-m4"\n'
                   f'[[server]]\nhost = "127.0.0.1"\nport = {ec.port}\nsni = "localhost"\n'
                   f'ca = "ec-root.pem"\nproof = "{PROOF}"\n'
                   f'[[server]]\nhost = "127.0.0.1:{rsa.port}"\nsni = "localhost"\n'
                   f'ca = ["ec-root.pem", "{pki.rsa.root.pem}"]\nproof = "{PROOF}"\n')
    out = d / "fit"
    proc = run_tlsfit(prober, d / "state", "fit", "--device", dev, "--objective", "rom",
                      "--candidates", "1", "--out", out, timeout=900)
    return proc, out


def test_fit_device_file_two_servers(two_servers, two_server_fit):
    ec, rsa = two_servers
    res, out = two_server_fit
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    check_two(report, out, ec, rsa)
    assert report["minimal"] is True
    # the ablation judged every removal on both servers: a failure names the server
    for a in report["ablation"]:
        if a["result"] == "kept" and "verified" not in a["why"]:
            assert re.match(r"server [12] \(127\.0\.0\.1:\d+\): ", a["why"]), a


def test_fit_two_servers_summary_and_trust_stores(two_servers, two_server_fit):
    """What the shorthand's own fit asserted, on the shared fit: the summary, and every
    server's CA a .pem file (server 2's: the one trust store of its two files)."""
    ec, rsa = two_servers
    res, out = two_server_fit
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.startswith("tlsfit fit: one header for 2 servers on cortex-m4 (rom)")
    assert f"server 2 ({rsa.hostport}): TLSv1." in res.stdout
    report = json.loads((out / "report.json").read_text())
    assert all(s["ca"].endswith(".pem") for s in report["servers"])   # the one trust store


def test_the_shorthand_is_the_device_of_its_flags(pki):
    """`tlsfit fit EC RSA --sni --ca --ca --proof` fits the device two_server_fit's file
    describes, with both CA files for each server (the one trust store); the live
    shorthand runs are test_an_unreachable_second_server_fails_naming_it and
    test_a_server_the_others_rule_out_is_refused_naming_both."""
    from tlsfit.core.proof import parse_proof
    args = cli.build_parser(only="fit").parse_args(
        ["fit", "127.0.0.1:4433", "127.0.0.1:4434", "--sni", "localhost", "--ca",
         str(pki.ec.root.pem), "--ca", str(pki.rsa.root.pem), "--proof", PROOF])
    opts = search.FitOptions(sni=args.sni, ca=args.ca, proof=args.proof)
    dev = sites.as_device(args.server, opts)
    assert [(s.host, s.port, s.sni) for s in dev.servers] == \
        [("127.0.0.1", 4433, "localhost"), ("127.0.0.1", 4434, "localhost")]
    assert all(s.ca == (Path(pki.ec.root.pem), Path(pki.rsa.root.pem)) for s in dev.servers)
    assert all(s.proof == parse_proof(PROOF) for s in dev.servers)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_second_server_fails_naming_it(pki, two_servers, run_driver, tmp_path):
    ec, _ = two_servers
    dead = f"127.0.0.1:{free_port()}"
    out = tmp_path / "fit"
    res = run_driver("fit", ec.hostport, dead, "--sni", "localhost", "--ca", pki.ec.root.pem,
                     "--out", out, timeout=300)
    assert res.returncode == 11, res.stderr                  # the prober's "refused"
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith(f"tlsfit: server 2 ({dead}) could not be probed (exit 11"), last
    assert last.endswith("check it is reachable, or leave it out"), last
    assert not (out / "tls_config.h").exists()


def test_a_server_the_others_rule_out_is_refused_naming_both(pki, two_servers, run_driver,
                                                             tmp_path):
    ec, _ = two_servers
    ed = refservers.make_chain(tmp_path / "ed", "ed", "ed25519", "ed25519", "ed25519",
                               label="Ed25519")
    out = tmp_path / "fit"
    with refservers.openssl_server(ed, log_dir=tmp_path) as srv:
        res = run_driver("fit", ec.hostport, srv.hostport, "--sni", "localhost", "--ca",
                         pki.ec.root.pem, "--ca", ed.root.pem, "--out", out, timeout=300)
    assert res.returncode == 38, res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith(f"tlsfit: server 2 ({srv.hostport}): "), last
    assert "ed25519" in last and f"server 1 ({ec.hostport}) alone could be served" in last
    assert not (out / "tls_config.h").exists()


def test_an_identity_measure_cannot_present_is_refused(monkeypatch):
    def measure_without_client(config_path, target, host, port, sni=None, ca=None, *,
                               line=None, proof=None):
        raise AssertionError("not reached")
    monkeypatch.setattr(search.measure_mod, "measure", measure_without_client)
    with pytest.raises(TlsfitError) as info:
        search.client_kwargs(device.ClientFiles(Path("d.pem"), Path("d.key")))
    assert info.value.code == 2 and "cannot present one yet" in info.value.message
    assert search.client_kwargs(None) == {}
