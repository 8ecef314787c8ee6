"""The prober's failure paths, each against its own hostile peer on 127.0.0.1.

Every case checks the exit code (tool/errors/errors.h) and that stderr is exactly
one line "tlsfit-probe: HOST:PORT: what went wrong [TF_ERR_NAME]"; the same
peers run through `python3 -m tlsfit.cli probe`, which must pass the code and the
line through unchanged.
"""
import re
import socket
import time

import pytest

from hostile import HostilePeer, drain_until_closed, read_client_hello

NAMES = {10: "TF_ERR_RESOLVE", 11: "TF_ERR_REFUSED", 12: "TF_ERR_TIMEOUT",
         13: "TF_ERR_NOT_TLS", 14: "TF_ERR_CLOSED", 15: "TF_ERR_MALFORMED"}
PROBE_TIMEOUT = 3       # --timeout for the peers that hold the connection open


# --------------------------------------------------------------- behaviours

def silent(conn):
    """Accepts, never answers."""
    drain_until_closed(conn, limit=20)


def http_400(conn):
    """A web server: reads the 'request', answers 400, closes its side (and reads on,
    so that unread bytes never turn the close into a reset)."""
    read_client_hello(conn)
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
                 b"Content-Length: 11\r\nConnection: close\r\n\r\nBad Request")
    conn.shutdown(socket.SHUT_WR)
    drain_until_closed(conn)


def ssh_banner(conn):
    """An SSH server: banner first, then waits for the client's."""
    conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
    drain_until_closed(conn, limit=10)


def close_after_hello(conn):
    read_client_hello(conn)


def garbage_after_header(conn):
    """A plausible record header, then a ServerHello whose session_id length (238)
    runs past the end of its 44-byte body."""
    read_client_hello(conn)
    body = b"\x02\x00\x00\x2c" + b"\x03\x03" + b"\xaa" * 32 + b"\xee" * 10
    conn.sendall(b"\x16\x03\x03" + len(body).to_bytes(2, "big") + body)
    drain_until_closed(conn)


def truncated_record(conn):
    """Header announces 100 bytes, 10 follow, then the peer closes."""
    read_client_hello(conn)
    conn.sendall(b"\x16\x03\x03\x00\x64" + b"\x02\x00\x00\x5c\x03\x03" + b"\x11" * 4)


def lying_handshake_length(conn):
    """A complete 44-byte record holding a ServerHello header that claims 1000 bytes
    with 40 after it, followed by an application_data record: the ServerHello can
    never be completed (handshake messages must not be interleaved with other record
    types)."""
    read_client_hello(conn)
    sh = b"\x02\x00\x03\xe8" + b"\x03\x03" + b"\x55" * 32 + b"\x00" + b"\x13\x01" + b"\x00" \
        + b"\x00\x00"
    assert len(sh) == 44
    conn.sendall(b"\x16\x03\x03\x00\x2c" + sh + b"\x17\x03\x03\x00\x10" + b"\x00" * 16)
    drain_until_closed(conn)


def huge_record(length):
    def behaviour(conn):
        read_client_hello(conn)
        conn.sendall(b"\x16\x03\x03" + length.to_bytes(2, "big") + b"\x00" * 64)
        drain_until_closed(conn)
    behaviour.__name__ = f"huge_record_{length:#06x}"
    return behaviour


# ----------------------------------------------------------------- fixtures

@pytest.fixture
def silent_peer():
    with HostilePeer(silent) as p:
        yield p


@pytest.fixture
def http_peer():
    with HostilePeer(http_400) as p:
        yield p


@pytest.fixture
def ssh_peer():
    with HostilePeer(ssh_banner) as p:
        yield p


@pytest.fixture
def closing_peer():
    with HostilePeer(close_after_hello) as p:
        yield p


@pytest.fixture
def garbage_peer():
    with HostilePeer(garbage_after_header) as p:
        yield p


@pytest.fixture
def truncating_peer():
    with HostilePeer(truncated_record) as p:
        yield p


@pytest.fixture
def lying_peer():
    with HostilePeer(lying_handshake_length) as p:
        yield p


@pytest.fixture
def huge_peer():
    """Record length 0x4801: one byte more than any TLS record may carry (2^14 + 2048)."""
    with HostilePeer(huge_record(0x4801)) as p:
        yield p


@pytest.fixture
def huger_peer():
    with HostilePeer(huge_record(0xFFFF)) as p:
        yield p


@pytest.fixture
def refused_port():
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# Case -> (peer fixture, exit code, extra prober args).
PEER_CASES = {
    "silent": ("silent_peer", 12, ["--timeout", "1"]),
    "http": ("http_peer", 13, ["--timeout", PROBE_TIMEOUT]),
    "ssh": ("ssh_peer", 13, ["--timeout", PROBE_TIMEOUT]),
    "close-after-hello": ("closing_peer", 14, ["--timeout", PROBE_TIMEOUT]),
    "garbage": ("garbage_peer", 15, ["--timeout", PROBE_TIMEOUT]),
    "truncated-record": ("truncating_peer", 14, ["--timeout", PROBE_TIMEOUT]),
    "lying-length": ("lying_peer", 15, ["--timeout", PROBE_TIMEOUT]),
    "huge-record-0x4801": ("huge_peer", 15, ["--timeout", PROBE_TIMEOUT]),
    "huge-record-0xFFFF": ("huger_peer", 15, ["--timeout", PROBE_TIMEOUT]),
}


