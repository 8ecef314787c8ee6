"""The reference-server kit itself: the PKI verifies, servers start and always stop."""
import socket
import subprocess

import pytest

from tlsfit.lab import refservers
from tlsfit.core.errors import SERVERS, TlsfitError


def verify(chain):
    return subprocess.run(["openssl", "verify", "-CAfile", str(chain.root.pem), "-untrusted",
                           str(chain.inter.pem), str(chain.leaf.pem)],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("name", ["rsa", "ec", "big"])
def test_chains_verify(pki, name):
    chain = getattr(pki, name)
    res = verify(chain)
    assert res.returncode == 0, res.stdout + res.stderr
    assert chain.leaf.subject == "CN=localhost"


def test_big_chain_is_big(pki):
    assert sum(len(c.der) for c in pki.big.served) > 4096


def test_leaf_names(pki):
    text = subprocess.run(["openssl", "x509", "-in", str(pki.rsa.leaf.pem), "-noout", "-ext",
                           "subjectAltName"], capture_output=True, text=True, timeout=30).stdout
    assert "DNS:localhost" in text and "IP Address:127.0.0.1" in text


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _group_members(pgid):
    out = subprocess.run(["ps", "-o", "pid=", "-g", str(pgid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


@pytest.mark.parametrize("kind", ["openssl", "gnutls"])
def test_server_starts_and_stops(pki, server_logs, kind):
    if kind == "openssl":
        cm = refservers.openssl_server(pki.rsa, "-tls1_2", log_dir=server_logs)
    else:
        cm = refservers.gnutls_server(pki.rsa, priority="NORMAL", log_dir=server_logs)
    with cm as srv:
        pgid = srv.proc.pid
        assert _group_members(pgid), "the server's process group is empty"
        for _ in range(3):          # keeps serving after plain TCP connects
            with socket.create_connection(("127.0.0.1", srv.port), timeout=5):
                pass
        assert srv.proc.poll() is None
        port = srv.port
    assert _group_members(pgid) == [], "a server process survived the with block"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_server_that_cannot_start(pki, server_logs):
    with pytest.raises(TlsfitError) as info:
        with refservers.openssl_server(pki.rsa, "-no-such-option", log_dir=server_logs):
            pass
    assert info.value.code == SERVERS
    assert "did not start listening" in info.value.message


def test_iana_suites():
    assert refservers.iana_suites("ECDHE-ECDSA-AES128-GCM-SHA256:AES256-SHA") == [
        ("0xC02B", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
        ("0x0035", "TLS_RSA_WITH_AES_256_CBC_SHA")]
    assert refservers.iana_suites(None, "TLS_AES_128_GCM_SHA256") == [
        ("0x1301", "TLS_AES_128_GCM_SHA256")]
