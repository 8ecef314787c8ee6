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
