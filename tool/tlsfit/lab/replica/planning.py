"""What the replica of one profile must serve (pure: no files, no process).

    plan(profile) -> ReplicaPlan   the chain to synthesize, the engine's options, the
                                   proof, the client CA names, the known differences

The engine (tool/replay/, OpenSSL) serves the same versions, suites in the recorded
order (server order when the profile says so), groups, signature schemes,
client-certificate request (its schemes and as many CA names), ALPN,
extended_master_secret / encrypt_then_mac / session tickets as recorded, the server's
record size when it fragmented its handshake, and the application proof the profile
implies (ALPN, else the port: 8883 MQTT, 443/8443 HTTP, else no-alert).  What it
cannot reproduce is one line each in `differences`; a profile it cannot serve at all
is a REPLAY error (48) naming why.
"""
import hashlib
import json
from dataclasses import dataclass

from ...core import proof as proof_mod
from ...core.errors import REPLAY, TlsfitError
from ...profile.types import Profile
from . import dgram

HOST = "127.0.0.1"          # where the replica listens, and the IP its leaf names
VERSIONS = ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
# The engine's --versions spelling.
ENGINE_VERSION = {"TLSv1.0": "1.0", "TLSv1.1": "1.1", "TLSv1.2": "1.2", "TLSv1.3": "1.3"}
# Profile curve names -> the openssl CLI's.
CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
# ALPN protocol the server chose -> the proof it implies (reason: the protocol is the
# application the server speaks, whatever its port).
ALPN_PROOFS = {"mqtt": "mqtt", "x-amzn-mqtt-ca": "mqtt", "http/1.1": "http", "h2": "http"}
# The engine's --proof for each core.proof kind (the replica answers these four).
ENGINE_PROOF = {"mqtt": "mqtt", "http": "http", "no-alert": "none", "coap": "coap"}
RSA_PSS_OID = "1.2.840.113549.1.1.10"
# IANA scheme names OpenSSL 3.0's sigalgs lists do not know by name (its table names
# them only as SIG+HASH): given so, else the replica would leave them out.
OPENSSL_SCHEMES = {"ecdsa_sha224": "ECDSA+SHA224", "ecdsa_sha1": "ECDSA+SHA1",
                   "rsa_pkcs1_sha1": "RSA+SHA1", "rsa_pkcs1_sha224": "RSA+SHA224",
                   "dsa_sha1": "DSA+SHA1", "dsa_sha224": "DSA+SHA224",
                   "dsa_sha256": "DSA+SHA256", "dsa_sha384": "DSA+SHA384",
                   "dsa_sha512": "DSA+SHA512"}


def _schemes(names):
    return ":".join(OPENSSL_SCHEMES.get(n, n) for n in names)


@dataclass(frozen=True)
class CertSpec:
    """One certificate to synthesize: its key ("rsa:2048", "ec:P-256", "ed25519",
    "rsa-pss:2048"), the digest its issuer signs it with ("" for EdDSA), whether that
    signature is RSA-PSS, its DER size to pad to (0: no padding) and whether it is a CA."""
    key: str
    digest: str
    pss: bool
    der_len: int
    is_ca: bool


@dataclass(frozen=True)
class ReplicaPlan:
    """What the replica of one profile is: the chain as sent (leaf first) and its
    anchor (the last of `chain` when the server sent its root), the name on the leaf,
    the engine's options (certificate files aside), the proof, the client CA names to
    list, and the differences known before the engine runs."""
    chain: tuple
    anchor: CertSpec
    anchor_sent: bool
    sni: str
    engine_args: tuple
    proof: proof_mod.Proof
    client_ca_names: int
    differences: tuple
    requires_client: bool = False   # the server requested a client certificate

    @property
    def has_chain(self):
        """False for a PSK-only server (DTLS, dgram.psk_only): nothing to synthesize."""
        return bool(self.chain)

    def chain_key(self):
        """The cache key of the synthesized chain (everything that shapes it)."""
        doc = {"chain": [c.__dict__ for c in self.chain], "anchor": self.anchor.__dict__,
               "anchor_sent": self.anchor_sent, "sni": self.sni,
               "client_ca_names": self.client_ca_names, "v": 3}
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:20]


