"""`tlsfit gen`: the smallest mbedTLS configuration that can talk to a probed server.

    plan = generate(profile_doc, line="3.6", policy="default")   # Plan, or Refusal
    plan.text                                                     # the header
    plan.chosen, plan.options, plan.values, plan.warnings, plan.considered

How a header is chosen
  1. The path from the leaf to the trust anchor fixes options every candidate needs: each
     certificate's key must parse (key type, curve, RSA size -> MBEDTLS_MPI_MAX_SIZE) and
     each signature checked on the way to the anchor needs its algorithm and hash.
  2. Every (version, suite, group, signature scheme) the server accepts is a candidate;
     the rules (rules.toml) give each the options it needs, closed under `requires`.
  3. The policy (policy.py) filters candidates; known library defects (rules.toml
     [[defects]]) remove the ones that would fail.  The cheapest remaining option set
     wins, costed by the measured flash size of the library objects it compiles in
     (costs.json); ties go by rules.toml [preference].  compat keeps a second suite.
  4. Sizes come from the profile's records; knobs (rules.toml [knobs]) apply; the
     Jinja2 template for the line (templates/mbedtls-<line>.h.j2) renders the header,
     every option with the server fact that needs it.
Anything that cannot be served is a Refusal (exit 38) naming what is missing; no header
is written then.
"""
import math
import os
import tempfile
from dataclasses import dataclass, field, replace

from .. import __version__
from ..core.errors import REFUSED, USAGE, TlsfitError
from ..profile.types import Profile
from . import policy as policy_mod, render, rules as rules_mod
from .costs import load_costs, make_cost

LINES = ("3.6", "2.28")
TLS_CHOICES = ("auto", "1.2", "1.3")
MAX_CONTENT_LEN = 16384          # mbedTLS cannot buffer more than one full record
IN_HEADROOM = 256                # bytes above the largest record the server was seen to send
IN_ROUND = 256
OUT_CONTENT_LEN = 1024           # a client's ClientHello and Finished fit; writes are split


class Refusal(TlsfitError):
    """The server needs something no configuration from tlsfit can give (exit 38)."""

    def __init__(self, message):
        super().__init__(REFUSED, message)


@dataclass(frozen=True)
class Candidate:
    version: str
    suite: str
    kx: str
    cipher: str
    mac: str
    prf: str
    group: str = None
    sigalg: str = None
    forward_secret: bool = True
    aead: bool = True

    def label(self):
        parts = [self.version, self.suite]
        if self.group:
            parts.append(self.group)
        if self.sigalg:
            parts.append(self.sigalg)
        return " ".join(parts)


@dataclass(frozen=True)
class Plan:
    line: str
    policy: str
    target: str
    chosen: list
    options: dict                    # option -> [reasons], every option the header defines
    values: dict                     # option -> (value, reason)
    ciphersuites: list               # mbedTLS macro names, in offer order
    warnings: list
    duties: list                     # what the application must supply or call
    considered: list                 # (candidate label, flash estimate or None, verdict)
    cost: int                        # flash estimate of the option set (bytes)
    text: str = ""
    facts: dict = field(default_factory=dict)




# ------------------------------------------------------------------ the chain

def _label(cert, role):
    return f'{role} "{cert["subject"]}"'


def _roles(path, anchor):
    """(certificate, role, signature checked?) for every certificate mbedTLS parses and
    verifies on the way to the anchor: the path (Profile.path: leaf first, the whole
    chain for profiles without chain_path) and the anchor.  Certificates the server sent
    off the path (chain_unused) are only carried in the input buffer: they need nothing."""
    out = []
    for i, c in enumerate(path):
        self_signed = c["subject"] == c["issuer"]
        role = "leaf" if i == 0 else ("root" if self_signed else "intermediate")
        out.append((c, role, not self_signed))
    if anchor is not None and not any(c["subject"] == anchor["subject"] and
                                      c["subject"] == c["issuer"] for c in path):
        out.append((anchor, "trust anchor", False))
    return out


def _need(wanted, options, reason):
    for o in options:
        wanted.setdefault(o, [])
        if reason not in wanted[o]:
            wanted[o].append(reason)


