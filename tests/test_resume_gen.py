"""`tlsfit gen --resume`: session resumption in the header, as the probe proved the server
accepts it (header/resume.py, rules.toml [resumption]).

The pure tests edit the `resumption` facts of the shipped openssl-s_server profile (and
the compat profiles, which predate the resumption step) and check the mode chosen, the
options and values, the duties and the refusals.  The one live test starts openssl
s_server (TLS 1.3 tickets by default), probes it, generates with --resume and proves the
header with `tlsfit verify` (the first connection: the resuming second one is the
harness's, under TLSFIT_RESUME).
"""
import copy
import functools
import json
import re
import tomllib
from pathlib import Path

import pytest

from tlsfit.cli import main as cli
from tlsfit.core.errors import REFUSED, RESUME, USAGE, TlsfitError
from tlsfit.header import gen, refit, rules as rules_mod
from tlsfit.header.commands import regenerate_command
from tlsfit.header.explain import explain
from tlsfit.header.types import GenOptions
from tlsfit.host import verify
from tlsfit.lab import refservers
from tlsfit.mbedtls.tree import resolve_tree
from tlsfit.profile import model

REPO = Path(__file__).resolve().parent.parent
T12 = {"session_id": True, "ticket": True, "ticket_len": 176, "ticket_lifetime_s": 7200}
T13 = {"tickets": 2, "psk_dhe_ke": True, "psk_ke": False, "ticket_len": 192,
       "ticket_lifetime_s": 7200}
NO12 = {"session_id": False, "ticket": False, "ticket_len": None, "ticket_lifetime_s": None}
NO13 = {"tickets": 0, "psk_dhe_ke": False, "psk_ke": False, "ticket_len": None,
        "ticket_lifetime_s": None}
SIGNAL = ("mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(&conf, "
          "MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED)")


@functools.lru_cache(maxsize=None)
def _loaded(path):
    return model.load(path)


def openssl(tls12=T12, tls13=T13, host=None):
    """The shipped openssl-s_server profile (TLS 1.2 and 1.3) with these resumption facts."""
    doc = copy.deepcopy(_loaded(REPO / "profiles" / "openssl-s_server.json"))
    doc["resumption"] = {"TLSv1.2": dict(tls12), "TLSv1.3": dict(tls13)}
    if host:
        doc["target"]["host"] = doc["target"]["sni"] = host
    model.validate(doc)
    return doc


def plan_of(doc, **opts):
    return gen.generate(doc, GenOptions(resume=True, **opts))


def define(text, name):
    """(value or True, comment) of `#define name`, or None."""
    m = re.search(rf"^#define {name}\b(.*?)(?:/\* (.*) \*/)?$", text, re.M)
    return None if m is None else (m.group(1).strip() or True, m.group(2))


def refused(doc_or_docs, code, **opts):
    with pytest.raises(TlsfitError) as e:
        if isinstance(doc_or_docs, list):
            gen.generate_device(doc_or_docs, GenOptions(resume=True, **opts))
        else:
            plan_of(doc_or_docs, **opts)
    assert e.value.code == code, e.value.message
    assert "\n" not in e.value.message
    return e.value.message


# ------------------------------------------------------------------ each mode

def test_tls12_session_id_needs_no_option():
    plan = plan_of(openssl(), tls="1.2")
    text = plan.text
    assert define(text, "TLSFIT_RESUME")[0] == "1"
    assert define(text, "TLSFIT_RESUME_MODE")[0] == '"tls12-session-id"'
    for off in ("MBEDTLS_SSL_SESSION_TICKETS",
                "MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED",
                "MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED"):
        assert define(text, off) is None, off
    assert " * Resumption (--resume): tls12-session-id -- server resumed a TLS 1.2 session " \
           "by its ID" in text
    duty, = [d for d in plan.duties if "mbedtls_ssl_get_session" in d]
    assert "mbedtls_ssl_set_session(&ssl, &saved)" in duty and SIGNAL not in duty
    assert "session cache decides how long" in duty
    assert plan.facts["resume"] == [{"server": "127.0.0.1:43587", "version": "TLSv1.2",
                                     "mode": "tls12-session-id", "options": [],
                                     "why": plan.facts["resume"][0]["why"]}]


