"""Issue 15, item 1: the profile library (tool/tlsfit/profile/library.py) -- names and
paths resolve to files, a missing one is a one-line PROFILE error naming what is
there, and each entry carries the facts `tlsfit profiles` shows."""
import json
import shutil

import pytest

from conftest import REPO
from tlsfit.core.errors import PROFILE, TlsfitError
from tlsfit.profile import library

SAMPLE = REPO / "tests" / "fixtures" / "profile-v1.json"


@pytest.fixture
def lib(tmp_path):
    d = tmp_path / "profiles"
    d.mkdir()
    shutil.copy(SAMPLE, d / "alpha.json")
    doc = json.loads(SAMPLE.read_text())
    doc["versions"] = ["TLSv1.2"]
    for key in library.model.BY_VERSION:
        doc[key].pop("TLSv1.3")
    doc["chain_from"] = "TLSv1.2"
    doc["client_cert_requested"] = True
    doc["client_cert_request"] = {"signature_algorithms": ["ecdsa_secp256r1_sha256"],
                                  "ca_names": ["CN=Device CA"]}
    doc["provenance"] = {"server": {"software": "mosquitto", "version": "2.0.11-1.2"}}
    (d / "beta.json").write_text(json.dumps(doc))
    (d / "notes.txt").write_text("not a profile")
    (d / "make").mkdir()
    return d


def test_resolve_name_means_the_library_file(lib):
    assert library.resolve("alpha", lib) == lib / "alpha.json"
    assert library.resolve("beta", lib) == lib / "beta.json"


def test_resolve_path_is_a_path(lib, tmp_path, monkeypatch):
    other = tmp_path / "mine.json"
    shutil.copy(SAMPLE, other)
    assert library.resolve(str(other), lib) == other
    monkeypatch.chdir(tmp_path)
    assert library.resolve("mine.json", lib).resolve() == other.resolve()
    # a name with no library file falls back to a file of that name
    (tmp_path / "gamma").write_text("{}")
    assert library.resolve("gamma", lib).resolve() == (tmp_path / "gamma").resolve()


def test_resolve_unknown_names_the_available_ones(lib):
    with pytest.raises(TlsfitError) as info:
        library.resolve("nginx-modern", lib)
    e = info.value
    assert e.code == PROFILE
    assert "\n" not in e.message
    assert e.message.startswith("nginx-modern: no such profile")
    assert "available: alpha, beta;" in e.message
    assert "tlsfit profiles" in e.message


def test_resolve_unknown_in_an_empty_library(tmp_path):
    with pytest.raises(TlsfitError) as info:
        library.resolve("x", tmp_path / "absent")
    assert "available: none" in info.value.message


def test_entries_facts(lib):
    alpha, beta = library.entries(lib)
    assert (alpha.name, alpha.path) == ("alpha", lib / "alpha.json")
    assert alpha.versions == ("TLSv1.2", "TLSv1.3")
    assert alpha.default_suite == "TLS_AES_256_GCM_SHA384"
    assert alpha.server_order is False
    assert alpha.chain == "3 certs: RSA-2048 <- RSA-2048 <- RSA-2048 (root sent: no)"
    assert (alpha.chain_certs, alpha.root_sent) == (3, False)
    assert alpha.largest_record == 1678
    assert alpha.client_cert is False and alpha.software is None
    assert beta.versions == ("TLSv1.2",)
    assert beta.default_suite == "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
    assert beta.client_cert is True
    assert beta.software == "mosquitto 2.0.11-1.2"
    assert json.loads(json.dumps(beta.to_json()))["path"] == str(lib / "beta.json")


def test_entry_is_frozen(lib):
    e = library.entries(lib)[0]
    with pytest.raises(AttributeError):
        e.name = "other"


