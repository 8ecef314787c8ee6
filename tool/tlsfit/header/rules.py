"""tlsfit's rules (tool/tlsfit/rules.toml): loaded, checked, and asked.

    rules = load()                      # the checked rules; RULES error (exit 39) if broken
    rules.fact("groups", "x25519", "3.6") -> Fact(options=[...], unsupported=None)
    rules.closure({"MBEDTLS_GCM_C": ["why"]}, "3.6", cost) -> {option: [reasons]}

Everything gen knows about mbedTLS lives in the TOML file; this module only reads it.
check() walks every entry once (unknown keys, unknown option names, requirements that
point at options a line lacks) so a typo fails before any header is rendered.
"""
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..core.errors import RULES, TlsfitError

RULES_PATH = Path(__file__).resolve().parent / "rules.toml"
SECTIONS = ("system", "entropy", "crypto", "psa", "pk", "x509", "tls")
# Names gen may define: mbedTLS options, and PSA mechanisms (PSA_WANT_*).
NAME_PREFIXES = ("MBEDTLS_", "PSA_WANT_")
FACT_TABLES = ("versions", "kx", "ciphers", "hashes", "curves", "groups", "sigalgs",
               "cert_keys", "cert_sigs")
_OPTION_KEYS = {"section", "module", "requires", "lines", "doc", "value"}
_FACT_KEYS = {
    "versions": set(),
    "kx": {"forward_secret", "auth", "uses_group", "signed"},
    "ciphers": {"aead"},
    "hashes": {"x509_default"},
    "curves": {"bits", "x509_default"},
    "groups": {"curve", "ecp_id", "iana_id"},
    "sigalgs": {"hash", "key", "curve", "tls12_only"},
    "cert_keys": {"min_bits"},
    "cert_sigs": {"names", "parse"},
}
_KNOB_KEYS = {"section", "value", "default", "when", "unless", "lines", "why"}
_DEFECT_KEYS = {"line", "version", "all", "server_signs", "reason"}
_ROUTE_KEYS = {"line", "version", "all", "none", "route", "reason"}
_EXTERNAL_RNG_KEYS = {"drops", "psa", "psa_owes", "plain", "plain_owes", "marker", "needs"}
_RNG_NEED_KEYS = {"line", "when", "add", "reason"}
_RESUME_MODE_KEYS = {"mode", "version", "fact", "options", "reason", "owes"}
_DRIVER_KEYS = {"line", "curves", "provides", "drops", "options", "values", "versions",
                "ciphers"}


@dataclass(frozen=True)
class Option:
    name: str
    section: str
    module: tuple
    requires: tuple          # each item: a name, or a tuple of names (any one of them)
    lines: tuple
    doc: str
    value: str = None        # None: a plain #define; else what the name is defined to


@dataclass(frozen=True)
class Fact:
    """What one server fact needs on one line: options, or why it cannot be served."""
    table: str
    key: str
    options: tuple = ()
    unsupported: str = None
    attrs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Knob:
    name: str
    section: str
    value: object            # None: a boolean define
    when: tuple              # requirement items, as in Option.requires
    unless: tuple
    lines: tuple
    why: str
    default: bool = True     # False: only when fit asks for it


@dataclass(frozen=True)
class Defect:
    line: str
    version: str
    all: tuple
    server_signs: tuple
    reason: str
    none: tuple = ()
    route: tuple = ()        # options that route around it (then server_signs is empty)


@dataclass(frozen=True)
class ExternalRng:
    """The device's TRNG in place of the entropy module and DRBG (rules.toml
    [external_rng], gen --external-rng)."""
    drops: dict              # option -> why it can go (a requirement on it is then met)
    psa: tuple               # options added when the PSA core is in the header
    psa_owes: tuple          # what the application then owes (the header's lines)
    plain: str               # why a header without the PSA core gets none for it
    plain_owes: tuple
    marker: tuple            # (name, value, reason): the define the harnesses read
    needs: tuple = ()        # ((line, when, add, reason), ...): what a line then wants