class ChainNeeds:
    """Options, key sizes and curves the path to the trust anchor and the anchor need,
    whatever the suite (certificates the server sends off the path need none)."""

    def __init__(self, doc, rules, line, pol):
        self.options = {}
        self.rsa_bits = 0
        self.ec_bits = 0
        self.curves = set()
        chain = list(doc.path)
        if not chain:
            raise Refusal("the profile has no certificate chain (the probe's handshake step "
                          "failed?): re-probe the server")
        anchor = doc.trust_anchor
        last = chain[-1]
        if anchor is None and last["subject"] != last["issuer"]:
            raise Refusal(f'the trust anchor of this chain is unknown (issuer "{last["issuer"]}" '
                          "was not found): re-probe with --ca FILE so its key can be configured")
        self.anchor = anchor or last
        self.leaf = chain[0]
        for cert, role, sig_checked in _roles(chain, anchor):
            self._key(cert, role, rules, line)
            if sig_checked:
                self._signature(cert, role, rules, line, pol)

    def _key(self, cert, role, rules, line):
        key, where = cert["key"], _label(cert, role)
        fact = rules.fact("cert_keys", key["type"], line)
        if fact.unsupported:
            raise Refusal(f"{where} has a {key['type']} key: {fact.unsupported}")
        if key["type"] == "rsa":
            bits = key["bits"] or 0
            if bits < fact.attrs.get("min_bits", 0):
                raise Refusal(f"{where} has a {bits}-bit RSA key; mbedTLS's default "
                              f"certificate profile needs {fact.attrs['min_bits']} bits or more")
            self.rsa_bits = max(self.rsa_bits, bits)
            _need(self.options, fact.options, f"{where} has an RSA-{bits} key")
            return
        curve = rules.fact("curves", key.get("curve") or "unknown", line)
        if curve.unsupported:
            raise Refusal(f"{where} has a key on curve {key.get('curve')}: {curve.unsupported}")
        if not curve.attrs.get("x509_default"):
            raise Refusal(f"{where} has a key on {key['curve']}, which mbedTLS's default "
                          "certificate profile rejects (BADCERT_BAD_KEY)")
        self.curves.add(key["curve"])
        self.ec_bits = max(self.ec_bits, curve.attrs["bits"])
        _need(self.options, fact.options + curve.options,
              f"{where} has a {key['curve']} key")

    def _signature(self, cert, role, rules, line, pol):
        name, where = cert["signature_algorithm"], _label(cert, role)
        family = rules.cert_sig_family(name)
        if family is None:
            raise Refusal(f"{where} is signed with {name}, which tlsfit's rules do not know")
        fact = rules.fact("cert_sigs", family, line)
        if fact.unsupported:
            raise Refusal(f"{where} is signed with {name}: {fact.unsupported}")
        hash_name = cert.get("signature_hash") or ""
        h = rules.fact("hashes", hash_name, line)
        if h.unsupported:
            raise Refusal(f"{where} is signed with {name}: {h.unsupported}")
        if not h.attrs.get("x509_default"):
            if pol.refuse_sha1_certs:
                raise Refusal(f"{where} is signed with {name}: policy {pol.name} refuses "
                              f"{hash_name.upper()} certificate signatures")
            raise Refusal(f"{where} is signed with {name}: mbedTLS's default certificate "
                          f"profile rejects {hash_name.upper()} signatures (BADCERT_BAD_MD); "
                          "the server's chain must be reissued with SHA-256 or better")
        _need(self.options, fact.options + h.options, f"{where} is signed with {name}")


# ------------------------------------------------------------------ candidates

def _natural_sigalgs(leaf, version):
    """Signature schemes a server with this leaf key would use, when the probe could not
    list them (the server signed with anything)."""
    key = leaf["key"]
    if key["type"] == "ec":
        return {"secp256r1": ["ecdsa_secp256r1_sha256"], "secp384r1": ["ecdsa_secp384r1_sha384"],
                "secp521r1": ["ecdsa_secp521r1_sha512"]}.get(key.get("curve"), [])
    if key["type"] == "rsa":
        return ["rsa_pkcs1_sha256"] if version == "TLSv1.2" else ["rsa_pss_rsae_sha256"]
    return []


