"""mbedTLS 4.x trees (mbedTLS 4.0 + TF-PSA-Crypto 1.0): set-up from a release archive,
host verify and a QEMU measurement with a two-file configuration.

The tree comes from shared/upstream beside the checkout (mbedtls-4.0.0.tar.xz;
$TLSFIT_UPSTREAM overrides): unpacked once into the set-up cache by
`setup --mbedtls-archive`'s library call when the cache has none, and shared by every
test here (one host build, one cross build).  Without shared/upstream the live tests
skip, saying why.  The configuration is the hand-written pair
tests/fixtures/mbedtls4/ecdsa_p256.h + ecdsa_p256_crypto.h (TLS 1.3 + 1.2, ECDHE-ECDSA
on P-256 by p256-m), against openssl s_server (TLS 1.3, and TLS 1.2) with a chain that is
P-256 throughout.
"""
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import require_tools, upstream_archive
from tlsfit.core.errors import FILE, MBEDTLS4_MISSING, MBEDTLS_ARCHIVE, SETUP, TlsfitError
from tlsfit.host import verify
from tlsfit.lab import refservers
from tlsfit.mbedtls import archive, baseline4, pair, tree as tree_mod
from tlsfit.target import measure, xbuild4

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "mbedtls4"
ECDSA = FIXTURES / "ecdsa_p256.h"
DEBIAN_PYTHON = "/usr/bin/python3"




