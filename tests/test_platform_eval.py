"""`gen --for esp-idf|zephyr|zephyr-cfg-file` evaluated on the platforms' own trees (issue 24).

Each output gen writes is applied with kconfiglib over the platform's real mbedtls
Kconfig (shared/upstream/platforms beside the checkout, or $TLSFIT_UPSTREAM); every
assignment must take.  The platform's config header then goes through gcc -E -dM with
the autoconf kconfiglib writes and the overlay where the documented CMakeLists.txt
line puts it, and the option set must be the bare-metal header's, option by option,
up to the options the platform owns (listed with a reason in the tables).  gen's own
model of the platform must agree with the evaluation.  No servers: kconfiglib and cpp.
"""
import os
import subprocess

import pytest

from tlsfit.core.errors import PLATFORM_LINE
from tlsfit.header import platforms
from tlsfit.header.platforms import evaluate, matrix

UPSTREAM = evaluate.upstream_dir()
try:
    import kconfiglib  # noqa: F401
    KCONFIGLIB = None
except ImportError:
    KCONFIGLIB = "python3-kconfiglib is not installed (./tlsfit setup installs it)"

needs_upstream = pytest.mark.skipif(
    UPSTREAM is None or KCONFIGLIB is not None,
    reason=KCONFIGLIB or "no shared/upstream beside the checkout (nor $TLSFIT_UPSTREAM): "
                         "the platforms' reference trees are not here")


def tree(name):
    return next(t for t in evaluate.trees() if t.name == name)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("platform-eval")


@needs_upstream
@pytest.mark.parametrize("case", matrix.CASES, ids=[c[0] for c in matrix.CASES])
def test_every_output_equals_the_header_on_the_platform(case, work):
    results = matrix.run_case(case, work, UPSTREAM)
    assert {(r.fmt, r.tree) for r in results} == {
        ("esp-idf", "esp-idf-v5.5.5"), ("zephyr", "zephyr-tls-generic"),
        ("zephyr-cfg-file", "zephyr-tls-generic")}
    for r in results:
        assert r.failures == [], f"{r.fmt} on {r.tree}: assignments that do not take"
        assert r.differences == [], f"{r.fmt} on {r.tree}: options unlike the header's"
        assert r.model == [], f"{r.fmt} on {r.tree}: gen's model disagrees with Kconfig/cpp"


@needs_upstream
def test_zephyr_cfg_file_really_selects_tlsfits_header(work):
    out = work / "cfg-file"
    matrix.gen(["mosquitto-tls", "--for", "zephyr-cfg-file"], out)
    fragment = (out / "prj.conf").read_text()
    applied = evaluate.kconfig_apply(tree("zephyr-tls-generic"), fragment, UPSTREAM)
    assert applied.failures == ()
    assert applied.values["MBEDTLS_CFG_FILE"] == "tls_config.h"
    assert applied.values["CUSTOM_MBEDTLS_CFG_FILE"] == "y"
    # and the build then reads exactly tls_config.h (the CMakeLists.txt line finds it)
    inc = matrix.mbedtls_include()
    got = evaluate.option_set(tree("zephyr-tls-generic"), applied, out, fragment, inc, UPSTREAM)
    assert got == evaluate.header_options(out, inc)
    assert "MBEDTLS_SSL_CIPHERSUITES" in got


@needs_upstream
def test_the_overlay_is_found_only_through_the_documented_cmake_line(work):
    """Zephyr's config header includes CONFIG_MBEDTLS_USER_CONFIG_FILE by name: with the
    fragment's zephyr_include_directories line the build finds tlsfit's overlay, without
    it (the platform's own include order only) it does not.  ESP-IDF: the definition
    names the file by its absolute path."""
    inc = matrix.mbedtls_include()
    for fmt, name in (("zephyr", "zephyr-tls-generic"), ("esp-idf", "esp-idf-v5.5.5")):
        out = work / f"found-{fmt}"
        matrix.gen(["mosquitto-tls", "--for", fmt], out)
        p = platforms.load(fmt)
        fragment = (out / p.fragment).read_text()
        assert evaluate.CMAKE_LINE.findall(fragment) == list(p.cmake)
        applied = evaluate.kconfig_apply(tree(name), fragment, UPSTREAM)
        assert evaluate.overlay_found(tree(name), applied, out, fragment, inc, UPSTREAM)
        bare = "\n".join(x for x in fragment.splitlines() if "CMakeLists.txt:" not in x)
        assert not evaluate.overlay_found(tree(name), applied, out, bare, inc, UPSTREAM)