class Enumeration:
    """Every candidate the server accepts, with the reason for each one left out."""

    def __init__(self, doc, rules, line, tls, chain_needs):
        self.candidates = []
        self.rejected = []            # (what, reason)
        leaf = chain_needs.leaf
        for version in doc.versions:
            if tls != "auto" and version != f"TLSv{tls}":
                self.rejected.append((version, f"--tls {tls}"))
                continue
            vf = rules.fact("versions", version, line)
            if vf.unsupported:
                self.rejected.append((version, vf.unsupported))
                continue
            for suite in doc.ciphersuites(version):
                self._suite(doc, rules, line, version, suite["name"], leaf)

    def _suite(self, doc, rules, line, version, name, leaf):
        row = rules.suites.get(name)
        if row is None:
            self.rejected.append((name, "not a suite mbedTLS implements (or not in tlsfit's rules)"))
            return
        kx_name, cipher, mac, prf = row
        if (kx_name == "TLS13") != (version == "TLSv1.3"):
            return
        parts = [rules.fact("kx", kx_name, line), rules.fact("ciphers", cipher, line),
                 rules.fact("hashes", prf, line)]
        if mac != "aead":
            parts.append(rules.fact("hashes", mac, line))
        bad = [p for p in parts if p.unsupported]
        if bad:
            self.rejected.append((name, bad[0].unsupported))
            return
        kx = parts[0].attrs
        groups = [None]
        if kx.get("uses_group"):
            groups = []
            for g in doc.groups(version):
                gf = rules.fact("groups", g, line)
                if gf.unsupported:
                    self.rejected.append((f"group {g}", gf.unsupported))
                else:
                    groups.append(g)
        sigalgs = [None]
        if kx.get("signed", True):
            sigalgs = self._sigalgs(doc, rules, line, version, kx, leaf)
        for g in groups:
            for s in sigalgs:
                self.candidates.append(Candidate(
                    version, name, kx_name, cipher, mac, prf, g, s,
                    forward_secret=kx.get("forward_secret", True),
                    aead=rules.facts["ciphers"][cipher].attrs["aead"]))

    def _sigalgs(self, doc, rules, line, version, kx, leaf):
        listed = doc.signature_algorithms(version) or _natural_sigalgs(leaf, version)
        out = []
        for s in listed:
            sf = rules.fact("sigalgs", s, line)
            if sf.unsupported:
                self.rejected.append((f"signature {s}", sf.unsupported))
                continue
            a = sf.attrs
            if a["key"] != leaf["key"]["type"]:
                continue
            if kx["auth"] not in ("any", "ecdsa" if a["key"] == "ec" else "rsa"):
                continue
            if version == "TLSv1.3" and (a.get("tls12_only") or
                                         (a.get("curve") and a["curve"] != leaf["key"].get("curve"))):
                continue
            out.append(s)
        return out


# ------------------------------------------------------------------ option sets

def candidate_wants(c, rules, line):
    """{option: [reasons]} one candidate adds to the chain's needs."""
    wanted = {}
    _need(wanted, rules.fact("versions", c.version, line).options,
          f"the server accepts {c.version}")
    _need(wanted, rules.fact("kx", c.kx, line).options, f"suite {c.suite}")
    _need(wanted, rules.fact("ciphers", c.cipher, line).options, f"suite {c.suite}")
    _need(wanted, rules.fact("hashes", c.prf, line).options,
          f"suite {c.suite} (handshake hash {c.prf.upper()})")
    if c.mac != "aead":
        _need(wanted, rules.fact("hashes", c.mac, line).options,
              f"suite {c.suite} (HMAC-{c.mac.upper()})")
    if c.group:
        g = rules.fact("groups", c.group, line)
        _need(wanted, g.options + rules.fact("curves", g.attrs["curve"], line).options,
              f"key exchange on {c.group}, which the server accepts")
    if c.sigalg:
        s = rules.fact("sigalgs", c.sigalg, line)
        _need(wanted, s.options + rules.fact("hashes", s.attrs["hash"], line).options,
              f"the server signs its key exchange with {c.sigalg}")
    return wanted


def _base_wants(doc, rules, opts):
    wanted = {}
    for name in rules.base["options"]:
        _need(wanted, [name], f"base: {rules.options[name].doc}")
    if opts.time:
        _need(wanted, rules.base["time"], "certificate validity dates are checked")
    if opts.pem:
        _need(wanted, rules.base["pem"], "--pem: trust anchors in PEM")
    sni = doc.target.sni
    if sni:
        _need(wanted, rules.base["sni"], f'the server is reached by name "{sni}"')
    return {k: v for k, v in wanted.items() if rules.available(k, opts.line)}


def _extension_wants(doc, chosen, rules, line):
    wanted = {}
    ext = doc.extensions
    if any(c.version == "TLSv1.2" for c in chosen):
        if ext.get("extended_master_secret"):
            _need(wanted, ["MBEDTLS_SSL_EXTENDED_MASTER_SECRET"],
                  "the server supports extended master secret (TLS 1.2)")
        if ext.get("encrypt_then_mac") and any(not c.aead for c in chosen):
            _need(wanted, ["MBEDTLS_SSL_ENCRYPT_THEN_MAC"],
                  "the server supports encrypt-then-MAC and a CBC suite is used")
    return _merge(wanted, _fragment_wants(doc, chosen, line))


