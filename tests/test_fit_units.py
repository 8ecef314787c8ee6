"""Direct unit tests of fit's pure functions (issue 12, item 5): objective scoring, the
Pareto front, the knob model's choice (fit/knobs.py), the ablation's bookkeeping
(fit/search.py option_cost and Fitter._removable), and the core helpers fit and the CLI
share (core/hostport.py, core/text.py).

Nothing here measures anything: figures are hand-made dicts, trials are stand-ins, and
the one plan used comes from a recorded profile (tests/fixtures/compat/).  No server,
no prober, no cross toolchain.
"""
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from tlsfit.core.errors import USAGE, TlsfitError
from tlsfit.core.hostport import format_hostport, parse_target
from tlsfit.core.text import one_line
from tlsfit.fit import knobs as knobs_mod, objective as obj
from tlsfit.fit.search import COST_KEYS, PINNED, Fitter, option_cost
from tlsfit.header import gen, rules as rules_mod
from tlsfit.header.types import Candidate
from tlsfit.profile import model

COMPAT = Path(__file__).resolve().parent / "fixtures" / "compat"


def fig(rom=0, tls=0, static=0, heap=0, stack=0, instr=0):
    return {"rom_bytes": rom, "rom_tls_bytes": tls, "ram_static_bytes": static,
            "heap_peak_bytes": heap, "stack_peak_bytes": stack,
            "handshake_instructions": instr}


# ================================================================== objective table

def test_objectives_are_the_table():
    assert obj.OBJECTIVES == tuple(obj.TABLE)
    assert obj.OBJECTIVES == ("rom", "heap", "ram", "speed", "balanced", "reconnect")
    for o in obj.TABLE.values():
        assert set(o.terms) <= set(obj.FIGURES) | set(obj.DERIVED_FIGURES)
        assert set(o.predict_terms or o.terms) <= set(obj.FIGURES)
        assert o.relative or o.tiebreak in obj.FIGURES
    assert [o.name for o in obj.TABLE.values() if o.relative] == ["balanced"]
    assert obj.TABLE["balanced"].terms == obj.PARETO_KEYS


def test_help_text_lists_every_objective():
    lines = obj.help_text().splitlines()
    assert [line.split()[0] for line in lines] == list(obj.OBJECTIVES)
    assert "smallest flash" in lines[0]


# ================================================================== score

F = fig(rom=60000, tls=40000, static=2000, heap=8000, stack=1500, instr=10_000_000)


@pytest.mark.parametrize("name, expected", [
    ("rom", (60000, 8000)),
    ("heap", (8000, 60000)),
    ("ram", (2000 + 8000 + 1500, 60000)),
    ("speed", (10_000_000, 60000)),
])
def test_score_sums_terms_then_tiebreak(name, expected):
    assert obj.score(name, F) == expected


@pytest.mark.parametrize("name, better, worse", [
    # equal primary: the tie-break decides
    ("rom", fig(rom=100, heap=5), fig(rom=100, heap=6)),
    ("heap", fig(heap=100, rom=5), fig(heap=100, rom=6)),
    ("ram", fig(static=10, heap=50, stack=40, rom=1), fig(static=40, heap=50, stack=10, rom=2)),
    ("speed", fig(instr=7, rom=1), fig(instr=7, rom=2)),
    # a smaller primary beats any tie-break
    ("rom", fig(rom=99, heap=10_000), fig(rom=100, heap=0)),
])
def test_score_orders_candidates(name, better, worse):
    assert obj.score(name, better) < obj.score(name, worse)
    assert min([worse, better], key=lambda f: obj.score(name, f)) is better


def test_score_missing_figure_sorts_last():
    missing = dict(F, handshake_instructions=None)
    assert obj.score("speed", missing) == (float("inf"), 60000)
    assert obj.score("speed", F) < obj.score("speed", missing)
    # a term the objective does not read does not matter
    assert obj.score("rom", missing) == (60000, 8000)