# -------------------------------------------------------------------- the plan

def _key_spec(key, where, diffs, must=False):
    """The openssl key spec of a profile key object; an unsupported type is replaced by
    rsa:2048 with a difference line (REPLAY error when `must`: the leaf)."""
    kind, bits, curve = key.get("type"), key.get("bits") or 0, key.get("curve")
    if kind == "rsa" and 1024 <= bits <= 16384:
        return f"rsa:{bits}"
    if kind == "rsa-pss" and 1024 <= bits <= 16384:
        return f"rsa-pss:{bits}"
    if kind == "ec" and curve in CURVES:
        return f"ec:{CURVES[curve]}"
    if kind in ("ed25519", "ed448"):
        return kind
    what = f"{kind} {curve or bits}"
    if must:
        raise TlsfitError(REPLAY, f"the leaf key ({what}) cannot be replicated: the replica "
                                  "makes RSA, RSA-PSS, ECDSA (P-256/384/521) and EdDSA keys")
    diffs.append(f"{where}.key: a {what} key cannot be made; the replica uses rsa:2048")
    return "rsa:2048"


def _signed(cert, issuer_key, where, diffs):
    """(digest, pss) of cert's signature, as its issuer (key spec) can make it."""
    digest = cert.get("signature_hash") or ""
    pss = cert.get("signature_oid") == RSA_PSS_OID or \
        "pss" in (cert.get("signature_algorithm") or "").lower()
    if issuer_key in ("ed25519", "ed448"):
        return "", False
    if digest not in ("sha1", "sha224", "sha256", "sha384", "sha512"):
        diffs.append(f"{where}.signature_algorithm: {cert.get('signature_algorithm')} cannot "
                     "be made; the replica signs with SHA-256")
        digest = "sha256"
    return digest, pss or issuer_key.startswith("rsa-pss")


def _chain_plan(prof, diffs):
    """(chain specs, anchor spec, anchor sent) from the profile's chain and anchor."""
    chain = list(prof.chain)
    if not chain:
        raise TlsfitError(REPLAY, "the profile records no certificate chain: there is "
                                  "nothing to serve")
    if prof.unused:
        diffs.append(f"chain: {len(prof.unused)} certificate(s) off the path are served as "
                     "a straight chain (each signed by the next)")
    if prof.document.get("chain_truncated"):
        diffs.append("chain: the server sent more certificates than the profile kept; the "
                     f"replica sends the {len(chain)} recorded")
    keys = [_key_spec(c["key"], f"chain[{i}]", diffs, must=(i == 0))
            for i, c in enumerate(chain)]
    ta = prof.trust_anchor
    sent = bool(ta) and ta.get("source") == "sent"
    if sent:
        anchor_cert = chain[-1]
        anchor_key = keys[-1]
    elif ta:
        anchor_cert = ta
        anchor_key = _key_spec(ta["key"], "trust_anchor", diffs)
    else:
        anchor_cert = {"signature_hash": chain[-1].get("signature_hash") or "sha256",
                       "der_len": 0}
        anchor_key = "rsa:2048"
        diffs.append("trust_anchor: none recorded; the replica's root is an rsa:2048 key")
    specs = []
    for i, cert in enumerate(chain):
        last = i == len(chain) - 1
        issuer = anchor_key if last else keys[i + 1]
        if last and sent:
            issuer = keys[i]
        digest, pss = _signed(cert, issuer, f"chain[{i}]", diffs)
        specs.append(CertSpec(keys[i], digest, pss, int(cert.get("der_len") or 0), i > 0))
    if sent:
        anchor = specs.pop()
    else:
        digest, pss = _signed(anchor_cert, anchor_key, "trust_anchor", diffs)
        anchor = CertSpec(anchor_key, digest, pss, int(anchor_cert.get("der_len") or 0), True)
    return tuple(specs), anchor, sent


