"""rules_4.toml, loaded and checked: what becomes of each option and value gen emits for
mbedTLS 3.6 on the 4.x line, the key exchanges 4.x removed, and what every 4.x crypto
file defines.  A broken entry is a one-line error (exit 39, TLSFIT_RULES)."""
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ...core.errors import RULES, TlsfitError
from ..rules import read_toml

TABLE_PATH = Path(__file__).resolve().parents[1] / "rules_4.toml"
DESTINATIONS = ("tls", "crypto", "gone", "refuse", "default")
_MAP_KEYS = {"to", "as", "cite", "why", "also", "also_cite", "also_why", "unless_all"}


@dataclass(frozen=True)
class Move:
    """What one 3.6 name becomes on 4.x."""
    name: str
    to: str                       # DESTINATIONS
    names: tuple                  # the 4.x names (empty when gone or refused)
    cite: str                     # "path:line" in the 4.0 tree
    why: str
    also: tuple = ()              # 4.x prerequisites 4.x's checks add
    also_cite: str = None
    also_why: str = None
    unless_all: tuple = ()        # `also` is skipped when all of these are already present


@dataclass(frozen=True)
class KeySlots:
    """One measured handshake kind of [key_slots]: the fewest PSA key slots with which
    gen's pair completed it (`version`, and `with_` a feature of the device's handshake:
    None, "client_cert", "psk", "resume" or "cbc": a suite that is not an AEAD)."""
    version: str
    with_: str
    slots: int
    measured: str                 # what was measured: the kind, and what failed below it


@dataclass(frozen=True)
class Table:
    moves: dict                   # 3.6 name -> Move
    removed_kx: dict              # rules.toml key exchange -> (cite, why)
    crypto_base: dict             # 4.x name -> (cite, why)
    entropy: dict                 # "hardware" / "external" -> (name, cite, why)
    files: dict                   # "tls" / "crypto" -> the 4.0 tree's default config file
    define_as: dict = None        # name prefix -> (value, cite, why)
    client_key: dict = None       # "ec" / "rsa" -> (names, cite, why)
    key_slots: tuple = ()         # KeySlots, each measured kind
    key_slots_note: tuple = None  # (cite, command, note): where the option is, how measured

    def slots_for(self, versions, withs):
        """(MBEDTLS_PSA_KEY_SLOT_COUNT, [the KeySlots that set it]) for a device whose
        handshakes use `versions` with the features `withs`: per version, the measured
        minimum of its plain kind plus what each feature's kind measured above it
        (features together are added: a combination not measured is not guessed
        smaller), the largest over the versions (None when no version is measured)."""
        best = (None, [])
        for version in sorted(versions):
            base = next((k for k in self.key_slots if k.version == version and k.with_ is None),
                        None)
            if base is None:
                continue
            extra = [k for k in self.key_slots if k.version == version and k.with_ in withs]
            total = base.slots + sum(k.slots - base.slots for k in extra)
            if best[0] is None or total > best[0]:
                best = (total, [base, *extra])
        return best

    def value_of(self, name):
        """What `name` is defined to (None: a plain #define)."""
        return next((v[0] for p, v in (self.define_as or {}).items() if name.startswith(p)),
                    None)

    def cited(self):
        """Every (cite, what it must state) pair, for the check against the 4.0 tree."""
        out = [(m.cite, m) for m in self.moves.values()]
        out += [(m.also_cite, m) for m in self.moves.values() if m.also]
        out += [(v[1], k) for k, v in (self.client_key or {}).items()]
        if self.key_slots_note:
            out.append((self.key_slots_note[0], "key_slots"))
        return out + [(v[1], p) for p, v in (self.define_as or {}).items()]

    def emitted_names(self):
        """Every 4.x name this table can put into a file."""
        names = {n for m in self.moves.values() for n in (*m.names, *m.also)}
        names |= set(self.crypto_base) | {v[0] for v in self.entropy.values()}
        names |= {n for v in (self.client_key or {}).values() for n in v[0]}
        return names


def _fail(where, what):
    raise TlsfitError(RULES, f"rules_4.toml: {where}: {what}")


def _cite(where, value):
    path, _, line = str(value or "").rpartition(":")
    if not path or not line.isdigit():
        _fail(where, f"cite {value!r} is not PATH:LINE")
    return value


