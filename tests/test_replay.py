"""`tlsfit replay` and lab.replica: a local replica of a profiled server.

The acceptance test probes the replica of every profile at hand (the fixtures, the
shipped library in profiles/, and profiles probed here from a real mosquitto with a
client-certificate request and a real nginx) and checks the probe gives the profile's
facts back, field by field -- except subjects, serials, dates, key and signature bytes
and the address; sizes within a few bytes (ECDSA signatures vary).  A fact the
replica names in its `differences` may differ, and only then.  One `fit --profile`
without a host proves a header against a replica on the target.
"""
import json
import os
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from conftest import DEBIAN_PYTHON, REPO, default_stop_signals
from tlsfit.core.errors import PROFILE, REPLAY, TlsfitError
from tlsfit.lab import refservers, replica
from tlsfit.profile import model

# Profiles the current prober wrote (tests/fixtures/profile-v1.json is the schema's
# sample from an older prober -- other step names, the chain from TLS 1.2 -- so a
# probe of its replica by today's prober differs in how it was probed, not what).
FIXTURES = sorted(p for p in (REPO / "tests" / "fixtures" / "compat").glob("*.json")
                  if not p.name.endswith(".shape.json"))
# The TCP ones: the DTLS profiles' replicas are probed over UDP in test_replay_dtls.py.
SHIPPED = sorted(p for p in (REPO / "profiles").glob("*.json")
                 if not json.loads(p.read_text()).get("dtls"))
SIZE_SLACK = 4                  # bytes per certificate (an ECDSA signature varies by 1-2)
RECORD_PACKING_SLACK = 16       # bytes: a small handshake message packed into the largest record
# The facts compared exactly (top-level keys of the profile).
EXACT = ("versions", "ciphersuites", "server_preference", "groups", "group_preferred",
         "key_exchange", "signature_algorithms", "signs_with_unoffered_scheme",
         "chain_from", "chain_complete", "chain_path", "chain_unused", "extensions",
         "client_cert_requested")
CERT_EXACT = ("key", "signature_algorithm", "signature_hash", "signature_oid", "is_ca")
RECORD_SIZES = ("max_record_len", "max_plaintext_len", "max_handshake_msg_len",
                "certificate_msg_len")


def _cert_mismatches(where, a, b):
    out = [f"{where}.{k}: {a.get(k)!r} != {b.get(k)!r}" for k in CERT_EXACT
           if a.get(k) != b.get(k)]
    if abs((a.get("der_len") or 0) - (b.get("der_len") or 0)) > SIZE_SLACK:
        out.append(f"{where}.der_len: {a.get('der_len')} != {b.get('der_len')}")
    return out


def mismatches(orig, probed):
    """Every fact of `orig` the probe of its replica does not give back, as
    "FIELD: recorded != probed" (FIELD as the replica's differences name them)."""
    ca, cb = orig.get("chain") or [], probed.get("chain") or []
    # A profile from before chain_path (schema: read as the whole chain, nothing unused)
    # or signs_with_unoffered_scheme: the facts it has are compared.
    orig = {"chain_path": list(range(len(ca))), "chain_unused": [], **orig}
    # extensions: the facts the profile has (alpn_offered/alpn_required came later in v1)
    probed = {**probed, "extensions": {k: v for k, v in probed["extensions"].items()
                                       if k in orig.get("extensions", {})}}
    out = [f"{k}: {orig.get(k)!r} != {probed.get(k)!r}" for k in EXACT
           if k in orig and orig.get(k) != probed.get(k)]
    if len(ca) != len(cb):
        out.append(f"chain: {len(ca)} certificates != {len(cb)}")
    for i, (a, b) in enumerate(zip(ca, cb)):
        out += _cert_mismatches(f"chain[{i}]", a, b)
    ta, tb = orig.get("trust_anchor"), probed.get("trust_anchor")
    if (ta is None) != (tb is None):
        out.append(f"trust_anchor: {ta is not None} != {tb is not None}")
    elif ta:
        out += _cert_mismatches("trust_anchor", ta, tb)
    ra, rb = orig["records"], probed["records"]
    for k in RECORD_SIZES:
        # The largest record may hold a small message beside the Certificate on the
        # server (mbedTLS ssl_server2 3.6: 9 bytes more than the replica's OpenSSL sends).
        extra = RECORD_PACKING_SLACK if k == "max_record_len" else 0
        if abs(ra[k] - rb[k]) > SIZE_SLACK * max(1, len(ca)) + extra:
            out.append(f"records.{k}: {ra[k]} != {rb[k]}")
    for k in ("mfl_honoured", "record_size_limit", "record_size_limit_honoured"):
        if ra.get(k) != rb.get(k):
            out.append(f"records.{k}: {ra.get(k)!r} != {rb.get(k)!r}")
    qa, qb = orig.get("client_cert_request"), probed.get("client_cert_request")
    if (qa is None) != (qb is None):
        out.append(f"client_cert_request: {qa!r} != {qb!r}")
    elif qa:
        for k in ("signature_algorithms", "cert_types"):
            if qa.get(k) != qb.get(k):
                out.append(f"client_cert_request.{k}: {qa.get(k)!r} != {qb.get(k)!r}")
        if len(qa.get("ca_names") or ()) != len(qb.get("ca_names") or ()):
            out.append("client_cert_request.ca_names: "
                       f"{len(qa.get('ca_names') or ())} != {len(qb.get('ca_names') or ())}")
    # Every step that succeeded on the server succeeds on its replica (a step that failed
    # there -- ssl_server2 dropping a TLS 1.2 group probe -- need not fail again).
    failed = [k for k, v in orig["steps"].items() if v["status"] == "ok" and
              (probed["steps"].get(k) or {}).get("status") != "ok"]
    if failed:
        out.append(f"steps: {failed} failed on the replica")
    return out


