"""A local replica of a profiled server: `tlsfit replay`, and fit/verify/measure
offline (issue 15, item 2).

    with serving("profiles/nginx-intermediate.json") as r:     # or a Profile, port=N
        r.host, r.port, r.ca_file, r.sni, r.proof, r.differences
    plan(profile) -> Plan            what the replica will be (pure: no files, no process)

The engine is tool/replay/ (tlsfit-replay, OpenSSL): the same versions, suites in
the recorded order (server order when the profile says so), groups, signature
schemes, client-certificate request (its schemes and as many CA names), ALPN,
extended_master_secret / encrypt_then_mac / session tickets as recorded, the
server's record size when it fragmented its handshake, and the application proof
the profile implies (ALPN, else the port: 8883 MQTT, 443/8443 HTTP, else
no-alert).  The chain is synthesized with the openssl CLI: the same length, key
types and sizes and signature algorithms, each certificate padded to its
recorded DER size with a non-critical nsComment extension (which mbedTLS and
OpenSSL ignore), so the Certificate message and the largest record match within a
few bytes (ECDSA signatures vary by a byte or two).  Chains are cached per chain
description under <cache>/replay/<hash>/ (RSA-4096 key generation is slow); the
replica's private keys live only there (mode 0600), never in a profile or report.

What the replica cannot reproduce is one line each in `differences`; a profile it
cannot serve at all is a REPLAY error (48) naming why.
"""
import contextlib
import hashlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..core import paths, proc as proc_mod, proof as proof_mod
from ..core.errors import REPLAY, TlsfitError
from ..profile import model as profile_mod
from ..profile.types import Profile
from . import refservers

HOST = "127.0.0.1"
BINARY = "tlsfit-replay"
READY_TIMEOUT = 20          # seconds for the engine to listen
CMD_TIMEOUT = 300           # seconds for one openssl CLI command (RSA-8192 keygen)
DAYS = 3650
PAD_TRIES = 6               # re-signings to hit a certificate's recorded size
SERIAL_LEN = 8              # bytes of a serial before fine-tuning a certificate's size
NSCOMMENT_MIN = 18          # bytes an nsComment extension of one character adds
VERSIONS = ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
# The engine's --versions spelling.
ENGINE_VERSION = {"TLSv1.0": "1.0", "TLSv1.1": "1.1", "TLSv1.2": "1.2", "TLSv1.3": "1.3"}
# Profile curve names -> the openssl CLI's.
CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
# ALPN protocol the server chose -> the proof it implies (reason: the protocol is the
# application the server speaks, whatever its port).
ALPN_PROOFS = {"mqtt": "mqtt", "x-amzn-mqtt-ca": "mqtt", "http/1.1": "http", "h2": "http"}
# The engine's --proof for each core.proof kind (the replica answers these three).
ENGINE_PROOF = {"mqtt": "mqtt", "http": "http", "no-alert": "none"}
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
class Replica:
    """A running replica: where it listens, the trust anchor to verify it with, the
    name its leaf is issued to, the proof it answers, and what differs from the
    profiled server (one line each)."""
    host: str
    port: int
    ca_file: str
    sni: str
    proof: proof_mod.Proof
    differences: tuple
    chain_dir: str = None       # the synthesized chain (device_identity issues from it)
    requires_client: bool = False   # the profiled server requested a client certificate

    @property
    def hostport(self):
        return f"{self.host}:{self.port}"

    def as_json(self):
        return {"host": self.host, "port": self.port, "ca_file": self.ca_file,
                "sni": self.sni, "proof": self.proof.spec,
                "differences": list(self.differences),
                "requires_client_cert": self.requires_client}


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
class Plan:
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

    def chain_key(self):
        """The cache key of the synthesized chain (everything that shapes it)."""
        doc = {"chain": [c.__dict__ for c in self.chain], "anchor": self.anchor.__dict__,
               "anchor_sent": self.anchor_sent, "sni": self.sni,
               "client_ca_names": self.client_ca_names, "v": 3}
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:20]


