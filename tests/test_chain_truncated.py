"""Issue 16: a Certificate message with more certificates than the prober keeps (16) is
flagged in the profile (chain_truncated) and in the summary, not cut without a word."""
import json

import pytest

from conftest import REPO
from tlsfit.lab import refservers
from tlsfit.profile import model as profile, summary
from tlsfit.core.errors import PROFILE, TlsfitError

SAMPLE = REPO / "tests" / "fixtures" / "profile-v1.json"


def test_probe_flags_a_chain_cut_to_16(pki, server_logs, run_probe, tmp_path):
    # the leaf, then its intermediate 39 times: 40 certificates, all parsed, 16 kept
    served = tmp_path / "forty.pem"
    served.write_text(pki.ec.inter.pem.read_text() * 39)
    with refservers.openssl_server(pki.ec, "-tls1_2", log_dir=server_logs,
                                   chain_file=served) as srv:
        res = run_probe(srv.hostport, timeout=120)
    assert res.returncode == 0, res.explain()
    doc = res.profile
    assert len(doc["chain"]) == 16
    assert doc["chain_truncated"] == {"sent": 40, "kept": 16}
    text = summary.format_summary(doc)
    assert ("  truncated: the server sent 40 certificates; the profile keeps the first 16 "
            "(the path and the anchor are found among those)") in text.splitlines()


def test_probe_of_a_short_chain_has_no_flag(pki, server_logs, run_probe):
    with refservers.openssl_server(pki.ec, "-tls1_2", log_dir=server_logs) as srv:
        res = run_probe(srv.hostport, timeout=120)
    assert res.returncode == 0, res.explain()
    assert "chain_truncated" not in res.profile
    assert "truncated" not in summary.format_summary(res.profile)


def _error(doc):
    with pytest.raises(TlsfitError) as info:
        profile.validate(doc, "p.json")
    assert info.value.code == PROFILE
    return info.value.message


def test_chain_truncated_is_validated():
    doc = json.loads(SAMPLE.read_text())
    n = len(doc["chain"])
    doc["chain_truncated"] = {"sent": 500, "kept": n}
    profile.validate(doc)
    assert f"  truncated: the server sent 500 certificates; the profile keeps the first {n} " \
           in summary.format_summary(doc)
    doc["chain_truncated"] = {"sent": 500, "kept": 16}
    assert _error(doc) == f"p.json: field chain_truncated.kept: is 16, but chain has {n} certificates"
    doc["chain_truncated"] = {"sent": n, "kept": n}
    assert _error(doc) == (f"p.json: field chain_truncated.sent: {n} is below the minimum {n + 1}")
    doc["chain_truncated"] = {"sent": 10 ** 30, "kept": n}
    assert "field chain_truncated.sent: a 31-digit integer is above the maximum" in _error(doc)
    doc["chain_truncated"] = {"kept": n}
    assert _error(doc) == "p.json: field chain_truncated.sent: missing"
    doc["chain_truncated"] = [500, n]
    assert _error(doc) == "p.json: field chain_truncated: expected an object, got a list of 2"
