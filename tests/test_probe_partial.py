"""Issue 16, parts 2 and 3: a step that fails keeps the rest of the profile; time and
records are bounded.

Each peer is a minimal TLS 1.2 server on 127.0.0.1 (tests/hostile.py tls12_peer): it
accepts TLS 1.2 with TLS_RSA_WITH_AES_128_GCM_SHA256 only, so the versions and suites
steps succeed and only the steps that read the server's flight (handshake.TLSv1.2,
max_fragment_length, record_size_limit) meet the hostile part.  Every case asserts the
steps named, their code and reason, the fields kept, and that the profile validates
(run_probe loads it through tlsfit.profile.model).
"""
import base64
import json
import os
import re
import signal
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from conftest import DEBIAN_PYTHON, REPO, profile_error, require_tools
from hostile import (CCS_RECORD, SERVER_HELLO_DONE, HostilePeer, certificate, drain_until_closed,
                     records, tls12_peer)
from tlsfit.profile import model, summary

FLIGHT_STEPS = ("handshake.TLSv1.2", "max_fragment_length", "record_size_limit")
SUITE = [{"id": "0x009C", "name": "TLS_RSA_WITH_AES_128_GCM_SHA256"}]
UNDECODABLE = b"\x30\x03\x02\x01\x05"        # a DER SEQUENCE holding an INTEGER: no certificate


# ------------------------------------------------------------------ certificates

def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """DER certificates the prober's schema has no name for: an X25519 key (signed by an
    EC CA), an Ed448 key, an ECDSA signature with SHA3-256; and the CA."""
    require_tools("openssl")
    d = tmp_path_factory.mktemp("odd-certs")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Partial CA", "-days", "30",
             cwd=d)
    _openssl("genpkey", "-algorithm", "X25519", "-out", "x.key", cwd=d)
    _openssl("pkey", "-in", "x.key", "-pubout", "-out", "x.pub", cwd=d)
    _openssl("req", "-new", "-key", "ca.key", "-subj", "/CN=x25519 leaf", "-out", "x.csr", cwd=d)
    _openssl("x509", "-req", "-in", "x.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-force_pubkey", "x.pub", "-out", "x25519.pem", "-days", "30", cwd=d)
    _openssl("req", "-x509", "-newkey", "ed448", "-nodes", "-keyout", "e.key",
             "-out", "ed448.pem", "-subj", "/CN=ed448 leaf", "-days", "30", cwd=d)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "s.key", "-out", "sha3.pem", "-subj", "/CN=sha3 leaf", "-days", "30",
             "-sha3-256", cwd=d)
    return {name: ssl.PEM_cert_to_DER_cert((d / f"{name}.pem").read_text())
            for name in ("ca", "x25519", "ed448", "sha3")}


# -------------------------------------------------------------------- flights

def sends_chain(ders):
    def flight(conn):
        conn.sendall(records(certificate(ders) + SERVER_HELLO_DONE))
        drain_until_closed(conn, limit=5)
    return flight


def big_certificate(conn):
    """A Certificate message of 300,006 bytes (one 300,000-byte entry), all of it sent."""
    conn.sendall(records(certificate([b"\x30" + bytes(299_999)]) + SERVER_HELLO_DONE))
    drain_until_closed(conn, limit=5)


def declares_16_mib(conn):
    """A Certificate header declaring 2^24 - 1 bytes, then 100 of them."""
    conn.sendall(records(b"\x0b\xff\xff\xff" + bytes(100)))
    drain_until_closed(conn, limit=5)


def silent_after_hello(conn):
    drain_until_closed(conn, limit=10)


def ccs_every(interval):
    """One ChangeCipherSpec record every `interval` seconds (for at most 20 s): with
    interval well under --timeout every read is answered, only the per-connection
    deadline (2 x --timeout) ends the connection."""
    def flight(conn):
        for _ in range(int(20 / interval)):
            conn.sendall(CCS_RECORD)
            time.sleep(interval)
    flight.__name__ = f"ccs_every_{interval}s"
    return flight


def a_million_ccs(conn):
    chunk = CCS_RECORD * 10_000
    for _ in range(100):
        conn.sendall(chunk)


def endless_status_messages(conn):
    """CertificateStatus messages (empty, 4 bytes each), 4096 per record, record after
    record: the prober skips them, so only the cap on messages per connection ends it."""
    record = records(b"\x16\x00\x00\x00" * 4096)
    for _ in range(200):
        conn.sendall(record)