def unexplained(found, differences):
    """The mismatches whose field no difference line names."""
    named = tuple(d.split(":", 1)[0] for d in differences)
    return [m for m in found if not m.split(":", 1)[0].startswith(named)]


def probe_replica(run_probe, r):
    res = run_probe(r.hostport, "--sni", r.sni, "--ca", r.ca_file, "--no-system-store")
    assert res.returncode == 0, res.explain()
    return res.profile


def check_replays(path, run_probe):
    orig = model.load(path)
    with replica.serving(path) as r:
        assert r.host == "127.0.0.1"
        probed = probe_replica(run_probe, r)
    found = mismatches(orig, probed)
    assert unexplained(found, r.differences) == [], (path.name, found, r.differences)
    return r, found


# ------------------------------------------------------------ field by field

@pytest.mark.parametrize("path", FIXTURES + SHIPPED, ids=lambda p: p.name)
def test_probe_of_the_replica_gives_the_profile_back(path, run_probe):
    r, found = check_replays(path, run_probe)
    if path.name == "gnutls-rsa-12.json":
        # gnutls acknowledges record_size_limit; OpenSSL 3.0 has none: named, and seen.
        assert found == ["records.record_size_limit: 16384 != None",
                         "records.record_size_limit_honoured: True != None"], found
        assert any(d.startswith("records.record_size_limit:") for d in r.differences)


def _live(kind, pki, logs, tmp_path):
    """A real server on 127.0.0.1 and the chain it serves."""
    if kind == "openssl-sends-root":
        sent = tmp_path / "inter-and-root.pem"
        sent.write_bytes(pki.ec.inter.pem.read_bytes() + pki.ec.root.pem.read_bytes())
        return refservers.openssl_server(pki.ec, log_dir=logs, chain_file=sent), pki.ec
    if kind == "mosquitto-mtls":
        return refservers.mosquitto_server(pki.ec, require_certificate=True,
                                           cafile=pki.client_ca.pem, log_dir=logs), pki.ec
    if kind == "nginx":
        return refservers.nginx_server(pki.rsa, log_dir=logs), pki.rsa
    if kind == "openssl-ed25519":
        ed = refservers.make_chain(tmp_path, "ed", "ed25519", "ed25519", "ed25519",
                                   label="Ed25519")
        return refservers.openssl_server(ed, "-tls1_3", log_dir=logs), ed
    if kind == "openssl-dhe":
        return refservers.openssl_server(pki.rsa, "-tls1_2", "-cipher",
                                         "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384",
                                         log_dir=logs), pki.rsa
    # s_server asking for a certificate, naming its client CA
    return refservers.openssl_server(pki.rsa, "-verify", "1", "-CAfile", pki.client_ca.pem,
                                     log_dir=logs), pki.rsa


@pytest.mark.parametrize("kind", ["mosquitto-mtls", "nginx", "openssl-client-ca",
                                  "openssl-dhe", "openssl-sends-root", "openssl-ed25519"])
