"""Assembling a header's plan from the servers it serves, their candidates chosen: the
union of their wants with the opt-in features (the device's identity, driver-only ECC,
the device's TRNG) and fit's overrides applied, the values, the header's facts, the
application's duties, and the rendered text."""
from dataclasses import replace

from .. import __version__
from . import anchor as anchor_mod, client as client_mod, psk as psk_mod, render, resume as resume_mod
from .alpn import alpn_values
from .commands import ca_arg, prove_command, regenerate_command
from .drivers import choose_ecc, driver_wants, routes
from .dtls import dtls_duties, dtls_notes, dtls_values, dtls_wants
from .duties import duties
from .groups import group_pin
from .optionsets import (MFL_BYTES, MFL_CODE, alpn_wants, any_of, base_wants, candidate_wants,
                         extension_wants, sni_wants)
from .servers import mfl_blocked, tagged
from .sizes import joint_in_len, size_values
from .trng import add_external_rng, rng_provided
from .types import HeaderPlan, Refusal
from .wants import merge


def assemble_plan(servers, opts, overrides, command, rules, cost, pol, considered, warnings):
    """The HeaderPlan, rendered, of a header that serves `servers` (their candidates
    chosen; considered and warnings: the selection's; command: the header's Regenerate
    line, None for regenerate_command()'s).  The options are the union of what the base
    and every server need, with the opt-in features applied in order:
    the device's identity (opts.client), the record limit (left out where a server or
    the identity blocks it), driver-only ECC (opts.ecc), the device's TRNG
    (opts.external_rng); then fit's `overrides` (removed options, measured sizes, added
    options, knob settings), the values, the header's facts and the duties."""
    line = opts.line
    resumed = resume_mod.choose_all(servers, opts, rules, cost) if opts.resume else None
    wanted, more_warnings, asked, mfl_dropped = _wanted(servers, opts, rules, resumed)
    warnings = list(warnings) + more_warnings
    driver, ecc_note = choose_ecc(servers, opts, rules)
    enabled, rng_facts = _enabled(wanted, driver, servers, opts, rules, cost)
    for name in overrides.exclude:
        enabled.pop(name, None)
    values = _values(servers, enabled, rules, opts, mfl_dropped, asked, rng_facts)
    if resumed:
        values.update(resume_mod.values(resumed))
    _apply_fit(enabled, values, overrides)
    apply_knobs(enabled, values, rules, line, overrides.knob_values)
    for name, (value, why) in (driver.values.items() if driver else ()):
        if name in values and name not in overrides.knob_values:
            values[name] = (value, f"driver-only P-256: {why}")
    chosen = [c for i, s in enumerate(servers) for c in s.chosen
              if c not in [d for t in servers[:i] for d in t.chosen]]
    suites = []
    for c in chosen:
        if suite_macro(c.suite) not in suites:
            suites.append(suite_macro(c.suite))
    plan = HeaderPlan(line=line, policy=pol.name,
                      target=", ".join(s.doc.target.hostport for s in servers),
                      chosen=chosen, options=enabled, values=values, ciphersuites=suites,
                      warnings=warnings, duties=duties(servers, enabled, opts, values) +
                      (resume_mod.duties(resumed) if resumed else []) + dtls_duties(values),
                      considered=considered, cost=cost(set(enabled)),
                      facts=_facts(servers, opts, command, pol, driver, ecc_note, rng_facts,
                                   rules, resumed),
                      servers=tuple(s.facts(line, opts.client, psk_arg(s, opts, rules))
                                    for s in servers))
    return replace(plan, text=render.header(plan, rules))