def test_balanced_is_relative_to_the_best():
    a = fig(rom=100, heap=300, instr=1000)
    b = fig(rom=200, heap=100, instr=1000)
    best = obj.best_of([a, b])
    assert best == {"rom_bytes": 100, "heap_peak_bytes": 100, "handshake_instructions": 1000}
    assert obj.score("balanced", a, best) == (1 + 3 + 1,)
    assert obj.score("balanced", b, best) == (2 + 1 + 1,)
    assert obj.score("balanced", b, best) < obj.score("balanced", a, best)


def test_balanced_without_best_is_relative_to_itself():
    assert obj.score("balanced", F) == (3.0,)


def test_balanced_guards_a_zero_best():
    f = fig(rom=10, heap=0, instr=5)
    best = {"rom_bytes": 10, "heap_peak_bytes": 0, "handshake_instructions": 0}
    assert obj.score("balanced", f, best) == (1 + 0 + 5,)


def test_best_of_reads_only_the_pareto_keys():
    best = obj.best_of([fig(rom=5, heap=9, instr=1, stack=100), fig(rom=7, heap=2, instr=3, stack=1)])
    assert best == {"rom_bytes": 5, "heap_peak_bytes": 2, "handshake_instructions": 1}


# ================================================================== predicted

def test_predicted_sums_the_objective_terms():
    delta = {"rom_bytes": -1000, "heap_peak_bytes": 512, "ram_static_bytes": 1320,
             "stack_peak_bytes": 8, "handshake_instructions": -400}
    assert obj.predicted("rom", delta, {}) == -1000
    assert obj.predicted("heap", delta, {}) == 512
    assert obj.predicted("ram", delta, {}) == 1320 + 512 + 8
    assert obj.predicted("speed", delta, {}) == -400


def test_predicted_treats_missing_and_none_as_zero():
    assert obj.predicted("ram", {"heap_peak_bytes": None, "stack_peak_bytes": 4}, {}) == 4
    assert obj.predicted("speed", {}, {"handshake_instructions": 10}) == 0


def test_predicted_balanced_divides_by_the_lean_figures():
    lean = {"rom_bytes": 1000, "heap_peak_bytes": 500, "handshake_instructions": 2000}
    delta = {"rom_bytes": 100, "heap_peak_bytes": -50, "handshake_instructions": -1000}
    assert obj.predicted("balanced", delta, lean) == pytest.approx(0.1 - 0.1 - 0.5)
    # a lean figure missing (or zero) counts as 1
    assert obj.predicted("balanced", {"rom_bytes": 3}, {}) == 3


# ================================================================== pareto

def named(**figs):
    return [SimpleNamespace(name=n, f=f) for n, f in figs.items()]


def front(items):
    return [t.name for t in obj.pareto(items, lambda t: t.f)]


def test_pareto_drops_dominated_and_sorts_by_rom():
    items = named(
        small=fig(rom=100, heap=900, instr=900),
        fast=fig(rom=300, heap=900, instr=100),
        lean=fig(rom=200, heap=100, instr=900),
        worse=fig(rom=300, heap=900, instr=900),       # dominated by all three
        close=fig(rom=100, heap=900, instr=901),       # dominated by small (one key strictly)
    )
    assert front(items) == ["small", "lean", "fast"]


def test_pareto_collapses_identical_figures():
    items = named(a=fig(rom=100, heap=5, instr=5), b=fig(rom=100, heap=5, instr=5),
                  c=fig(rom=50, heap=9, instr=9))
    assert front(items) == ["c", "a"]


def test_pareto_ignores_non_pareto_figures_for_dominance():
    # equal on every PARETO_KEY, better stack: neither dominates the other
    items = named(a=fig(rom=1, heap=1, instr=1, stack=10), b=fig(rom=1, heap=1, instr=1, stack=5))
    assert sorted(front(items)) == ["a", "b"]


def test_pareto_single_and_empty():
    assert front(named(only=fig(rom=1))) == ["only"]
    assert obj.pareto([], lambda t: t) == []


