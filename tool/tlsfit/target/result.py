"""What one measurement on a target found, as frozen types.

    Measurement.from_json(doc)   the `measure --json` document -> Measurement
    m.handshake.ok, m.rom_bytes, m.figures(), m.baseline, m.to_json()

A Measurement is also a read-only Mapping over its JSON document, so the document's
every key (the stable names listed in target/measure.py) reads as m["rom_bytes"];
the typed attributes are the contract between the stages (fit reads those).
"""
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..core.document import DocumentView, frozen_copy

# The figures compared between two reports (measure's "ratios", "lto_change"), in the
# order the reports list them.
RATIO_FIELDS = ("rom_bytes", "rom_tls_bytes", "heap_peak_bytes", "ram_static_bytes",
                "stack_peak_bytes", "handshake_instructions")
FIGURES = ("rom_bytes", "rom_tls_bytes", "ram_static_bytes", "heap_peak_bytes",
           "stack_peak_bytes", "handshake_instructions")


@dataclass(frozen=True)
class Handshake:
    """The handshake's status: ok, or where and why it failed (mbedTLS error name,
    handshake state, the server's alert, a hint naming the next step).  ok means the
    handshake completed and the proof after it showed the server accepted the
    session: `proof` names the proof ("mqtt-connack", "http", "no-alert",
    "send-expect"), `proof_reply` says how it ended ("CONNACK return code 0
    (connection accepted)", an HTTP status line, ...); a rejection after the
    handshake has step "proof" and `alert` ("certificate_required (116)")."""
    ok: bool
    version: str = None
    ciphersuite: str = None
    group: str = None
    error: str = None
    message: str = None
    state: str = None
    hint: str = None
    step: str = None
    proof: str = None
    proof_ok: bool = None
    proof_reply: str = None
    alert: str = None

    @classmethod
    def from_json(cls, d):
        d = d or {}
        pr = d.get("proof_result") or {}
        sa = d.get("server_alert") or {}
        alert = pr.get("alert")
        if alert is None and sa.get("description") is not None:
            alert = f"{sa.get('name') or 'unknown'} ({sa['description']})"
        return cls(bool(d.get("ok")), d.get("version"), d.get("ciphersuite"), d.get("group"),
                   d.get("error"), d.get("message"), d.get("state"), d.get("hint"),
                   d.get("step"), d.get("proof"), pr.get("ok") if pr else None,
                   pr.get("reply"), alert)

    def failure(self):
        """One line: "ERROR in STATE" ("ERROR" when the state is unknown); after the
        handshake "ERROR after the handshake, proof P (alert NAME (N))"; empty when ok."""
        if self.ok:
            return ""
        error = self.error or "the handshake failed"
        if self.step == "proof":
            why = f" (alert {self.alert})" if self.alert else ""
            return f"{error} after the handshake, proof {self.proof}{why}"
        return f"{error} in {self.state}" if self.state else error


@dataclass(frozen=True, eq=False)
class Measurement(DocumentView):
    target: str
    server: str
    mbedtls: str
    handshake: Handshake
    rom_bytes: int
    rom_tls_bytes: int
    ram_static_bytes: int
    heap_peak_bytes: int
    stack_peak_bytes: int
    handshake_instructions: int
    modules: tuple
    baseline: "Measurement" = None
    ratios: Mapping = None
    without_lto: "Measurement" = None     # measure(lto="both"): the plain image's run
    document: Mapping = field(default=None, repr=False)

    @classmethod
    def from_json(cls, doc):
        base = doc.get("baseline")
        plain = doc.get("without_lto")
        return cls(doc.get("target"), doc.get("server"), doc.get("mbedtls"),
                   Handshake.from_json(doc.get("handshake")),
                   *(doc.get(k) for k in FIGURES[:5]), doc.get("handshake_instructions"),
                   tuple(doc.get("modules") or ()),
                   cls.from_json(base) if base else None,
                   frozen_copy(doc["ratios"]) if doc.get("ratios") else None,
                   cls.from_json(plain) if plain else None,
                   frozen_copy(doc))

    @property
    def ok(self):
        return self.handshake.ok

    def figures(self):
        """{figure: value} of the six figures every report compares."""
        return {k: getattr(self, k) for k in FIGURES}
