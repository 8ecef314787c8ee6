"""core/pki.py: PEM blocks, DER elements and the openssl runner, on pure inputs.

The certificates are real ones, recorded in a compat profile (its chain's der_b64);
the DER edge cases are built byte by byte.  The runner runs the real openssl CLI
(`openssl version`, a failing subcommand) and a PATH without it.
"""
import base64
import json
from pathlib import Path

import pytest

from tlsfit.core import pki
from tlsfit.core.errors import IDENTITY, SERVERS, TlsfitError

COMPAT = Path(__file__).resolve().parent / "fixtures" / "compat"
CHAIN = [base64.b64decode(c["der_b64"])
         for c in json.loads((COMPAT / "openssl-ec-13.json").read_text())["chain"]]


def test_pem_text_round_trips_and_wraps_at_64():
    text = pki.pem_text(CHAIN[0])
    lines = text.splitlines()
    assert lines[0] == "-----BEGIN CERTIFICATE-----"
    assert lines[-1] == "-----END CERTIFICATE-----"
    assert text.endswith("-----END CERTIFICATE-----\n")
    assert {len(ln) for ln in lines[1:-2]} == {64}
    assert 0 < len(lines[-2]) <= 64
    assert pki.pem_certificates(text.encode()) == [CHAIN[0]]
    assert pki.pem_block(pki.pem_text(b"\x01\x02", "PUBLIC KEY").encode(),
                         "PUBLIC KEY") == b"\x01\x02"


def test_pem_certificates_in_order_with_crlf_indent_and_text_between():
    bundle = ("# a comment\r\n" + pki.pem_text(CHAIN[1]).replace("\n", "\r\n") + "junk\n"
              + "".join("  " + ln + "\n" for ln in pki.pem_text(CHAIN[0]).splitlines()))
    assert pki.pem_certificates(bundle.encode()) == [CHAIN[1], CHAIN[0]]
    blocks = pki.pem_certificate_blocks(bundle.encode())
    assert len(blocks) == 2
    assert blocks[0].startswith(b"-----BEGIN CERTIFICATE-----\r\n")
    assert blocks[0].endswith(b"-----END CERTIFICATE-----")
    assert pki.pem_certificates(CHAIN[0]) == []            # DER is not PEM


def test_pem_certificates_validate_refuses_a_stray_byte():
    text = pki.pem_text(CHAIN[0]).replace("\n", "\n*", 1).encode()
    assert pki.pem_certificates(text) == [CHAIN[0]]          # skipped by default
    with pytest.raises(ValueError):
        pki.pem_certificates(text, validate=True)


@pytest.mark.parametrize("last", [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20])
def test_decoded_der_keeps_a_trailing_whitespace_byte(last):
    """A DER value may end in a byte bytes.strip() takes for whitespace."""
    der = bytes([0x30, 0x03, 0x02, 0x01, last])
    assert pki.pem_block(pki.pem_text(der, "PUBLIC KEY").encode(), "PUBLIC KEY") == der
    assert pki.pem_private_key(pki.pem_text(der, "EC PRIVATE KEY").encode()) == der
    assert pki.pem_certificates(pki.pem_text(der).encode()) == [der]


def test_pem_private_key_labels():
    der = b"\x30\x01\x00"
    for label in ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"):
        assert pki.pem_private_key(pki.pem_text(der, label).encode()) == der
    assert pki.pem_private_key(pki.pem_text(der, "ENCRYPTED PRIVATE KEY").encode()) is None
    assert pki.pem_private_key(pki.pem_text(der).encode()) is None
    mismatched = b"-----BEGIN EC PRIVATE KEY-----\nMAEA\n-----END PRIVATE KEY-----\n"
    assert pki.pem_private_key(mismatched) is None
    assert pki.pem_block(pki.pem_text(der).encode(), "PUBLIC KEY") is None