# ================================================================== option_cost

class Stand:
    """A stand-in Trial: figures() and ok, as option_cost reads them."""

    def __init__(self, figures, ok=True):
        self._f, self.ok = figures, ok

    def figures(self):
        return self._f


def test_option_cost_is_with_minus_without():
    with_it = Stand(fig(rom=1000, static=300, heap=700, instr=5000))
    without = Stand(fig(rom=400, static=100, heap=750, instr=4000))
    assert option_cost(with_it, without) == {
        "rom_cost_bytes": 600, "ram_cost_bytes": 200, "heap_cost_bytes": -50,
        "instructions_cost": 1000}
    assert tuple(option_cost(with_it, without)) == COST_KEYS


def test_option_cost_failed_handshake_keeps_only_link_figures():
    with_it = Stand(fig(rom=1000, static=300, heap=700, instr=5000))
    failed = Stand(fig(rom=400, static=100, heap=200, instr=10), ok=False)
    assert option_cost(with_it, failed) == {
        "rom_cost_bytes": 600, "ram_cost_bytes": 200, "heap_cost_bytes": None,
        "instructions_cost": None}
    # the failed one may be either side
    assert option_cost(failed, with_it)["heap_cost_bytes"] is None
    assert option_cost(failed, with_it)["rom_cost_bytes"] == -600


def test_option_cost_unlinked_build_has_no_figures():
    with_it = Stand(fig(rom=1000, static=300, heap=700, instr=5000))
    unbuilt = Stand({}, ok=False)            # Trial.figures() without a report
    assert option_cost(with_it, unbuilt) == dict.fromkeys(COST_KEYS)


def test_option_cost_missing_single_figure():
    with_it = Stand(dict(fig(rom=1000, static=300, heap=700, instr=5000), ram_static_bytes=None))
    without = Stand(fig(rom=900, static=100, heap=600, instr=4000))
    c = option_cost(with_it, without)
    assert c["ram_cost_bytes"] is None and c["rom_cost_bytes"] == 100
    assert c["heap_cost_bytes"] == 100


# ================================================================== Fitter._removable

def removable(rules, options):
    f = object.__new__(Fitter)
    f.rules = rules
    trial = SimpleNamespace(plan=SimpleNamespace(options={o: ["why"] for o in options}))
    return f._removable(trial)


def test_removable_reasons(rules):
    opts = ["MBEDTLS_SSL_TLS_C", "MBEDTLS_SHA256_SMALLER", "MBEDTLS_HMAC_DRBG_C",
            "MBEDTLS_MD_C", "MBEDTLS_ENTROPY_C", "MBEDTLS_SHA256_C", "MBEDTLS_GCM_C",
            "MBEDTLS_AES_C", "MBEDTLS_CIPHER_C", "MBEDTLS_HAVE_ASM"]
    out = removable(rules, opts)
    assert [name for name, _ in out] == sorted(opts)
    why = dict(out)
    assert why["MBEDTLS_SSL_TLS_C"] == f"pinned: {PINNED['MBEDTLS_SSL_TLS_C']}"
    assert why["MBEDTLS_ENTROPY_C"] == "pinned: the device's entropy source"
    assert why["MBEDTLS_SHA256_SMALLER"] == "a size knob, not a feature"
    # SSL_TLS_C and HMAC_DRBG_C both need MD_C: the first in the plan's order is named
    assert why["MBEDTLS_MD_C"] == "required by MBEDTLS_SSL_TLS_C (rules.toml)"
    assert dict(removable(rules, ["MBEDTLS_HMAC_DRBG_C", "MBEDTLS_MD_C"]))["MBEDTLS_MD_C"] == \
        "required by MBEDTLS_HMAC_DRBG_C (rules.toml)"
    assert why["MBEDTLS_AES_C"] == "required by MBEDTLS_GCM_C (rules.toml)"
    # SHA256_C is the only hash meeting ENTROPY_C's (and SSL_TLS_C's) any-of here
    assert why["MBEDTLS_SHA256_C"].startswith("required by MBEDTLS_")
    assert why["MBEDTLS_HAVE_ASM"] is None       # nothing needs it: the ablation tries it
    assert why["MBEDTLS_GCM_C"] is None
    assert why["MBEDTLS_HMAC_DRBG_C"] is None


