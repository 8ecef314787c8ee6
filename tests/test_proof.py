"""The proof that the server accepted the session (issue 13.1), and the header's group
list applied by both harnesses (issue 13.5, the harness half).

In TLS 1.3 the client's handshake is over before the server has judged the client;
a broker with `require_certificate true` rejects a client without a certificate only
afterwards, with alert certificate_required (116).  `verify` and `measure` must call
that a failure, for the measured header and the baseline alike, and name the alert;
the broker's own log must show the same rejection.  Real servers on 127.0.0.1:
mosquitto (MQTT CONNECT -> CONNACK), nginx (HTTP HEAD -> status line), openssl
s_server (the no-alert default on its random port).
"""
import argparse
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import require_tools

from test_compat import check_shape
from tlsfit.core import proof as proof_mod
from tlsfit.core.errors import CONFIG, TARGET, USAGE, VERIFY, TlsfitError
from tlsfit.host import verify
from tlsfit.lab import refservers
from tlsfit.target import measure
from tlsfit.target.result import Handshake

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "measure"
TLS13_EC = FIXTURES / "tls13_ecdhe_ecdsa.h"
TLS12_EC = FIXTURES / "tls12_ecdhe_ecdsa.h"
TLS12_EC_228 = FIXTURES / "tls12_ecdhe_ecdsa_228.h"
DEBIAN_PYTHON = "/usr/bin/python3"
PEER_NO_CERT = "peer did not return a certificate"      # OpenSSL's reason, in the broker's log
EC12_ARGS = ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-groups", "P-256")
EC13_ARGS = ("-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-groups", "P-256")


