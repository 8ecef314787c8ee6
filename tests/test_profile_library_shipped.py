"""Issue 15, item 1: the shipped profile library -- at least 8 profiles from real
server software, each valid, with its provenance, listed by `tlsfit profiles` (text
and pure JSON) with the facts of its file; and reproducible: rebuilding a shipped
profile with its script from the Debian server on 127.0.0.1 gives back its facts."""
import json
import sys

import pytest

from conftest import REPO
from tlsfit.profile import library, model

sys.path.insert(0, str(REPO / "profiles" / "make"))
import refprofiles  # noqa: E402

SHIPPED = library.names()


def test_at_least_eight_shipped():
    assert len(SHIPPED) >= 8
    assert set(SHIPPED) == {r.name for r in refprofiles.REFERENCES}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profile_valid_with_provenance(name):
    doc = model.load(library.resolve(name))
    prov = doc["provenance"]
    assert prov["script"] == f"profiles/make/refprofiles.py {name}"
    ref = refprofiles.BY_NAME[name]
    assert prov["server"]["software"] == ref.software
    assert prov["server"]["configuration"] == ref.configuration
    assert len(prov["prober"]["sources_sha256"]) == 64
    assert doc["target"]["address"] == "127.0.0.1"
    assert bool(doc.get("dtls")) == ref.dtls             # probed over UDP, or TCP
    if ref.psk:                                          # the identity, never the key
        assert doc["psk"]["identity"] == ref.psk[0]
        assert ref.psk[1] not in library.resolve(name).read_bytes()
        assert ref.psk[1].hex().encode() not in library.resolve(name).read_bytes().lower()
    if ref.chain is None:                                # a PSK-only server: no certificate
        assert doc["chain"] == [] and doc["trust_anchor"] is None
        return
    # the generated PKI: a root the server does not send, the key types the script asks for
    root, inter, leaf = ref.chain
    assert doc["trust_anchor"]["source"] == "server/root.pem"
    labels = [c["key"]["type"] + ":" + str(c["key"]["bits"]) for c in doc["chain"]]
    want = [s.replace("ec:P-256", "ec:256").replace("ec:P-384", "ec:384") for s in (leaf, inter)]
    assert labels == want
    assert "PRIVATE KEY" not in json.dumps(doc)       # profiles never hold private keys


def test_profiles_lists_every_one(run_driver):
    proc = run_driver("profiles")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == f"{len(SHIPPED)} profiles in profiles/"
    i = lines.index("nginx-modern  (nginx " + model.load(library.resolve("nginx-modern"))
                    ["provenance"]["server"]["version"] + ")")
    assert lines[i + 1].startswith("  versions TLSv1.3; default suite TLS_")
    assert lines[i + 2] == "  chain 3 certs: RSA-2048 <- RSA-2048 <- RSA-4096 (root sent: no)"
    j = next(n for n, line in enumerate(lines) if line.startswith("mosquitto-mtls  ("))
    assert lines[j + 3].endswith("; client certificate requested")


def test_profiles_json_is_pure_and_matches_the_files(run_driver):
    proc = run_driver("profiles", "--json")
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    assert [e["name"] for e in listed] == list(SHIPPED)
    for e in listed:
        doc = json.loads((REPO / "profiles" / f"{e['name']}.json").read_text())
        newest = doc["versions"][-1]
        assert e["versions"] == doc["versions"]
        assert e["default_suite"] == doc["ciphersuites"][newest][0]["name"]
        assert e["server_order"] == doc["server_preference"][newest]
        assert e["largest_record"] == doc["records"]["max_record_len"]
        assert e["client_cert"] == doc["client_cert_requested"]
        assert e["software"] == (f"{doc['provenance']['server']['software']} "
                                 f"{doc['provenance']['server']['version']}")
    by = {e["name"]: e for e in listed}
    assert by["mosquitto-mtls"]["client_cert"] is True
    assert by["mosquitto-tls"]["client_cert"] is False
    assert by["nginx-modern"]["versions"] == ["TLSv1.3"]
    assert by["nginx-intermediate"]["versions"] == ["TLSv1.2", "TLSv1.3"]


def test_profiles_bad_dir(run_driver, tmp_path):
    proc = run_driver("profiles", "--dir", tmp_path / "absent")
    assert proc.returncode == 32
    assert proc.stderr.strip().splitlines() == [
        f"tlsfit: --dir {tmp_path / 'absent'}: no such directory (name the directory that "
        "holds the NAME.json profiles)"]
    assert proc.stdout == ""


def _facts(doc):
    """What a rebuild must give back: everything the server decides (not ports, dates,
    serials, keys, signatures, timings), its resumption facts included."""
    by_version = {k: doc[k] for k in model.BY_VERSION}
    chain = [(c["key"]["type"], c["key"]["bits"], c["key"]["curve"], c["signature_algorithm"],
              c["is_ca"], c["subject"]) for c in doc["chain"]]
    return (doc["versions"], by_version, chain, doc["chain_complete"], doc["extensions"],
            doc["client_cert_requested"], doc["client_cert_request"],
            {k: v for k, v in doc["records"].items() if not k.endswith("_len")},
            {k: v for k, v in doc["provenance"]["server"].items()
             if k not in ("version", "package_version")},    # a Debian update moves these
            doc["provenance"]["script"], doc.get("resumption"))


@pytest.mark.server          # profiles/make/refprofiles.py serves and probes it
@pytest.mark.parametrize("name", ["nginx-intermediate", "mosquitto-mtls"])
def test_rebuild_gives_back_the_shipped_facts(name, prober, tmp_path, monkeypatch):
    monkeypatch.setenv("TLSFIT_PROBER", str(prober))
    monkeypatch.setenv("TLSFIT_STATE_DIR", str(tmp_path / "state"))
    assert refprofiles.main([name, "--out", str(tmp_path)]) == 0
    fresh = model.load(tmp_path / f"{name}.json")
    shipped = model.load(library.resolve(name))
    assert _facts(fresh) == _facts(shipped)
    for k in ("max_record_len", "max_handshake_msg_len", "certificate_msg_len"):
        assert abs(fresh["records"][k] - shipped["records"][k]) <= 8, k


@pytest.mark.parametrize("name", SHIPPED)
def test_gen_reads_a_shipped_profile_by_name(name, run_driver, tmp_path):
    out = tmp_path / "tls_config.h"
    psk = refprofiles.BY_NAME[name].psk
    args = ()
    if psk and refprofiles.BY_NAME[name].chain is None:     # PSK-only: gen needs the key
        key = tmp_path / "device.key"
        key.write_bytes(psk[1])
        args = ("--psk-identity", psk[0], "--psk-key-file", key)
    proc = run_driver("gen", name, *args, "-o", out)
    assert proc.returncode == 0, proc.stderr
    doc = model.load(library.resolve(name))
    # the header is for a version the server accepts
    assert proc.stderr.split("wrote ", 1)[1].split(": ", 1)[1].split()[0] in doc["versions"]
    assert "MBEDTLS_SSL_PROTO_TLS1_" in out.read_text()