def test_removable_any_of_with_a_second_alternative(rules):
    why = dict(removable(rules, ["MBEDTLS_ENTROPY_C", "MBEDTLS_SHA256_C", "MBEDTLS_SHA512_C"]))
    # either hash meets ENTROPY_C's [SHA256_C, SHA512_C] alone: each may be tried
    assert why["MBEDTLS_SHA256_C"] is None and why["MBEDTLS_SHA512_C"] is None
    why = dict(removable(rules, ["MBEDTLS_ENTROPY_C", "MBEDTLS_SHA512_C"]))
    assert why["MBEDTLS_SHA512_C"] == "required by MBEDTLS_ENTROPY_C (rules.toml)"


def test_removable_any_of_met_by_a_driver_holds_nothing_back(rules):
    # driver-only P-256: PK_C's [RSA_C, ECP_C] has neither (p256-m provides ECP_C), which
    # must not make every other option "required by MBEDTLS_PK_C"
    why = dict(removable(rules, ["MBEDTLS_PK_C", "MBEDTLS_MD_C", "MBEDTLS_CHACHA20_C",
                                 "MBEDTLS_USE_PSA_CRYPTO"]))
    assert why["MBEDTLS_CHACHA20_C"] is None and why["MBEDTLS_USE_PSA_CRYPTO"] is None
    assert why["MBEDTLS_MD_C"] == "required by MBEDTLS_PK_C (rules.toml)"


def test_removable_names_outside_the_rules_are_tried(rules):
    why = dict(removable(rules, ["TLSFIT_SOMETHING_EXTRA", "MBEDTLS_HAVE_ASM"]))
    assert why == {"TLSFIT_SOMETHING_EXTRA": None, "MBEDTLS_HAVE_ASM": None}


# ================================================================== knob_variants

ECDSA12 = Candidate("TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE_ECDSA",
                    "AES_128_GCM", "aead", "sha256", "secp256r1", "ecdsa_secp256r1_sha256")
RSA13 = Candidate("TLSv1.3", "TLS_AES_128_GCM_SHA256", "TLS13", "AES_128_GCM", "aead", "sha256",
                  "x25519", "rsa_pss_rsae_sha256")
NIST_PLAN = SimpleNamespace(line="3.6", options=dict.fromkeys(
    ["MBEDTLS_AES_C", "MBEDTLS_GCM_C", "MBEDTLS_ECP_C", "MBEDTLS_ECP_DP_SECP256R1_ENABLED",
     "MBEDTLS_SHA256_C", "MBEDTLS_BIGNUM_C"], ["why"]))
X25519_PLAN = SimpleNamespace(line="3.6", options=dict.fromkeys(
    ["MBEDTLS_AES_C", "MBEDTLS_GCM_C", "MBEDTLS_ECP_C", "MBEDTLS_ECP_DP_CURVE25519_ENABLED",
     "MBEDTLS_SHA256_C", "MBEDTLS_BIGNUM_C"], ["why"]))


def d(rom=0, heap=0, instr=0, static=0, stack=0):
    return {"rom_bytes": rom, "ram_static_bytes": static, "heap_peak_bytes": heap,
            "stack_peak_bytes": stack, "handshake_instructions": instr}


