"""`tlsfit replay` of the shipped DTLS profiles (issue 28): the replica serves DTLS 1.2
over UDP (tool/replay/dtls.c), so gen and verify --profile work offline as for TCP.

Each servable DTLS profile's replica is probed over UDP and must give the profile's
facts back (test_replay.mismatches, the DTLS facts the replica reproduces too), except
what its `differences` name; ONE header for three of them (certificates, a PSK, CoAP)
is verified offline against their replicas; a Connection ID and a PSK-only profile
without the key are refused with exit 48 and one line.

The lab PSK (profiles/make/refprofiles.LAB_PSK) is written to build/ -- a fixed path,
so the header (which names the key file) and its verify build are the same every run.
"""
import json
import sys

import pytest

from conftest import REPO, run_tlsfit, write_shared
from test_replay import mismatches, unexplained
from tlsfit.core import pskkey
from tlsfit.core.errors import REPLAY
from tlsfit.lab import replica
from tlsfit.profile import library

sys.path.insert(0, str(REPO / "profiles" / "make"))
import refprofiles  # noqa: E402

IDENTITY, KEY = refprofiles.LAB_PSK
SERVABLE = ["openssl-dtls", "openssl-dtls-psk", "gnutls-serv-udp", "coap-server-psk"]
# The DTLS facts a replica reproduces (tool/replay/dtls.c), compared exactly.
DTLS_EXACT = ("version", "transport", "hello_verify", "cookie_len", "connection_id")


@pytest.fixture(scope="module")
def key_file():
    return write_shared(REPO / "build" / "test-dtls-lab.key", KEY)


def _psk_args(key_file):
    return ("--psk-identity", IDENTITY, "--psk-key-file", key_file.relative_to(REPO))


def _dtls_mismatches(orig, probed, mtu_kept):
    """The DTLS facts the replica reproduces; the datagram size when it kept to an MTU
    (an MTU-bound server, lab/replica/dgram.py)."""
    a, b = orig["dtls"], probed["dtls"]
    out = [f"dtls.{k}: {a[k]!r} != {b[k]!r}" for k in DTLS_EXACT if a[k] != b[k]]
    if mtu_kept and b["max_datagram_len"] > a["max_datagram_len"]:
        out.append(f"dtls.max_datagram_len: {a['max_datagram_len']} < {b['max_datagram_len']}")
    return out


@pytest.mark.server
@pytest.mark.parametrize("name", SERVABLE)
def test_probe_of_the_dtls_replica_gives_the_profile_back(name, prober, key_file, tmp_path):
    orig = json.loads(library.resolve(name).read_text())
    psk = pskkey.Psk(IDENTITY, KEY) if orig.get("psk") else None
    with replica.serving(library.resolve(name), psk=psk) as r:
        assert r.dtls
        args = ["probe", "--dtls", "--timeout", "2", r.hostport, "--sni", r.sni, "--json"]
        if r.ca_file:
            args += ["--ca", r.ca_file, "--no-system-store"]
        if psk:
            args += _psk_args(key_file)
        proc = run_tlsfit(prober, tmp_path / "state", *args, timeout=120)
    assert proc.returncode == 0, proc.stderr
    probed = json.loads(proc.stdout)
    found = mismatches(orig, probed) + _dtls_mismatches(orig, probed,
                                                        "--mtu" in r.plan.engine_args)
    assert unexplained(found, r.differences) == [], (name, found, r.differences)
    if psk:
        assert probed["psk"]["tls12_suites"] == orig["psk"]["tls12_suites"]


@pytest.fixture(scope="module")
def offline(prober, key_file, tmp_path_factory):
    """ONE header for openssl-dtls (certificates), openssl-dtls-psk and coap-server-psk,
    verified against the replica of each: one verify build."""
    d = tmp_path_factory.mktemp("replay-dtls")

    def tlsfit(*args):
        return run_tlsfit(prober, d / "state", *args, timeout=300)
    header = d / "dtls.h"
    out = {"gen": tlsfit("gen", "openssl-dtls", "openssl-dtls-psk", "coap-server-psk",
                         *_psk_args(key_file), "-o", header)}
    out["cert"] = tlsfit("verify", "--config", header, "--profile", "openssl-dtls", "--json")
    for name in ("openssl-dtls-psk", "coap-server-psk"):
        out[name] = tlsfit("verify", "--config", header, "--profile", name,
                           *_psk_args(key_file), "--json")
    return out


def _verified(proc):
    assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr
    res = json.loads(proc.stdout)
    assert (res["ok"], res["version"]) == (True, "DTLSv1.2")
    return res


@pytest.mark.server
def test_gen_and_verify_offline_with_certificates(offline):
    assert offline["gen"].returncode == 0, offline["gen"].stderr
    res = _verified(offline["cert"])
    assert "_ECDSA_" in res["ciphersuite"] and res["verify_flags"] == 0
    assert res["proof"] == "no-alert" and res["proof_result"]["outcome"] == "quiet"
    assert "against a replica of openssl-dtls" in offline["cert"].stderr


@pytest.mark.server
def test_verify_offline_with_the_psk(offline):
    res = _verified(offline["openssl-dtls-psk"])
    assert res["ciphersuite"] == "TLS_PSK_WITH_AES_128_CCM_8"       # s_server's one suite
    assert res["psk_identity"] == IDENTITY


@pytest.mark.server
def test_the_coap_replica_answers_the_coap_proof(offline):
    """coap-server was probed on 5684: the replica answers CoAP like it."""
    res = _verified(offline["coap-server-psk"])
    assert res["proof"] == "coap-content" and res["proof_result"]["outcome"] == "accepted"
    assert res["proof_result"]["reply_hex"].startswith("60457f5a")     # ACK 2.05, its msg ID


@pytest.mark.server
@pytest.mark.parametrize("name, words", [
    ("mbedtls-ssl_server2-dtls-cid", "dtls.connection_id: the server uses a Connection ID"),
    ("openssl-dtls-psk", "the server authenticates by a pre-shared key only: give "
                         "--psk-identity and --psk-key-file"),
])
def test_replay_refuses_what_it_cannot_serve_in_one_line(name, words, run_driver):
    proc = run_driver("replay", name, timeout=60)
    assert proc.returncode == REPLAY, proc.stderr
    assert proc.stderr.startswith(f"tlsfit: {words}") and proc.stderr.count("\n") == 1
    assert proc.stdout == ""


def test_plan_of_a_dtls_profile():
    gnutls = library.resolve("gnutls-serv-udp")
    args = list(replica.plan(json.loads(gnutls.read_text())).engine_args)
    assert args[args.index("--cookie-len") + 1] == "16"          # GnuTLS's cookie
    assert "--dtls" in args
    # gnutls-serv fits its Certificate in one datagram (it fragments only for the probe's
    # max_fragment_length): no --mtu; s_server -listen keeps to OpenSSL's 256-byte floor
    assert "--mtu" not in args
    ossl = replica.plan(json.loads(library.resolve("openssl-dtls").read_text())).engine_args
    assert ossl[list(ossl).index("--mtu") + 1] == "228"
    plain = replica.plan(json.loads(gnutls.read_text()))
    keyed = replica.plan(json.loads(gnutls.read_text()), psk_given=True)
    suites = lambda p: p.engine_args[list(p.engine_args).index("--suites12") + 1]  # noqa: E731
    assert "00A8" not in suites(plain) and "00A8" in suites(keyed)    # PSK-AES128-GCM
    assert any(d.startswith("ciphersuites: the PSK suites are left out") for d in
               plain.differences)