def _union(lists):
    out = []
    for items in lists:
        for x in items:
            if x not in out:
                out.append(x)
    return out


def _versions(prof, diffs):
    vs = [v for v in VERSIONS if v in prof.versions]
    if not vs:
        raise TlsfitError(REPLAY, "the profile records no TLS version the replica can serve "
                                  "(TLSv1.0 to TLSv1.3)")
    span = VERSIONS[VERSIONS.index(vs[0]):VERSIONS.index(vs[-1]) + 1]
    if list(span) != vs:
        diffs.append(f"versions: {', '.join(vs)} recorded; OpenSSL serves a range, so the "
                     f"replica also accepts {', '.join(v for v in span if v not in vs)}")
    return vs


def _suites_args(prof, vs, diffs, keep=lambda name: True):
    args = []
    old = [v for v in vs if v != "TLSv1.3"]
    if old:
        lists = [[s["id"] for s in prof.ciphersuites(v) if keep(s["name"])]
                 for v in reversed(old)]
        if any(x != lists[0] for x in lists):
            diffs.append("ciphersuites: the TLS <= 1.2 versions accept different suites; the "
                         "replica accepts their union in every one")
        ids = _union(lists)
        if ids:
            args += ["--suites12", ":".join(i[2:] for i in ids)]
    if "TLSv1.3" in vs:
        args += ["--suites13", ":".join(s["name"] for s in prof.ciphersuites("TLSv1.3"))]
    prefs = {v: (prof.document.get("server_preference") or {}).get(v) for v in vs}
    base = {prefs[v] for v in old if prefs[v] is not None}
    if True in base:
        args.append("--server-pref")
    elif old and (prof.chain[0]["key"].get("type") if prof.chain else None) == "ec":
        # the prober offers an ECDSA leaf's curve last in TLS 1.2: a server that follows
        # the client's order picks the others first (see tool/replay/context.c)
        args.append("--tls12-client-groups")
    if len(base) > 1:
        diffs.append("server_preference: differs between the TLS <= 1.2 versions; the "
                     "replica imposes its order in each")
    if "TLSv1.3" in vs:
        args += ["--tls13-server-pref", "1" if prefs["TLSv1.3"] else "0"]
    return args


def _kex_args(prof, vs, diffs):
    args = []
    old = [v for v in ("TLSv1.2", "TLSv1.1", "TLSv1.0") if v in vs]
    for name, flag, get in (("groups", "--groups", prof.groups),
                            ("signature_algorithms", "--sigalgs", prof.signature_algorithms)):
        lists = [list(get(v)) for v in old if get(v)]
        if any(x != lists[0] for x in lists):
            diffs.append(f"{name}: differ between the TLS <= 1.2 versions; the replica "
                         "accepts their union in each")
        base = _union(lists)
        tls13 = list(get("TLSv1.3")) if "TLSv1.3" in vs else []
        if base:
            args += [flag, _schemes(base)]
            if tls13 and tls13 != base:
                args += [f"--tls13-{flag[2:]}", _schemes(tls13)]
        elif tls13:
            args += [flag, _schemes(tls13)]
    for v in vs:
        if (prof.document.get("signs_with_unoffered_scheme") or {}).get(v):
            diffs.append(f"signs_with_unoffered_scheme: the server signs with schemes the client "
                         f"did not offer in {v}; the replica keeps to the offer")
        kx = prof.key_exchange(v) or {}
        if kx.get("dh_bits"):
            args += ["--dh-bits", str(kx["dh_bits"])]
    return args


