"""Checks of the two *measured* tables: they cannot be re-made in a test (cross
builds, QEMU, noisy instruction counts), so the check is that each still covers
exactly what its generator would measure today and names the tree it was measured on.

    costs_problems(costs, rules, tree)      tool/tlsfit/header/costs.json
    knob_costs_problems(table, rules, bench, tree)
                                            tool/tlsfit/fit/knob_costs.json

Each returns a list of one-line problems (empty: consistent).  `bench` is the
module bench/knob_costs.py (its SCENARIOS, settings_for and key_of say what it
measures); load_bench_script() imports it.
"""
import importlib.util

from ..core import paths

P256M_DIR = ("3rdparty", "p256-m")        # p256-m.c, p256-m_driver_entrypoints.c


def load_bench_script(name):
    """bench/NAME.py imported as a module (the bench scripts are not a package)."""
    path = paths.repo_root() / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"tlsfit_bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _compare(what, recorded, wanted):
    out = [f"{what}: {k} is no longer measured (not in the current inputs)"
           for k in sorted(set(recorded) - set(wanted))]
    out += [f"{what}: {k} is missing (new since the table was measured)"
            for k in sorted(set(wanted) - set(recorded))]
    return out


def costs_problems(costs, rules, tree):
    """costs.json against rules.toml and the mbedTLS 3.6 tree: curves are exactly the
    supported curves, modules are source files of the tree (library/*.c, p256-m),
    options are rules options, and the table names the tree's version."""
    out = []
    if costs.get("mbedtls") != tree.label:
        out.append(f"costs.json: measured on mbedTLS {costs.get('mbedtls')!r}, the set-up "
                   f"tree is {tree.label!r}")
    curves = [n for n, f in rules.facts["curves"].items() if not f.unsupported]
    out += _compare("costs.json curves", costs.get("curves", {}), curves)
    sources = {p.name for p in (tree.path / "library").glob("*.c")}
    sources |= {p.name for p in tree.path.joinpath(*P256M_DIR).rglob("*.c")}
    out += [f"costs.json modules: {m} is not a source file of {tree.path}"
            for m in sorted(set(costs.get("modules", {})) - sources)]
    out += [f"costs.json options: {o} is not an option of rules.toml"
            for o in sorted(set(costs.get("options", {})) - set(rules.options))]
    return out


def _recorded_key(entry):
    """A "skipped" entry's setting: "KEY" or "KEY (same header as OTHER)"."""
    return entry.split(" (", 1)[0]


def knob_costs_problems(table, rules, bench, tree):
    """knob_costs.json against rules.toml [knobs] and bench/knob_costs.py: every
    scenario is one the script knows, holds exactly the single-knob settings the
    script would try now (measured or skipped), its combos and lean knobs name
    current knobs only, and the table names the tree's version."""
    out = []
    if table.get("mbedtls") != tree.version:
        out.append(f"knob_costs.json: measured on mbedTLS {table.get('mbedtls')!r}, the "
                   f"set-up tree is {tree.version!r}")
    settings = bench.settings_for(rules)
    for name, sc in sorted(table.get("scenarios", {}).items()):
        if name not in bench.SCENARIOS:
            out.append(f"knob_costs.json: scenario {name} is not in bench/knob_costs.py")
            continue
        only = bench.SCENARIOS[name][2]
        wanted = {bench.key_of({k: v}) for k, v in settings if only is None or k.startswith(only)}
        singles = set(sc.get("knobs", {}))
        singles |= {_recorded_key(s) for s in sc.get("skipped", ()) if "+" not in _recorded_key(s)}
        out += _compare(f"knob_costs.json {name} knobs", singles, wanted)
        combo_knobs = {part.split("=", 1)[0] for key in sc.get("combos", {})
                       for part in key.split("+")}
        out += [f"knob_costs.json {name}: {k} ({where}) is not a knob of rules.toml"
                for where, names in (("combos", combo_knobs), ("lean_knobs", sc.get("lean_knobs", {})))
                for k in sorted(set(names) - set(rules.knobs))]
    return out
