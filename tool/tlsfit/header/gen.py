"""`tlsfit gen`: the smallest mbedTLS configuration that can talk to a probed server.

    plan = generate(profile_doc, GenOptions(line="3.6"))   # HeaderPlan, or Refusal
    plan.text                                               # the header
    plan.chosen, plan.options, plan.values, plan.warnings, plan.considered

How a header is chosen
  1. The path from the leaf to the trust anchor fixes options every candidate needs: each
     certificate's key must parse (key type, curve, RSA size -> MBEDTLS_MPI_MAX_SIZE) and
     each signature checked on the way to the anchor needs its algorithm and hash.
  2. Every (version, suite, group, signature scheme) the server accepts is a candidate;
     the rules (rules.toml) give each the options it needs, closed under `requires`.
  3. The policy (policy.py) filters candidates; known library defects (rules.toml
     [[defects]]) remove the ones that would fail.  The cheapest remaining option set
     wins, costed by the measured flash size of the library objects it compiles in
     (costs.json); ties go by rules.toml [preference].  compat keeps a second suite.
  4. Sizes come from the profile's records; knobs (rules.toml [knobs]) apply; the
     Jinja2 template for the line (templates/mbedtls-<line>.h.j2) renders the header,
     every option with the server fact that needs it.
Anything that cannot be served is a Refusal (exit 38) naming what is missing; no header
is written then.  Where each step lives: chain.py (1), candidates.py (2), optionsets.py and
selection.py (3), sizes.py, groups.py, duties.py and assembly.py (4, the plan put
together); the opt-ins in drivers.py, trng.py, client.py and anchor.py.

What tlsfit fit forces beyond the user's GenOptions (options removed, knob settings,
added options, measured sizes, one pinned candidate) comes apart, as FitOverrides:
generate(..., overrides=...); without it the header is gen's own.

Driver-only P-256 (GenOptions.ecc "p256m", 3.6): when every key on the path to the
anchor, every chosen group and signature scheme is on the driver's curves
(drivers.driver_only_blocker), the legacy options the driver `provides` leave the wanted set, its
own options (per version and record cipher) join it, the closure treats requirements on
the provided options as met, and [[defects]] with a `route` add what works around
mbedTLS's own gaps (drivers.routes).  Otherwise the built-in code stays and facts["ecc_note"]
(the header's "ECC:" line) says why.

A trust anchor below the root (GenOptions.anchor, an anchor.AnchorCert: gen --anchor CERT):
anchored() ends each profile's recorded path at CERT (anchor.place_any: the profile the
prober would have written with --ca CERT; exit 50 when CERT is on no path), so step 1
sees leaf -> CERT only; an anchor that is not self-signed needs what parsing it needs
(chain.ChainNeeds._parsed), and the header and facts["anchor_note"] state the trade-off
(anchor.trade_off).  CERT already the anchor: the header without it, byte for byte.
The device's TRNG (GenOptions.external_rng, off by default; rules.toml [external_rng]):
the entropy module and the DRBG leave the header (requirements on them count as met),
and with the PSA core present MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG takes their place in
PSA; without it (TLS 1.2 on the built-in code, 2.28) nothing does, since the TLS layer
only needs the f_rng the application gives mbedtls_ssl_conf_rng().  Either way the
header defines the marker the harnesses read (TLSFIT_EXTERNAL_RNG), and its preamble
carries a block saying exactly what the application owes.  Without the option the
header is what it was, byte for byte.

Several servers (one device, one header):  plan = generate_device([doc1, doc2], opts, names)
  Steps 1-3 run per server (the policy applies to each; a server that cannot be served is
  refused as "server N (host:port): ...").  joint.choose() then picks one candidate per
  server minimising the flash estimate of the UNION of their option sets, honouring that
  each server negotiates the highest version it shares with the header.  Options are the
  union, each reason prefixed by the server(s) it holds for; MBEDTLS_SSL_IN_CONTENT_LEN
  and MBEDTLS_MPI_MAX_SIZE are the maxima; a record limit is asked for where a server
  honours it, max_fragment_length never beside a TLS 1.3 server that would acknowledge
  it (servers.mfl_blocked); the group pin and the suites are the union.  With one profile it is
  generate(), byte for byte.

The device's own identity (GenOptions.client, a core.identity.ClientIdentity: the public
facts of its certificate, no key): for each server that sends CertificateRequest the
header gets the key's parser, what parsing the device certificate needs and the signature
mbedTLS will make, which must be one the server's CertificateRequest allows (client.py;
Refusal naming it otherwise), MBEDTLS_MPI_MAX_SIZE for an RSA key, and a preamble line on
loading the identity.  Without it the header is what it was, byte for byte.

Session resumption (GenOptions.resume: gen --resume; resume.py, rules.toml [resumption]):
for the version the header negotiates with each server, the cheapest mode the profile's
`resumption` facts prove the server accepted (TLS 1.2 session ID, TLS 1.2 ticket, TLS 1.3
ticket with psk_dhe_ke before psk_ke), its options, TLSFIT_RESUME / TLSFIT_RESUME_MODE and
the duties; a Refusal when the server resumes in no way the header can use, exit 54 when
the profile cannot tell.  Without it the header is what it was, byte for byte.
"""
from dataclasses import replace