def test_der_element_short_and_long_lengths():
    assert pki.der_element(b"\x30\x00", 0) == (0x30, 2, 2)
    assert pki.der_element(b"\x04\x02ab", 0) == (0x04, 2, 4)
    long_form = b"\x30\x81\x80" + bytes(128)
    assert pki.der_element(long_form, 0) == (0x30, 3, 131)
    assert pki.der_element(b"\x00\x02\x01\x00", 2) == (0x01, 4, 4)
    tag, body, end = pki.der_element(CHAIN[0], 0)
    assert (tag, end) == (0x30, len(CHAIN[0]))


@pytest.mark.parametrize("data", [b"\x30", b"\x30\x80", b"\x30\x85\x00\x00\x00\x00\x01",
                                  b"\x30\x82\x01", b"\x30\x03ab", b"\x30\x81\x05abcd"])
def test_der_element_refuses_what_runs_past_the_data(data):
    with pytest.raises(ValueError):
        pki.der_element(data, 0)


def test_der_children_of_a_certificate():
    _, body, end = pki.der_element(CHAIN[0], 0)
    parts = pki.der_children(CHAIN[0], body, end)
    assert [t for t, _ in parts] == [0x30, 0x30, 0x03]     # tbs, algorithm, signature
    assert b"".join(e for _, e in parts) == CHAIN[0][body:end]
    assert pki.der_children(b"", 0, 0) == []


def test_der_sequences_splits_a_der_bundle():
    assert pki.der_sequences(CHAIN[0]) == [CHAIN[0]]
    assert pki.der_sequences(b"".join(CHAIN)) == CHAIN
    assert pki.der_sequences(b"") == []
    for bad in (CHAIN[0][:-1], CHAIN[0] + b"\x30", b"\x04\x00", CHAIN[0] + b"\x02\x01\x00"):
        with pytest.raises(ValueError):
            pki.der_sequences(bad)


def test_openssl_checked_and_unchecked():
    assert pki.openssl(["version"], "asking", SERVERS).startswith(b"OpenSSL")
    with pytest.raises(TlsfitError) as e:
        pki.openssl(["x509", "-noout", "-subject"], "reading nothing", IDENTITY, stdin=b"x")
    assert e.value.code == IDENTITY
    assert str(e.value).startswith("reading nothing failed: ")
    done = pki.openssl(["x509", "-noout", "-subject"], "reading", IDENTITY, stdin=b"x",
                       check=False)
    assert done.returncode != 0 and done.stdout == b""
    subject = pki.openssl(["x509", "-noout", "-subject", "-nameopt", "RFC2253"], "reading",
                          IDENTITY, stdin=pki.pem_text(CHAIN[0]).encode())
    assert subject.startswith(b"subject=") and subject.endswith(b"\n")


def test_openssl_missing_names_the_next_step(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TlsfitError) as e:
        pki.openssl(["version"], "asking", SERVERS, hint="name the root with --ca")
    assert e.value.code == SERVERS
    assert str(e.value) == "the openssl command is not installed (name the root with --ca)"
    with pytest.raises(TlsfitError) as e:
        pki.openssl(["version"], "asking", SERVERS, missing_code=IDENTITY)
    assert e.value.code == IDENTITY
    assert str(e.value) == "the openssl command is not installed (run ./tlsfit setup)"


def test_openssl_config_sections_in_order_empty_lines_left_out():
    text = pki.openssl_config({"ca": [*pki.ca_lines(pathlen=0), ""],
                               "leaf": pki.leaf_lines("ec:P-256")})
    assert text == ("[req]\ndistinguished_name = dn\n[dn]\n[ca]\n"
                    "basicConstraints = critical, CA:true, pathlen:0\n"
                    "keyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n"
                    "[leaf]\nbasicConstraints = critical, CA:false\n"
                    "keyUsage = critical, digitalSignature\n"
                    "extendedKeyUsage = serverAuth, clientAuth\nsubjectKeyIdentifier = hash\n"
                    "authorityKeyIdentifier = keyid\n")
    assert pki.leaf_lines("rsa:2048")[1] == "keyUsage = critical, digitalSignature, keyEncipherment"
    assert pki.ca_lines(key_ids=False)[2] == "subjectKeyIdentifier = none"
