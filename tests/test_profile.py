"""Profile loading and validation (tlsfit.profile): every error is code 32 and one
line naming the file and the field."""
import copy
import json

import pytest

from conftest import REPO, profile_error
from tlsfit.profile import model as profile
from tlsfit.core.errors import PROFILE, TlsfitError

SAMPLE = REPO / "tests" / "fixtures" / "profile-v1.json"


@pytest.fixture
def doc():
    return json.loads(SAMPLE.read_text())


error_of = profile_error


def test_sample_is_valid():
    doc = profile.load(SAMPLE)
    assert doc["versions"] == ["TLSv1.2", "TLSv1.3"]


def test_round_trip(doc, tmp_path):
    path = profile.save(doc, tmp_path / "sub" / "x.json")
    assert profile.load(path) == doc
    assert [p.name for p in path.parent.iterdir()] == ["x.json"]   # no temp file left


def test_malformed_json_names_line_and_column(tmp_path):
    path = tmp_path / "profile.json"
    path.write_text('{\n  "schema_version": 1,\n  "tool" {}\n}\n')
    with pytest.raises(TlsfitError) as info:
        profile.load(path, name="profile.json")
    assert info.value.code == PROFILE
    assert info.value.message.startswith("profile.json: not JSON (line 3, column 10)")


