"""Issue 13 against real servers on 127.0.0.1: the certification path through what a
server sends (cross-signed roots, any order), group enumeration that keeps the
certificate's curve offered, and a server that wants a server name.

Every probe's profile is also validated against schema v1 (conftest.run_probe).
"""
import base64
import json
import re
import shutil
from pathlib import Path

import pytest

from tlsfit.core import pki
from tlsfit.lab import refservers

TIMEOUT = ["--timeout", "5"]
# TLS 1.2, ECDHE-ECDSA only: nothing in the suite needs RSA, so an RSA option in the
# header can only come from a certificate.
ECDSA_TLS12 = ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")

_CROSS_EXT = pki.openssl_config({"cross": [*pki.ca_lines(), "authorityKeyIdentifier = keyid"]})


def cross_sign(directory, root, by):
    """A certificate with root's subject and key, issued by the CA `by` (the shape of
    ISRG Root X1 cross-signed by DST Root CA X3); returns its PEM path."""
    d = Path(directory)
    ext, csr, pem = d / "cross.cnf", d / "cross.csr", d / f"{root.cn.replace(' ', '_')}-cross.pem"
    ext.write_text(_CROSS_EXT)
    refservers.openssl(["req", "-new", "-key", str(root.key), "-subj", f"/CN={root.cn}",
                        "-config", str(ext), "-out", str(csr)], "cross-signing: the request")
    refservers.openssl(["x509", "-req", "-in", str(csr), "-CA", str(by.pem),
                        "-CAkey", str(by.key), "-set_serial", "4242", "-days", "3650",
                        "-sha256", "-extfile", str(ext), "-extensions", "cross", "-out", str(pem)],
                       "cross-signing: the certificate")
    return pem


class CrossPki:
    """leaf <- intermediate <- new root (all P-256); the new root cross-signed by an old
    RSA-3072 root, which the server may send too."""

    def __init__(self, d):
        self.dir = d
        self.chain = refservers.make_chain(d, "new", "ec:P-256", "ec:P-256", "ec:P-256",
                                           label="new")
        self.old = refservers.make_ca(d, "old", "tlsfit old root", "rsa:3072")
        self.cross = cross_sign(d, self.chain.root, self.old)

    def served(self, *names):
        """A chain file of the named certificates (inter, cross, old), in that order."""
        files = {"inter": self.chain.inter.pem, "cross": self.cross, "old": self.old.pem}
        path = self.dir / ("-".join(names) + ".pem")
        path.write_bytes(b"".join(files[n].read_bytes() for n in names))
        return path


@pytest.fixture(scope="module")
def cross(tmp_path_factory):
    return CrossPki(tmp_path_factory.mktemp("cross"))


@pytest.fixture
def openssl(server_logs):
    def start(chain, *args, chain_file=None):
        return refservers.openssl_server(chain, *args, log_dir=server_logs,
                                         chain_file=chain_file)
    return start


def subjects(p):
    return [c["subject"] for c in p["chain"]]


def der_b64(pem):
    return base64.b64encode(refservers.pem_to_der(pem)).decode()


def profile_path(res):
    return Path(res.argv[res.argv.index("-o") + 1])


def header_value(text, option):
    m = re.search(rf"^#define {option} (\d+)", text, re.M)
    assert m, f"{option} not defined in the header"
    return int(m.group(1))


def defines(text):
    return set(re.findall(r"^#define (\w+)", text, re.M))


# ------------------------------------------------------------------ the fields, offline

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "profile-v1.json"


def fixture(**fields):
    doc = json.loads(FIXTURE.read_text())
    doc.update(fields)
    return doc


def test_profile_without_path_fields_reads_as_before():
    """A profile from before chain_path validates; its path is the whole chain."""
    from tlsfit.profile import model
    from tlsfit.profile.types import Profile
    doc = fixture()
    assert "chain_path" not in doc and "chain_unused" not in doc
    prof = Profile.of(model.validate(doc))
    assert prof.path == prof.chain and len(prof.path) == 2
    assert prof.unused == ()


