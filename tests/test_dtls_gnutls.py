"""DTLS 1.2 against GnuTLS: `gnutls-serv --udp --echo` with an EC chain AND a PSK
(--pskpasswd), five suites in its own order, one group, one signature scheme and a
400-byte MTU.  One module-scoped server, probed ONCE with the PSK (the profile holds the
certificate facts and the psk block); two headers from that profile -- certificates
(no PSK given to gen) and PSK (no X.509) -- each verified on the host with the echo
proof (gnutls-serv --udp echoes what the client sends).

gnutls-serv --udp ends a handshake it cannot negotiate without an alert (udp-serv.c):
the probe takes the hello with a cookie left unanswered by a server that has handshaken
before for a refusal (docs/probe.md), which is what lets it enumerate this server.

The same server is then fitted on cortex-m4 (`fit --dtls --profile` of that probe, the
echo proof, --jobs 2): gnutls-serv --udp serves one peer at a time, and two sessions at
once wedged it (target/dgramturns.py); the fit's sessions take turns.
"""
import json
import re
from pathlib import Path

import pytest

from conftest import require_tools, run_tlsfit
from tlsfit.lab import refservers, udpservers

IDENTITY = "sensor-7"
KEY = b"gnutls-dtls-psk!"
MTU = 400
PRIORITY = ("NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-DTLS1.2:-CIPHER-ALL:+AES-128-CCM-8"
            ":+CHACHA20-POLY1305:-KX-ALL:+ECDHE-ECDSA:+ECDHE-PSK:+PSK:-GROUP-ALL:+GROUP-SECP256R1"
            ":-SIGN-ALL:+SIGN-ECDSA-SHA256")
# `gnutls-cli --list --priority PRIORITY` (GnuTLS 3.7.9): the suites, in the server's order
SUITES = ["TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", "TLS_PSK_WITH_AES_128_CCM_8",
          "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256"]
PSK_SUITES = [s for s in SUITES if "_PSK_" in s]
ECHO = b"tlsfit-echo"
ECHO_PROOF = f"send:{ECHO.hex()},expect:{ECHO.hex()}"
X509_OPTIONS = ("MBEDTLS_X509_", "MBEDTLS_PK_")


@pytest.fixture(scope="module")
def gnutls(server_logs, tmp_path_factory):
    """The module's one server (and its directory and chain)."""
    require_tools("gnutls-serv")
    d = tmp_path_factory.mktemp("dtls-gnutls")
    chain = refservers.make_chain(d / "pki", "ec", "ec:P-256", "ec:P-256", "ec:P-256",
                                  label="GnuTLS DTLS")
    with udpservers.gnutls_dtls_server(chain, priority=PRIORITY, psk=(IDENTITY, KEY), mtu=MTU,
                                       log_dir=server_logs) as srv:
        yield {"dir": d, "chain": chain, "srv": srv}


@pytest.fixture(scope="module")
def lab(prober, gnutls):
    d, srv = gnutls["dir"], gnutls["srv"]
    key_file = d / "device.key"
    key_file.write_bytes(KEY)
    psk_args = ("--psk-identity", IDENTITY, "--psk-key-file", key_file)
    ca = ("--ca", gnutls["chain"].root.pem)

    def tlsfit(*args):
        return run_tlsfit(prober, d / "state", *args, timeout=300)
    out = {"dir": d, "key_file": key_file}
    out["probe"] = tlsfit("probe", "--dtls", "--timeout", "2", srv.hostport, *ca, *psk_args,
                          "--json")
    (d / "gnutls.json").write_text(out["probe"].stdout)
    out["gen_cert"] = tlsfit("gen", d / "gnutls.json", "-o", d / "cert.h")
    out["gen_psk"] = tlsfit("gen", d / "gnutls.json", *psk_args, "-o", d / "psk.h")
    out["verify_cert"] = tlsfit("verify", "--config", d / "cert.h", srv.hostport, *ca,
                                "--proof", ECHO_PROOF, "--json")
    out["verify_psk"] = tlsfit("verify", "--config", d / "psk.h", srv.hostport, *psk_args,
                               "--proof", ECHO_PROOF, "--json")
    return out


@pytest.fixture(scope="module")
def cert_fit(prober, gnutls, lab):
    """The certificate fit on cortex-m4, of the probe's profile, two headers at a time."""
    _ok(lab["probe"])
    d = gnutls["dir"]
    proc = run_tlsfit(prober, d / "state", "fit", "--dtls", gnutls["srv"].hostport,
                      "--profile", d / "gnutls.json", "--ca", gnutls["chain"].root.pem,
                      "--proof", ECHO_PROOF, "--target", "cortex-m4", "--objective", "rom",
                      "--candidates", "1", "--jobs", "2", "--out", d / "fit", "--json",
                      timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"report": json.loads(proc.stdout), "dir": d / "fit"}


def _ok(proc):
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    return proc


def _profile(lab):
    return json.loads(_ok(lab["probe"]).stdout)


def _suites(text):
    return re.findall(r"^#define MBEDTLS_SSL_CIPHERSUITES (.*?)\s*(?:/\*|$)", text, re.M)[0].split()