def _say(text):
    """Progress on stderr (stdout stays the command's, e.g. pure JSON)."""
    print(f"tlsfit: {text}", file=sys.stderr, flush=True)


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


def _suites_args(prof, vs, diffs):
    args = []
    old = [v for v in vs if v != "TLSv1.3"]
    if old:
        lists = [[s["id"] for s in prof.ciphersuites(v)] for v in reversed(old)]
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
    """The proof the profile implies: by its ALPN protocol, else by its port."""
    alpn = (prof.extensions or {}).get("alpn")
    if alpn in ALPN_PROOFS:
        return proof_mod.Proof(ALPN_PROOFS[alpn])
    return proof_mod.default_proof(prof.target.port or 0)


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


def plan(prof):
    """The Plan of the replica of `prof` (a Profile or a validated document)."""
    prof = Profile.of(prof)
    diffs = []
    vs = _versions(prof, diffs)
    chain, anchor, sent = _chain_plan(prof, diffs)
    args = ["--versions", f"{ENGINE_VERSION[vs[0]]}-{ENGINE_VERSION[vs[-1]]}"]
    args += _suites_args(prof, vs, diffs)
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
    return Plan(chain, anchor, sent, sni, tuple(args), pf, n_ca, tuple(diffs),
                prof.client_cert_requested)


# ----------------------------------------------------------- the chain, cached

def _openssl():
    return proc_mod.tool_path("openssl", REPLAY)


def _run(cmd, what):
    return proc_mod.run_tool(cmd, what, REPLAY, CMD_TIMEOUT)


def _genkey(spec, path):
    opts = refservers.genpkey_options(spec)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    _run([_openssl(), "genpkey", *opts, "-out", str(path)], f"generating a {spec} key")
    return path


_CONFIG = """\
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
{aki}
{pad}
[leaf]
basicConstraints = critical, CA:false
keyUsage = critical, {usage}
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:{sni}, IP:{ip}
{pad}
"""


def _sign_opts(spec):
    opts = [f"-{spec.digest}"] if spec.digest else []
    if spec.pss:
        opts += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"]
    return opts


def _make_cert(d, stem, cn, spec, issuer, sni, pad=0, serial_len=SERIAL_LEN, key=None):
    """Writes d/stem.pem (signed by issuer (pem, key), or self-signed) with `pad`
    characters of nsComment and a serial of serial_len bytes, for the key d/stem.key
    (or the file `key`); returns its DER size."""
    usage = "digitalSignature, keyEncipherment" if spec.key.startswith("rsa:") \
        else "digitalSignature"
    cfg = d / f"{stem}.cnf"
    cfg.write_text(_CONFIG.format(
        aki="authorityKeyIdentifier = keyid" if issuer else "", usage=usage, sni=sni, ip=HOST,
        pad=f"nsComment = \"{'x' * pad}\"" if pad > 0 else ""))
    key, pem = Path(key) if key else d / f"{stem}.key", d / f"{stem}.pem"
    # positive, no DER padding: the first byte is 0x1X
    serial = "0x1" + os.urandom(serial_len).hex()[:2 * serial_len - 1]
    section = "ca" if spec.is_ca else "leaf"
    if issuer is None:
        _run([_openssl(), "req", "-new", "-x509", "-key", str(key), "-subj", f"/CN={cn}",
              "-days", str(DAYS), *_sign_opts(spec), "-set_serial", serial, "-config", str(cfg),
              "-extensions", section, "-out", str(pem)], f"making the certificate {cn}")
    else:
        csr = d / f"{stem}.csr"
        _run([_openssl(), "req", "-new", "-key", str(key), "-subj", f"/CN={cn}",
              "-config", str(cfg), "-out", str(csr)], f"making the request for {cn}")
        _run([_openssl(), "x509", "-req", "-in", str(csr), "-CA", str(issuer[0]),
              "-CAkey", str(issuer[1]), "-set_serial", serial, "-days", str(DAYS),
              *_sign_opts(spec), "-extfile", str(cfg), "-extensions", section,
              "-out", str(pem)], f"signing the certificate {cn}")
        csr.unlink()
    der = _run([_openssl(), "x509", "-in", str(pem), "-outform", "DER"], f"reading {pem}")
    return len(der)


