"""gen --mbedtls 4.0: the two files of the Mbed TLS 4.x line.

The 4.x table (rules_4.toml) is checked against the unmodified Mbed TLS 4.0.0 tree
(shared/upstream/mbedtls-4.0.0.tar.xz beside the checkout, or $TLSFIT_UPSTREAM): every
cited line says what the entry claims and every name gen can emit is an option of the
tree's two config files.  Every shipped profile renders a pair that 4.x's own checks
accept (the tree's generated config check headers and the two units that include them,
compiled on the host), or is refused for a removed key exchange.  No servers, no
library build.
"""
import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import MBEDTLS4_ARCHIVE, upstream_dir
from tlsfit.core.errors import MBED4_OUTPUT, REFUSED
from tlsfit.core.identity import ClientIdentity
from tlsfit.header import platforms, rules as rules_mod
from tlsfit.header.mbed4 import check, table as table_mod
from tlsfit.header.mbed4.pair import generate_pair
from tlsfit.header.mbed4.render import write_pair
from tlsfit.header.platforms import evaluate, matrix
from tlsfit.header.psk import PskSpec
from tlsfit.header.types import GenOptions, Refusal
from tlsfit.lab import refservers
from tlsfit.mbedtls.configfiles import crypto_config_path

REPO = Path(__file__).resolve().parents[1]
PROFILES = sorted((REPO / "profiles").glob("*.json"))
UPSTREAM = upstream_dir()
ARCHIVE = UPSTREAM / MBEDTLS4_ARCHIVE
needs_tree = pytest.mark.skipif(
    not ARCHIVE.is_file(), reason=f"no {ARCHIVE} (shared/upstream beside the checkout, or "
                                  "$TLSFIT_UPSTREAM): the Mbed TLS 4.0.0 tree is not here")


@pytest.fixture(scope="module")
def tree(tree4):
    """The 4.0.0 tree (conftest's tree4: the set-up cache's, unpacked from the archive
    when it has none)."""
    return tree4.path


@pytest.fixture(scope="module")
def generated(tree, tmp_path_factory):
    return check.generate_check_headers(tree, tmp_path_factory.mktemp("checks"))


def _config_names(tree):
    table = table_mod.load()
    text = "".join((tree / f).read_text() for f in table.files.values())
    return set(re.findall(r"^\s*(?://)?\s*#define\s+(\w+)", text, re.M))


def _doc(name):
    return json.loads((REPO / "profiles" / f"{name}.json").read_text())


# ------------------------------------------------------------------ the table
def test_every_name_gen_emits_for_36_has_a_4x_fate():
    rules, table = rules_mod.load(), table_mod.load()
    names = {n for n in rules.options if rules.available(n, "3.6")}
    names |= {k for k in rules.knobs}
    names |= {"MBEDTLS_SSL_IN_CONTENT_LEN", "MBEDTLS_SSL_OUT_CONTENT_LEN",
              "MBEDTLS_MPI_MAX_SIZE", "MBEDTLS_ECP_MAX_BITS", "MBEDTLS_SSL_CIPHERSUITES"}
    assert sorted(names - set(table.moves)) == []
    refused = {n for n, m in table.moves.items() if m.to == "refuse"}
    assert refused == {"MBEDTLS_KEY_EXCHANGE_RSA_ENABLED", "MBEDTLS_KEY_EXCHANGE_DHE_RSA_ENABLED"}
    assert {"RSA", "DHE_RSA"} <= set(table.removed_kx)


