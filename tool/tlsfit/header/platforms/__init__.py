"""The header in the user's platform: ESP-IDF and Zephyr fragments, RT-Thread port lines.

    load(name)                    -> Platform: a mapping table (esp_idf.toml, zephyr.toml)
    decision(plan)                -> {option: value}: what the bare-metal header defines
    tree_defaults(tree)           -> {option: value}: the tree's mbedtls_config.h as shipped
    translate(plan, platform, tree) -> Translation: Kconfig values + overlay operations
    effective(platform, kconfig, overlay, base) -> {option: value} the platform ends with

A platform that owns the configuration (ESP-IDF's esp_config.h, Zephyr's
config-tls-generic.h) turns Kconfig symbols into mbedTLS options and then reads a user
configuration file.  tlsfit says the decision as Kconfig assignments where a symbol
exists, and as `#define`/`#undef` lines in that user file (the overlay) for the rest.
The mapping is data, one table per platform, each row a fact with its source: the
symbol, the options it drives, its polarity (define-undef, define, undef, value,
platform, kconfig), its default, the versions that have it.

Equivalence, the promise every output keeps: the platform's model -- its base (the
tree's default configuration for ESP-IDF, nothing for Zephyr), its fixed options, the
Kconfig symbols at the fragment's values (defaults elsewhere), its derived options,
then the overlay -- defines exactly the options, with the values, that the bare-metal
header defines, over every option except those the platform owns (its allocator,
entropy, clock and accelerators: `owned`).  translate() checks it before anything is
written (a gap is a defect in the table: exit 39), and tests/test_platform.py checks
it again from the written files.
"""
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ...core.errors import RULES, TlsfitError

HERE = Path(__file__).resolve().parent
TABLES = {"esp-idf": "esp_idf.toml", "zephyr": "zephyr.toml"}
TABLES_4 = {"esp-idf-v6": "esp_idf_v6.toml"}     # the Mbed TLS 4.x line (gen --mbedtls 4.0)
POLARITIES = ("define-undef", "define", "undef", "value", "platform", "kconfig")
_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)(?:[ \t]+([^\n]*?))?\s*$")


@dataclass(frozen=True)
class Symbol:
    """One Kconfig symbol: what it drives and how."""
    kconfig: str
    options: tuple
    polarity: str
    default: object               # bool, or int for polarity "value"
    note: str = ""
    why: str = ""                 # platform symbols: why tlsfit sets it
    set: object = None            # platform symbols: the value tlsfit gives it
    range: tuple = None           # value symbols: (lo, hi) Kconfig accepts
    needed_by: tuple = ()         # kconfig symbols: y when one of these is y
    depends: tuple = ()           # Kconfig "depends on": each entry must hold ("A|B": one of
                                  # them; "!A": A off), else the symbol is n
    selects: tuple = ()           # Kconfig "select": y forces these y
    wants: tuple = ()             # kconfig symbols: y when the decision has one of these
    versions: str = ""


@dataclass(frozen=True)
class Derived:
    """A derived option: defined when any / all of the names is defined (or y)."""
    options: tuple
    when_any: tuple = ()
    when_all: tuple = ()


@dataclass(frozen=True)
class Platform:
    name: str
    title: str
    source: str
    versions: str
    base: str                     # "mbedtls_config": starts from the tree's defaults; "none"
    fragment: str
    overlay: str
    cmake: tuple                  # lines for the project's CMakeLists.txt (the overlay is found)
    owned: frozenset
    fixed: tuple
    symbols: tuple
    derived: tuple = ()
    preamble: tuple = ()          # ((symbol, value, why), ...) always in the fragment
    lines: tuple = ()             # the mbedTLS lines a checked release ships ("3.6", ...)
    lines_note: str = ""          # which release ships which line (the refusal says it)
    accelerated: tuple = ()       # ((module, _ALT option, where), ...) in hardware: no flash
    define_as: tuple = ()         # ((name prefix, value), ...): what a symbol defines such names to
    table: str = ""               # the file it was loaded from (esp_idf.toml, ...)

    def symbol(self, name):
        return next(s for s in self.symbols if s.kconfig == name)

    def owns(self, name):
        """Whether the platform owns option `name` (an `owned` entry, or a prefix
        entry ending in "*")."""
        return name in self.owned or any(o.endswith("*") and name.startswith(o[:-1])
                                         for o in self.owned)

    def defined_value(self, name):
        """What a symbol defines option `name` to: True (a plain #define), or the
        define_as value of its prefix."""
        return next((v for p, v in self.define_as if name.startswith(p)), True)


