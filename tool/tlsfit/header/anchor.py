"""`--anchor CERT`: a CA certificate of the server's chain as the device's trust anchor.

    cert = AnchorCert.load("inter.pem", name="inter.pem")   # or AnchorError (exit 50)
    placed = place(profile, cert)        # Placement, or AnchorError naming what was found
    placed.doc                           # the profile with CERT as its trust anchor
    placed.above, placed.same            # what the device no longer verifies; a no-op?
    trade_off(anchor_record, ...)        # the header's and the report's lines on it

The prober ends the certification path at an anchor (docs/profile-schema.md "The path":
a certificate of a --ca bundle first, then a root the server sent, then the system
store), and gen configures what the path and the anchor need.  place() ends the
recorded path at CERT instead -- the profile the prober would have written with
`--ca CERT`: chain_path keeps the certificates below CERT, trust_anchor becomes CERT's
record (source: CERT's file), every other certificate goes to chain_unused.  gen then
needs only the keys and signatures of leaf -> CERT, CERT's key, and what parsing CERT
needs (its own signature is never verified); whatever is above CERT -- a P-384 or
RSA-4096 root -- configures nothing.

CERT is matched by the SHA-256 of its DER against the certificates the profile
recorded (each keeps its DER, `der_b64`): the profile's anchor (CERT is already the
anchor: nothing changes, `same`), a CA certificate on the path, else an error (exit 50)
naming what CERT is to the chain -- the leaf (mbedTLS trusts a certificate only as the
issuer of the one below it), a certificate the server sends off the path, another
certificate with the subject of one on the path (compared as DER), or none of them --
and the path it could have named.
"""
import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..core import pki
from ..core.errors import ANCHOR, TlsfitError
from ..profile.types import Profile


class AnchorError(TlsfitError):
    """--anchor CERT cannot be used (exit 50)."""

    def __init__(self, message):
        super().__init__(ANCHOR, message)


# ------------------------------------------------------------------ subject and key

def subject_and_key(der):
    """(subject Name, SubjectPublicKeyInfo) of a certificate, as DER; ValueError when it
    is not an X.509 certificate.  Certificate ::= SEQUENCE { tbsCertificate SEQUENCE {
    [0] version OPTIONAL, serial, signature, issuer, validity, subject, spki, ... }, ...}"""
    tag, body, end = pki.der_element(der, 0)
    if tag != 0x30 or end != len(der):
        raise ValueError("not one SEQUENCE")
    tag, tbs, tbs_end = pki.der_element(der, body)
    if tag != 0x30:
        raise ValueError("no tbsCertificate")
    fields = pki.der_children(der, tbs, tbs_end)
    if fields and fields[0][0] == 0xA0:
        fields = fields[1:]
    if len(fields) < 6 or fields[4][0] != 0x30 or fields[5][0] != 0x30:
        raise ValueError("no subject and key")
    return fields[4][1], fields[5][1]


# ------------------------------------------------------------------ the file

@dataclass(frozen=True)
class AnchorCert:
    """CERT: its DER and how headers and commands name its file."""
    der: bytes
    name: str

    @property
    def sha256(self):
        return hashlib.sha256(self.der).hexdigest()

    def pem(self):
        return pki.pem_text(self.der)

    @classmethod
    def load(cls, path, name=None):
        """The one certificate of a PEM or DER file; AnchorError naming the file."""
        p = Path(path)
        name = name or str(path)
        try:
            data = p.read_bytes()
        except IsADirectoryError:
            raise AnchorError(f"--anchor {path}: is a directory, not a certificate") from None
        except OSError as e:
            raise AnchorError(f"--anchor {path}: cannot read it ({e.strerror})") from None
        pems = pki.PEM_CERT.findall(data)
        if len(pems) > 1:
            raise AnchorError(f"--anchor {path}: holds {len(pems)} certificates; give the one "
                              "CA certificate the device is to trust, alone in its file")
        try:
            der = pki.pem_certificate(data, validate=True) if pems else data
            subject_and_key(der)
        except ValueError:
            raise AnchorError(f"--anchor {path}: not a certificate (PEM or DER X.509); give "
                              "the CA certificate of the server's chain the device is to "
                              "trust") from None
        return cls(der, name)


# ------------------------------------------------------------------ the path

@dataclass(frozen=True)
class Placement:
    """CERT placed on one profile's path: the profile with CERT as its anchor, CERT's
    index in `chain` (None: the profile's anchor from a CA file), the subjects above it
    that the device no longer verifies, and whether CERT already was the anchor."""
    doc: Profile
    cert: AnchorCert
    position: int
    above: tuple
    same: bool

    def facts(self):
        """The JSON form (gen --json, report.json): what the device trusts, what not."""
        a = self.doc.trust_anchor
        return {"file": self.cert.name, "sha256": self.cert.sha256, "subject": a["subject"],
                "issuer": a["issuer"], "not_after": a.get("not_after"),
                "chain_index": self.position, "not_verified": list(self.above),
                "same_as_profile": self.same}


def _fingerprint(record):
    return hashlib.sha256(base64.b64decode(record.get("der_b64") or "")).hexdigest()


def _path_text(doc, idx):
    roles = [("leaf" if k == 0 else "intermediate") + f' "{doc.chain[i]["subject"]}"'
             for k, i in enumerate(idx)]
    a = doc.trust_anchor
    if a is not None and a.get("source") != "sent":
        roles.append(f'anchor "{a["subject"]}"')
    elif a is not None and roles:
        roles[-1] = f'root "{a["subject"]}"'
    return " <- ".join(roles) or "empty"


