"""Reproducible artifacts (issue 17): the header's Regenerate line is a command that
renders it again byte for byte from the repository root; a fit keeps the profile it
used and a report.json that a re-run reproduces (but for the date, timings and
instruction counts) and that names the mbedTLS tree it was measured with.
"""
import json
import shlex
import shutil
from pathlib import Path

import pytest

from tlsfit.core.errors import USAGE
from tlsfit.fit.report import SCHEMA_VERSION, comparable
from tlsfit.lab import refservers
from tlsfit.mbedtls.tree import identity, open_tree, resolve_tree

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "fixtures" / "compat"
PREFIX = "Regenerate rather than edit:"


def regenerate_line(text):
    for line in text.splitlines():
        if PREFIX in line:
            return line.split(PREFIX, 1)[1].strip()
        if line.startswith("#   tlsfit gen ") or line.startswith(" *   tlsfit gen "):
            return line.split("   ", 1)[1].strip()
    raise AssertionError("no Regenerate line")


def run_printed(run_driver, command, *extra):
    """The printed `tlsfit gen ...` command, run from the repository root."""
    argv = shlex.split(command)
    assert argv[:2] == ["tlsfit", "gen"], command
    return run_driver(*argv[1:], *extra)


@pytest.mark.parametrize("args", [
    [], ["--tls", "1.2"], ["--no-time", "--pem"], ["--policy", "compat", "--mbedtls", "2.28"],
    ["--ecc", "p256m"],
], ids=["default", "tls12", "notime-pem", "compat-228", "ecc-p256m-kept-builtin"])
def test_header_regenerates_from_its_own_line(args, run_driver, tmp_path):
    out = tmp_path / "tls_config.h"
    prof = CORPUS / "openssl-rsa-12-13.json"
    proc = run_driver("gen", prof, *args, "-o", out)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    cmd = regenerate_line(text)
    assert cmd.startswith("tlsfit gen tests/fixtures/compat/openssl-rsa-12-13.json "), cmd
    again = run_printed(run_driver, cmd)
    assert again.returncode == 0, again.stderr
    assert again.stdout == text


def test_profile_outside_the_repository_is_named_absolutely(run_driver, tmp_path):
    prof = tmp_path / "broker.json"
    shutil.copy(CORPUS / "openssl-ec-12.json", prof)
    a, b = tmp_path / "a.h", tmp_path / "b.h"
    assert run_driver("gen", prof, CORPUS / "openssl-ec-13.json", "-o", a).returncode == 0
    cmd = regenerate_line(a.read_text())
    assert f" {prof} tests/fixtures/compat/openssl-ec-13.json " in cmd
    assert run_printed(run_driver, cmd, "-o", b).returncode == 0
    assert b.read_text() == a.read_text()


def test_platform_files_regenerate_from_their_line(run_driver, tmp_path):
    d1, d2 = tmp_path / "one", tmp_path / "two"
    prof = CORPUS / "openssl-ec-13.json"
    assert run_driver("gen", prof, "--for", "esp-idf", "-o", d1).returncode == 0
    cmd = regenerate_line((d1 / "sdkconfig.defaults").read_text())
    assert cmd.endswith(" --for esp-idf")
    assert regenerate_line((d1 / "tlsfit_user_config.h").read_text()) == cmd
    assert run_printed(run_driver, cmd, "-o", d2).returncode == 0
    for name in ("sdkconfig.defaults", "tlsfit_user_config.h"):
        assert (d2 / name).read_bytes() == (d1 / name).read_bytes(), name


def test_last_probe_header_says_how_to_keep_it(run_driver, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    shutil.copy(CORPUS / "openssl-ec-12.json", state / "last-profile.json")
    proc = run_driver("gen", "-o", tmp_path / "h.h")
    assert proc.returncode == 0, proc.stderr
    assert "which the next probe overwrites" in proc.stderr
    assert "--save NAME" in proc.stderr


def test_fit_report_must_be_a_fit_report(run_driver, tmp_path):
    bad = tmp_path / "report.json"
    bad.write_text(json.dumps({"server": "x"}))
    proc = run_driver("gen", CORPUS / "openssl-ec-12.json", "--fit-report", bad)
    assert proc.returncode == USAGE
    assert proc.stderr.strip() == (f"tlsfit: --fit-report {bad}: not a fit report with "
                                   "gen_options (as tlsfit fit writes it)")


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory):
    """A copy of the set-up's mbedTLS 3.6 tree with one comment added, so its sources'
    sha256 differs from the original's: a report that names it names this tree."""
    src = resolve_tree(line="3.6")
    dst = tmp_path_factory.mktemp("tree") / "mbedtls-copy"
    shutil.copytree(src.path, dst, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", "programs", "tests", "visualc",
                                                  "docs"))
    with open(dst / "library" / "version.c", "a") as f:
        f.write("\n/* tlsfit test: a copy of the tree */\n")
    return open_tree(dst, "--mbedtls-dir")


