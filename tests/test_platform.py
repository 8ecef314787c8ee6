"""`gen --for esp-idf|zephyr|zephyr-cfg-file|rt-thread` (issue 17).

Each output is read back from the files gen wrote, independently of the generator:
the fragment parses as Kconfig assignments, every symbol comes from the platform's
mapping table, every option the table names exists in the tree's mbedtls_config.h,
and the platform's model (its defaults, the fragment, the overlay; modelled from the
table) defines exactly the options of the bare-metal header for the same decision.
For a local ECDSA and a local RSA server the equivalent header, rendered from that
model, then completes a verified handshake with `tlsfit verify`.
"""
import re
from pathlib import Path

import pytest

from tlsfit.core.errors import PLATFORM
from tlsfit.header import platforms
from tlsfit.header.platforms import evaluate, outputs
from tlsfit.lab import refservers
from tlsfit.mbedtls.tree import resolve_tree

REPO = Path(__file__).resolve().parent.parent
CORPUS = sorted((REPO / "tests" / "fixtures" / "compat").glob("*.json"))
CORPUS = [p for p in CORPUS if not p.name.endswith((".shape.json",))]
KCONFIG_LINE = re.compile(r'^(CONFIG_[A-Z0-9_]+)=(y|n|-?[0-9]+|"[^"\n]*")$')


@pytest.fixture(scope="module")
def tree():
    return resolve_tree(line="3.6")


def read_fragment(text):
    """{symbol: value} of a Kconfig fragment; every line is a comment, blank, or an
    assignment (else the test fails naming the line)."""
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = KCONFIG_LINE.match(line)
        assert m, f"line {n} is not a Kconfig assignment: {line!r}"
        assert m.group(1) not in out, f"{m.group(1)} assigned twice"
        v = m.group(2)
        out[m.group(1)] = True if v == "y" else False if v == "n" else \
            v if v.startswith('"') else int(v)
    return out


read_overlay = evaluate.read_overlay     # [(op, name, value)] of the #undef / #define lines


def bare(run_driver, profile, tmp_path, *args):
    out = tmp_path / "bare.h"
    proc = run_driver("gen", profile, "-o", out, *args)
    assert proc.returncode == 0, proc.stderr
    return out.read_text()


def rank_args(name):
    """--for esp-idf ranks by the ESP32's hardware costs: its bare-metal equivalent is
    gen's header with --rank-for esp-idf (issue 24)."""
    return ("--rank-for", name) if name in platforms.RANKED else ()


def platform_files(run_driver, profile, tmp_path, fmt, *args):
    d = tmp_path / fmt
    proc = run_driver("gen", profile, "--for", fmt, "-o", d, *args)
    assert proc.returncode == 0, proc.stderr
    return d


def check_equivalent(name, d, bare_text, tree):
    """The fragment and overlay in d, through the platform's model, against the bare
    header: returns the model's state (options the platform owns excluded)."""
    p = platforms.load(name)
    frag = read_fragment((d / p.fragment).read_text())
    known = {s.kconfig for s in p.symbols} | {s[0] for s in p.preamble}
    assert set(frag) <= known, f"symbols not in the table: {sorted(set(frag) - known)}"
    for sym, value, _ in p.preamble:
        assert frag[sym] == read_fragment(f"{sym}={value}")[sym], sym
    ops = read_overlay((d / p.overlay).read_text())
    state = platforms.effective(p, frag, ops, platforms.tree_defaults(tree))
    want = platforms.parse_defines(bare_text)
    want.pop("TLSFIT_TLS_CONFIG_H")
    assert platforms.compared(p, state) == platforms.compared(p, want)
    return platforms.compared(p, state)


@pytest.mark.parametrize("name", sorted(platforms.TABLES))
def test_table_options_exist_in_the_tree(name, tree):
    """Every option a table names (symbols, derived) is one mbedTLS 3.6 knows; the
    options the port header defines always (fixed) are 3.6's or 2.28's (ESP-IDF v5.5.5's
    esp_config.h still defines a few 2.x names, which 3.6 ignores)."""
    p = platforms.load(name)
    known = platforms.tree_options(tree)
    named = {o for s in p.symbols for o in s.options} | \
        {o for d in p.derived for o in d.options}
    assert named, name
    assert named <= known, sorted(named - known)
    fixed = {f.split(" ")[0] for f in p.fixed}
    older = platforms.tree_options(resolve_tree(line="2.28"))
    assert fixed <= known | older, sorted(fixed - known - older)
    for s in p.symbols:
        assert s.kconfig.startswith("CONFIG_MBEDTLS_"), s.kconfig
    assert p.source and p.versions


