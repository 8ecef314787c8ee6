"""What one host verification found, as a frozen type.

    VerifyResult.from_json(doc)   the client's JSON result line (+ config, build)
    r.ok, r.version, r.step, r.error, r.to_json()

Like target.result.Measurement, a VerifyResult is also a read-only Mapping over the
JSON document `verify --json` prints, so every key the client writes (server_hello,
verify_info, ...) reads as r["..."]; the typed attributes are the contract.
"""
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..core.document import DocumentView, frozen_copy


@dataclass(frozen=True, eq=False)
class VerifyResult(DocumentView):
    ok: bool
    version: str = None
    ciphersuite: str = None
    group: str = None
    step: str = None           # where it failed: connect, handshake, crash, ...
    error: str = None          # the mbedTLS error name (or TLSFIT_..., a signal name)
    code: str = None
    message: str = None
    hint: str = None
    alert: str = None          # the server's alert, when it sent one
    verify_flags: int = None
    proof: str = None          # the proof after the handshake: mqtt-connack, http, no-alert, ...
    proof_result: Mapping = None   # how it ended (outcome, mqtt_return_code, http_status, ...)
    document: Mapping = field(default=None, repr=False)

    @classmethod
    def from_json(cls, doc):
        names = ("version", "ciphersuite", "group", "step", "error", "code", "message",
                 "hint", "alert", "verify_flags", "proof")
        pr = doc.get("proof_result")
        return cls(bool(doc.get("ok")), *(doc.get(n) for n in names),
                   frozen_copy(pr) if pr else None, document=frozen_copy(doc))