from ..core.errors import USAGE, TlsfitError
from ..profile.types import Profile
from . import anchor as anchor_mod, joint, psk as psk_mod, rules as rules_mod
from .assembly import assemble_plan
from .costs import load_costs
from .optionsets import defect, rank
from .selection import choose, enumerate_candidates, refuse_server, select, verdicts
from .servers import Server, listing
from .sizes import in_content_len
from .types import ECC_CHOICES, LINES, NO_OVERRIDES, GenOptions, Refusal


def generate(doc, opts=None, profile_name="profile", rules=None, costs=None, *,
             overrides=NO_OVERRIDES, command=None):
    """The HeaderPlan (with .text, the header) for a profile (a Profile or a validated
    document), or a Refusal.  overrides: what tlsfit fit forces (FitOverrides); command:
    the header's Regenerate line (None: regenerate_command()'s for these options)."""
    doc = Profile.of(doc)
    opts = _checked(opts)
    (doc,), (placed,), opts = anchored([doc], opts)
    cands = enumerate_candidates(doc, opts, rules, costs)
    sel = select(cands, overrides.candidate)
    if not sel.kept:
        refuse_server(doc, cands, sel, opts)
    chosen, second_suite = choose(cands, sel)
    considered, warnings = verdicts(cands, sel, chosen, second_suite)
    server = Server(doc, profile_name, chain_of(cands, chosen), tuple(chosen), placement=placed)
    return assemble_plan([server], opts, overrides, command, cands.rules, cands.cost,
                         cands.policy, considered, warnings)


def chain_of(cands, chosen):
    """What the server's chain needs of the header: nothing when every chosen candidate
    authenticates the server by a pre-shared key (psk.NO_CHAIN)."""
    if all(psk_mod.is_psk(c, cands.rules) for c in chosen):
        return psk_mod.NO_CHAIN
    return cands.chain


def anchored(docs, opts):
    """(docs, placements, opts) with --anchor applied: each profile whose path holds CERT
    seen with CERT as its anchor (anchor.place_any: AnchorError, exit 50, when none
    does), its Placement (else None); opts without the anchor when CERT already is the
    anchor of every server it is on (the header is then the one without --anchor, byte
    for byte).  Idempotent."""
    if opts.anchor is None:
        return list(docs), [None] * len(docs), opts
    placements = anchor_mod.place_any(docs, opts.anchor)
    if all(p is None or p.same for p in placements):
        return list(docs), [None] * len(docs), replace(opts, anchor=None)
    placements = [None if p is None or p.same else p for p in placements]
    return ([p.doc if p else d for p, d in zip(placements, docs)], placements, opts)


