"""`tlsfit gen`: every header it emits (a) passes mbedTLS's check_config.h for the host
and for arm-none-eabi and (b) completes a verified handshake (`tlsfit verify`) against
the very server it was generated for.

Each case starts a real server on 127.0.0.1 (openssl s_server, gnutls-serv, mbedTLS's
ssl_server2), probes it with tlsfit-probe, runs `tlsfit gen` through the CLI, then
proves the header.  Builds are cached per header in $TLSFIT_CACHE (verify) and by
ccache, so a second run is quick.
"""
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tlsfit.header import rules as rules_mod
from tlsfit.host import verify
from tlsfit.lab import refservers
from tlsfit.mbedtls.tree import resolve_tree
from tlsfit.core.errors import TlsfitError

REPO = Path(__file__).resolve().parent.parent
HUGE_SANS = tuple(f"sensor-{i:04d}.fleet.devices.tlsfit.test" for i in range(260))
ARM_CHECK_SOURCES = ("platform_util.c", "entropy_poll.c", "ssl_tls.c", "ssl_msg.c",
                     "x509_crt.c", "ctr_drbg.c", "ecp.c", "bignum.c")


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="session")
def gen_pki(tmp_path_factory):
    """Chains beyond the standard PKI: mixed algorithms, a huge one, EdDSA."""
    d = tmp_path_factory.mktemp("gen-pki")
    return {
        # RSA-4096 anchor -> P-384 intermediate -> P-256 leaf
        "mixed": refservers.make_chain(d, "mixed", "rsa:4096", "ec:P-384", "ec:P-256",
                                       label="mixed"),
        # a Certificate message over 8 KiB
        "huge": refservers.make_chain(d, "huge", "rsa:2048", "rsa:2048", "rsa:2048", HUGE_SANS,
                                      label="huge"),
        "ed25519": refservers.make_chain(d, "ed", "ed25519", "ed25519", "ed25519",
                                         label="Ed25519"),
    }


@pytest.fixture(scope="session")
def trees():
    try:
        return {line: resolve_tree(line=line) for line in ("3.6", "2.28")}
    except TlsfitError as e:
        pytest.fail(f"no mbedTLS tree: {e.message}", pytrace=False)


@pytest.fixture(scope="session")
def ssl_server2(trees):
    try:
        return verify.ssl_server2_path(trees["3.6"].path)
    except TlsfitError as e:
        pytest.fail(f"cannot build ssl_server2: {e.message}", pytrace=False)


def _chain(name, pki, gen_pki):
    return getattr(pki, name) if hasattr(pki, name) else gen_pki[name]


def _three_cert_file(chain, directory):
    """leaf + intermediate + root: a server that sends its whole chain."""
    path = Path(directory) / f"{chain.name}-inter-root.pem"
    path.write_bytes(chain.inter.pem.read_bytes() + chain.root.pem.read_bytes())
    return path


def start(kind, chain, args, logs, ssl_server2=None, chain_file=None):
    if kind == "openssl":
        return refservers.openssl_server(chain, *args, log_dir=logs, chain_file=chain_file)
    if kind == "gnutls":
        return refservers.gnutls_server(chain, priority=args[0], log_dir=logs)
    return refservers.mbedtls_server(ssl_server2, chain, *args, log_dir=logs)


def probe_and_gen(run_probe, run_driver, tmp_path, srv, chain, *gen_args):
    res = run_probe(f"127.0.0.1:{srv.port}", "--sni", "localhost", "--ca", chain.root.pem)
    assert res.returncode == 0, res.explain()
    prof = Path(res.argv[res.argv.index("-o") + 1])
    cfg = tmp_path / "tls_config.h"
    proc = run_driver("gen", prof, "-o", cfg, "--json", *gen_args)
    return res.profile, prof, cfg, proc