def _bad(table, what):
    return TlsfitError(RULES, f"{table}: {what} (a defect in tlsfit's platform table)")


def _symbol(table, i, row):
    where = f"symbol[{i + 1}] {row.get('kconfig', '?')}"
    if row.get("polarity") not in POLARITIES:
        raise _bad(table, f"{where}: polarity must be one of {', '.join(POLARITIES)}")
    if not str(row.get("kconfig", "")).startswith("CONFIG_"):
        raise _bad(table, f"{where}: kconfig must name a CONFIG_ symbol")
    if row["polarity"] == "value" and not isinstance(row.get("default"), int):
        raise _bad(table, f"{where}: a value symbol needs an int default")
    if row["polarity"] not in ("platform", "kconfig") and not row.get("options"):
        raise _bad(table, f"{where}: names no option")
    known = set(Symbol.__dataclass_fields__)
    extra = set(row) - known
    if extra:
        raise _bad(table, f"{where}: unknown key(s) {', '.join(sorted(extra))}")
    return Symbol(**{k: tuple(v) if isinstance(v, list) else v for k, v in row.items()})


def load(name):
    """The mapping table of platform `name` ("esp-idf", "zephyr"), checked row by row."""
    table = {**TABLES, **TABLES_4}[name]
    doc = tomllib.loads((HERE / table).read_text(encoding="utf-8"))
    symbols = tuple(_symbol(table, i, r) for i, r in enumerate(doc.get("symbol", [])))
    derived = tuple(Derived(tuple(d["options"]), tuple(d.get("when_any", ())),
                            tuple(d.get("when_all", ()))) for d in doc.get("derived", []))
    return Platform(doc["name"], doc["title"], doc["source"], doc["versions"], doc["base"],
                    doc["fragment"], doc["overlay"], tuple(doc.get("cmake", ())),
                    frozenset(o if isinstance(o, str) else o[0] for o in doc.get("owned", ())),
                    tuple(doc.get("fixed", ())), symbols,
                    derived, tuple(tuple(p) for p in doc.get("preamble", ())),
                    tuple(doc.get("lines", ())), doc.get("lines_note", ""),
                    tuple(tuple(a) for a in doc.get("accelerated", ())),
                    tuple(tuple(d) for d in doc.get("define_as", ())), table)


RANKED = ("esp-idf",)             # platforms whose own costs gen can rank by (--rank-for)


def ranked_costs(name, costs):
    """gen's cost table (costs.json) as on platform `name`: the objects it runs in
    hardware (the table's `accelerated`) cost no flash."""
    zero = {module for module, _opt, _where in load(name).accelerated}
    return dict(costs, modules={m: 0 if m in zero else v
                                for m, v in costs.get("modules", {}).items()})


def ranking_note(name):
    """One sentence: why the choice is the hardware's (for the outputs' comments); name:
    a platform name, or a loaded Platform (ESP-IDF v6's table)."""
    p = name if isinstance(name, Platform) else load(name)
    mods = ", ".join(m for m, _o, _w in p.accelerated)
    return (f"candidates ranked as on {p.title}'s hardware: {mods} count as no flash "
            f"({', '.join(dict.fromkeys(o for _m, o, _w in p.accelerated))} in esp_config.h), so the "
            "choice is the one the accelerators favour (e.g. AES-GCM over "
            "ChaCha20-Poly1305); the equivalent bare-metal header is gen's with "
            f"--rank-for {p.name}")


