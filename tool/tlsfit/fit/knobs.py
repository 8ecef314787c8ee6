"""The knob model: which size and speed knobs (rules.toml [knobs]) are worth measuring
for a candidate, predicted from measured deltas (knob_costs.json, made by
bench/knob_costs.py on the target)."""
import json
from pathlib import Path

from .objective import TABLE, predicted

KNOB_COSTS_PATH = Path(__file__).resolve().parent / "knob_costs.json"


NIST_CURVES = ("MBEDTLS_ECP_DP_SECP256R1_ENABLED", "MBEDTLS_ECP_DP_SECP384R1_ENABLED",
               "MBEDTLS_ECP_DP_SECP521R1_ENABLED")


def _setting(value):
    return {"on": True, "off": None}.get(value, int(value) if str(value).isdigit() else value)


# The lean header is not measured when the knob model predicts its variant better by at
# least this much: half of one figure, relative to the lean header's own (fit/search.py;
# only ECP_NIST_OPTIM-like settings clear it: -0.85 of balanced in knob_costs.json, six
# times fewer handshake instructions; the rest are within 0.3).
OUTCLASS = 0.5


def _load(model):
    if model is not None:
        return model
    try:
        return json.loads(KNOB_COSTS_PATH.read_text())
    except (OSError, ValueError):
        return None


def best_setting(objective, candidate, plan, rules, model=None):
    """(predicted gain, "KEY=VALUE+...", {option: setting}, scenario name, scenario) of
    the knob setting the model predicts improves the objective most (gain < 0), or None."""
    model = _load(model)
    scenarios = (model or {}).get("scenarios", {})
    if not scenarios:
        return None
    want_tls13 = candidate.version == "TLSv1.3"
    want_rsa = "RSA" in candidate.kx or (candidate.sigalg or "").startswith("rsa")
    name = max(scenarios, key=lambda n: (("tls13" in n) == want_tls13) + 2 * (("rsa" in n) == want_rsa))
    sc = scenarios[name]
    applies = {k.name for k in rules.knobs_for(plan.options, plan.line)}
    nist = any(o in plan.options for o in NIST_CURVES)
    noise = model.get("noise_floor_instructions", 0)
    best = None
    for key, delta in list(sc.get("knobs", {}).items()) + list(sc.get("combos", {}).items()):
        settings = dict(part.split("=", 1) for part in key.split("+"))
        if not all(k in applies or k == "MBEDTLS_ECP_NIST_OPTIM" and nist for k in settings):
            continue
        if any(k.startswith("MBEDTLS_ECP_") for k in settings) and not nist:
            continue
        if objective in ("speed", "balanced") and \
                abs(delta.get("handshake_instructions") or 0) <= noise:
            continue
        gain = predicted(objective, delta, sc.get("lean", {}))
        if gain < 0 and (best is None or gain < best[0]):
            best = (gain, key, {k: _setting(v) for k, v in settings.items()}, name, sc)
    return best


def knob_variants(objective, candidate, plan, rules, model=None):
    """gen's lean knobs, plus the one setting (or measured combination) that the knob
    model (knob_costs.json, measured on the target) predicts improves the objective
    most for the closest reference scenario.  Knobs that do not apply to the header,
    ECP knobs without a NIST curve, and changes within the model's noise are skipped."""
    variants = [("lean knobs", {})]
    best = best_setting(objective, candidate, plan, rules, model)
    if best:
        variants.append((f"{best[1]} (knob_costs.json, {best[3]})", best[2]))
    return variants


def lean_outclassed(objective, candidate, plan, rules, model=None):
    """Why the lean header need not be measured beside its knob variant, or None: the
    model predicts the variant better by at least OUTCLASS of one figure (relative
    objectives: the predicted change is already relative; others: relative to the
    scenario's lean value of the objective's terms)."""
    best = best_setting(objective, candidate, plan, rules, model)
    if best is None:
        return None
    gain, key, _, name, sc = best
    o = TABLE[objective]
    lean = sc.get("lean", {})
    scale = 1.0 if o.relative else sum(lean.get(k) or 0 for k in o.predict_terms or o.terms)
    if not scale or gain / scale > -OUTCLASS:
        return None
    return (f"the knob model predicts {key} better by {-gain / scale:.2f} of "
            f"{'a figure' if o.relative else 'its value'} ({name}): not measured unless "
            "that variant fails")