@dataclass(frozen=True)
class ResumeMode:
    """One way of resuming a session (rules.toml [[resumption.modes]], gen --resume)."""
    mode: str                # the TLSFIT_RESUME_MODE value
    version: str             # the negotiated version it serves
    fact: str                # the profile's resumption.<version> boolean that proves it
    options: tuple           # what the client needs for it
    reason: str
    owes: str                # what the application then does (a format string, {lifetime})


@dataclass(frozen=True)
class Driver:
    """A PSA driver that takes the place of legacy modules (rules.toml [drivers])."""
    name: str
    line: str
    curves: tuple
    provides: dict           # legacy option -> how the driver takes its place
    drops: tuple
    options: tuple
    values: dict             # name -> (value, reason)
    versions: dict           # TLS version -> options
    ciphers: dict            # cipher -> options


class RulesError(TlsfitError):
    def __init__(self, where, what):
        super().__init__(RULES, f"{RULES_PATH.name}: {where}: {what}")


def _as_items(value, where):
    """A requires/when list: names, or lists of names (any-of) -> tuple of str/tuple."""
    if not isinstance(value, list):
        raise RulesError(where, "must be a list")
    items = []
    for v in value:
        if isinstance(v, str):
            items.append(v)
        elif isinstance(v, list) and v and all(isinstance(x, str) for x in v):
            items.append(tuple(v))
        else:
            raise RulesError(where, f"entry {v!r} is neither an option name nor a list of them")
    return tuple(items)


def _names(items):
    for it in items:
        yield from ((it,) if isinstance(it, str) else it)


class Rules:
    def __init__(self, doc):
        self.doc = doc
        self.lines = tuple(doc["lines"])
        self.options = {}
        self.facts = {}
        self.suites = {}
        self.knobs = {}
        self.defects = []
        self.drivers = {}
        self.external_rng = None
        self.resume_modes = ()               # ResumeMode, cheapest first ([resumption])
        self.base = {}
        self.preference = {}
        self.psk = {}            # [psk]: certificate_only, why, no_sni, max_len
        self.dtls = {}

    # -------------------------------------------------------------- queries

    def available(self, name, line):
        return line in self.options[name].lines

    def fact(self, table, key, line):
        """The Fact for `key` in `table` on `line`; unsupported when the rules have no
        entry, say it cannot be served, or need an option the line lacks."""
        entry = self.facts[table].get(key)
        if entry is None:
            return Fact(table, key, unsupported=f"tlsfit's rules have no entry for {key}")
        if entry.unsupported:
            return entry
        opts = entry.options
        if isinstance(opts, dict):
            if line not in opts:
                return Fact(table, key, unsupported=f"mbedTLS {line} cannot serve {key}",
                            attrs=entry.attrs)
            opts = opts[line]
        missing = [o for o in opts if not self.available(o, line)]
        if missing:
            return Fact(table, key, unsupported=f"needs {', '.join(missing)}, which mbedTLS "
                                                f"{line} does not have", attrs=entry.attrs)
        return Fact(table, key, tuple(opts), None, entry.attrs)

    def cert_sig_family(self, name):
        for key, entry in self.facts["cert_sigs"].items():
            if name in entry.attrs.get("names", ()):
                return key
        return None

    def holds(self, item, enabled):
        return item in enabled if isinstance(item, str) else any(x in enabled for x in item)

    def closure(self, wanted, line, cost, provided=()):
        """Close `wanted` ({option: [reasons]}) under `requires` on `line`.

        An any-of requirement already met by an enabled option costs nothing; otherwise
        the alternative whose own closure adds the least flash (cost(options) -> bytes)
        is taken.  A requirement on a `provided` option (a driver's Driver.provides) is
        met without it.  Returns a new {option: [reasons]}; reasons of added options name
        the option that required them."""
        enabled = {k: list(v) for k, v in wanted.items()}
        changed = True
        while changed:
            changed = False
            for name in sorted(enabled):
                for item in self.options[name].requires:
                    if self.holds(item, enabled) or self.holds(item, provided):
                        continue
                    alts = [item] if isinstance(item, str) else list(item)
                    alts = [a for a in alts if self.available(a, line)]
                    if not alts:
                        raise TlsfitError(RULES, f"{name} needs {item} on mbedTLS {line}, which "
                                                 "has none of it (a gap in rules.toml)")
                    pick = min(alts, key=lambda a: (self._added_cost(enabled, a, line, cost),
                                                    alts.index(a)))
                    enabled.setdefault(pick, []).append(f"required by {name}")
                    changed = True
        return enabled

    def _added_cost(self, enabled, name, line, cost):
        trial = dict(enabled)
        trial[name] = ["trial"]
        # plain requirements only: enough to rank alternatives
        stack = [name]
        while stack:
            n = stack.pop()
            for item in self.options[n].requires:
                if isinstance(item, str) and item not in trial and self.available(item, line):
                    trial[item] = ["trial"]
                    stack.append(item)
        return cost(set(trial)) - cost(set(enabled))

    def section(self, name):
        """The header section of an option or knob."""
        if name in self.options:
            return self.options[name].section
        return self.knobs[name].section

    def knobs_for(self, enabled, line):
        """The knobs that apply to this option set on this line, in file order."""
        return [k for k in self.knobs.values()
                if line in k.lines
                and all(self.holds(w, enabled) for w in k.when)
                and not any(u in enabled for u in k.unless)]