def test_fit_twice_against_a_tree_copy(tree_copy, pki, server_logs, run_driver, tmp_path):
    """Two fits of one server with --mbedtls-dir DIR (and a measure): all name that
    tree, the fits keep the profile, and agree on every report value but the date,
    timings, instruction counts and which results were stored ones (the second fit
    reuses them); the header renders again from its Regenerate line; --for writes the
    platform's files beside it."""
    mine = identity(tree_copy)
    assert mine["sha256"] != identity(resolve_tree(line="3.6"))["sha256"]
    reports = []
    with refservers.openssl_server(pki.ec, "-tls1_2", "-cipher",
                                   "ECDHE-ECDSA-AES128-GCM-SHA256", log_dir=server_logs) as srv:
        for n, extra in ((1, ()), (2, ("--for", "zephyr"))):
            out = tmp_path / f"fit{n}"
            proc = run_driver("--mbedtls-dir", tree_copy.path, "fit", f"127.0.0.1:{srv.port}",
                              "--sni", "localhost", "--ca", pki.ec.root.pem, "--objective",
                              "rom", "--candidates", "1", "--jobs", "2", "--out", out,
                              "--json", *extra, timeout=1500)
            assert proc.returncode == 0, proc.stderr[-3000:]
            reports.append(json.loads(proc.stdout))
            assert json.loads((out / "report.json").read_text()) == reports[-1]
        # measure names the tree too, with its path (the fit's header: built already)
        m = run_driver("--mbedtls-dir", tree_copy.path, "measure", "--config",
                       tmp_path / "fit1" / "tls_config.h", "--target", "cortex-m4", "--server",
                       f"127.0.0.1:{srv.port}", "--sni", "localhost", "--ca", pki.ec.root.pem,
                       "--json", timeout=600)
        assert m.returncode == 0, m.stderr[-2000:]
        assert json.loads(m.stdout)["mbedtls_tree"] == mine
    r = reports[0]
    assert r["schema_version"] == SCHEMA_VERSION and r["tlsfit_version"]
    assert r["mbedtls_tree"] == {"line": "3.6", "version": tree_copy.version,
                                 "sha256": mine["sha256"]}
    assert r["build"]["compiler"].startswith("arm-none-eabi-gcc")
    assert "-Os" in r["build"]["flags"] and "-mcpu=cortex-m4" in r["build"]["flags"]
    assert r["target"] == "cortex-m4" and r["date"].endswith("Z")
    assert r["config_path"] == "tls_config.h" and r["profiles"] == ["profile.json"]
    assert all(not p["config"].startswith("/") for p in r["pareto"])
    assert comparable(reports[1]) == comparable(r)
    # the second fit measured the same images against the same server: stored results
    assert not any(row.get("from_cache") for row in r["search"])
    assert any(row.get("from_cache") for row in reports[1]["search"])
    out = tmp_path / "fit2"
    prof = json.loads((out / "profile.json").read_text())
    assert prof["target"]["port"] == srv.port
    text = (out / "tls_config.h").read_text()
    cmd = regenerate_line(text)
    # --ecc p256m: fit asks for driver-only P-256; this chain's P-384 root keeps the
    # built-in ECC code and the header says why (its "* ECC:" line)
    assert cmd == (f"tlsfit gen {out}/profile.json --mbedtls 3.6 --policy default "
                   f"--ecc p256m --fit-report {out}/report.json")
    assert "* ECC:" in text
    again = run_printed(run_driver, cmd)
    assert again.returncode == 0, again.stderr
    assert again.stdout == text
    assert sorted(p.name for p in (out / "zephyr").iterdir()) == ["prj.conf",
                                                                  "tlsfit_user_config.h"]


def test_fit_platform_files_come_from_what_the_fit_wrote(run_driver, tmp_path):
    """fit --for renders the header again from DIR's profile copy and report.json, and
    refuses (a defect, exit 1) when that is not DIR/tls_config.h byte for byte."""
    from tlsfit.core.errors import INTERNAL, TlsfitError
    from tlsfit.fit import artifacts
    from tlsfit.header.types import GenOptions
    out = tmp_path / "fit"
    out.mkdir()
    shutil.copy(CORPUS / "openssl-ec-12.json", out / "profile.json")
    report = {"gen_options": {"exclude": ["MBEDTLS_SSL_SERVER_NAME_INDICATION"],
                              "knob_values": {}, "extra": {},
                              "sizes": {"MBEDTLS_SSL_OUT_CONTENT_LEN": 512}, "candidate": None}}
    (out / "report.json").write_text(json.dumps(report))
    proc = run_driver("gen", out / "profile.json", "--mbedtls", "3.6", "--policy", "default",
                      "--fit-report", out / "report.json", "-o", out / "tls_config.h")
    assert proc.returncode == 0, proc.stderr
    text = (out / "tls_config.h").read_text()
    assert "#define MBEDTLS_SSL_OUT_CONTENT_LEN 512" in text
    assert "#define MBEDTLS_SSL_SERVER_NAME_INDICATION" not in text
    written = artifacts.write_platform(out, report, "rt-thread", GenOptions(), 1)
    assert written == [out / "rt-thread" / "tls_config.h"]
    assert "#include <rtthread.h>" in written[0].read_text()
    (out / "tls_config.h").write_text(text.replace("512", "1024"))
    with pytest.raises(TlsfitError) as e:
        artifacts.write_platform(out, report, "zephyr", GenOptions(), 1)
    assert e.value.code == INTERNAL and "does not render again" in e.value.message
    assert not (out / "zephyr").exists()