def test_profile_path_fields():
    from tlsfit.profile import model
    from tlsfit.profile.types import Profile
    doc = fixture()
    third = dict(doc["chain"][1], subject="CN=tlsfit RSA root", issuer="CN=old root")
    doc.update(chain=doc["chain"] + [third], chain_path=[0, 1], chain_unused=[2])
    prof = Profile.of(model.validate(doc))
    assert [c["subject"] for c in prof.path] == ["CN=localhost", "CN=tlsfit RSA intermediate"]
    assert [c["subject"] for c in prof.unused] == ["CN=tlsfit RSA root"]


@pytest.mark.parametrize("fields, message", [
    ({"chain_path": [0, 1]}, "field chain_unused: missing (chain_path is given)"),
    ({"chain_unused": []}, "field chain_path: missing (chain_unused is given)"),
    ({"chain_path": [1, 0], "chain_unused": []},
     "field chain_path[0]: is 1, not 0 (the path starts at the leaf)"),
    ({"chain_path": [0, 0], "chain_unused": [1]}, "field chain_path[1]: index 0 is listed twice"),
    ({"chain_path": [0, 2], "chain_unused": [1]},
     "field chain_path[1]: index 2 is out of range (chain has 2 certificates)"),
    ({"chain_path": [0], "chain_unused": []},
     "field chain_unused: lacks index 1 (every certificate of chain is in chain_path or "
     "chain_unused)"),
    ({"chain_path": [0, 1], "chain_unused": [1]},
     "field chain_unused[0]: index 1 is also in chain_path"),
    ({"chain_path": [], "chain_unused": [0, 1]},
     "field chain_path: is empty (the path starts at the leaf, index 0)"),
    ({"chain_path": [0, "1"], "chain_unused": []},
     'field chain_path[1]: expected an integer, got the string "1"'),
    ({"chain_path": None, "chain_unused": []}, "field chain_path: expected a list, got null"),
])
def test_profile_path_fields_invalid(fields, message):
    from tlsfit.profile import model
    from tlsfit.core.errors import TlsfitError
    with pytest.raises(TlsfitError) as e:
        model.validate(fixture(**fields), "p.json")
    assert e.value.message == f"p.json: {message}"


def test_profile_sent_anchor_ends_the_path():
    from tlsfit.profile import model
    from tlsfit.core.errors import TlsfitError
    doc = fixture(chain_path=[0, 1], chain_unused=[])
    doc["trust_anchor"] = dict(doc["trust_anchor"], source="sent")
    with pytest.raises(TlsfitError) as e:
        model.validate(doc, "p.json")
    assert e.value.message == ('p.json: field trust_anchor: is "sent" but is not chain[1], the '
                               "last certificate of chain_path")


# ------------------------------------------------------------------ the path

@pytest.mark.parametrize("order, path, unused", [
    (("inter", "cross"), [0, 1], [2]),
    (("cross", "inter"), [0, 2], [1]),          # any order
], ids=["inter-cross", "cross-inter"])
def test_cross_signed_root_path(cross, openssl, run_probe, order, path, unused):
    """leaf, intermediate and the new root cross-signed by the old one, --ca naming the
    new root: the path ends at the new root; the cross-signed certificate is unused."""
    with openssl(cross.chain, *ECDSA_TLS12, chain_file=cross.served(*order)) as srv:
        res = run_probe(srv.hostport, "--ca", cross.chain.root.pem, "--no-system-store", *TIMEOUT)
    assert res.returncode == 0, res.explain()
    p = res.profile
    sent = {"inter": "CN=tlsfit new intermediate", "cross": "CN=tlsfit new root"}
    assert subjects(p) == ["CN=localhost"] + [sent[n] for n in order]
    assert p["chain_path"] == path
    assert p["chain_unused"] == unused
    assert p["chain"][unused[0]]["issuer"] == "CN=tlsfit old root"
    assert p["trust_anchor"]["subject"] == "CN=tlsfit new root"
    assert p["trust_anchor"]["issuer"] == "CN=tlsfit new root"
    assert p["trust_anchor"]["source"] == str(cross.chain.root.pem)
    assert p["trust_anchor"]["der_b64"] == der_b64(cross.chain.root.pem)
    assert p["chain_complete"] is True