def test_replica_of_a_probed_server(kind, pki, server_logs, run_probe, tmp_path):
    server, chain = _live(kind, pki, server_logs, tmp_path)
    with server as srv:
        res = run_probe(srv.hostport, "--sni", "localhost", "--ca", chain.root.pem)
    assert res.returncode == 0, res.explain()
    doc = res.profile
    path = tmp_path / f"{kind}.json"
    model.save(doc, path)
    r, found = check_replays(path, run_probe)
    assert found == [], found
    if kind == "openssl-ed25519":
        assert [c["key"]["type"] for c in doc["chain"]] == ["ed25519", "ed25519"]
    if kind == "openssl-sends-root":
        # the root is sent: the replica sends its own root, which the probe takes as anchor
        assert doc["trust_anchor"]["source"] == "sent" and len(doc["chain"]) == 3
    if kind == "openssl-dhe":
        # DHE only: the replica's DH group has the recorded size (key_exchange above)
        assert doc["key_exchange"]["TLSv1.2"] == {"dh_bits": 2048}
        assert "--dh-bits" in replica.plan(doc).engine_args
    elif kind in ("mosquitto-mtls", "openssl-client-ca"):
        assert doc["client_cert_requested"] is True
        assert doc["client_cert_request"]["signature_algorithms"]
        assert any(d.startswith("client_cert_request:") for d in r.differences)
    if kind == "openssl-client-ca":
        assert doc["client_cert_request"]["ca_names"] == ["CN=tlsfit client CA"]


# ------------------------------------------------------------ the plan (pure)

def _doc(name="openssl-rsa-12-13.json"):
    return json.loads((REPO / "tests" / "fixtures" / "compat" / name).read_text())


def test_plan_keeps_the_recorded_order_and_preference():
    p = replica.plan(_doc())
    args = list(p.engine_args)
    assert args[args.index("--versions") + 1] == "1.2-1.3"
    assert args[args.index("--suites12") + 1] == "C030:C02F:CCA8"
    assert args[args.index("--suites13") + 1] == "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"
    assert "--server-pref" in args
    assert args[args.index("--groups") + 1] == "x25519:secp256r1"
    assert [c.key for c in p.chain] == ["rsa:2048", "rsa:2048"]
    assert [c.der_len for c in p.chain] == [857, 808]
    assert p.anchor.key == "rsa:2048" and not p.anchor_sent
    assert p.differences == () and p.proof.kind == "no-alert"
    client_order = replica.plan(_doc("gnutls-rsa-12.json"))
    assert "--server-pref" not in client_order.engine_args


def test_plan_gives_tls13_its_own_order_and_lists():
    # profile-v1: server order in TLS 1.2, client order in TLS 1.3; TLS 1.3 signs with
    # fewer schemes.  OpenSSL has one switch and one list per context: the replica sets
    # TLS 1.3's per connection (a ClientHello callback).
    doc = json.loads((REPO / "tests" / "fixtures" / "profile-v1.json").read_text())
    args = list(replica.plan(doc).engine_args)
    assert "--server-pref" in args
    assert args[args.index("--tls13-server-pref") + 1] == "0"
    assert args[args.index("--sigalgs") + 1] == "rsa_pss_rsae_sha256:rsa_pkcs1_sha256"
    assert args[args.index("--tls13-sigalgs") + 1] == "rsa_pss_rsae_sha256"
    assert replica.plan(doc).differences == ()


def test_plan_proof_follows_alpn_then_port():
    doc = _doc()
    doc["target"]["port"] = 8883
    assert replica.plan(doc).proof.kind == "mqtt"
    doc["target"]["port"] = 443
    assert replica.plan(doc).proof.kind == "http"
    doc["target"]["port"] = 4433
    doc["extensions"]["alpn"] = "x-amzn-mqtt-ca"
    p = replica.plan(doc)
    assert p.proof.kind == "mqtt" and p.engine_args[-2:] == ("--proof", "mqtt")
    assert "x-amzn-mqtt-ca" in p.engine_args


def test_plan_names_what_openssl_cannot_do():
    doc = _doc()
    doc["records"]["mfl_honoured"] = False
    doc["extensions"]["renegotiation_info"] = False
    doc["extensions"]["session_ticket"] = False
    p = replica.plan(doc)
    fields = [d.split(":", 1)[0] for d in p.differences]
    assert fields == ["records.mfl_honoured", "extensions.renegotiation_info"]
    assert "--no-ticket" in p.engine_args


@pytest.mark.parametrize("change, words", [
    (lambda d: d.update(chain=[], chain_path=[], chain_unused=[], trust_anchor=None,
                        chain_complete=False), "no certificate chain"),
    (lambda d: d["chain"][0]["key"].update(type="dsa", bits=2048, oid="1.2.840.10040.4.1"),
     "leaf key (dsa 2048) cannot be replicated"),
])
def test_plan_refuses_what_it_cannot_serve(change, words):
    doc = _doc()
    change(doc)
    with pytest.raises(TlsfitError) as info:
        replica.plan(doc)
    assert info.value.code == REPLAY and words in info.value.message
    assert "\n" not in info.value.message