def test_tls12_ticket_when_the_session_id_did_not_resume():
    plan = plan_of(openssl(tls12={**T12, "session_id": False}), tls="1.2")
    text = plan.text
    assert define(text, "TLSFIT_RESUME_MODE")[0] == '"tls12-ticket"'
    assert define(text, "MBEDTLS_SSL_SESSION_TICKETS") == (
        True, "gen --resume: server resumed a TLS 1.2 ticket: lifetime 7200 s, 176 B")
    assert define(text, "MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED") is None
    assert any("the server's ticket lives 7200 s" in d for d in plan.duties)
    # the input buffer names the TLS 1.2 NewSessionTicket it must hold: 176 + 10 bytes
    assert "its TLS 1.2 NewSessionTicket 186 bytes (176-byte ticket + 10)" in \
        define(text, "MBEDTLS_SSL_IN_CONTENT_LEN")[1]


def test_tls13_ticket_with_psk_dhe_ke():
    plan = plan_of(openssl(), tls="1.3")
    text = plan.text
    fact = ("gen --resume: server resumed a TLS 1.3 ticket with a fresh (EC)DHE (psk_dhe_ke): "
            "2 tickets, lifetime 7200 s, 192 B")
    assert define(text, "TLSFIT_RESUME_MODE")[0] == '"tls13-ticket"'
    assert define(text, "MBEDTLS_SSL_SESSION_TICKETS") == (True, fact)
    assert define(text, "MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED") == \
        (True, fact)
    assert define(text, "MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED") is None
    duty, = [d for d in plan.duties if SIGNAL in d]
    assert "MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET" in duty
    assert duty.index(SIGNAL) < duty.index("mbedtls_ssl_get_session") < \
        duty.index("mbedtls_ssl_set_session")
    assert "the server's ticket lives 7200 s" in duty
    assert "2 x (192-byte ticket + 280)" in define(text, "MBEDTLS_SSL_IN_CONTENT_LEN")[1]


def test_tls13_prefers_psk_dhe_ke_when_both_resumed():
    text = plan_of(openssl(tls13={**T13, "psk_ke": True}), tls="1.3").text
    assert define(text, "MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED")
    assert define(text, "MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED") is None


def test_tls13_psk_ke_alone():
    text = plan_of(openssl(tls13={**T13, "psk_dhe_ke": False, "psk_ke": True}), tls="1.3").text
    assert define(text, "MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED") == (
        True, "gen --resume: server resumed a TLS 1.3 ticket alone, without (EC)DHE (psk_ke): "
              "2 tickets, lifetime 7200 s, 192 B")
    assert define(text, "MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED") is None


def test_the_mode_follows_the_version_the_header_negotiates():
    """auto picks TLS 1.2 for this server (cheapest): its session ID, not its tickets."""
    plan = plan_of(openssl())
    assert plan.chosen[0].version == "TLSv1.2"
    assert define(plan.text, "TLSFIT_RESUME_MODE")[0] == '"tls12-session-id"'


# ------------------------------------------------------------------ refusals

def test_refused_when_the_server_resumed_nothing():
    msg = refused(openssl(tls12=NO12, tls13=NO13), REFUSED, tls="1.2")
    assert msg == ("gen --resume: 127.0.0.1:43587: it resumed no TLS 1.2 session when probed "
                   "(by session ID: no, by ticket: no): drop --resume")


def test_refusal_names_tls13_resumption_the_header_does_not_negotiate():
    msg = refused(openssl(tls12=NO12), REFUSED, tls="1.2")
    assert msg.endswith("; it resumed a TLS 1.3 ticket, but the header negotiates TLS 1.2 "
                        "with it (--tls 1.2): --tls 1.3, or drop --resume")


def test_228_says_tls13_resumption_is_not_available():
    msg = refused(openssl(tls12=NO12), REFUSED, line="2.28")
    assert "TLS 1.3 resumption is not available in mbedTLS 2.28" in msg
    assert msg.endswith("--mbedtls 3.6, or drop --resume")


def test_tls13_tickets_issued_but_never_resumed():
    msg = refused(openssl(tls13={**T13, "psk_dhe_ke": False}), REFUSED, tls="1.3")
    assert "it issued 2 TLS 1.3 ticket(s) when probed but resumed with neither psk_dhe_ke " \
           "nor psk_ke" in msg
    assert "it resumed TLS 1.2 sessions, but the header negotiates TLS 1.3" in msg


