"""The profile library: profiles/NAME.json, shipped with tlsfit or saved by
`tlsfit probe HOST --save NAME`.

    resolve(name_or_path, directory=None) -> Path
        NAME (letters, digits, '.', '_', '-') means <directory>/NAME.json when that
        file exists; anything else, or a NAME with no such profile, is a path.  When
        neither exists: TlsfitError(PROFILE) naming the available names.
    entries(directory=None) -> tuple of ProfileEntry, sorted by name
        every profile of the library, validated, with its key facts.
    entry(path, name=None) -> ProfileEntry of one profile file.

directory defaults to the repository's profiles/ (core.paths.profiles_dir()).  An
invalid profile in the library is a PROFILE error naming the file: the library is
data the other commands trust.
"""
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from ..core import paths
from ..core.errors import PROFILE, TlsfitError
from . import model

NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*\Z")   # probe.check_save_name's rule
SUFFIX = ".json"
# How a key reads in a chain shape: (type) -> label; EC keys by their curve.
KEY_LABELS = {"rsa": "RSA-{bits}", "rsa-pss": "RSA-PSS-{bits}", "dsa": "DSA-{bits}",
              "ed25519": "Ed25519", "ed448": "Ed448", "unknown": "unknown-{bits}"}
CURVE_LABELS = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521",
                "secp224r1": "P-224", "secp192r1": "P-192"}


@dataclass(frozen=True)
class ProfileEntry:
    """One profile of the library and the facts `tlsfit profiles` shows.

    default_suite is what the server picks for a client offering everything it
    accepts: the first suite of its newest version (its own order when
    server_order is true, else the order tlsfit offered; None: no suite).
    chain is the shape of the certification path, e.g.
    "3 certs: ECDSA P-256 <- ECDSA P-256 <- ECDSA P-384 (root sent: no)";
    chain_certs counts the path with its anchor; root_sent says the server sent
    the anchor (None: no anchor found).  largest_record is records.max_record_len.
    software is provenance.server's software and version, "nginx 1.22.1-9" (None for
    a profile without them)."""
    name: str
    path: Path
    versions: tuple
    default_suite: str
    server_order: bool
    chain: str
    chain_certs: int
    root_sent: bool
    largest_record: int
    client_cert: bool
    software: str
    probed_at: str

    def to_json(self):
        d = asdict(self)
        d["path"] = str(self.path)
        d["versions"] = list(self.versions)
        return d


def library_dir(directory=None):
    return Path(directory) if directory is not None else paths.profiles_dir()


def names(directory=None):
    """The names of the library's profiles, sorted (files NAME.json only)."""
    d = library_dir(directory)
    try:
        found = [p.name[:-len(SUFFIX)] for p in d.iterdir()
                 if p.name.endswith(SUFFIX) and p.is_file() and NAME.match(p.name[:-len(SUFFIX)])]
    except FileNotFoundError:
        return ()
    except OSError as e:
        raise TlsfitError(PROFILE, f"cannot list the profile library {d}: {e.strerror}") from None
    return tuple(sorted(found))


def resolve(name_or_path, directory=None):
    """The file a profile argument names: a library NAME first, else a path."""
    text = str(name_or_path)
    d = library_dir(directory)
    if NAME.match(text):
        candidate = d / f"{text}{SUFFIX}"
        if candidate.is_file():
            return candidate
    p = Path(text).expanduser()
    if p.exists():
        return p
    available = names(directory)
    listed = ", ".join(available) if available else "none"
    raise TlsfitError(PROFILE, f"{text}: no such profile: neither a file nor a name in "
                               f"{d} (available: {listed}; see: tlsfit profiles)")


def _key_label(key):
    kind = key["type"]
    if kind == "ec":
        curve = key.get("curve")
        return f"ECDSA {CURVE_LABELS.get(curve, curve or str(key['bits']) + '-bit')}"
    return KEY_LABELS.get(kind, kind + "-{bits}").format(bits=key["bits"])


def chain_shape(doc):
    """(text, certificates on the path with the anchor, root sent or None)."""
    chain = doc["chain"]
    idx = doc.get("chain_path")
    path = [chain[i] for i in idx] if idx is not None else list(chain)
    anchor = doc["trust_anchor"]
    keys = [_key_label(c["key"]) for c in path]
    root_sent = None
    if anchor is not None:
        root_sent = anchor["source"] == "sent"
        if not root_sent:
            keys.append(_key_label(anchor["key"]))
    n = len(keys)
    text = f"{n} cert{'' if n == 1 else 's'}: {' <- '.join(keys) or '(none)'}"
    if not keys and doc.get("psk"):            # a PSK-only server: no certificate at all
        text += f", a pre-shared key (identity {doc['psk']['identity']})"
    elif root_sent is None:
        text += " (no anchor found)"
    else:
        text += f" (root sent: {'yes' if root_sent else 'no'})"
    unused = doc.get("chain_unused") or []
    if unused:
        text += f", {len(unused)} more sent off the path"
    return text, n, root_sent


def _default_suite(doc):
    for ver in reversed(doc["versions"]):
        suites = doc["ciphersuites"][ver]
        if suites:
            return suites[0]["name"], doc["server_preference"][ver]
    return None, None


def entry(path, name=None):
    """The ProfileEntry of the profile at path (validated; PROFILE error otherwise)."""
    path = Path(path)
    doc = model.load(path)
    suite, order = _default_suite(doc)
    shape, certs, root_sent = chain_shape(doc)
    server = (doc.get("provenance") or {}).get("server") or {}
    software = " ".join(server[k] for k in ("software", "version") if server.get(k)) or None
    if name is None:
        name = path.name[:-len(SUFFIX)] if path.name.endswith(SUFFIX) else path.name
    return ProfileEntry(name, path, tuple(doc["versions"]), suite, order, shape, certs, root_sent,
                        doc["records"]["max_record_len"], bool(doc["client_cert_requested"]),
                        software, doc["probed_at"])


def is_dtls(name_or_path):
    """The profile (a name in the library or a file) was probed over UDP (--dtls)."""
    return bool(json.loads(resolve(name_or_path).read_text()).get("dtls"))


def entries(directory=None):
    """Every profile of the library as a ProfileEntry, sorted by name."""
    d = library_dir(directory)
    return tuple(entry(d / f"{n}{SUFFIX}", n) for n in names(directory))
