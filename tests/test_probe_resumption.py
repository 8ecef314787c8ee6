"""The probe's resumption step against openssl s_server on 127.0.0.1, configured for
each way of resuming (or not): the facts recorded are the server's configuration."""
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