# The max_fragment_length the client asks for (RFC 6066 code 1).  512 because the limit
# binds both directions: mbedtls_ssl_conf_max_frag_len() refuses a length above
# MBEDTLS_SSL_OUT_CONTENT_LEN, and the client's output buffer should stay small.
MFL_BYTES = 512
MFL_CODE = "MBEDTLS_SSL_MAX_FRAG_LEN_512"


def _fragment_wants(doc, chosen, line):
    """Keep the server's application records within MBEDTLS_SSL_IN_CONTENT_LEN when it is
    below a full record and the server was seen to honour a limit: max_fragment_length
    for TLS 1.2 (3.6 only: 2.28 cannot reassemble the handshake messages it splits),
    record_size_limit for TLS 1.3."""
    wanted = {}
    in_len, _ = _in_content_len(doc, line)
    rec = doc.records
    if in_len >= MAX_CONTENT_LEN:
        return wanted
    if line == "3.6" and rec.get("mfl_honoured") and any(c.version == "TLSv1.2" for c in chosen):
        _need(wanted, ["MBEDTLS_SSL_MAX_FRAGMENT_LENGTH"],
              f"the server honours max_fragment_length: asking for {MFL_BYTES}-byte records "
              f"keeps its application data within MBEDTLS_SSL_IN_CONTENT_LEN {in_len}")
    if rec.get("record_size_limit") and rec.get("record_size_limit_honoured") and \
            any(c.version == "TLSv1.3" for c in chosen):
        _need(wanted, ["MBEDTLS_SSL_RECORD_SIZE_LIMIT"],
              f"the server honours record_size_limit: announcing {in_len} keeps its "
              f"application data within MBEDTLS_SSL_IN_CONTENT_LEN")
    return wanted


def _merge(*dicts):
    """Union of {option: [reasons]} dicts, reasons in first-seen order."""
    out = {}
    for d in dicts:
        for k, reasons in d.items():
            merged = out.setdefault(k, [])
            merged += [r for r in reasons if r not in merged]
    return out


def _any_of(wanted, rules, line, cost):
    """Satisfy base any-of groups (the DRBG) with the cheapest alternative."""
    for group in rules.base["any_of"]:
        if any(o in wanted for o in group):
            continue
        alts = [o for o in group if rules.available(o, line)]
        pick = min(alts, key=lambda o: (cost(set(wanted) | {o} | set(
            rules.closure({o: []}, line, cost))), alts.index(o)))
        _need(wanted, [pick], "the random generator, cheapest beside the rest")
    return wanted


def _defect(c, enabled, doc, rules, line):
    for d in rules.defects:
        if d.line != line or d.version != c.version:
            continue
        signs = set(doc.signature_algorithms(c.version))
        if all(o in enabled for o in d.all) and signs & set(d.server_signs) \
                and c.kx in ("ECDHE_RSA", "DHE_RSA"):
            return d.reason
    return None


def _rank(c, rules):
    pref = rules.preference

    def idx(table, key):
        lst = pref.get(table, ())
        return lst.index(key) if key in lst else len(lst)
    return (idx("kx", c.kx), idx("ciphers", c.cipher), idx("groups", c.group),
            idx("hashes", c.prf), c.suite, c.group or "", c.sigalg or "")


# ------------------------------------------------------------------ sizes

def _in_content_len(doc, line):
    rec = doc.records
    plain = rec.get("max_plaintext_len") or 0
    hs = rec.get("max_handshake_msg_len") or 0
    cert = rec.get("certificate_msg_len")
    need = max(plain, hs)
    if need == 0:
        return MAX_CONTENT_LEN, ("the probe recorded no record sizes: mbedTLS's full "
                                 f"{MAX_CONTENT_LEN}")
    if need > MAX_CONTENT_LEN:
        raise Refusal(f"the server's largest handshake message is {need} bytes; mbedTLS must "
                      f"hold a whole handshake message in its {MAX_CONTENT_LEN}-byte input buffer")
    if line == "2.28" and hs > plain:
        raise Refusal(f"the server splits a {hs}-byte handshake message over records of at "
                      f"most {plain} bytes; mbedTLS 2.28 cannot reassemble that")
    value = min(MAX_CONTENT_LEN, math.ceil((need + IN_HEADROOM) / IN_ROUND) * IN_ROUND)
    what = f"its largest handshake message {hs} bytes"
    if cert:
        what += f" (Certificate message {cert} bytes)"
    return value, (f"largest record from the server: {plain} bytes, {what}; "
                   f"+{IN_HEADROOM} spare, rounded to {IN_ROUND}")


