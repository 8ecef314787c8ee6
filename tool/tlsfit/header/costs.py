"""The cost model gen ranks candidates by: the measured flash size of each library
object (costs.json "modules", from bench/module_costs.py), curves priced one by one
("curves"), and options measured by fit's ablation ("options", bench/fit_bench.py
--write-costs)."""
import json
from pathlib import Path

COSTS_PATH = Path(__file__).resolve().parent / "costs.json"


def load_costs(path=COSTS_PATH):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"modules": {}, "options": {}}


CURVE_MODULES = ("ecp.c", "ecp_curves.c", "ecdh.c")


def make_cost(rules, costs):
    """cost(option names) -> estimated flash bytes: the measured size of every library
    object the options compile in, with elliptic curves priced per curve (costs.json
    "curves": the EC objects built with that curve alone) since one ecp_curves.c holds
    them all."""
    modules = costs.get("modules", {})
    curve_cost = {f.options[0]: costs.get("curves", {}).get(name)
                  for name, f in rules.facts["curves"].items() if f.options}

    def cost(options):
        curves = [curve_cost[o] for o in options if curve_cost.get(o)]
        mods = {m for o in options if o in rules.options for m in rules.options[o].module}
        if curves:
            mods -= set(CURVE_MODULES)
        return sum(modules.get(m, 0) for m in mods) + sum(curves)
    return cost