def _config_file(tree, base="mbedtls_config"):
    if base == "crypto_config":            # 4.x: TF-PSA-Crypto's default configuration
        return tree.path / "tf-psa-crypto" / "include" / "psa" / "crypto_config.h"
    inc = tree.path / "include" / "mbedtls"
    return inc / ("mbedtls_config.h" if tree.major >= 3 else "config.h")


def tree_defaults(tree, base="mbedtls_config"):
    """{option: value} the tree's default configuration defines (True for a flag): the
    uncommented #define lines of include/mbedtls/mbedtls_config.h (config.h on 2.x), or
    with base "crypto_config" of 4.x's tf-psa-crypto/include/psa/crypto_config.h."""
    path = _config_file(tree, base)
    text = re.sub(r"/\*.*?\*/", "", path.read_text(errors="replace"), flags=re.S)
    out = {}
    for line in text.splitlines():
        m = _DEFINE.match(line)
        if m and m.group(1).startswith(("MBEDTLS_", "PSA_")) and \
                not m.group(1).endswith(("_H", "_CONFIG_H")):
            out[m.group(1)] = m.group(2).strip() if m.group(2) else True
    return out


def tree_options(tree):
    """Every option name the tree's default configuration mentions, on or commented out
    (4.x: both files, PSA_WANT_ names too)."""
    files = [_config_file(tree)] + ([_config_file(tree, "crypto_config")] if tree.major >= 4
                                    else [])
    return {n for f in files for n in re.findall(
        r"^\s*(?://\s*)?#\s*define\s+((?:MBEDTLS|PSA_WANT)_\w+)",
        f.read_text(errors="replace"), re.M)}


def decision(plan):
    """{option: value} the bare-metal header defines (True for a flag, else the value's
    text as the header writes it): read from the header itself, the one source."""
    out = parse_defines(plan.text)
    out.pop("TLSFIT_TLS_CONFIG_H", None)
    return out


def parse_defines(text):
    """{name: value} of the #define lines of a header (comments removed), in order;
    `#undef NAME` removes the name.  For the tests and the equivalence check."""
    out = {}
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    for line in text.splitlines():
        m = _DEFINE.match(line)
        if m:
            out[m.group(1)] = m.group(2).strip() if m.group(2) else True
            continue
        u = re.match(r"^\s*#\s*undef\s+(\w+)", line)
        if u:
            out.pop(u.group(1), None)
    return out


# ------------------------------------------------------------------ the model

def _true(name, kconfig, state):
    return bool(kconfig.get(name)) if name.startswith("CONFIG_") else name in state


def _holds(term, values):
    if term.startswith("!"):
        return not values.get(term[1:])
    return any(values.get(t) for t in term.split("|"))


def resolve(platform, kconfig):
    """Every symbol's value as Kconfig leaves it: the assignments over the defaults,
    then `select` (forces y, whatever the target's own dependencies) and `depends on`
    (a bool symbol whose dependency fails is n), until nothing changes."""
    values = {s.kconfig: kconfig.get(s.kconfig, s.default) for s in platform.symbols}
    selected = set()
    for _ in range(len(platform.symbols) + 1):
        changed = False
        for s in platform.symbols:
            if values[s.kconfig] is True:
                for t in s.selects:
                    if values.get(t) is not True:
                        values[t], changed = True, True
                    selected.add(t)
        for s in platform.symbols:
            if values[s.kconfig] is True and s.kconfig not in selected and \
                    not all(_holds(d, values) for d in s.depends):
                values[s.kconfig], changed = False, True
        if not changed:
            break
    for s in platform.symbols:            # an int symbol whose depends on fails does not exist
        if s.polarity == "value" and not all(_holds(d, values) for d in s.depends):
            values[s.kconfig] = None
    return values