def _no_limit(doc, chosen, line):
    """Why no record limit keeps the server's application records small, true for the
    line and the version chosen."""
    rec = doc.records
    if any(c.version == "TLSv1.3" for c in chosen):
        if not rec.get("record_size_limit"):
            return "the server did not acknowledge record_size_limit"
        return "the server acknowledged record_size_limit but sent larger records"
    if rec.get("mfl_honoured") and line == "2.28":
        return ("the server honours max_fragment_length, but mbedTLS 2.28 cannot reassemble "
                "the handshake messages it would split, so it is not asked for")
    return "the server does not honour max_fragment_length"


def _sizes(doc, plan_options, chain, chosen, rules, line):
    values = {}
    in_len, why = _in_content_len(doc, line)
    if in_len < MAX_CONTENT_LEN:
        limit = [o for o in ("MBEDTLS_SSL_MAX_FRAGMENT_LENGTH", "MBEDTLS_SSL_RECORD_SIZE_LIMIT")
                 if o in plan_options]
        why += (f". Application data records are kept within it by {limit[0][len('MBEDTLS_SSL_'):].lower()}"
                if limit else f". Application data records must fit too, and {_no_limit(doc, chosen, line)}: "
                "raise it if your protocol receives more at once")
    values["MBEDTLS_SSL_IN_CONTENT_LEN"] = (in_len, why)
    values["MBEDTLS_SSL_OUT_CONTENT_LEN"] = (
        OUT_CONTENT_LEN, "the client's own handshake messages fit; mbedtls_ssl_write() "
                         "splits longer application writes")
    curve_bits = [rules.facts["curves"][c].attrs["bits"] for c in rules.facts["curves"]
                  if any(o in plan_options for o in rules.facts["curves"][c].options)]
    dh_bits = 0
    for c in chosen:
        if c.kx == "DHE_RSA":
            dh_bits = max(dh_bits, (doc.key_exchange(c.version) or {}).get("dh_bits") or 2048)
    mpi = max(math.ceil(b / 8) for b in [chain.rsa_bits, dh_bits] + curve_bits)
    why = []
    if chain.rsa_bits:
        why.append(f"RSA-{chain.rsa_bits} in the chain or trust anchor")
    if dh_bits:
        why.append(f"DHE with a {dh_bits}-bit prime")
    if curve_bits:
        why.append(f"{max(curve_bits)}-bit curves")
    values["MBEDTLS_MPI_MAX_SIZE"] = (max(mpi, 32), "largest number: " + ", ".join(why))
    if line == "2.28" and curve_bits:
        values["MBEDTLS_ECP_MAX_BITS"] = (max(curve_bits), "largest curve enabled")
    return values


def _suite_macro(name):
    if name.startswith("TLS_") and "_WITH_" not in name:
        return "MBEDTLS_TLS1_3_" + name[len("TLS_"):]
    return "MBEDTLS_" + name


# ------------------------------------------------------------------ the plan

@dataclass
class GenOptions:
    line: str = "3.6"
    policy: str = "default"
    tls: str = "auto"
    time: bool = True
    pem: bool = False
    exclude: tuple = ()          # options fit's ablation removes (must not be required)
    knob_values: dict = field(default_factory=dict)   # fit's knob overrides (None: off)
    extra: dict = field(default_factory=dict)         # fit's added options -> reason
    sizes: dict = field(default_factory=dict)         # fit's measured size values (name -> int)
    candidate: Candidate = None  # fit pins one candidate


@dataclass(frozen=True)
class Row:
    """One candidate with what it costs: the options it enables (option -> reasons),
    their flash estimate, and the library defect that rules it out (or None)."""
    candidate: Candidate
    options: dict
    flash: int
    defect: str = None


@dataclass(frozen=True)
class Candidates:
    """Every candidate the server accepts, before the policy, with the facts the
    selection and the header need: the chain's needs, what enumeration left out and
    why, the cost function, the policy and the rules."""
    chain: ChainNeeds
    enumeration: Enumeration
    rows: tuple
    cost: object                 # cost(option names) -> flash estimate (bytes)
    policy: policy_mod.Policy
    rules: rules_mod.Rules

    def flash(self, candidate):
        return next(r.flash for r in self.rows if r.candidate == candidate)


@dataclass(frozen=True)
class Selection:
    """The policy's verdict over the candidates: `kept` cheapest first (flash estimate,
    then rules.toml [preference]), `excluded` [(candidate or label, reason)], the
    policy's warnings, and `considered` [(label, flash or None, verdict)]."""
    kept: list
    excluded: list
    warnings: list
    considered: list