def test_chain_shape_ec_and_sent_root(lib):
    doc = json.loads(SAMPLE.read_text())
    doc["chain"][0]["key"] = {"type": "ec", "bits": 256, "curve": "secp256r1", "oid": "1.2"}
    doc["trust_anchor"]["source"] = "sent"
    doc["trust_anchor"]["key"] = {"type": "rsa", "bits": 4096, "curve": None, "oid": "1.2"}
    doc["chain_path"], doc["chain_unused"] = [0], [1]
    assert library.chain_shape(doc) == (
        "1 cert: ECDSA P-256 (root sent: yes), 1 more sent off the path", 1, True)
    doc["trust_anchor"] = None
    assert library.chain_shape(doc)[0] == \
        "1 cert: ECDSA P-256 (no anchor found), 1 more sent off the path"


def test_invalid_library_profile_is_named(lib):
    (lib / "broken.json").write_text('{"schema_version": 1}')
    with pytest.raises(TlsfitError) as info:
        library.entries(lib)
    assert info.value.code == PROFILE
    assert str(lib / "broken.json") in info.value.message


# ------------------------------------------------------------------ provenance

def _doc():
    return json.loads(SAMPLE.read_text())


GOOD_PROVENANCE = {"prober": {"version": "0.1.0", "sources_sha256": "ab" * 32},
                   "script": "profiles/make/refprofiles.py haproxy",
                   "server": {"software": "HAProxy", "version": "2.6.12", "package": "haproxy",
                              "package_version": "2.6.12-1+deb12u4",
                              "configuration": "Mozilla intermediate"}}


def test_provenance_accepted():
    doc = _doc()
    doc["provenance"] = GOOD_PROVENANCE
    library.model.validate(doc)
    doc["provenance"] = {}
    library.model.validate(doc)


@pytest.mark.parametrize("mutate, message", [
    (lambda p: p["prober"].update(sources_sha256="AB" * 32),
     f"field provenance.prober.sources_sha256: \"{'AB' * 32}\" is not "
     "64 lower-case hex digits (a SHA-256)"),
    (lambda p: p["prober"].pop("version"), "field provenance.prober.version: missing"),
    (lambda p: p["server"].pop("software"), "field provenance.server.software: missing"),
    (lambda p: p["server"].update(version=""), "field provenance.server.version: must not be empty"),
    (lambda p: p.update(script=7), "field provenance.script: expected a string, got the integer 7"),
    (lambda p: p.update(server="nginx"), "field provenance.server: expected an object"),
])
def test_provenance_refused(mutate, message):
    from conftest import profile_error
    doc = _doc()
    doc["provenance"] = json.loads(json.dumps(GOOD_PROVENANCE))
    mutate(doc["provenance"])
    assert message in profile_error(doc)


