"""`tlsfit gen --mbedtls 4.0` against fixture servers of test_gen.py's matrix: the
pair gen writes for a server whose key exchange Mbed TLS 4.x still has completes a
verified handshake with that very server on the host (`tlsfit verify`, the 4.0.0 tree);
a server that needs a key exchange 4.x removed (static RSA, DHE-RSA) is refused with
exit REFUSED, one line naming the cause and that 3.6 can serve it, and no file written.

The servers are test_gen.CASES' 3.6 rows (openssl s_server, gnutls-serv, mbedTLS 3.6's
ssl_server2, the same chains and arguments) plus one DHE-RSA-only server.  The suite runs
a representative set (SUITE: ECDSA TLS 1.3-only, RSA TLS 1.2, the chain over 8 KiB, the
RSA-4096 anchor over a P-384 intermediate, a GnuTLS server and both refusals); the whole
matrix (CASES4, every server) is bench/gen4_servers.py, which runs this file with
TLSFIT_GEN4_ALL=1 and prints a line per server from the records the test then writes
(TLSFIT_GEN4_RECORDS=DIR: DIR/<case>.json).  verify keys
a 4.x build by the pair's code without its comments (mbedtls/pair.code_of), so every
distinct configuration is built once ($TLSFIT_CACHE/verify, ccache) and a later run of
the same server reuses it although gen's comments name another port.
"""
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

import test_gen
from test_gen import CASES, Case, _chain, _three_cert_file, define, probe_and_gen, start
from tlsfit.core.errors import REFUSED
from tlsfit.header.mbed4 import table as table_mod
from tlsfit.host import verify

# test_gen's fixtures (its extra chains, the trees, mbedTLS 3.6's ssl_server2)
gen_pki, trees, ssl_server2 = test_gen.gen_pki, test_gen.trees, test_gen.ssl_server2

# A removed key exchange: the suite the server allows, and the words the refusal names.
REMOVED = {
    "openssl-static-rsa-only-warns": "static RSA key exchange",
    "openssl-dhe-rsa-only": "DHE key exchanges",
}
CASES4 = [replace(c, line="4.0", warns=None) for c in CASES if c.line == "3.6"] + [
    Case("openssl-dhe-rsa-only", "openssl", "rsa",
         ("-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256"), line="4.0"),
]
# What the suite runs; bench/gen4_servers.py runs all of CASES4 (TLSFIT_GEN4_ALL=1).
SUITE = ("openssl-ec-tls13-only", "openssl-rsa-both", "openssl-huge-chain-over-8k-tls13",
         "openssl-mixed-rsa4096-anchor-p384-inter", "gnutls-ec-tls13-only",
         *REMOVED)
RUN = CASES4 if os.environ.get("TLSFIT_GEN4_ALL") else [c for c in CASES4 if c.id in SUITE]


def _record(case, **facts):
    """Writes DIR/<case>.json when TLSFIT_GEN4_RECORDS=DIR (bench/gen4_servers.py)."""
    out = os.environ.get("TLSFIT_GEN4_RECORDS")
    if out:
        Path(out, f"{case.id}.json").write_text(json.dumps({"case": case.id, **facts}) + "\n")


def _sizes(cfg):
    """Each file of the pair: its bytes and its #define lines."""
    return {f.name: {"bytes": f.stat().st_size,
                     "defines": sum(1 for ln in f.read_text().splitlines()
                                    if ln.startswith("#define "))}
            for f in (cfg, cfg.with_name("tls_config_crypto.h"))}


@pytest.mark.server
@pytest.mark.parametrize("case", RUN, ids=[c.id for c in RUN])
def test_gen4_pair_is_proven_or_refused(case, pki, gen_pki, tree4, server_logs, request,
                                        run_probe, run_driver, tmp_path):
    # mbedTLS 3.6's ssl_server2 is built only for a case that runs it (the suite's set has none)
    ssl_server2 = request.getfixturevalue("ssl_server2") if case.server == "ssl_server2" else None
    chain = _chain(case.chain, pki, gen_pki)
    chain_file = _three_cert_file(chain, tmp_path) if case.send_root else None
    with start(case.server, chain, case.args, server_logs, ssl_server2, chain_file) as srv:
        doc, _, cfg, proc = probe_and_gen(run_probe, run_driver, tmp_path, srv, chain,
                                          "--mbedtls", "4.0", "--policy", case.policy)
        if case.id in REMOVED:
            assert proc.returncode == REFUSED, proc.stderr
            line, = proc.stderr.strip().splitlines()
            assert REMOVED[case.id] in line and line.endswith("`--mbedtls 3.6` can serve it")
            assert not cfg.exists() and not cfg.with_name("tls_config_crypto.h").exists()
            _record(case, outcome="refused", reason=line)
            return
        assert proc.returncode == 0, proc.stderr
        plan = json.loads(proc.stdout)
        res = verify.verify(cfg, "127.0.0.1", srv.port, sni="localhost", ca=chain.root.pem,
                            mbedtls_dir=tree4.path)
    text = cfg.read_text()
    assert res["ok"] is True, json.dumps(res.to_json(), indent=1) + "\n" + text
    assert res["mbedtls"] == "4.0.0"
    assert res["ciphersuite"] in [c["suite"] for c in plan["chosen"]]
    assert res["version"] in [c["version"] for c in plan["chosen"]]
    if case.version:
        assert plan["chosen"][0]["version"] == res["version"] == case.version
    if case.suite_has:
        assert case.suite_has in res["ciphersuite"]
    # the TLS file holds the record buffer the server's records need; the crypto file
    # no removed key exchange's mechanism, and the firmware never a server
    in_len = int(define(text, "MBEDTLS_SSL_IN_CONTENT_LEN"))
    assert in_len >= max(doc["records"]["max_plaintext_len"],
                         doc["records"]["max_handshake_msg_len"])
    for off in ("MBEDTLS_SSL_SRV_C", "MBEDTLS_KEY_EXCHANGE_RSA_ENABLED",
                "MBEDTLS_KEY_EXCHANGE_DHE_RSA_ENABLED", "MBEDTLS_DEBUG_C", "MBEDTLS_NET_C"):
        assert define(text, off) is None, off
    # the PSA key slots measured for the handshake kinds the pair makes (rules_4.toml)
    versions = {c["version"] for c in plan["chosen"]}
    cbc = {"cbc"} if any(not c["aead"] for c in plan["chosen"]) else set()
    slots, _ = table_mod.load().slots_for(versions, cbc)
    crypto = cfg.with_name("tls_config_crypto.h").read_text()
    assert define(crypto, "MBEDTLS_PSA_KEY_SLOT_COUNT") == str(slots)
    assert slots >= (5 if "TLSv1.3" in versions else 3)
    if case.policy == "compat":
        assert len({c["suite"] for c in plan["chosen"]}) == 2
        assert not any("_RSA_WITH_" in c["suite"] and "ECDHE" not in c["suite"]
                       for c in plan["chosen"])
    _record(case, outcome="proven", version=res["version"], suite=res["ciphersuite"],
            group=res.get("group"), sizes=_sizes(cfg))