def rank(c, rules):
    """The tie-break between candidates of equal flash estimate: rules.toml [preference]."""
    return _rank(c, rules)


def enumerate_candidates(doc, opts, rules=None, costs=None):
    """Candidates: every (version, suite, group, signature scheme) the server accepts,
    each with the options it needs, before the policy."""
    doc = Profile.of(doc)
    rules = rules or rules_mod.load()
    costs = costs if costs is not None else load_costs()
    cost = make_cost(rules, costs)
    pol = policy_mod.POLICIES[opts.policy]
    chain = ChainNeeds(doc, rules, opts.line, pol)
    enum = Enumeration(doc, rules, opts.line, opts.tls, chain)
    base = _merge(_base_wants(doc, rules, opts), chain.options)
    rows = []
    for c in enum.candidates:
        wanted = _merge(base, candidate_wants(c, rules, opts.line),
                        _extension_wants(doc, [c], rules, opts.line))
        enabled = rules.closure(_any_of(wanted, rules, opts.line, cost), opts.line, cost)
        rows.append(Row(c, enabled, cost(set(enabled)),
                        _defect(c, enabled, doc, rules, opts.line)))
    return Candidates(chain, enum, tuple(rows), cost, pol, rules)


def select(cands, only=None):
    """The policy applied to the candidates without a defect (only: just this one)."""
    considered, usable = [], []
    for r in cands.rows:
        if r.defect:
            considered.append((r.candidate.label(), r.flash, f"excluded: {r.defect}"))
        elif only is not None and r.candidate != only:
            considered.append((r.candidate.label(), r.flash, "not the candidate asked for"))
        else:
            usable.append(r.candidate)
    kept, excluded, warnings = policy_mod.apply(cands.policy, usable)
    for c, why in excluded:
        considered.append((c.label(), None, f"excluded: {why}"))
    kept.sort(key=lambda c: (cands.flash(c), _rank(c, cands.rules)))
    return Selection(kept, excluded, warnings, considered)


def _refuse(doc, enum, excluded, opts):
    where = doc.target.hostport
    if not doc.versions:
        raise Refusal(f"{where}: the profile lists no TLS version the server accepts")
    reasons = []
    for what, why in enum.rejected + excluded:
        item = f"{what}: {why}" if isinstance(what, str) else f"{what.label()}: {why}"
        if item not in reasons:
            reasons.append(item)
    raise Refusal(f"mbedTLS {opts.line} cannot talk to {where} under policy {opts.policy}: "
                  + ("; ".join(reasons[:6]) if reasons else "no usable candidate")
                  + (f" (and {len(reasons) - 6} more)" if len(reasons) > 6 else ""))


def generate(doc, opts=None, profile_name="profile", rules=None, costs=None):
    """The Plan (with .text, the header) for a profile (a Profile or a validated
    document), or a Refusal."""
    doc = Profile.of(doc)
    opts = opts or GenOptions()
    if opts.line not in LINES:
        raise TlsfitError(USAGE, f"--mbedtls must be one of {', '.join(LINES)}")
    cands = enumerate_candidates(doc, opts, rules, costs)
    sel = select(cands, opts.candidate)
    if not sel.kept:
        _refuse(doc, cands.enumeration, sel.excluded +
                [(r.candidate, f"excluded: {r.defect}") for r in cands.rows if r.defect], opts)
    chosen, second_suite = _choose(cands, sel)
    considered, warnings = list(sel.considered), list(sel.warnings)
    if cands.policy.keep_second and not second_suite:
        warnings.append("policy compat: the server offers no second suite for "
                        f"{chosen[0].version}; only one is configured")
    for c in sel.kept:
        if c not in chosen:
            considered.append((c.label(), cands.flash(c), "costs more" if cands.flash(c) >
                               cands.flash(chosen[0]) else "ties, later in preference"))
    for i, c in enumerate(chosen):
        considered.insert(i, (c.label(), cands.flash(c), "chosen" if i == 0 else "kept (compat)"))
        warnings += policy_mod.soft_failures(cands.policy, c)
    return _finish(doc, opts, profile_name, cands.rules, cands.cost, cands.policy, cands.chain,
                   chosen, considered, warnings)


