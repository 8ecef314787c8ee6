"""Session resumption: verify --resume and measure --resume against openssl s_server on
127.0.0.1, each server configured for one way of resuming (or for none).

The acceptance tests use gen's output (GenOptions(resume=True): the header defines
TLSFIT_RESUME and the options resumption needs); they skip with "needs gen --resume"
while this tree's gen has no such option.  The verify client's own --resume flag is
tested on mbedTLS's default configuration (which has tickets and TLS 1.3's PSK modes).
Until gen --resume exists the one QEMU measurement uses a hand-written header (the
measure fixture's TLS 1.3 header plus what resumption needs); with it, the gen-based
measurement replaces it, so only one QEMU run is ever made.
"""
import json
import subprocess

import pytest

from conftest import require_tools, run_tlsfit
from tlsfit.core import resumption
from tlsfit.core.errors import NOT_RESUMED, USAGE
from tlsfit.fit import resume as fit_resume
from tlsfit.header import gen
from tlsfit.header.types import GenOptions
from tlsfit.lab import refservers
from tlsfit.profile.model import load as load_profile
from tlsfit.target.reconnect import ASK, AskSplitter
from test_measure import EC13_ARGS


TLS12_SESSION_ID = ("-tls1_2", "-no_ticket")
REFUSING = ("-no_cache", "-no_ticket")        # nothing kept, nothing issued
# "GET / HTTP/1.0" and a blank line; s_server -www's reply starts "HTTP" (it ignores HEAD)
GET_PROOF = "send:" + b"GET / HTTP/1.0\r\n\r\n".hex() + ",expect:" + b"HTTP".hex()


# ------------------------------------------------------------------ fixtures

def _serving(pki, server_logs, *args):
    with refservers.openssl_server(pki.ec, *args, log_dir=server_logs) as srv:
        yield srv


@pytest.fixture(scope="module")
def tls13(pki, server_logs):
    """TLS 1.3, OpenSSL's defaults: two tickets after each handshake."""
    yield from _serving(pki, server_logs, *EC13_ARGS)


@pytest.fixture(scope="module")
def tls12(pki, server_logs):
    """TLS 1.2 resuming by session ID only (no ticket)."""
    yield from _serving(pki, server_logs, *TLS12_SESSION_ID)


@pytest.fixture(scope="module")
def refusing(pki, server_logs):
    """TLS 1.3 with no session cache and no tickets: a resumption cannot be accepted."""
    yield from _serving(pki, server_logs, *EC13_ARGS, *REFUSING)


@pytest.fixture(scope="module")
def default36_config(tree36):
    return tree36.path / "include" / "mbedtls" / "mbedtls_config.h"