def _padded_cert(d, stem, cn, spec, issuer, sni):
    """The certificate re-made until its DER size is the recorded one: coarse steps by
    an nsComment extension (at least NSCOMMENT_MIN bytes), fine steps by the serial's
    length (1 to 20 bytes), re-signed when an ECDSA signature came out a byte off."""
    size = _make_cert(d, stem, cn, spec, issuer, sni)
    if spec.der_len <= 0:
        return size
    pad, serial = 0, SERIAL_LEN
    for _ in range(PAD_TRIES):
        short = spec.der_len - size
        if short == 0:
            break
        if 1 - serial <= short <= 20 - serial:
            serial += short
        elif short > 0:
            step = short - NSCOMMENT_MIN + 1 if pad == 0 else short
            pad = max(1, pad + step)
        else:
            break                               # larger than recorded even at its leanest
        size = _make_cert(d, stem, cn, spec, issuer, sni, pad, serial)
    return size


def _synthesize(p, d):
    """Makes the chain of plan p in directory d: keys, certificates, fullchain.pem (the
    certificates sent), ca.pem (the anchor), client-cas.pem, sizes.json."""
    _genkey(p.anchor.key, d / "root.key")
    sizes = {"root": _padded_cert(d, "root", "tlsfit replica", p.anchor, None, p.sni)}
    issuer = (d / "root.pem", d / "root.key")
    made = []
    for i in range(len(p.chain) - 1, -1, -1):
        spec = p.chain[i]
        stem = "leaf" if i == 0 else f"ca{i}"
        _genkey(spec.key, d / f"{stem}.key")
        cn = p.sni if i == 0 else f"tlsfit replica i{i}"
        sizes[stem] = _padded_cert(d, stem, cn, spec, issuer, p.sni)
        issuer = (d / f"{stem}.pem", d / f"{stem}.key")
        made.insert(0, d / f"{stem}.pem")
    if p.anchor_sent:
        made.append(d / "root.pem")
    (d / "fullchain.pem").write_bytes(b"".join(f.read_bytes() for f in made))
    (d / "ca.pem").write_bytes((d / "root.pem").read_bytes())
    cas = []
    if p.client_ca_names:
        _genkey("ec:P-256", d / "clientca.key")
        for k in range(p.client_ca_names):
            spec = CertSpec("ec:P-256", "sha256", False, 0, True)
            _make_cert(d, "clientca", f"tlsfit replica client CA {k + 1}", spec, None, p.sni, 0)
            cas.append((d / "clientca.pem").read_bytes())
    (d / "client-cas.pem").write_bytes(b"".join(cas))
    (d / "sizes.json").write_text(json.dumps(sizes) + "\n")
    for f in d.glob("*.cnf"):
        f.unlink()


DEVICE_CN = "tlsfit replica device"
DEVICE_KEY = "ec:P-256"     # the replica's own device key: the commonest device key


def device_identity(r):
    """(certificate, key) files of a device identity for replica `r` (which accepts any
    client certificate, see the differences): a self-signed DEVICE_KEY certificate made
    once beside its chain (key mode 0600), for runs that have no identity of their own
    (the bench).  None when the replica requests no client certificate."""
    if not r.requires_client:
        return None
    d = Path(r.chain_dir)
    cert = d / "device.pem"
    with proc_mod.locked(d):
        if not cert.is_file():
            _genkey(DEVICE_KEY, d / "device.key")
            _make_cert(d, "device-new", DEVICE_CN, CertSpec(DEVICE_KEY, "sha256", False, 0,
                                                             False),
                       None, r.sni, key=d / "device.key")
            (d / "device-new.cnf").unlink()
            os.replace(d / "device-new.pem", cert)
    return cert, d / "device.key"


