"""`tlsfit verify`: mbedTLS built with a configuration header, a verified handshake.

Real servers on 127.0.0.1 (openssl s_server from tlsfit.refservers, mbedTLS's own
ssl_server2) with the session's test PKI.  Only three mbedTLS builds are made
(3.6 default config, 3.6 with a 1 KiB input buffer, 2.28 default config) plus
ssl_server2; all are cached in $TLSFIT_CACHE, so a second run builds nothing.
"""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tlsfit.core.hostport import parse_target
from tlsfit.host import verify
from tlsfit.lab import refservers
from tlsfit.mbedtls.tree import resolve_tree
from tlsfit.core.errors import CONFIG, VERIFY, TlsfitError

REPO = Path(__file__).resolve().parent.parent
DEBIAN_PYTHON = "/usr/bin/python3"


# ------------------------------------------------------------------ fixtures

def _tree(line):
    try:
        return resolve_tree(line=line)
    except TlsfitError as e:
        pytest.fail(f"no mbedTLS {line} tree: {e.message}", pytrace=False)


@pytest.fixture(scope="session")
def tree36():
    return _tree("3.6")


@pytest.fixture(scope="session")
def tree228():
    return _tree("2.28")


def _build(config, tree):
    try:
        return verify.ensure_client(config, tree.path)
    except TlsfitError as e:
        pytest.fail(f"building mbedTLS {tree.version} with {config} failed: {e.message}",
                    pytrace=False)


@pytest.fixture(scope="session")
def default36(tree36):
    """mbedTLS 3.6's own default configuration, built once."""
    config = tree36.path / "include" / "mbedtls" / "mbedtls_config.h"
    _build(config, tree36)
    return config


@pytest.fixture(scope="session")
def default228(tree228):
    """mbedTLS 2.28's default configuration (include/mbedtls/config.h), built once."""
    config = tree228.path / "include" / "mbedtls" / "config.h"
    _build(config, tree228)
    return config