def _gen_resume_header(prober, srv, pki, tmp_path_factory):
    """gen's header for srv's probed profile, with GenOptions(resume=True)."""
    d = tmp_path_factory.mktemp("gen-resume")
    out = d / "profile.json"
    proc = subprocess.run([str(prober), "--sni", "localhost", "--ca", str(pki.ec.root.pem),
                           "-o", str(out), srv.hostport], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    plan = gen.generate(load_profile(out), GenOptions(line="3.6", resume=True))
    assert hasattr(plan, "text"), plan
    header = d / "tls_config.h"
    header.write_text(plan.text)
    assert resumption.header_resumes(header), "gen --resume must define TLSFIT_RESUME"
    return header


@pytest.fixture(scope="module")
def gen13(prober, tls13, pki, tmp_path_factory):
    return _gen_resume_header(prober, tls13, pki, tmp_path_factory)


@pytest.fixture(scope="module")
def gen12(prober, tls12, pki, tmp_path_factory):
    return _gen_resume_header(prober, tls12, pki, tmp_path_factory)


def _verify(prober, tmp_path, config, srv, pki, *extra):
    """`tlsfit verify --json` (exit status, result document)."""
    proc = run_tlsfit(prober, tmp_path / "state", "verify", "--config", config, srv.hostport,
                      "--sni", "localhost", "--ca", pki.ec.root.pem, "--timeout", "5",
                      "--json", *extra)
    return proc.returncode, json.loads(proc.stdout.splitlines()[-1]), proc


def _assert_resumed(rc, doc, proc, mode):
    assert rc == 0, proc.stdout + proc.stderr
    res = doc["resumption"]
    assert res["mode"] == mode and res["accepted"] is True
    assert set(res["full"]) == set(resumption.FIGURES)
    # what the host cannot count is null, not zero
    assert res["full"]["handshake_instructions"] is None
    assert res["full"]["heap_peak_bytes"] is None
    # the resumed handshake skips the server's certificate
    assert 0 < res["resumed"]["bytes_received"] < res["full"]["bytes_received"]


def _assert_refused(rc, doc, proc):
    assert rc == NOT_RESUMED, proc.stdout + proc.stderr
    assert doc["step"] == "resume" and doc["error"] == "TLSFIT_RESUME_REFUSED"
    assert doc["message"].startswith("the server did not resume the tls13-ticket session")
    assert doc["resumption"]["accepted"] is False
    # the refusal was a full handshake: the certificate came again (the byte counts
    # differ only by the length encodings of the fresh key shares and signature)
    full, resumed = (doc["resumption"][k]["bytes_received"] for k in ("full", "resumed"))
    assert abs(full - resumed) < 16


# -------------------------------------------------- the verify client's --resume

def test_verify_resume_flag_tls13_ticket(prober, tmp_path, default36_config, tls13, pki):
    _assert_resumed(*_verify(prober, tmp_path, default36_config, tls13, pki, "--resume"),
                    "tls13-ticket")


def test_verify_resume_flag_tls12_session_id(prober, tmp_path, default36_config, tls12, pki):
    # a GET s_server -www answers at once (TLS 1.2 has no post-handshake flight, and
    # no-alert would wait out its window on both connections)
    _assert_resumed(*_verify(prober, tmp_path, default36_config, tls12, pki, "--resume",
                             "--proof", GET_PROOF), "tls12-session-id")


def test_verify_resume_flag_refused_exits_55(prober, tmp_path, default36_config, refusing,
                                             pki):
    _assert_refused(*_verify(prober, tmp_path, default36_config, refusing, pki, "--resume"))


# ------------------------------------------------------- gen --resume's headers

def test_gen_header_resumes_tls13(prober, tmp_path, gen13, tls13, pki):
    _assert_resumed(*_verify(prober, tmp_path, gen13, tls13, pki), "tls13-ticket")


def test_gen_header_resumes_tls12_session_id(prober, tmp_path, gen12, tls12, pki):
    _assert_resumed(*_verify(prober, tmp_path, gen12, tls12, pki, "--proof", GET_PROOF),
                    "tls12-session-id")


def test_gen_header_refused_exits_55(prober, tmp_path, gen13, refusing, pki):
    _assert_refused(*_verify(prober, tmp_path, gen13, refusing, pki))


# ------------------------------------------------------------ QEMU: one run

def test_measure_resume_tls13_ticket_on_cortex_m4(prober, tmp_path, gen13, tls13,
                                                  pki):
    require_tools()
    proc = run_tlsfit(prober, tmp_path / "state", "measure", "--config", gen13,
                      "--target", "cortex-m4", "--server", tls13.hostport, "--sni",
                      "localhost", "--ca", pki.ec.root.pem, "--json", timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    doc = json.loads(proc.stdout)
    res = doc["resumption"]
    assert res["mode"] == "tls13-ticket" and res["accepted"] is True
    full, resumed = res["full"], res["resumed"]
    # the report's handshake figure is the full handshake's
    assert full["handshake_instructions"] == doc["handshake_instructions"]
    assert 0 < resumed["handshake_instructions"] < full["handshake_instructions"]
    assert 0 < resumed["bytes_received"] < full["bytes_received"]
    assert resumed["heap_peak_bytes"] > 0 and full["heap_peak_bytes"] > 0


# ------------------------------------------------------------------ pure parts

def test_ask_found_only_between_records():
    record = bytes([23, 3, 3, 0, 4]) + b"~abc"         # a '~' inside a record is data
    split = AskSplitter()
    before, asked, after = split.feed(record + ASK[:4])
    assert (before, asked) == (record, False)
    before, asked, after = split.feed(ASK[4:] + b"\x16\x03\x01")
    assert (before, asked, after) == (b"", True, b"\x16\x03\x01")


def test_reconnect_figure_is_one_full_plus_n_resumed():
    m = {"resumption": {"resumed": {"handshake_instructions": 20}}}
    fig = fit_resume.with_reconnect({"handshake_instructions": 100}, [m], 5)
    assert fig["reconnect_instructions"] == 100 + 5 * 20
    assert fit_resume.with_reconnect({"handshake_instructions": 100}, [{}], 5)[
        "reconnect_instructions"] is None


def test_reconnect_objective_needs_resume(prober, tmp_path):
    proc = run_tlsfit(prober, tmp_path / "state", "fit", "--objective", "reconnect",
                      "127.0.0.1:4433")
    assert proc.returncode == USAGE
    assert "--objective reconnect weighs resumed handshakes: add --resume" in proc.stderr
    proc = run_tlsfit(prober, tmp_path / "state", "fit", "--reconnects", "3", "--resume",
                      "127.0.0.1:4433")
    assert proc.returncode == USAGE
    assert "--reconnects N is the mix of --objective reconnect" in proc.stderr