def _choose(cands, sel):
    """(chosen, whether a second suite was found): the cheapest kept candidate; under
    compat also a second suite of the same version and, when all chosen share one group,
    a second group."""
    kept, rules = sel.kept, cands.rules
    chosen = [kept[0]]
    if not cands.policy.keep_second:
        return chosen, False
    second = [c for c in kept[1:] if c.version == chosen[0].version and c.suite != chosen[0].suite]
    second.sort(key=lambda c: (c.group == chosen[0].group, cands.flash(c), _rank(c, rules)))
    if second:
        chosen.append(second[0])
    other_groups = [c for c in kept if c.version == chosen[0].version and c.group and
                    c.group != chosen[0].group]
    if other_groups and all(c.group == chosen[0].group for c in chosen):
        other_groups.sort(key=lambda c: (cands.flash(c), _rank(c, rules)))
        chosen.append(other_groups[0])
    return chosen, bool(second)


def _finish(doc, opts, profile_name, rules, cost, pol, chain, chosen, considered, warnings):
    line = opts.line
    wanted = _merge(_base_wants(doc, rules, opts), chain.options,
                    *[candidate_wants(c, rules, line) for c in chosen],
                    _extension_wants(doc, chosen, rules, line))
    enabled = rules.closure(_any_of(wanted, rules, line, cost), line, cost)
    for name in opts.exclude:
        enabled.pop(name, None)
    values = _sizes(doc, enabled, chain, chosen, rules, line)
    values.update(_group_pin(chosen, chain, rules, line))
    if "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH" in enabled:
        values["TLSFIT_MAX_FRAG_LEN"] = (
            MFL_CODE, "pass to mbedtls_ssl_conf_max_frag_len() before mbedtls_ssl_setup(): the "
                      f"server then sends records of at most {MFL_BYTES} bytes")
    for name, value in opts.sizes.items():
        values[name] = (value, f"chosen by tlsfit fit: the smallest value whose handshake verified "
                               f"on the target (gen's setting: {values[name][0]}; "
                               f"{values[name][1]})")
    for name, why in opts.extra.items():
        enabled.setdefault(name, []).append(why)
    for k in rules.knobs_for(enabled, line):
        default = (k.value if k.value is not None else True) if k.default else None
        value = opts.knob_values.get(k.name, default)
        if value is None or value is False:
            continue                      # fit turned this knob off
        why = k.why
        if value != default:
            lean = "off" if default is None else ("on" if default is True else default)
            why = f"chosen by tlsfit fit from measurements (gen's lean setting: {lean}; {k.why})"
        if k.value is None:
            enabled[k.name] = [why]
        else:
            values[k.name] = (value, why)
    suites = []
    for c in chosen:
        if _suite_macro(c.suite) not in suites:
            suites.append(_suite_macro(c.suite))
    facts = {"profile": profile_name, "probed_at": doc.probed_at,
             "prove": prove_command(doc, line),
             "sni": doc.target.sni, "anchor": chain.anchor["subject"],
             "tlsfit": __version__, "policy_summary": pol.summary,
             "time": opts.time, "tls": opts.tls}
    plan = Plan(line=line, policy=pol.name, target=doc.target.hostport,
                chosen=chosen, options=enabled, values=values, ciphersuites=suites,
                warnings=warnings, duties=_duties(doc, enabled, chain, opts, values),
                considered=considered, cost=cost(set(enabled)), facts=facts)
    return replace(plan, text=render.header(plan, rules))


GROUP_PIN = {"2.28": ("TLSFIT_CURVES", "ecp_id", "MBEDTLS_ECP_DP_NONE",
                      "static const mbedtls_ecp_group_id tlsfit_curves[] = { TLSFIT_CURVES }; "
                      "mbedtls_ssl_conf_curves(&conf, tlsfit_curves)"),
             "3.6": ("TLSFIT_GROUPS", "iana_id", "MBEDTLS_SSL_IANA_TLS_GROUP_NONE",
                     "static const uint16_t tlsfit_groups[] = { TLSFIT_GROUPS }; "
                     "mbedtls_ssl_conf_groups(&conf, tlsfit_groups)")}


def pinned_groups(chosen, chain):
    """[(group, why)] the handshake must offer, in order: the chosen key exchange groups,
    then, for TLS 1.2 with an EC leaf key, the leaf's curve (TLS 1.2 checks the server's
    certificate key against the same list).  Without the pin mbedTLS offers every
    curve the header enables, in its own order, and the server may pick another."""
    out = []
    for c in chosen:
        if c.group and c.group not in [g for g, _ in out]:
            out.append((c.group, "the chosen key exchange"))
    leaf_curve = chain.leaf["key"].get("curve") if chain.leaf["key"]["type"] == "ec" else None
    if out and leaf_curve and any(c.version == "TLSv1.2" for c in chosen) and \
            leaf_curve not in [g for g, _ in out]:
        out.append((leaf_curve, "the server's certificate key (TLS 1.2 checks it against "
                                "this list)"))
    return out