def test_cross_signed_other_anchors(cross, openssl, run_probe):
    """The same server: through the cross-signed certificate to the old root when only it
    is given; the new root when both are; no anchor when neither is."""
    with openssl(cross.chain, *ECDSA_TLS12, chain_file=cross.served("inter", "cross")) as srv:
        old = run_probe(srv.hostport, "--ca", cross.old.pem, "--no-system-store", *TIMEOUT)
        both = run_probe(srv.hostport, "--ca", cross.old.pem, "--ca", cross.chain.root.pem,
                         "--no-system-store", *TIMEOUT)
        none = run_probe(srv.hostport, "--no-system-store", *TIMEOUT)
    for res in (old, both, none):
        assert res.returncode == 0, res.explain()
    p = old.profile
    assert (p["chain_path"], p["chain_unused"]) == ([0, 1, 2], [])
    assert p["trust_anchor"]["subject"] == "CN=tlsfit old root"
    assert p["trust_anchor"]["source"] == str(cross.old.pem)
    assert p["chain_complete"] is True
    p = both.profile
    assert (p["chain_path"], p["chain_unused"]) == ([0, 1], [2])
    assert p["trust_anchor"]["source"] == str(cross.chain.root.pem)
    p = none.profile
    assert (p["chain_path"], p["chain_unused"]) == ([0, 1, 2], [])
    assert p["trust_anchor"] is None
    assert p["chain_complete"] is False


_NO_KEY_ID_EXT = pki.openssl_config({"ca": [*pki.ca_lines(key_ids=False),
                                              "authorityKeyIdentifier = none"]})


def impostor_ca(directory, cn):
    """A self-signed CA named cn with a fresh P-256 key and no key identifier, so only
    its signature tells it from the real CA of that name."""
    d = Path(directory)
    key = refservers.generate_key("ec:P-256", d / "impostor.key")
    ext, pem = d / "impostor.cnf", d / "impostor.pem"
    ext.write_text(_NO_KEY_ID_EXT)
    refservers.openssl(["req", "-new", "-x509", "-key", str(key), "-subj", f"/CN={cn}",
                        "-days", "3650", "-sha256", "-config", str(ext), "-extensions", "ca",
                        "-out", str(pem)], "creating the impostor CA")
    return pem


def test_name_match_without_signature_is_not_the_issuer(cross, openssl, run_probe, tmp_path):
    """A CA with the new root's name but another key and no SKI, in --ca before the real
    one, and alone: it does not verify the intermediate, so it anchors nothing."""
    impostor = impostor_ca(tmp_path, "tlsfit new root")
    assert "Subject Key Identifier" not in refservers.openssl(
        ["x509", "-in", str(impostor), "-noout", "-text"], "reading").decode()
    bundle = tmp_path / "impostor-first.pem"
    bundle.write_bytes(impostor.read_bytes() + cross.chain.root.pem.read_bytes())
    with openssl(cross.chain, *ECDSA_TLS12) as srv:
        first = run_probe(srv.hostport, "--ca", bundle, "--no-system-store", *TIMEOUT)
        alone = run_probe(srv.hostport, "--ca", impostor, "--no-system-store", *TIMEOUT)
    assert first.returncode == 0, first.explain()
    assert first.profile["trust_anchor"]["der_b64"] == der_b64(cross.chain.root.pem)
    assert first.profile["chain_complete"] is True
    assert alone.returncode == 0, alone.explain()
    assert alone.profile["trust_anchor"] is None
    assert alone.profile["chain_complete"] is False


