"""`tlsfit measure`: mbedTLS cross-built per configuration, a TLS client firmware
under QEMU, a real handshake with openssl s_server on 127.0.0.1.

Every test that measures starts its own servers from the session's test PKI
and asserts the facts the server was configured with (version, suite,
group).  The configurations are the hand-written headers in
tests/fixtures/measure/ (gen's contract).  Cross builds are cached in
$TLSFIT_CACHE/xbuild and by ccache: with an empty cache this module makes
eleven mbedTLS builds (five targets, TLS 1.3, the two RSA buffer sizes, the
baseline, 2.28, one concurrency variant), most sharing ccache hits.
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import require_tools

from test_compat import check_shape
from tlsfit.lab import refservers
from tlsfit.mbedtls import names as mbedtls_names
from tlsfit.mbedtls.tree import resolve_tree
from tlsfit.target import linkmap, measure, xbuild
from tlsfit.core.errors import CONFIG, TARGET, TlsfitError
from tlsfit.target.firmware import fw
from tlsfit.target.relay import WireObserver

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "measure"
TLS12_EC = FIXTURES / "tls12_ecdhe_ecdsa.h"
TLS12_RSA_SMALL = FIXTURES / "tls12_ecdhe_rsa.h"
TLS13_EC = FIXTURES / "tls13_ecdhe_ecdsa.h"
TLS12_EC_228 = FIXTURES / "tls12_ecdhe_ecdsa_228.h"
TARGETS = ["cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55"]
DEBIAN_PYTHON = "/usr/bin/python3"
TIMEOUT = 60

EC12_ARGS = ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-groups", "P-256")
EC13_ARGS = ("-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-groups", "P-256")
RSA12_ARGS = ("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256", "-groups", "P-256")


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module", autouse=True)
def toolchain():
    require_tools()


@pytest.fixture(scope="module")
def ec12(pki, server_logs):
    with refservers.openssl_server(pki.ec, *EC12_ARGS, log_dir=server_logs) as srv:
        yield srv


@pytest.fixture(scope="module")
def ec13(pki, server_logs):
    with refservers.openssl_server(pki.ec, *EC13_ARGS, log_dir=server_logs) as srv:
        yield srv


@pytest.fixture(scope="module")
def big12(pki, server_logs):
    with refservers.openssl_server(pki.big, *RSA12_ARGS, log_dir=server_logs) as srv:
        yield srv


@pytest.fixture(scope="module")
def other_root(tmp_path_factory):
    """An ECDSA root that signed nothing the servers send (a wrong trust anchor)."""
    return refservers.make_ca(tmp_path_factory.mktemp("other"), "other", "tlsfit other root",
                              "ec:P-384").pem


class SilentServer:
    """Accepts connections on 127.0.0.1 and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.is_set():
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                continue

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)
        for c in self.conns:
            c.close()
        self.sock.close()


_results = {}


def measured(config, target, srv, pki_chain, **kw):
    """measure() against srv with the chain's root, memoised per arguments."""
    key = (str(config), target, srv.port, str(pki_chain.root.pem), tuple(sorted(kw.items())))
    if key not in _results:
        _results[key] = measure.measure(config, target, "127.0.0.1", srv.port, sni="localhost",
                                        ca=pki_chain.root.pem, timeout=TIMEOUT, progress=False,
                                        **kw)
    return _results[key]


def explain(r):
    small = {k: v for k, v in r.items() if k != "modules"}
    return json.dumps(small, indent=1)


