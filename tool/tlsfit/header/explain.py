"""gen --explain: every option of the line, on or off, why, and its flash cost; the
candidates each server had, and the verdict on each."""
from . import rules as rules_mod
from .costs import load_costs


def explain(plan, rules=None, costs=None):
    """Every option of the line: on/off, why, and its flash cost (measured by `measure`
    when recorded in costs.json, else the module estimate)."""
    rules = rules or rules_mod.load()
    costs = costs if costs is not None else load_costs()
    measured = costs.get("options", {})
    modules = costs.get("modules", {})
    rows = []
    for name, opt in rules.options.items():
        if plan.line not in opt.lines:
            continue
        on = name in plan.options
        if name in measured:
            flash = f"{measured[name]} B measured"
        elif opt.module:
            flash = f"~{sum(modules.get(m, 0) for m in opt.module)} B est."
        else:
            flash = "-"
        why = "; ".join(plan.options[name]) if on else off_why(plan, name, rules)
        rows.append(("on" if on else "off", name, flash, why))
    for name in sorted(set(plan.options) - set(rules.options)):
        rows.append(("on", name, "-", "; ".join(plan.options[name])))
    for name, (value, why) in plan.values.items():
        rows.append(("=", f"{name} {value}", "-", why))
    out = [f"tlsfit gen --explain: {plan.target}, mbedTLS {plan.line}, policy {plan.policy}",
           "", "candidates (flash estimate of the whole option set):" if len(plan.servers) < 2
           else f"candidates of each server (flash estimate of its option set alone; the "
                f"header's: ~{plan.cost} B):"]
    for label, flash, verdict in plan.considered:
        out.append(f"  {'~' + str(flash) + ' B' if flash is not None else '-':>10}  {label}: {verdict}")
    out += ["", "options:"]
    width = max(len(r[1]) for r in rows if len(r[1]) <= 60)     # a group list overflows
    for state, name, flash, why in sorted(rows, key=lambda r: (r[0] == "off", r[1])):
        out.append(f"  {state:<3} {name:<{width}}  {flash:>16}  {why}")
    return "\n".join(out) + "\n"


def off_why(plan, name, rules):
    """Why --explain lists an option as off."""
    if plan.facts.get("rng") and name in rules.external_rng.drops:
        return rules.external_rng.drops[name]
    if rules.external_rng and name in rules.external_rng.psa:
        return "only with gen --external-rng and PSA Crypto: the device's TRNG feeds PSA"
    resuming = [m for m in rules.resume_modes if name in m.options]
    if resuming:
        modes = ", ".join(dict.fromkeys(f"{m.mode} ({m.fact})" for m in resuming))
        return (f"only with gen --resume, for a server that resumed {modes}" if not
                plan.facts.get("resume") else f"gen --resume: no server resumes {modes}")
    if plan.facts.get("ecc") == "p256m":
        driver = rules.drivers["p256m"]
        if name in driver.provides:
            return f"driver-only P-256: {driver.provides[name]}"
        if name in driver.drops:
            return "driver-only P-256: no RSA or DH, so nothing needs it"
    return "no server fact needs it"