def _wanted(servers, opts, rules, resumed=None):
    """(wanted, the identity's and resumption's warnings, the identity when a server asks
    for it, why max_fragment_length is left out or None): the union of the base's and
    every server's wants, with the device's identity and resumption (resumed: the
    resume.ResumeChoice per server, gen --resume), the record limit left out when blocked."""
    line = opts.line
    asks = opts.client if any(s.doc.client_cert_requested for s in servers) else None
    in_len, _ = joint_in_len(servers, line, opts.resume, asks)
    identity = _identity_wants(servers, opts, rules) if opts.client is not None else None
    resuming = resume_mod.wants(resumed) if resumed else [{}] * len(servers)
    wanted = merge(base_wants(None, rules, opts),
                   tagged(servers, [merge(_server_wants(s, rules, opts, in_len),
                                          identity[i][0] if identity else {}, resuming[i])
                                    for i, s in enumerate(servers)]))
    more = [w for _, ws in identity for w in ws] if identity else []
    more += resume_mod.warnings(resumed) if resumed else []
    mfl_dropped = mfl_blocked(servers) if "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH" in wanted else None
    asked = opts.client if any(s.doc.client_cert_requested for s in servers) else None
    if asked is not None and "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH" in wanted and not mfl_dropped:
        mfl_dropped = client_mod.mfl_blocked(asked, MFL_BYTES)
    if mfl_dropped:
        wanted.pop("MBEDTLS_SSL_MAX_FRAGMENT_LENGTH")
    if psk_mod.psk_only(servers, rules):
        wanted = psk_mod.without_certificates(wanted, rules)
        more += [w for w in {psk_mod.no_sni_warning(rules, s.doc) for s in servers} if w]
    return wanted, more, asked, mfl_dropped


def _enabled(wanted, driver, servers, opts, rules, cost):
    """(enabled, the TRNG's facts or None): wanted with the driver's options in place of
    what it provides, closed under `requires` (what the driver or the device's TRNG
    provides counts as met), defects routed around, the TRNG's own options added."""
    line = opts.line
    rng = rng_provided(opts, rules)
    provided = {**(driver.provides if driver else {}), **rng}
    if driver:
        wanted = driver_wants(wanted, driver, servers, rules)
    enabled = rules.closure(any_of(wanted, rules, line, cost, rng), line, cost, provided)
    if driver:
        enabled = routes(enabled, servers, rules, line, cost, provided)
    rng_facts = add_external_rng(enabled, rules, line) if rng else None
    return enabled, rng_facts


def _values(servers, enabled, rules, opts, mfl_dropped, asked, rng_facts):
    """{name: (value, reason)}: the sizes, the TRNG's marker, the group list, the record
    limit to ask for and the application protocols to offer."""
    line = opts.line
    values = size_values(servers, enabled, rules, line, mfl_dropped, asked, opts.resume)
    if rng_facts:
        name, value, why = rules.external_rng.marker
        values[name] = (value, why)
    values.update(group_pin(servers, rules, line))
    if "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH" in enabled:
        values["TLSFIT_MAX_FRAG_LEN"] = (
            MFL_CODE, "pass to mbedtls_ssl_conf_max_frag_len() before mbedtls_ssl_setup(): the "
                      f"server then sends records of at most {MFL_BYTES} bytes")
    if "MBEDTLS_SSL_ALPN" in enabled:
        values.update(alpn_values(servers, opts))
    if opts.psk is not None and any(psk_mod.is_psk(c, rules) for s in servers for c in s.chosen):
        values.update(psk_mod.values(opts.psk))
    dtls_values(servers, enabled, values)
    return values


def _apply_fit(enabled, values, overrides):
    """fit's measured sizes and added options, in place."""
    for name, value in overrides.sizes.items():
        values[name] = (value, f"chosen by tlsfit fit: the smallest value whose handshake verified "
                               f"on the target (gen's setting: {values[name][0]}; "
                               f"{values[name][1]})")
    for name, why in overrides.extra.items():
        enabled.setdefault(name, []).append(why)


def psk_arg(server, opts, rules):
    """opts.psk when a candidate chosen for server authenticates it by the key, else None."""
    return opts.psk if any(psk_mod.is_psk(c, rules) for c in server.chosen) else None