@needs_tree
def test_table_against_the_4_0_tree(tree):
    table, options = table_mod.load(), _config_names(tree)
    assert sorted(table.emitted_names() - options) == []
    for name, move in table.moves.items():
        path, line = move.cite.rsplit(":", 1)
        lines = (tree / path).read_text().splitlines()
        assert 1 <= int(line) <= len(lines), move.cite
        if move.to in ("tls", "crypto") and move.names == (name,):
            assert re.search(rf"#define\s+{name}\b", lines[int(line) - 1]), move.cite
            assert path == table.files[move.to], (name, move.to)
        if move.to in ("gone", "refuse"):
            assert name not in options, f"{name} is still an option of 4.0"
        if move.to == "default":
            assert name in options, f"{name} is not an option of 4.0"
        if move.to == "crypto" and move.names != (name,):
            assert name not in options, f"{name} is still an option of 4.0"
        if move.also:                   # a check (#if) or the code that uses the mechanism
            p, ln = move.also_cite.rsplit(":", 1)
            text = (tree / p).read_text().splitlines()[int(ln) - 1]
            assert "#if" in text or any(n.replace("PSA_WANT_", "PSA_") in text
                                        for n in move.also), move.also_cite
    for cite, what in table.cited():
        p, ln = cite.rsplit(":", 1)
        assert 1 <= int(ln) <= len((tree / p).read_text().splitlines()), (cite, what)
    for kx, (cite, why) in table.removed_kx.items():
        p, ln = cite.rsplit(":", 1)
        text = (tree / p).read_text().splitlines()[int(ln) - 1]
        assert kx.replace("_", "-").split("-")[-1] in text.replace("_", "-"), (kx, text)


# ------------------------------------------------------------------ the pair, checked by 4.x
@needs_tree
@pytest.mark.parametrize("ecc", ["builtin", "p256m"])
def test_shipped_profiles_render_and_pass_4x_checks(tree, generated, tmp_path, ecc):
    served = 0
    for path in PROFILES:
        doc = json.loads(path.read_text())
        # a PSK-only profile (no chain) is generated for with its identity, as gen --psk-*
        psk = PskSpec(doc["psk"]["identity"], 16, "device.key") \
            if doc.get("psk") and not doc.get("chain") else None
        try:
            plan = generate_pair([doc], GenOptions(line="4.0", ecc=ecc, psk=psk), [path.name])
        except Refusal as e:
            assert "removed" in e.message and "--mbedtls 3.6" in e.message, e.message
            continue
        out = tmp_path / path.stem / "tls_config.h"
        write_pair(plan, out)
        for unit, rc, err in check.check_pair(tree, out, generated):
            assert rc == 0, f"{path.name} ({ecc}): {unit} rejects the pair:\n{err}"
        served += 1
    assert served >= len(PROFILES) - 2


@needs_tree
def test_external_rng_and_two_servers_pass_4x_checks(tree, generated, tmp_path):
    docs = [_doc("nginx-modern"), _doc("mosquitto-tls")]
    plan = generate_pair(docs, GenOptions(line="4.0", external_rng=True), ["a", "b"])
    assert "MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG" in plan.files.crypto
    assert "MBEDTLS_PSA_DRIVER_GET_ENTROPY" not in plan.files.crypto
    write_pair(plan, tmp_path / "dev.h")
    assert [rc for _, rc, _ in check.check_pair(tree, tmp_path / "dev.h", generated)] == [0, 0]


@needs_tree
def test_client_cert_pair_imports_the_device_key_and_passes_4x_checks(tree, generated, tmp_path):
    ca = refservers.make_ca(tmp_path, "devca", "tlsfit device CA", "ec:P-256")
    for kind, spec in (("ec", "ec:P-256"), ("rsa", "rsa:2048")):
        dev = refservers.make_client_cert(ca, tmp_path, kind, spec)
        opts = GenOptions(line="4.0", client=ClientIdentity.load(dev.pem, dev.key))
        plan = generate_pair([_doc("mosquitto-mtls")], opts, ["m"])
        pair = f"PSA_WANT_KEY_TYPE_{kind.upper() if kind == 'rsa' else 'ECC'}_KEY_PAIR_IMPORT"
        assert pair in plan.files.crypto
        assert "mbedtls_pk_wrap_psa()" in plan.tls_text and "setup_opaque" not in plan.tls_text
        write_pair(plan, tmp_path / kind / "c.h")
        assert [rc for _, rc, _ in check.check_pair(tree, tmp_path / kind / "c.h", generated)] \
            == [0, 0]