# ------------------------------------------------------------ the command

def _driver_env(tmp_path, prober):
    env = dict(os.environ, PYTHONPATH=str(REPO / "tool"), TLSFIT_PROBER=str(prober),
               TLSFIT_STATE_DIR=str(tmp_path / "state"))
    return env


def _python():
    return DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else "python3"


def _engines_on(port):
    """pids of tlsfit-replay processes (a server or its children) told --port port."""
    out = []
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"tlsfit-replay") and \
                any(a == b"--port" and b == str(port).encode() for a, b in zip(cmd, cmd[1:])):
            out.append(int(proc.name))
    return out


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_replay_command_serves_until_stopped(stop, prober, tmp_path):
    # --port: the engine's command line names it, so this test finds its own processes
    port = refservers.free_port()
    fixture = REPO / "tests" / "fixtures" / "compat" / "openssl-ec-13.json"
    proc = subprocess.Popen([_python(), "-m", "tlsfit.cli", "replay", str(fixture), "--json",
                             "--port", str(port)],
                            cwd=REPO, env=_driver_env(tmp_path, prober), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_stop_signals)
    try:
        line = proc.stdout.readline()
        info = json.loads(line)                  # --json: one JSON object, nothing else
        assert set(info) == {"host", "port", "ca_file", "sni", "proof", "differences",
                             "requires_client_cert", "dtls"}
        assert info["dtls"] is False
        assert info["requires_client_cert"] is False
        assert info["host"] == "127.0.0.1" and info["sni"] == "localhost"
        assert info["proof"] == "no-alert" and info["differences"] == []
        assert info["port"] == port and Path(info["ca_file"]).is_file()
        ctx = ssl.create_default_context(cafile=info["ca_file"])
        with socket.create_connection((info["host"], info["port"]), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname=info["sni"]) as tls:
                assert tls.version() == "TLSv1.3"
                assert tls.cipher()[0] == "TLS_AES_256_GCM_SHA384"
        assert _engines_on(port)
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out == ""
    assert "stopped" in err and "Traceback" not in err
    assert _engines_on(port) == []      # no orphan: the server and its children are gone
    with pytest.raises(OSError):
        socket.create_connection((info["host"], info["port"]), timeout=2).close()


def test_replay_command_one_line_errors(run_driver, tmp_path):
    doc = _doc()
    doc["chain"][0]["key"].update(type="dsa", bits=2048, oid="1.2.840.10040.4.1")
    bad = tmp_path / "dsa.json"
    bad.write_text(json.dumps(doc))
    res = run_driver("replay", bad, timeout=60)
    assert res.returncode == REPLAY, res.stderr
    assert res.stderr.startswith("tlsfit: the leaf key (dsa 2048) cannot be replicated")
    assert res.stderr.count("\n") == 1 and res.stdout == ""
    # every suite outside OpenSSL: the engine refuses to start, one line
    doc = _doc("gnutls-rsa-12.json")
    doc["ciphersuites"]["TLSv1.2"] = [{"id": "0xC07D",
                                       "name": "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384"}]
    bad.write_text(json.dumps(doc))
    res = run_driver("replay", bad, timeout=120)
    assert res.returncode == REPLAY, res.stderr
    # (a first run also says it makes the chain, on a line before)
    assert res.stderr.splitlines()[-1] == (
        "tlsfit: the replica did not start: none of the recorded suites can be served; "
        "ciphersuites: 0xC07D is not in this OpenSSL; left out")
    assert "Traceback" not in res.stderr and res.stdout == ""
    res = run_driver("replay", "no-such-profile", timeout=60)
    assert res.returncode == PROFILE and "no-such-profile: no such profile" in res.stderr