def effective(platform, kconfig, overlay=(), base=None):
    """The options the platform's configuration ends with: base, fixed, each symbol at
    its value in `kconfig` (its default when absent), the derived options in order,
    then the overlay [("define", name, value) | ("undef", name, None)]."""
    state = dict(base or {}) if platform.base in ("mbedtls_config", "crypto_config") else {}
    for entry in platform.fixed:
        name, _, value = entry.partition(" ")
        if name.startswith("-"):
            state.pop(name[1:], None)
        else:
            state[name] = value.strip() or True
    values = resolve(platform, kconfig)
    for s in platform.symbols:
        v = values[s.kconfig]
        for opt in s.options:
            if s.polarity == "value":
                if all(_holds(d, values) for d in s.depends):
                    state[opt] = str(v)
                else:                     # the symbol does not exist: nor the option
                    state.pop(opt, None)
            elif s.polarity in ("define-undef", "define") and v:
                state[opt] = platform.defined_value(opt)
            elif (s.polarity == "define-undef" and not v) or (s.polarity == "undef" and v):
                state.pop(opt, None)
    for d in platform.derived:
        on = (any(_true(n, values, state) for n in d.when_any) if d.when_any else True) and \
            all(_true(n, values, state) for n in d.when_all)
        if on:
            for opt in d.options:
                state[opt] = platform.defined_value(opt)
    for op, name, value in overlay:
        if op == "undef":
            state.pop(name, None)
        else:
            state[name] = value
    return state


def compared(platform, state):
    """The state without the options the platform owns."""
    return {k: v for k, v in state.items() if not platform.owns(k)}


@dataclass(frozen=True)
class Setting:
    """One fragment line: the symbol, its value, why (a server fact or the reason)."""
    symbol: str
    value: object
    why: str


@dataclass(frozen=True)
class Translation:
    platform: Platform
    settings: tuple                # (Setting, ...) in table order
    overlay: tuple                 # (("define"|"undef", name, value, why), ...)
    want: dict = field(default_factory=dict)

    def kconfig(self):
        return {s.symbol: s.value for s in self.settings}

    def overlay_ops(self):
        return tuple((op, name, value) for op, name, value, _why in self.overlay)


def _reason(plan, name):
    if name in plan.options:
        reasons = plan.options[name]
        return reasons[0] if reasons else "tlsfit"
    if name in plan.values:
        return plan.values[name][1]
    return "the chosen suites" if name == "MBEDTLS_SSL_CIPHERSUITES" else "tlsfit"


def _choose(platform, plan, want):
    """{symbol: value} for every symbol, and why, from what the decision wants."""
    chosen, why = {}, {}
    for s in platform.symbols:
        wanted = [o for o in s.options if o in want]
        if s.polarity == "platform":
            chosen[s.kconfig], why[s.kconfig] = s.set, s.why
        elif s.polarity == "value":
            v = want.get(s.options[0])
            lo, hi = s.range or (0, 1 << 30)
            ok = v is not None and str(v).isdigit() and lo <= int(v) <= hi
            chosen[s.kconfig] = int(v) if ok else s.default
            why[s.kconfig] = _reason(plan, s.options[0]) if ok else \
                f"default: {s.options[0]} is set in the overlay"
        elif s.polarity == "undef":
            chosen[s.kconfig] = not wanted
            why[s.kconfig] = (f"the client needs none of {', '.join(s.options)}"
                              if not wanted else f"{wanted[0]}: {_reason(plan, wanted[0])}")
        elif s.polarity == "kconfig":
            chosen[s.kconfig] = None          # after the others (needed_by)
        else:
            chosen[s.kconfig] = bool(wanted)
            why[s.kconfig] = _reason(plan, wanted[0]) if wanted else \
                f"not needed: nothing the server requires uses {s.options[0]}"
    for s in platform.symbols:
        if s.polarity == "kconfig":
            need = [n for n in s.needed_by if chosen.get(n)] + [w for w in s.wants if w in want]
            chosen[s.kconfig] = bool(need)
            why[s.kconfig] = (f"needed for {need[0]}" if need else "not needed")
    _satisfy(platform, chosen, why)
    return chosen, why