def tlsfit(*args, timeout=300):
    """`python3 -m tlsfit.cli ARGS` -> CompletedProcess."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "tool"), PYTHONDONTWRITEBYTECODE="1")
    python = DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable
    return subprocess.run([python, "-m", "tlsfit.cli", *map(str, args)], cwd=REPO, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


def json_out(proc):
    try:
        return json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"exit {proc.returncode}, no JSON on stdout:\n{proc.stdout}\n{proc.stderr}",
                    pytrace=False)


def explain(doc):
    return json.dumps({k: v for k, v in dict(doc).items() if k != "modules"}, indent=1,
                      default=str)


# ------------------------------------------------------------ --proof text

@pytest.mark.parametrize("text, kind, label", [
    ("mqtt", "mqtt", "mqtt-connack"), ("http", "http", "http"),
    ("no-alert", "no-alert", "no-alert"),
])
def test_parse_named_proofs(text, kind, label):
    p = proof_mod.parse_proof(text)
    assert (p.kind, p.label, p.spec, p.send, p.expect) == (kind, label, text, b"", b"")


def test_parse_send_expect():
    p = proof_mod.parse_proof("send:10020000,expect:2002")
    assert (p.kind, p.label, p.send, p.expect) == ("bytes", "send-expect", b"\x10\x02\x00\x00",
                                                   b"\x20\x02")
    assert p.code == 3 and proof_mod.parse_proof(p.spec) == p
    banner = proof_mod.parse_proof("send:,expect:323230")       # a server that speaks first
    assert banner.send == b"" and banner.expect == b"220"
    assert proof_mod.parse_proof("send:AbCd,expect:eF").send == b"\xab\xcd"


@pytest.mark.parametrize("text, why", [
    ("mqtt5", "expected mqtt, http, no-alert, coap or send:HEX,expect:HEX"),
    ("", "expected mqtt, http, no-alert"),
    ("send:00", "expected send:HEX,expect:HEX"),
    ("send:00,reply:00", "expected send:HEX,expect:HEX"),
    ("send:0,expect:00", "send takes 0 to 1024 bytes"),
    ("send:zz,expect:00", "send takes 0 to 1024 bytes"),
    ("send:00,expect:", "expect takes 1 to 64 bytes"),
    ("send:00,expect:00 11", "expect takes 1 to 64 bytes"),
    ("send:00,expect:" + "00" * 65, "expect takes 1 to 64 bytes"),
    ("send:" + "00" * 1025 + ",expect:00", "send takes 0 to 1024 bytes"),
])
def test_parse_rejects(text, why):
    with pytest.raises(proof_mod.ProofError) as info:
        proof_mod.parse_proof(text)
    assert why in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(argparse.ArgumentTypeError):
        proof_mod.proof_arg(text)


@pytest.mark.parametrize("port, kind", [(8883, "mqtt"), (443, "http"), (8443, "http"),
                                        (4433, "no-alert"), (1883, "no-alert")])
def test_default_follows_the_port(port, kind):
    assert proof_mod.default_proof(port).kind == kind
    assert proof_mod.resolve(None, port).kind == kind
    assert proof_mod.resolve("http", port).kind == "http"


def test_describe_and_alert_names():
    assert proof_mod.alert_text(116) == "certificate_required (116)"
    assert proof_mod.alert_name(255) == "unknown"
    assert proof_mod.describe("mqtt-connack", {"outcome": "accepted", "mqtt_return_code": 5}) \
        == "CONNACK return code 5 (not authorized)"
    assert proof_mod.describe("http", {"outcome": "accepted",
                                       "http_status": "HTTP/1.1 200 OK"}) == "HTTP/1.1 200 OK"
    assert proof_mod.describe("no-alert", {"outcome": "quiet"}) == \
        "no alert and no close within 2 s"


def test_run_params_carry_the_proof(pki):
    ders = measure.read_anchors(pki.ec.root.pem)
    text = measure.run_params_c(ders, "localhost", 0, (1, 2, 3, 4),
                                proof=proof_mod.parse_proof("send:0a0b,expect:0c"))
    assert ".proof_kind = 3u" in text and ".proof_send_len = 2u" in text
    assert "proof_send[2] = {\n    0x0a, 0x0b\n};" in text
    assert ".proof_expect_len = 1u" in text and f".proof_wait_ms = {proof_mod.WAIT_MS}u" in text
    default = measure.run_params_c(ders, "localhost", 0, (1, 2, 3, 4))
    assert ".proof_kind = 0u" in default and ".proof_send_len = 0u" in default


def test_cli_rejects_a_bad_proof_in_one_line():
    for command in (("verify", "--config", TLS13_EC, "127.0.0.1:9"),
                    ("measure", "--config", TLS13_EC, "--target", "cortex-m4",
                     "--server", "127.0.0.1:9")):
        proc = tlsfit(*command, "--proof", "send:zz,expect:00")
        assert proc.returncode == USAGE, proc.stderr
        assert "send takes 0 to 1024 bytes as pairs of hex digits, not 'zz'" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_help_teaches_the_proof():
    for command in ("verify", "measure"):
        out = tlsfit(command, "--help").stdout
        assert "--proof" in out and "send:HEX,expect:HEX" in out and "8883 mqtt" in out


def test_handshake_failure_after_the_handshake_names_the_alert():
    hs = Handshake.from_json({"ok": False, "step": "proof", "error": "E", "proof": "mqtt-connack",
                              "proof_result": {"ok": False, "alert": "certificate_required (116)"}})
    assert hs.failure() == "E after the handshake, proof mqtt-connack (alert " \
                           "certificate_required (116))"
    assert hs.proof == "mqtt-connack" and hs.proof_ok is False


def test_not_trusted_hint_shows_the_command_with_ca():
    cmd = verify.retry_command("my h.h", "broker.example", 8883, "broker.example", "2.28", "mqtt")
    assert cmd == ("tlsfit verify --config 'my h.h' broker.example:8883 --sni broker.example "
                   "--mbedtls 2.28 --proof mqtt --ca ROOT.pem")
    failed = {"ok": False, "verify_flag_names": ["MBEDTLS_X509_BADCERT_NOT_TRUSTED"]}
    hint = verify.not_trusted_hint(failed, None, cmd)
    assert "not in the system store" in hint and hint.endswith(cmd)
    assert verify.not_trusted_hint(failed, "root.pem", cmd) is None         # --ca was given
    assert verify.not_trusted_hint({"ok": False, "verify_flag_names": []}, None, cmd) is None


# ------------------------------------------------------------------ servers

@pytest.fixture(scope="module", autouse=True)
def toolchain():
    require_tools("mosquitto", "nginx")


@pytest.fixture(scope="module")
def broker_wants_cert(pki, server_logs):
    """TLS 1.2 and 1.3, clients must present a certificate issued by the ec root."""
    with refservers.mosquitto_server(pki.ec, require_certificate=True,
                                     log_dir=server_logs) as srv:
        yield srv


@pytest.fixture(scope="module")
def broker12_wants_cert(pki, server_logs):
    with refservers.mosquitto_server(pki.ec, require_certificate=True, tls_version="tlsv1.2",
                                     log_dir=server_logs) as srv:
        yield srv


@pytest.fixture(scope="module")
def broker(pki, server_logs):
    """No client certificate asked for, anonymous clients allowed."""
    with refservers.mosquitto_server(pki.ec, log_dir=server_logs) as srv:
        yield srv


@pytest.fixture(scope="module")
def nginx(pki, server_logs):
    with refservers.nginx_server(pki.ec, log_dir=server_logs) as srv:
        yield srv


def _settled(srv, count):
    """The broker's rejections, once there are `count` (it writes its log as it goes)."""
    deadline = time.monotonic() + 5
    while len(srv.rejections()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return srv.rejections()


# --------------------------------------------------- verify: the false success

def test_verify_tls13_broker_rejection_is_a_failure(pki, broker_wants_cert):
    before = len(broker_wants_cert.rejections())
    proc = tlsfit("verify", "--config", TLS13_EC, broker_wants_cert.hostport, "--sni",
                  "localhost", "--ca", pki.ec.root.pem, "--proof", "mqtt", "--json")
    res = json_out(proc)
    assert proc.returncode == VERIFY, explain(res)
    assert res["ok"] is False and res["step"] == "proof"
    assert res["server_hello"]["version"] == "TLSv1.3"
    assert res["error"] == "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE" and res["code"] == "-0x7780"
    assert res["alert"] == "certificate_required (116)"
    assert res["proof"] == "mqtt-connack"
    assert res["proof_result"]["outcome"] == "alert"
    assert res["proof_result"]["sent_bytes"] == 0        # rejected before the CONNECT
    log = _settled(broker_wants_cert, before + 1)[before:]
    assert len(log) == 1 and PEER_NO_CERT in log[0], broker_wants_cert.log()

    human = tlsfit("verify", "--config", TLS13_EC, broker_wants_cert.hostport, "--sni",
                   "localhost", "--ca", pki.ec.root.pem, "--proof", "mqtt")
    assert human.returncode == VERIFY
    first = human.stdout.splitlines()[0]
    assert first.startswith("FAILED at proof: MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE (-0x7780)")
    assert "alert certificate_required (116)" in first


def test_verify_tls12_broker_rejection_names_the_alert(pki, broker12_wants_cert):
    """TLS 1.2: the server judges the client's certificate before its own Finished,
    so the handshake itself fails; the alert the broker sent is named even though
    mbedTLS was still writing when the broker hung up."""
    before = len(broker12_wants_cert.rejections())
    proc = tlsfit("verify", "--config", TLS12_EC, broker12_wants_cert.hostport, "--sni",
                  "localhost", "--ca", pki.ec.root.pem, "--proof", "mqtt", "--json")
    res = json_out(proc)
    assert proc.returncode == VERIFY, explain(res)
    assert res["step"] == "handshake" and res["server_hello"]["version"] == "TLSv1.2"
    assert res["alert"] == "handshake_failure (40)"
    assert res["proof"] == "mqtt-connack" and res["proof_result"] is None
    log = _settled(broker12_wants_cert, before + 1)[before:]
    assert len(log) == 1 and PEER_NO_CERT in log[0], broker12_wants_cert.log()


def test_verify_broker_accepts_with_connack(pki, broker):
    res = verify.verify(TLS13_EC, "127.0.0.1", broker.port, sni="localhost", ca=pki.ec.root.pem,
                        proof="mqtt")
    assert res.ok, explain(res)
    assert res.version == "TLSv1.3" and res.proof == "mqtt-connack"
    pr = res.proof_result
    assert pr["outcome"] == "accepted" and pr["mqtt_return_code"] == 0
    assert pr["reply_hex"] == "20020000" and pr["sent_bytes"] == 20
    assert pr["server_flight"] is True            # OpenSSL sends NewSessionTickets first
    assert any(" as tlsfit " in ln for ln in broker.connected_clients()), broker.log()
    lines = verify.format_result(res, broker.hostport)
    assert lines[0].startswith("verified: TLSv1.3 TLS_AES_128_GCM_SHA256 secp256r1 "
                               "[proof mqtt-connack: CONNACK return code 0 (connection "
                               "accepted)]")


def test_verify_connack_refusal_still_proves_the_session(pki, server_logs):
    """CONNACK return code 5 (not authorized): the broker accepted the TLS session and
    refused the MQTT client, which is the application's business; the code is reported."""
    with refservers.mosquitto_server(pki.ec, allow_anonymous=False, log_dir=server_logs) as b:
        res = verify.verify(TLS12_EC, "127.0.0.1", b.port, sni="localhost", ca=pki.ec.root.pem,
                            proof="mqtt")
    assert res.ok, explain(res)
    assert res.version == "TLSv1.2"
    assert res.proof_result["mqtt_return_code"] == 5
    assert res.proof_result["server_flight"] is False          # TLS 1.2: nothing to wait for


def test_verify_http_proof_against_nginx(pki, nginx):
    res = verify.verify(TLS13_EC, "127.0.0.1", nginx.port, sni="localhost", ca=pki.ec.root.pem,
                        proof="http")
    assert res.ok, explain(res)
    assert res.proof == "http" and res.proof_result["http_status"] == "HTTP/1.1 200 OK"
    assert any('"HEAD / HTTP/1.1" 200' in ln for ln in nginx.access_log()), nginx.access_log()


def test_verify_send_expect(pki, nginx):
    get = b"GET / HTTP/1.0\r\n\r\n".hex()
    res = verify.verify(TLS12_EC, "127.0.0.1", nginx.port, sni="localhost", ca=pki.ec.root.pem,
                        proof=f"send:{get},expect:{b'HTTP/1.1 200'.hex()}")
    assert res.ok, explain(res)
    assert res.proof == "send-expect" and res.proof_result["sent_bytes"] == 18
    assert bytes.fromhex(res.proof_result["reply_hex"]).startswith(b"HTTP/1.1 200 OK\r\n")
    proc = tlsfit("verify", "--config", TLS12_EC, nginx.hostport, "--sni", "localhost",
                  "--ca", pki.ec.root.pem, "--proof", f"send:{get},expect:{b'HTTP/2'.hex()}",
                  "--json")
    bad = json_out(proc)
    assert proc.returncode == VERIFY and bad["step"] == "proof"
    assert bad["error"] == "TLSFIT_PROOF_MISMATCH" and bad["proof_result"]["outcome"] == "mismatch"


def test_verify_no_alert_default(pki, server_logs):
    """A random port: no-alert.  TLS 1.3: the NewSessionTickets end the wait; TLS 1.2:
    no alert and no close within the window."""
    for args, version, outcome in ((EC13_ARGS, "TLSv1.3", "flight"),
                                   (EC12_ARGS, "TLSv1.2", "quiet")):
        with refservers.openssl_server(pki.ec, *args, log_dir=server_logs) as srv:
            res = verify.verify(TLS13_EC if version == "TLSv1.3" else TLS12_EC, "127.0.0.1",
                                srv.port, sni="localhost", ca=pki.ec.root.pem)
        assert res.ok, explain(res)
        assert res.version == version and res.proof == "no-alert"
        assert res.proof_result["outcome"] == outcome and res.proof_result["sent_bytes"] == 0


def test_verify_proof_timeout(pki, server_logs):
    """openssl s_server -www answers GET only: HEAD gets no reply."""
    with refservers.openssl_server(pki.ec, *EC12_ARGS, log_dir=server_logs) as srv:
        res = verify.verify(TLS12_EC, "127.0.0.1", srv.port, sni="localhost",
                            ca=pki.ec.root.pem, proof="http", timeout=1)
    assert not res.ok and res.step == "proof", explain(res)
    assert res.error == "TLSFIT_PROOF_TIMEOUT" and "--proof" in res.message


def test_verify_without_ca_hints_at_the_command(pki, server_logs):
    """A private root and no --ca: NOT_TRUSTED, and the hint shows the command with --ca."""
    with refservers.openssl_server(pki.ec, *EC13_ARGS, log_dir=server_logs) as srv:
        res = verify.verify(TLS13_EC, "127.0.0.1", srv.port, sni="localhost")
        assert res.step == "handshake" and res.error == "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED"
        assert res.hint == (
            f"the server's root is not in the system store ({verify.SYSTEM_STORE}); if the "
            f"server's chain leads to a private root, name it: tlsfit verify --config "
            f"{TLS13_EC} 127.0.0.1:{srv.port} --sni localhost --ca ROOT.pem")
        human = tlsfit("verify", "--config", TLS13_EC, srv.hostport, "--sni", "localhost")
    assert human.returncode == VERIFY
    assert "  hint: the server's root is not in the system store" in human.stdout


class CloseAfterHandshake:
    """A TLS 1.2 server (Python's ssl) that completes the handshake, then closes the
    connection after `delay` seconds without an alert: what a server that refuses the
    client at the application level may do."""

    def __init__(self, chain, delay=0.3):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
        self.ctx.load_cert_chain(chain.fullchain, chain.leaf.key)
        self.delay = delay
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.handshakes = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.is_set():
            try:
                raw, _ = self.sock.accept()
            except OSError:
                continue
            raw.settimeout(30)
            try:
                conn = self.ctx.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):
                raw.close()
                continue
            self.handshakes += 1
            time.sleep(self.delay)
            os.close(conn.detach())         # the TCP close, no close_notify

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.mark.server     # a TLS server of its own that closes after the handshake
def test_close_after_handshake_fails_the_no_alert_proof(pki):
    """The client sees the close in verify; the firmware cannot (a UART), so measure
    learns it from the relay: the server hung up before the firmware's close_notify."""
    with CloseAfterHandshake(pki.ec) as srv:
        res = verify.verify(TLS12_EC, "127.0.0.1", srv.port, sni="localhost",
                            ca=pki.ec.root.pem)
        r = measure.measure(TLS12_EC, "cortex-m4", "127.0.0.1", srv.port, sni="localhost",
                            ca=pki.ec.root.pem, progress=False)
        handshakes = srv.handshakes
    assert handshakes == 2
    assert not res.ok and res.step == "proof", explain(res)
    assert res.error == "TLSFIT_PROOF_CLOSED" and res.proof_result["outcome"] == "closed"
    hs = r["handshake"]
    assert not r.ok and hs["step"] == "proof", explain(r)
    assert hs["error"] == "TLSFIT_PROOF_CLOSED" and hs["proof_result"]["outcome"] == "closed"
    assert hs["version"] == "TLSv1.2" and hs["proof"] == "no-alert"