MODEL = {
    "noise_floor_instructions": 1000,
    "scenarios": {
        "tls12-ecdsa": {
            "lean": {"rom_bytes": 60000, "heap_peak_bytes": 8000,
                     "handshake_instructions": 1_000_000},
            "knobs": {
                "MBEDTLS_AES_ROM_TABLES=off": d(rom=-1000, static=1320, instr=-500),
                "MBEDTLS_ECP_WINDOW_SIZE=4": d(rom=640, heap=2132, instr=-200_000),
                "MBEDTLS_ECP_NIST_OPTIM=on": d(rom=1856, heap=-308, instr=-800_000),
                "MBEDTLS_SHA256_SMALLER=off": d(rom=1408, instr=-600),
                "MBEDTLS_SSL_DTLS_ANTI_REPLAY=off": d(rom=-9999),     # not a knob here
            },
            "combos": {
                "MBEDTLS_ECP_NIST_OPTIM=on+MBEDTLS_ECP_WINDOW_SIZE=3": d(rom=2496, heap=404,
                                                                         instr=-850_000),
            },
        },
        "tls13-rsa": {
            "lean": {"rom_bytes": 80000, "heap_peak_bytes": 10000,
                     "handshake_instructions": 30_000_000},
            "knobs": {
                "MBEDTLS_MPI_WINDOW_SIZE=6": d(rom=64, instr=-5000),
                "MBEDTLS_AES_FEWER_TABLES=off": d(rom=-6144, instr=-100),
            },
            "combos": {},
        },
    },
}


def variants(objective, candidate=ECDSA12, plan=NIST_PLAN, rules=None, model=MODEL):
    return knobs_mod.knob_variants(objective, candidate, plan, rules or rules_mod.load(), model)


def test_knob_variants_speed_picks_the_biggest_predicted_gain():
    assert variants("speed") == [
        ("lean knobs", {}),
        # the combo (-850k) beats NIST_OPTIM alone (-800k); AES_ROM_TABLES=off (-500) and
        # SHA256_SMALLER=off (-600) are within the noise floor (1000)
        ("MBEDTLS_ECP_NIST_OPTIM=on+MBEDTLS_ECP_WINDOW_SIZE=3 (knob_costs.json, tls12-ecdsa)",
         {"MBEDTLS_ECP_NIST_OPTIM": True, "MBEDTLS_ECP_WINDOW_SIZE": 3})]


def test_knob_variants_rom_picks_the_smallest_flash():
    # AES_ROM_TABLES=off saves 1000 B; the DTLS entry saves more but is no knob of the rules
    assert variants("rom") == [
        ("lean knobs", {}),
        ("MBEDTLS_AES_ROM_TABLES=off (knob_costs.json, tls12-ecdsa)",
         {"MBEDTLS_AES_ROM_TABLES": None})]


def test_knob_variants_heap_picks_nist_optim():
    [_, (label, settings)] = variants("heap")
    assert label.startswith("MBEDTLS_ECP_NIST_OPTIM=on ")
    assert settings == {"MBEDTLS_ECP_NIST_OPTIM": True}


def test_knob_variants_skip_ecp_knobs_without_a_nist_curve():
    # on x25519 only, every ECP setting is skipped: the best speed gain left is
    # SHA256_SMALLER=off (-600), within the noise floor (1000), so nothing
    assert variants("speed", plan=X25519_PLAN) == [("lean knobs", {})]
    [_, (label, _)] = variants("rom", plan=X25519_PLAN)
    assert label.startswith("MBEDTLS_AES_ROM_TABLES=off ")


def test_knob_variants_skip_changes_within_the_noise():
    model = {"noise_floor_instructions": 10_000_000, "scenarios": MODEL["scenarios"]}
    assert variants("speed", model=model) == [("lean knobs", {})]
    # the noise floor only applies to speed and balanced
    assert len(variants("rom", model=model)) == 2


def test_knob_variants_skip_knobs_whose_when_is_not_met():
    plan = SimpleNamespace(line="3.6", options={"MBEDTLS_SHA256_C": ["why"]})
    # no AES, no ECP: the only applicable entry (SHA256_SMALLER=off) costs flash
    assert variants("rom", plan=plan) == [("lean knobs", {})]