def _checked(opts):
    """opts (GenOptions() for None), or a usage error naming the flag out of its choices."""
    opts = opts or GenOptions()
    if opts.line not in LINES:
        raise TlsfitError(USAGE, f"--mbedtls must be one of {', '.join(LINES)}")
    if opts.ecc not in ECC_CHOICES:
        raise TlsfitError(USAGE, f"--ecc must be one of {', '.join(ECC_CHOICES)}")
    return opts


def generate_device(docs, opts=None, profile_names=None, rules=None, costs=None, *,
                    overrides=NO_OVERRIDES, command=None):
    """One HeaderPlan for a device that talks to several servers (a Profile or validated
    document each), or a Refusal naming the server(s) it cannot serve.  With one
    profile it is generate(), byte for byte.  Per server the candidates and the policy
    are as for one; joint.choose() then picks one candidate per server so that the
    union of their option sets costs least; sizes are the maximum over the servers.
    overrides and command as for generate() (the pinned candidate is one server's only)."""
    docs = [Profile.of(d) for d in docs]
    names = list(profile_names or [f"profile {i + 1}" for i in range(len(docs))])
    if not docs:
        raise TlsfitError(USAGE, "generate_device needs at least one profile")
    if len(docs) == 1:
        return generate(docs[0], opts, names[0], rules, costs, overrides=overrides,
                        command=command)
    opts = _checked(opts)
    docs, placements, opts = anchored(docs, opts)
    rules = rules or rules_mod.load()
    costs = costs if costs is not None else load_costs()
    per = _per_server(docs, opts, rules, costs)
    cands0 = per[0][1]
    choices = [joint.ServerChoices(who, doc.versions, tuple(
        joint.Choice(c, frozenset(cands.row(c).options), cands.flash(c), rank(c, rules))
        for c in sel.kept)) for doc, cands, sel, who in per]

    def blocked(i, c, union):
        return defect(c, union, per[i][0], rules, opts.line)
    try:
        picks, _ = joint.choose(choices, cands0.cost, blocked)
    except joint.NoJointChoice as e:
        raise Refusal(f"one header for mbedTLS {opts.line} cannot serve "
                      f"{listing([who for *_, who in per])} under policy {opts.policy}: "
                      + "; ".join(e.reasons))
    servers, considered, warnings = [], [], []
    for i, ((doc, cands, sel, who), pick) in enumerate(zip(per, picks)):
        chosen, second = choose(cands, sel, first=pick)
        others = frozenset().union(*[set(p[1].row(q).options) for j, (p, q)
                                     in enumerate(zip(per, picks)) if j != i])
        c, w = verdicts(cands, sel, chosen, second, joint=lambda x, o=others, cs=cands:
                        cs.cost(o | set(cs.row(x).options)))
        considered += [(f"{who}: {label}", flash, verdict) for label, flash, verdict in c]
        warnings += [f"{who}: {x}" for x in w if f"{who}: {x}" not in warnings]
        servers.append(Server(doc, names[i], chain_of(cands, chosen), tuple(chosen), i + 1,
                              len(docs), placements[i]))
    return assemble_plan(servers, opts, overrides, command, rules, cands0.cost, cands0.policy,
                         considered, warnings)


def _per_server(docs, opts, rules, costs):
    """[(doc, Candidates, Selection, who)] for every server, or one Refusal naming each
    server that cannot be served (and the ones that could)."""
    per, refused = [], []
    for i, doc in enumerate(docs):
        who = f"server {i + 1} ({doc.target.hostport})"
        try:
            # a server without PSK facts among several: its certificate candidates only
            mine = opts if doc.document.get("psk") else replace(opts, psk=None)
            cands = enumerate_candidates(doc, mine, rules, costs)
            sel = select(cands)
            if not sel.kept:
                refuse_server(doc, cands, sel, opts)
            in_content_len(doc, opts.line)
        except Refusal as e:
            refused.append(f"{who}: {e.message}")
            continue
        per.append((doc, cands, sel, who))
    if refused:
        fine = [who for *_, who in per]
        raise Refusal("; ".join(refused) + (
            f" ({listing(fine)} alone could be served; one header serves only what every "
            "server allows)" if fine else ""))
    return per