def peer(flight):
    return HostilePeer(tls12_peer(flight), lifetime=90)


def probe(run_probe, flight, *args):
    with peer(flight) as p:
        res = run_probe(p.hostport, "--timeout", "1", *args, timeout=90)
    assert p.errors == [], p.errors
    assert res.returncode == 0, res.explain()
    assert res.stderr == "", res.explain()
    return res.profile


def failed(doc):
    return {name: step for name, step in doc["steps"].items() if step["status"] != "ok"}


# After two connections in a row end at a timeout the probe opens no more: the steps
# after them that would connect are recorded as skipped.
SKIPPED_REASON = ("skipped: the 2 connections before it ended at a timeout, so the probe opened "
                  "no more")
SKIPPED_AFTER_TIMEOUTS = ("record_size_limit", "alpn", "resumption.TLSv1.2")


def assert_only_flight_steps_failed(doc, code, error, reason):
    """The flight steps failed with (code, error, reason: a string or a compiled pattern),
    every other step succeeded, and what they learnt is kept.  When they failed at a
    timeout, the first two did and the connecting steps after them were skipped."""
    bad = failed(doc)
    flight = FLIGHT_STEPS
    if error == "TF_ERR_TIMEOUT":
        flight = FLIGHT_STEPS[:2]
        for name in SKIPPED_AFTER_TIMEOUTS:
            assert bad.pop(name, None) == {"status": "error", "code": 12, "error": "TF_ERR_TIMEOUT",
                                           "reason": SKIPPED_REASON}, doc["steps"]
    assert sorted(bad) == sorted(flight), doc["steps"]
    for name in flight:
        step = bad[name]
        assert (step["code"], step["error"]) == (code, error), (name, step)
        if isinstance(reason, str):
            assert step["reason"] == reason, (name, step)
        else:
            assert reason.fullmatch(step["reason"]), (name, step)
    assert doc["steps"]["versions"] == {"status": "ok"}
    assert doc["steps"]["ciphersuites.TLSv1.2"] == {"status": "ok"}
    assert doc["versions"] == ["TLSv1.2"]
    assert doc["ciphersuites"] == {"TLSv1.2": SUITE}
    assert doc["chain"] == [] and doc["chain_from"] is None
    assert doc["chain_path"] == [] and doc["chain_unused"] == []
    assert doc["trust_anchor"] is None and doc["chain_complete"] is False
    assert doc["key_exchange"] == {"TLSv1.2": None}
    assert doc["records"]["certificate_msg_len"] == 0
    assert doc["extensions"]["extended_master_secret"] is None


# ------------------------------------------------- a failed step keeps the rest

def test_certificate_over_256_kib_fails_only_its_steps(run_probe):
    doc = probe(run_probe, big_certificate)
    assert_only_flight_steps_failed(
        doc, 15, "TF_ERR_MALFORMED",
        "handshake message 11 declares 300006 bytes, over the 262144-byte limit")


def test_declared_16_mib_handshake_fails_only_its_steps(run_probe):
    doc = probe(run_probe, declares_16_mib)
    assert_only_flight_steps_failed(
        doc, 15, "TF_ERR_MALFORMED",
        "handshake message 11 declares 16777215 bytes, over the 262144-byte limit")


def test_silence_after_server_hello_fails_only_its_steps(run_probe):
    doc = probe(run_probe, silent_after_hello)
    assert_only_flight_steps_failed(doc, 12, "TF_ERR_TIMEOUT",
                                    "no answer within 1000 ms (waiting for a record header)")


def test_undecodable_chain_certificate_is_kept_as_such(run_probe, certs):
    doc = probe(run_probe, sends_chain([certs["sha3"], UNDECODABLE]))
    assert failed(doc) == {}
    assert doc["chain_from"] == "TLSv1.2"
    assert doc["chain"][1] == {
        "decoded": False, "subject": "", "issuer": "",
        "key": {"type": "unknown", "bits": 0, "curve": None, "oid": None},
        "signature_algorithm": "", "signature_hash": "unknown", "signature_oid": None,
        "not_before": None, "not_after": None, "serial": None, "san": [], "is_ca": False,
        "der_len": 5, "der_b64": base64.b64encode(UNDECODABLE).decode()}
    assert doc["chain"][0]["subject"] == "CN=sha3 leaf"
    assert "decoded" not in doc["chain"][0]
    assert doc["chain_path"] == [0] and doc["chain_unused"] == [1]
    assert doc["records"]["certificate_msg_len"] == 4 + 3 + 3 + len(certs["sha3"]) + 3 + 5
    assert ("  [1] (not decodable: 5 B of DER the prober's decoder rejects)  "
            "(not on the path to the anchor)") in summary.format_summary(doc).splitlines()