def run_cli(*args, timeout=300):
    env = dict(os.environ, PYTHONPATH=str(REPO / "tool"))
    python = DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable
    return subprocess.run([python, "-m", "tlsfit.cli", "measure", *map(str, args)], cwd=REPO,
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


def _parent(pid):
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
        return int(stat[stat.rindex(")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _ours_or_orphaned(pid):
    """Whether pid descends from this process, or is an orphan (its parent is init): not
    a process another pytest-xdist worker runs (the image cache shares an ELF's path)."""
    me, parent = os.getpid(), _parent(pid)
    if parent <= 1:
        return True
    while parent > 1:
        if parent == me:
            return True
        parent = _parent(parent)
    return False


def qemu_processes_for(path):
    """PIDs whose command line mentions path, started by this process (QEMU must never
    outlive measure()) or orphaned."""
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if str(path).encode() in (d / "cmdline").read_bytes() and \
                        _ours_or_orphaned(int(d.name)):
                    found.append(int(d.name))
            except OSError:
                pass
    return found


def test_qemu_processes_for_sees_its_own_child(tmp_path):
    """The leftover check can fail: a live child naming the path is found."""
    marker = tmp_path / "marker.elf"
    child = subprocess.Popen([DEBIAN_PYTHON, "-c", "import time; print('ready', flush=True); "
                              "time.sleep(30)", str(marker)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"     # it runs: its argv is in place
        assert qemu_processes_for(marker) == [child.pid]
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert qemu_processes_for(marker) == []


def assert_sane(r, target):
    """Facts every completed measurement must satisfy."""
    assert r["target"] == target
    assert r["handshake"]["ok"] is True, explain(r)
    assert 0 < r["rom_tls_bytes"] < r["rom_bytes"] <= fw.load_target(target)["flash_size"]
    mods = r["modules"]
    assert sum(m["rom_bytes"] for m in mods) == r["rom_tls_bytes"]
    assert [m["rom_bytes"] for m in mods] == sorted((m["rom_bytes"] for m in mods), reverse=True)
    assert {m["library"] for m in mods} == {"libmbedcrypto.a", "libmbedx509.a", "libmbedtls.a"}
    names = {m["name"] for m in mods}
    assert {"ssl_tls.o", "x509_crt.o", "bignum.o"} <= names, names
    assert 0 < r["ram_static_bytes"] < 64 * 1024
    assert 1024 < r["heap_peak_bytes"] < 256 * 1024
    assert r["heap_allocs"] > 10 and 0 < r["heap_largest_block"] <= r["heap_peak_bytes"]
    assert r["heap_alloc_failed"] is False
    at_peak = r["heap_peak_blocks"]
    assert sum(at_peak["blocks"]) + at_peak["untracked"] == r["heap_peak_bytes"], at_peak
    assert max(at_peak["blocks"]) <= r["heap_largest_block"]
    floor = r["heap_floor"]                  # target/heapfloor.py; tests/test_heapfloor.py
    assert 0 < floor["heap_floor_bytes"] <= r["heap_peak_bytes"] == sum(floor["groups"].values())
    assert 256 < r["stack_peak_bytes"] < fw.DEFAULT_STACK_SIZE
    assert r["handshake_instructions"] > 1_000_000
    assert set(r["elapsed_ms"]) >= {"build", "link", "run"}
    assert r["handshake"]["error"] is None


# --------------------------------------------------------------- unit tests

MAP_SAMPLE = """\
Archive member included to satisfy reference by file (symbol)

/x/lib/libmbedcrypto.a(aes.o)  /x/tls_client.o (mbedtls_aes_init)

Discarded input sections

 .text          0x00000000        0x0 /x/startup.o
 .text.mbedtls_aes_unused
                0x00000000       0x40 /x/lib/libmbedcrypto.a(aes.o)

Memory Configuration

Name             Origin             Length             Attributes
FLASH            0x00000000         0x00400000         xr

Linker script and memory map

LOAD /x/startup.o
START GROUP
LOAD /x/lib/libmbedtls.a
END GROUP

.text           0x00000000     0x1000
 *(.tf_vectors)
 .tf_vectors    0x00000000      0x140 /x/startup.o
                0x00000000                tf_vectors
 *(.text .text.* .gnu.linkonce.t.*)
 .text.mbedtls_aes_setkey_enc
                0x00000140      0x120 /x/lib/libmbedcrypto.a(aes.o)
                0x00000140                mbedtls_aes_setkey_enc
 *fill*         0x00000260        0x4 
 .text.mbedtls_ssl_handshake_step
                0x00000264       0x88 /x/lib/libmbedtls.a(ssl_tls.o)
 .rodata.FSb    0x000002ec      0x100 /x/lib/libmbedcrypto.a(aes.o)
 .text.memcpy   0x000003ec       0x20 /usr/lib/arm-none-eabi/lib/libc_nano.a(libc_a-memcpy.o)

.data           0x20000000        0x8 load address 0x00001000
 .data.mbedtls_calloc_func
                0x20000000        0x4 /x/lib/libmbedcrypto.a(platform.o)

.bss            0x20000008       0x20
 .bss.ctx       0x20000008       0x10 /x/lib/libmbedx509.a(x509_crt.o)
 COMMON         0x20000018       0x10 /x/tls_client.o
                0x20000018                cl

.debug_info     0x00000000     0x5000
 .debug_info    0x00000000     0x5000 /x/lib/libmbedcrypto.a(aes.o)
"""


def test_parse_map_and_tls_sizes():
    secs = linkmap.parse_map(MAP_SAMPLE)
    by = {(s.name, s.member): s for s in secs}
    assert ("*fill*", "") not in by
    assert ".text.mbedtls_aes_unused" not in {s.name for s in secs}     # discarded
    s = by[(".text.mbedtls_aes_setkey_enc", "aes.o")]
    assert (s.output, s.address, s.size, s.archive, s.kind) == \
        (".text", 0x140, 0x120, "libmbedcrypto.a", "text")
    assert by[("COMMON", "tls_client.o")].kind == "bss"
    assert by[(".debug_info", "aes.o")].kind is None
    rom, ram, modules = linkmap.tls_sizes(secs)
    assert rom == 0x120 + 0x100 + 0x88 + 0x4
    assert ram == 0x4 + 0x10
    assert modules[0] == {"name": "aes.o", "library": "libmbedcrypto.a", "rom_bytes": 0x220,
                          "text": 0x120, "rodata": 0x100, "data": 0, "bss": 0}
    assert [m["name"] for m in modules] == ["aes.o", "ssl_tls.o", "platform.o", "x509_crt.o"]
    assert modules[-1]["rom_bytes"] == 0 and modules[-1]["bss"] == 0x10


def test_parse_map_rejects_other_text():
    with pytest.raises(ValueError):
        linkmap.parse_map("hello\n")


def _record(rtype, body, version=b"\x03\x03"):
    return bytes([rtype]) + version + len(body).to_bytes(2, "big") + body


def _handshake(htype, body):
    return bytes([htype]) + len(body).to_bytes(3, "big") + body


def test_wire_observer_tls13_key_share_and_tls12_curve():
    exts = (b"\x00\x2b\x00\x02\x03\x04" +                       # supported_versions 1.3
            b"\x00\x33\x00\x45\x00\x17\x00\x41" + b"\x04" * 0x41)  # key_share secp256r1
    sh = (b"\x03\x03" + b"\x11" * 32 + b"\x00" + b"\x13\x01" + b"\x00" +
          len(exts).to_bytes(2, "big") + exts)
    o = WireObserver()
    data = _record(22, _handshake(2, sh)) + _record(20, b"\x01") + _record(23, b"\x00" * 5000)
    for i in range(0, len(data), 7):                       # byte-dribbled, as over a UART
        o.feed(data[i:i + 7])
    assert (o.version, o.suite_id, o.group_id) == (0x0304, 0x1301, 0x0017)
    assert o.largest_record == 5000 and o.records == 3 and not o.plaintext

    sh12 = b"\x03\x03" + b"\x22" * 32 + b"\x00" + b"\xc0\x2b" + b"\x00"
    ske = b"\x03\x00\x1d\x20" + b"\x05" * 32 + b"\x04\x03\x00\x02\x30\x00"
    o = WireObserver()
    o.feed(_record(22, _handshake(2, sh12) + _handshake(12, ske)) + _record(21, b"\x02\x28"))
    assert (o.version, o.suite_id, o.group_id, o.alert) == (0x0303, 0xC02B, 0x001D, (2, 40))


def test_wire_observer_counts_a_record_header_before_its_body():
    o = WireObserver()
    o.feed(_record(22, b"\x0b" + b"\x00" * 9000)[:100])   # only the start of a big record
    assert o.largest_record == 9001 and o.records == 0


def test_names_come_from_the_tree(tree36):
    names = mbedtls_names.Names(tree36)
    assert names.error(-0x7100) == "MBEDTLS_ERR_SSL_BAD_INPUT_DATA"
    assert names.error(-0x2700) == "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED"
    assert names.error(-0x7F00) == "MBEDTLS_ERR_SSL_ALLOC_FAILED"
    assert names.error(-0x3000 - 0x10) == \
        "MBEDTLS_ERR_X509_FATAL_ERROR + MBEDTLS_ERR_MPI_ALLOC_FAILED"
    assert names.ssl_state(3) == "MBEDTLS_SSL_SERVER_CERTIFICATE"
    assert names.ssl_state(27) == "MBEDTLS_SSL_HANDSHAKE_OVER"
    assert names.verify_flags(0x08) == ["MBEDTLS_X509_BADCERT_NOT_TRUSTED"]
    assert names.psa_status(-148) == "PSA_ERROR_INSUFFICIENT_ENTROPY"
    old = mbedtls_names.Names(resolve_tree(line="2.28"))
    assert old.ssl_state(16) == "MBEDTLS_SSL_HANDSHAKE_OVER"     # the enums differ


def test_run_params_and_anchors(pki, tmp_path):
    ders = measure.read_anchors(pki.ec.root.pem)
    assert ders == [pki.ec.root.der]
    bundle = tmp_path / "bundle.der"
    bundle.write_bytes(pki.ec.root.der + pki.rsa.root.der)
    assert measure.read_anchors(bundle) == [pki.ec.root.der, pki.rsa.root.der]
    text = measure.run_params_c(ders, 'a"b\\c', 1234, (1, 2, 3, 4))
    assert f"anchor0[{len(ders[0])}]" in text and ".anchor_count = 1" in text
    assert '.sni = "a\\x22b\\x5cc"' in text and ".heap_limit = 1234u" in text
    empty = tmp_path / "empty.pem"
    empty.write_text("nothing\n")
    with pytest.raises(TlsfitError):
        measure.read_anchors(empty)


# ---------------------------------------------------------- cross building

def test_cross_build_is_cached_and_safe_in_parallel(tree36, tmp_path):
    first = xbuild.cross_build(TLS12_EC, "cortex-m4", tree36, progress=False)
    cpu = time.process_time()       # CPU, not wall: another worker may load the machine
    again = xbuild.cross_build(TLS12_EC, "cortex-m4", tree36, progress=False)
    assert again.cached and again.dir == first.dir and time.process_time() - cpu < 1.0
    assert all(p.is_file() for p in again.libs)
    assert measure.cross_build(TLS12_EC, "cortex-m4", tree36, progress=False) == first.lib_dir
    # A header that differs only in comments is the same build (gen's comments name ports).
    commented = tmp_path / "commented.h"
    commented.write_text(TLS12_EC.read_text() + f"/* {time.time()} */\n")
    assert xbuild.cross_build(commented, "cortex-m4", tree36, progress=False).dir == first.dir
    # A new key (one more define): two threads build it once.
    variant = tmp_path / "variant.h"
    variant.write_text(TLS12_EC.read_text() + f"#define TLSFIT_TEST_VARIANT {time.time_ns()}\n")
    got = []
    threads = [threading.Thread(target=lambda: got.append(
        xbuild.cross_build(variant, "cortex-m4", tree36, progress=False))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert len(got) == 2 and got[0].dir == got[1].dir
    assert sorted(x.cached for x in got) == [False, True]


def test_check_config_rejection_is_one_line(tmp_path):
    bad = tmp_path / "tls_config.h"
    bad.write_text(TLS12_EC.read_text().replace("#define MBEDTLS_ECDSA_C\n", ""))
    proc = run_cli("--config", bad, "--target", "cortex-m4", "--server", "127.0.0.1:9",
                   "--ca", TLS12_EC, "--json", timeout=120)
    assert proc.returncode == CONFIG, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == ["tlsfit: tls_config.h: rejected by mbedTLS check_config.h: "
                     "MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED defined, but not all "
                     "prerequisites"], proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["handshake"] is None and doc["error"]["exit_code"] == CONFIG


def test_unknown_target_is_a_usage_error():
    proc = run_cli("--config", TLS12_EC, "--target", "cortex-m0", "--server", "127.0.0.1:9",
                   timeout=60)
    assert proc.returncode == 2 and "unknown target 'cortex-m0'" in proc.stderr


# ------------------------------------------------------------ handshakes

@pytest.mark.parametrize("target", TARGETS)
def test_every_target_completes_a_tls12_handshake(target, ec12, pki):
    r = measured(TLS12_EC, target, ec12, pki.ec)
    assert_sane(r, target)
    hs = r["handshake"]
    assert (hs["version"], hs["ciphersuite"], hs["group"]) == \
        ("TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "secp256r1"), explain(r)
    assert hs["ciphersuite_id"] == "0xC02B"
    assert r["config"]["sha256"] == hashlib.sha256(TLS12_EC.read_bytes()).hexdigest()
    assert r["mbedtls"].startswith("3.6.")
    assert r["in_content_len"] == 4096 and r["out_content_len"] == 1024
    assert r["overlay"] == []          # the header already has everything the harness needs
    # Cross-check the ROM and RAM figures against binutils.
    out = subprocess.run(["arm-none-eabi-size", "-A", r["artifacts"]["elf"]],
                         capture_output=True, text=True, check=True).stdout
    sizes = {ln.split()[0]: int(ln.split()[1]) for ln in out.splitlines()[2:] if ln.split()}
    assert r["ram_static_bytes"] == sizes[".data"] + sizes[".bss"]
    assert sizes[".text"] + sizes[".data"] <= r["rom_bytes"] <= \
        sizes[".text"] + sizes[".data"] + sizes.get(".ARM.exidx", 0) + 64


def test_tls13_handshake(ec13, pki):
    r = measured(TLS13_EC, "cortex-m4", ec13, pki.ec)
    assert_sane(r, "cortex-m4")
    hs = r["handshake"]
    assert (hs["version"], hs["ciphersuite"], hs["group"]) == \
        ("TLSv1.3", "TLS_AES_128_GCM_SHA256", "secp256r1"), explain(r)
    assert "psa_crypto.o" in {m["name"] for m in r["modules"]}


def test_mbedtls_228(ec12, pki, tree36):
    r = measure.measure(TLS12_EC_228, "cortex-m3", "127.0.0.1", ec12.port, sni="localhost",
                        ca=pki.ec.root.pem, line="2.28", timeout=TIMEOUT, progress=False)
    assert_sane(r, "cortex-m3")
    assert r["mbedtls"].startswith("2.28.")
    hs = r["handshake"]
    assert (hs["version"], hs["ciphersuite"], hs["group"]) == \
        ("TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "secp256r1"), explain(r)


# ------------------------------------------------------------- failures

def test_undersized_in_content_len_is_reported(big12, pki, tmp_path):
    """IN_CONTENT_LEN 4096 against a server whose Certificate record is ~7 KiB:
    mbedTLS 3.6.6 on the target reports MBEDTLS_ERR_SSL_BAD_INPUT_DATA (the
    record does not fit its input buffer), not INVALID_RECORD, while reading
    the server's Certificate.  Through the CLI: JSON on stdout, exit 41."""
    proc = run_cli("--config", TLS12_RSA_SMALL, "--target", "cortex-m4",
                   "--server", big12.hostport, "--sni", "localhost", "--ca", pki.big.root.pem,
                   "--json")
    assert proc.returncode == TARGET, proc.stderr
    r = json.loads(proc.stdout)
    hs = r["handshake"]
    assert hs["ok"] is False
    assert (hs["error"], hs["code"], hs["state"], hs["step"]) == \
        ("MBEDTLS_ERR_SSL_BAD_INPUT_DATA", "-0x7100", "MBEDTLS_SSL_SERVER_CERTIFICATE",
         "handshake"), explain(r)
    assert r["wire"]["largest_record"] > 4096
    assert "a record larger than MBEDTLS_SSL_IN_CONTENT_LEN (4096)" in hs["hint"]
    assert f"{r['wire']['largest_record']} bytes" in hs["hint"]
    assert r["heap_alloc_failed"] is False
    assert "MBEDTLS_ERR_SSL_BAD_INPUT_DATA" in proc.stderr.splitlines()[-1]
    # The positive control: the same header with a 16 KiB input buffer.
    big_in = tmp_path / "tls_config.h"
    big_in.write_text(TLS12_RSA_SMALL.read_text().replace(
        "MBEDTLS_SSL_IN_CONTENT_LEN 4096", "MBEDTLS_SSL_IN_CONTENT_LEN 16384"))
    ok = measured(big_in, "cortex-m4", big12, pki.big)
    assert_sane(ok, "cortex-m4")
    assert (ok["handshake"]["version"], ok["handshake"]["ciphersuite"], ok["handshake"]["group"]) \
        == ("TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "secp256r1")
    assert ok["heap_largest_block"] > 16384
    assert ok["heap_peak_blocks"]["blocks"][0] > 16384    # the input buffer is held at the peak


def test_heap_limit_too_small(ec12, pki):
    full = measured(TLS12_EC, "cortex-m4", ec12, pki.ec)
    limit = full["heap_peak_bytes"] * 9 // 10
    r = measured(TLS12_EC, "cortex-m4", ec12, pki.ec, heap_limit=limit)
    hs = r["handshake"]
    assert hs["ok"] is False and r["heap_alloc_failed"] is True, explain(r)
    assert r["heap_limit"] == limit and r["heap_peak_bytes"] <= limit
    assert hs["error"].startswith("MBEDTLS_ERR_") and hs["code"].startswith("-0x")
    assert hs["step"] == "handshake" and hs["state"].startswith("MBEDTLS_SSL_")
    assert "was refused" in hs["hint"] and str(limit) in hs["hint"]
    # Too small even for the I/O buffers: mbedtls_ssl_setup() fails.
    r = measured(TLS12_EC, "cortex-m4", ec12, pki.ec, heap_limit=3000)
    hs = r["handshake"]
    assert (hs["error"], hs["code"], hs["step"], hs["state"]) == \
        ("MBEDTLS_ERR_SSL_ALLOC_FAILED", "-0x7F00", "setup", None), explain(r)
    assert r["heap_alloc_failed"] is True and r["heap_failed_request_bytes"] > 3000 - \
        r["heap_peak_bytes"]
    assert r["handshake_instructions"] is None


def test_wrong_trust_anchor(ec12, pki, other_root):
    r = measure.measure(TLS12_EC, "cortex-m4", "127.0.0.1", ec12.port, sni="localhost",
                        ca=other_root, timeout=TIMEOUT, progress=False)
    hs = r["handshake"]
    assert (hs["ok"], hs["error"], hs["code"], hs["state"]) == \
        (False, "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED", "-0x2700",
         "MBEDTLS_SSL_SERVER_CERTIFICATE"), explain(r)
    assert hs["verify_flags"] == ["MBEDTLS_X509_BADCERT_NOT_TRUSTED"]
    assert r["heap_alloc_failed"] is False
    assert "trust anchor" in hs["hint"]


@pytest.mark.server     # a silent TCP listener of its own
def test_silent_server_times_out_and_qemu_is_killed(pki):
    with SilentServer() as srv:
        start = time.monotonic()
        r = measure.measure(TLS12_EC, "cortex-m4", "127.0.0.1", srv.port, sni="localhost",
                            ca=pki.ec.root.pem, timeout=3, progress=False)
        took = time.monotonic() - start
    hs = r["handshake"]
    assert (hs["ok"], hs["error"], hs["state"]) == \
        (False, "timeout", "MBEDTLS_SSL_SERVER_HELLO"), explain(r)
    assert 3 <= r["elapsed_ms"]["run"] / 1000 < 10 and took < 30
    assert r["heap_peak_bytes"] is None and r["rom_bytes"] > 0
    assert qemu_processes_for(r["artifacts"]["elf"]) == []


def test_unreachable_server_is_a_failed_handshake(pki):
    port = refservers.free_port()
    r = measure.measure(TLS12_EC, "cortex-m4", "127.0.0.1", port, sni="localhost",
                        ca=pki.ec.root.pem, timeout=10, progress=False)
    hs = r["handshake"]
    assert (hs["ok"], hs["error"], hs["step"]) == (False, "connect_failed", "connect")
    assert f"port {port}" in hs["message"]


# ------------------------------------------------------------- baseline

def test_baseline_and_ratios(ec12, pki, tree36):
    proc = run_cli("--config", TLS12_EC, "--target", "cortex-m4", "--server", ec12.hostport,
                   "--sni", "localhost", "--ca", pki.ec.root.pem, "--baseline", "--json")
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    check_shape(r, "measure.shape.json")     # every key measure --json had before issue 12
    b = r["baseline"]
    assert_sane(r, "cortex-m4")
    assert_sane(b, "cortex-m4")
    assert b["config"]["preset"] == "baremetal_size"
    assert b["config"]["source"].endswith("include/mbedtls/mbedtls_config.h")
    header = Path(b["config"]["path"])
    assert header.is_relative_to(xbuild.xbuild_root())        # a copy, never the tree
    text = header.read_text()
    assert "#define MBEDTLS_ENTROPY_HARDWARE_ALT" in text
    assert "\n#define MBEDTLS_PSA_CRYPTO_BUILTIN_KEYS" not in text
    assert "\n#define MBEDTLS_SELF_TEST" not in text and "\n#define MBEDTLS_DEBUG_C" not in text
    hs = b["handshake"]
    assert (hs["version"], hs["ciphersuite"], hs["group"]) == \
        ("TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "secp256r1")
    for k, v in r["ratios"].items():
        assert v == round(r[k] / b[k], 3), k
    assert r["ratios"]["rom_tls_bytes"] < 0.6 and r["ratios"]["heap_peak_bytes"] < 1
    assert "tlsfit: running the baseline handshake" in proc.stderr


# ------------------------------------------------------------- speed

def test_second_measure_reuses_the_cross_build(ec12, pki):
    """Cached, not timed (bench/measure_bench.py has the figures): no cross-build the
    second time."""
    measured(TLS12_EC, "cortex-m4", ec12, pki.ec)          # warm the cache
    proc = run_cli("--config", TLS12_EC, "--target", "cortex-m4", "--server", ec12.hostport,
                   "--sni", "localhost", "--ca", pki.ec.root.pem)
    assert proc.returncode == 0, proc.stderr
    assert [line.strip() for line in proc.stdout.splitlines()
            if line.strip().startswith("handshake:")] == \
        ["handshake: ok, TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 secp256r1"]
    assert "cross-building" not in proc.stderr


def test_without_ca_the_root_comes_from_the_system_store(ec12, pki, tmp_path, monkeypatch):
    """No --ca: the root that issued the server's last certificate is looked up
    by its hashed name (as in /etc/ssl/certs); here a store holding the test root."""
    store = tmp_path / "certs"
    store.mkdir()
    h = subprocess.run(["openssl", "x509", "-noout", "-subject_hash", "-in", str(pki.ec.root.pem)],
                       capture_output=True, text=True, check=True).stdout.strip()
    (store / f"{h}.0").write_bytes(pki.ec.root.pem.read_bytes())
    (store / "unrelated.pem").write_bytes(pki.rsa.root.pem.read_bytes())
    monkeypatch.setattr(measure, "SYSTEM_STORE_DIR", store)
    r = measure.measure(TLS12_EC, "cortex-m4", "127.0.0.1", ec12.port, sni="localhost",
                        timeout=TIMEOUT, progress=False)
    assert r["handshake"]["ok"] is True, explain(r)
    assert r["ca"] == [str(store / f"{h}.0")]
    monkeypatch.setattr(measure, "SYSTEM_STORE_DIR", tmp_path / "empty")
    with pytest.raises(TlsfitError) as exc:
        measure.measure(TLS12_EC, "cortex-m4", "127.0.0.1", ec12.port, sni="localhost",
                        timeout=TIMEOUT, progress=False)
    assert "name it with --ca FILE" in exc.value.message


def test_instruction_count_is_stable(ec12, pki):
    """Same image, same server: the counts differ only by what the server's own
    random values change (its ephemeral key and signature), well under 1 %."""
    runs = [measure.measure(TLS12_EC, "cortex-m4", "127.0.0.1", ec12.port, sni="localhost",
                            ca=pki.ec.root.pem, timeout=TIMEOUT, progress=False)
            for _ in range(2)]
    a, b = (r["handshake_instructions"] for r in runs)
    assert abs(a - b) / a < 0.01, (a, b)
    assert runs[0]["rom_bytes"] == runs[1]["rom_bytes"]
    assert abs(runs[0]["heap_peak_bytes"] - runs[1]["heap_peak_bytes"]) <= 64


def test_overlay_fills_in_what_the_harness_needs(ec12, pki, tmp_path):
    """A header without the platform pieces (no PLATFORM_C/_MEMORY, OS entropy,
    no entropy source, no ms clock) still measures; the report lists what the
    overlay (tool/firmware/tlsfit_overlay.h) added."""
    lean = tmp_path / "tls_config.h"
    text = TLS12_EC.read_text()
    for name in ("MBEDTLS_PLATFORM_C", "MBEDTLS_PLATFORM_MEMORY", "MBEDTLS_NO_PLATFORM_ENTROPY",
                 "MBEDTLS_ENTROPY_HARDWARE_ALT", "MBEDTLS_PLATFORM_MS_TIME_ALT"):
        text = text.replace(f"#define {name}\n", "")
    lean.write_text(text)
    r = measured(lean, "cortex-m4", ec12, pki.ec)
    assert_sane(r, "cortex-m4")
    assert r["overlay"] == ["MBEDTLS_NO_PLATFORM_ENTROPY", "MBEDTLS_ENTROPY_HARDWARE_ALT",
                            "MBEDTLS_PLATFORM_C", "MBEDTLS_PLATFORM_MEMORY",
                            "MBEDTLS_PLATFORM_MS_TIME_ALT"]
    assert r["handshake"]["group"] == "secp256r1"


def test_firmware_calendar_time_is_the_hosts(tmp_path):
    """Certificates are checked against time(): newlib's time() is answered by
    semihosting SYS_TIME, the host's clock, also under -icount."""
    src = tmp_path / "now.c"
    src.write_text('#include <stdio.h>\n#include <time.h>\n'
                   'int main(void) { printf("TLSFIT-RESULT {\\"now\\":%lu}\\n", '
                   '(unsigned long)time(NULL)); return 0; }\n')
    elf = fw.build("cortex-m4", [src], tmp_path)
    r = fw.run_firmware(elf, "cortex-m4", None, 20, icount_shift=0)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert abs(fw.parse_result(r.stdout)["now"] - time.time()) < 10


def test_expired_certificate_is_named(pki, server_logs, tmp_path):
    """The image checks validity dates against the host's clock: a leaf whose
    notAfter is now (openssl x509 -days 0) is expired a second later."""
    d = tmp_path / "expired"
    d.mkdir()
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:false\n"
                               "keyUsage=critical,digitalSignature\n")
    subprocess.run(["openssl", "req", "-new", "-key", str(pki.ec.leaf.key), "-subj",
                    "/CN=localhost", "-out", str(d / "leaf.csr")], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", str(d / "leaf.csr"), "-CA",
                    str(pki.ec.inter.pem), "-CAkey", str(pki.ec.inter.key), "-set_serial", "77",
                    "-days", "0", "-extfile", str(d / "ext.cnf"), "-out", str(d / "leaf.pem")],
                   check=True, capture_output=True)
    leaf = refservers.Cert(d / "leaf.pem", pki.ec.leaf.key, "ec:P-256", "localhost")
    chain = refservers.Chain("expired", d, pki.ec.root, pki.ec.inter, leaf)
    time.sleep(1.5)
    with refservers.openssl_server(chain, *EC12_ARGS, log_dir=server_logs) as srv:
        r = measure.measure(TLS12_EC, "cortex-m4", "127.0.0.1", srv.port, sni="localhost",
                            ca=pki.ec.root.pem, timeout=TIMEOUT, progress=False)
    hs = r["handshake"]
    assert (hs["ok"], hs["error"], hs["state"], hs["verify_flags"]) == \
        (False, "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED", "MBEDTLS_SSL_SERVER_CERTIFICATE",
         ["MBEDTLS_X509_BADCERT_EXPIRED"]), explain(r)


def test_max_fragment_length_keeps_the_servers_records_small(pki, server_logs, run_probe,
                                                             run_driver, tmp_path):
    """gen asks an MFL-honouring server for 512-byte records (its 2 KiB input buffer then
    holds any application record); on the target the server's records stay within 512
    bytes of content, and without the request its Certificate record is whole."""
    with refservers.openssl_server(pki.rsa, "-tls1_2", log_dir=server_logs) as srv:
        res = run_probe(srv.hostport, "--sni", "localhost", "--ca", pki.rsa.root.pem)
        assert res.returncode == 0, res.explain()
        prof = Path(res.argv[res.argv.index("-o") + 1])
        cfg = tmp_path / "mfl" / "tls_config.h"
        cfg.parent.mkdir()
        proc = run_driver("gen", prof, "-o", cfg)
        assert proc.returncode == 0, proc.stderr
        text = cfg.read_text()
        assert "#define TLSFIT_MAX_FRAG_LEN MBEDTLS_SSL_MAX_FRAG_LEN_512" in text
        plain = tmp_path / "plain" / "tls_config.h"
        plain.parent.mkdir()
        plain.write_text("".join(line for line in text.splitlines(keepends=True)
                                 if "MAX_FRAG" not in line))
        with_mfl = measured(cfg, "cortex-m4", srv, pki.rsa)
        without = measured(plain, "cortex-m4", srv, pki.rsa)
    assert with_mfl["handshake"]["ok"] and without["handshake"]["ok"], explain(with_mfl)
    rec = res.profile["records"]
    assert rec["max_record_len"] > 1024
    # content + AEAD expansion (tag 16, explicit nonce 8 at most)
    assert with_mfl["wire"]["largest_record"] <= 512 + 24
    assert without["wire"]["largest_record"] == rec["max_record_len"]


def test_trust_anchor_the_header_cannot_parse(big12, pki, tmp_path):
    """MBEDTLS_MPI_MAX_SIZE 384 (RT-Thread's tuned header) cannot hold the RSA-4096 root:
    the firmware fails loading the anchor, before any handshake, and the hint says so."""
    cfg = tmp_path / "tls_config.h"
    cfg.write_text(TLS12_RSA_SMALL.read_text().replace(
        "MBEDTLS_SSL_IN_CONTENT_LEN 4096", "MBEDTLS_SSL_IN_CONTENT_LEN 16384")
        + "\n#undef MBEDTLS_MPI_MAX_SIZE\n#define MBEDTLS_MPI_MAX_SIZE 384\n")
    r = measured(cfg, "cortex-m4", big12, pki.big)
    hs = r["handshake"]
    assert (hs["ok"], hs["step"], hs["error"]) == \
        (False, "ca", "MBEDTLS_ERR_PK_INVALID_PUBKEY"), explain(r)
    assert "cannot parse the trust anchor" in hs["hint"]
    assert r["handshake_instructions"] is None
