"""Driver-only P-256 (`tlsfit gen --ecc p256m`, issue 18 item 1): ECDH and ECDSA through
PSA with mbedTLS 3.6's p256-m driver, without the legacy ECP, bignum, ECDH and ECDSA code.

Each case starts openssl s_server on 127.0.0.1 with a chain whose root, intermediate and
leaf are all P-256 (or, for the mixed case, the standard PKI's P-384 root), probes it,
runs `tlsfit gen --ecc p256m` through the CLI and checks:
  - the header routes ECC through PSA (and, after mbedTLS's own adjustments, the legacy
    modules are really off and p256-m accelerates P-256), passes check_config.h for the
    host and for arm-none-eabi, and completes a verified handshake with that server;
  - TLS 1.2: the two mbedTLS 3.6.6 defects are routed around by rules.toml [[defects]];
  - TLS 1.3: on cortex-m4 the driver-only image's mbedTLS share is smaller than the
    built-in one's (the ordering, not a figure);
  - a chain with a P-384 root keeps the built-in code, and the header says why.
"""
import copy
import json
from pathlib import Path

import pytest

from conftest import require_tools
from test_artifacts import regenerate_line, run_printed
from test_gen import arm_check, define, effective_defines, probe_and_gen
from tlsfit.core.errors import RULES
from tlsfit.header import gen, rules as rules_mod
from tlsfit.header.types import GenOptions
from tlsfit.host import verify
from tlsfit.lab import refservers
from tlsfit.target import measure

LEGACY = ("MBEDTLS_ECP_C", "MBEDTLS_ECDH_C", "MBEDTLS_ECDSA_C", "MBEDTLS_BIGNUM_C",
          "MBEDTLS_ECP_LIGHT")
TIMEOUT = 120
COMPAT = Path(__file__).resolve().parent / "fixtures" / "compat"


# ------------------------------------------------------------------ pure functions

def _plan(name, **kw):
    return gen.generate(json.loads((COMPAT / name).read_text()), GenOptions(**kw))


@pytest.mark.parametrize("profile, why", [
    ("openssl-ec-13.json", 'root" has a secp384r1 key'),
    ("openssl-rsa-12-13.json", "has an RSA-2048 key"),
])
def test_recorded_servers_off_p256_keep_the_builtin_code(profile, why):
    plan = _plan(profile, ecc="p256m")
    assert plan.facts["ecc"] == "builtin" and why in plan.facts["ecc_note"], plan.facts
    assert "MBEDTLS_PSA_P256M_DRIVER_ENABLED" not in plan.options
    # without --ecc the header is what it always was: no ECC line
    assert _plan(profile).facts["ecc_note"] == "" and " * ECC:" not in _plan(profile).text


def test_the_driver_is_for_36_only():
    plan = _plan("openssl-ec-12.json", ecc="p256m", line="2.28")
    assert plan.facts["ecc"] == "builtin"
    assert "mbedTLS 3.6 only" in plan.facts["ecc_note"]


def test_rules_check_rejects_a_malformed_driver():
    doc = tomllib_doc()
    doc["drivers"]["p256m"]["provides"]["MBEDTLS_NO_SUCH_C"] = "x"
    with pytest.raises(rules_mod.RulesError) as e:
        rules_mod.check(doc)
    assert e.value.code == RULES
    assert e.value.message == "rules.toml: drivers.p256m: unknown option MBEDTLS_NO_SUCH_C"
    doc = tomllib_doc()
    doc["drivers"]["p256m"]["curves"] = ["secp999r1"]
    with pytest.raises(rules_mod.RulesError) as e:
        rules_mod.check(doc)
    assert e.value.message == "rules.toml: drivers.p256m: unknown curve secp999r1"


def tomllib_doc():
    import tomllib
    return copy.deepcopy(tomllib.loads(rules_mod.RULES_PATH.read_text()))


# ------------------------------------------------------------------ live servers


@pytest.fixture(scope="module")
def p256_chain(tmp_path_factory):
    d = tmp_path_factory.mktemp("p256-pki")
    return refservers.make_chain(d, "p256", "ec:P-256", "ec:P-256", "ec:P-256", label="P-256")


def _gen(run_probe, run_driver, tmp_path, srv, chain, *args):
    doc, prof, cfg, proc = probe_and_gen(run_probe, run_driver, tmp_path, srv, chain,
                                         "--mbedtls", "3.6", *args)
    assert proc.returncode == 0, proc.stderr
    return prof, cfg, json.loads(proc.stdout)


def _assert_driver_only(cfg, plan, tree):
    text = cfg.read_text()
    assert plan["ecc"]["code"] == "p256m", plan["ecc"]
    assert " * ECC: driver-only P-256" in text
    for name in ("MBEDTLS_USE_PSA_CRYPTO", "MBEDTLS_PSA_P256M_DRIVER_ENABLED",
                 "PSA_WANT_ALG_ECDSA", "PSA_WANT_ALG_ECDH", "PSA_WANT_ECC_SECP_R1_256"):
        assert define(text, name), f"{name} missing\n{text}"
    for name in LEGACY + ("MBEDTLS_MPI_MAX_SIZE", "MBEDTLS_ECP_WINDOW_SIZE"):
        assert define(text, name) is None, f"{name} still defined\n{text}"
    assert define(text, "MBEDTLS_PSA_KEY_SLOT_COUNT") == "5"
    # after build_info.h: nothing turned the legacy code back on, p256-m accelerates P-256
    eff = effective_defines(cfg, tree)
    assert not set(LEGACY) & eff, sorted(set(LEGACY) & eff)
    assert {"MBEDTLS_PSA_ACCEL_ECC_SECP_R1_256", "MBEDTLS_PSA_ACCEL_ALG_ECDSA",
            "MBEDTLS_PSA_ACCEL_ALG_ECDH", "MBEDTLS_PK_HAVE_ECC_KEYS",
            "MBEDTLS_PK_CAN_ECDSA_VERIFY"} <= eff
    builtin_ecc = {x for x in eff if x.startswith(("MBEDTLS_PSA_BUILTIN_ECC",
                                                   "MBEDTLS_PSA_BUILTIN_ALG_ECD",
                                                   "MBEDTLS_PSA_BUILTIN_KEY_TYPE_ECC"))}
    assert not builtin_ecc, sorted(builtin_ecc)
    arm_check(cfg, tree)
    return text