def test_x25519_key_is_unknown_with_its_oid(run_probe, certs):
    doc = probe(run_probe, sends_chain([certs["x25519"], certs["ca"]]))
    assert failed(doc) == {}
    leaf = doc["chain"][0]
    assert leaf["subject"] == "CN=x25519 leaf" and leaf["issuer"] == "CN=Partial CA"
    assert leaf["key"] == {"type": "unknown", "bits": 255, "curve": None, "oid": "1.3.101.110"}
    assert leaf["signature_algorithm"] == "ecdsa-with-SHA256"
    assert doc["chain_path"] == [0, 1] and doc["trust_anchor"]["source"] == "sent"
    assert "  [0] CN=x25519 leaf  (key of unknown type 1.3.101.110, ecdsa-with-SHA256, " \
        in summary.format_summary(doc)


def test_ed448_key_keeps_its_name(run_probe, certs):
    doc = probe(run_probe, sends_chain([certs["ed448"]]))
    leaf = doc["chain"][0]
    assert leaf["key"] == {"type": "ed448", "bits": 448, "curve": None, "oid": "1.3.101.113"}
    assert (leaf["signature_algorithm"], leaf["signature_hash"], leaf["signature_oid"]) == \
        ("ED448", "", "1.3.101.113")


def test_sha3_signature_hash_is_unknown_with_its_oid(run_probe, certs):
    doc = probe(run_probe, sends_chain([certs["sha3"]]))
    assert failed(doc) == {}
    leaf = doc["chain"][0]
    assert (leaf["signature_algorithm"], leaf["signature_hash"], leaf["signature_oid"]) == \
        ("ecdsa-with-SHA3-256", "unknown", "2.16.840.1.101.3.4.3.10")
    assert leaf["key"]["type"] == "ec" and leaf["key"]["curve"] == "secp256r1"
    assert "ecdsa-with-SHA3-256 (2.16.840.1.101.3.4.3.10)" in summary.format_summary(doc)


# ------------------------------------------------------------------- bounds

def test_ccs_trickle_meets_the_connection_deadline_then_stops_connecting(run_probe):
    """A peer that trickles one record at a time after its ServerHello: the first two
    flight connections end at their deadline (2 x --timeout); the probe then opens no
    more, so the later steps that would connect are skipped rather than each costing
    another deadline, and the peer sees no connection after those two."""
    with peer(ccs_every(0.25)) as p:
        res = run_probe(p.hostport, "--timeout", "1", timeout=90)
        connections = p.connections
    assert res.returncode == 0, res.explain()
    assert_only_flight_steps_failed(
        res.profile, 12, "TF_ERR_TIMEOUT",
        re.compile(r"the connection passed its deadline \(2000 ms: 2 x --timeout\) after "
                   r"\d+ records \(waiting for a record( header)?\)"))
    assert res.profile["stats"]["connections"] == connections


def test_a_million_ccs_records_meet_the_record_cap(run_probe):
    doc = probe(run_probe, a_million_ccs)
    assert_only_flight_steps_failed(doc, 15, "TF_ERR_MALFORMED",
                                    "the server sent more than 4096 records on one connection")


def test_endless_handshake_messages_meet_the_message_cap(run_probe):
    doc = probe(run_probe, endless_status_messages)
    assert_only_flight_steps_failed(
        doc, 15, "TF_ERR_MALFORMED",
        "the server sent more than 64 handshake messages on one connection")


# ------------------------------------------------------------- the driver

def _state(tmp_path):
    return tmp_path / "state"


def test_driver_keeps_a_partial_profile_and_names_the_steps(run_driver, tmp_path):
    with peer(big_certificate) as p:
        proc = run_driver("probe", p.hostport, "--timeout", "1")
    context = f"exit {proc.returncode}\nstderr:\n{proc.stderr}\nstdout:\n{proc.stdout}"
    assert proc.returncode == 0, context
    reason = "handshake message 11 declares 300006 bytes, over the 262144-byte limit"
    assert proc.stderr.splitlines() == [
        "tlsfit: warning: 3 probe steps failed, the rest of the profile is kept: "
        f"handshake.TLSv1.2, max_fragment_length, record_size_limit: {reason} "
        "[TF_ERR_MALFORMED]"], context
    lines = proc.stdout.splitlines()
    assert "chain: not captured (step handshake.TLSv1.2 failed)" in lines, context
    assert f"  step handshake.TLSv1.2 failed: {reason} (TF_ERR_MALFORMED, code 15)" in lines
    doc = model.load(_state(tmp_path) / "last-profile.json")
    assert doc["ciphersuites"] == {"TLSv1.2": SUITE}
    assert sorted(failed(doc)) == sorted(FLIGHT_STEPS)