@needs_tree
def test_the_checks_reject_a_3_6_option_in_the_crypto_file(tree, generated, tmp_path):
    plan = generate_pair([_doc("mosquitto-tls")], GenOptions(line="4.0"), ["m"])
    out = tmp_path / "bad.h"
    write_pair(plan, out)
    crypto = crypto_config_path(out)
    crypto.write_text(crypto.read_text().replace("#endif /* TLSFIT_TLS_CONFIG_CRYPTO_H */",
                                                 "#define MBEDTLS_SHA256_C\n#endif"))
    results = dict((u, (rc, err)) for u, rc, err in check.check_pair(tree, out, generated))
    rc, err = results["tf-psa-crypto/core/tf_psa_crypto_config.c"]
    assert rc != 0 and "MBEDTLS_SHA256_C" in err


# ------------------------------------------------------------------ what the files say
def test_files_are_split_and_the_preamble_says_what_4x_owes():
    plan = generate_pair([_doc("mosquitto-tls")], GenOptions(line="4.0"), ["m"])
    tls, crypto = plan.tls_text, plan.crypto_text
    defined = lambda text: set(re.findall(r"^#define (\w+)", text, re.M))  # noqa: E731
    assert "MBEDTLS_SSL_TLS_C" in defined(tls) and "MBEDTLS_SSL_TLS_C" not in defined(crypto)
    assert "PSA_WANT_ALG_SHA_256" in defined(crypto) and not {
        "MBEDTLS_SHA256_C", "MBEDTLS_ECDH_C", "MBEDTLS_ENTROPY_C", "MBEDTLS_CIPHER_C"} & (
        defined(crypto) | defined(tls))
    assert not any(n.startswith("PSA_WANT_") for n in defined(tls))
    for owed in ("mbedtls_platform_get_entropy", "-DTF_PSA_CRYPTO_CONFIG_FILE",
                 "-DMBEDTLS_CONFIG_FILE", "psa_crypto_init()", "mbedtls_ssl_set_hostname",
                 "MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET", "--mbedtls 4.0"):
        assert owed in tls, owed
    for line in tls.splitlines() + crypto.splitlines():
        if line.startswith("#define") and not line.startswith("#define TLSFIT_TLS_CONFIG"):
            assert "/* " in line, line


# ------------------------------------------------------------------ PSA key slots
def test_key_slots_are_the_measured_minimum_of_the_handshake_kinds(tmp_path):
    """MBEDTLS_PSA_KEY_SLOT_COUNT: per version, the measured minimum of the plain kind
    plus what each feature present measured above it, the largest over the versions
    (rules_4.toml [key_slots], bench/psa_key_slots4.py)."""
    table = table_mod.load()
    assert table.slots_for({"TLSv1.2"}, ())[0] == 3
    assert table.slots_for({"TLSv1.2", "TLSv1.3"}, ())[0] == 5
    assert table.slots_for({"TLSv1.3"}, {"client_cert"})[0] == 6
    assert table.slots_for({"TLSv1.2"}, {"client_cert"})[0] == 4
    assert table.slots_for({"TLSv1.3"}, {"psk", "client_cert"})[0] == 7     # 5 + 1 + 1
    assert table.slots_for({"TLSv1.2"}, {"cbc"})[0] == 5
    assert table.slots_for({"TLSv1.2"}, {"cbc", "client_cert"})[0] == 6
    assert table.slots_for({"TLSv1.2"}, {"psk"})[0] == 3
    assert table.slots_for({"TLSv1.3"}, {"resume"})[0] == 6
    assert table.slots_for({"DTLSv1.2"}, ()) == (None, [])
    counts = {}
    for tls in ("1.2", "1.3"):
        plan = generate_pair([_doc("mosquitto-tls")], GenOptions(line="4.0", tls=tls), ["m"])
        value, why = plan.files.crypto_values["MBEDTLS_PSA_KEY_SLOT_COUNT"]
        counts[tls] = value
        assert "bench/psa_key_slots4.py" in why and "fail" in why
    assert counts == {"1.2": 3, "1.3": 5}
    ca = refservers.make_ca(tmp_path, "devca", "tlsfit device CA", "ec:P-256")
    dev = refservers.make_client_cert(ca, tmp_path, "ec", "ec:P-256")
    opts = GenOptions(line="4.0", tls="1.3", client=ClientIdentity.load(dev.pem, dev.key))
    plan = generate_pair([_doc("mosquitto-mtls")], opts, ["m"])
    assert "#define MBEDTLS_PSA_KEY_SLOT_COUNT 6 " in plan.crypto_text


