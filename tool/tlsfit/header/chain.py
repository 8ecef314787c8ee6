"""The chain: what the path from the server's leaf to the trust anchor needs, whatever
the suite -- each certificate's key must parse (key type, curve, RSA size) and each
signature checked on the way to the anchor needs its algorithm and hash; the trust
anchor the device loads, root or not, needs what parsing it needs (its own signature's
algorithm and hash, even when self-signed: mbedTLS refuses to load a certificate whose
signature algorithm it does not know).  Certificates the server sends off the path need
nothing (mbedTLS skips a sent certificate of an unknown signature algorithm)."""
from ..profile.model import describe_failures
from .types import Refusal
from .wants import need


def label(cert, role):
    """How a reason names a certificate: its role and subject."""
    return f'{role} "{cert["subject"]}"'


def roles(path, anchor):
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
            failed = describe_failures(doc, "handshake")
            raise Refusal("the profile has no certificate chain"
                          + (f": the probe's {failed}" if failed else
                             " (the server sent none)") + "; re-probe the server")
        for i, cert in zip(doc.document.get("chain_path") or range(len(chain)), chain):
            if cert.get("decoded") is False:
                raise Refusal(f"chain[{i}], on the path to the trust anchor, is a certificate "
                              "the prober could not decode (docs/profile-schema.md): mbedTLS "
                              "would have to parse and verify it; re-probe once the server "
                              "sends a well-formed certificate")
        anchor = doc.trust_anchor
        last = chain[-1]
        if anchor is None and last["subject"] != last["issuer"]:
            raise Refusal(f'the trust anchor of this chain is unknown (issuer "{last["issuer"]}" '
                          "was not found): re-probe with --ca FILE so its key can be configured")
        self.anchor = anchor or last
        self.leaf = chain[0]
        for cert, role, sig_checked in roles(chain, anchor):
            self._key(cert, role, rules, line)
            if sig_checked:
                self._signature(cert, role, rules, line, pol)
        self._parsed(self.anchor, rules, line)

    def _key(self, cert, role, rules, line):
        key, where = cert["key"], label(cert, role)
        if key["type"] == "unknown":
            raise Refusal(f"{where} has a key of a type tlsfit does not know (OID "
                          f"{key.get('oid')}), which mbedTLS cannot verify a chain with")
        fact = rules.fact("cert_keys", key["type"], line)
        if fact.unsupported:
            raise Refusal(f"{where} has a {key['type']} key: {fact.unsupported}")
        if key["type"] == "rsa":
            bits = key["bits"] or 0
            if bits < fact.attrs.get("min_bits", 0):
                raise Refusal(f"{where} has a {bits}-bit RSA key; mbedTLS's default "
                              f"certificate profile needs {fact.attrs['min_bits']} bits or more")
            self.rsa_bits = max(self.rsa_bits, bits)
            need(self.options, fact.options, f"{where} has an RSA-{bits} key")
            return
        curve = rules.fact("curves", key.get("curve") or "unknown", line)
        if curve.unsupported:
            raise Refusal(f"{where} has a key on curve {key.get('curve')}: {curve.unsupported}")
        if not curve.attrs.get("x509_default"):
            raise Refusal(f"{where} has a key on {key['curve']}, which mbedTLS's default "
                          "certificate profile rejects (BADCERT_BAD_KEY)")
        self.curves.add(key["curve"])
        self.ec_bits = max(self.ec_bits, curve.attrs["bits"])
        need(self.options, fact.options + curve.options,
             f"{where} has a {key['curve']} key")

    def _signature(self, cert, role, rules, line, pol):
        name, where = cert["signature_algorithm"], label(cert, role)
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
        need(self.options, fact.options + h.options, f"{where} is signed with {name}")

    def _parsed(self, cert, rules, line):
        """The trust anchor the device loads, a root (self-signed) or not (gen --anchor, a
        probe --ca naming an intermediate): its own signature is never verified, but
        mbedTLS parses a certificate only when it knows the signature algorithm (oid.c: the
        algorithm's module and hash), so loading it needs them (cert_sigs `parse`).  A root
        self-signed with SHA-256 above a chain signed with SHA-384 (DigiCert Global Root G2
        and Azure IoT Hub) needs SHA-256 for that alone."""
        name, where = cert["signature_algorithm"], label(cert, "trust anchor")
        family = rules.cert_sig_family(name)
        parse = rules.facts["cert_sigs"][family].attrs.get("parse") if family else None
        if parse is None:
            instead = ("anchor at its issuer instead" if cert["subject"] != cert["issuer"]
                       else "the server's chain must end at another root")
            raise Refusal(f"{where} is signed with {name}, which mbedTLS cannot parse, so the "
                          f"device cannot load it as its anchor; {instead}")
        h = rules.fact("hashes", cert.get("signature_hash") or "unknown", line)
        if h.unsupported:
            raise Refusal(f"{where} is signed with {name}: {h.unsupported}")
        need(self.options, list(parse) + list(h.options),
             f"{where} is signed with {name}: mbedTLS must know that algorithm to load it "
             "(the anchor's own signature is not verified)")