def test_a_profile_from_before_the_resumption_step_is_exit_54():
    doc = copy.deepcopy(_loaded(REPO / "tests" / "fixtures" / "compat" / "openssl-ec-13.json"))
    assert "resumption" not in doc
    msg = refused(doc, RESUME)
    assert "the profile has no resumption facts (it predates the probe's resumption step): " \
           "re-probe the server with tlsfit probe, or drop --resume" in msg


def test_unknown_facts_are_exit_54_with_the_steps_note():
    doc = openssl(tls12={k: None for k in T12}, tls13={k: None for k in T13})
    doc["steps"]["resumption.TLSv1.2"] = {"status": "ok", "note": "not tried: a reason"}
    msg = refused(doc, RESUME, tls="1.2")
    assert msg.endswith("the probe could not tell how it resumes TLSv1.2 sessions "
                        "(not tried: a reason): drop --resume")


# ------------------------------------------------------------------ several servers

def test_device_resumes_each_server_that_resumes():
    a, b = openssl(host="a.example"), openssl(tls12=NO12, tls13=NO13, host="b.example")
    plan = gen.generate_device([a, b], GenOptions(resume=True, tls="1.3"), ["a", "b"])
    text = plan.text
    assert define(text, "TLSFIT_RESUME_MODE")[0] == '"tls13-ticket"'
    assert " * Resumption (--resume) for server 1 (a.example:43587): tls13-ticket -- " in text
    assert " * Resumption (--resume) for server 2 (b.example:43587): none -- it issued no " \
           "TLS 1.3 ticket when probed: drop --resume" in text
    assert any(w.startswith("server 2 (b.example:43587): no resumption:")
               for w in plan.warnings)
    assert define(text, "MBEDTLS_SSL_SESSION_TICKETS")[1].startswith(
        "server 1 (a.example:43587): gen --resume: server resumed a TLS 1.3 ticket")


def test_device_with_two_modes_names_each():
    a = openssl(host="a.example")
    b = copy.deepcopy(_loaded(REPO / "profiles" / "lighttpd-mbedtls.json"))   # TLS 1.2 only
    plan = gen.generate_device([a, b], GenOptions(resume=True), ["a", "b"])
    modes = [f["mode"] for f in plan.facts["resume"]]
    assert define(plan.text, "TLSFIT_RESUME_MODE")[0] == f'"{",".join(modes)}"'
    assert modes[1] == "tls12-ticket"
    assert define(plan.text, "MBEDTLS_SSL_SESSION_TICKETS")


def test_device_refused_when_no_server_resumes():
    a, b = openssl(NO12, NO13, host="a.example"), openssl(NO12, NO13, host="b.example")
    msg = refused([a, b], REFUSED, tls="1.2")
    assert msg.startswith("gen --resume: server 1 (a.example:43587): it resumed no TLS 1.2 "
                          "session when probed")
    assert "; server 2 (b.example:43587): it resumed no TLS 1.2" in msg


# ------------------------------------------------------------------ without --resume

def test_without_resume_the_facts_change_nothing():
    doc = openssl()
    bare = copy.deepcopy(doc)
    del bare["resumption"]
    for tls in ("1.2", "1.3"):
        assert gen.generate(doc, GenOptions(tls=tls)).text == \
            gen.generate(bare, GenOptions(tls=tls)).text


def test_tls13_tickets_larger_than_every_record_raise_the_input_buffer():
    """A deliberate fix: 3.6 reads a TLS 1.3 NewSessionTicket whole even when it drops it."""
    doc = openssl(tls13={**T13, "ticket_len": 4000})
    value, why = define(gen.generate(doc, GenOptions(tls="1.3")).text,
                        "MBEDTLS_SSL_IN_CONTENT_LEN")
    assert value == "8960"          # 2 x (4000 + 280) + 256, rounded up to 256
    assert "its TLS 1.3 NewSessionTickets up to 8560 bytes" in why


# ------------------------------------------------------------------ passing it on