@pytest.mark.parametrize("name", ["esp-idf", "zephyr"])
@pytest.mark.parametrize("profile", CORPUS, ids=lambda p: p.stem)
def test_fragment_and_overlay_equal_the_bare_header(name, profile, run_driver, tmp_path, tree):
    text = bare(run_driver, profile, tmp_path, *rank_args(name))
    d = platform_files(run_driver, profile, tmp_path, name)
    state = check_equivalent(name, d, text, tree)
    assert "MBEDTLS_SSL_CIPHERSUITES" in state and "MBEDTLS_SSL_IN_CONTENT_LEN" in state
    frag = read_fragment((d / platforms.load(name).fragment).read_text())
    if name == "esp-idf":
        assert frag["CONFIG_MBEDTLS_CERTIFICATE_BUNDLE"] is False
        assert frag["CONFIG_MBEDTLS_DYNAMIC_BUFFER"] is False
        assert frag["CONFIG_MBEDTLS_TLS_CLIENT_ONLY"] is True
        if "MBEDTLS_SSL_PROTO_TLS1_3" in state:
            assert frag["CONFIG_MBEDTLS_SSL_PROTO_TLS1_3"] is True
    else:
        assert frag["CONFIG_MBEDTLS_USER_CONFIG_FILE"] == '"tlsfit_user_config.h"'


def test_every_fragment_line_carries_its_reason(run_driver, tmp_path):
    d = platform_files(run_driver, CORPUS[0], tmp_path, "esp-idf")
    lines = (d / "sdkconfig.defaults").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("CONFIG_"):
            assert lines[i - 1].startswith("# ") and len(lines[i - 1]) > 4, line
    for line in (d / "tlsfit_user_config.h").read_text().splitlines():
        if line.startswith(("#undef MBEDTLS_", "#define MBEDTLS_")):
            assert re.search(r"/\* \S.* \*/$", line), line


def test_two_file_output_needs_a_directory(run_driver, tmp_path):
    proc = run_driver("gen", CORPUS[0], "--for", "zephyr")
    assert proc.returncode == PLATFORM
    assert proc.stderr.strip() == ("tlsfit: --for zephyr writes 2 files (prj.conf, "
                                   "tlsfit_user_config.h): give -o DIR")
    assert proc.stdout == ""
    f = tmp_path / "file"
    f.write_text("x")
    proc = run_driver("gen", CORPUS[0], "--for", "esp-idf", "-o", f)
    assert proc.returncode == PLATFORM and "give a directory" in proc.stderr
    assert f.read_text() == "x"


def test_port_lines_need_rt_thread(run_driver, tmp_path):
    lines = tmp_path / "port.h"
    lines.write_text("#include <rtthread.h>\n")
    proc = run_driver("gen", CORPUS[0], "--port-lines", lines)
    assert proc.returncode == PLATFORM
    assert proc.stderr.strip() == "tlsfit: --port-lines is for --for rt-thread"
    proc = run_driver("gen", CORPUS[0], "--for", "rt-thread", "--port-lines", tmp_path / "no")
    assert proc.returncode == PLATFORM and "cannot read it" in proc.stderr


