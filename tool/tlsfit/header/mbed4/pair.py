"""gen --mbedtls 4.0: the choice, the refusals and the plan of the two files.

The server facts, the policy and the costs are 3.6's (rules.toml): on 4.x the same TLS
code negotiates the same suites, and what 4.x changed is where options live and how the
crypto is selected (rules_4.toml).  So the choice runs as for 3.6 with the key exchanges
4.x removed marked unsupported, and the chosen 3.6 option set is translated
(translate.py).  A server that needs only a removed key exchange is refused with the
cause and, when 3.6 can serve it, the flag that does."""
import copy
from dataclasses import dataclass, replace

from .. import gen, rules as rules_mod
from ..commands import regenerate_command
from ..types import NO_OVERRIDES, Refusal
from . import LINE, table as table_mod
from .translate import translate


@dataclass(frozen=True)
class PairPlan:
    """The two 4.x files of one device: the 3.6 choice they come from (plan36: chosen,
    warnings, considered, duties, facts), the files' contents, the notes the preamble
    adds, and the rendered texts (render.pair_texts)."""
    plan36: object
    files: object                 # translate.Files
    notes: tuple                  # one line each: a 3.6 behaviour that differs on 4.x
    opts: object                  # the user's GenOptions (line "4.0")
    tls_text: str = ""
    crypto_text: str = ""


def rules_without_removed_kx(rules, table):
    """A copy of the 3.6 rules in which every key exchange 4.x removed is unsupported,
    with the 4.x reason and the line of the 4.0 tree that states it."""
    view = copy.copy(rules)
    view.facts = dict(rules.facts)
    view.facts["kx"] = dict(rules.facts["kx"])
    for kx, (cite, why) in table.removed_kx.items():
        if kx in view.facts["kx"]:
            view.facts["kx"][kx] = replace(view.facts["kx"][kx],
                                           unsupported=f"{why} ({cite})")
    return view


def _removed_reason(message, table):
    return next((f"{why} ({cite})" for cite, why in table.removed_kx.values()
                 if f"{why} ({cite})" in message), None)


def _refusal(e, docs, opts36, names, costs, table):
    """The 4.x Refusal for a 3.6-rules Refusal `e`: named for 4.0, and when a removed key
    exchange is among the causes and 3.6 can serve the server(s), saying so."""
    message = e.message.replace("mbedTLS 3.6", f"mbedTLS {LINE}")
    removed = _removed_reason(e.message, table)
    if removed is None:
        return Refusal(message)
    try:
        gen.generate_device(docs, opts36, names, costs=costs)
    except Refusal:
        return Refusal(message)
    if len(docs) > 1:
        return Refusal(f"{message}; `--mbedtls 3.6` can serve them")
    return Refusal(f"mbedTLS {LINE} cannot talk to {docs[0].target.hostport} under policy "
                   f"{opts36.policy}: the suites mbedTLS 3.6 would use need a key exchange "
                   f"4.x removed -- {removed}; `--mbedtls 3.6` can serve it")


def notes(opts):
    """The lines the preamble adds where a 3.6 option behaves differently on 4.x."""
    out = []
    if opts.ecc == "p256m":
        out.append("--ecc p256m: the p256-m driver is tf-psa-crypto/drivers/p256-m in 4.x, "
                   "enabled by MBEDTLS_PSA_P256M_DRIVER_ENABLED in the crypto file")
    if opts.external_rng:
        out.append("--external-rng: 4.x has no mbedtls_ssl_conf_rng(); TLS always takes "
                   "PSA's generator, which MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG hands to the "
                   "application's mbedtls_psa_external_get_random()")
    return tuple(out)


def generate_pair(docs, opts, names=None, *, costs=None, command=None, overrides=NO_OVERRIDES):
    """The PairPlan (rendered) for one device on mbedTLS 4.x, or a Refusal.  overrides:
    what tlsfit fit forces (FitOverrides, in 3.6 option names: fit/line4.py)."""
    from .render import pair_texts                     # jinja2 only when rendering
    from ...profile.types import Profile
    docs = [Profile.of(d) for d in docs]
    names = list(names or [f"profile {i + 1}" for i in range(len(docs))])
    table = table_mod.load()
    opts36 = replace(opts, line="3.6")
    command = command or regenerate_command(names, opts)
    rules = rules_without_removed_kx(rules_mod.load(), table)
    try:
        if len(docs) == 1:
            plan36 = gen.generate(docs[0], opts36, names[0], rules, costs, command=command,
                                  overrides=overrides)
        else:
            plan36 = gen.generate_device(docs, opts36, names, rules, costs, command=command,
                                         overrides=overrides)
    except Refusal as e:
        raise _refusal(e, docs, opts36, names, costs, table) from None
    asked = opts.client is not None and any(d.client_cert_requested for d in docs)
    withs = {w for w, on in (("psk", opts.psk is not None), ("resume", opts.resume)) if on}
    files = translate(plan36, table, opts.external_rng,
                      opts.client.key_type if asked else None, withs)
    plan = PairPlan(plan36, files, notes(opts), opts)
    tls_text, crypto_text = pair_texts(plan, table)
    return replace(plan, tls_text=tls_text, crypto_text=crypto_text)