@pytest.mark.server
def test_probe_records_the_configured_offer(lab):
    p = _profile(lab)
    assert p["versions"] == ["TLSv1.2"]
    assert [s["name"] for s in p["ciphersuites"]["TLSv1.2"]] == SUITES
    assert p["server_preference"]["TLSv1.2"] is True            # %SERVER_PRECEDENCE
    assert p["groups"]["TLSv1.2"] == ["secp256r1"]
    assert p["signature_algorithms"]["TLSv1.2"] == ["ecdsa_secp256r1_sha256"]
    assert len(p["chain"]) == 2 and p["chain_complete"] is True      # leaf + intermediate
    assert all(step["status"] == "ok" for step in p["steps"].values()), p["steps"]


@pytest.mark.server
def test_probe_records_the_datagram_facts(lab):
    d = _profile(lab)["dtls"]
    assert (d["version"], d["transport"]) == ("DTLSv1.2", "udp")
    # gnutls_dtls_cookie_send: a 16-byte cookie (GnuTLS lib/dtls.c COOKIE_SIZE)
    assert (d["hello_verify"], d["cookie_len"], d["round_trips"]) == (True, 16, 2)
    assert d["connection_id"] is False and d["connection_id_len"] is None
    # --mtu 400: no datagram over it, so the 890-byte Certificate came in pieces
    assert d["max_datagram_len"] <= MTU
    assert d["fragmented"] is True and d["fragmented_across_datagrams"] is True
    records = _profile(lab)["records"]
    assert records["certificate_msg_len"] > MTU


@pytest.mark.server
def test_probe_records_the_psk_suites_of_the_identity(lab):
    psk = _profile(lab)["psk"]
    assert psk["identity"] == IDENTITY
    assert [s["name"] for s in psk["tls12_suites"]] == PSK_SUITES
    assert psk["tls13_modes"] == [] and psk["tls13_suite"] is None


@pytest.mark.server
def test_certificate_header_verifies_with_the_echo_proof(lab):
    _ok(lab["gen_cert"])
    text = (lab["dir"] / "cert.h").read_text()
    suite, = _suites(text)
    assert suite.removeprefix("MBEDTLS_") in SUITES and "_ECDSA_" in suite
    res = json.loads(_ok(lab["verify_cert"]).stdout)
    assert (res["ok"], res["version"], res["ciphersuite"]) == (True, "DTLSv1.2",
                                                               suite.removeprefix("MBEDTLS_"))
    assert res["verify_flags"] == 0 and res["group"] == "secp256r1"
    assert res["largest_record"] <= MTU       # the server kept to its MTU
    assert res["proof"] == "send-expect" and res["proof_result"]["outcome"] == "accepted"
    assert res["proof_result"]["reply_hex"] == ECHO.hex()


@pytest.mark.server
def test_psk_header_has_no_x509_and_verifies_with_the_echo_proof(lab):
    _ok(lab["gen_psk"])
    text = (lab["dir"] / "psk.h").read_text()
    defined = re.findall(r"^#define (\S+)", text, re.M)
    # ECDHE-PSK has forward secrecy and needs no X.509: the default policy's choice
    assert _suites(text) == ["MBEDTLS_TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"]
    assert "MBEDTLS_SSL_PROTO_DTLS" in defined and "TLSFIT_PSK_IDENTITY" in defined
    assert not [o for o in defined if o.startswith(X509_OPTIONS)]
    res = json.loads(_ok(lab["verify_psk"]).stdout)
    assert (res["ok"], res["version"]) == (True, "DTLSv1.2")
    assert res["ciphersuite"] == "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"
    assert res["psk_identity"] == IDENTITY and res["verify_flags"] is None
    assert res["proof_result"]["reply_hex"] == ECHO.hex()


@pytest.mark.server
def test_no_file_the_commands_wrote_holds_the_key(lab):
    build = Path(json.loads(_ok(lab["verify_psk"]).stdout)["build"])
    files = [p for p in lab["dir"].rglob("*") if p.is_file() and p != lab["key_file"]]
    files += [p for p in build.rglob("*") if p.is_file()]
    needles = (KEY, KEY.hex().encode(), KEY.hex().upper().encode())
    assert [p for p in files if any(n in p.read_bytes() for n in needles)] == []


@pytest.mark.server
@pytest.mark.qemu
@pytest.mark.fit
def test_certificate_fit_on_cortex_m4_verifies_with_the_echo_proof(cert_fit):
    r = cert_fit["report"]
    hs = r["handshake"]
    assert (hs["ok"], hs["version"], hs["group"]) == (True, "DTLSv1.2", "secp256r1")
    assert hs["ciphersuite"] in SUITES and "_ECDSA_" in hs["ciphersuite"]
    assert hs["proof"] == "send-expect" and ECHO.hex() in hs["proof_reply"]
    # the cookie exchange, ServerHello..Done, CCS+Finished; no datagram over --mtu
    dtls = r["dtls"]
    assert (dtls["hello_verify_requests"], dtls["round_trips"]) == (1, 3)
    assert dtls["largest_datagram_from_server"] <= MTU
    base = r["baseline"]["handshake"]
    # mbedTLS's default offers every suite: %SERVER_PRECEDENCE picks the server's first
    assert (base["ok"], base["ciphersuite"]) == (True, SUITES[0])
    assert r["rom_tls_bytes"] < r["baseline"]["rom_tls_bytes"]
    header = (cert_fit["dir"] / "tls_config.h").read_text()
    assert "#define TLSFIT_DTLS 1" in header and "PSK" not in _suites(header)[0]