def test_truncated_file(doc):
    text = json.dumps(doc, indent=2)
    msg = error_of(text[: len(text) // 2])
    assert msg.startswith("p.json: truncated JSON"), msg


def test_empty_file():
    assert error_of("") == "p.json: empty file, expected a JSON profile"


def test_not_utf8():
    assert error_of(b'{"a": "\xff"}').startswith("p.json: not UTF-8 text")


def test_missing_file(tmp_path):
    with pytest.raises(TlsfitError) as info:
        profile.load(tmp_path / "nope.json", name="nope.json")
    assert info.value.message == "nope.json: no such file"
    assert info.value.code == PROFILE


def test_top_level_not_object():
    assert error_of("[1, 2]") == "p.json: field (top level): expected an object, got a list of 2"


def test_wrong_schema_version(doc):
    doc["schema_version"] = 2
    assert error_of(doc).startswith("p.json: field schema_version: 2 is not supported")


def test_schema_version_string(doc):
    doc["schema_version"] = "1"
    assert error_of(doc) == 'p.json: field schema_version: expected an integer, got the string "1"'


@pytest.mark.parametrize("key", ["schema_version", "tool", "target", "probed_at", "versions",
                                 "ciphersuites", "chain", "trust_anchor", "records", "extensions",
                                 "client_cert_requested", "stats", "steps"])
def test_missing_top_level_key(doc, key):
    del doc[key]
    assert error_of(doc) == f"p.json: field {key}: missing"


def test_missing_nested_key(doc):
    del doc["records"]["certificate_msg_len"]
    assert error_of(doc) == "p.json: field records.certificate_msg_len: missing"


def test_missing_key_in_certificate(doc):
    del doc["chain"][1]["key"]["bits"]
    assert error_of(doc) == "p.json: field chain[1].key.bits: missing"


def test_wrong_type_nested(doc):
    doc["chain"][0]["key"]["bits"] = "2048"
    assert error_of(doc) == 'p.json: field chain[0].key.bits: expected an integer, got the string "2048"'


def test_bool_is_not_an_integer(doc):
    doc["target"]["port"] = True
    assert error_of(doc) == "p.json: field target.port: expected an integer, got true"


def test_port_range(doc):
    doc["target"]["port"] = 70000
    assert error_of(doc) == "p.json: field target.port: 70000 is above the maximum 65535"


def test_unknown_version_name(doc):
    doc["versions"] = ["TLSv1.2", "TLS1.3"]
    assert error_of(doc).startswith('p.json: field versions[1]: "TLS1.3" is not one of')


def test_versions_order(doc):
    doc["versions"] = ["TLSv1.3", "TLSv1.2"]
    assert error_of(doc) == "p.json: field versions: is not oldest first"


def test_by_version_missing_version(doc):
    del doc["groups"]["TLSv1.3"]
    assert error_of(doc) == "p.json: field groups.TLSv1.3: missing (versions lists TLSv1.3)"


def test_by_version_extra_version(doc):
    doc["ciphersuites"]["TLSv1.1"] = []
    assert error_of(doc) == "p.json: field ciphersuites.TLSv1.1: version not listed in versions"


def test_suite_id_format(doc):
    doc["ciphersuites"]["TLSv1.2"][1]["id"] = "c02f"
    assert error_of(doc) == ('p.json: field ciphersuites.TLSv1.2[1].id: "c02f" is not '
                             'a suite id like "0xC02B"')


def test_duplicate_suite(doc):
    doc["ciphersuites"]["TLSv1.2"].append(copy.deepcopy(doc["ciphersuites"]["TLSv1.2"][0]))
    assert error_of(doc) == "p.json: field ciphersuites.TLSv1.2[2]: suite 0xC030 is listed twice"


def test_server_preference_type(doc):
    doc["server_preference"]["TLSv1.2"] = "yes"
    assert error_of(doc) == ('p.json: field server_preference.TLSv1.2: expected true, false or '
                             'null, got the string "yes"')


def test_der_len_mismatch(doc):
    doc["chain"][0]["der_len"] += 1
    assert error_of(doc).startswith("p.json: field chain[0].der_b64: decodes to ")


def test_der_not_base64(doc):
    doc["chain"][0]["der_b64"] = "not base64!"
    assert error_of(doc) == "p.json: field chain[0].der_b64: is not valid base64"


def test_time_format(doc):
    doc["probed_at"] = "2026-11-23 17:30:00"
    assert error_of(doc) == ('p.json: field probed_at: "2026-11-23 17:30:00" is not a UTC time '
                             'like 2026-11-23T17:30:00Z')


def test_key_type_enum(doc):
    doc["chain"][0]["key"]["type"] = "RSA"
    assert error_of(doc).startswith('p.json: field chain[0].key.type: "RSA" is not one of "rsa"')


def test_trust_anchor_may_be_null(doc):
    doc["trust_anchor"] = None
    doc["chain_complete"] = False
    profile.validate(doc)


def test_trust_anchor_wrong_type(doc):
    doc["trust_anchor"] = "CN=root"
    assert error_of(doc) == ('p.json: field trust_anchor: expected an object, got the string '
                             '"CN=root"')


def test_client_cert_request_required_when_requested(doc):
    doc["client_cert_requested"] = True
    assert error_of(doc) == ("p.json: field client_cert_request: is null although "
                             "client_cert_requested is true")


def test_client_cert_request_shape(doc):
    doc["client_cert_requested"] = True
    doc["client_cert_request"] = {"signature_algorithms": ["rsa_pss_rsae_sha256"],
                                  "ca_names": ["CN=client CA"], "cert_types": [1, 64]}
    profile.validate(doc)
    doc["client_cert_request"]["ca_names"] = "CN=client CA"
    assert error_of(doc).startswith("p.json: field client_cert_request.ca_names: expected a list")


def test_failed_step_needs_reason_and_code(doc):
    del doc["steps"]["alpn"]["code"]
    assert error_of(doc) == "p.json: field steps.alpn.code: missing"


def test_record_size_limit_range(doc):
    doc["records"]["record_size_limit"] = 20000
    assert error_of(doc) == ("p.json: field records.record_size_limit: 20000 is above the "
                             "maximum 16385")


def test_unknown_keys_are_accepted(doc):
    doc["future_field"] = {"anything": 1}
    doc["records"]["future_counter"] = 3
    profile.validate(doc)


def test_chain_from_must_be_a_listed_version(doc):
    doc["chain_from"] = "TLSv1.0"
    assert error_of(doc) == "p.json: field chain_from: TLSv1.0 is not listed in versions"


def test_summary_of_a_version_without_key_exchange(doc):
    """Schema v1 allows key_exchange null per version (TLS 1.0/1.1 servers): the summary
    says so instead of failing."""
    from tlsfit.profile import summary
    ver = doc["versions"][0]
    doc["key_exchange"][ver] = None
    text = summary.format_summary(profile.validate(doc))
    assert "  key exchange: not observed" in text.splitlines()