def _derived_config(directory, tree, *lines):
    """A tls_config.h that is the default 3.6 configuration plus some lines (the
    default file is complete, so including it first keeps this one complete)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "tls_config.h"
    default = tree.path / "include" / "mbedtls" / "mbedtls_config.h"
    path.write_text(f'#include "{default}"\n' + "".join(f"{ln}\n" for ln in lines))
    return path


@pytest.fixture(scope="session")
def small_in36(tree36, tmp_path_factory):
    """3.6 default with a 1 KiB input buffer: any record above 1 KiB cannot be read."""
    config = _derived_config(tmp_path_factory.mktemp("small-in"), tree36,
                             "#define MBEDTLS_SSL_IN_CONTENT_LEN 1024")
    _build(config, tree36)
    return config


@pytest.fixture(scope="session")
def ssl_server2(tree36):
    try:
        return verify.ssl_server2_path(tree36.path)
    except TlsfitError as e:
        pytest.fail(f"cannot build ssl_server2: {e.message}", pytrace=False)


def run_verify(config, tree, srv, ca, sni="localhost", **kw):
    return verify.verify(config, "127.0.0.1", srv.port, sni=sni, ca=ca, mbedtls_dir=tree.path,
                         **kw)


def explain(res):
    return json.dumps(dict(res), indent=1, default=str)


def _driver_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "tool")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_module(mbedtls_flag, tree_path, *args, timeout=300):
    """`tlsfit --mbedtls-dir TREE verify ARGS...` through the real CLI."""
    python = DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable
    argv = [python, "-m", "tlsfit.cli", mbedtls_flag, str(tree_path), "verify", *map(str, args)]
    return subprocess.run(argv, cwd=REPO, env=_driver_env(),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


# ------------------------------------------------------ (a) TLS 1.3, ECDSA

@pytest.mark.parametrize("suite, group_arg, group", [
    ("TLS_AES_256_GCM_SHA384", "X25519", "x25519"),
    ("TLS_AES_128_GCM_SHA256", "P-256", "secp256r1"),
])
def test_default36_tls13_ecdsa(pki, server_logs, tree36, default36, suite, group_arg, group):
    with refservers.openssl_server(pki.ec, "-tls1_3", "-ciphersuites", suite,
                                   "-groups", group_arg, log_dir=server_logs) as srv:
        res = run_verify(default36, tree36, srv, pki.ec.root.pem)
    assert res["ok"] is True, explain(res)
    assert res["version"] == "TLSv1.3"
    assert res["ciphersuite"] == suite
    assert res["group"] == group and res["group_from"] == "key_share"
    assert res["verify_flags"] == 0
    assert res["mbedtls"] == tree36.version
    assert res["sni"] == "localhost"


# --------------------------------------------------------- (b) TLS 1.2, RSA

# OpenSSL signs a TLS 1.2 ServerKeyExchange with RSA-PSS by default, which
# mbedTLS 3.6.6 rejects (see test_tls12_rsa_pss_server below), so the suite
# tests pin PKCS#1 v1.5 signatures.
PKCS1 = ("-sigalgs", "RSA+SHA256:RSA+SHA384")


@pytest.mark.parametrize("cipher, iana, group", [
    ("ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "secp256r1"),
    ("AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256", None),
])
def test_default36_tls12_rsa_one_suite(pki, server_logs, tree36, default36, cipher, iana, group):
    with refservers.openssl_server(pki.rsa, "-tls1_2", "-cipher", cipher, *PKCS1,
                                   "-groups", "P-256", log_dir=server_logs) as srv:
        res = run_verify(default36, tree36, srv, pki.rsa.root.pem)
    assert res["ok"] is True, explain(res)
    assert res["version"] == "TLSv1.2"
    assert res["ciphersuite"] == iana
    assert res["group"] == group


def test_tls12_rsa_pss_server(pki, server_logs, tree36, default36):
    """A TLS 1.2-only server with OpenSSL's default signature algorithms signs its
    ServerKeyExchange with rsa_pss_rsae_*; mbedTLS 3.6.6 refuses that (a known
    regression, Mbed-TLS/mbedtls#10674).  A fixed tree verifies; an affected one
    must fail with the explanation."""
    with refservers.openssl_server(pki.rsa, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256",
                                   log_dir=server_logs) as srv:
        res = run_verify(default36, tree36, srv, pki.rsa.root.pem)
    if res["ok"]:
        assert res["ciphersuite"] == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        return
    assert res["error"] == "MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER", explain(res)
    assert res["server_hello"]["ske_signature"].startswith("rsa_pss_rsae_")
    assert "RSA-PSS" in res["hint"]


# ----------------------------------------------------- (c) (d) verification

@pytest.fixture(scope="module")
def rsa13_server(pki, server_logs):
    with refservers.openssl_server(pki.rsa, "-tls1_3", log_dir=server_logs) as srv:
        yield srv


def test_wrong_ca(pki, tree36, default36, rsa13_server):
    res = run_verify(default36, tree36, rsa13_server, pki.ec.root.pem)
    assert res["ok"] is False, explain(res)
    assert res["step"] == "handshake"
    assert res["error"] == "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED"
    assert res["code"] == "-0x2700"
    assert res["verify_flags"] & 0x08                      # MBEDTLS_X509_BADCERT_NOT_TRUSTED
    assert "MBEDTLS_X509_BADCERT_NOT_TRUSTED" in res["verify_flag_names"]
    assert "trusted" in res["verify_info"].lower()


def test_wrong_hostname(pki, tree36, default36, rsa13_server):
    res = run_verify(default36, tree36, rsa13_server, pki.rsa.root.pem, sni="other.example")
    assert res["ok"] is False, explain(res)
    assert res["error"] == "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED"
    assert res["verify_flags"] & 0x04                      # MBEDTLS_X509_BADCERT_CN_MISMATCH
    assert res["verify_flag_names"] == ["MBEDTLS_X509_BADCERT_CN_MISMATCH"]
    assert res["sni"] == "other.example"


def test_right_ca_as_der(pki, tree36, default36, rsa13_server, tmp_path):
    der = tmp_path / "root.der"
    der.write_bytes(pki.rsa.root.der)
    res = run_verify(default36, tree36, rsa13_server, der)
    assert res["ok"] is True, explain(res)
    assert res["ca_loaded"] == 1


# ------------------------------------------------------ (e) small input buffer

def test_small_input_buffer_vs_big_chain(pki, server_logs, tree36, small_in36):
    """MBEDTLS_SSL_IN_CONTENT_LEN 1024 against a > 4 KiB Certificate message.
    mbedTLS 3.6 stops when the record does not fit its input buffer; 3.6.6 reports
    that as MBEDTLS_ERR_SSL_BAD_INPUT_DATA ("requesting more data than fits" in
    mbedtls_ssl_fetch_input) rather than MBEDTLS_ERR_SSL_INVALID_RECORD."""
    assert sum(len(c.der) for c in pki.big.served) > 2048
    with refservers.openssl_server(pki.big, log_dir=server_logs) as srv:
        res = run_verify(small_in36, tree36, srv, pki.big.root.pem)
    assert res["ok"] is False, explain(res)
    assert res["step"] == "handshake"
    assert res["in_content_len"] == 1024
    assert (res["error"], res["code"]) in {
        ("MBEDTLS_ERR_SSL_INVALID_RECORD", "-0x7200"),
        ("MBEDTLS_ERR_SSL_BAD_INPUT_DATA", "-0x7100")}, explain(res)
    assert res["largest_record"] > 1024
    assert "MBEDTLS_SSL_IN_CONTENT_LEN is 1024" in res["hint"]


def test_small_input_buffer_human_output(pki, server_logs, tree36, small_in36):
    with refservers.openssl_server(pki.big, log_dir=server_logs) as srv:
        proc = run_module("--mbedtls-dir", tree36.path, "--config", small_in36, srv.hostport,
                          "--sni", "localhost", "--ca", pki.big.root.pem)
    assert proc.returncode == VERIFY, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("FAILED at handshake: MBEDTLS_ERR_SSL_"), proc.stdout
    assert "(-0x7" in first
    assert "hint: the server sent a" in proc.stdout


# ------------------------------------------------- (f) rejected configurations

CHECK_CONFIG_LINE = ("tls_config.h: rejected by mbedTLS check_config.h: "
                     "MBEDTLS_SSL_PROTO_DTLS defined, but not all prerequisites")


@pytest.fixture(scope="module")
def violating(tree36, tmp_path_factory):
    """DTLS stays on but TLS 1.2 goes: check_config.h refuses the combination."""
    return _derived_config(tmp_path_factory.mktemp("violating"), tree36,
                           "#undef MBEDTLS_SSL_PROTO_TLS1_2")


def test_check_config_rejects(tree36, violating, capsys):
    start = time.monotonic()
    with pytest.raises(TlsfitError) as info:
        verify.verify(violating, "127.0.0.1", 9, ca=str(violating), mbedtls_dir=tree36.path)
    assert info.value.code == CONFIG
    assert info.value.message == CHECK_CONFIG_LINE
    assert time.monotonic() - start < 30           # no library build was attempted
    assert "building mbedTLS" not in capsys.readouterr().err


def test_check_config_rejects_cli(tree36, violating):
    proc = run_module("--mbedtls-dir", tree36.path, "--config", violating, "127.0.0.1:9",
                      "--ca", violating)
    assert proc.returncode == CONFIG
    assert proc.stdout == ""
    assert proc.stderr == f"tlsfit: {CHECK_CONFIG_LINE}\n"       # one line, no traceback


def test_config_without_tls_client(tree36, tmp_path):
    config = _derived_config(tmp_path, tree36, "#undef MBEDTLS_SSL_CLI_C")
    with pytest.raises(TlsfitError) as info:
        verify.ensure_client(config, tree36.path)
    assert info.value.code == CONFIG
    assert info.value.message.startswith("tls_config.h: cannot be verified: MBEDTLS_SSL_CLI_C")


def test_config_that_does_not_compile(tree36, tmp_path):
    config = _derived_config(tmp_path, tree36, "this is not C")
    with pytest.raises(TlsfitError) as info:
        verify.ensure_client(config, tree36.path)
    assert info.value.code == CONFIG
    assert info.value.message.startswith("tls_config.h: does not compile: line 2:")
    assert "\n" not in info.value.message


def test_missing_config_file(tree36, tmp_path):
    with pytest.raises(TlsfitError) as info:
        verify.ensure_client(tmp_path / "nope.h", tree36.path)
    assert "nope.h: cannot read the configuration header" in info.value.message


# ------------------------------------------------------------- (g) 2.28

def test_default228_tls12_rsa(pki, server_logs, tree228, default228):
    with refservers.openssl_server(pki.rsa, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256",
                                   "-groups", "P-256", log_dir=server_logs) as srv:
        res = run_verify(default228, tree228, srv, pki.rsa.root.pem)
    assert res["ok"] is True, explain(res)
    assert res["mbedtls"].startswith("2.28.")
    assert res["version"] == "TLSv1.2"
    assert res["ciphersuite"] == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    assert res["group"] == "secp256r1" and res["group_from"] == "server_key_exchange"


def test_default228_wrong_ca(pki, server_logs, tree228, default228):
    with refservers.openssl_server(pki.rsa, "-tls1_2", log_dir=server_logs) as srv:
        res = run_verify(default228, tree228, srv, pki.ec.root.pem)
    assert res["ok"] is False, explain(res)
    assert res["error"] == "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED" and res["code"] == "-0x2700"
    assert "MBEDTLS_X509_BADCERT_NOT_TRUSTED" in res["verify_flag_names"]


# ---------------------------------------------------------- (h) ssl_server2

@pytest.fixture(scope="module")
def mbedtls_server(pki, server_logs, ssl_server2):
    with refservers.mbedtls_server(ssl_server2, pki.ec, log_dir=server_logs) as srv:
        yield srv


@pytest.mark.parametrize("max_version, version", [(None, "TLSv1.3"), ("1.2", "TLSv1.2")])
def test_against_ssl_server2(pki, tree36, default36, mbedtls_server, max_version, version):
    res = run_verify(default36, tree36, mbedtls_server, pki.ec.root.pem, max_version=max_version)
    assert res["ok"] is True, explain(res) + "\n" + mbedtls_server.log()[-2000:]
    assert res["version"] == version
    assert res["ciphersuite"].startswith("TLS_")
    assert res["group"]


def test_228_against_ssl_server2(pki, tree228, default228, mbedtls_server):
    res = run_verify(default228, tree228, mbedtls_server, pki.ec.root.pem)
    assert res["ok"] is True, explain(res)
    assert res["version"] == "TLSv1.2"
    assert "ECDSA" in res["ciphersuite"]


# ------------------------------------------------------- cache and the CLI

def _children_cpu():
    """CPU seconds of this process's finished children (os.times)."""
    t = os.times()
    return t.children_user + t.children_system


def test_cached_build_is_silent_and_fast(tree36, default36, capsys):
    capsys.readouterr()
    # CPU time, not wall time (the machine may be busy with other workers): this
    # process's, and none spent in a child (a build would run cmake)
    start, children = time.process_time(), _children_cpu()
    first = verify.ensure_client(default36, tree36.path)
    again = verify.ensure_client(default36, tree36.path)
    assert first == again
    assert time.process_time() - start < 2 and _children_cpu() == children
    assert capsys.readouterr().err == ""
    assert first.parent.parent == verify.verify_cache_dir()
    assert (first.parent / "tls_config.h").read_bytes() == default36.read_bytes()


def test_cache_key_inputs(tree36, tree228):
    a = verify.cache_key(b"#define X\n", tree36)
    assert a == verify.cache_key(b"#define X\n", tree36)
    assert a != verify.cache_key(b"#define Y\n", tree36)
    assert a != verify.cache_key(b"#define X\n", tree228)


def test_cli_human_output(pki, tree36, default36, rsa13_server):
    proc = run_module("--mbedtls-dir", tree36.path, "--config", default36, rsa13_server.hostport,
                      "--sni", "localhost", "--ca", pki.rsa.root.pem)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout.strip()
    assert out.startswith("verified: TLSv1.3 TLS_")
    assert out.endswith(f"with {rsa13_server.hostport} (sni localhost)")
    assert proc.stderr == ""

    proc = run_module("--mbedtls-dir", tree36.path, "--config", default36, rsa13_server.hostport,
                      "--sni", "localhost", "--ca", pki.ec.root.pem, "--json")
    assert proc.returncode == VERIFY
    res = json.loads(proc.stdout)
    assert res["error"] == "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED"


def test_wired_into_cli(pki, tree36, default36, rsa13_server):
    proc = run_module("--mbedtls-dir", tree36.path, "--config", default36,
                      rsa13_server.hostport, "--sni", "localhost", "--ca", pki.rsa.root.pem)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("verified: TLSv1.3")


@pytest.mark.parametrize("text, expected", [
    ("example.com", ("example.com", 443)),
    ("127.0.0.1:4433", ("127.0.0.1", 4433)),
    ("[::1]:8883", ("::1", 8883)),
    ("[::1]", ("::1", 443)),
    ("::1", ("::1", 443)),
])
def test_parse_target(text, expected):
    assert parse_target(text) == expected


@pytest.mark.parametrize("text", ["", "host:", "host:0", "host:x", "[::1", "[::1]x"])
def test_parse_target_rejects(text):
    with pytest.raises(TlsfitError):
        parse_target(text)


# ------------------------------------------------------ the client binary

@pytest.fixture(scope="session")
def client36(tree36, default36):
    return verify.ensure_client(default36, tree36.path)


def _client(binary, *args, timeout=60):
    start = time.monotonic()
    proc = subprocess.run([str(binary), *map(str, args)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)
    return proc, time.monotonic() - start


def test_client_usage(client36):
    proc, _ = _client(client36, "--host", "127.0.0.1")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "usage:" in proc.stderr


def test_client_connection_refused(client36, pki):
    port = refservers.free_port()
    proc, _ = _client(client36, "--host", "127.0.0.1", "--port", port, "--ca", pki.rsa.root.pem)
    assert proc.returncode == 1
    res = json.loads(proc.stdout)
    assert res["ok"] is False and res["step"] == "connect" and res["error"] == "ECONNREFUSED"


def test_client_silent_server_times_out(client36, pki):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)          # the kernel accepts; nobody ever speaks
        port = listener.getsockname()[1]
        proc, elapsed = _client(client36, "--host", "127.0.0.1", "--port", port,
                                "--ca", pki.rsa.root.pem, "--timeout", "1")
    assert proc.returncode == 1
    res = json.loads(proc.stdout)
    assert res["step"] == "handshake" and res["error"] == "MBEDTLS_ERR_SSL_TIMEOUT"
    assert elapsed < 10


def test_client_unusable_ca_file(client36, tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("no certificates here\n")
    proc, _ = _client(client36, "--host", "127.0.0.1", "--port", 9, "--ca", junk)
    assert proc.returncode == 1
    res = json.loads(proc.stdout)
    assert res["step"] == "ca" and res["ok"] is False


def test_client_system_store_loads(client36):
    store = verify.SYSTEM_STORE
    if not store.is_file():
        pytest.skip(f"{store} is not installed")
    port = refservers.free_port()
    proc, _ = _client(client36, "--host", "127.0.0.1", "--port", port, "--ca", store)
    res = json.loads(proc.stdout)
    assert res["step"] == "connect"          # the CA step passed
    assert res["ca_loaded"] > 50
