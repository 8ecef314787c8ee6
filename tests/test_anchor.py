"""`--anchor CERT` (issue 18, item 3): a CA certificate of the server's chain as the
device's trust anchor (header/anchor.py; gen and fit).

Pure functions on recorded profiles (tests/fixtures/compat, profiles/): CERT at the
intermediate drops what only the root needed (its curve, its key size in
MBEDTLS_MPI_MAX_SIZE) and keeps what parsing CERT needs; CERT off the path, the leaf,
a look-alike or a file that is no certificate is exit 50 with one line naming it;
CERT == the root renders the header without --anchor, byte for byte.  Then one real
server (openssl s_server, the standard PKI's P-384 root -> P-256 intermediate ->
P-256 leaf): gen --anchor intermediate through the CLI, and the host's verify client
with the intermediate as its only CA completes the verified handshake.
"""
import base64
import json
from dataclasses import replace
from pathlib import Path

import pytest

from test_artifacts import regenerate_line, run_printed
from test_gen import define
from tlsfit.core.errors import ANCHOR, DRIVER_CODES, TlsfitError
from tlsfit.header import anchor, gen, refit
from tlsfit.header.types import GenOptions
from tlsfit.host import verify
from tlsfit.lab import refservers

REPO = Path(__file__).resolve().parent.parent
COMPAT = REPO / "tests" / "fixtures" / "compat"
MIXED = "openssl-ec-13.json"          # P-256 leaf <- P-256 intermediate <- P-384 root


def _doc(name):
    path = COMPAT / name if (COMPAT / name).exists() else REPO / "profiles" / name
    return json.loads(path.read_text())


def _cert(record, name="inter.pem"):
    return anchor.AnchorCert(base64.b64decode(record["der_b64"]), name)


def _gen(doc, **kw):
    return gen.generate(doc, GenOptions(**kw))


# ------------------------------------------------------------------ the path

def test_anchor_at_the_intermediate_drops_what_only_the_root_needed():
    doc = _doc(MIXED)
    inter = doc["chain"][1]
    assert doc["trust_anchor"]["key"]["curve"] == "secp384r1"
    assert inter["key"]["curve"] == "secp256r1"
    assert inter["signature_algorithm"] == "ecdsa-with-SHA384"
    full, anchored = _gen(doc), _gen(doc, anchor=_cert(inter))
    assert "MBEDTLS_ECP_DP_SECP384R1_ENABLED" in full.options
    assert set(full.options) - set(anchored.options) == {"MBEDTLS_ECP_DP_SECP384R1_ENABLED"}
    assert set(anchored.options) <= set(full.options)
    assert full.values["MBEDTLS_MPI_MAX_SIZE"][0] == 48
    assert anchored.values["MBEDTLS_MPI_MAX_SIZE"][0] == 32
    # the device still parses the intermediate, whose own signature is ecdsa-with-SHA384
    assert any("trust anchor" in r and "to load it" in r
               for r in anchored.options["MBEDTLS_SHA384_C"]), anchored.options["MBEDTLS_SHA384_C"]
    assert anchored.facts["anchor"] == inter["subject"]
    a = anchored.facts["anchoring"]
    assert a["subject"] == inter["subject"] and a["chain_index"] == 1
    assert a["not_verified"] == [doc["trust_anchor"]["subject"]]
    assert a["sha256"] == _cert(inter).sha256 and a["same_as_profile"] is False
    text = anchored.text
    assert "--anchor inter.pem" in regenerate_line(text)
    assert "Prove it before flashing:" in text and " --ca inter.pem" in text
    assert f'Trust anchor: the intermediate CA "{inter["subject"]}" (--anchor inter.pem), ' \
           f'not a root. The device accepts any certificate this CA signs for "localhost", ' \
           f'until that certificate expires ({inter["not_after"]}).' in text
    assert f'Never checked on the device: "{doc["trust_anchor"]["subject"]}" above it' in text
    assert "Revoking this CA does not reach the device" in text
    assert "until its anchor is updated" in text
    assert f'load the trust anchor "{inter["subject"]}"' in text
    assert "Trust anchor:" not in full.text


def test_without_a_clock_the_trade_off_says_no_date_is_checked():
    doc = _doc(MIXED)
    plan = _gen(doc, anchor=_cert(doc["chain"][1]), time=False)
    assert "for as long as the device keeps it (--no-time: no date is checked)" in plan.text
    assert "until that certificate expires" not in plan.text