def test_sent_root_stays_the_anchor(cross, openssl, run_probe):
    """The server sends its root too and --ca names it: the path includes the sent root
    (source "sent"), as before chain_path existed."""
    root_file = cross.dir / "inter-root.pem"
    root_file.write_bytes(cross.chain.inter.pem.read_bytes() + cross.chain.root.pem.read_bytes())
    with openssl(cross.chain, *ECDSA_TLS12, chain_file=root_file) as srv:
        res = run_probe(srv.hostport, "--ca", cross.chain.root.pem, "--no-system-store", *TIMEOUT)
    assert res.returncode == 0, res.explain()
    p = res.profile
    assert (p["chain_path"], p["chain_unused"]) == ([0, 1, 2], [])
    assert p["trust_anchor"]["source"] == "sent"
    assert p["trust_anchor"]["der_b64"] == p["chain"][2]["der_b64"]


def test_gen_configures_only_the_path(cross, openssl, run_probe, run_driver, tmp_path):
    """leaf, intermediate, cross-signed new root and the old RSA-3072 root itself: gen
    configures the P-256 path to the new root, not RSA or a 384-byte MPI for the
    unused certificates; the input buffer still holds the whole Certificate message.
    The same profile without chain_path (read as before the field) needs both."""
    with openssl(cross.chain, *ECDSA_TLS12,
                 chain_file=cross.served("inter", "cross", "old")) as srv:
        res = run_probe(srv.hostport, "--ca", cross.chain.root.pem, "--no-system-store", *TIMEOUT)
    assert res.returncode == 0, res.explain()
    p = res.profile
    assert (p["chain_path"], p["chain_unused"]) == ([0, 1], [2, 3])
    assert p["chain"][3]["key"]["bits"] == 3072
    out = tmp_path / "path.h"
    proc = run_driver("gen", profile_path(res), "-o", out)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert header_value(text, "MBEDTLS_MPI_MAX_SIZE") == 32            # P-256 only
    assert "MBEDTLS_RSA_C" not in defines(text)
    assert "MBEDTLS_PKCS1_V15" not in defines(text)
    assert header_value(text, "MBEDTLS_SSL_IN_CONTENT_LEN") > p["records"]["certificate_msg_len"]

    legacy = tmp_path / "legacy.json"
    doc = json.loads(profile_path(res).read_text())
    del doc["chain_path"], doc["chain_unused"]
    legacy.write_text(json.dumps(doc))
    out_legacy = tmp_path / "legacy.h"
    proc = run_driver("gen", legacy, "-o", out_legacy)
    assert proc.returncode == 0, proc.stderr
    old_text = out_legacy.read_text()
    assert header_value(old_text, "MBEDTLS_MPI_MAX_SIZE") == 384       # RSA-3072, unused
    assert "MBEDTLS_RSA_C" in defines(old_text)


def test_gen_refuses_without_anchor(cross, openssl, run_probe, run_driver):
    with openssl(cross.chain, *ECDSA_TLS12, chain_file=cross.served("inter", "cross")) as srv:
        res = run_probe(srv.hostport, "--no-system-store", *TIMEOUT)
    assert res.returncode == 0, res.explain()
    proc = run_driver("gen", profile_path(res))
    assert proc.returncode == 38, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        'tlsfit: the trust anchor of this chain is unknown (issuer "CN=tlsfit old root" was not '
        "found): re-probe with --ca FILE so its key can be configured"]