def test_knob_variants_pick_the_closest_scenario():
    # TLS 1.3 with an RSA signature: tls13-rsa (the "rsa" match weighs double)
    [_, (label, settings)] = variants("rom", candidate=RSA13)
    assert label == "MBEDTLS_AES_FEWER_TABLES=off (knob_costs.json, tls13-rsa)"
    assert settings == {"MBEDTLS_AES_FEWER_TABLES": None}
    [_, (label, settings)] = variants("speed", candidate=RSA13)
    assert label == "MBEDTLS_MPI_WINDOW_SIZE=6 (knob_costs.json, tls13-rsa)"
    assert settings == {"MBEDTLS_MPI_WINDOW_SIZE": 6}


def test_knob_variants_rsa_weighs_more_than_the_version():
    # TLS 1.2 with RSA: tls12-ecdsa matches the version, tls13-rsa the key: the key wins
    rsa12 = Candidate("TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE_RSA",
                      "AES_128_GCM", "aead", "sha256", "x25519", "rsa_pkcs1_sha256")
    [_, (label, _)] = variants("rom", candidate=rsa12)
    assert label.endswith("(knob_costs.json, tls13-rsa)")


def test_knob_variants_without_scenarios_or_gain():
    assert variants("rom", model={"scenarios": {}}) == [("lean knobs", {})]
    worse = {"scenarios": {"s": {"knobs": {"MBEDTLS_AES_ROM_TABLES=off": d(rom=5, instr=5)}}}}
    assert variants("rom", model=worse) == [("lean knobs", {})]


def test_knob_variants_with_the_shipped_model(rules):
    """The measured knob_costs.json on a plan gen makes for the recorded P-256 server."""
    doc = model.load(COMPAT / "openssl-ec-12.json")
    plan = gen.generate(doc, rules=rules)
    shipped = json.loads(knobs_mod.KNOB_COSTS_PATH.read_text())
    best = min(((k, v.get("handshake_instructions") or 0) for k, v in
                {**shipped["scenarios"]["tls12-ecdsa-p256"]["knobs"],
                 **shipped["scenarios"]["tls12-ecdsa-p256"]["combos"]}.items()),
               key=lambda kv: kv[1])[0]
    out = knobs_mod.knob_variants("speed", plan.chosen[0], plan, rules)
    assert out[0] == ("lean knobs", {})
    assert out[1][0] == f"{best} (knob_costs.json, tls12-ecdsa-p256)"
    assert out[1][1]["MBEDTLS_ECP_NIST_OPTIM"] is True


def test_setting_parses_model_values():
    assert knobs_mod._setting("on") is True
    assert knobs_mod._setting("off") is None
    assert knobs_mod._setting("6") == 6
    assert knobs_mod._setting("MBEDTLS_SSL_MAX_FRAG_LEN_512") == "MBEDTLS_SSL_MAX_FRAG_LEN_512"


# ================================================================== core.hostport

@pytest.mark.parametrize("text, expected", [
    ("example.com", ("example.com", 443)),
    ("example.com:8443", ("example.com", 8443)),
    ("  example.com:1  ", ("example.com", 1)),
    ("127.0.0.1:65535", ("127.0.0.1", 65535)),
    ("[::1]:4433", ("::1", 4433)),
    ("[::1]", ("::1", 443)),
    ("::1", ("::1", 443)),
    ("2001:db8::5", ("2001:db8::5", 443)),
])
def test_parse_target(text, expected):
    assert parse_target(text) == expected


def test_parse_target_default_port():
    assert parse_target("h", default_port=853) == ("h", 853)
    assert parse_target("h:1", default_port=853) == ("h", 1)