# ------------------------------------------------------------------ loading and checks

def _check_option(name, v):
    where = f"options.{name}"
    if not name.startswith(NAME_PREFIXES):
        raise RulesError(where, f"option names start with one of {NAME_PREFIXES}")
    extra = set(v) - _OPTION_KEYS
    if extra:
        raise RulesError(where, f"unknown key(s) {sorted(extra)}")
    section = v.get("section")
    if section not in SECTIONS:
        raise RulesError(where, f"section must be one of {SECTIONS}, not {section!r}")
    if not isinstance(v.get("doc"), str) or not v["doc"]:
        raise RulesError(where, "needs a doc string")
    if not isinstance(v.get("value", ""), str):
        raise RulesError(where, "a value is the C text the name is defined to, as a string")
    return v


def _fact(table, key, v, rules):
    where = f"{table}.{key}"
    if not isinstance(v, dict):
        raise RulesError(where, "must be a table")
    allowed = _FACT_KEYS[table] | {"options", "unsupported"}
    extra = set(v) - allowed
    if extra:
        raise RulesError(where, f"unknown key(s) {sorted(extra)}")
    if ("options" in v) == ("unsupported" in v) and table != "cert_sigs":
        raise RulesError(where, "needs exactly one of `options` and `unsupported`")
    opts = v.get("options", [])
    if isinstance(opts, dict):
        for line, names in opts.items():
            if line not in rules.lines:
                raise RulesError(where, f"unknown line {line!r}")
            opts[line] = tuple(names)
            _known(names, where, rules)
    else:
        opts = tuple(opts)
        _known(opts, where, rules)
    if "parse" in v:                  # cert_sigs: what parsing such a certificate needs
        _known(v["parse"], f"{where}.parse", rules)
        v["parse"] = tuple(v["parse"])
    attrs = {k: v[k] for k in v if k not in ("options", "unsupported")}
    return Fact(table, key, opts, v.get("unsupported"), attrs)


def _known(names, where, rules):
    for n in names:
        if n not in rules.options:
            raise RulesError(where, f"unknown option {n}")