def arm_check(cfg, tree):
    """check_config.h and the platform code of the library, compiled for a Cortex-M4."""
    flags = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-Os",
             "--specs=nano.specs", "-fsyntax-only", f"-I{cfg.parent}", f"-I{tree.path}/include",
             f"-I{tree.path}/library", f'-DMBEDTLS_CONFIG_FILE="{cfg.name}"']
    for src in ARM_CHECK_SOURCES:
        path = tree.path / "library" / src
        if not path.exists():
            continue
        proc = subprocess.run(["arm-none-eabi-gcc", *flags, str(path)], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, f"arm-none-eabi-gcc {src}:\n{proc.stderr[-3000:]}"


def effective_defines(cfg, tree):
    """The macros mbedTLS's build_info.h leaves defined for this header (host compiler):
    what the library is really built with, after its own adjustments."""
    proc = subprocess.run(["cc", "-dM", "-E", "-x", "c", "-", f"-I{cfg.parent}",
                           f"-I{tree.path}/include", f'-DMBEDTLS_CONFIG_FILE="{cfg.name}"'],
                          input='#include "mbedtls/build_info.h"\n', capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return set(re.findall(r"^#define (\w+)", proc.stdout, re.M))


def define(text, name):
    m = re.search(rf"^#define {name}(?: (\S+))?", text, re.M)
    return None if m is None else (m.group(1) or True)


# ------------------------------------------------------------------ the matrix

@dataclass(frozen=True)
class Case:
    id: str
    server: str                   # openssl | gnutls | ssl_server2
    chain: str                    # attribute of pki, or key of gen_pki
    args: tuple = ()
    line: str = "3.6"
    policy: str = "default"
    version: str = None           # the version the header must end up with
    suite_has: str = None         # a part of the suite name the header must use
    send_root: bool = False       # the server sends leaf + intermediate + root
    warns: str = None             # a warning gen must print
    limit: str = None             # "mfl" / "rsl" / "": the record limit the header asks for


CASES = [
    Case("openssl-rsa-both", "openssl", "rsa", version="TLSv1.2", limit="mfl"),
    Case("openssl-ec-tls13-only", "openssl", "ec", ("-tls1_3",), version="TLSv1.3", limit=""),
    Case("openssl-ec-tls12-3certs", "openssl", "ec", ("-tls1_2",), version="TLSv1.2",
         suite_has="ECDHE_ECDSA", send_root=True),
    Case("openssl-mixed-rsa4096-anchor-p384-inter", "openssl", "mixed", version="TLSv1.2",
         suite_has="ECDHE_ECDSA"),
    Case("openssl-rsa4096-big-chain", "openssl", "big", ("-tls1_2",), version="TLSv1.2"),
    Case("openssl-huge-chain-over-8k-tls13", "openssl", "huge", ("-tls1_3",), version="TLSv1.3"),
    Case("openssl-ccm", "openssl", "ec", ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-CCM"),
         suite_has="AES_128_CCM"),
    Case("openssl-tls13-ccm", "openssl", "ec", ("-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256"),
         suite_has="TLS_AES_128_CCM_SHA256"),
    Case("openssl-chacha20", "openssl", "rsa",
         ("-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"), suite_has="CHACHA20"),
    Case("openssl-cbc-only-warns", "openssl", "rsa", ("-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA256"),
         suite_has="CBC", warns="CBC"),
    Case("openssl-static-rsa-only-warns", "openssl", "rsa", ("-tls1_2", "-cipher", "AES128-GCM-SHA256"),
         suite_has="TLS_RSA_WITH", warns="forward secrecy"),
    Case("openssl-rsa-compat", "openssl", "rsa", ("-tls1_2",), policy="compat"),
    Case("gnutls-rsa", "gnutls", "rsa", ("NORMAL",)),
    Case("gnutls-ec-tls13-only", "gnutls", "ec", ("NORMAL:-VERS-ALL:+VERS-TLS1.3",),
         version="TLSv1.3", limit="rsl"),
    Case("ssl_server2-ec", "ssl_server2", "ec"),
    Case("ssl_server2-ec-tls12", "ssl_server2", "ec", ("force_version=tls12",), version="TLSv1.2"),
    Case("228-openssl-rsa-both", "openssl", "rsa", line="2.28", version="TLSv1.2", limit=""),
    Case("228-openssl-ec-sha384-chain", "openssl", "ec", ("-tls1_2",), line="2.28",
         suite_has="ECDHE_ECDSA"),
    Case("228-openssl-mixed", "openssl", "mixed", ("-tls1_2",), line="2.28"),
    Case("228-gnutls-rsa", "gnutls", "rsa", ("NORMAL",), line="2.28"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_gen_header_is_proven(case, pki, gen_pki, trees, server_logs, ssl_server2, run_probe,
                              run_driver, tmp_path):
    chain = _chain(case.chain, pki, gen_pki)
    tree = trees[case.line]
    chain_file = _three_cert_file(chain, tmp_path) if case.send_root else None
    with start(case.server, chain, case.args, server_logs, ssl_server2, chain_file) as srv:
        doc, _, cfg, proc = probe_and_gen(run_probe, run_driver, tmp_path, srv, chain,
                                          "--mbedtls", case.line, "--policy", case.policy)
        assert proc.returncode == 0, proc.stderr
        plan = json.loads(proc.stdout)
        text = cfg.read_text()
        # (a) check_config.h, host (verify's -fsyntax-only precheck + the build) and target
        arm_check(cfg, tree)
        # (b) a verified handshake with the server the header was generated for
        res = verify.verify(cfg, "127.0.0.1", srv.port, sni="localhost", ca=chain.root.pem,
                            mbedtls_dir=tree.path)
    chosen = plan["chosen"][0]
    assert res["ok"] is True, json.dumps(res.to_json(), indent=1) + "\n" + text
    assert res["ciphersuite"] in [c["suite"] for c in plan["chosen"]]
    assert res["version"] in [c["version"] for c in plan["chosen"]]
    if case.version:
        assert chosen["version"] == case.version
        assert res["version"] == case.version
    if case.suite_has:
        assert case.suite_has in res["ciphersuite"]
    if case.warns:
        assert case.warns in proc.stderr and "WARNING" in text
    # sizes: never below what the server was seen to send; the largest key fits
    rec = doc["records"]
    in_len = int(define(text, "MBEDTLS_SSL_IN_CONTENT_LEN"))
    assert in_len >= max(rec["max_plaintext_len"], rec["max_handshake_msg_len"])
    rsa_bits = [c["key"]["bits"] for c in doc["chain"] + [doc["trust_anchor"]]
                if c["key"]["type"] == "rsa"]
    assert int(define(text, "MBEDTLS_MPI_MAX_SIZE")) * 8 >= max(rsa_bits + [256])
    # what a firmware header must not carry
    for off in ("MBEDTLS_SSL_SRV_C", "MBEDTLS_SSL_PROTO_DTLS", "MBEDTLS_DEBUG_C",
                "MBEDTLS_FS_IO", "MBEDTLS_NET_C", "MBEDTLS_PEM_PARSE_C"):
        assert define(text, off) is None, off
    assert (define(text, "MBEDTLS_SSL_KEEP_PEER_CERTIFICATE") is True) == \
        any(c["version"] == "TLSv1.3" for c in plan["chosen"])
    if case.line == "3.6" and any(c["version"] == "TLSv1.3" for c in plan["chosen"]):
        # PSA Crypto built with what TLS 1.3 asks of it, not with everything the legacy
        # modules imply (the PSA configuration file trick must not pull in the full one)
        wants = {m for m in effective_defines(cfg, tree) if m.startswith("PSA_WANT_")}
        assert {"PSA_WANT_ALG_HKDF_EXTRACT", "PSA_WANT_ALG_HKDF_EXPAND",
                "PSA_WANT_ALG_ECDH"} <= wants
        assert not wants & {"PSA_WANT_ALG_TLS12_PRF", "PSA_WANT_ALG_TLS12_PSK_TO_MS",
                            "PSA_WANT_ALG_ECDSA", "PSA_WANT_ALG_GCM", "PSA_WANT_ALG_CBC_NO_PADDING",
                            "PSA_WANT_ALG_RSA_PSS", "PSA_WANT_ALG_PBKDF2_HMAC"}, sorted(wants)
        assert define(text, "MBEDTLS_PSA_KEY_SLOT_COUNT") == "4"   # and the handshake held
    # fragment limits: asked for exactly when the input buffer is below a full record and
    # the server honours one (openssl and gnutls honour max_fragment_length, only gnutls
    # record_size_limit; mbedTLS sends the first in TLS 1.2, the second in TLS 1.3)
    versions = {c["version"] for c in plan["chosen"]}
    want_mfl = case.line == "3.6" and "TLSv1.2" in versions and in_len < 16384 and \
        rec["mfl_honoured"] is True
    want_rsl = case.line == "3.6" and "TLSv1.3" in versions and in_len < 16384 and \
        bool(rec["record_size_limit"]) and rec["record_size_limit_honoured"] is True
    assert (define(text, "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH") is True) == want_mfl
    assert define(text, "TLSFIT_MAX_FRAG_LEN") == ("MBEDTLS_SSL_MAX_FRAG_LEN_512" if want_mfl else None)
    assert (define(text, "MBEDTLS_SSL_RECORD_SIZE_LIMIT") is True) == want_rsl
    if case.limit is not None:
        assert case.limit == ("mfl" if want_mfl else "rsl" if want_rsl else "")
    if case.policy == "compat":
        assert len(plan["chosen"]) >= 2
        assert len({c["suite"] for c in plan["chosen"]}) == 2


def test_gen_header_names_facts(pki, server_logs, run_probe, run_driver, tmp_path):
    """Each option carries the server fact that needs it: the P-384 root signs the
    intermediate with ecdsa-with-SHA384, so SHA-384 is on because of it."""
    with refservers.openssl_server(pki.ec, "-tls1_2", log_dir=server_logs) as srv:
        _, _, cfg, proc = probe_and_gen(run_probe, run_driver, tmp_path, srv, pki.ec)
    assert proc.returncode == 0, proc.stderr
    text = cfg.read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("#define MBEDTLS_SHA384_C"))
    assert 'intermediate "CN=tlsfit ECDSA intermediate" is signed with ecdsa-with-SHA384' in line
    assert define(text, "MBEDTLS_ECP_DP_SECP384R1_ENABLED") is True
    every = [ln for ln in text.splitlines() if ln.startswith("#define MBEDTLS_")]
    assert all("/* " in ln for ln in every), "an option without its reason"


def test_explain_lists_every_option(pki, server_logs, run_probe, run_driver, tmp_path):
    with refservers.openssl_server(pki.rsa, log_dir=server_logs) as srv:
        _, prof, _, _ = probe_and_gen(run_probe, run_driver, tmp_path, srv, pki.rsa)
    proc = run_driver("gen", prof, "--explain")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for name, opt in rules_mod.load().options.items():
        if "3.6" in opt.lines:
            assert re.search(rf"^  (on |off) {name} ", out, re.M), name
    assert re.search(r"^  off MBEDTLS_KEY_EXCHANGE_RSA_ENABLED .*no server fact needs it", out, re.M)
    assert ": chosen" in out


# ------------------------------------------------------------------ refusals

def test_refuses_ed25519_only_server(gen_pki, server_logs, run_probe, run_driver, tmp_path):
    chain = gen_pki["ed25519"]
    with refservers.openssl_server(chain, log_dir=server_logs) as srv:
        _, _, cfg, proc = probe_and_gen(run_probe, run_driver, tmp_path, srv, chain)
    assert proc.returncode == 38, proc.stderr
    assert "ed25519" in proc.stderr.lower() and "mbedTLS" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not cfg.exists()


def test_refuses_tls13_only_server_on_228(pki, server_logs, run_probe, run_driver, tmp_path):
    with refservers.openssl_server(pki.ec, "-tls1_3", log_dir=server_logs) as srv:
        _, _, cfg, proc = probe_and_gen(run_probe, run_driver, tmp_path, srv, pki.ec,
                                        "--mbedtls", "2.28")
    assert proc.returncode == 38, proc.stderr
    assert "TLSv1.3" in proc.stderr and "MBEDTLS_SSL_PROTO_TLS1_3" in proc.stderr
    assert not cfg.exists()


def test_strict_refuses_cbc_only_server(pki, server_logs, run_probe, run_driver, tmp_path):
    with refservers.openssl_server(pki.rsa, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA256",
                                   log_dir=server_logs) as srv:
        _, _, cfg, proc = probe_and_gen(run_probe, run_driver, tmp_path, srv, pki.rsa,
                                        "--policy", "strict")
    assert proc.returncode == 38, proc.stderr
    assert "policy strict" in proc.stderr and "CBC" in proc.stderr


def test_refusal_leaves_existing_output_alone(gen_pki, server_logs, run_probe, run_driver,
                                              tmp_path):
    chain = gen_pki["ed25519"]
    with refservers.openssl_server(chain, log_dir=server_logs) as srv:
        res = run_probe(f"127.0.0.1:{srv.port}", "--sni", "localhost", "--ca", chain.root.pem)
    prof = res.argv[res.argv.index("-o") + 1]
    out = tmp_path / "tls_config.h"
    out.write_text("/* the user's previous header */\n")
    proc = run_driver("gen", prof, "-o", out)
    assert proc.returncode == 38
    assert out.read_text() == "/* the user's previous header */\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tls_config")] == []


# ------------------------------------------------------------------ bad input

FIXTURE = REPO / "tests" / "fixtures" / "profile-v1.json"


def test_gen_from_fixture_is_deterministic(run_driver):
    a = run_driver("gen", FIXTURE)
    b = run_driver("gen", FIXTURE)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    assert a.stdout.endswith("#endif /* TLSFIT_TLS_CONFIG_H */\n")


def test_gen_last_profile_missing(run_driver):
    proc = run_driver("gen")
    assert proc.returncode == 32
    assert "tlsfit probe" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("mutate, where", [
    (lambda text: text[: len(text) // 2], "profile-bad.json"),          # truncated
    (lambda text: text.replace('"max_plaintext_len": 1678', '"max_plaintext_len": "big"'),
     "records.max_plaintext_len"),
    (lambda text: text.replace('"type": "rsa"', '"type": 7', 1), "chain[0].key.type"),
    (lambda text: "[]", "profile-bad.json"),
])
def test_gen_malformed_profile(run_driver, tmp_path, mutate, where):
    bad = tmp_path / "profile-bad.json"
    bad.write_text(mutate(FIXTURE.read_text()))
    out = tmp_path / "tls_config.h"
    proc = run_driver("gen", bad, "-o", out)
    assert proc.returncode == 32, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and where in lines[0], proc.stderr
    assert not out.exists()


def test_gen_hostile_subject_cannot_break_the_header(run_driver, tmp_path):
    doc = json.loads(FIXTURE.read_text())
    doc["chain"][0]["subject"] = 'CN=evil */ #define MBEDTLS_SSL_SRV_C /*\nx'
    p = tmp_path / "hostile.json"
    p.write_text(json.dumps(doc))
    proc = run_driver("gen", p)
    assert proc.returncode == 0, proc.stderr
    assert define(proc.stdout, "MBEDTLS_SSL_SRV_C") is None
    assert "* /" in proc.stdout


# ------------------------------------------------------------------ the rules themselves

def test_rules_match_the_libraries(trees):
    """Every option and suite in rules.toml exists in the mbedTLS line it is used for."""
    r = rules_mod.load()
    for line, tree in trees.items():
        cfg = tree.path / "include" / "mbedtls" / ("mbedtls_config.h" if line == "3.6" else "config.h")
        known = set(re.findall(r"^\s*(?://)?\s*#define (MBEDTLS_\w+)", cfg.read_text(), re.M))
        psa_cfg = tree.path / "include" / "psa" / "crypto_config.h"
        if psa_cfg.exists():
            known |= set(re.findall(r"^\s*(?://)?\s*#define (PSA_WANT_\w+)", psa_cfg.read_text(), re.M))
        # A defect's route may define a macro mbedTLS derives itself (config_adjust_*.h):
        # not an option of mbedtls_config.h, but one the library's headers define.
        derived = set()
        for h in (tree.path / "include" / "mbedtls").glob("*.h"):
            derived |= set(re.findall(r"^\s*#define (MBEDTLS_\w+)", h.read_text(), re.M))
        routed = {n for d in r.defects if line == d.line for n in d.route}
        for name, opt in r.options.items():
            if line in opt.lines:
                assert name in known or (name in routed and name in derived), \
                    f"{name} is not an option of mbedTLS {line}"
        for name, k in r.knobs.items():
            if line in k.lines:
                assert name in known, f"knob {name} is not an option of mbedTLS {line}"
        suites_h = (tree.path / "include" / "mbedtls" / "ssl_ciphersuites.h").read_text()
        for suite, (kx, *_rest) in r.suites.items():
            if kx == "TLS13" and line == "2.28":
                continue
            macro = ("MBEDTLS_TLS1_3_" + suite[4:]) if kx == "TLS13" else "MBEDTLS_" + suite
            assert re.search(rf"#define {macro}\s", suites_h), f"{macro} not in mbedTLS {line}"


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["options"]["MBEDTLS_GCM_C"].update(requires=["MBEDTLS_NO_SUCH_C"]),
     "options.MBEDTLS_GCM_C.requires: unknown option MBEDTLS_NO_SUCH_C"),
    (lambda d: d["suites"].update(TLS_X=["RSA", "AES_128_GCM", "sha1", "sha256"]),
     "suites.TLS_X: MAC must be 'aead' exactly when the cipher is AEAD"),
    (lambda d: d["groups"]["x25519"].update(colour="blue"), "groups.x25519: unknown key"),
    (lambda d: d["options"]["MBEDTLS_SSL_TLS_C"].update(requires=["MBEDTLS_SSL_PROTO_TLS1_3"]),
     "is not available on mbedTLS 2.28"),
    (lambda d: d["options"]["MBEDTLS_PSA_CRYPTO_CONFIG_FILE"].update(value=1),
     "options.MBEDTLS_PSA_CRYPTO_CONFIG_FILE: a value is the C text"),
    (lambda d: d["options"].update(WOLFSSL_X={"section": "tls", "doc": "x"}),
     "options.WOLFSSL_X: option names start with one of"),
])
def test_rules_are_checked_before_use(edit, message):
    import tomllib
    doc = tomllib.loads(rules_mod.RULES_PATH.read_text())
    edit(doc)
    with pytest.raises(rules_mod.RulesError) as e:
        rules_mod.check(doc)
    assert message in e.value.message
    assert e.value.code == 39


@pytest.mark.parametrize("policy", ["default", "strict"])
def test_sha1_signed_intermediate_is_refused(run_driver, tmp_path, policy):
    """mbedTLS's default certificate profile rejects SHA-1 signatures (BADCERT_BAD_MD):
    gen sees it in the chain and refuses, naming the certificate, under every policy."""
    doc = json.loads(FIXTURE.read_text())
    doc["chain"][1]["signature_algorithm"] = "sha1WithRSAEncryption"
    doc["chain"][1]["signature_hash"] = "sha1"
    p = tmp_path / "sha1.json"
    p.write_text(json.dumps(doc))
    proc = run_driver("gen", p, "--policy", policy)
    assert proc.returncode == 38, proc.stderr
    assert 'intermediate "CN=tlsfit RSA intermediate" is signed with sha1WithRSAEncryption' in proc.stderr
    assert ("policy strict refuses SHA1" in proc.stderr) == (policy == "strict")
    assert proc.stdout == ""