def test_anchor_below_a_p384_root_allows_driver_only_p256():
    doc = _doc(MIXED)
    assert _gen(doc, ecc="p256m").facts["ecc"] == "builtin"
    plan = _gen(doc, ecc="p256m", anchor=_cert(doc["chain"][1]))
    assert plan.facts["ecc"] == "p256m", plan.facts["ecc_note"]
    assert "MBEDTLS_ECP_C" not in plan.options and "MBEDTLS_SHA384_C" in plan.options


def test_anchor_below_an_rsa4096_root_halves_the_mpi():
    doc = _doc("nginx-modern.json")                # RSA-2048 <- RSA-2048 <- RSA-4096
    assert doc["trust_anchor"]["key"]["bits"] == 4096
    full, anchored = _gen(doc), _gen(doc, anchor=_cert(doc["chain"][1]))
    assert full.values["MBEDTLS_MPI_MAX_SIZE"][0] == 512
    assert anchored.values["MBEDTLS_MPI_MAX_SIZE"][0] == 256
    assert "RSA-2048 in the chain or trust anchor" in anchored.values["MBEDTLS_MPI_MAX_SIZE"][1]


@pytest.mark.parametrize("name", [MIXED, "nginx-modern.json", "lighttpd.json"])
def test_anchor_at_the_root_is_the_header_without_anchor(name):
    doc = _doc(name)
    root = _cert(doc["trust_anchor"], "root.pem")
    plain = _gen(doc)
    same = _gen(doc, anchor=root)
    assert same.text == plain.text
    assert same.options == plain.options and same.values == plain.values
    assert "anchoring" not in same.facts
    placed = anchor.place(doc, root)
    assert placed.same and placed.doc is not None


def test_placing_is_what_the_prober_records_with_ca_cert_and_idempotent():
    doc = _doc(MIXED)
    cert = _cert(doc["chain"][1])
    placed = anchor.place(doc, cert)
    d = placed.doc.document
    assert list(d["chain_path"]) == [0] and list(d["chain_unused"]) == [1]
    assert d["trust_anchor"]["source"] == "inter.pem"
    assert d["trust_anchor"]["subject"] == doc["chain"][1]["subject"]
    again = anchor.place(placed.doc, cert)
    assert again.same and again.doc.document["trust_anchor"] == d["trust_anchor"]
    # the profile itself is untouched
    assert doc["trust_anchor"]["subject"] != d["trust_anchor"]["subject"]


def _refused(doc, cert):
    with pytest.raises(TlsfitError) as e:
        _gen(doc, anchor=cert)
    assert e.value.code == ANCHOR == 50
    assert "\n" not in e.value.message
    return e.value.message


def test_anchor_not_in_the_chain_is_exit_50_naming_the_path():
    doc = _doc(MIXED)
    other = _cert(_doc("lighttpd.json")["chain"][1], "other.pem")
    msg = _refused(doc, other)
    assert msg.startswith(f"--anchor other.pem (SHA-256 {other.sha256[:16]}...) is not on the "
                          "path of 127.0.0.1:")
    assert 'leaf "CN=localhost" <- intermediate "CN=tlsfit ECDSA intermediate" <- anchor ' \
           '"CN=tlsfit ECDSA root"' in msg
    assert "give one of its CA certificates" in msg


def test_the_leaf_is_not_an_anchor():
    doc = _doc(MIXED)
    msg = _refused(doc, _cert(doc["chain"][0], "leaf.pem"))
    assert msg.startswith('--anchor leaf.pem is the server\'s own certificate (chain[0], '
                          '"CN=localhost"), not a CA'), msg


def test_a_certificate_off_the_path_is_named():
    doc = _doc(MIXED)
    stray = _doc("lighttpd.json")["chain"][1]
    doc["chain"].append(stray)
    doc["chain_path"], doc["chain_unused"] = [0, 1], [2]
    msg = _refused(doc, _cert(stray, "stray.pem"))
    assert f'is "{stray["subject"]}", which 127.0.0.1:' in msg
    assert "(chain[2]) but which is not on the path from its leaf to the anchor" in msg