def _satisfy(platform, chosen, why):
    """Turns on what a chosen symbol depends on (the overlay then takes out an option
    the dependency drives but the decision does not want), so Kconfig keeps it."""
    for _ in range(len(platform.symbols)):
        changed = False
        for s in platform.symbols:
            if chosen.get(s.kconfig) is not True:
                continue
            for d in s.depends:
                if d.startswith("!"):
                    continue          # a conflict the tables do not have (TLS 1.3 vs dynamic buffers)
                if not any(chosen.get(t) for t in d.split("|")):
                    first = d.split("|")[0]
                    chosen[first], changed = True, True
                    why[first] = f"Kconfig: {s.kconfig} depends on it"
        if not changed:
            return


def _origin(platform, name, base, values):
    for sym in platform.symbols:
        if name in sym.options and sym.polarity in ("define", "define-undef") and \
                values.get(sym.kconfig) is True:
            return f"{sym.kconfig}=y defines it too"
    if name in (f.split(" ")[0] for f in platform.fixed):
        return f"{platform.title}'s port header defines it always"
    if platform.base in ("mbedtls_config", "crypto_config") and name in base:
        return f"on in mbedTLS's default configuration, which {platform.title}'s starts from"
    return (f"{platform.title}'s configuration defines it with another option (one "
            "symbol drives both, or it is derived)")


def _overlay(platform, plan, want, state, universe, base, values):
    ops = []
    for name in sorted(n for n in universe if not platform.owns(n)):
        have, need = state.get(name), want.get(name)
        if need is None and have is not None:
            ops.append(("undef", name, None,
                        f"not needed by this server; {_origin(platform, name, base, values)}"))
        elif need is not None and have != need:
            if have is not None:
                ops.append(("undef", name, None, f"{platform.title} sets it otherwise"))
            ops.append(("define", name, need, _reason(plan, name)))
    return tuple(ops)


def _settings(platform, chosen, why):
    """The fragment's lines: a symbol whose value differs from its default, the
    platform symbols, and every y; never an n whose `depends on` already fails (its
    prompt is hidden, so Kconfig ignores the line: it is n anyway), nor an n that a
    `select` of another y symbol overrides (Kconfig keeps it y)."""
    values = resolve(platform, {k: v for k, v in chosen.items() if v is not None})
    out = []
    for s in platform.symbols:
        v = chosen[s.kconfig]
        if not (v != s.default or s.polarity == "platform" or (v and s.polarity != "undef")):
            continue
        if (v is False or s.polarity == "value") and (values[s.kconfig] is True or
                                                      not all(_holds(d, values) for d in s.depends)):
            continue              # a select keeps it y (the overlay takes the option out)
        out.append(Setting(s.kconfig, v, why[s.kconfig]))
    return tuple(out)


def translate(plan, platform, tree):
    """The decision said as Kconfig values and an overlay.  Raises TlsfitError(RULES)
    when the model of the result differs from the decision (a gap in the table)."""
    want = decision(plan)
    base = tree_defaults(tree, platform.base)
    chosen, why = _choose(platform, plan, want)
    settings = _settings(platform, chosen, why)
    kconfig = {st.symbol: st.value for st in settings}
    state = effective(platform, kconfig, (), base)
    universe = set(state) | set(want) | tree_options(tree)
    overlay = _overlay(platform, plan, want, state, universe, base, resolve(platform, kconfig))
    t = Translation(platform, settings, overlay, want)
    got = compared(platform, effective(platform, kconfig, t.overlay_ops(), base))
    if got != compared(platform, want):
        diff = sorted(set(got.items()) ^ set(compared(platform, want).items()))[:4]
        raise _bad(platform.table, f"the {platform.title} model differs from the "
                                          f"header: {diff}")
    return t