def test_regenerate_fit_report_and_explain_carry_resume():
    opts = GenOptions(resume=True)
    assert regenerate_command(["p.json"], opts).endswith(" --resume")
    assert "--resume" not in regenerate_command(["p.json"], GenOptions())
    assert refit.choices(opts)["resume"] is True and "resume" not in refit.choices(GenOptions())
    report = {"gen_options": refit.choices(opts)}
    assert refit.apply(GenOptions(), report).resume is True
    with pytest.raises(TlsfitError) as e:
        refit.apply(opts, {"gen_options": refit.choices(GenOptions())}, "r.json")
    assert e.value.code == USAGE and "fit again with tlsfit fit --resume" in e.value.message
    out = explain(plan_of(openssl(), tls="1.3"))
    assert re.search(r"^  on  MBEDTLS_SSL_SESSION_TICKETS .*gen --resume: server resumed a "
                     r"TLS 1.3 ticket", out, re.M)
    assert re.search(r"^  off MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED .*gen --resume: "
                     r"no server resumes tls13-ticket \(psk_ke\)", out, re.M)


# ------------------------------------------------------------------ live

@pytest.mark.server
def test_resume_header_from_a_probe_builds_and_verifies(pki, run_probe, server_logs, tmp_path):
    """openssl s_server's defaults: two TLS 1.3 tickets, resumed with psk_dhe_ke.  The
    probe's time and port are pinned before gen (they only reach comments), so the header
    is the same bytes on every run and verify's build cache serves it after the first."""
    tree = resolve_tree(line="3.6")
    with refservers.openssl_server(pki.ec, log_dir=server_logs) as srv:
        res = run_probe(srv.hostport, "--sni", "localhost", "--ca", pki.ec.root.pem)
        assert res.returncode == 0, res.explain()
        assert res.profile["resumption"]["TLSv1.3"] == T13
        doc = dict(res.profile, probed_at="2026-01-01T00:00:00Z",
                   target=dict(res.profile["target"], port=4433))
        plan = gen.generate(model.validate(doc), GenOptions(tls="1.3", resume=True),
                            "probed-openssl-s_server.json")
        cfg = tmp_path / "tls_config.h"
        cfg.write_text(plan.text)
        result = verify.verify(cfg, "127.0.0.1", srv.port, sni="localhost", ca=pki.ec.root.pem,
                               mbedtls_dir=tree.path)
    assert [(f["mode"], f["options"]) for f in plan.facts["resume"]] == [
        ("tls13-ticket", ["MBEDTLS_SSL_SESSION_TICKETS",
                          "MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED"])]
    assert define(plan.text, "TLSFIT_RESUME_MODE")[0] == '"tls13-ticket"'
    assert result["ok"] is True, json.dumps(result.to_json(), indent=1)
    assert result["version"] == "TLSv1.3"


def test_cli_resume_flag(capsys):
    """The flag through the CLI: the JSON decision carries the mode; a profile from before
    the resumption step is exit 54 with its one line."""
    assert cli.main(["gen", str(REPO / "profiles" / "lighttpd-mbedtls.json"), "--resume",
                     "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["resumption"][0]["mode"] == "tls12-ticket"
    assert doc["values"]["TLSFIT_RESUME_MODE"] == '"tls12-ticket"'
    assert cli.main(["gen", str(REPO / "tests/fixtures/compat/openssl-ec-13.json"),
                     "--resume"]) == RESUME
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "predates the probe's resumption step" in err[0]


@pytest.mark.parametrize("edit, message", [
    (lambda r: r["modes"][0].update(options=["MBEDTLS_NO_SUCH_C"]),
     "rules.toml: resumption.modes[0]: unknown option MBEDTLS_NO_SUCH_C"),
    (lambda r: r["modes"][2].update(owes="tls14"),
     "rules.toml: resumption.modes[2]: unknown version or `owes` key"),
    (lambda r: r["modes"][1].pop("reason"),
     "rules.toml: resumption.modes[1]: needs exactly the keys"),
])
def test_rules_check_the_resumption_table(edit, message):
    doc = tomllib.loads(rules_mod.RULES_PATH.read_text(encoding="utf-8"))
    edit(doc["resumption"])
    with pytest.raises(rules_mod.RulesError) as e:
        rules_mod.check(doc)
    assert e.value.message.startswith(message), e.value.message
