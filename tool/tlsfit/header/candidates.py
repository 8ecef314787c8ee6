"""Candidates: every (version, suite, group, signature scheme) the server accepts that
mbedTLS can do (rules.toml), with the reason for each one left out."""
from . import psk as psk_mod
from .types import Candidate


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


def suite_parts(rules, line, name, kx_name=None):
    """(the [suites] row of `name`, with its key exchange replaced by kx_name when given,
    and the facts [kx, cipher, PRF hash, MAC hash] it needs), or (None, why not)."""
    row = rules.suites.get(name)
    if row is None:
        return None, "not a suite mbedTLS implements (or not in tlsfit's rules)"
    row = (kx_name or row[0],) + tuple(row[1:])
    kx, cipher, mac, prf = row
    parts = [rules.fact("kx", kx, line), rules.fact("ciphers", cipher, line),
             rules.fact("hashes", prf, line)]
    if mac != "aead":
        parts.append(rules.fact("hashes", mac, line))
    return row, parts


class Enumeration:
    """Every candidate the server accepts, with the reason for each one left out:
    certificate suites from the suites the server accepts (none without a chain:
    chain_needs None), PSK candidates from the psk step's facts for the identity
    `psk` (a psk.PskSpec; psk.candidates)."""

    def __init__(self, doc, rules, line, tls, chain_needs, psk=None):
        self.candidates = []
        self.rejected = []            # (what, reason)
        if psk is not None:
            found, rejected = psk_mod.candidates(doc, rules, line, tls, psk,
                                                 lambda n, kx: suite_parts(rules, line, n, kx))
            self.candidates += found
            self.rejected += rejected
        if chain_needs is None:
            return
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
        row, parts = suite_parts(rules, line, name)
        if row is None:
            self.rejected.append((name, parts))
            return
        kx_name, cipher, mac, prf = row
        if (kx_name == "TLS13") != (version == "TLSv1.3"):
            return
        if "PSK" in kx_name.split("_"):
            self.rejected.append((name, "a pre-shared-key suite: gen --psk-identity uses what "
                                        "the probe proved for that identity"))
            return
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