def chain_dir(p):
    """<cache>/replay/<hash>: the synthesized chain of plan p, made once."""
    root = paths.cache_dir() / "replay"
    d = root / p.chain_key()
    if (d / "sizes.json").is_file():
        return d
    root.mkdir(parents=True, exist_ok=True)
    _say(f"making the replica's certificate chain ({len(p.chain)} certificates, "
         f"{', '.join(c.key for c in p.chain)}; once, cached in {d})...")
    tmp = Path(tempfile.mkdtemp(prefix=".make-", dir=root))
    try:
        os.chmod(tmp, 0o700)
        _synthesize(p, tmp)
        try:
            os.rename(tmp, d)
        except OSError:
            if not (d / "sizes.json").is_file():      # not another run's finished copy
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return d


def _size_differences(p, d):
    sizes = json.loads((d / "sizes.json").read_text())
    out = []
    for i, spec in enumerate(p.chain):
        got = sizes["leaf" if i == 0 else f"ca{i}"]
        if spec.der_len and abs(got - spec.der_len) > 4:
            out.append(f"chain[{i}].der_len: {got} B, recorded {spec.der_len} B (the smallest "
                       "certificate the replica makes with that key is larger)"
                       if got > spec.der_len else
                       f"chain[{i}].der_len: {got} B, recorded {spec.der_len} B")
    return out


# -------------------------------------------------------------------- the engine

def ensure_engine():
    """Builds tlsfit-replay (with the prober's cmake tree) if needed; its path."""
    from ..mbedtls.tree import prober_tree
    from ..profile import prober
    mbedtls = prober_tree().path
    build_dir = prober.host_build_dir(mbedtls)
    binary = build_dir / BINARY
    stamp = build_dir / prober.STAMP.format(BINARY)
    src = paths.repo_root() / "tool" / "replay"
    newest = max(f.stat().st_mtime for f in [src, *src.iterdir()])
    fresh = prober.up_to_date(build_dir, mbedtls, BINARY) and stamp.stat().st_mtime >= newest
    if not fresh:
        prober.cmake_build(build_dir, mbedtls, target=BINARY,
                           announce=lambda first: _say("building the replica server "
                                                       "(tool/replay)..."))
    if not os.access(binary, os.X_OK):
        raise TlsfitError(REPLAY, f"{binary} was not built: is libssl-dev installed? "
                                  "(./tlsfit setup installs it)")
    return binary


