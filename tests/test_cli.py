"""The driver's command line: help, usage errors, exit codes, errors table, probe, demo."""
import json
import os
import re
import subprocess

import pytest

from conftest import REPO
from tlsfit.cli import main as cli
from tlsfit.lab import refservers
from tlsfit.core.errors import DRIVER_CODES

LAUNCHER = REPO / "tlsfit"


def launcher(*args, timeout=60):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return subprocess.run([str(LAUNCHER), *args], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, env=env, cwd="/")


def test_launcher_help():
    for args in ([], ["--help"]):
        res = launcher(*args)
        assert res.returncode == 0
        assert "usage: tlsfit" in res.stdout
        for name in ("setup", "probe", "demo", "test", "errors"):
            assert name in res.stdout


@pytest.mark.parametrize("sub", ["setup", "probe", "demo", "test", "errors"])
def test_subcommand_help(sub, capsys):
    assert cli.main([sub, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: tlsfit {sub}")
    assert "example" in out


def test_unknown_command(capsys):
    assert cli.main(["frobnicate"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("tlsfit: error: argument COMMAND")


@pytest.mark.parametrize("name", ["../x", ".hidden", "a/b", "", "a b"])
def test_save_name_validation(name, capsys):
    assert cli.main(["probe", "127.0.0.1:1", "--save", name]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "--save" in err[0]


def test_extra_args_only_for_test(capsys):
    assert cli.main(["errors", "--driver-only", "-k", "x"]) == 2


def test_driver_codes_unique():
    codes = [c for c, _, _ in DRIVER_CODES]
    assert len(codes) == len(set(codes))
    assert not set(codes) & set(range(10, 30)), "10-29 belong to the prober"


def test_bad_mbedtls_dir(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TLSFIT_PROBER", raising=False)
    assert cli.main(["--mbedtls-dir", str(tmp_path), "probe", "127.0.0.1:1"]) == 31
    err = capsys.readouterr().err.splitlines()
    assert err == [f"tlsfit: {tmp_path} (from --mbedtls-dir) is not an mbedTLS source tree: "
                   "include/mbedtls/ssl.h is missing"]


def test_errors_lists_both_tables(run_driver):
    res = run_driver("errors")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    for code, name in ((0, "TF_OK"), (10, "TF_ERR_RESOLVE"), (12, "TF_ERR_TIMEOUT"),
                       (15, "TF_ERR_MALFORMED"), (20, "TF_ERR_CA_FILE"),
                       (30, "TLSFIT_BUILD"), (32, "TLSFIT_PROFILE")):
        assert any(line.split()[:2] == [str(code), name] for line in lines if line.strip()), \
            f"{code} {name} missing from:\n{res.stdout}"


def test_probe_summary_and_state(pki, server_logs, run_driver, tmp_path):
    with refservers.openssl_server(pki.rsa, "-tls1_2", "-serverpref", "-cipher",
                                   "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
                                   log_dir=server_logs) as srv:
        res = run_driver("probe", srv.hostport, "--ca", pki.rsa.root.pem, "--timeout", "5")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "versions: TLSv1.2" in out
    assert "suites (server order):" in out
    assert "0xC030 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" in out
    assert "[0] CN=localhost" in out and "anchor: CN=tlsfit RSA root" in out
    last = tmp_path / "state" / "last-profile.json"
    assert json.loads(last.read_text())["target"]["port"] == srv.port


def test_probe_json(pki, server_logs, run_driver):
    with refservers.openssl_server(pki.ec, "-tls1_3", log_dir=server_logs) as srv:
        res = run_driver("probe", srv.hostport, "--json", "--timeout", "5")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["schema_version"] == 1 and doc["versions"] == ["TLSv1.3"]


def test_demo(run_driver, tmp_path):
    """The README's first command, on the ECDSA reference server (the RSA one is the
    same code path; tests/test_fit.py fits an RSA server)."""
    res = run_driver("demo", "--only", "ecdsa", env_extra={"TLSFIT_SETUP_DONE": "1"},
                     timeout=900)
    assert res.returncode == 0, res.stderr
    assert "== ecdsa ==" in res.stdout and ", verified" in res.stdout
    assert "1-minimal: yes" in res.stdout
    out = tmp_path / "state" / "demo" / "ecdsa" / "fit"
    report = json.loads((out / "report.json").read_text())
    assert report["handshake"]["ok"] is True
    assert "ECDSA" in report["handshake"]["ciphersuite"] or report["handshake"]["version"] == "TLSv1.3"
    assert (out / "tls_config.h").exists() and (out / "report.md").exists()


def test_keep_writes_last_and_saved(monkeypatch, tmp_path):
    from tlsfit.core import paths
    from tlsfit.profile import model as profile, probing as probe
    monkeypatch.setattr(paths, "state_dir", lambda: tmp_path / "state")
    monkeypatch.setattr(paths, "profiles_dir", lambda: tmp_path / "profiles")
    doc = profile.load(REPO / "tests" / "fixtures" / "profile-v1.json")
    written = probe.keep(doc, "broker-eu.1")
    assert written == [tmp_path / "state" / "last-profile.json",
                       tmp_path / "profiles" / "broker-eu.1.json"]
    for p in written:
        assert profile.load(p) == doc


def test_summary_of_sample_profile():
    from tlsfit.profile import model as profile, summary
    text = summary.format_summary(profile.load(REPO / "tests" / "fixtures" / "profile-v1.json"))
    assert "TLSv1.2:\n  suites (server order):\n    0xC030 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" in text
    assert "TLSv1.3:\n  suites (client order):" in text
    assert "anchor: CN=tlsfit RSA root" in text and "chain complete: yes" in text
    assert "step alpn failed: server closed the connection (code 14)" in text


def test_a_broken_template_is_exit_39(tmp_path, capsys, monkeypatch):
    """A Jinja2 template error is a defect in tlsfit's data: exit 39 (TLSFIT_RULES) with
    one line naming the template, not an internal error."""
    from tlsfit.header import render
    for t in render.TEMPLATES.iterdir():
        (tmp_path / t.name).write_text(t.read_text())
    (tmp_path / "mbedtls-3.6.h.j2").write_text("{{ h.no_such_field }}\n")
    monkeypatch.setattr(render, "TEMPLATES", tmp_path)
    monkeypatch.chdir(REPO)
    code = cli.main(["gen", "tests/fixtures/compat/openssl-ec-13.json", "--mbedtls", "3.6"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 39, err
    assert len(err) == 1 and err[0].startswith("tlsfit: template mbedtls-3.6.h.j2"), err
    assert "no_such_field" in err[0]


def test_mbedtls_dir_is_checked_by_every_command(tmp_path, capsys):
    """A nonexistent --mbedtls-dir is an error for gen too (it used to be ignored)."""
    missing = tmp_path / "no-such-tree"
    code = cli.main(["--mbedtls-dir", str(missing), "gen",
                     str(REPO / "tests" / "fixtures" / "compat" / "openssl-ec-12.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 31, err
    assert err == [f"tlsfit: mbedTLS tree {missing} (from --mbedtls-dir) does not exist"]


def test_a_228_tree_yields_228_headers(capsys):
    """--mbedtls-dir naming a 2.28 tree: gen renders a 2.28 header (not a 3.6 one that
    would then fail to build), and --mbedtls 3.6 beside it is a usage error."""
    from tlsfit.core.paths import cache_dir
    tree = cache_dir() / "mbedtls-2.28"
    profile = str(REPO / "tests" / "fixtures" / "compat" / "openssl-ec-12.json")
    assert cli.main(["--mbedtls-dir", str(tree), "gen", profile]) == 0
    header = capsys.readouterr().out
    assert "mbedTLS 2.28 configuration" in header
    assert "#define TLSFIT_CURVES MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE" in header
    assert "--mbedtls 2.28" in next(ln for ln in header.splitlines() if "Prove it" in ln)
    assert cli.main(["--mbedtls-dir", str(tree), "gen", profile, "--mbedtls", "3.6"]) == 0
    # gen's --mbedtls names the header's line; the tree only matters to the builds.
    assert "mbedTLS 3.6 configuration" in capsys.readouterr().out


def test_launcher_finds_its_checkout_by_any_path(tmp_path):
    """The launcher locates the checkout without readlink/dirname on the common path:
    by a relative path, through a symlink (resolved), and by an absolute path."""
    link = tmp_path / "tlsfit"
    link.symlink_to(LAUNCHER)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    for argv, cwd in (([str(link), "errors"], "/"), (["./tlsfit", "errors"], str(REPO)),
                      (["sh", "-c", "../tlsfit errors"], str(REPO / "tool"))):
        res = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=60, env=env, cwd=cwd)
        assert res.returncode == 0, (argv, res.stderr)
        assert re.search(r"^\s*46\s+TLSFIT_DEADLINE", res.stdout, re.M), argv


def test_launcher_adds_site_packages_for_commands_that_need_them(tmp_path):
    """Python starts with -S; a command beyond the standard library (gen renders with
    Jinja2 from site-packages) still finds its packages."""
    out = tmp_path / "tls_config.h"
    res = launcher("gen", str(REPO / "profiles" / "openssl-s_server.json"), "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert "#define MBEDTLS_SSL_CLI_C" in out.read_text()


def test_entry_command_word():
    import importlib.util
    spec = importlib.util.spec_from_file_location("entry", REPO / "tool" / "tlsfit_entry.py")
    entry = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(entry)
    assert entry._command(["probe", "x"]) == "probe"
    assert entry._command(["--mbedtls-dir", "probe", "gen"]) == "gen"
    assert entry._command(["--version"]) is None
    assert "probe" in entry.STDLIB_ONLY and "gen" not in entry.STDLIB_ONLY