def _group_pin(chosen, chain, rules, line):
    """{TLSFIT_CURVES or TLSFIT_GROUPS: (list, reason)} pinning what the handshake offers."""
    groups = pinned_groups(chosen, chain)
    if not groups:
        return {}
    name, attr, end, _ = GROUP_PIN[line]
    ids = [rules.facts["groups"][g].attrs[attr] for g, _ in groups] + [end]
    why = "; ".join(f"{g}: {w}" for g, w in groups)
    return {name: (", ".join(ids), f"the groups to offer, in order ({why}); without the "
                                   "list mbedTLS offers every curve enabled here, in its own "
                                   "order, and the server may choose another")}


SYSTEM_STORE = "/etc/ssl/certs/ca-certificates.crt"


def _ca_arg(source):
    """How the header names the CA file the probe found the anchor in: as given when
    relative, relative to here when below the current directory, else its file name
    (never a path from the probing machine's temporary directories)."""
    if not source or source in ("sent", SYSTEM_STORE):
        return None
    p = os.path.normpath(source)
    if not os.path.isabs(p):
        return p
    rel = os.path.relpath(p)
    return rel if not rel.startswith("..") and not p.startswith(tempfile.gettempdir()) \
        else os.path.basename(p)


def prove_command(doc, line):
    """The `tlsfit verify` command that proves the header against its server, with the
    server name and CA file the probe used."""
    t = doc.target
    host = f"[{t.host}]" if ":" in t.host else t.host
    cmd = f"tlsfit verify --config tls_config.h {host}:{t.port}"
    if t.sni and t.sni != t.host:
        cmd += f" --sni {t.sni}"
    ca = _ca_arg((doc.trust_anchor or {}).get("source"))
    if ca:
        cmd += f" --ca {ca}"
    if line == "2.28":
        cmd += " --mbedtls 2.28"
    return cmd


def _duties(doc, enabled, chain, opts, values=None):
    duties = ["supply mbedtls_hardware_poll() from the device's TRNG (MBEDTLS_ENTROPY_HARDWARE_ALT)"]
    if "MBEDTLS_PLATFORM_MS_TIME_ALT" in enabled:
        duties.append("supply mbedtls_ms_time() and a time() that returns the wall-clock time")
    elif "MBEDTLS_HAVE_TIME" in enabled:
        duties.append("supply a time() that returns the wall-clock time")
    if "MBEDTLS_PSA_CRYPTO_C" in enabled:
        duties.append("call psa_crypto_init() before the handshake")
    if "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH" in enabled:
        duties.append("call mbedtls_ssl_conf_max_frag_len(&conf, TLSFIT_MAX_FRAG_LEN) before "
                      "mbedtls_ssl_setup()")
    for name, _, _, call in GROUP_PIN.values():
        if name in (values or {}):
            duties.append(f"before mbedtls_ssl_setup(): {call} (offers {values[name][0]})")
    loader = "mbedtls_x509_crt_parse()" if opts.pem else "mbedtls_x509_crt_parse_der()"
    duties.append(f'load the trust anchor "{chain.anchor["subject"]}" with {loader}')
    sni = doc.target.sni or doc.target.host
    duties.append(f'keep MBEDTLS_SSL_VERIFY_REQUIRED and call mbedtls_ssl_set_hostname(&ssl, "{sni}")')
    return duties


# ------------------------------------------------------------------ explain

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
        why = "; ".join(plan.options[name]) if on else "no server fact needs it"
        rows.append(("on" if on else "off", name, flash, why))
    for name in sorted(set(plan.options) - set(rules.options)):
        rows.append(("on", name, "-", "; ".join(plan.options[name])))
    for name, (value, why) in plan.values.items():
        rows.append(("=", f"{name} {value}", "-", why))
    out = [f"tlsfit gen --explain: {plan.target}, mbedTLS {plan.line}, policy {plan.policy}",
           "", "candidates (flash estimate of the whole option set):"]
    for label, flash, verdict in plan.considered:
        out.append(f"  {'~' + str(flash) + ' B' if flash is not None else '-':>10}  {label}: {verdict}")
    out += ["", "options:"]
    width = max(len(r[1]) for r in rows if len(r[1]) <= 60)     # a group list overflows
    for state, name, flash, why in sorted(rows, key=lambda r: (r[0] == "off", r[1])):
        out.append(f"  {state:<3} {name:<{width}}  {flash:>16}  {why}")
    return "\n".join(out) + "\n"