def test_summary_marks_unused(cross, server_logs, run_driver):
    with refservers.openssl_server(cross.chain, *ECDSA_TLS12, log_dir=server_logs,
                                   chain_file=cross.served("cross", "inter")) as srv:
        proc = run_driver("probe", srv.hostport, "--ca", cross.chain.root.pem,
                          "--no-system-store", *TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    cert = [line for line in lines if line.startswith("  [")]
    assert len(cert) == 3
    assert cert[1].startswith("  [1] CN=tlsfit new root  (")
    assert cert[1].endswith("  (not on the path to the anchor)")
    assert not cert[0].endswith("(not on the path to the anchor)")
    assert not cert[2].endswith("(not on the path to the anchor)")
    assert "  path: [0] <- [2]" in lines
    assert "  chain complete: yes" in lines


# ------------------------------------------------------------------ groups

@pytest.mark.parametrize("leaf, args, groups", [
    ("ec:P-384", ("-groups", "X25519:P-256:P-384"), {"x25519", "secp256r1", "secp384r1"}),
    ("ec:brainpoolP384r1", ("-groups", "brainpoolP384r1:X25519:P-256"),
     {"brainpoolP384r1", "x25519", "secp256r1"}),
], ids=["p384", "brainpoolP384r1"])
def test_tls12_groups_beyond_the_certificate_curve(tmp_path, openssl, run_probe, leaf, args,
                                                   groups):
    """TLS 1.2, client order: every group the server was given, although the server can
    use its ECDSA certificate only while the certificate's curve is offered."""
    chain = refservers.make_chain(tmp_path, "g", "ec:P-256", "ec:P-256", leaf, label="groups")
    with openssl(chain, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", *args) as srv:
        res = run_probe(srv.hostport, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    p = res.profile
    assert p["chain"][0]["key"]["curve"] == {"ec:P-384": "secp384r1",
                                             "ec:brainpoolP384r1": "brainpoolP384r1"}[leaf]
    assert set(p["groups"]["TLSv1.2"]) == groups
    assert len(p["groups"]["TLSv1.2"]) == len(groups)
    assert p["steps"]["groups.TLSv1.2"] == {"status": "ok"}


def test_tls12_groups_server_order_with_certificate_curve_last(tmp_path, openssl, run_probe):
    """-serverpref, the certificate's curve ranked last: the server's order, whole."""
    chain = refservers.make_chain(tmp_path, "g", "ec:P-256", "ec:P-256", "ec:P-384",
                                  label="groups")
    with openssl(chain, "-tls1_2", "-serverpref", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256",
                 "-groups", "X25519:P-256:P-384") as srv:
        res = run_probe(srv.hostport, *TIMEOUT)
    assert res.returncode == 0, res.explain()
    assert res.profile["groups"]["TLSv1.2"] == ["x25519", "secp256r1", "secp384r1"]
    assert res.profile["group_preferred"]["TLSv1.2"] == "x25519"


# ------------------------------------------------------------------ SNI

NGINX_CONF = """\
daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
    uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
    server {{ listen 127.0.0.1:{port} ssl default_server; ssl_reject_handshake on; }}
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {fullchain};
        ssl_certificate_key {key};
        return 200 "ok";
    }}
}}
"""


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_wants_a_server_name(pki, run_probe, tmp_path):
    """nginx with ssl_reject_handshake in its default server, probed by address without
    --sni: exit 23 and one line saying so; with --sni localhost it probes."""
    port = refservers.free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(NGINX_CONF.format(d=tmp_path, port=port, fullchain=pki.rsa.fullchain,
                                      key=pki.rsa.leaf.key))
    argv = ["nginx", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")]
    with refservers.RefServer("nginx", argv, port, tmp_path / "nginx.log", limit=120).start():
        res = run_probe(f"127.0.0.1:{port}", *TIMEOUT)
        ok = run_probe(f"127.0.0.1:{port}", "--sni", "localhost", *TIMEOUT)
    assert res.returncode == 23, res.explain()
    assert res.stderr_lines == [f"tlsfit-probe: 127.0.0.1:{port}: the server wants a server "
                                "name: pass --sni NAME [TF_ERR_SNI]"]
    assert ok.returncode == 0, ok.explain()
    assert ok.profile["target"]["sni"] == "localhost"


def test_wrong_server_name(pki, openssl, run_probe):
    """openssl s_server -servername localhost -servername_fatal, probed with another name."""
    with openssl(pki.rsa, "-servername", "localhost", "-servername_fatal",
                 "-cert2", pki.rsa.leaf.pem, "-key2", pki.rsa.leaf.key) as srv:
        res = run_probe(srv.hostport, "--sni", "wrong.example", *TIMEOUT)
        ok = run_probe(srv.hostport, "--sni", "localhost", *TIMEOUT)
    assert res.returncode == 23, res.explain()
    assert res.stderr_lines == [f"tlsfit-probe: {srv.hostport}: the server does not serve the "
                                "name wrong.example (alert unrecognized_name): pass --sni with a "
                                "name it serves [TF_ERR_SNI]"]
    assert ok.returncode == 0, ok.explain()


def test_errors_table_lists_sni(run_driver):
    res = run_driver("errors")
    assert res.returncode == 0, res.stderr
    assert any(line.split()[:2] == ["23", "TF_ERR_SNI"] for line in res.stdout.splitlines())


def test_tls12_groups_against_an_mbedtls_server(pki, run_probe, server_logs):
    """mbedTLS servers keep only the first curves a client lists (2.28: 11, 3.6: 13): with
    the certificate's curve offered last behind every other group it fell out of sight and
    the server refused.  ssl_server2 (3.6) in server order secp384r1, x25519, secp256r1 with
    a P-256 certificate: every one of the three is listed."""
    from tlsfit.host import verify
    binary = verify.ssl_server2_path()
    with refservers.mbedtls_server(binary, pki.ec, "force_version=tls12",
                                   "groups=secp384r1,x25519,secp256r1", log_dir=server_logs) as srv:
        res = run_probe(srv.hostport, "--sni", "localhost", "--ca", pki.ec.root.pem)
    assert res.returncode == 0, res.explain()
    assert sorted(res.profile["groups"]["TLSv1.2"]) == ["secp256r1", "secp384r1", "x25519"]
    assert res.profile["group_preferred"]["TLSv1.2"] == "secp384r1"


def test_tls12_groups_against_mbedtls_228_in_lighttpd(pki, run_probe, tmp_path):
    """Debian's lighttpd with mod_mbedtls (mbedTLS 2.28, which keeps only the first 11
    curves a client lists) and a P-256 certificate: with the certificate's curve last
    behind every other group, the second hello had it cut off and the server refused
    ("None of the common ciphersuites is usable"), so only the first pick was listed.
    2.28's own order puts secp521r1, secp384r1 and the brainpool curves before
    secp256r1; they are all found."""
    from tlsfit.lab import daemons
    with daemons.lighttpd(pki.ec, log_dir=tmp_path, tls="mbedtls") as srv:
        res = run_probe(srv.hostport, "--sni", "localhost", "--ca", pki.ec.root.pem)
    assert res.returncode == 0, res.explain()
    assert res.profile["groups"]["TLSv1.2"] == ["secp521r1", "secp384r1", "brainpoolP384r1",
                                                "brainpoolP512r1", "secp256r1"]


def test_fit_of_a_cross_signed_chain(cross, openssl, run_driver, tmp_path):
    """The issue's shape end to end: leaf <- intermediate <- new root, plus the new root
    cross-signed by an old root, --ca naming the new root.  fit (probe, measure on the
    target, ablate) produces a header that verified, with nothing for the unused
    certificates -- gen and fit used to refuse with exit 38."""
    out = tmp_path / "fit"
    with openssl(cross.chain, *ECDSA_TLS12, chain_file=cross.served("inter", "cross", "old")) as srv:
        res = run_driver("fit", srv.hostport, "--sni", "localhost", "--ca", cross.chain.root.pem,
                         "--candidates", "1", "--objective", "rom", "--out", out, "--json",
                         timeout=900)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["handshake"]["ok"] is True and report["handshake"]["proof"] == "no-alert"
    text = (out / "tls_config.h").read_text()
    assert header_value(text, "MBEDTLS_MPI_MAX_SIZE") == 32
    assert "MBEDTLS_RSA_C" not in defines(text)