def test_a_look_alike_of_the_intermediate_is_named():
    doc = _doc(MIXED)
    der = bytearray(base64.b64decode(doc["chain"][1]["der_b64"]))
    der[-1] ^= 0x01                                 # the signature differs, subject and key not
    msg = _refused(doc, anchor.AnchorCert(bytes(der), "twin.pem"))
    assert 'has the subject "CN=tlsfit ECDSA intermediate" of chain[1] and its key but is ' \
           "another certificate" in msg, msg


def test_several_servers_anchor_where_the_path_holds_cert():
    mixed, other = _doc(MIXED), _doc("lighttpd.json")
    cert = _cert(mixed["chain"][1])
    plan = gen.generate_device([mixed, other], GenOptions(anchor=cert), ["a", "b"])
    assert [s["anchor"] for s in plan.servers] == [mixed["chain"][1]["subject"],
                                                   other["trust_anchor"]["subject"]]
    assert plan.facts["anchoring"]["servers"] == [1]
    with pytest.raises(TlsfitError) as e:
        gen.generate_device([other, _doc("nginx-modern.json")], GenOptions(anchor=cert))
    assert e.value.code == ANCHOR and "is on no server's path: server 1 (" in e.value.message


def test_anchor_file_errors(tmp_path):
    doc = _doc(MIXED)
    one = tmp_path / "one.pem"
    one.write_text(_cert(doc["chain"][1]).pem())
    assert anchor.AnchorCert.load(one).der == base64.b64decode(doc["chain"][1]["der_b64"])
    der = tmp_path / "one.der"
    der.write_bytes(base64.b64decode(doc["chain"][1]["der_b64"]))
    assert anchor.AnchorCert.load(der).sha256 == _cert(doc["chain"][1]).sha256
    two = tmp_path / "two.pem"
    two.write_text(one.read_text() * 2)
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    for path, what in ((two, "holds 2 certificates"), (junk, "not a certificate"),
                       (tmp_path / "missing.pem", "cannot read it"),
                       (tmp_path, "is a directory")):
        with pytest.raises(TlsfitError) as e:
            anchor.AnchorCert.load(path)
        assert e.value.code == ANCHOR and what in e.value.message, e.value.message


def test_exit_50_is_in_the_table():
    assert (ANCHOR, "TLSFIT_ANCHOR") in [(c, n) for c, n, _ in DRIVER_CODES]
    comment = {n: c for _, n, c in DRIVER_CODES}["TLSFIT_ANCHOR"]
    assert "--anchor CERT" in comment and "not a CA certificate on the path" in comment
    gen_page = " ".join((REPO / "docs" / "gen.md").read_text().split())
    assert "is **exit 50**, one line naming what CERT is to the chain" in gen_page


def test_a_fit_report_carries_its_anchor(tmp_path):
    doc = _doc(MIXED)
    cert = _cert(doc["chain"][1])
    (tmp_path / refit.ANCHOR_FILE).write_text(cert.pem())
    opts = GenOptions(anchor=replace(cert, name="DIR/anchor.pem"))
    report = {"gen_options": refit.choices(opts)}
    assert report["gen_options"]["anchor"] == {"file": "anchor.pem", "sha256": cert.sha256}
    back = refit.apply(GenOptions(), report, tmp_path / "report.json")
    assert back.anchor.sha256 == cert.sha256
    other = _cert(_doc("lighttpd.json")["chain"][1], "other.pem")
    with pytest.raises(TlsfitError) as e:
        refit.apply(GenOptions(anchor=other), report, tmp_path / "report.json")
    assert e.value.code == ANCHOR and "is not the anchor" in e.value.message