def check(doc):
    """Build a Rules from the parsed TOML, or raise RulesError naming the first problem."""
    if doc.get("schema") != 1:
        raise RulesError("schema", "expected schema = 1")
    rules = Rules(doc)
    _check_options(doc, rules)
    _check_base(doc, rules)
    _check_psk(doc, rules)
    for table in FACT_TABLES:
        rules.facts[table] = {k: _fact(table, k, v, rules) for k, v in doc.get(table, {}).items()}
    _check_suites(doc, rules)
    _check_preference(doc, rules)
    _check_knobs(doc, rules)
    _check_defects(doc, rules)
    for name, v in doc.get("drivers", {}).items():
        rules.drivers[name] = _driver(name, v, rules)
    if "external_rng" in doc:
        rules.external_rng = _external_rng(doc["external_rng"], rules)
    if "resumption" in doc:
        rules.resume_modes = _resume_modes(doc["resumption"], rules)
    rules.dtls = _check_dtls(doc.get("dtls", {}), rules)
    return rules


_DTLS_KEYS = {"options", "connection_id", "connection_id_unsupported", "excluded"}


def _check_dtls(v, rules):
    """[dtls]: the options a DTLS client has, the Connection ID's, the lines that cannot
    use it (why), the options left out (why; names only, never defined)."""
    extra = set(v) - _DTLS_KEYS
    if extra:
        raise RulesError("dtls", f"unknown key(s) {sorted(extra)}")
    _known(v.get("options", []), "dtls.options", rules)
    _known(v.get("connection_id", []), "dtls.connection_id", rules)
    for line in v.get("connection_id_unsupported", {}):
        if line not in rules.lines:
            raise RulesError("dtls.connection_id_unsupported", f"unknown line {line!r}")
    for name in v.get("excluded", {}):
        if not name.startswith("MBEDTLS_") or name in rules.options:
            raise RulesError("dtls.excluded", f"{name} is not an mbedTLS option gen leaves out")
    return v


def _check_options(doc, rules):
    """[options.*]: each option's section, modules, requirements and lines."""
    for name, v in doc.get("options", {}).items():
        _check_option(name, v)
        lines = tuple(v.get("lines", rules.lines))
        if not set(lines) <= set(rules.lines):
            raise RulesError(f"options.{name}", f"unknown line in {lines}")
        rules.options[name] = Option(name, v["section"], tuple(v.get("module", ())),
                                     _as_items(v.get("requires", []), f"options.{name}.requires"),
                                     lines, v["doc"], v.get("value"))
    for name, opt in rules.options.items():
        for item in _names(opt.requires):
            if item not in rules.options:
                raise RulesError(f"options.{name}.requires", f"unknown option {item}")
        for line in opt.lines:
            for item in opt.requires:
                alts = (item,) if isinstance(item, str) else item
                if not any(line in rules.options[a].lines for a in alts):
                    raise RulesError(f"options.{name}.requires",
                                     f"{item} is not available on mbedTLS {line}")


def _check_base(doc, rules):
    """[base]: the options every header has, and its any-of groups."""
    base = doc.get("base", {})
    for key in ("options", "time", "pem", "sni", "alpn"):
        _known(base.get(key, []), f"base.{key}", rules)
        rules.base[key] = tuple(base.get(key, []))
    rules.base["any_of"] = _as_items(base.get("any_of", []), "base.any_of")
    _known(_names(rules.base["any_of"]), "base.any_of", rules)


def _check_psk(doc, rules):
    """[psk]: the [base] options a PSK-only header leaves out, and the header's words."""
    if "psk" not in doc:
        return                       # a rules document without PSK knowledge (unit tests)
    v = doc["psk"]
    extra = set(v) - {"certificate_only", "why", "no_sni", "max_len"}
    if extra:
        raise RulesError("psk", f"unknown key(s) {sorted(extra)}")
    _known(v.get("certificate_only", []), "psk.certificate_only", rules)
    for key in ("why", "no_sni", "max_len"):
        if not isinstance(v.get(key), str) or not v[key]:
            raise RulesError(f"psk.{key}", "needs a string")
    rules.psk = {**v, "certificate_only": tuple(v.get("certificate_only", []))}