def test_driver_json_stays_pure_with_failed_steps(run_driver):
    with peer(silent_after_hello) as p:
        proc = run_driver("probe", p.hostport, "--timeout", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert_only_flight_steps_failed(doc, 12, "TF_ERR_TIMEOUT",
                                    "no answer within 1000 ms (waiting for a record header)")
    assert proc.stderr.splitlines() == [
        "tlsfit: warning: 5 probe steps failed, the rest of the profile is kept: "
        "handshake.TLSv1.2, max_fragment_length: no answer within 1000 ms "
        "(waiting for a record header) [TF_ERR_TIMEOUT]; record_size_limit, alpn, resumption.TLSv1.2: "
        f"{SKIPPED_REASON} [TF_ERR_TIMEOUT]"]


def _processes_naming(text):
    """Pids of live processes whose command line holds `text`."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmdline = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            pids.append(int(d.name))
    return pids


def test_driver_deadline_stops_the_probe_and_writes_nothing(run_driver, tmp_path):
    # --timeout 2: each flight connection lasts 4 s (the connection deadline), three of
    # them run in a healthy probe of this peer, so --deadline 3 ends it first.
    with peer(ccs_every(0.5)) as p:
        proc = run_driver("probe", p.hostport, "--timeout", "2", "--deadline", "3")
        leftovers = _processes_naming(p.hostport)
    assert proc.returncode == 46, proc.stderr
    assert proc.stderr.splitlines() == [
        f"tlsfit: {p.hostport}: the probe did not finish within its deadline of 3 s and was "
        "stopped; no profile was written (a slow server: raise --deadline; a server that holds "
        "connections open: lower --timeout)"]
    assert proc.stdout == ""
    assert leftovers == [], "the prober outlived tlsfit probe"
    # nothing in the state directory: no profile, no work directory, no temporary file
    assert [f.name for f in _state(tmp_path).iterdir()] == []


def test_sigterm_during_a_probe_stops_the_prober(prober, tmp_path):
    """SIGTERM to `tlsfit probe` while the prober runs: exit 143, the prober gone at
    once, nothing left in the state directory."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "tool"), TLSFIT_PROBER=str(prober),
               TLSFIT_STATE_DIR=str(_state(tmp_path)))
    with peer(ccs_every(0.25)) as p:
        proc = subprocess.Popen([DEBIAN_PYTHON, "-m", "tlsfit.cli", "probe", p.hostport,
                                 "--timeout", "2"], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # wait until the prober runs (its -o names the state directory); the peer
            # holds each flight connection 4 s, so the probe is still running then
            deadline = time.monotonic() + 20
            while not _processes_naming(f"-o {_state(tmp_path)}") and \
                    time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)
            assert _processes_naming(f"-o {_state(tmp_path)}"), "the prober never started"
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        leftovers = _processes_naming(p.hostport)
    assert proc.returncode == 143, err
    assert err == "tlsfit: stopped by SIGTERM\n" and out == ""
    assert leftovers == []
    assert [f.name for f in _state(tmp_path).iterdir()] == []


@pytest.mark.parametrize("value, why", [
    ("0", "must be between 1 and 3600 seconds: '0'"),
    ("3601", "must be between 1 and 3600 seconds: '3601'"),
    ("soon", "not a whole number of seconds: 'soon'")])
def test_driver_deadline_is_checked(run_driver, value, why):
    proc = run_driver("probe", "127.0.0.1:1", "--deadline", value)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[-1] == (f"tlsfit probe: error: argument --deadline: {why} "
                                            "(see: tlsfit probe --help)")


def test_errors_table_lists_deadline(run_driver):
    proc = run_driver("errors")
    assert proc.returncode == 0
    assert re.search(r"^\s*46\s+TLSFIT_DEADLINE\s+`tlsfit probe`: the whole probe did not "
                     r"finish within --deadline SEC", proc.stdout, re.M), proc.stdout


# ---------------------------------------------------------------- gen refuses