def _facts(servers, opts, command, pol, driver, ecc_note, rng_facts, rules, resumed=None):
    """The header's facts: its first server's profile and commands, the options that
    change the text, the ECC, anchor, TRNG, identity and resumption notes."""
    first, line = servers[0], opts.line
    facts = {"profile": first.name, "probed_at": first.doc.probed_at,
             "prove": prove_command(first.doc, line, opts.client, psk_arg(first, opts, rules)),
             "sni": first.doc.target.sni,
             "anchor": first.chain.anchor["subject"] if first.chain.anchor else None,
             "regenerate": command or regenerate_command([s.name for s in servers], opts),
             "tlsfit": __version__, "policy_summary": pol.summary,
             "time": opts.time, "tls": opts.tls,
             "ecc": "p256m" if driver else "builtin", "ecc_note": ecc_note,
             "anchor_note": _anchor_notes(servers, opts)}
    if rng_facts:
        facts["rng"] = rng_facts
    if resumed:
        facts["resume"] = resume_mod.facts(resumed)
        facts["resume_lines"] = resume_mod.comment_lines(resumed)
    facts["dtls"] = dtls_notes(servers, rules, opts.line)
    if opts.client is not None:
        facts["client"] = opts.client.facts()
    placed = [s.placement.facts() for s in servers if s.placement is not None]
    if placed:
        facts["anchoring"] = dict(placed[0], servers=[s.index for s in servers
                                                      if s.placement is not None])
    return facts


def _server_wants(server, rules, opts, in_len):
    """{option: [reasons]} one server needs: its name, the application protocols it is
    offered, its chain, its chosen candidates and the extensions they use."""
    doc, line = server.doc, opts.line
    named = merge(sni_wants(doc, rules), alpn_wants(doc, rules, opts, server.index))
    sni = {k: v for k, v in named.items() if rules.available(k, line)}
    return merge(sni, server.chain.options,
                 *[candidate_wants(c, rules, line) for c in server.chosen],
                 extension_wants(doc, list(server.chosen), rules, line, in_len),
                 dtls_wants(doc, rules, line))


def _anchor_notes(servers, opts):
    """The header's lines on every anchor that is not a root (anchor.trade_off): what
    the device then trusts and what it never checks."""
    out, seen = [], set()
    for s in servers:
        a = s.chain.anchor
        if a is None or not anchor_mod.is_intermediate(a) or a["subject"] in seen:
            continue
        seen.add(a["subject"])
        same = [t for t in servers if t.chain.anchor and t.chain.anchor["subject"] == a["subject"]]
        names = [t.doc.target.sni or t.doc.target.host for t in same]
        p = s.placement
        source = f"--anchor {p.cert.name}" if p is not None else \
            (f"from {ca_arg(a.get('source'))}" if ca_arg(a.get("source")) else None)
        out += anchor_mod.trade_off(a, list(dict.fromkeys(names)), opts.time,
                                    p.above if p is not None else (), source)
    return out


def _identity_wants(servers, opts, rules):
    """[(wants, warnings)] per server for the device's identity; a server whose
    CertificateRequest allows no scheme the key signs with is refused."""
    out = []
    for s in servers:
        try:
            out.append(client_mod.client_wants(s, opts.client, rules, opts.line))
        except client_mod.ClientRefusal as e:
            who = f"{s.who}: " if len(servers) > 1 else f"{s.doc.target.hostport}: "
            raise Refusal(who + e.message) from None
    return out


def apply_knobs(enabled, values, rules, line, knob_values):
    """rules.toml [knobs] at their lean setting, or as fit chose them (knob_values)."""
    for k in rules.knobs_for(enabled, line):
        default = (k.value if k.value is not None else True) if k.default else None
        value = knob_values.get(k.name, default)
        if value is None or value is False:
            continue                      # fit turned this knob off
        why = k.why
        if value != default:
            lean = "off" if default is None else ("on" if default is True else default)
            why = f"chosen by tlsfit fit from measurements (gen's lean setting: {lean}; {k.why})"
        if k.value is None:
            enabled[k.name] = [why]
        else:
            values[k.name] = (value, why)


def suite_macro(name):
    """The mbedTLS macro of a suite (MBEDTLS_TLS1_3_... for a TLS 1.3 suite)."""
    if name.startswith("TLS_") and "_WITH_" not in name:
        return "MBEDTLS_TLS1_3_" + name[len("TLS_"):]
    return "MBEDTLS_" + name