# ------------------------------------------------- measure: the false success

def test_measure_tls13_broker_rejection_fails_with_baseline(pki, broker_wants_cert):
    before = len(broker_wants_cert.rejections())
    proc = tlsfit("measure", "--config", TLS13_EC, "--target", "cortex-m4", "--server",
                  broker_wants_cert.hostport, "--sni", "localhost", "--ca", pki.ec.root.pem,
                  "--proof", "mqtt", "--baseline", "--json")
    doc = json_out(proc)
    assert proc.returncode == TARGET, explain(doc)
    check_shape(doc, "measure.shape.json")
    for which in (doc, doc["baseline"]):
        hs = which["handshake"]
        assert hs["ok"] is False and hs["step"] == "proof", explain(which)
        assert hs["version"] == "TLSv1.3"
        assert hs["error"] == "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE"
        assert hs["server_alert"] == {"level": 2, "description": 116,
                                      "name": "certificate_required"}
        assert hs["proof"] == "mqtt-connack" and hs["proof_result"]["outcome"] == "alert"
        assert "alert certificate_required (116)" in hs["message"]
        assert which["handshake_instructions"] > 0        # the handshake itself ran
    log = _settled(broker_wants_cert, before + 2)[before:]
    assert len(log) == 2 and all(PEER_NO_CERT in ln for ln in log), broker_wants_cert.log()
    assert "tlsfit: the handshake on cortex-m4 failed: the server rejected the session " \
           "after the handshake with alert certificate_required (116)" in proc.stderr


