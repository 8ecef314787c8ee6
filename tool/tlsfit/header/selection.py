"""One server's candidates costed and chosen: each candidate with the options it
enables and their flash estimate (Candidates, Row), the policy's verdict (Selection),
the choice (the cheapest, and under compat a second suite and group), the verdicts
--explain lists, and the Refusal when nothing is left."""
from dataclasses import dataclass

from ..profile.model import describe_failures
from ..profile.types import Profile
from . import anchor as anchor_mod, policy as policy_mod, psk as psk_mod, rules as rules_mod
from .candidates import Enumeration
from .chain import ChainNeeds
from .costs import load_costs, make_cost
from .optionsets import any_of, base_wants, candidate_wants, defect, extension_wants, rank
from .trng import rng_provided
from .types import Candidate, Refusal
from .wants import merge


@dataclass(frozen=True)
class Row:
    """One candidate with what it costs: the options it enables (option -> reasons),
    their flash estimate, and the library defect that rules it out (or None)."""
    candidate: Candidate
    options: dict
    flash: int
    defect: str = None


@dataclass(frozen=True)
class Candidates:
    """Every candidate the server accepts, before the policy, with the facts the
    selection and the header need: the chain's needs, what enumeration left out and
    why, the cost function, the policy and the rules."""
    chain: ChainNeeds
    enumeration: Enumeration
    rows: tuple
    cost: object                 # cost(option names) -> flash estimate (bytes)
    policy: policy_mod.Policy
    rules: rules_mod.Rules

    def flash(self, candidate):
        return self.row(candidate).flash

    def row(self, candidate):
        return next(r for r in self.rows if r.candidate == candidate)


@dataclass(frozen=True)
class Selection:
    """The policy's verdict over the candidates: `kept` cheapest first (flash estimate,
    then rules.toml [preference]), `excluded` [(candidate or label, reason)], the
    policy's warnings, and `considered` [(label, flash or None, verdict)]."""
    kept: list
    excluded: list
    warnings: list
    considered: list


def enumerate_candidates(doc, opts, rules=None, costs=None):
    """Candidates: every (version, suite, group, signature scheme) the server accepts,
    each with the options it needs, before the policy."""
    doc = Profile.of(doc)
    if opts.anchor is not None:
        placed, _ = anchor_mod.locate(doc, opts.anchor)
        doc = placed.doc if placed is not None else doc
    rules = rules or rules_mod.load()
    costs = costs if costs is not None else load_costs()
    cost = make_cost(rules, costs)
    pol = policy_mod.POLICIES[opts.policy]
    chain, no_chain = _chain_needs(doc, rules, opts.line, pol, opts.psk)
    enum = Enumeration(doc, rules, opts.line, opts.tls, chain, opts.psk)
    if no_chain:
        enum.rejected.append(("certificate suites", no_chain))
    base = merge(base_wants(doc, rules, opts), chain.options if chain else {})
    psk_base = psk_mod.without_certificates(base_wants(doc, rules, opts), rules)
    rng = rng_provided(opts, rules)
    rows = []
    for c in enum.candidates:
        wanted = merge(psk_base if psk_mod.is_psk(c, rules) else base,
                       candidate_wants(c, rules, opts.line),
                       extension_wants(doc, [c], rules, opts.line))
        enabled = rules.closure(any_of(wanted, rules, opts.line, cost, rng), opts.line, cost,
                                rng)
        rows.append(Row(c, enabled, cost(set(enabled)),
                        defect(c, enabled, doc, rules, opts.line)))
    return Candidates(chain, enum, tuple(rows), cost, pol, rules)


def _chain_needs(doc, rules, line, pol, psk):
    """(ChainNeeds, None), or with a pre-shared key (gen --psk-identity) and a chain that
    cannot be served or is absent: (None, why), the PSK candidates then being all."""
    try:
        return ChainNeeds(doc, rules, line, pol), None
    except Refusal as e:
        if psk is not None:
            return None, e.message
        if doc.document.get("psk") or any("_PSK_" in s["name"] for v in doc.versions
                                           for s in doc.ciphersuites(v)):
            raise Refusal(f"{e.message}; the server offers pre-shared-key suites: give "
                          "--psk-identity ID --psk-key-file FILE (and probe with them)") from None
        raise