def test_rt_thread_keeps_its_port_lines(run_driver, tmp_path):
    """The block is RT-Thread's usual lines the first time; lines the user put in it
    survive a regeneration into the same file; --port-lines replaces them; outside the
    block the file is the bare-metal header, byte for byte."""
    prof = CORPUS[0]
    text = bare(run_driver, prof, tmp_path, "--for", "rt-thread")   # stdout form via -o
    out = tmp_path / "tls_config.h"
    proc = run_driver("gen", prof, "--for", "rt-thread", "-o", out)
    assert proc.returncode == 0, proc.stderr
    first = out.read_text()
    assert outputs.port_block(first) == list(outputs.RTTHREAD_PORT)
    assert first == text
    mine = ["#include <rtthread.h>", "#define tls_malloc    my_pool_alloc",
            "#define tls_free      my_pool_free"]
    out.write_text(first.replace("#define tls_malloc    rt_malloc\n#define tls_free      "
                                 "rt_free", "\n".join(mine[1:])))
    proc = run_driver("gen", prof, "--for", "rt-thread", "-o", out)
    assert proc.returncode == 0, proc.stderr
    again = out.read_text()
    assert outputs.port_block(again)[:3] == mine
    plain = bare(run_driver, prof, tmp_path)
    assert strip_port_block(again).replace(" --for rt-thread", "") == plain
    lines = tmp_path / "port.h"
    lines.write_text("#include <rtthread.h>\n#define tls_calloc rt_calloc\n")
    proc = run_driver("gen", prof, "--for", "rt-thread", "--port-lines", lines, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert outputs.port_block(out.read_text()) == ["#include <rtthread.h>",
                                                   "#define tls_calloc rt_calloc"]


def strip_port_block(text):
    block = text.split(outputs.PORT_BEGIN)[1].split(outputs.PORT_END)[0]
    return text.replace("\n" + outputs.PORT_BEGIN + block + outputs.PORT_END + "\n", "")


def equivalent_header(state, bare_text, path):
    """A bare-metal header from the platform model's state, with the options the
    platform owns taken from the bare header (the host build needs its entropy)."""
    owned = {k: v for k, v in platforms.parse_defines(bare_text).items()
             if k not in state and k != "TLSFIT_TLS_CONFIG_H"}
    lines = ["/* equivalent header: the platform model's options */"]
    for name, value in sorted({**state, **owned}.items()):
        lines.append(f"#define {name}" + ("" if value is True else f" {value}"))
    path.write_text("\n".join(lines) + "\n")
    return path


SERVERS = {
    "ecdsa": ("ec", ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")),
    "rsa": ("rsa", ("-cipher", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305")),
}


@pytest.mark.parametrize("kind", sorted(SERVERS))
def test_every_output_for_a_live_server(kind, pki, server_logs, run_probe, run_driver,
                                        tmp_path, tree):
    """Against a local server: the four outputs, each equivalent to the bare header,
    and the equivalent header (from the ESP-IDF and the Zephyr model alike) verifies."""
    chain_name, args = SERVERS[kind]
    chain = getattr(pki, chain_name)
    with refservers.openssl_server(chain, *args, log_dir=server_logs) as srv:
        res = run_probe(f"127.0.0.1:{srv.port}", "--sni", "localhost", "--ca", chain.root.pem)
        assert res.returncode == 0, res.explain()
        prof = Path(res.argv[res.argv.index("-o") + 1])
        text = bare(run_driver, prof, tmp_path)
        esp_text = bare(run_driver, prof, tmp_path, *rank_args("esp-idf"))
        states = [check_equivalent(name, platform_files(run_driver, prof, tmp_path, name),
                                   t, tree) for name, t in (("esp-idf", esp_text),
                                                            ("zephyr", text))]
        owned = platforms.load("esp-idf").owned | platforms.load("zephyr").owned
        if esp_text.replace(" --rank-for esp-idf", "") == text:   # the same choice
            assert {k: v for k, v in states[0].items() if k not in owned} == \
                {k: v for k, v in states[1].items() if k not in owned}
        cfg = platform_files(run_driver, prof, tmp_path, "zephyr-cfg-file")
        assert read_fragment((cfg / "prj.conf").read_text())["CONFIG_MBEDTLS_CFG_FILE"] == \
            '"tls_config.h"'
        assert (cfg / "tls_config.h").read_text().replace(" --for zephyr-cfg-file", "") == text
        rt = tmp_path / "rt.h"
        assert run_driver("gen", prof, "--for", "rt-thread", "-o", rt).returncode == 0
        assert outputs.port_block(rt.read_text()) == list(outputs.RTTHREAD_PORT)
        assert strip_port_block(rt.read_text()).replace(" --for rt-thread", "") == text
        eq = equivalent_header(states[0], esp_text, tmp_path / "equivalent.h")
        proc = run_driver("verify", "--config", eq, f"127.0.0.1:{srv.port}", "--sni",
                          "localhost", "--ca", chain.root.pem, "--json", timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert '"ok": true' in proc.stdout


def test_228_headers_translate_too(run_driver, tmp_path):
    """mbedTLS 2.28 (Zephyr's older module): the base is 2.28's config.h.  ESP-IDF:
    no release tlsfit checked ships 2.28 (v5.x ships 3.6), so gen refuses (exit 53)."""
    name, prof = "zephyr", CORPUS[0]
    text = bare(run_driver, prof, tmp_path, "--mbedtls", "2.28")
    d = platform_files(run_driver, prof, tmp_path, name, "--mbedtls", "2.28")
    state = check_equivalent(name, d, text, resolve_tree(line="2.28"))
    assert "MBEDTLS_SSL_PROTO_TLS1_3" not in state


@pytest.mark.parametrize("name", sorted(platforms.TABLES))
def test_kconfig_dependencies_name_table_symbols(name):
    """depends/selects/needed_by name symbols of the same table, and the model applies
    them as Kconfig does: a symbol whose dependency is off is n, a select forces y."""
    p = platforms.load(name)
    symbols = {s.kconfig for s in p.symbols}
    for s in p.symbols:
        for term in (*s.depends, *s.selects, *s.needed_by):
            for part in term.lstrip("!").split("|"):
                assert part in symbols, f"{s.kconfig}: {part}"
    chained = next(s for s in p.symbols if s.depends and not s.depends[0].startswith("!"))
    dep = chained.depends[0].split("|")
    values = platforms.resolve(p, {chained.kconfig: True, **{d: False for d in dep}})
    assert values[chained.kconfig] is False
    selector = next((s for s in p.symbols if s.selects), None)
    if selector is not None:
        values = platforms.resolve(p, {selector.kconfig: True, selector.selects[0]: False})
        assert values[selector.selects[0]] is True


def test_esp_idf_tls13_ecdsa_keeps_ecdsa_through_kconfig(run_driver, tmp_path):
    """ESP-IDF's ECDSA symbol depends on ECDH: a TLS 1.3 header without MBEDTLS_ECDH_C
    still sets CONFIG_MBEDTLS_ECDH_C=y (the overlay takes the option out again), and
    TLS 1.3's select of HKDF is undone in the overlay."""
    prof = next(p for p in CORPUS if p.stem == "openssl-ec-13")
    d = platform_files(run_driver, prof, tmp_path, "esp-idf")
    frag = read_fragment((d / "sdkconfig.defaults").read_text())
    assert frag["CONFIG_MBEDTLS_ECDSA_C"] is True and frag["CONFIG_MBEDTLS_ECDH_C"] is True
    ops = read_overlay((d / "tlsfit_user_config.h").read_text())
    if "MBEDTLS_ECDH_C" not in platforms.parse_defines(bare(run_driver, prof, tmp_path,
                                                             *rank_args("esp-idf"))):
        assert ("undef", "MBEDTLS_ECDH_C", None) in ops
    assert ("undef", "MBEDTLS_HKDF_C", None) in ops


def test_hostile_subject_cannot_add_a_kconfig_line(run_driver, tmp_path):
    """A server-controlled subject reaches the fragment's comments: it stays on its
    comment line (no newline), so it cannot set a symbol."""
    import json
    doc = json.loads((REPO / "tests/fixtures/compat/openssl-ec-12.json").read_text())
    doc["chain"][0]["subject"] = "CN=evil\nCONFIG_MBEDTLS_SSL_PROTO_DTLS=y\n# x */ #define X /*"
    p = tmp_path / "hostile.json"
    p.write_text(json.dumps(doc))
    for name in ("esp-idf", "zephyr"):
        d = platform_files(run_driver, p, tmp_path, name)
        text = (d / platforms.load(name).fragment).read_text()
        assert "CN=evil CONFIG_MBEDTLS_SSL_PROTO_DTLS=y" in text      # on a comment line
        frag = read_fragment(text)
        assert frag.get("CONFIG_MBEDTLS_SSL_PROTO_DTLS") in (None, False)
        assert "X" not in platforms.parse_defines((d / "tlsfit_user_config.h").read_text())


def test_json_carries_the_translation(run_driver, tmp_path):
    """gen --for zephyr --json -o DIR: pure JSON on stdout with the Kconfig values and
    the overlay the files hold."""
    import json
    d = tmp_path / "z"
    proc = run_driver("gen", CORPUS[0], "--for", "zephyr", "--json", "-o", d)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)["platform"]
    assert doc["name"] == "zephyr" and doc["files"] == ["prj.conf", "tlsfit_user_config.h"]
    frag = read_fragment((d / "prj.conf").read_text())
    pre = {s[0] for s in platforms.load("zephyr").preamble}
    assert {k: v for k, v in frag.items() if k not in pre} == doc["kconfig"]
    ops = read_overlay((d / "tlsfit_user_config.h").read_text())
    assert [(o["op"], o["name"], o["value"]) for o in doc["overlay"]] == ops
