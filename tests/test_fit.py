"""`tlsfit fit`: probe, measure candidates under QEMU, ablate, report -- against real
servers on 127.0.0.1.  (tests/test_cli.py::test_demo runs it through `tlsfit demo`.)"""
import json
import re

import pytest

from test_compat import check_shape
from tlsfit.lab import refservers

# Every test runs `tlsfit fit` against a reference server (docs/testing.md).
pytestmark = [pytest.mark.fit, pytest.mark.server]

REPORT_NAMES = ("server", "target", "objective", "handshake", "rom_bytes", "rom_tls_bytes",
                "ram_static_bytes", "heap_peak_bytes", "stack_peak_bytes",
                "handshake_instructions", "baseline", "minimal", "candidates_tried", "pareto",
                "config_path")


@pytest.fixture(scope="module")
def ed25519_chain(tmp_path_factory):
    return refservers.make_chain(tmp_path_factory.mktemp("fit-ed"), "ed", "ed25519", "ed25519",
                                 "ed25519", label="Ed25519")


def test_fit_rsa_tls12_json(pki, server_logs, run_driver, tmp_path):
    out = tmp_path / "fit"
    with refservers.openssl_server(pki.rsa, "-tls1_2", "-cipher",
                                   "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305",
                                   log_dir=server_logs) as srv:
        res = run_driver("fit", srv.hostport, "--sni", "localhost", "--ca", pki.rsa.root.pem,
                         "--objective", "rom", "--out", out, "--json", timeout=900)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)                      # --json: the report and nothing else
    check_shape(report, "report.shape.json")             # every key report.json had before
    assert report == json.loads((out / "report.json").read_text())
    for name in REPORT_NAMES:
        assert name in report, name
    hs = report["handshake"]
    assert hs["ok"] is True and hs["version"] == "TLSv1.2"
    assert hs["ciphersuite"] in ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                 "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256")
    assert hs["sigalg"].startswith("rsa_")
    assert report["minimal"] is True
    # mbedTLS 3.6.6's own default configuration offers RSA-PSS in TLS 1.2 and then rejects
    # the PSS-signed ServerKeyExchange OpenSSL sends (the defect in rules.toml [[defects]]):
    # the baseline is measured all the same, and its failure is reported, not hidden.
    base = report["baseline"]
    assert base["handshake"]["ok"] or base["handshake"]["error"] == "MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER"
    assert report["rom_bytes"] < base["rom_bytes"]
    assert report["candidates_tried"] >= 2 and report["pareto"]
    tried = [a for a in report["ablation"] if a["result"] in ("kept", "removed")]
    assert tried, "the ablation tried nothing"
    assert all(a["why"] for a in report["ablation"])
    # Each option tried carries its measured cost (with it minus without it); a removal the
    # rom objective kept cannot have made the image bigger, and both handshakes verified.
    for a in tried:
        assert isinstance(a["rom_cost_bytes"], int) or "check_config" in a["why"], a
        if a["result"] == "removed":
            assert a["rom_cost_bytes"] >= 0 and isinstance(a["heap_cost_bytes"], int), a
    assert all(a["rom_cost_bytes"] is None for a in report["ablation"] if a["result"] == "not tried")
    text = (out / "tls_config.h").read_text()
    assert report["config_path"] == "tls_config.h"          # relative to --out (issue 17)
    for removed in report["removed"]:
        assert not re.search(rf"^#define {removed}\b", text, re.M)
    # Content lengths: 256 and 512 tried for the output buffer; a lean TLS 1.2 ClientHello
    # fits 512, and the header keeps the smallest size that verified.
    sizes = report["content_lengths"]
    assert [c["value"] for c in sizes] == [256, 512]
    fits = [c["value"] for c in sizes if c["ok"]]
    assert 512 in fits, sizes
    out_len = int(re.search(r"^#define MBEDTLS_SSL_OUT_CONTENT_LEN (\d+)", text, re.M).group(1))
    assert out_len == min(fits) == report["values"]["MBEDTLS_SSL_OUT_CONTENT_LEN"]
    md = (out / "report.md").read_text()
    assert "| heap_peak_bytes |" in md and "1-minimal: **yes**" in md
    # What a firmware engineer pastes into a pull request: no Python repr, no None, and
    # figures in human units beside the exact bytes.
    assert "None" not in md and "{'" not in md and "['" not in md, md
    assert re.search(r"\| rom_bytes \| \d+\.\d KiB \([\d,]+ B\) \|", md), md
    assert "## Content lengths tried" in md and "| flash cost | heap cost |" in md
    if not base["handshake"]["ok"]:
        assert "mbedTLS's default configuration failed its handshake" in md
    # stdout is report.json alone (no progress line leaked into it); progress is on stderr
    assert json.loads(res.stdout) == report and "[search]" in res.stderr