def select(cands, only=None):
    """The policy applied to the candidates without a defect (only: just this one)."""
    considered, usable = [], []
    for r in cands.rows:
        if r.defect:
            considered.append((r.candidate.label(), r.flash, f"excluded: {r.defect}"))
        elif only is not None and r.candidate != only:
            considered.append((r.candidate.label(), r.flash, "not the candidate asked for"))
        else:
            usable.append(r.candidate)
    kept, excluded, warnings = policy_mod.apply(cands.policy, usable)
    for c, why in excluded:
        considered.append((c.label(), None, f"excluded: {why}"))
    kept.sort(key=lambda c: (cands.flash(c), rank(c, cands.rules)))
    return Selection(kept, excluded, warnings, considered)


def _refuse(doc, enum, excluded, opts):
    where = doc.target.hostport
    if not doc.versions:
        raise Refusal(f"{where}: the profile lists no TLS version the server accepts")
    reasons = []
    for what, why in enum.rejected + excluded:
        item = f"{what}: {why}" if isinstance(what, str) else f"{what.label()}: {why}"
        if item not in reasons:
            reasons.append(item)
    failed = describe_failures(doc, "ciphersuites")
    if failed and not reasons:
        reasons.append(f"no suite is known: the probe's {failed}; re-probe the server")
    raise Refusal(f"mbedTLS {opts.line} cannot talk to {where} under policy {opts.policy}: "
                  + ("; ".join(reasons[:6]) if reasons else "no usable candidate")
                  + (f" (and {len(reasons) - 6} more)" if len(reasons) > 6 else ""))


def refuse_server(doc, cands, sel, opts):
    """The Refusal for a server none of whose candidates is left, naming why each went."""
    _refuse(doc, cands.enumeration, sel.excluded +
            [(r.candidate, f"excluded: {r.defect}") for r in cands.rows if r.defect], opts)


def choose(cands, sel, first=None):
    """(chosen, whether a second suite was found): the cheapest kept candidate (or
    `first`, the joint choice); under compat also a second suite of the same version
    and, when all chosen share one group, a second group."""
    kept, rules = sel.kept, cands.rules
    chosen = [first or kept[0]]
    if not cands.policy.keep_second:
        return chosen, False
    others = kept[1:] if first is None else [c for c in kept if c != first]
    second = [c for c in others if c.version == chosen[0].version and c.suite != chosen[0].suite]
    second.sort(key=lambda c: (c.group == chosen[0].group, cands.flash(c), rank(c, rules)))
    if second:
        chosen.append(second[0])
    other_groups = [c for c in kept if c.version == chosen[0].version and c.group and
                    c.group != chosen[0].group]
    if other_groups and all(c.group == chosen[0].group for c in chosen):
        other_groups.sort(key=lambda c: (cands.flash(c), rank(c, rules)))
        chosen.append(other_groups[0])
    return chosen, bool(second)


def verdicts(cands, sel, chosen, second_suite, joint=None):
    """(considered, warnings) of one server once its candidates are chosen.  joint
    (several servers): candidate -> the flash estimate of the union of its options with
    the other servers' choices."""
    considered, warnings = list(sel.considered), list(sel.warnings)
    if cands.policy.keep_second and not second_suite:
        warnings.append("policy compat: the server offers no second suite for "
                        f"{chosen[0].version}; only one is configured")
    for c in sel.kept:
        if c in chosen:
            continue
        if joint:
            mine, best = joint(c), joint(chosen[0])
            verdict = (f"with the other servers' choices the header would be ~{mine} B "
                       f"(chosen: ~{best} B)" + ("" if mine > best else
                                                 ", ties, later in preference"))
        else:
            verdict = "costs more" if cands.flash(c) > cands.flash(chosen[0]) else \
                "ties, later in preference"
        considered.append((c.label(), cands.flash(c), verdict))
    for i, c in enumerate(chosen):
        verdict = ("chosen" if joint is None else
                   f"chosen (with the other servers' choices: ~{joint(c)} B)") \
            if i == 0 else "kept (compat)"
        considered.insert(i, (c.label(), cands.flash(c), verdict))
        warnings += policy_mod.soft_failures(cands.policy, c)
    return considered, warnings
