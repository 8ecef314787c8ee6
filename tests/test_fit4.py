"""`tlsfit fit --mbedtls 4.0`: one fit on cortex-m4 against openssl s_server (TLS 1.3,
ECDSA P-256 throughout), with the cheapest settings (--candidates 1, --objective rom).
The fit writes the 4.x pair (tls_config.h + tls_config_crypto.h), its report names the
4.0.0 tree, the final pair verified, the crypto file holds 4.x names only, and the
pair's Regenerate line (gen --fit-report) renders both files again byte for byte.  The
same fit runs with --for esp-idf: ESP-IDF v6's files of the fitted pair, evaluated by
kconfiglib over v6.0.2's Kconfig and esp_config.h as gen's are (test_gen_mbedtls4.py),
come out as the pair's option set.

Needs the mbedTLS 4.0 release archive (shared/upstream beside the checkout, or
$TLSFIT_UPSTREAM); skips, saying why, without it.
"""
import importlib.util
import json
import re

import pytest

from conftest import require_tools, run_tlsfit, upstream_dir
from tlsfit.fit import line4, search
from tlsfit.header.mbed4 import table as table_mod
from tlsfit.header.platforms import evaluate, matrix
from tlsfit.lab import refservers

LIVE = (pytest.mark.server, pytest.mark.qemu, pytest.mark.fit)


def live(test):
    for mark in LIVE:
        test = mark(test)
    return test


@pytest.fixture(scope="module")
def fit4(prober, server_logs, tmp_path_factory, tree4):
    """(the fit's process, its --out directory): one fit for the module."""
    require_tools("openssl")
    d = tmp_path_factory.mktemp("fit4")
    chain = refservers.make_chain(d / "pki", "p256", "ec:P-256", "ec:P-256", "ec:P-256")
    out = d / "fit"
    with refservers.openssl_server(chain, "-tls1_3", log_dir=server_logs) as srv:
        proc = run_tlsfit(prober, d / "state", "fit", srv.hostport, "--sni", "localhost",
                          "--ca", chain.root.pem, "--mbedtls", "4.0", "--target", "cortex-m4",
                          "--objective", "rom", "--candidates", "1", "--out", out, "--json",
                          "--for", "esp-idf", timeout=1200)
    return proc, out


def _defined(text):
    return set(re.findall(r"^#define (\w+)", text, re.M))


@live
def test_fit4_writes_the_verified_pair(fit4):
    proc, out = fit4
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["mbedtls_tree"]["version"] == "4.0.0" and report["mbedtls_tree"]["line"] == "4.0"
    hs = report["handshake"]
    assert hs["ok"] is True and hs["version"] == "TLSv1.3" and hs["group"] == "secp256r1", hs
    assert hs["error"] is None and hs["alert"] is None
    # the baseline is 4.0's default pair, measured in the same run, and larger
    assert report["baseline"]["handshake"]["ok"] is True, report["baseline"]
    assert report["rom_tls_bytes"] < report["baseline"]["rom_tls_bytes"]
    tls, crypto = (out / "tls_config.h").read_text(), (out / "tls_config_crypto.h").read_text()
    assert sorted(report["config_files"]) == ["tls_config.h", "tls_config_crypto.h"]
    assert _defined(crypto) >= set(report["config_files"]["tls_config_crypto.h"]["options"])
    assert "PSA_WANT_ECC_SECP_R1_256" in _defined(crypto)
    assert "MBEDTLS_SSL_PROTO_TLS1_3" in _defined(tls)
    assert "`tls_config_crypto.h` (TF_PSA_CRYPTO_CONFIG_FILE" in (out / "report.md").read_text()
    # no 3.6-only name (one the 4.x table renames, moves into PSA_WANT_ or drops) in either
    table = table_mod.load()
    only36 = {n for n, m in table.moves.items() if n not in m.names and m.to != "default"}
    assert only36 and not (_defined(crypto) | _defined(tls)) & only36
    # the ablation removed 3.6 names; none of them is in the TLS file
    for removed in report["removed"]:
        assert removed not in _defined(tls), removed


