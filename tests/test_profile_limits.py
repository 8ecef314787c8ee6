"""Issue 16: the profile validator refuses values no real server can have (one line,
exit 32, the field and the limit named), suite ids and names must agree, and an
integer too long for Python is a profile error, not a traceback."""
import copy
import json
import os
import subprocess
import sys

import pytest

from conftest import REPO, profile_error
from tlsfit.profile import model as profile
from tlsfit.core.errors import PROFILE

SAMPLE = REPO / "tests" / "fixtures" / "profile-v1.json"
EC13 = REPO / "tests" / "fixtures" / "compat" / "openssl-ec-13.json"


@pytest.fixture
def doc():
    return json.loads(SAMPLE.read_text())


error_of = profile_error


def test_rsa_key_bits_bounded(doc):
    doc["chain"][0]["key"]["bits"] = 10 ** 9
    assert error_of(doc) == ("p.json: field chain[0].key.bits: 1000000000 is outside "
                             "512..16384, the sizes an RSA key can have")
    doc["chain"][0]["key"]["bits"] = 256
    assert "chain[0].key.bits: 256 is outside 512..16384" in error_of(doc)
    doc["chain"][0]["key"]["bits"] = 16384
    profile.validate(doc)


def test_trust_anchor_key_bits_bounded(doc):
    doc["trust_anchor"]["key"]["bits"] = 10 ** 6
    assert "field trust_anchor.key.bits: 1000000 is outside 512..16384" in error_of(doc)


def test_ec_key_bits_match_the_curve():
    doc = json.loads(EC13.read_text())
    key = doc["chain"][0]["key"]
    assert key["type"] == "ec" and key["curve"] == "secp256r1"
    profile.validate(copy.deepcopy(doc))
    key["bits"] = 100000
    assert error_of(doc) == ("p.json: field chain[0].key.bits: 100000 is not the size of "
                             "secp256r1 (256 bits)")
    key["curve"], key["bits"] = "explicit", 5000
    assert "field chain[0].key.bits: 5000 is outside 0..1024" in error_of(doc)


def test_dh_bits_bounded(doc):
    doc["key_exchange"]["TLSv1.2"] = {"dh_bits": 10 ** 7}
    assert error_of(doc) == ("p.json: field key_exchange.TLSv1.2.dh_bits: 10000000 is above "
                             "the maximum 16384")
    doc["key_exchange"]["TLSv1.2"] = {"dh_bits": 128}
    assert "dh_bits: 128 is below the minimum 512" in error_of(doc)


def test_record_lengths_bounded(doc):
    doc["records"]["max_record_len"] = 10 ** 12
    assert error_of(doc) == ("p.json: field records.max_record_len: 1000000000000 is above "
                             "the maximum 18432")
    doc["records"]["max_record_len"] = 18432
    doc["records"]["certificate_msg_len"] = 10 ** 30
    assert error_of(doc) == ("p.json: field records.certificate_msg_len: a 31-digit integer "
                             "is above the maximum 16777219")


def test_suite_name_must_match_its_id(doc):
    doc["ciphersuites"]["TLSv1.2"][0]["name"] = "TLS_RSA_WITH_NULL_MD5"
    assert error_of(doc) == ('p.json: field ciphersuites.TLSv1.2[0].name: '
                             '"TLS_RSA_WITH_NULL_MD5" is not the name of 0xC030 '
                             '(TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)')


def test_unknown_suite_id_keeps_only_an_unknown_name(doc):
    suites = doc["ciphersuites"]["TLSv1.2"]
    suites[0] = {"id": "0xFAFA", "name": "0xFAFA"}          # what the prober writes
    profile.validate(doc)
    suites[0]["name"] = "unknown"
    profile.validate(doc)
    suites[0]["name"] = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
    assert "field ciphersuites.TLSv1.2[0].name: \"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\" " \
           "names a suite, but 0xFAFA is not a known suite" in error_of(doc)


def test_huge_integer_is_a_profile_error(doc):
    text = json.dumps(doc, indent=2).replace('"bits": 2048', '"bits": ' + "9" * 5001, 1)
    msg = error_of(text)
    assert msg.startswith("p.json: not a profile: an integer of more than 4300 digits (line ")


def test_gen_on_a_huge_integer_exits_32(doc, tmp_path):
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(doc, indent=2).replace('"bits": 2048', '"bits": ' + "7" * 5001))
    env = dict(os.environ, PYTHONPATH=str(REPO / "tool"), TLSFIT_STATE_DIR=str(tmp_path / "s"))
    proc = subprocess.run([sys.executable, "-m", "tlsfit.cli", "gen", str(path), "-o",
                           str(tmp_path / "out.h")], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == PROFILE, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "an integer of more than 4300 digits" in proc.stderr
    assert not (tmp_path / "out.h").exists()