def test_sources_sha256_follows_the_sources(tmp_path):
    from tlsfit.profile import probing as probe
    root = tmp_path / "repo"
    for rel in ("tool/probe/a.c", "tool/probe/sub/b.c", "tool/codec/c.c", "tool/errors/e.h",
                "CMakeLists.txt"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    first = probe.sources_sha256(root)
    assert len(first) == 64 and first == probe.sources_sha256(root)
    (root / "tool/probe/sub/b.c").write_text("changed")
    assert probe.sources_sha256(root) != first
    (root / "tool/probe/sub/b.c").write_text("tool/probe/sub/b.c")
    assert probe.sources_sha256(root) == first
    (root / "tool/codec/new.h").write_text("")
    assert probe.sources_sha256(root) != first
    (root / "tool/codec/new.h").unlink()
    (root / "tool/errors/e.h").write_text("a code added")
    assert probe.sources_sha256(root) != first


def test_probe_records_provenance(prober, tmp_path, monkeypatch):
    """A real openssl s_server: run() records the prober build, keep() the server software
    in profiles/NAME.json, and the library lists it."""
    from tlsfit.core import paths
    from tlsfit.lab import refservers
    from tlsfit.profile import probing as probe
    monkeypatch.setenv("TLSFIT_PROBER", str(prober))
    monkeypatch.setattr(paths, "state_dir", lambda: tmp_path / "state")
    monkeypatch.setattr(paths, "profiles_dir", lambda: tmp_path / "profiles")
    chain = refservers.make_chain(tmp_path / "pki", "ec", "ec:P-256", "ec:P-256", "ec:P-256")
    with refservers.openssl_server(chain, "-tls1_3", log_dir=tmp_path) as srv:
        doc = probe.run(srv.hostport, probe.Options(sni="localhost", cas=(str(chain.root.pem),),
                                                    no_system_store=True))
    assert doc["provenance"]["prober"] == {"version": doc["tool"]["version"],
                                           "sources_sha256": probe.sources_sha256()}
    server = {"software": "OpenSSL s_server", "version": "3.0"}
    probe.keep(doc, "local", server=server, script="by hand")
    saved = library.model.load(tmp_path / "profiles" / "local.json")
    assert saved["provenance"]["server"] == server
    assert saved["provenance"]["script"] == "by hand"
    assert saved["provenance"]["prober"] == doc["provenance"]["prober"]
    (only,) = library.entries(tmp_path / "profiles")
    assert (only.name, only.versions, only.software) == ("local", ("TLSv1.3",),
                                                         "OpenSSL s_server 3.0")
    assert only.chain == "3 certs: ECDSA P-256 <- ECDSA P-256 <- ECDSA P-256 (root sent: no)"


def test_probe_cli_server_software(run_driver, tmp_path):
    """`tlsfit probe --server-software TEXT` records it; --json prints the profile as kept."""
    from tlsfit.lab import refservers
    chain = refservers.make_chain(tmp_path / "pki", "ec", "ec:P-256", "ec:P-256", "ec:P-256")
    with refservers.openssl_server(chain, "-tls1_2", log_dir=tmp_path) as srv:
        proc = run_driver("probe", srv.hostport, "--sni", "localhost", "--ca", chain.root.pem,
                          "--no-system-store", "--server-software", "OpenSSL s_server 3",
                          "--json")
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)
    kept = library.model.load(tmp_path / "state" / "last-profile.json")
    assert printed == kept
    assert kept["provenance"]["server"] == {"software": "OpenSSL s_server 3"}
    assert kept["versions"] == ["TLSv1.2"]
    assert len(kept["provenance"]["prober"]["sources_sha256"]) == 64


def test_probe_cli_empty_server_software(run_driver):
    proc = run_driver("probe", "127.0.0.1:1", "--server-software", " ")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "tlsfit probe: error: argument --server-software: must not be empty "
        "(e.g. \"nginx 1.22.1\") (see: tlsfit probe --help)"]


def test_prober_build_remembers_the_hash(tmp_path, monkeypatch):
    """prober_build() hashes the sources once per change (a memo in the cache): the memo
    is used while the files are unchanged and replaced when one changes."""
    from tlsfit.core import paths
    from tlsfit.profile import probing as probe
    root = tmp_path / "repo"
    (root / "tool" / "probe").mkdir(parents=True)
    (root / "tool" / "codec").mkdir(parents=True)
    (root / "tool" / "errors").mkdir(parents=True)
    (root / "tool" / "probe" / "a.c").write_text("int a;\n")
    (root / "CMakeLists.txt").write_text("project(x)\n")
    monkeypatch.setattr(paths, "repo_root", lambda: root)
    monkeypatch.setenv("TLSFIT_CACHE", str(tmp_path / "cache"))
    first = probe.prober_build("0.1.0")
    assert first == {"version": "0.1.0", "sources_sha256": probe.sources_sha256(root)}
    memo = tmp_path / "cache" / "prober-sources.sha256"
    fingerprint, digest = memo.read_text().split()
    assert digest == first["sources_sha256"]
    memo.write_text(f"{fingerprint} {'1' * 64}\n")          # the memo is what is read
    assert probe.prober_build("0.1.0")["sources_sha256"] == "1" * 64
    (root / "tool" / "probe" / "a.c").write_text("int a, b;\n")   # a change: hashed again
    again = probe.prober_build("0.1.0")["sources_sha256"]
    assert again == probe.sources_sha256(root) != first["sources_sha256"]
