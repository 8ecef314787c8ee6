"""The knob model: which size and speed knobs (rules.toml [knobs]) are worth measuring
for a candidate, predicted from measured deltas (knob_costs.json, made by
bench/knob_costs.py on the target)."""
import json
from pathlib import Path

from .objective import predicted

KNOB_COSTS_PATH = Path(__file__).resolve().parent / "knob_costs.json"


NIST_CURVES = ("MBEDTLS_ECP_DP_SECP256R1_ENABLED", "MBEDTLS_ECP_DP_SECP384R1_ENABLED",
               "MBEDTLS_ECP_DP_SECP521R1_ENABLED")


def _setting(value):
    return {"on": True, "off": None}.get(value, int(value) if str(value).isdigit() else value)


def knob_variants(objective, candidate, plan, rules, model=None):
    """gen's lean knobs, plus the one setting (or measured combination) that the knob
    model (knob_costs.json, measured on the target) predicts improves the objective
    most for the closest reference scenario.  Knobs that do not apply to the header,
    ECP knobs without a NIST curve, and changes within the model's noise are skipped."""
    variants = [("lean knobs", {})]
    if model is None:
        try:
            model = json.loads(KNOB_COSTS_PATH.read_text())
        except (OSError, ValueError):
            return variants
    want_tls13 = candidate.version == "TLSv1.3"
    want_rsa = "RSA" in candidate.kx or (candidate.sigalg or "").startswith("rsa")
    scenarios = model.get("scenarios", {})
    if not scenarios:
        return variants
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
            best = (gain, key, {k: _setting(v) for k, v in settings.items()})
    if best:
        variants.append((f"{best[1]} (knob_costs.json, {name})", best[2]))
    return variants