def _check_suites(doc, rules):
    """[suites]: each suite's key exchange, cipher, MAC and PRF hash."""
    for name, row in doc.get("suites", {}).items():
        where = f"suites.{name}"
        if not (isinstance(row, list) and len(row) == 4):
            raise RulesError(where, "must be [key exchange, cipher, MAC, PRF hash]")
        kx, cipher, mac, prf = row
        if kx not in rules.facts["kx"]:
            raise RulesError(where, f"unknown key exchange {kx}")
        if cipher not in rules.facts["ciphers"]:
            raise RulesError(where, f"unknown cipher {cipher}")
        if mac != "aead" and mac not in rules.facts["hashes"]:
            raise RulesError(where, f"unknown MAC {mac}")
        if prf not in rules.facts["hashes"]:
            raise RulesError(where, f"unknown PRF hash {prf}")
        if (mac == "aead") != rules.facts["ciphers"][cipher].attrs["aead"]:
            raise RulesError(where, "MAC must be 'aead' exactly when the cipher is AEAD")
        rules.suites[name] = tuple(row)


def _check_preference(doc, rules):
    """[preference]: the tie-break lists."""
    for table, names in doc.get("preference", {}).items():
        known = {"kx": rules.facts["kx"], "ciphers": rules.facts["ciphers"],
                 "groups": rules.facts["groups"], "hashes": rules.facts["hashes"]}.get(table)
        if known is None:
            raise RulesError(f"preference.{table}", "unknown preference list")
        for n in names:
            if n not in known:
                raise RulesError(f"preference.{table}", f"unknown entry {n}")
        rules.preference[table] = tuple(names)


def _check_knobs(doc, rules):
    """[knobs]: each knob's conditions, section, value and reason."""
    for name, v in doc.get("knobs", {}).items():
        where = f"knobs.{name}"
        extra = set(v) - _KNOB_KEYS
        if extra:
            raise RulesError(where, f"unknown key(s) {sorted(extra)}")
        when = _as_items(v.get("when", []), where + ".when")
        unless = tuple(v.get("unless", []))
        _known(list(_names(when)) + list(unless), where, rules)
        if not isinstance(v.get("why"), str):
            raise RulesError(where, "needs a `why`")
        if v.get("section") not in SECTIONS:
            raise RulesError(where, f"section must be one of {SECTIONS}")
        rules.knobs[name] = Knob(name, v["section"], v.get("value"), when, unless,
                                 tuple(v.get("lines", rules.lines)), v["why"],
                                 bool(v.get("default", True)))


def _check_defects(doc, rules):
    """[[defects]]: known library defects, and the ones routed around."""
    for i, v in enumerate(doc.get("defects", [])):
        where = f"defects[{i}]"
        if set(v) == _ROUTE_KEYS:
            _known(list(v["all"]) + list(v["none"]) + list(v["route"]), where, rules)
            rules.defects.append(Defect(v["line"], v["version"], tuple(v["all"]), (),
                                        v["reason"], tuple(v["none"]), tuple(v["route"])))
            continue
        if set(v) != _DEFECT_KEYS:
            raise RulesError(where, f"needs exactly the keys {sorted(_DEFECT_KEYS)} (or "
                                    f"{sorted(_ROUTE_KEYS)} for a defect routed around)")
        _known(v["all"], where, rules)
        rules.defects.append(Defect(v["line"], v["version"], tuple(v["all"]),
                                    tuple(v["server_signs"]), v["reason"]))