def test_replica_answers_the_mqtt_proof(tmp_path):
    doc = _doc("openssl-ec-13.json")
    doc["target"]["port"] = 8883
    path = tmp_path / "broker.json"
    path.write_text(json.dumps(doc))
    with replica.serving(path) as r:
        assert r.proof.kind == "mqtt"
        ctx = ssl.create_default_context(cafile=r.ca_file)
        with socket.create_connection((r.host, r.port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname=r.sni) as tls:
                # CONNECT, protocol MQTT 3.1.1, clean session, keep-alive 60, id "t"
                tls.sendall(bytes.fromhex("100d00044d5154540402003c000174"))
                reply = b""
                deadline = time.monotonic() + 10
                while len(reply) < 4 and time.monotonic() < deadline:
                    reply += tls.recv(4)
        assert reply == bytes.fromhex("20020000")


# ------------------------------------------------------------ fit, offline

@pytest.mark.server          # the replica, started by the driver
def test_fit_profile_without_a_host_fits_the_replica(run_driver, tmp_path):
    # A shipped profile by name (nginx, Mozilla intermediate: ECDSA, TLS 1.2 + 1.3, ALPN
    # http/1.1, so the replica answers the HTTP proof), one target, one candidate.
    from conftest import require_tools
    require_tools()
    name = "nginx-intermediate"
    if not (REPO / "profiles" / f"{name}.json").is_file():
        pytest.fail(f"profiles/{name}.json is not shipped", pytrace=False)
    out = tmp_path / "fit"
    res = run_driver("fit", "--profile", name, "--target", "cortex-m4", "--objective", "rom",
                     "--candidates", "1", "--out", out, "--json", timeout=1200)
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads(res.stdout)
    assert report["replica_of"]["profile"] == str(REPO / "profiles" / f"{name}.json")
    assert report["replica_of"]["differences"] == []
    hs = report["handshake"]
    assert hs["ok"] is True and hs["version"] in ("TLSv1.2", "TLSv1.3")
    assert hs["ciphersuite"] in [s["name"] for s in
                                 model.load(REPO / "profiles" / f"{name}.json")
                                 ["ciphersuites"][hs["version"]]]
    assert hs["proof"] == "http" and hs["proof_reply"].startswith("HTTP/1.1 200")
    assert hs["alert"] is None
    assert report["server"].startswith("127.0.0.1:")
    proto = "MBEDTLS_SSL_PROTO_TLS1_" + hs["version"][-1]
    assert f"#define {proto}" in (out / "tls_config.h").read_text()
    assert "a local replica of" in (out / "report.md").read_text()
    assert json.loads((out / "report.json").read_text()) == report


@pytest.mark.server          # the replica, started by the driver
def test_gen_and_verify_offline_against_a_shipped_broker(run_driver, tmp_path):
    # mosquitto on 8883: the replica answers the MQTT proof verify makes by the port.
    header = tmp_path / "tls_config.h"
    res = run_driver("gen", "mosquitto-tls", "-o", header, timeout=120)
    assert res.returncode == 0, res.stderr
    res = run_driver("verify", "--config", header, "--profile", "mosquitto-tls", "--json",
                     timeout=900)
    assert res.returncode == 0, res.stderr
    result = json.loads(res.stdout)
    assert result["ok"] is True
    assert result["proof_result"]["outcome"] == "accepted"
    assert result["proof_result"]["mqtt_return_code"] == 0
    assert "against a replica of mosquitto-tls on 127.0.0.1:" in res.stderr
    res = run_driver("verify", "--config", header, "--profile", "mosquitto-tls", "--ca", header)
    assert res.returncode == 2 and "brings its own name and trust anchor" in res.stderr
    res = run_driver("fit", "--profile", "mosquitto-tls", "--sni", "x")
    assert res.returncode == 2 and "brings its own name and trust anchor" in res.stderr


@pytest.mark.server          # the replica, started by the driver
def test_verify_offline_against_a_broker_that_requires_a_client_certificate(run_driver,
                                                                             tmp_path):
    """mosquitto-mtls requires a client certificate: offline, the device's own identity
    is presented as it is (the replica accepts any certificate), or, with none given,
    the replica's own (a line says so); both sessions are accepted (MQTT CONNACK 0)."""
    ca = refservers.make_ca(tmp_path, "devca", "tlsfit test device CA")
    dev = refservers.make_client_cert(ca, tmp_path, "device", spec="ec:P-256")
    header = tmp_path / "tls_config.h"
    res = run_driver("gen", "mosquitto-mtls", "--client-cert", dev.pem, "-o", header,
                     timeout=120)
    assert res.returncode == 0, res.stderr
    own = "the replica requests a client certificate and none was given"
    for extra, says_own in ((["--client-cert", dev.pem, "--client-key", dev.key], False),
                            ([], True)):
        res = run_driver("verify", "--config", header, "--profile", "mosquitto-mtls", "--json",
                         *extra, timeout=900)
        assert res.returncode == 0, res.stderr
        result = json.loads(res.stdout)
        assert result["ok"] is True
        assert result["proof_result"]["outcome"] == "accepted"
        assert result["proof_result"]["mqtt_return_code"] == 0
        assert (own in res.stderr) is says_own, res.stderr
