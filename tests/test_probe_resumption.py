"""The probe's resumption step against openssl s_server on 127.0.0.1, configured for
each way of resuming (or not): the facts recorded are the server's configuration."""
from pathlib import Path

import pytest

from tlsfit.lab import refservers

T12 = {"session_id": True, "ticket": True, "ticket_len": 176, "ticket_lifetime_s": 7200}
T13 = {"tickets": 2, "psk_dhe_ke": True, "psk_ke": False, "ticket_len": 192,
       "ticket_lifetime_s": 7200}


@pytest.mark.parametrize("args, tls12, tls13", [
    # OpenSSL 3.0's defaults: a session cache, stateless tickets (lifetime 7200 s), two
    # TLS 1.3 tickets per handshake, resumption only with a fresh (EC)DHE.
    ((), T12, T13),
    # -no_ticket: TLS 1.2 issues no ticket (the session ID still resumes); TLS 1.3 tickets
    # become 32-byte references into the server's cache, still resumable.
    (("-no_ticket",), {**T12, "ticket": False, "ticket_len": None, "ticket_lifetime_s": None},
     {**T13, "ticket_len": 32}),
    # -num_tickets 0: no TLS 1.3 ticket, so no TLS 1.3 resumption.
    (("-num_tickets", "0"), T12, {**T13, "tickets": 0, "psk_dhe_ke": False,
                                  "ticket_len": None, "ticket_lifetime_s": None}),
    # -allow_no_dhe_kex: a TLS 1.3 ticket alone resumes too (psk_ke).
    (("-allow_no_dhe_kex",), T12, {**T13, "psk_ke": True}),
], ids=["defaults", "no_ticket", "num_tickets_0", "allow_no_dhe_kex"])
def test_resumption_facts_are_the_servers(pki, run_probe, server_logs, args, tls12, tls13):
    with refservers.openssl_server(pki.ec, *args, log_dir=server_logs) as srv:
        res = run_probe(srv.hostport, "--sni", "localhost", "--ca", pki.ec.root.pem)
    assert res.returncode == 0, res.explain()
    doc = res.profile
    assert doc["resumption"] == {"TLSv1.2": tls12, "TLSv1.3": tls13}
    assert doc["steps"]["resumption.TLSv1.2"]["status"] == "ok"
    assert doc["steps"]["resumption.TLSv1.3"]["status"] == "ok"


def test_no_session_cache_no_resumption_by_id(pki, run_probe, server_logs):
    """-no_cache with -no_ticket: nothing the server keeps, nothing resumes in TLS 1.2."""
    with refservers.openssl_server(pki.ec, "-no_cache", "-no_ticket", "-tls1_2",
                                   log_dir=server_logs) as srv:
        res = run_probe(srv.hostport, "--sni", "localhost", "--ca", pki.ec.root.pem)
    assert res.returncode == 0, res.explain()
    assert res.profile["resumption"] == {"TLSv1.2": {"session_id": False, "ticket": False,
                                                     "ticket_len": None,
                                                     "ticket_lifetime_s": None}}


@pytest.fixture(scope="module")
def devices(pki, tmp_path_factory):
    """Two device identities of the standard PKI's client CA (P-256)."""
    d = tmp_path_factory.mktemp("probe-devices")
    return [refservers.make_client_cert(pki.client_ca, d, f"device{i}", "ec:P-256")
            for i in (1, 2)]


def test_a_server_that_requires_a_client_certificate_resumes_with_the_devices(
        pki, run_probe, server_logs, devices):
    """openssl s_server -Verify 1: without an identity the step is not tried and says
    what to give; with the device's certificate and key (--client-cert, --client-key) both
    versions' facts are the server's defaults, and every ticket holds the device's
    certificate (OpenSSL keeps the peer's certificate in the session it seals).  Neither
    file's path lands in the profile."""
    dev = devices[0]
    with refservers.openssl_server(pki.ec, "-Verify", "1", "-CAfile", pki.client_ca.pem,
                                   log_dir=server_logs) as srv:
        bare = run_probe(srv.hostport, "--sni", "localhost", "--ca", pki.ec.root.pem)
        mtls = run_probe(srv.hostport, "--sni", "localhost", "--ca", pki.ec.root.pem,
                         "--client-cert", dev.pem, "--client-key", dev.key)
    assert bare.returncode == 0, bare.explain()
    for v in ("TLSv1.2", "TLSv1.3"):
        assert set(bare.profile["resumption"][v].values()) == {None}
        assert "--client-cert and --client-key" in bare.profile["steps"][f"resumption.{v}"]["note"]
    assert mtls.returncode == 0, mtls.explain()
    got = mtls.profile["resumption"]
    cert_len = len(refservers.pem_to_der(dev.pem))
    assert got["TLSv1.2"]["ticket_len"] > cert_len and got["TLSv1.3"]["ticket_len"] > cert_len
    assert got == {"TLSv1.2": {**T12, "ticket_len": got["TLSv1.2"]["ticket_len"]},
                   "TLSv1.3": {**T13, "ticket_len": got["TLSv1.3"]["ticket_len"]}}
    assert "device's certificate" in mtls.profile["steps"]["resumption.TLSv1.3"]["note"]
    text = Path(mtls.argv[-2]).read_text()          # the profile, as written (-o FILE)
    assert str(dev.key) not in text and str(dev.pem) not in text


def test_a_key_that_is_not_the_certificates_is_refused_before_any_connection(
        pki, run_probe, devices):
    """The prober checks the pair first: exit 2, one line naming both files."""
    res = run_probe("127.0.0.1:9", "--client-cert", devices[0].pem,
                    "--client-key", devices[1].key)
    assert res.returncode == 2, res.explain()
    assert res.stderr.count("\n") == 1
    assert f"--client-key {devices[1].key} is not the key of --client-cert {devices[0].pem}" \
        in res.stderr
    res = run_probe("127.0.0.1:9", "--client-cert", devices[0].pem)
    assert res.returncode == 2 and "go together" in res.stderr, res.explain()
