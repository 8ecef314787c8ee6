"""`tlsfit gen --external-rng` (issue 18 item 3a): the device's TRNG feeds mbedTLS directly,
so the entropy module and the DRBG leave the header.

  - with the PSA core (TLS 1.3): MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG, the application's
    mbedtls_psa_external_get_random(); without it (TLS 1.2 on the built-in code, 2.28):
    no PSA core is added, the application's f_rng goes to mbedtls_ssl_conf_rng();
  - the header's preamble says exactly what the application owes, and defines the
    marker (TLSFIT_EXTERNAL_RNG) the harnesses read;
  - each header passes check_config.h for the host and for arm-none-eabi, and mbedTLS's
    own adjustments turn no entropy module or DRBG back on;
  - without the flag nothing changes (tests/test_compat.py holds every recorded header,
    --json and --explain byte for byte; here the same for the headers this file uses);
  - live: a host `tlsfit verify` of each kind against openssl s_server on 127.0.0.1, and
    one cortex-m4 measurement of the TLS 1.2 header (the firmware's own f_rng path).
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
from tlsfit.mbedtls.tree import resolve_tree
from tlsfit.target import measure

REPO = Path(__file__).resolve().parent.parent
COMPAT = REPO / "tests" / "fixtures" / "compat"
GONE = ("MBEDTLS_ENTROPY_C", "MBEDTLS_CTR_DRBG_C", "MBEDTLS_HMAC_DRBG_C",
        "MBEDTLS_ENTROPY_HARDWARE_ALT", "MBEDTLS_NO_PLATFORM_ENTROPY")
PSA_SIGNATURE = "psa_status_t mbedtls_psa_external_get_random("
F_RNG_SIGNATURE = "int f_rng(void *p_rng, unsigned char *output, size_t output_len);"
TIMEOUT = 120


def _doc(name):
    return json.loads((COMPAT / name).read_text())


def _plan(name, **kw):
    return gen.generate(_doc(name), GenOptions(**kw), profile_name=f"tests/fixtures/compat/{name}")


# ------------------------------------------------------------------ pure functions

@pytest.mark.parametrize("profile, via", [
    ("openssl-ec-13.json", "psa"),         # TLS 1.3: the PSA core is there anyway
    ("openssl-ec-12.json", "ssl_conf_rng"),   # TLS 1.2 on the built-in code: no PSA core
    ("openssl-rsa-12-13.json", "ssl_conf_rng"),
])
def test_the_header_drops_entropy_and_drbg_and_says_what_is_owed(profile, via):
    before = _plan(profile)
    plan = _plan(profile, external_rng=True)
    for name in GONE:
        assert name not in plan.options, (name, plan.options.get(name))
    assert any(n in before.options for n in ("MBEDTLS_CTR_DRBG_C", "MBEDTLS_HMAC_DRBG_C"))
    assert "MBEDTLS_ENTROPY_C" in before.options
    assert plan.facts["rng"]["via"] == via
    assert plan.values["TLSFIT_EXTERNAL_RNG"][0] == 1
    text = plan.text
    assert " * Random numbers (--external-rng): this build has no entropy module" in text
    assert "no fallback" in text and "cryptographically secure TRNG" in text
    if via == "psa":
        assert "MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG" in plan.options
        assert PSA_SIGNATURE in text and "PSA_ERROR_INSUFFICIENT_ENTROPY" in text
        assert plan.duties[0].startswith("supply mbedtls_psa_external_get_random()")
    else:
        # no PSA core is added for the RNG alone: TLS takes the application's f_rng
        assert "MBEDTLS_PSA_CRYPTO_C" not in plan.options
        assert "MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG" not in plan.options
        assert F_RNG_SIGNATURE in text and "mbedtls_ssl_conf_rng(&conf, f_rng, p_rng)" in text
        assert plan.duties[0].startswith("give mbedtls_ssl_conf_rng() the device's TRNG")
    # the rest of the header is the same decision
    assert plan.chosen == before.chosen
    assert set(before.options) - set(plan.options) <= set(GONE)
    assert plan.cost < before.cost


def test_without_the_flag_the_header_is_what_it_was(run_driver):
    # the recorded headers (tests/fixtures/compat, recorded before --external-rng existed)
    for profile in ("openssl-ec-13", "openssl-ec-12", "openssl-rsa-12-13"):
        rel = f"tests/fixtures/compat/{profile}.json"
        proc = run_driver("gen", rel)
        assert proc.returncode == 0, proc.stderr
        assert f"exit 0\n{proc.stdout}" == (COMPAT / f"{profile}.default.out").read_text()
        assert "--external-rng" not in proc.stderr


def test_228_takes_the_applications_f_rng():
    plan = _plan("openssl-ec-12.json", external_rng=True, line="2.28")
    assert plan.facts["rng"]["via"] == "ssl_conf_rng"
    assert not set(GONE) & set(plan.options)
    assert "TLSFIT_EXTERNAL_RNG" in plan.values
    # 2.28's check_config.h wants a DRBG for ECP's internal RNG; only public-data
    # verification goes without it (rules.toml [external_rng] needs)
    assert "only the verification of signatures, on public data" in \
        plan.options["MBEDTLS_ECP_NO_INTERNAL_RNG"][0]
    assert "MBEDTLS_ECP_NO_INTERNAL_RNG" not in _plan("openssl-ec-12.json", line="2.28").options
    assert "MBEDTLS_ECP_NO_INTERNAL_RNG" not in _plan("openssl-ec-12.json",
                                                      external_rng=True).options   # 3.6


def test_driver_only_p256_with_external_rng_routes_psa_to_the_trng():
    # the recorded ECDSA TLS 1.2 server with its P-384 root turned P-256 (the facts gen
    # reads: the key's curve, the signature's algorithm and hash): all P-256, so gen
    # --ecc p256m brings the PSA core into a TLS 1.2 header, and PSA takes the TRNG
    doc = _doc("openssl-ec-12.json")
    for cert in doc["chain"] + [doc["trust_anchor"]]:
        if cert["key"].get("curve") == "secp384r1":
            cert["key"].update(curve="secp256r1", bits=256)
        if cert["signature_algorithm"] == "ecdsa-with-SHA384":
            cert.update(signature_algorithm="ecdsa-with-SHA256", signature_hash="sha256",
                        signature_oid="1.2.840.10045.4.3.2")
    plan = gen.generate(doc, GenOptions(ecc="p256m", external_rng=True))
    assert plan.facts["ecc"] == "p256m", plan.facts["ecc_note"]
    assert plan.chosen[0].version == "TLSv1.2"
    assert plan.facts["rng"]["via"] == "psa"
    assert "MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG" in plan.options
    assert not set(GONE) & set(plan.options)
    assert PSA_SIGNATURE in plan.text


def test_json_and_explain_say_the_opt_in_is_on(run_driver):
    proc = run_driver("gen", "tests/fixtures/compat/openssl-ec-13.json", "--external-rng",
                      "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["rng"]["external"] is True and doc["rng"]["via"] == "psa"
    assert doc["values"]["TLSFIT_EXTERNAL_RNG"] == 1
    proc = run_driver("gen", "tests/fixtures/compat/openssl-ec-12.json", "--external-rng",
                      "--explain")
    assert proc.returncode == 0, proc.stderr
    assert "off MBEDTLS_ENTROPY_C" in proc.stdout
    assert "no entropy accumulator: the device's TRNG is the only source" in proc.stdout


def test_the_regenerate_line_carries_the_flag(run_driver, tmp_path):
    out = tmp_path / "tls_config.h"
    proc = run_driver("gen", "tests/fixtures/compat/openssl-ec-13.json", "--external-rng",
                      "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "--external-rng is on" in proc.stderr
    text = out.read_text()
    line = regenerate_line(text)
    assert line.endswith("--external-rng"), line
    again = run_printed(run_driver, line)
    assert again.returncode == 0, again.stderr
    assert again.stdout == text


def test_rules_check_rejects_a_malformed_external_rng():
    import tomllib
    doc = copy.deepcopy(tomllib.loads(rules_mod.RULES_PATH.read_text()))
    doc["external_rng"]["drops"]["MBEDTLS_NO_SUCH_C"] = "x"
    with pytest.raises(rules_mod.RulesError) as e:
        rules_mod.check(doc)
    assert e.value.code == RULES
    assert e.value.message == "rules.toml: external_rng: unknown option MBEDTLS_NO_SUCH_C"
    doc = copy.deepcopy(tomllib.loads(rules_mod.RULES_PATH.read_text()))
    doc["external_rng"]["drops"]["MBEDTLS_ENTROPY_C"] = ""
    with pytest.raises(rules_mod.RulesError) as e:
        rules_mod.check(doc)
    assert e.value.message == ("rules.toml: external_rng.drops.MBEDTLS_ENTROPY_C: needs the "
                               "reason it can go")


@pytest.mark.parametrize("profile", ["openssl-ec-13.json", "openssl-ec-12.json"])
def test_the_header_passes_check_config_and_nothing_turns_the_drbg_back_on(
        profile, tree36, tmp_path):
    require_tools("arm-none-eabi-gcc")
    cfg = tmp_path / "tls_config.h"
    cfg.write_text(_plan(profile, external_rng=True).text)
    eff = effective_defines(cfg, tree36)
    assert not {"MBEDTLS_ENTROPY_C", "MBEDTLS_CTR_DRBG_C", "MBEDTLS_HMAC_DRBG_C"} & eff
    arm_check(cfg, tree36)


# ------------------------------------------------------------------ live servers

@pytest.mark.parametrize("version, via, line", [("-tls1_3", "psa", "3.6"),
                                               ("-tls1_2", "ssl_conf_rng", "3.6"),
                                               ("-tls1_2", "ssl_conf_rng", "2.28")])
def test_host_verify_takes_the_host_trng(version, via, line, pki, server_logs, run_probe,
                                         run_driver, tmp_path):
    tree = resolve_tree(line=line)
    with refservers.openssl_server(pki.ec, version, log_dir=server_logs) as srv:
        _, _, cfg, proc = probe_and_gen(run_probe, run_driver, tmp_path, srv, pki.ec,
                                        "--mbedtls", line, "--external-rng")
        assert proc.returncode == 0, proc.stderr
        plan = json.loads(proc.stdout)
        assert plan["rng"]["via"] == via
        text = cfg.read_text()
        for name in GONE:
            assert define(text, name) is None, name
        res = verify.verify(cfg, "127.0.0.1", srv.port, sni="localhost", ca=pki.ec.root.pem,
                            mbedtls_dir=tree.path, line=line)
    assert res["ok"] is True, json.dumps(res.to_json(), indent=1)
    assert res["version"] == ("TLSv1.3" if via == "psa" else "TLSv1.2")
    assert res["rng"] == ("psa-external (getrandom)" if via == "psa"
                          else "external f_rng (getrandom)"), res["rng"]


def test_cortex_m4_measures_an_external_rng_header(pki, server_logs, run_probe, run_driver,
                                                   tmp_path):
    require_tools("arm-none-eabi-gcc", "qemu-system-arm")
    with refservers.openssl_server(pki.ec, "-tls1_2", log_dir=server_logs) as srv:
        _, _, cfg, proc = probe_and_gen(run_probe, run_driver, tmp_path, srv, pki.ec,
                                        "--mbedtls", "3.6", "--external-rng")
        assert proc.returncode == 0, proc.stderr
        m = measure.measure(cfg, "cortex-m4", "127.0.0.1", srv.port, sni="localhost",
                            ca=pki.ec.root.pem, timeout=TIMEOUT, progress=False)
    assert m["handshake"]["ok"] is True, m["handshake"]
    assert m["handshake"]["version"] == "TLSv1.2"
    # QEMU's boards have no TRNG: the firmware says its source is the test-only one
    assert m["rng"] == "external f_rng: the test-only generator (no TRNG in QEMU)", m["rng"]
    objects = {x["name"] for x in m["modules"]}
    assert not objects & {"entropy.o", "entropy_poll.o", "ctr_drbg.o", "hmac_drbg.o",
                          "psa_crypto.o"}, sorted(objects)
    assert m["overlay"] == []


# ------------------------------------------------------------------ fit's side

def test_fit_passes_the_opt_in_to_every_header_and_its_report_renders_it_again(run_driver,
                                                                               tmp_path):
    import shutil
    from tlsfit.fit import report, search
    assert search.gen_options(search.FitOptions(external_rng=True), {}).external_rng is True
    assert search.gen_options(search.FitOptions(), {}).external_rng is False
    out = tmp_path / "fit"
    out.mkdir()
    shutil.copy(COMPAT / "openssl-ec-13.json", out / "profile.json")
    doc = {"gen_options": {"exclude": [], "knob_values": {}, "extra": {}, "sizes": {},
                           "candidate": None, "ecc": "builtin", "external_rng": True}}
    (out / "report.json").write_text(json.dumps(doc))
    proc = run_driver("gen", out / "profile.json", "--mbedtls", "3.6", "--fit-report",
                      out / "report.json")
    assert proc.returncode == 0, proc.stderr
    assert define(proc.stdout, "MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG") is True
    assert define(proc.stdout, "MBEDTLS_ENTROPY_C") is None
    assert "--external-rng --fit-report" in regenerate_line(proc.stdout)
    # the report's sentence, and none without the opt-in
    plan = _plan("openssl-ec-13.json", external_rng=True)
    text = report.rng_text(plan.facts["rng"])
    assert text.startswith("--external-rng is on: no entropy module and no DRBG")
    assert "mbedtls_psa_external_get_random()" in text and "test-only generator" in text
    assert report.rng_text(None) == ""


def test_fit_with_external_rng_verifies_a_header_without_entropy(pki, server_logs, run_driver,
                                                                 tmp_path):
    # an RSA TLS 1.2 server: cheap handshakes, and the header without a PSA core (the
    # firmware's own f_rng path); the search, the ablation and the final measurement all
    # verify with the server
    out = tmp_path / "fit"
    with refservers.openssl_server(pki.rsa, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256",
                                   log_dir=server_logs) as srv:
        res = run_driver("fit", srv.hostport, "--sni", "localhost", "--ca", pki.rsa.root.pem,
                         "--objective", "rom", "--candidates", "1", "--external-rng",
                         "--out", out, "--json", timeout=900)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["handshake"]["ok"] is True and report["handshake"]["version"] == "TLSv1.2"
    assert report["gen_options"]["external_rng"] is True
    assert report["rng"]["via"] == "ssl_conf_rng"
    assert not set(GONE) & set(report["options"]), sorted(report["options"])
    assert all(not set(GONE) & {a["option"]} for a in report["ablation"])
    assert not {"entropy.o", "entropy_poll.o", "ctr_drbg.o", "hmac_drbg.o"} & \
        {m["name"] for m in report["modules"]}
    text = (out / "tls_config.h").read_text()
    assert F_RNG_SIGNATURE in text and define(text, "TLSFIT_EXTERNAL_RNG") == "1"
    assert "--external-rng is on" in (out / "report.md").read_text()


def test_external_rng_on_a_fit_report_without_it_is_refused(run_driver, tmp_path):
    out = tmp_path / "fit"
    out.mkdir()
    (out / "profile.json").write_text((COMPAT / "openssl-ec-13.json").read_text())
    doc = {"gen_options": {"exclude": [], "knob_values": {}, "extra": {}, "sizes": {},
                           "candidate": None, "ecc": "builtin"}}
    (out / "report.json").write_text(json.dumps(doc))
    proc = run_driver("gen", out / "profile.json", "--fit-report", out / "report.json",
                      "--external-rng", "-o", out / "tls_config.h")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("tlsfit: --external-rng: ") and "fit without it" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (out / "tls_config.h").exists()