@pytest.mark.parametrize("kind, message", [
    ({"version": "TLSv1.4", "slots": 3, "measured": "x"}, "version must be"),
    ({"version": "TLSv1.2", "with": "dtls", "slots": 3, "measured": "x"}, "version must be"),
    ({"version": "TLSv1.2", "slots": 0, "measured": "x"}, "needs slots"),
    ({"version": "TLSv1.2", "slots": 3}, "needs slots")])
def test_key_slot_entries_are_checked(kind, message):
    from tlsfit.core.errors import RULES, TlsfitError
    from tlsfit.header.rules import read_toml
    doc = read_toml(table_mod.TABLE_PATH)
    doc["key_slots"]["kind"] = [kind]
    with pytest.raises(TlsfitError) as e:
        table_mod.check(doc)
    assert e.value.code == RULES and message in e.value.message


# ------------------------------------------------------------------ refusals
def _only(doc, version, suites):
    doc = json.loads(json.dumps(doc))
    doc["versions"], doc["chain_from"] = [version], version
    for key, value in list(doc.items()):
        if isinstance(value, dict) and any(k.startswith("TLSv") for k in value):
            doc[key] = {k: v for k, v in value.items() if not k.startswith("TLSv") or k == version}
    doc["ciphersuites"] = {version: [s for s in doc["ciphersuites"][version]
                                     if s["name"] in suites]}
    return doc


def test_two_servers_one_with_only_static_rsa_are_refused_naming_3_6():
    rsa = _only(_doc("apache-intermediate"), "TLSv1.2", {"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"})
    with pytest.raises(Refusal) as e:
        generate_pair([_doc("mosquitto-tls"), rsa], GenOptions(line="4.0"), ["a", "b"])
    assert e.value.message.startswith("server 2 (") and "mbedTLS 4.0" in e.value.message
    assert e.value.message.endswith("`--mbedtls 3.6` can serve them")


def test_a_server_with_only_dhe_rsa_is_refused_naming_3_6():
    doc = _only(_doc("apache-intermediate"), "TLSv1.2",
                {"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"})
    with pytest.raises(Refusal) as e:
        generate_pair([doc], GenOptions(line="4.0"), ["x"])
    assert e.value.code == REFUSED
    assert "DHE" in e.value.message and "--mbedtls 3.6" in e.value.message
    assert "docs/4.0-migration-guide.md:386" in e.value.message
    assert "\n" not in e.value.message


def test_cli_refusals_are_one_line_with_their_codes(tmp_path):
    doc = _only(_doc("apache-intermediate"), "TLSv1.2", {"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"})
    prof = tmp_path / "dhe.json"
    prof.write_text(json.dumps(doc))
    run = lambda *a: subprocess.run([str(REPO / "tlsfit"), "gen", *a],  # noqa: E731
                                    cwd=REPO, capture_output=True, text=True)
    r = run(str(prof), "--mbedtls", "4.0", "-o", str(tmp_path / "t.h"))
    assert r.returncode == REFUSED and "--mbedtls 3.6" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "t.h").exists()
    r = run("profiles/mosquitto-tls.json", "--mbedtls", "4.0", "--for", "zephyr",
            "-o", str(tmp_path / "z"))
    assert r.returncode == MBED4_OUTPUT and "Zephyr" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = run("profiles/mosquitto-tls.json", "--mbedtls", "4.0", "-o", str(tmp_path / "ok.h"))
    assert r.returncode == 0, r.stderr
    assert "Regenerate rather than edit:  tlsfit gen profiles/mosquitto-tls.json --mbedtls 4.0" \
        in (tmp_path / "ok.h").read_text()
    r = run("profiles/mosquitto-tls.json", "--mbedtls", "4.0")
    assert r.returncode == 0 and r.stdout.startswith("/* ==== tlsfit: tls_config.h ==== */\n")
    tls, crypto = r.stdout.split("/* ==== tlsfit: tls_config_crypto.h ==== */\n")
    assert (tmp_path / "ok.h").read_text().replace("ok.h", "tls_config.h") \
        .replace("ok_crypto.h", "tls_config_crypto.h") in tls
    assert "#define PSA_WANT_ALG_SHA_256 1" in crypto
    assert "#define PSA_WANT_ALG_SHA_256" in (tmp_path / "ok_crypto.h").read_text()