def _move(name, v):
    where = f"[map.{name}]"
    unknown = set(v) - _MAP_KEYS
    if unknown:
        _fail(where, f"unknown key(s) {', '.join(sorted(unknown))}")
    if v.get("to") not in DESTINATIONS:
        _fail(where, f"`to` must be one of {', '.join(DESTINATIONS)}")
    if not v.get("why"):
        _fail(where, "no `why`: every entry gives its reason")
    names = tuple(v.get("as", [name] if v["to"] in ("tls", "crypto") else []))
    if v["to"] in ("gone", "refuse", "default") and names:
        _fail(where, f"`as` on an entry that is {v['to']}")
    also = tuple(v.get("also", ()))
    if also and not (v.get("also_cite") and v.get("also_why")):
        _fail(where, "`also` needs also_cite and also_why")
    return Move(name, v["to"], names, _cite(where, v.get("cite")), v["why"], also,
                _cite(where, v["also_cite"]) if also else None, v.get("also_why"),
                tuple(v.get("unless_all", ())))


def check(doc):
    if doc.get("schema") != 1 or doc.get("line") != "4.0":
        _fail("top", "schema must be 1 and line \"4.0\"")
    moves = {name: _move(name, v) for name, v in doc.get("map", {}).items()}
    removed = {}
    for kx, v in doc.get("removed_kx", {}).items():
        if not v.get("why"):
            _fail(f"[removed_kx.{kx}]", "no `why`")
        removed[kx] = (_cite(f"[removed_kx.{kx}]", v.get("cite")), v["why"])
    base = {}
    for name, v in doc.get("crypto_base", {}).items():
        if not (isinstance(v, list) and len(v) == 2):
            _fail(f"[crypto_base] {name}", "must be [cite, why]")
        base[name] = (_cite(f"[crypto_base] {name}", v[0]), v[1])
    entropy = {}
    for key in ("hardware", "external"):
        v = doc.get("entropy", {}).get(key)
        if not (isinstance(v, list) and len(v) == 3):
            _fail(f"[entropy] {key}", "must be [name, cite, why]")
        entropy[key] = (v[0], _cite(f"[entropy] {key}", v[1]), v[2])
    files = doc.get("files", {})
    if set(files) != {"tls", "crypto"}:
        _fail("[files]", "needs tls and crypto")
    define_as = {}
    for prefix, v in doc.get("define_as", {}).items():
        if not (isinstance(v, list) and len(v) == 3):
            _fail(f"[define_as] {prefix}", "must be [value, cite, why]")
        define_as[prefix] = (v[0], _cite(f"[define_as] {prefix}", v[1]), v[2])
    client_key = {}
    for key in ("ec", "rsa"):
        v = doc.get("client_key", {}).get(key)
        if not (isinstance(v, list) and len(v) == 3 and isinstance(v[0], list)):
            _fail(f"[client_key] {key}", "must be [[names], cite, why]")
        client_key[key] = (tuple(v[0]), _cite(f"[client_key] {key}", v[1]), v[2])
    slots, note = _key_slots(doc.get("key_slots", {}))
    return Table(moves, removed, base, entropy, dict(files), define_as, client_key, slots,
                 note)


KEY_SLOT_WITH = (None, "client_cert", "psk", "resume", "cbc")


def _key_slots(doc):
    """[key_slots]: cite, command, note and the measured kinds."""
    if not doc:
        return (), None
    where = "[key_slots]"
    if not (doc.get("command") and doc.get("note")):
        _fail(where, "needs command and note: how the counts were measured")
    kinds = []
    for i, k in enumerate(doc.get("kind", []), 1):
        w = f"[[key_slots.kind]] {i}"
        if k.get("version") not in ("TLSv1.2", "TLSv1.3") or k.get("with") not in KEY_SLOT_WITH:
            _fail(w, "version must be TLSv1.2 or TLSv1.3, with one of "
                     "client_cert, psk, resume, cbc or absent")
        if not (isinstance(k.get("slots"), int) and k["slots"] > 0 and k.get("measured")):
            _fail(w, "needs slots (a whole number > 0) and measured")
        kinds.append(KeySlots(k["version"], k.get("with"), k["slots"], k["measured"]))
    return tuple(kinds), (_cite(where, doc.get("cite")), doc["command"], doc["note"])


@lru_cache(maxsize=None)
def load(path=TABLE_PATH):
    return check(read_toml(path))