def test_measure_tls12_broker_rejection(pki, broker12_wants_cert):
    before = len(broker12_wants_cert.rejections())
    r = measure.measure(TLS12_EC, "cortex-m4", "127.0.0.1", broker12_wants_cert.port,
                        sni="localhost", ca=pki.ec.root.pem, proof="mqtt", progress=False)
    hs = r["handshake"]
    assert not r.ok and hs["step"] == "handshake", explain(r)
    assert hs["server_alert"] == {"level": 2, "description": 40, "name": "handshake_failure"}
    assert hs["proof"] == "mqtt-connack" and hs["proof_result"] is None
    assert r.handshake.alert == "handshake_failure (40)"
    log = _settled(broker12_wants_cert, before + 1)[before:]
    assert len(log) == 1 and PEER_NO_CERT in log[0]


def test_measure_broker_accepts_with_connack(pki, broker):
    r = measure.measure(TLS13_EC, "cortex-m4", "127.0.0.1", broker.port, sni="localhost",
                        ca=pki.ec.root.pem, proof="mqtt", progress=False)
    assert r.ok, explain(r)
    hs = r["handshake"]
    assert hs["version"] == "TLSv1.3" and hs["proof"] == "mqtt-connack"
    pr = hs["proof_result"]
    assert pr["outcome"] == "accepted" and pr["mqtt_return_code"] == 0
    assert pr["reply"] == "CONNACK return code 0 (connection accepted)"
    assert r.handshake.proof_reply == pr["reply"] and r.handshake.proof_ok is True
    assert r["wire"]["bytes_to_server"] > pr["sent_bytes"] == 20
    assert r.heap_peak_bytes > 0 and r.handshake_instructions > 0
    assert "session accepted (proof mqtt-connack): CONNACK return code 0" in \
        "\n".join(measure.format_report(r))


