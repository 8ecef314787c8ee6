"""The version step against a server that refuses an unusual hello, not a version.

wolfSSL (Debian's lighttpd with mod_wolfssl) answers decode_error to a ClientHello
with more than 150 cipher suites.  The TLS 1.2 step's first hello offers every
TLS <= 1.2 suite the prober knows (over 200), so the prober used to record that
the server had no TLS 1.2 at all.
"""
import json

from conftest import require_tools


def test_wolfssl_refusing_a_long_hello_keeps_tls12(pki, run_probe, run_driver, tmp_path):
    require_tools("lighttpd")
    from tlsfit.lab import daemons
    with daemons.lighttpd(pki.ec, log_dir=tmp_path, tls="wolfssl") as srv:
        res = run_probe(srv.hostport, "--sni", "localhost", "--ca", pki.ec.root.pem)
    assert res.returncode == 0, res.explain()
    profile = res.profile
    assert profile["versions"] == ["TLSv1.2", "TLSv1.3"]
    tls12 = [suite["name"] for suite in profile["ciphersuites"]["TLSv1.2"]]
    assert "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" in tls12
    note = profile["steps"]["versions"]["note"]
    assert note.startswith("TLSv1.2: the hello offering ")
    assert "refused (alert decode_error (50)); hellos of at most 48 suites were accepted" in note
    # With TLS 1.2 known, gen's cheapest candidate is TLS 1.2 (the TLS 1.3 code costs more
    # flash); the fit starts from it.
    path = tmp_path / "wolfssl.json"
    path.write_text(json.dumps(profile))
    gen = run_driver("gen", path, "--json")
    assert gen.returncode == 0, gen.stderr
    assert [c["version"] for c in json.loads(gen.stdout)["chosen"]] == ["TLSv1.2"]