def _driver(*args, env_extra=None, timeout=300):
    env = dict(os.environ, PYTHONPATH=str(REPO / "tool"), PYTHONDONTWRITEBYTECODE="1",
               **(env_extra or {}))
    python = DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable
    return subprocess.run([python, "-m", "tlsfit.cli", *map(str, args)], cwd=REPO, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


def _fake_tree(root, version="4.0.0", crypto=True):
    """The files open_tree reads, nothing else."""
    inc = root / "include" / "mbedtls"
    inc.mkdir(parents=True)
    (inc / "ssl.h").write_text("/* ssl.h */\n")
    (inc / "build_info.h").write_text(f'#define MBEDTLS_VERSION_STRING         "{version}"\n')
    (root / "CMakeLists.txt").write_text("# top\n")
    if crypto:
        psa = root / "tf-psa-crypto" / "include" / "psa"
        psa.mkdir(parents=True)
        (psa / "crypto.h").write_text("/* crypto.h */\n")
    return root


# ------------------------------------------------------------------ pure functions

def test_archive_top_is_the_one_top_directory():
    assert archive.archive_top(["mbedtls-4.0.0/", "mbedtls-4.0.0/include/x.h"]) == \
        "mbedtls-4.0.0"
    assert archive.archive_top(["a/x", "b/y"]) is None
    assert archive.archive_top(["../evil"]) is None
    assert archive.archive_top(["/abs/path"]) is None
    assert archive.archive_top(["mbedtls-4.0.0/../../x"]) is None


def test_a_4x_tree_is_told_by_its_version_and_tf_psa_crypto(tmp_path):
    t = tree_mod.open_tree(_fake_tree(tmp_path / "t"))
    assert (t.version, t.major, t.line) == ("4.0.0", 4, "4.0")
    assert t.crypto == t.path / "tf-psa-crypto"
    assert t.include_dirs[:3] == [t.path / "include", t.crypto / "include",
                                  t.crypto / "drivers" / "builtin" / "include"]
    with pytest.raises(TlsfitError) as e:
        tree_mod.open_tree(_fake_tree(tmp_path / "bare", crypto=False))
    assert e.value.code == SETUP and "tf-psa-crypto/include/psa/crypto.h" in e.value.message
    three = tree_mod.open_tree(_fake_tree(tmp_path / "36", "3.6.6", crypto=False))
    assert three.crypto is None and three.include_dirs == [three.path / "include"]


def test_identity_hashes_tf_psa_crypto_sources(tmp_path):
    root = _fake_tree(tmp_path / "t")
    src = root / "tf-psa-crypto" / "core"
    src.mkdir()
    (src / "psa_crypto.c").write_text("int a;\n")
    before = tree_mod.identity(tree_mod.open_tree(root))["sha256"]
    (src / "psa_crypto.c").write_text("int b;\n")
    tree_mod._identity.cache_clear()
    assert tree_mod.identity(tree_mod.open_tree(root))["sha256"] != before


def test_without_the_cache_40_names_the_setup_command(tmp_path, monkeypatch):
    monkeypatch.setenv("TLSFIT_CACHE", str(tmp_path))
    monkeypatch.delenv("MBEDTLS_DIR", raising=False)
    with pytest.raises(TlsfitError) as e:
        tree_mod.resolve_tree(line="4.0")
    assert e.value.code == MBEDTLS4_MISSING
    assert "./tlsfit setup --mbedtls-archive" in e.value.message
    assert "\n" not in e.value.message


def test_an_archive_that_is_not_4x_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("TLSFIT_CACHE", str(tmp_path / "cache"))
    old = tmp_path / "mbedtls-3.6.6.tar.gz"
    with tarfile.open(old, "w:gz") as tar:
        tar.add(_fake_tree(tmp_path / "mbedtls-3.6.6", "3.6.6", crypto=False),
                arcname="mbedtls-3.6.6")
    with pytest.raises(TlsfitError) as e:
        archive.install_archive(old)
    assert e.value.code == MBEDTLS_ARCHIVE and "is mbedTLS 3.6.6" in e.value.message
    assert not (tmp_path / "cache" / "mbedtls-3.6").exists()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == []     # no temp dir left
    text = tmp_path / "notes.txt"
    text.write_text("not an archive\n")
    proc = _driver("setup", "--mbedtls-archive", text, env_extra={
        "TLSFIT_CACHE": str(tmp_path / "cache"), "TLSFIT_SETUP_DONE": "1"}, timeout=60)
    assert proc.returncode == MBEDTLS_ARCHIVE, proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert f"--mbedtls-archive {text}: cannot be unpacked" in proc.stderr


def test_the_crypto_half_is_found_beside_the_tls_file(tmp_path):
    four = tree_mod.open_tree(_fake_tree(tmp_path / "t"))
    assert pair.crypto_half(ECDSA, four) == \
        (FIXTURES / "ecdsa_p256_crypto.h").read_bytes()
    lone = tmp_path / "lone.h"
    lone.write_text("#define MBEDTLS_SSL_TLS_C\n")
    with pytest.raises(TlsfitError) as e:
        pair.crypto_half(lone, four)
    assert e.value.code == FILE and "lone_crypto.h" in e.value.message


def test_the_baseline_platform_change_says_why_each_option():
    change = baseline4.platform_change()
    options = [c["option"] for c in change]
    assert "MBEDTLS_PSA_BUILTIN_GET_ENTROPY" in options and "MBEDTLS_NET_C" in options
    assert all(c["why"] for c in change)
    # every option the overlays change is in the report's list
    overlays = "".join(p.read_text() for p in xbuild4.overlay_files())
    for option in options:
        assert option in overlays, option


# ------------------------------------------------------------------ one unpack

def test_setup_unpacks_the_release_archive_once(tmp_path, monkeypatch):
    src = upstream_archive()
    monkeypatch.setenv("TLSFIT_CACHE", str(tmp_path))
    t, message = archive.install_archive(src)
    assert (t.path, t.version) == ((tmp_path / "mbedtls-4.0").resolve(), "4.0.0")
    assert message.startswith("unpacked mbedTLS 4.0.0")
    assert (t.crypto / "drivers" / "p256-m" / "p256-m" / "p256-m.c").is_file()
    assert "release archive mbedtls-4.0.0.tar.xz, sha256" in t.label
    assert tree_mod.resolve_tree(line="4.0").path == t.path
    again, message = archive.install_archive(src)
    assert again.path == t.path and "already in" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mbedtls-4.0"]


# ------------------------------------------------------------------ live: verify, measure



@pytest.fixture(scope="module")
def p256_chain(tmp_path_factory):
    return refservers.make_chain(tmp_path_factory.mktemp("pki4"), "p256", "ec:P-256",
                                 "ec:P-256", "ec:P-256")


@pytest.fixture(scope="module")
def tls13_server(p256_chain, server_logs):
    require_tools("openssl")
    with refservers.openssl_server(p256_chain, "-tls1_3", log_dir=server_logs) as srv:
        yield srv


@pytest.mark.server
def test_verify_with_the_pair_against_openssl_tls13(tree4, p256_chain, tls13_server):
    res = verify.verify(ECDSA, "127.0.0.1", tls13_server.port, sni="localhost",
                        ca=p256_chain.root.pem, mbedtls_dir=tree4)
    assert res["ok"] is True, dict(res)
    assert (res["version"], res["group"], res["group_from"]) == \
        ("TLSv1.3", "secp256r1", "key_share")
    assert res["ciphersuite"] == "TLS_AES_256_GCM_SHA384"
    assert res["verify_flags"] == 0 and res["mbedtls"] == "4.0.0"
    assert res["rng"] == "psa (mbedtls_platform_get_entropy: getrandom)"
    # the server's NewSessionTicket arrives through mbedtls_ssl_read as its own code
    assert res["proof_result"]["outcome"] == "flight"
    # the CLI finds ecdsa_p256_crypto.h beside the header by itself (same build, cached)
    proc = _driver("verify", "--mbedtls", "4.0", "--config", ECDSA, "--sni", "localhost",
                   "--ca", p256_chain.root.pem, f"127.0.0.1:{tls13_server.port}",
                   env_extra={"MBEDTLS_DIR": ""})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("verified: TLSv1.3 TLS_AES_256_GCM_SHA384 secp256r1"), \
        proc.stdout


@pytest.mark.server
def test_verify_with_the_pair_against_openssl_tls12(tree4, p256_chain, server_logs):
    """TLS 1.2 ECDHE with p256-m: the fixture routes around 4.0's 1-byte premaster
    buffer (its MBEDTLS_KEY_EXCHANGE_PSK_ENABLED comment); same build as above."""
    with refservers.openssl_server(p256_chain, "-tls1_2", log_dir=server_logs) as srv:
        res = verify.verify(ECDSA, "127.0.0.1", srv.port, sni="localhost",
                            ca=p256_chain.root.pem, mbedtls_dir=tree4)
    assert res["ok"] is True, dict(res)
    assert (res["version"], res["ciphersuite"], res["group"], res["group_from"]) == \
        ("TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "secp256r1",
         "server_key_exchange")


# gen's own 4.x pairs verified against an ECDSA TLS 1.3-only and an RSA TLS 1.2 server
# (and the PSA key slot count measured for TLS 1.3, 5): tests/test_gen4_servers.py
# (openssl-ec-tls13-only, openssl-rsa-both), one build each there.


@pytest.mark.qemu
@pytest.mark.server
def test_measure_on_cortex_m4_with_the_pair(tree4, p256_chain, tls13_server):
    require_tools("arm-none-eabi-gcc", "qemu-system-arm")
    rep = measure.measure(ECDSA, "cortex-m4", "127.0.0.1", tls13_server.port,
                          sni="localhost", ca=p256_chain.root.pem, tree=tree4,
                          progress=False)
    hs = rep["handshake"]
    assert hs["ok"] is True, dict(hs)
    assert (hs["version"], hs["group"]) == ("TLSv1.3", "secp256r1")
    assert rep["mbedtls_tree"]["version"] == "4.0.0"
    assert rep["overlay"] == []             # the pair builds bare-metal as it is
    libraries = {m["library"] for m in rep["modules"]}
    assert libraries == {"libmbedtls.a", "libmbedx509.a", "libtfpsacrypto.a"}
    names = {m["name"] for m in rep["modules"]}
    assert {"p256-m.o", "p256-m_driver_entrypoints.o", "psa_crypto.o"} <= names
    assert "ecp.o" not in names             # P-256 by the driver, not the builtin ECP
    assert rep["rom_tls_bytes"] == sum(m["rom_bytes"] for m in rep["modules"])
    assert rep["heap_floor_bytes"] and rep["heap_floor_bytes"] <= rep["heap_peak_bytes"]
