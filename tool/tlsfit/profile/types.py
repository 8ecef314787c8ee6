"""The profile as the later stages read it: a frozen, typed view of a validated
document (model.py validates; Profile.of and model.read build this)."""
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..core.document import DocumentView, frozen_copy


@dataclass(frozen=True)
class Target:
    """Where the server was probed: the name given, its port, the SNI sent (None for an
    IP address without --sni) and the address connected to."""
    host: str
    port: int
    sni: str = None
    address: str = None

    @property
    def hostport(self):
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, eq=False)
class Profile(DocumentView):
    """A validated profile, typed for the stages that read it (header, fit).

    Per-version facts (ciphersuites, groups, signature_algorithms, key_exchange, ...)
    are read through the accessor methods, which give the schema's empty value for a
    version the document does not list.  The profile is also a read-only Mapping over
    its JSON document, so every key of docs/profile-schema.md reads as p["..."]."""
    target: Target
    probed_at: str
    versions: tuple
    chain: tuple                     # certificate objects as in the schema, as sent, leaf first
    trust_anchor: Mapping = None
    records: Mapping = None
    extensions: Mapping = None
    client_cert_requested: bool = False
    client_cert_request: Mapping = None
    document: Mapping = field(default=None, repr=False)

    @classmethod
    def of(cls, doc):
        """doc (a validated document, or a Profile) as a Profile."""
        if isinstance(doc, Profile):
            return doc
        doc = frozen_copy(doc)
        t = doc.get("target") or {}
        return cls(Target(t.get("host"), t.get("port"), t.get("sni"), t.get("address")),
                   doc.get("probed_at"), tuple(doc.get("versions") or ()),
                   tuple(doc.get("chain") or ()), doc.get("trust_anchor"),
                   doc.get("records") or {}, doc.get("extensions") or {},
                   bool(doc.get("client_cert_requested")), doc.get("client_cert_request"),
                   doc)

    @property
    def path(self):
        """The certificates on the path from the leaf to the trust anchor (chain_path),
        leaf first, the anchor included when it is a root the server sent; the whole
        chain for a profile written before chain_path existed."""
        idx = self.document.get("chain_path")
        if idx is None:
            return self.chain
        return tuple(self.chain[i] for i in idx)

    @property
    def unused(self):
        """The certificates the server sent that are not on the path (chain_unused)."""
        return tuple(self.chain[i] for i in self.document.get("chain_unused") or ())

    def _by_version(self, name, version, empty):
        return (self.document.get(name) or {}).get(version, empty)

    def ciphersuites(self, version):
        """[{"id", "name"}] the server accepted in this version, in its order."""
        return self._by_version("ciphersuites", version, [])

    def groups(self, version):
        return self._by_version("groups", version, [])

    def signature_algorithms(self, version):
        return self._by_version("signature_algorithms", version, [])

    def key_exchange(self, version):
        """The key exchange seen in this version ({} for static RSA), or None."""
        return self._by_version("key_exchange", version, None)