@needs_upstream
def test_the_evaluation_catches_assignments_that_do_not_take():
    """The three kinds of defect the issue found, fed by hand: the checker names each."""
    z = tree("zephyr-tls-generic")
    applied = evaluate.kconfig_apply(z, "\n".join([
        "CONFIG_MBEDTLS=y", "CONFIG_MBEDTLS_BUILTIN=y",
        'CONFIG_MBEDTLS_CFG_FILE="tls_config.h"',           # no CUSTOM_MBEDTLS_CFG_FILE
        "CONFIG_MBEDTLS_HASH_SHA384_ENABLED=y",
        "CONFIG_MBEDTLS_HASH_SHA512_ENABLED=n",             # selected back to y
        "CONFIG_MBEDTLS_NO_SUCH_SYMBOL=y"]) + "\n", UPSTREAM)
    text = "\n".join(applied.failures)
    assert "CONFIG_MBEDTLS_CFG_FILE" in text and "hidden" in text
    assert "CONFIG_MBEDTLS_HASH_SHA512_ENABLED=n: Kconfig gives y" in text
    assert "CONFIG_MBEDTLS_NO_SUCH_SYMBOL=y: no such symbol" in text
    assert len(applied.failures) == 3


@needs_upstream
def test_esp_idf_sha512_symbol_drives_sha384_too(work):
    """Without SHA-384 in the overlay the ESP-IDF build would lose it: the table says
    CONFIG_MBEDTLS_SHA512_C drives both, and esp_config.h agrees."""
    e = tree("esp-idf-v5.5.5")
    inc = matrix.mbedtls_include()
    d = work / "sha"
    d.mkdir(exist_ok=True)
    for value, want in (("y", True), ("n", None)):
        applied = evaluate.kconfig_apply(e, f"CONFIG_MBEDTLS_SHA512_C={value}\n", UPSTREAM)
        got = evaluate.option_set(e, applied, d, "", inc, UPSTREAM)
        assert got.get("MBEDTLS_SHA384_C") is want and got.get("MBEDTLS_SHA512_C") is want
    sym = platforms.load("esp-idf").symbol("CONFIG_MBEDTLS_SHA512_C")
    assert sym.options == ("MBEDTLS_SHA384_C", "MBEDTLS_SHA512_C")


@needs_upstream
def test_trees_tlsfit_does_not_claim_say_why(work):
    """ESP-IDF v6.0.2 (mbedTLS 4.x) and Zephyr v2.5.0 load, and the outputs are not for
    them: v2.5.0 lacks symbols the fragment sets, so the fragment says so."""
    out = work / "v25"
    matrix.gen(["mosquitto-tls", "--for", "zephyr"], out)
    fragment = (out / "prj.conf").read_text()
    applied = evaluate.kconfig_apply(tree("zephyr-v2.5.0"), fragment, UPSTREAM)
    assert any("CONFIG_MBEDTLS_ECP_C" in f and "no such symbol" in f for f in applied.failures)
    assert "not for Zephyr 2.5" in fragment
    v6 = evaluate.kconfig_apply(tree("esp-idf-v6.0.2"), "CONFIG_MBEDTLS_SSL_PROTO_TLS1_2=n\n",
                                UPSTREAM)
    assert v6.values["MBEDTLS_SSL_PROTO_TLS1_2"] == "y"      # v6 forces TLS 1.2 on


def test_esp_idf_refuses_an_mbedtls_line_it_does_not_ship(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(matrix.REPO / "tool"))
    proc = subprocess.run([matrix.PYTHON, "-m", "tlsfit.cli", "gen", "mosquitto-tls",
                           "--mbedtls", "2.28", "--for", "esp-idf", "-o", str(tmp_path / "o")],
                          cwd=matrix.REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == PLATFORM_LINE == 53
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tlsfit: --mbedtls 2.28 --for esp-idf: ")
    assert "use --mbedtls 3.6" in lines[0]
    assert not (tmp_path / "o").exists()


def test_every_output_names_the_checked_versions():
    for name in ("esp-idf", "zephyr"):
        assert "checked" in platforms.load(name).versions
    assert "v5.5.5" in platforms.load("esp-idf").versions
    assert platforms.load("esp-idf").lines == ("3.6",)