# ------------------------------------------------------------------ ESP-IDF v6
PLATFORMS = UPSTREAM / "platforms"
ESP6 = PLATFORMS / "esp-idf" / "v6.0.2" / "components" / "mbedtls"
try:
    import kconfiglib  # noqa: F401
    KCONFIGLIB = None
except ImportError:
    KCONFIGLIB = "python3-kconfiglib is not installed (./tlsfit setup installs it)"
needs_esp6 = pytest.mark.skipif(
    not (ESP6 / "Kconfig").is_file() or not ARCHIVE.is_file() or KCONFIGLIB is not None,
    reason=KCONFIGLIB or f"no {ESP6} or {ARCHIVE}: ESP-IDF v6.0.2's mbedtls component or "
                         "the Mbed TLS 4.0.0 tree is not here")


@pytest.mark.skipif(not (ESP6 / "Kconfig").is_file(), reason=f"no {ESP6}")
def test_esp_idf_v6_table_cites_its_kconfig_and_esp_config_lines():
    p = platforms.load("esp-idf-v6")
    kconfig = (ESP6 / "Kconfig").read_text().splitlines()
    header = (ESP6 / "port/include/mbedtls/esp_config.h").read_text().splitlines()
    cited = 0
    for s in p.symbols:
        for kind, line in re.findall(r"(Kconfig|esp_config\.h):(\d+)", s.note):
            if kind == "Kconfig":
                assert kconfig[int(line) - 1].strip() == f"config {s.kconfig[7:]}", s.kconfig
            else:
                assert s.kconfig in header[int(line) - 1], (s.kconfig, line)
            cited += 1
    assert cited > 100
    names = set(re.findall(r"\b(?:MBEDTLS|PSA_WANT)_\w+", "\n".join(header)))
    assert {o for s in p.symbols for o in s.options} <= names
    assert {f.lstrip("-").split(" ")[0] for f in p.fixed} <= names


@needs_esp6
@pytest.mark.parametrize("case", [c for c in matrix.CASES4 if c[0] in (
    "mosquitto-tls --mbedtls 4.0", "nginx-modern --mbedtls 4.0 --ecc p256m")], ids=lambda c: c[0])
def test_esp_idf_v6_output_equals_the_pair_on_esp_idf_v6(case, tmp_path_factory):
    """gen --for esp-idf --mbedtls 4.0 applied with kconfiglib over v6.0.2's Kconfig (every
    assignment takes), esp_config.h run through the preprocessor in 4.x's order with the
    overlay: the option set is the bare-metal pair's (ranked for ESP-IDF's hardware), up
    to what ESP-IDF owns, and gen's model agrees with both."""
    results = matrix.run_case(case, tmp_path_factory.mktemp("esp6"), UPSTREAM)
    assert [r.tree for r in results] == ["esp-idf-v6.0.2"]
    r, = results
    assert r.ok, (r.failures, r.differences, r.model)


@needs_esp6
def test_esp_idf_v6_model_reads_unmodelled_dependencies_as_kconfig_does(tmp_path):
    """A `depends on` the v6 table names but does not model (target capabilities, menus
    tlsfit leaves alone) is read as n by the model: Kconfig must agree for an empty
    fragment, or the model would keep a symbol Kconfig drops."""
    p = platforms.load("esp-idf-v6")
    v6 = next(t for t in evaluate.trees("esp-idf") if t.name == "esp-idf-v6.0.2")
    applied = evaluate.kconfig_apply(v6, "", UPSTREAM)
    modelled = {s.kconfig for s in p.symbols}
    for s in p.symbols:
        for term in s.depends:
            for part in term.lstrip("!").split("|"):
                if part not in modelled:
                    assert applied.values.get(part[7:], "n") in ("n", ""), (s.kconfig, part)
