"""Link-time optimisation as a measured option (`measure --lto`, issue 18 item 2).

One acceptance test: `tlsfit measure --lto both` on cortex-m4 against openssl
s_server on 127.0.0.1 (TLS 1.3, the test PKI's ECDSA chain): the LTO image and the
plain one both complete a verified handshake with exactly what the server was
configured with, the LTO image is smaller than the plain image of the same header
(an ordering, never a figure), the two builds are different cache entries and both
links wrote a .map.  The rest are unit tests of the flag plumbing and of the
LTO map attribution (pure functions).  Cold, the LTO cross build takes ~50 s on
2 cores (ccache keeps it for the next run) and the LTO link ~15 s.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_tools

from tlsfit.cli import main as cli_main
from tlsfit.core.errors import USAGE, TlsfitError
from tlsfit.lab import refservers
from tlsfit.mbedtls.tree import resolve_tree
from tlsfit.target import linkmap, measure, result, xbuild
from tlsfit.target.firmware import fw

REPO = Path(__file__).resolve().parent.parent
TLS13_EC = REPO / "tests" / "fixtures" / "measure" / "tls13_ecdhe_ecdsa.h"
EC13_ARGS = ("-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-groups", "P-256")
DEBIAN_PYTHON = "/usr/bin/python3"


# ------------------------------------------------------------------ unit: plumbing

def _parse(argv):
    return cli_main.build_parser(only=argv[0]).parse_args(argv)


@pytest.mark.parametrize("argv,mode", [
    ([], False), (["--lto"], True), (["--lto", "on"], True), (["--lto", "off"], False),
    (["--lto", "both"], "both")])
def test_the_lto_flag_reaches_measure_as_its_mode(argv, mode):
    common = ["--config", "x.h", "--target", "cortex-m4", "--server", "127.0.0.1:1"]
    args = _parse(["measure", *common, *argv])
    assert measure.lto_mode(args.lto) == mode


def test_fit_takes_the_lto_flag_too():
    assert _parse(["fit", "127.0.0.1:1", "--lto"]).lto == "on"
    assert _parse(["fit", "127.0.0.1:1"]).lto == "off"


class _Captured(Exception):
    pass


def test_fit_lto_reaches_the_fit_options(monkeypatch):
    """cli/fit.py hands --lto to search.fit as FitOptions.lto (the fit itself is not run:
    search.fit is replaced by a function that keeps its options)."""
    from tlsfit.cli import fit as fit_cli
    from tlsfit.fit import search
    seen = []

    def keep(target, opts, out_dir):
        seen.append(opts)
        raise _Captured()

    monkeypatch.setattr(search, "fit", keep)
    for argv, want in ((["--lto"], True), ([], False), (["--lto", "both"], True)):
        args = _parse(["fit", "127.0.0.1:1", *argv])
        with pytest.raises(_Captured):
            fit_cli.run(args)
        assert seen[-1].lto is want


def _doc(rom, tls, heap, ok=True, lto=None):
    doc = {"target": "cortex-m4", "server": "127.0.0.1:1", "mbedtls": "3.6.6",
           "handshake": {"ok": ok, "error": None if ok else "timeout"},
           "rom_bytes": rom, "rom_tls_bytes": tls, "ram_static_bytes": 100,
           "heap_peak_bytes": heap, "stack_peak_bytes": 900,
           "handshake_instructions": 1000, "modules": [{"name": "aes.o", "rom_bytes": 5}],
           "elapsed_ms": {"build": 0, "link": 700, "run": 0}}
    if lto:
        doc["lto"] = lto
    return result.Measurement.from_json(doc)


def test_the_fit_report_gives_both_figures_and_the_change():
    from tlsfit.fit import lto as fit_lto

    class Final:
        measurement = _doc(98000, 87000, 8000)

        def figures(self):
            return self.measurement.figures()

    facts = {"flags": {"compile": ["-flto"], "link": ["-flto"]}, "unattributed_rom_bytes": 300,
             "modules_from": "by name", "build": {"lto_compile_s": 50.0, "lto_link_ms": 17000}}
    s = fit_lto.section(Final(), [_doc(89000, 77000, 7990, lto=facts)])
    assert s["ok"] is True and s["rom_tls_bytes"] == 77000
    assert s["without_lto"]["rom_tls_bytes"] == 87000
    assert s["change"]["rom_tls_bytes"] == -10000 and s["change"]["heap_peak_bytes"] == -10
    assert s["build"] == {"lto_compile_s": 50.0, "lto_link_ms": 17000, "plain_link_ms": 700}
    assert "| mbedTLS's share | 87000 | 77000 | -10000 |" in fit_lto.md_lines(s)
    failed = fit_lto.section(Final(), [_doc(89000, 77000, None, ok=False, lto=facts)])
    assert failed["ok"] is False and failed["failures"]


def test_an_unknown_lto_mode_is_a_usage_error():
    with pytest.raises(TlsfitError) as exc:
        measure.lto_mode("fast")
    assert exc.value.code == USAGE and "--lto fast" in exc.value.message


def test_lto_compiles_fat_objects_and_links_with_flto():
    tree = resolve_tree(line="3.6")
    work = Path("/nonexistent/build")
    plain = xbuild.lib_compile_argv(tree, "cortex-m4", work, work / "a.c", work / "a.o", [])
    lto = xbuild.lib_compile_argv(tree, "cortex-m4", work, work / "a.c", work / "a.o", [],
                                  lto=True)
    assert "-flto" not in plain and "-ffat-lto-objects" not in plain
    assert "-flto" in lto and "-ffat-lto-objects" in lto and "-Os" in lto
    assert [f for f in lto if f not in fw.LTO_CFLAGS] == plain


def test_the_lto_build_has_its_own_cache_key():
    tree = resolve_tree(line="3.6")
    data = TLS13_EC.read_bytes()
    plain = xbuild.build_key(data, "cortex-m4", tree)
    assert xbuild.build_key(data, "cortex-m4", tree, lto=True) != plain
    assert xbuild.build_key(data, "cortex-m4", tree, lto=False) == plain


@pytest.mark.parametrize("section,symbol", [
    (".text.mbedtls_aes_init", "mbedtls_aes_init"),
    (".text.ssl_write_real.constprop.0", "ssl_write_real"),
    (".text.mbedtls_mpi_mul_int_mod.part.0.lto_priv.0", "mbedtls_mpi_mul_int_mod"),
    (".rodata.eckey_debug.lto_priv.0.str1.1", "eckey_debug"),
    (".rodata.tf_reset.str1.4", "tf_reset"),
    (".gnu.lto_ecp_mul_comb.67.d9dce364ee6a7161", "ecp_mul_comb"),
    (".text", None), ("COMMON", None), (".tf_vectors", None)])
def test_symbol_of_a_section_name(section, symbol):
    assert linkmap.symbol_of(section) == symbol


PLAIN_MAP = """\
Archive member included to satisfy reference by file (symbol)