def test_measure_http_proof_against_nginx(pki, nginx):
    r = measure.measure(TLS12_EC, "cortex-m4", "127.0.0.1", nginx.port, sni="localhost",
                        ca=pki.ec.root.pem, proof="http", progress=False)
    assert r.ok, explain(r)
    assert r["handshake"]["proof_result"]["http_status"] == "HTTP/1.1 200 OK"


def test_measure_no_alert_default(pki, server_logs):
    with refservers.openssl_server(pki.ec, *EC13_ARGS, log_dir=server_logs) as srv:
        r = measure.measure(TLS13_EC, "cortex-m4", "127.0.0.1", srv.port, sni="localhost",
                            ca=pki.ec.root.pem, progress=False)
    assert r.ok, explain(r)
    assert r["handshake"]["proof"] == "no-alert"
    assert r["handshake"]["proof_result"]["outcome"] == "flight"


# --------------------------------------------- the header's group list (13.5)

def _with_lines(tmp_path, base, *lines):
    path = tmp_path / "tls_config.h"
    path.write_text(f'#include "{base}"\n' + "".join(f"{ln}\n" for ln in lines))
    return path


GROUPS_384 = ("#define TLSFIT_GROUPS MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, "
              "MBEDTLS_SSL_IANA_TLS_GROUP_NONE")