def _record_args(prof, diffs):
    args = []
    rec = prof.records or {}
    plain, msg = rec.get("max_plaintext_len") or 0, rec.get("max_handshake_msg_len") or 0
    if plain and msg and plain < msg:
        args += ["--send-frag", str(max(512, min(16384, plain)))]
    if rec.get("mfl_honoured") is False:
        diffs.append("records.mfl_honoured: the server ignores max_fragment_length; the "
                     "replica (OpenSSL) honours it")
    if rec.get("record_size_limit") is not None:
        diffs.append("records.record_size_limit: the server acknowledges record_size_limit; "
                     "OpenSSL 3.0 does not implement it, so the replica does not")
    ext = prof.extensions or {}
    for name, flag in (("extended_master_secret", "--no-ems"),
                       ("encrypt_then_mac", "--no-etm"), ("session_ticket", "--no-ticket")):
        if ext.get(name) is False:
            args.append(flag)
    if ext.get("renegotiation_info") is False:
        diffs.append("extensions.renegotiation_info: the server does not send it; OpenSSL "
                     "always does")
    if ext.get("alpn"):
        args += ["--alpn", ext["alpn"]]
    return args


def _client_args(prof):
    """(engine args, number of CA names) for the client-certificate request."""
    if not prof.client_cert_requested:
        return [], 0
    req = prof.client_cert_request or {}
    args = ["--client-verify", "require"]
    if req.get("signature_algorithms"):
        args += ["--client-sigalgs", _schemes(req["signature_algorithms"])]
    return args, len(req.get("ca_names") or ())


def implied_proof(prof):
    """The proof the profile implies: by its ALPN protocol, else by its port (and
    transport: 5684 over DTLS is CoAP)."""
    alpn = (prof.extensions or {}).get("alpn")
    if alpn in ALPN_PROOFS:
        return proof_mod.Proof(ALPN_PROOFS[alpn])
    return proof_mod.default_proof(prof.target.port or 0, dgram.is_dtls(prof))


def _weak(prof, vs):
    """True when a recorded fact is below OpenSSL's default security level (Debian's 2):
    TLS < 1.2, an RSA key under 2048 bits, SHA-1 signatures, DH under 2048 bits."""
    if any(v in ("TLSv1.0", "TLSv1.1") for v in vs):
        return True
    certs = list(prof.chain) + ([prof.trust_anchor] if prof.trust_anchor else [])
    if any(c["key"].get("type", "").startswith("rsa") and (c["key"].get("bits") or 0) < 2048
           for c in certs) or any(c.get("signature_hash") == "sha1" for c in certs):
        return True
    if any("sha1" in s for v in vs for s in prof.signature_algorithms(v)):
        return True
    return any(((prof.key_exchange(v) or {}).get("dh_bits") or 4096) < 2048 for v in vs)


def plan(prof, psk_given=False):
    """The ReplicaPlan of the replica of `prof` (a Profile or a validated document).
    psk_given: the run brings a pre-shared key (a DTLS profile's PSK suites are served,
    dgram.py)."""
    prof = Profile.of(prof)
    diffs = []
    vs = _versions(prof, diffs)
    dtls = dgram.is_dtls(prof)
    keep = (lambda name: True) if psk_given or not dtls else \
        (lambda name: not dgram.is_psk_suite(name))
    if dtls and dgram.psk_only(prof):
        if not psk_given:
            raise dgram.psk_refusal()
        chain, anchor, sent = (), None, False
    else:
        chain, anchor, sent = _chain_plan(prof, diffs)
    args = ["--versions", f"{ENGINE_VERSION[vs[0]]}-{ENGINE_VERSION[vs[-1]]}"]
    if dtls:
        args += dgram.dtls_args(prof, psk_given, diffs)
    args += _suites_args(prof, vs, diffs, keep)
    args += _kex_args(prof, vs, diffs)
    args += _record_args(prof, diffs)
    client, n_ca = _client_args(prof)
    args += client
    if prof.client_cert_requested:
        diffs.append("client_cert_request: the profile does not say whether a certificate is "
                     "required; the replica requires one and accepts any")
    if _weak(prof, vs):
        args += ["--seclevel", "0"]
    pf = implied_proof(prof)
    args += ["--proof", ENGINE_PROOF[pf.kind]]
    sni = prof.target.sni or "localhost"
    return ReplicaPlan(chain, anchor, sent, sni, tuple(args), pf, n_ca, tuple(diffs),
                prof.client_cert_requested)