def _external_rng(v, rules):
    where = "external_rng"
    if set(v) != _EXTERNAL_RNG_KEYS:
        raise RulesError(where, f"needs exactly the keys {sorted(_EXTERNAL_RNG_KEYS)}")
    drops = dict(v["drops"])
    _known(list(drops) + list(v["psa"]), where, rules)
    for name, why in drops.items():
        if not isinstance(why, str) or not why:
            raise RulesError(f"{where}.drops.{name}", "needs the reason it can go")
    for key in ("psa_owes", "plain_owes"):
        if not v[key] or not all(isinstance(x, str) for x in v[key]):
            raise RulesError(f"{where}.{key}", "must be a list of lines")
    marker = v["marker"]
    if not (isinstance(marker, list) and len(marker) == 3 and isinstance(marker[0], str)
            and marker[0].startswith("TLSFIT_") and isinstance(marker[2], str)):
        raise RulesError(f"{where}.marker", "must be [TLSFIT_NAME, value, reason]")
    needs = []
    for i, n in enumerate(v["needs"]):
        if not isinstance(n, dict) or set(n) != _RNG_NEED_KEYS or n["line"] not in rules.lines:
            raise RulesError(f"{where}.needs[{i}]", f"needs exactly the keys "
                                                    f"{sorted(_RNG_NEED_KEYS)} and a known line")
        _known(list(n["when"]) + list(n["add"]), f"{where}.needs[{i}]", rules)
        needs.append((n["line"], tuple(n["when"]), tuple(n["add"]), n["reason"]))
    return ExternalRng(drops, tuple(v["psa"]), tuple(v["psa_owes"]), v["plain"],
                       tuple(v["plain_owes"]), tuple(marker), tuple(needs))


def _resume_modes(v, rules):
    """[resumption]: the modes, each with a known version, its fact, known options, a
    reason and an `owes` key of [resumption.owes]."""
    owes = v.get("owes", {})
    if set(v) != {"modes", "owes"} or not all(isinstance(x, str) and x for x in owes.values()):
        raise RulesError("resumption", "needs exactly `modes` and `owes` (format strings)")
    out = []
    for i, m in enumerate(v["modes"]):
        where = f"resumption.modes[{i}]"
        if not isinstance(m, dict) or set(m) != _RESUME_MODE_KEYS:
            raise RulesError(where, f"needs exactly the keys {sorted(_RESUME_MODE_KEYS)}")
        if m["version"] not in rules.facts["versions"] or m["owes"] not in owes:
            raise RulesError(where, "unknown version or `owes` key")
        _known(m["options"], where, rules)
        out.append(ResumeMode(m["mode"], m["version"], m["fact"], tuple(m["options"]),
                              m["reason"], owes[m["owes"]]))
    return tuple(out)


def _driver(name, v, rules):
    where = f"drivers.{name}"
    extra = set(v) - _DRIVER_KEYS
    if extra:
        raise RulesError(where, f"unknown key(s) {sorted(extra)}")
    if v.get("line") not in rules.lines:
        raise RulesError(where, f"line must be one of {rules.lines}")
    for c in v.get("curves", []):
        if c not in rules.facts["curves"]:
            raise RulesError(where, f"unknown curve {c}")
    provides = dict(v.get("provides", {}))
    versions = {k: tuple(o) for k, o in v.get("versions", {}).items()}
    ciphers = {k: tuple(o) for k, o in v.get("ciphers", {}).items()}
    for k in versions:
        if k not in rules.facts["versions"]:
            raise RulesError(where, f"unknown version {k}")
    for k in ciphers:
        if k not in rules.facts["ciphers"]:
            raise RulesError(where, f"unknown cipher {k}")
    names = list(provides) + list(v.get("drops", [])) + list(v.get("options", [])) + \
        [o for opts in list(versions.values()) + list(ciphers.values()) for o in opts]
    _known(names, where, rules)
    values = {}
    for k, pair in v.get("values", {}).items():
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], str)):
            raise RulesError(f"{where}.values.{k}", "must be [value, reason]")
        values[k] = (pair[0], pair[1])
    return Driver(name, v["line"], tuple(v.get("curves", [])), provides,
                  tuple(v.get("drops", [])), tuple(v.get("options", [])), values, versions,
                  ciphers)


def read_toml(path):
    """The TOML document of a rules file, or TlsfitError(RULES) naming the file."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise TlsfitError(RULES, f"cannot read {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise TlsfitError(RULES, f"{Path(path).name}: not valid TOML: {e}") from None


@lru_cache(maxsize=None)
def load(path=RULES_PATH):
    return check(read_toml(path))