def _same_subject(doc, idx, der):
    """(chain index, same key?) of a path certificate with CERT's subject, or None."""
    try:
        subject, key = subject_and_key(der)
    except ValueError:
        return None
    for i in idx:
        try:
            theirs = subject_and_key(base64.b64decode(doc.chain[i].get("der_b64") or ""))
        except ValueError:
            continue
        if theirs[0] == subject:
            return i, theirs[1] == key
    return None


def locate(doc, cert):
    """(Placement, None) when CERT is a CA certificate of the profile's path or its
    anchor, else (None, why not: one sentence naming what was found)."""
    doc = Profile.of(doc)
    idx = list(doc.document.get("chain_path") or range(len(doc.chain)))
    fp, ta = cert.sha256, doc.trust_anchor
    where = doc.target.hostport
    if ta is not None and _fingerprint(ta) == fp:
        pos = idx[-1] if ta.get("source") == "sent" and idx else None
        return Placement(doc, cert, pos, (), True), None
    for k, i in enumerate(idx):
        c = doc.chain[i]
        if _fingerprint(c) != fp:
            continue
        if k == 0:
            return None, (f'is the server\'s own certificate (chain[0], "{c["subject"]}"), not '
                          "a CA: mbedTLS trusts a certificate only as the issuer of the one "
                          f"below it; give a CA certificate of the path {_path_text(doc, idx)}")
        if k == len(idx) - 1 and c["subject"] == c["issuer"] and ta is None:
            return Placement(doc, cert, i, (), True), None
        return _placed(doc, cert, idx, k), None
    for i in doc.document.get("chain_unused") or ():
        if _fingerprint(doc.chain[i]) == fp:
            return None, (f'is "{doc.chain[i]["subject"]}", which {where} sends (chain[{i}]) '
                          "but which is not on the path from its leaf to the anchor (a "
                          "cross-signed or extra certificate); give a CA certificate of the "
                          f"path {_path_text(doc, idx)}")
    twin = _same_subject(doc, idx, cert.der)
    if twin is not None:
        i, same_key = twin
        return None, (f'has the subject "{doc.chain[i]["subject"]}" of chain[{i}]'
                      + (" and its key" if same_key else "") + " but is another certificate "
                      f"(SHA-256 {fp[:16]}..., the server sends {_fingerprint(doc.chain[i])[:16]}"
                      "...): give the certificate the profile recorded (chain["
                      f"{i}].der_b64), or re-probe {where} if it changed")
    return None, (f"(SHA-256 {fp[:16]}...) is not on the path of {where}'s chain, "
                  f"{_path_text(doc, idx)}; give one of its CA certificates (an intermediate, "
                  "or the root)")


def _placed(doc, cert, idx, k):
    """The profile with chain[idx[k]] as its trust anchor, as the prober records a
    --ca anchor: the path below it, the anchor's record from the chain."""
    d = doc.to_json()
    c = dict(doc.chain[idx[k]])
    c.pop("decoded", None)
    d["chain_path"] = idx[:k]
    d["chain_unused"] = sorted(set(range(len(doc.chain))) - set(idx[:k]))
    d["trust_anchor"] = dict(c, source=cert.name)
    d["chain_complete"] = True
    above = [doc.chain[i]["subject"] for i in idx[k + 1:]]
    ta = doc.trust_anchor
    if ta is not None and ta["subject"] not in above:
        above.append(ta["subject"])
    elif ta is None and not above:
        above.append(c["issuer"])
    return Placement(Profile.of(d), cert, idx[k], tuple(above), False)


def place(doc, cert):
    """The Placement of CERT on this profile's path, or AnchorError (exit 50)."""
    placed, why = locate(doc, cert)
    if placed is None:
        raise AnchorError(f"--anchor {cert.name} {why}")
    return placed


def place_any(docs, cert):
    """[Placement or None] per profile: CERT ends the path of every server whose path
    holds it; AnchorError when it is on no server's path."""
    if len(docs) == 1:
        return [place(docs[0], cert)]
    out, whys = [], []
    for n, d in enumerate(docs, 1):
        placed, why = locate(d, cert)
        out.append(placed)
        whys.append(f"server {n} ({Profile.of(d).target.hostport}): {why}")
    if not any(out):
        raise AnchorError(f"--anchor {cert.name} is on no server's path: " + "; ".join(whys))
    return out


# ------------------------------------------------------------------ the trade-off

def is_intermediate(anchor):
    """An anchor that is not a self-signed root (--anchor, or a probe --ca naming one)."""
    return anchor is not None and anchor["subject"] != anchor["issuer"]


def trade_off(anchor, names, time=True, above=(), source=None):
    """The lines the header and the report state about an intermediate anchor, in
    security terms: what the device then trusts, what it never checks, what revoking
    and rotating it take.  names: the server names it is checked against."""
    subject = anchor["subject"]
    hosts = " or ".join(f'"{n}"' for n in names) or "the server's name"
    src = source or anchor.get("source")
    until = (f"until that certificate expires ({anchor.get('not_after') or 'date unknown'})"
             if time else "for as long as the device keeps it (--no-time: no date is checked)")
    above = list(above) or [anchor["issuer"]]
    return [
        f'Trust anchor: the intermediate CA "{subject}"' + (f" ({src})" if src else "")
        + f", not a root. The device accepts any certificate this CA signs for {hosts}, "
        + until + ".",
        "Never checked on the device: " + ", ".join(f'"{s}"' for s in above)
        + " above it (signature, key, name and path constraints, expiry).",
        "Revoking this CA does not reach the device (no CRL or OCSP is checked): to stop "
        "trusting it, update the device's anchor.",
        "When the server moves to a certificate from another CA, the device refuses it until "
        "its anchor is updated: keep a way to update it, or anchor at the root.",
    ]