def test_tls13_driver_only_verifies_and_is_smaller_on_cortex_m4(
        p256_chain, tree36, server_logs, run_probe, run_driver, tmp_path):
    require_tools("arm-none-eabi-gcc", "qemu-system-arm")
    with refservers.openssl_server(p256_chain, "-tls1_3", log_dir=server_logs) as srv:
        prof, cfg, plan = _gen(run_probe, run_driver, tmp_path, srv, p256_chain, "--ecc", "p256m")
        _assert_driver_only(cfg, plan, tree36)
        res = verify.verify(cfg, "127.0.0.1", srv.port, sni="localhost", ca=p256_chain.root.pem,
                            mbedtls_dir=tree36.path)
        assert res["ok"] is True, json.dumps(res.to_json(), indent=1)
        assert res["version"] == "TLSv1.3"
        explained = run_driver("gen", prof, "--mbedtls", "3.6", "--ecc", "p256m", "--explain")
        assert explained.returncode == 0, explained.stderr
        assert "off MBEDTLS_ECDSA_C" in explained.stdout
        assert "driver-only P-256: ECDSA through PSA" in explained.stdout
        builtin = tmp_path / "builtin" / "tls_config.h"
        builtin.parent.mkdir()
        proc = run_driver("gen", prof, "-o", builtin, "--mbedtls", "3.6")
        assert proc.returncode == 0, proc.stderr
        assert define(builtin.read_text(), "MBEDTLS_ECP_C")
        figures = {}
        for name, header in (("p256m", cfg), ("builtin", builtin)):
            m = measure.measure(header, "cortex-m4", "127.0.0.1", srv.port, sni="localhost",
                                ca=p256_chain.root.pem, timeout=TIMEOUT, progress=False)
            assert m["handshake"]["ok"] is True, (name, m["handshake"])
            assert m["handshake"]["version"] == "TLSv1.3"
            figures[name] = m["rom_tls_bytes"]
    assert figures["p256m"] < figures["builtin"], figures


def test_tls12_driver_only_routes_the_366_defects_and_verifies(
        p256_chain, tree36, server_logs, run_probe, run_driver, tmp_path):
    with refservers.openssl_server(p256_chain, "-tls1_2", log_dir=server_logs) as srv:
        _, cfg, plan = _gen(run_probe, run_driver, tmp_path, srv, p256_chain, "--ecc", "p256m")
        text = _assert_driver_only(cfg, plan, tree36)
        res = verify.verify(cfg, "127.0.0.1", srv.port, sni="localhost", ca=p256_chain.root.pem,
                            mbedtls_dir=tree36.path)
    assert res["ok"] is True, json.dumps(res.to_json(), indent=1) + "\n" + text
    assert res["version"] == "TLSv1.2" and "ECDHE_ECDSA" in res["ciphersuite"]
    assert plan["chosen"][0]["version"] == "TLSv1.2"
    for name, what in (("MBEDTLS_SSL_TLS1_2_SOME_ECC", "config_adjust_ssl.h"),
                       ("MBEDTLS_KEY_EXCHANGE_PSK_ENABLED", "MBEDTLS_ECP_MAX_BYTES")):
        assert define(text, name), f"{name} missing\n{text}"
        assert any("mbedTLS defect routed around" in r and what in r
                   for r in plan["options"][name]), plan["options"][name]
    assert {"PSA_WANT_ALG_TLS12_PRF", "PSA_WANT_ALG_HMAC"} <= set(plan["options"])
    # the PSK code is compiled in but never offered
    assert "PSK" not in define(text, "MBEDTLS_SSL_CIPHERSUITES")
    # the Regenerate line (with --ecc p256m) renders it again, byte for byte
    again = run_printed(run_driver, regenerate_line(text))
    assert again.returncode == 0, again.stderr
    assert again.stdout == text


def test_mixed_chain_keeps_builtin_ecc_and_says_why(pki, server_logs, run_probe, run_driver,
                                                    tmp_path):
    # the standard PKI's ECDSA chain: P-384 root -> P-256 intermediate -> P-256 leaf
    with refservers.openssl_server(pki.ec, "-tls1_3", log_dir=server_logs) as srv:
        _, cfg, plan = _gen(run_probe, run_driver, tmp_path, srv, pki.ec, "--ecc", "p256m")
    text = cfg.read_text()
    assert plan["ecc"]["code"] == "builtin"
    why = plan["ecc"]["why"]
    assert f'"CN={pki.ec.root.cn}" has a secp384r1 key' in why, why
    assert " * ECC: built-in ECC code kept" in text and "secp384r1 key" in text
    for name in ("MBEDTLS_ECP_C", "MBEDTLS_ECDSA_C", "MBEDTLS_BIGNUM_C",
                 "MBEDTLS_ECP_DP_SECP384R1_ENABLED"):
        assert define(text, name), f"{name} missing\n{text}"
    for name in ("MBEDTLS_USE_PSA_CRYPTO", "MBEDTLS_PSA_P256M_DRIVER_ENABLED"):
        assert define(text, name) is None
    assert "--ecc p256m" in text.splitlines()[3]       # the Regenerate line asks again