def _read_ready(proc, deadline):
    """The engine's "differs:" lines and its port, read from its stdout."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf, diffs = b"", []
    try:
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                return diffs, None
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode(errors="replace").strip()
                if text.startswith("differs: "):
                    diffs.append(text[len("differs: "):])
                elif text.startswith("listening "):
                    return diffs, int(text.split()[-1])
    finally:
        sel.close()
    return diffs, None


def _stop(proc):
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)         # children left behind, if any
    if proc.poll() is None:
        proc.wait(timeout=5)


def resolve(name_or_path):
    """A name in profiles/ or a profile file, as a Path (profile.library's rule); PROFILE
    error (32) naming the available names otherwise."""
    from ..profile import library
    return library.resolve(name_or_path)


def _load(profile):
    if isinstance(profile, Profile):
        return profile
    return Profile.of(profile_mod.read(profile))


@contextlib.contextmanager
def serving(profile, port=0, log=None):
    """A Replica of `profile` (a path, or a Profile) on 127.0.0.1:port (0: a free port)
    for the with-block; stopped (with every connection it serves) after it.  `log`: a
    file for the engine's stderr (default <chain dir>/replay.log)."""
    prof = _load(profile)
    p = plan(prof)
    binary = ensure_engine()
    d = chain_dir(p)
    argv = [str(binary), "--port", str(port), "--cert", str(d / "fullchain.pem"),
            "--key", str(d / "leaf.key"), *p.engine_args]
    if p.client_ca_names:
        argv += ["--client-ca", str(d / "client-cas.pem")]
    if log:
        log_path = Path(log)
    else:                               # one per replica: several may serve one chain
        fd, name = tempfile.mkstemp(prefix="replay-", suffix=".log", dir=d)
        os.close(fd)
        log_path = Path(name)
    with open(log_path, "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=err, start_new_session=True)
    try:
        diffs, bound = _read_ready(proc, time.monotonic() + READY_TIMEOUT)
        if bound is None:
            _stop(proc)
            why = log_path.read_text(errors="replace").strip().splitlines()
            raise TlsfitError(REPLAY, "the replica did not start: "
                              + (why[-1].removeprefix("tlsfit-replay: ") if why else
                                 f"no port after {READY_TIMEOUT} s")
                              + (f" (port {port})" if port else "")
                              + "".join(f"; {d}" for d in diffs))
        yield Replica(HOST, bound, str(d / "ca.pem"), p.sni, p.proof,
                      p.differences + tuple(diffs) + tuple(_size_differences(p, d)),
                      str(d), p.requires_client)
    finally:
        _stop(proc)
        proc.stdout.close()
        with contextlib.suppress(OSError):
            if not log:
                log_path.unlink()


def replica_identity(r, client_given):
    """(certificate, key, one line saying so) of the replica's own device identity when
    `r` requests a client certificate and the run brings none (client_given false);
    else None: a given identity is presented as it is (the replica accepts any)."""
    ident = None if client_given else device_identity(r)
    if ident is None:
        return None
    return (*ident, f"the replica requests a client certificate and none was given: "
                    f"presenting the replica's own device identity ({DEVICE_KEY}, {ident[0]}); "
                    "give --client-cert/--client-key to fit the device's own key type")


@dataclass(frozen=True)
class Target:
    """Where verify/measure connect: a server given on the command line, or a replica;
    and the device identity to present there (core.identity.ClientIdentity or None)."""
    host: str
    port: int
    sni: str
    ca: str
    proof: object
    replica: Replica = None
    client: object = None


@contextlib.contextmanager
def server_or_replica(server, profile, sni=None, ca=None, proof=None, flag="HOST[:PORT]",
                      client=None):
    """The Target of `server` ("HOST[:PORT]", with sni, ca, proof and client as given),
    or, with no server and a `profile` (a name or a file), of a replica of it for the
    with-block: its name, trust anchor and implied proof unless --proof is given, and,
    when it requests a client certificate, replica_identity()'s; a line on stderr says
    so.  USAGE error for neither, or both."""
    from ..core.errors import USAGE
    from ..core.hostport import parse_target
    if server and profile:
        raise TlsfitError(USAGE, f"give {flag} or --profile (a replica of it), not both")
    if server:
        host, port = parse_target(server)
        yield Target(host, port, sni, ca, proof, client=client)
        return
    if not profile:
        raise TlsfitError(USAGE, f"name the server ({flag}) or a profile to replay "
                                 "(--profile NAME|FILE)")
    if sni or ca:
        raise TlsfitError(USAGE, "--sni and --ca are for a server: the replica of --profile "
                                 "brings its own name and trust anchor")
    from ..core.identity import ClientIdentity
    with serving(resolve(profile)) as r:
        print(f"tlsfit: against a replica of {profile} on {r.hostport}"
              + "".join(f"\n  differs: {d}" for d in r.differences), file=sys.stderr)
        ident = replica_identity(r, client is not None)
        if ident:
            print(f"tlsfit: {ident[2]}", file=sys.stderr)
            client = ClientIdentity.load(ident[0], ident[1])
        yield Target(r.host, r.port, r.sni, r.ca_file, proof or r.proof, r, client)