CURVES_256 = "#define TLSFIT_CURVES MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE"
BOTH_CURVES = ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-groups", "P-256:P-384")


@pytest.fixture(scope="module")
def p384(tmp_path_factory):
    """A P-384 chain: in TLS 1.2 the client's groups also bound the curve of the
    server's ECDSA key, so a P-384-only list needs a P-384 leaf."""
    return refservers.make_chain(tmp_path_factory.mktemp("p384"), "p384", "ec:P-384",
                                 "ec:P-384", "ec:P-384", label="P-384")


@pytest.fixture(scope="module")
def ec12_both(p384, server_logs):
    """TLS 1.2 with P-256 and P-384: the client's first supported group wins."""
    with refservers.openssl_server(p384, *BOTH_CURVES, log_dir=server_logs) as srv:
        yield srv


def test_groups_apply_in_verify(p384, ec12_both, tmp_path):
    plain = verify.verify(TLS12_EC, "127.0.0.1", ec12_both.port, sni="localhost",
                          ca=p384.root.pem)
    assert plain.ok and plain.group == "secp256r1", explain(plain)
    only384 = _with_lines(tmp_path, TLS12_EC, GROUPS_384)
    res = verify.verify(only384, "127.0.0.1", ec12_both.port, sni="localhost", ca=p384.root.pem)
    assert res.ok and res.group == "secp384r1", explain(res)