def test_fit_anchors_the_servers_whose_path_holds_cert(tmp_path):
    from tlsfit.fit import report, search, sites as fit_sites
    from tlsfit.profile.types import Profile
    mixed, other = Profile.of(_doc(MIXED)), Profile.of(_doc("lighttpd.json"))
    given = tmp_path / "inter.pem"
    given.write_text(_cert(mixed["chain"][1]).pem())
    out = tmp_path / "fit"
    opts = fit_sites.load_anchor(search.FitOptions(anchor=str(given)), out)
    assert opts.anchor.name == str((out / "anchor.pem").resolve())
    sites = [fit_sites.Site(1, "127.0.0.1", 1, "localhost", "root.pem", None, mixed, 2),
             fit_sites.Site(2, "127.0.0.1", 2, "localhost", "other.pem", None, other, 2)]
    anchored, opts = fit_sites.anchor_sites(sites, opts, out)
    # the first server's handshakes have CERT as their only CA, the other keeps its own
    assert [s.ca for s in anchored] == [str(out / "anchor.pem"), "other.pem"]
    assert (out / "anchor.pem").read_bytes() == given.read_bytes()
    plan = gen.generate_device([s.profile for s in anchored], search.gen_options(opts, {}))
    facts = report.anchor_facts(plan)
    assert facts["file"] == "anchor.pem" and facts["subject"] == mixed["chain"][1]["subject"]
    assert facts["trade_off"] == plan.facts["anchor_note"] and len(facts["trade_off"]) == 4
    # CERT == the root: the fit goes on without an anchor
    root = tmp_path / "root.pem"
    root.write_text(_cert(mixed["trust_anchor"]).pem())
    _, same = fit_sites.anchor_sites(sites[:1], fit_sites.load_anchor(
        search.FitOptions(anchor=str(root)), out), out)
    assert same.anchor is None
    with pytest.raises(TlsfitError) as e:
        fit_sites.load_anchor(search.FitOptions(anchor=str(tmp_path / "none.pem")), out)
    assert e.value.code == ANCHOR


# ------------------------------------------------------------------ the CLI

def test_gen_cli_refuses_in_one_line(run_driver, tmp_path):
    leaf = tmp_path / "leaf.pem"
    leaf.write_text(_cert(_doc(MIXED)["chain"][0]).pem())
    out = tmp_path / "tls_config.h"
    proc = run_driver("gen", COMPAT / MIXED, "--anchor", leaf, "-o", out)
    assert proc.returncode == 50, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("tlsfit: --anchor ")
    assert "Traceback" not in proc.stderr and not out.exists()


# ------------------------------------------------------------------ a real server

def test_gen_anchor_intermediate_verifies_with_it_as_the_only_ca(
        pki, server_logs, run_probe, run_driver, tmp_path):
    chain = pki.ec                     # P-384 root -> P-256 intermediate -> P-256 leaf
    with refservers.openssl_server(chain, log_dir=server_logs) as srv:
        res = run_probe(f"127.0.0.1:{srv.port}", "--sni", "localhost", "--ca", chain.root.pem)
        assert res.returncode == 0, res.explain()
        prof = Path(res.argv[res.argv.index("-o") + 1])
        cfg, full = tmp_path / "tls_config.h", tmp_path / "full.h"
        proc = run_driver("gen", prof, "-o", full)
        assert proc.returncode == 0, proc.stderr
        proc = run_driver("gen", prof, "--anchor", chain.inter.pem, "-o", cfg, "--json")
        assert proc.returncode == 0, proc.stderr
        plan = json.loads(proc.stdout)
        got = verify.verify(cfg, "127.0.0.1", srv.port, sni="localhost", ca=chain.inter.pem)
        # the same server probed with the intermediate as its CA file gives the same header
        inter = run_probe(f"127.0.0.1:{srv.port}", "--sni", "localhost", "--ca",
                          chain.inter.pem, "--no-system-store")
        assert inter.returncode == 0, inter.explain()
    probed = gen.generate(inter.profile, GenOptions())
    assert probed.facts["anchor"] == chain.inter.subject
    assert set(probed.options) == set(plan["options"])
    assert {k: v[0] for k, v in probed.values.items()} == plan["values"]
    text, before = cfg.read_text(), full.read_text()
    assert got["ok"] is True, json.dumps(got.to_json(), indent=1) + "\n" + text
    assert plan["anchor"]["subject"] == chain.inter.subject
    assert plan["anchor"]["not_verified"] == [chain.root.subject]
    assert plan["anchor"]["trade_off"][0].startswith(
        f'Trust anchor: the intermediate CA "{chain.inter.subject}"')
    # what only the P-384 root needed is gone
    assert define(before, "MBEDTLS_ECP_DP_SECP384R1_ENABLED") is not None
    assert define(text, "MBEDTLS_ECP_DP_SECP384R1_ENABLED") is None
    assert define(before, "MBEDTLS_MPI_MAX_SIZE") == "48"
    assert define(text, "MBEDTLS_MPI_MAX_SIZE") == "32"
    assert f"--ca {chain.inter.pem}" in text or "--ca inter.pem" in text
    # the Regenerate line (with --anchor) renders it again, byte for byte
    again = run_printed(run_driver, regenerate_line(text))
    assert again.returncode == 0, again.stderr
    assert again.stdout == text