@pytest.mark.parametrize("text, message", [
    ("", "empty target; expected HOST[:PORT]"),
    ("   ", "empty target; expected HOST[:PORT]"),
    ("host:", "'host:': the port is empty"),
    ("[::1]:", "'[::1]:': the port is empty"),
    ("host:0", "'host:0': the port must be a number from 1 to 65535"),
    ("host:65536", "'host:65536': the port must be a number from 1 to 65535"),
    ("host:https", "'host:https': the port must be a number from 1 to 65535"),
    ("host:-1", "'host:-1': the port must be a number from 1 to 65535"),
    ("[::1]:abc", "'[::1]:abc': the port must be a number from 1 to 65535"),
    ("[::1", "'[::1': unclosed '[' in the address"),
    ("[]:443", "'[]:443': unclosed '[' in the address"),
    ("[::1]443", "'[::1]443': expected [ADDRESS]:PORT"),
])
def test_parse_target_rejects(text, message):
    with pytest.raises(TlsfitError) as e:
        parse_target(text)
    assert e.value.code == USAGE
    assert e.value.message == message


@pytest.mark.parametrize("text", ["host:²", "[::1]:²", "h:４４３"])
def test_parse_target_rejects_non_ascii_digits(text):
    """str.isdigit() is true for '²' and full-width digits; a port is ASCII digits."""
    with pytest.raises(TlsfitError) as e:
        parse_target(text)
    assert e.value.code == USAGE
    assert "the port must be a number from 1 to 65535" in e.value.message


@pytest.mark.parametrize("host, port, text", [
    ("example.com", 443, "example.com:443"),
    ("127.0.0.1", 8443, "127.0.0.1:8443"),
    ("::1", 4433, "[::1]:4433"),
    ("2001:db8::5", 1, "[2001:db8::5]:1"),
])
def test_format_hostport_round_trips(host, port, text):
    assert format_hostport(host, port) == text
    assert parse_target(text) == (host, port)


# ================================================================== core.text

def test_one_line_folds_whitespace():
    assert one_line("  a\n\tb   c \r\n") == "a b c"
    assert one_line("") == ""


def test_one_line_cuts_to_the_limit():
    assert one_line("x" * 400) == "x" * 400
    cut = one_line("x" * 401)
    assert len(cut) == 400 and cut == "x" * 397 + "..."
    assert one_line("abcdefghijk", limit=10) == "abcdefg..."
    assert one_line("abc  def", limit=7) == "abc def"      # folded first, then measured


def test_handshake_failure_text_has_no_none():
    """A failed trial's error is "ERROR in STATE"; without a state (the harness stopped
    before the handshake started) just the error -- never "in None" in report.md."""
    from tlsfit.target.result import Handshake
    assert Handshake(False, error="MBEDTLS_ERR_SSL_BAD_INPUT_DATA").failure() == \
        "MBEDTLS_ERR_SSL_BAD_INPUT_DATA"
    assert Handshake(False, error="E", state="SERVER_HELLO").failure() == "E in SERVER_HELLO"
    assert Handshake(False).failure() == "the handshake failed"
    assert Handshake(True, error="E").failure() == ""


# ================================================================== lean_outclassed

def outclassed(objective, plan=NIST_PLAN, model=MODEL):
    return knobs_mod.lean_outclassed(objective, ECDSA12, plan, rules_mod.load(), model)


def test_lean_outclassed_when_the_variant_is_predicted_far_better():
    # speed: the combo saves 850k of the lean 1M instructions (0.85 >= OUTCLASS 0.5)
    why = outclassed("speed")
    assert why.startswith("the knob model predicts MBEDTLS_ECP_NIST_OPTIM=on+"
                          "MBEDTLS_ECP_WINDOW_SIZE=3 better by 0.85 of its value")
    # balanced: NIST_OPTIM alone, -0.80 instructions +0.03 flash -0.04 heap (relative)
    assert "MBEDTLS_ECP_NIST_OPTIM=on better by 0.81 of a figure" in outclassed("balanced")


def test_lean_not_outclassed_by_a_small_or_no_predicted_gain():
    assert outclassed("rom") is None                 # 1000 B of 60000: 0.02
    assert outclassed("heap") is None                # 308 B of 8000: 0.04
    assert outclassed("speed", plan=X25519_PLAN) is None     # no variant at all
    assert outclassed("speed", model={"scenarios": {}}) is None