@live
def test_fit4_pair_regenerates_from_the_report(fit4, prober, tmp_path):
    proc, out = fit4
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = re.search(r"Regenerate rather than edit:\s+tlsfit (gen .*)$",
                     (out / "tls_config.h").read_text(), re.M).group(1)
    args = line.split()[1:]
    assert "--fit-report" in args and "4.0" in args
    again = tmp_path / "again" / "tls_config.h"
    res = run_tlsfit(prober, tmp_path / "state", "gen", *args, "-o", again)
    assert res.returncode == 0, res.stderr
    for name in ("tls_config.h", "tls_config_crypto.h"):
        assert (again.parent / name).read_bytes() == (out / name).read_bytes(), name


@live
def test_fit4_for_esp_idf_evaluates_to_the_fitted_pair_on_v6(fit4, tree4):
    """DIR/esp-idf/ applied with kconfiglib over ESP-IDF v6.0.2's Kconfig, esp_config.h
    run through the preprocessor in 4.x's order with the overlay: the option set is
    the fitted pair's (up to what ESP-IDF owns), and gen's platform model agrees."""
    proc, out = fit4
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = sorted(p.name for p in (out / "esp-idf").iterdir())
    assert files == ["sdkconfig.defaults", "tlsfit_user_config.h"]
    assert "--fit-report" in (out / "esp-idf" / "tlsfit_user_config.h").read_text()
    if importlib.util.find_spec("kconfiglib") is None:
        pytest.skip("python3-kconfiglib is not installed (./tlsfit setup installs it)")
    up = upstream_dir()
    v6 = [t for t in evaluate.trees("esp-idf") if t.name == "esp-idf-v6.0.2"]
    if not v6 or not (up / "platforms" / "esp-idf" / "v6.0.2").is_dir():
        pytest.skip(f"no ESP-IDF v6.0.2 under {up / 'platforms'}")
    bare = evaluate.pair_options(out, tree4.path)
    r = matrix.evaluate_output("fit --mbedtls 4.0", "esp-idf", v6[0], out / "esp-idf", bare,
                               tree4, up)
    assert r.ok, (r.failures, r.differences, r.model)


@pytest.mark.parametrize("platform", ["zephyr", "rt-thread"])
def test_fit4_for_a_platform_4x_lacks_is_refused_before_probing(prober, tmp_path, platform):
    res = run_tlsfit(prober, tmp_path / "state", "fit", "127.0.0.1:9", "--mbedtls", "4.0",
                     "--for", platform, "--out", tmp_path / "out")
    assert res.returncode == 59, res.stderr
    assert f"--for {platform}" in res.stderr and "--mbedtls 3.6" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ pure functions

class _Plan:
    def __init__(self, text, crypto_text=None):
        self.text, self.crypto_text = text, crypto_text


def test_the_line_picks_the_fitter():
    assert line4.fitter_class("4.0") is line4.Fitter4
    assert line4.fitter_class("3.6") is search.Fitter and line4.fitter_class("2.28") is search.Fitter


def test_definitions_compare_both_files_without_comments():
    a = _Plan("/* x */\n#define A 1   /* why */\n", "#define PSA_WANT_B 1 /* because */\n")
    b = _Plan("/* other preamble */\n#define A 1 /* another reason */\n", "#define PSA_WANT_B 1\n")
    assert line4.definitions(a) == line4.definitions(b) == ("#define A 1", "#define PSA_WANT_B 1")
    assert line4.definitions(_Plan("#define A 1\n", "")) != line4.definitions(b)


def test_write_header_writes_the_crypto_file_only_for_a_pair(tmp_path):
    tls = line4.write_header(tmp_path / "four", _Plan("#define A\n", "#define B\n"))
    assert tls == tmp_path / "four" / "tls_config.h" and tls.read_text() == "#define A\n"
    assert (tmp_path / "four" / "tls_config_crypto.h").read_text() == "#define B\n"
    class One:
        text = "#define C\n"
    line4.write_header(tmp_path / "three", One())
    assert sorted(p.name for p in (tmp_path / "three").iterdir()) == ["tls_config.h"]
    assert line4.files_section(One()) == {}