Discarded input sections

 .gnu.lto_ecp_mul_comb.67.d9dce364ee6a7161
                0x00000000      0x3ca /c/lib/libmbedcrypto.a(ecp.o)
 .gnu.lto_main.3.5f642771a831caa9
                0x00000000       0x40 /r/tls_client.obj/tls_client.o

Memory Configuration

Linker script and memory map

.text           0x00000000     0x1000
 .text.main     0x00000000       0x20 /r/tls_client.obj/tls_client.o
 .text.mbedtls_aes_init
                0x00000020       0x10 /c/lib/libmbedcrypto.a(aes.o)
"""

LTO_MAP = """\
Linker script and memory map

.text           0x00000000     0x1000
 .text.main     0x00000000       0x30 /tmp/ccX.ltrans0.ltrans.o
 .text.mbedtls_aes_init
                0x00000030       0x10 /tmp/ccX.ltrans0.ltrans.o
 .text.ecp_mul_comb.constprop.0
                0x00000040      0x100 /tmp/ccX.ltrans1.ltrans.o
 .rodata        0x00000140        0x8 /tmp/ccX.ltrans1.ltrans.o
 .text.memcpy   0x00000148        0x4 /usr/lib/libc_nano.a(lib_a-memcpy.o)
"""


def test_lto_sections_are_attributed_to_the_object_defining_their_name():
    sections, unattributed = linkmap.attribute_lto(linkmap.parse_map(LTO_MAP), PLAIN_MAP)
    rom, _, modules = linkmap.tls_sizes(sections)
    assert {m["name"]: m["rom_bytes"] for m in modules} == {"ecp.o": 0x100, "aes.o": 0x10}
    assert rom == 0x110
    assert unattributed == 8          # the anonymous .rodata; main is the harness's


# ------------------------------------------------------------------ acceptance

@pytest.fixture(scope="module")
def ec13(pki, server_logs):
    require_tools()
    with refservers.openssl_server(pki.ec, *EC13_ARGS, log_dir=server_logs) as srv:
        yield srv


def test_measure_lto_both_verifies_and_is_smaller_than_the_plain_image(ec13, pki):
    env = dict(os.environ, PYTHONPATH=str(REPO / "tool"))
    python = DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable
    proc = subprocess.run(
        [python, "-m", "tlsfit.cli", "measure", "--config", str(TLS13_EC), "--target",
         "cortex-m4", "--server", ec13.hostport, "--sni", "localhost", "--ca",
         str(pki.ec.root.pem), "--lto", "both", "--json"],
        cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads(proc.stdout)
    plain = r["without_lto"]
    for m in (r, plain):
        hs = m["handshake"]
        assert hs["ok"] is True, hs
        assert (hs["version"], hs["ciphersuite"], hs["group"]) == \
            ("TLSv1.3", "TLS_AES_128_GCM_SHA256", "secp256r1")
        assert hs["proof"] == "no-alert" and hs["proof_result"]["ok"] is True
        assert Path(m["artifacts"]["map"]).is_file()          # every link writes a .map
    # Ordering, not figures: LTO makes this header's image and mbedTLS's share smaller.
    assert r["rom_bytes"] < plain["rom_bytes"]
    assert r["rom_tls_bytes"] < plain["rom_tls_bytes"]
    assert r["lto_change"]["rom_bytes"] == r["rom_bytes"] - plain["rom_bytes"]
    # The plain link of the LTO build's fat objects is the plain build's image, give or
    # take a few bytes (GCC compiles the fat objects' code a hair differently: 4 B in
    # ssl_msg.o for this header, absorbed by alignment).
    assert abs(r["lto"]["rom_bytes_without_lto"] - plain["rom_bytes"]) <= 64
    assert r["lto"]["unattributed_rom_bytes"] < r["rom_bytes"] - r["rom_tls_bytes"]
    assert {m["name"] for m in r["modules"]} <= {m["name"] for m in plain["modules"]}
    # Two cache entries, one of them built with -flto.
    lto_dir, plain_dir = Path(r["artifacts"]["mbedtls_build"]), \
        Path(plain["artifacts"]["mbedtls_build"])
    assert lto_dir != plain_dir
    assert json.loads((lto_dir / "done.json").read_text())["lto"] is True
    assert json.loads((plain_dir / "done.json").read_text()).get("lto") in (None, False)
    assert r["lto"]["build"]["lto_link_ms"] > 0 and r["lto"]["build"]["plain_link_ms"] > 0