def test_the_shared_fit_verified_and_wrote_its_files(budget_fit):
    """The session's shared fit (conftest.budget_fit; the fast tier's fit): its handshake
    verified with TLS 1.3 and the P-256 key, the header it wrote holds its choices, and
    only the budget made it exit 47 (tests/test_bench_gate.py reads that line)."""
    assert budget_fit.proc.returncode == 47, budget_fit.proc.stderr[-3000:]
    report = json.loads((budget_fit.out / "report.json").read_text())
    check_shape(report, "report.shape.json")
    hs = report["handshake"]
    assert hs["ok"] is True and hs["version"] == "TLSv1.3", hs
    assert report["server"] == budget_fit.hostport and report["minimal"] is True
    assert report["candidates_tried"] >= 1 and report["pareto"]
    text = (budget_fit.out / "tls_config.h").read_text()
    for removed in report["removed"]:
        assert not re.search(rf"^#define {removed}\b", text, re.M)
    assert "#define MBEDTLS_SSL_PROTO_TLS1_3" in text
    assert "1-minimal: **yes**" in (budget_fit.out / "report.md").read_text()
    # stdout is the summary (the budget line is on stderr, the last)
    first = budget_fit.proc.stdout.splitlines()[0]
    assert first.startswith(f"tlsfit fit: {budget_fit.hostport} on cortex-m4 (rom): TLSv1.3 "), first
    assert ", verified (proof " in first and "over budget" not in budget_fit.proc.stdout


def test_fit_refuses_ed25519_server(ed25519_chain, server_logs, run_driver, tmp_path):
    out = tmp_path / "fit"
    with refservers.openssl_server(ed25519_chain, log_dir=server_logs) as srv:
        res = run_driver("fit", srv.hostport, "--sni", "localhost", "--ca",
                         ed25519_chain.root.pem, "--out", out, timeout=300)
    assert res.returncode == 38, res.stderr
    assert "ed25519" in res.stderr.lower()
    assert not (out / "tls_config.h").exists()


def test_fit_228_measures_the_group_it_chose(pki, server_logs, run_driver, tmp_path):
    """mbedTLS 2.28 offers its compiled curves strongest first; with the P-384 root the
    header enables P-384 too, and a server in client order would pick it.  The header
    pins the chosen group (TLSFIT_CURVES), the harness applies it, and fit reports the
    group it measured -- the one it chose."""
    out = tmp_path / "fit"
    with refservers.openssl_server(pki.ec, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256",
                                   log_dir=server_logs) as srv:
        res = run_driver("fit", srv.hostport, "--sni", "localhost", "--ca", pki.ec.root.pem,
                         "--mbedtls", "2.28", "--objective", "rom", "--candidates", "1",
                         "--out", out, "--json", timeout=900)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["handshake"]["group"] == "secp256r1", report["handshake"]
    assert "secp256r1" in report["chosen"]
    text = (out / "tls_config.h").read_text()
    assert re.search(r"^#define TLSFIT_CURVES MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE ",
                     text, re.M)
    assert "#define MBEDTLS_ECP_DP_SECP384R1_ENABLED" in text      # the root's key
    assert all(s["group"] == "secp256r1" for s in report["search"] if s["ok"]), report["search"]