def test_groups_apply_in_measure(p384, ec12_both, tmp_path):
    only384 = _with_lines(tmp_path, TLS12_EC, GROUPS_384)
    r = measure.measure(only384, "cortex-m4", "127.0.0.1", ec12_both.port, sni="localhost",
                        ca=p384.root.pem, progress=False)
    assert r.ok and r.handshake.group == "secp384r1", explain(r)


@pytest.fixture(scope="module")
def ec12_both_p256(pki, server_logs):
    with refservers.openssl_server(pki.ec, *BOTH_CURVES, log_dir=server_logs) as srv:
        yield srv


def test_curves_apply_in_measure_228(pki, ec12_both_p256, tmp_path):
    """2.28 offers its curves strongest first (P-384 before P-256); the header's list
    turns that round."""
    srv = ec12_both_p256
    plain = measure.measure(TLS12_EC_228, "cortex-m3", "127.0.0.1", srv.port, sni="localhost",
                            ca=pki.ec.root.pem, progress=False, line="2.28")
    assert plain.ok and plain.handshake.group == "secp384r1", explain(plain)
    only256 = _with_lines(tmp_path, TLS12_EC_228, CURVES_256)
    r = measure.measure(only256, "cortex-m3", "127.0.0.1", srv.port, sni="localhost",
                        ca=pki.ec.root.pem, progress=False, line="2.28")
    assert r.ok and r.mbedtls.startswith("2.28."), explain(r)
    assert r.handshake.group == "secp256r1"


def test_group_list_of_the_other_line_is_refused(tmp_path):
    wrong = _with_lines(tmp_path, TLS12_EC, CURVES_256)
    with pytest.raises(TlsfitError) as info:
        verify.ensure_client(wrong, line="3.6")
    assert info.value.code == CONFIG
    assert info.value.message == ("tls_config.h: cannot be verified: TLSFIT_CURVES is the "
                                  "mbedTLS 2.28 group list; mbedTLS 3.x takes TLSFIT_GROUPS "
                                  "(MBEDTLS_SSL_IANA_TLS_GROUP_*)")


# --------------------------------------------------- fit: only accepted sessions count

def test_fit_broker_wanting_a_certificate_fails(pki, broker_wants_cert, run_driver, tmp_path):
    """The false success of issue 13: fit used to exit 0 and write "verified" for a broker
    that rejected every session.  Now no candidate verifies (exit 42), the message names
    the broker's rejection, the broker's log shows it, and no header is written."""
    out = tmp_path / "fit"
    before = len(broker_wants_cert.rejections())
    res = run_driver("fit", broker_wants_cert.hostport, "--sni", "localhost", "--ca",
                     pki.ec.root.pem, "--proof", "mqtt", "--candidates", "1", "--objective",
                     "rom", "--out", out, timeout=900)
    assert res.returncode == 42, res.stderr
    err = res.stderr.strip().splitlines()[-1]
    assert err.startswith(f"tlsfit: {broker_wants_cert.hostport}: no candidate completed a "
                          "verified handshake"), err
    assert "certificate_required (116)" in err and "requires a client certificate" in err, err
    assert len(_settled(broker_wants_cert, before + 1)) > before
    assert not (out / "tls_config.h").exists()


def test_fit_broker_proves_with_connack(pki, broker, run_driver, tmp_path):
    out = tmp_path / "fit"
    res = run_driver("fit", broker.hostport, "--sni", "localhost", "--ca", pki.ec.root.pem,
                     "--proof", "mqtt", "--candidates", "1", "--objective", "rom",
                     "--out", out, "--json", timeout=900)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    hs = report["handshake"]
    assert (hs["ok"], hs["proof"]) == (True, "mqtt-connack"), hs
    assert hs["proof_reply"].startswith("CONNACK return code 0"), hs
    base = report["baseline"]["handshake"]
    assert (base["ok"], base["proof"]) == (True, "mqtt-connack"), base
    md = (out / "report.md").read_text()
    assert "the server accepted the session (proof mqtt-connack: CONNACK return code 0" in md