def test_gen_names_the_failed_step(run_driver, tmp_path):
    with peer(declares_16_mib) as p:
        proc = run_driver("probe", p.hostport, "--timeout", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    profile = tmp_path / "partial.json"
    profile.write_text(proc.stdout)
    gen = run_driver("gen", profile, "-o", tmp_path / "tls_config.h")
    assert gen.returncode == 38, gen.stderr
    assert gen.stderr.splitlines() == [
        "tlsfit: the profile has no certificate chain: the probe's step handshake.TLSv1.2 "
        "failed (handshake message 11 declares 16777215 bytes, over the 262144-byte limit); "
        "re-probe the server"]
    assert not (tmp_path / "tls_config.h").exists()


def test_gen_names_an_unknown_key_by_oid(run_driver, tmp_path, certs):
    with peer(sends_chain([certs["x25519"], certs["ca"]])) as p:
        proc = run_driver("probe", p.hostport, "--timeout", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    profile = tmp_path / "x25519.json"
    profile.write_text(proc.stdout)
    gen = run_driver("gen", profile, "-o", tmp_path / "tls_config.h")
    assert gen.returncode == 38, gen.stderr
    assert gen.stderr.splitlines() == [
        'tlsfit: leaf "CN=x25519 leaf" has a key of a type tlsfit does not know (OID '
        '1.3.101.110), which mbedTLS cannot verify a chain with']


def test_gen_refuses_an_undecodable_leaf(run_driver, tmp_path):
    with peer(sends_chain([UNDECODABLE])) as p:
        proc = run_driver("probe", p.hostport, "--timeout", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    profile = tmp_path / "undecodable.json"
    profile.write_text(proc.stdout)
    assert json.loads(proc.stdout)["chain_path"] == [0]
    gen = run_driver("gen", profile, "-o", tmp_path / "tls_config.h")
    assert gen.returncode == 38, gen.stderr
    assert gen.stderr.splitlines() == [
        "tlsfit: chain[0], on the path to the trust anchor, is a certificate the prober could "
        "not decode (docs/profile-schema.md): mbedTLS would have to parse and verify it; "
        "re-probe once the server sends a well-formed certificate"]


# --------------------------------------------------- the validator's new forms

SAMPLE = Path(__file__).parent / "fixtures" / "profile-v1.json"


def _sample():
    return json.loads(SAMPLE.read_text())


def _undecoded(der=UNDECODABLE):
    return {"decoded": False, "subject": "", "issuer": "",
            "key": {"type": "unknown", "bits": 0, "curve": None, "oid": None},
            "signature_algorithm": "", "signature_hash": "unknown", "signature_oid": None,
            "not_before": None, "not_after": None, "serial": None, "san": [], "is_ca": False,
            "der_len": len(der), "der_b64": base64.b64encode(der).decode()}


def test_chain_from_is_null_only_without_a_chain():
    doc = _sample()
    doc["chain_from"] = None
    assert profile_error(doc) == "p.json: field chain_from: expected a string, got null"
    doc.update(chain=[], chain_path=[], chain_unused=[], trust_anchor=None,
               chain_complete=False)
    doc.pop("chain_truncated", None)
    model.validate(doc)


def test_undecoded_certificate_form():
    doc = _sample()
    doc["chain"].append(_undecoded())
    doc["chain_unused"] = sorted(doc.get("chain_unused", []) + [len(doc["chain"]) - 1])
    doc.setdefault("chain_path", list(range(len(doc["chain"]) - 1)))
    model.validate(doc)
    i = len(doc["chain"]) - 1
    bad = json.loads(json.dumps(doc))
    bad["chain"][i]["key"]["type"] = "rsa"
    assert profile_error(bad) == (f'p.json: field chain[{i}].key.type: "rsa" is not one of '
                                  '"unknown"')
    bad = json.loads(json.dumps(doc))
    bad["chain"][i]["decoded"] = "no"
    assert profile_error(bad) == (f'p.json: field chain[{i}].decoded: expected true or false, '
                                  'got the string "no"')
    bad = json.loads(json.dumps(doc))
    bad["chain"][i]["not_after"] = "yesterday"
    assert profile_error(bad) == (f'p.json: field chain[{i}].not_after: "yesterday" is not a '
                                  'UTC time like 2026-11-23T17:30:00Z')
    # a decoded certificate keeps every check: a null OID is refused there
    bad = json.loads(json.dumps(doc))
    bad["chain"][0]["signature_oid"] = None
    assert profile_error(bad) == "p.json: field chain[0].signature_oid: expected a string, " \
        "got null"


def test_step_error_name_is_a_string():
    doc = _sample()
    doc["steps"]["alpn"] = {"status": "error", "reason": "r", "code": 12, "error": 12}
    assert profile_error(doc) == ("p.json: field steps.alpn.error: expected a string, "
                                  "got the integer 12")
    doc["steps"]["alpn"]["error"] = "TF_ERR_TIMEOUT"
    model.validate(doc)
    assert model.failed_steps(doc) == [("alpn", doc["steps"]["alpn"])]
    assert model.describe_failures(doc) == "step alpn failed (r)"


def test_no_orphan_helper_sees_itself():
    """_processes_naming finds a live process (so the orphan check can fail)."""
    marker = f"tlsfit-partial-marker-{os.getpid()}"
    child = subprocess.Popen([DEBIAN_PYTHON, "-c", "import time; print('ready', flush=True); "
                              "time.sleep(30)", marker], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"     # it runs: its argv is in place
        assert child.pid in _processes_naming(marker)
    finally:
        child.kill()
        child.wait()
    child.stdout.close()
    assert child.pid not in _processes_naming(marker)


def test_gen_names_a_failed_suites_step():
    """No suite in any version because the suites step failed: gen's refusal says so."""
    from tlsfit.header import gen
    from tlsfit.header.types import Refusal
    doc = _sample()
    for version in doc["versions"]:
        doc["ciphersuites"][version] = []
    doc["steps"]["ciphersuites.TLSv1.3"] = {
        "status": "error", "reason": "no answer within 5000 ms (waiting for a record header)",
        "code": 12, "error": "TF_ERR_TIMEOUT"}
    model.validate(doc)
    with pytest.raises(Refusal) as info:
        gen.generate(doc)
    assert info.value.code == 38
    assert info.value.message == (
        "mbedTLS 3.6 cannot talk to localhost:4433 under policy default: no suite is known: "
        "the probe's step ciphersuites.TLSv1.3 failed (no answer within 5000 ms (waiting for a "
        "record header)); re-probe the server")


def test_failed_steps_warning_groups_alike_failures(capsys):
    from tlsfit.cli.probe import warn_failed_steps
    warn_failed_steps([])
    assert capsys.readouterr().err == ""
    warn_failed_steps([
        ("handshake.TLSv1.3", {"status": "error", "reason": "a", "code": 12,
                               "error": "TF_ERR_TIMEOUT"}),
        ("alpn", {"status": "error", "reason": "b", "code": 14}),
        ("handshake.TLSv1.2", {"status": "error", "reason": "a", "code": 12,
                               "error": "TF_ERR_TIMEOUT"})])
    assert capsys.readouterr().err == (
        "tlsfit: warning: 3 probe steps failed, the rest of the profile is kept: "
        "handshake.TLSv1.3, handshake.TLSv1.2: a [TF_ERR_TIMEOUT]; alpn: b [code 14]\n")
    warn_failed_steps([("alpn", {"status": "error", "reason": "b", "code": 14})])
    assert capsys.readouterr().err == ("tlsfit: warning: 1 probe step failed, the rest of the "
                                       "profile is kept: alpn: b [code 14]\n")


def test_default_deadline_counts_the_delay():
    from tlsfit.profile import probing as probe_mod
    assert probe_mod.default_deadline(probe_mod.Options()) == 120
    assert probe_mod.default_deadline(probe_mod.Options(delay=500)) == 220
    assert probe_mod.default_deadline(probe_mod.Options(delay=60000)) == 12120


def test_a_signal_while_the_deadline_timer_starts_still_kills_the_prober(monkeypatch, tmp_path):
    """The race behind a flaky SIGTERM test: the signal arrived while the deadline timer's
    thread started, after the prober was spawned, and the prober outlived tlsfit."""
    import threading
    from tlsfit.core import paths
    from tlsfit.profile import probing as probe_mod
    fake = tmp_path / f"fake-prober-{os.getpid()}"
    fake.write_text(f"#!{DEBIAN_PYTHON}\nimport time\ntime.sleep(30)\n")   # one process
    fake.chmod(0o755)
    monkeypatch.setattr(paths, "state_dir", lambda: tmp_path / "state")

    def interrupted(self):
        raise KeyboardInterrupt("SIGTERM")
    monkeypatch.setattr(threading.Timer, "start", interrupted)
    with pytest.raises(KeyboardInterrupt):
        probe_mod.run("127.0.0.1:1", probe_mod.Options(), binary=fake)
    assert _processes_naming(fake.name) == []
    assert [f.name for f in (tmp_path / "state").iterdir()] == []
