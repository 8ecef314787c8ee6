"""DTLS failure paths the probe and verify must end cleanly (issue 28): an unreachable
UDP port, a server that never answers the hello with its cookie, hostile datagrams --
each within its deadline, with one line naming the error and a documented exit code
(probe: tests/test_dtls.py has the first ones; here the rest, and verify's) -- and a
server whose port goes away for a moment between sessions, which the probe's PSK step
(mbedTLS's DTLS client, tool/probe/mbdgram.c) must ride out as the raw steps do.

verify uses the header tests/test_replay_dtls.py builds (the same gen command gives the
same bytes: one cached build for both modules).
"""
import json
import re
import socket
import sys

import pytest

from conftest import REPO, run_tlsfit, write_shared
from hostile_udp import FlappingRelay, UdpPeer, dtls_record, handshake_fragment, \
    hello_verify_request
from tlsfit.core import pskkey
from tlsfit.core.errors import VERIFY
from tlsfit.lab import replica
from tlsfit.profile import library

sys.path.insert(0, str(REPO / "profiles" / "make"))
import refprofiles  # noqa: E402

IDENTITY, KEY = refprofiles.LAB_PSK
TIMEOUT = "1"
PROBE_ERRORS = {15: "TF_ERR_MALFORMED", 27: "TF_ERR_DTLS_COOKIE"}


def _closed_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ the probe

def _hvr_forever(data, i):
    return [hello_verify_request(bytes([i % 256]) * 16)]       # a new cookie each time


def _malformed_hvr(data, i):
    body = b"\xfe\xff" + bytes([40]) + b"\x42" * 8            # cookie length past the end
    return [dtls_record(22, handshake_fragment(3, body, 0), version=0xFEFF)]


def _lying_fragment(data, i):
    """A ServerHello fragment that claims bytes past its message's length."""
    frag = handshake_fragment(2, b"\xfe\xfd" + b"\x00" * 38, 0, offset=0, length=40)
    frag = frag[:9] + (200).to_bytes(3, "big") + frag[12:]     # fragment_length 200
    return [dtls_record(22, frag)]


@pytest.mark.server
@pytest.mark.parametrize("behaviour, code, words", [
    (_hvr_forever, 15, "more than 3 HelloVerifyRequests"),
    (_malformed_hvr, 15, "malformed HelloVerifyRequest"),
    (_lying_fragment, 15, ""),
], ids=["endless-cookies", "malformed-hello-verify", "lying-fragment"])
def test_probe_ends_hostile_datagrams_in_one_line(run_probe, behaviour, code, words):
    with UdpPeer(behaviour) as peer:
        res = run_probe(peer.hostport, "--dtls", "--timeout", TIMEOUT, timeout=30)
    assert res.returncode == code, res.explain()
    line, = res.stderr.splitlines()
    assert re.fullmatch(rf"tlsfit-probe: {re.escape(peer.hostport)}: \S.* "
                        rf"\[{PROBE_ERRORS[code]}\]", line), res.explain()
    assert words in line


# ------------------------------------------------------------------ verify

@pytest.fixture(scope="module")
def header(prober, tmp_path_factory):
    """test_replay_dtls.py's header (same command, same bytes, same cached build)."""
    key = write_shared(REPO / "build" / "test-dtls-lab.key", KEY)
    out = tmp_path_factory.mktemp("dtls-robust") / "dtls.h"
    proc = run_tlsfit(prober, out.parent / "state", "gen", "openssl-dtls", "openssl-dtls-psk",
                      "coap-server-psk", "--psk-identity", IDENTITY, "--psk-key-file",
                      key.relative_to(REPO), "-o", out, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return out


def _verify(prober, header, hostport, tmp_path):
    return run_tlsfit(prober, tmp_path / "state", "verify", "--config", header, hostport,
                      "--timeout", TIMEOUT, "--json", timeout=300)


def _failed(proc):
    assert proc.returncode == VERIFY, proc.stdout + proc.stderr
    res = json.loads(proc.stdout)
    assert res["ok"] is False and res["step"] == "handshake"
    return res


@pytest.mark.server
def test_verify_names_an_unreachable_udp_port(prober, header, tmp_path):
    res = _failed(_verify(prober, header, f"127.0.0.1:{_closed_udp_port()}", tmp_path))
    assert res["error"] == "TLSFIT_UDP_UNREACHABLE"
    assert res["message"].startswith("the UDP port is unreachable")


@pytest.mark.server
@pytest.mark.parametrize("behaviour, words", [
    (lambda data, i: [], "no datagram answered the ClientHello"),
    (lambda data, i: [hello_verify_request(b"\x42" * 16)] if i == 0 else [],
     "bytes but no ServerHello"),
    (lambda data, i: [b"HTTP/1.1 400 Bad Request\r\n\r\n"], "bytes but no ServerHello"),
], ids=["silent", "cookie-then-silence", "text"])
def test_verify_says_why_a_udp_peer_never_handshook(prober, header, tmp_path, behaviour, words):
    with UdpPeer(behaviour) as peer:
        proc = _verify(prober, header, peer.hostport, tmp_path)
    res = _failed(proc)
    assert res["error"] == "MBEDTLS_ERR_SSL_TIMEOUT" and words in res["message"]
    line = run_text(proc)
    assert line.startswith("FAILED at handshake: MBEDTLS_ERR_SSL_TIMEOUT") and words in line


def run_text(proc):
    """The first line `tlsfit verify` prints without --json, from its JSON result."""
    from tlsfit.host.verify import format_result
    return format_result(json.loads(proc.stdout))[0]


# ------------------------------------------------------------------ a flapping port

@pytest.mark.server
def test_psk_step_rides_out_a_port_that_goes_away_between_sessions(prober, tmp_path):
    """Every connection after the first meets an ICMP port unreachable before its first
    answer; the PSK step's mbedTLS connections take it for a lost datagram, as the raw
    steps do, and still find the replica's one suite."""
    key = tmp_path / "device.key"
    key.write_bytes(KEY)
    path = library.resolve("openssl-dtls-psk")
    with replica.serving(path, psk=pskkey.Psk(IDENTITY, KEY)) as r, \
            FlappingRelay(r.hostport) as relay:
        proc = run_tlsfit(prober, tmp_path / "state", "probe", "--dtls", "--timeout", "2",
                          relay.hostport, "--psk-identity", IDENTITY, "--psk-key-file", key,
                          "--json", timeout=120)
        flaps = relay.flaps
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [s["name"] for s in doc["psk"]["tls12_suites"]] == ["TLS_PSK_WITH_AES_128_CCM_8"]
    assert doc["steps"]["psk"]["status"] == "ok"
    assert flaps >= 2           # the port did go away (each connection after the first)