def assert_one_line(stderr, hostport, code, context):
    lines = stderr.splitlines()
    assert len(lines) == 1, f"stderr must be exactly one line\n{context}"
    pattern = rf"tlsfit-probe: {re.escape(hostport)}: \S.* \[{NAMES[code]}\]"
    assert re.fullmatch(pattern, lines[0]), f"unexpected error line\n{context}"


# -------------------------------------------------------------------- tests

@pytest.mark.server          # the peer: request.getfixturevalue(PEER_CASES' fixture)
@pytest.mark.parametrize("case", list(PEER_CASES))
def test_prober_fails_cleanly(case, request, run_probe):
    fixture, code, args = PEER_CASES[case]
    peer = request.getfixturevalue(fixture)
    res = run_probe(peer.hostport, *args, timeout=60)
    assert res.returncode == code, res.explain()
    assert_one_line(res.stderr, peer.hostport, code, res.explain())
    assert res.stdout == "", res.explain()
    assert peer.errors == []


def test_silent_peer_times_out_promptly(silent_peer, run_probe):
    res = run_probe(silent_peer.hostport, "--timeout", "1", timeout=30)
    assert res.returncode == 12, res.explain()
    assert res.elapsed < 6, f"--timeout 1 took {res.elapsed:.1f} s\n{res.explain()}"


def test_unresolvable_host(run_probe):
    target = "no-such-host.tlsfit.invalid"
    res = run_probe(f"{target}:443", "--timeout", "5", timeout=60)
    assert res.returncode == 10, res.explain()
    assert_one_line(res.stderr, f"{target}:443", 10, res.explain())


def test_unresolvable_host_default_port(run_probe):
    target = "no-such-host.tlsfit.invalid"
    res = run_probe(target, "--timeout", "5", timeout=60)
    assert res.returncode == 10, res.explain()
    assert_one_line(res.stderr, f"{target}:443", 10, res.explain())


def test_refused_port(refused_port, run_probe):
    hostport = f"127.0.0.1:{refused_port}"
    res = run_probe(hostport, "--timeout", "5", timeout=30)
    assert res.returncode == 11, res.explain()
    assert_one_line(res.stderr, hostport, 11, res.explain())


def test_no_profile_written_on_failure(refused_port, run_probe, tmp_path):
    res = run_probe(f"127.0.0.1:{refused_port}", timeout=30)
    assert res.returncode == 11
    assert not list(tmp_path.glob("profile-*.json")), "a failed probe left a profile behind"


def test_bad_ca_file(refused_port, run_probe, tmp_path):
    junk = tmp_path / "not-a-cert.pem"
    junk.write_text("hello\n")
    res = run_probe(f"127.0.0.1:{refused_port}", "--ca", junk, timeout=30)
    assert res.returncode == 20, res.explain()
    assert len(res.stderr_lines) == 1 and res.stderr_lines[0].endswith("[TF_ERR_CA_FILE]"), \
        res.explain()


def test_usage_error(prober, run_probe):
    res = run_probe("127.0.0.1:1", "--no-such-option", timeout=30)
    assert res.returncode == 2, res.explain()


# ------------------------------------------------- the same through the driver

@pytest.mark.server          # the peer: request.getfixturevalue(PEER_CASES' fixture)
@pytest.mark.parametrize("case", list(PEER_CASES))
def test_driver_passes_code_through(case, request, run_driver):
    fixture, code, args = PEER_CASES[case]
    peer = request.getfixturevalue(fixture)
    proc = run_driver("probe", peer.hostport, *args)
    context = f"exit {proc.returncode}\nstderr:\n{proc.stderr}\nstdout:\n{proc.stdout}"
    assert proc.returncode == code, context
    assert_one_line(proc.stderr, peer.hostport, code, context)
    assert proc.stdout == "", context


def test_driver_unresolvable(run_driver):
    proc = run_driver("probe", "no-such-host.tlsfit.invalid:8443", "--timeout", "5")
    assert proc.returncode == 10, proc.stderr
    assert_one_line(proc.stderr, "no-such-host.tlsfit.invalid:8443", 10, proc.stderr)


def test_driver_refused(refused_port, run_driver):
    proc = run_driver("probe", f"127.0.0.1:{refused_port}")
    assert proc.returncode == 11, proc.stderr
    assert_one_line(proc.stderr, f"127.0.0.1:{refused_port}", 11, proc.stderr)


def test_driver_silent_peer_is_prompt(silent_peer, run_driver):
    start = time.monotonic()
    proc = run_driver("probe", silent_peer.hostport, "--timeout", "1")
    assert proc.returncode == 12, proc.stderr
    assert time.monotonic() - start < 10
