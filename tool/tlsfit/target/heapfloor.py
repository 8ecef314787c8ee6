"""The heap floor: what a session cannot do without, against what the peak held.

    classify(sites, functions, in_content_len, out_content_len)
        -> tuple of PeakBlock (bytes, function, group, role), the peak site by site
    heap_floor(peak_blocks, untracked, peak, wire, handshake_message=None, version=None,
               ciphersuite=None, in_content_len=None, out_content_len=None)
        -> HeapFloor   (to_json() for the reports)
    floor_line(floor) -> "peak 7,160 B = 1.21x the floor 5,900 B; above it: ..."

The firmware's counting allocator (tool/firmware/alloc.c) charges every block to its
allocation site (the return address into the mbedTLS function that called
mbedtls_calloc) and reports the bytes each site held at the peak; peak_blocks() maps
the addresses to names with the image's symbol table (elf.function_at).  CALLERS below
(knowledge as data, each with its reason) puts each function into one of the groups:
buffers (the record input and output buffers), certificates (parsed X.509
certificates: the trust anchors and the server's chain, their public keys),
temporaries (bignum/ECC working memory, PSA copies of arguments), contexts (the SSL
handshake, session and transform, hash and cipher contexts, PSA key slots); bytes
charged to no site (the site table was full) are "untracked".

The floor is the sum of three parts:
  input record   the largest record the server sent, 5-byte header included, or the
                 largest handshake message in one record when the profile knows it
                 is larger (mbedTLS parses a handshake message whole, reassembled in
                 its input buffer);
  output record  the largest record the client sent (ClientHello, Finished, a client
                 certificate), header included: each was built whole in the output
                 buffer;
  contexts       the contexts group as measured at the peak.
Everything else held at the peak is "above the floor", listed part by part with the
reason it is there and which option, if any, lowers it.
"""
import re
from dataclasses import dataclass

from . import elf as elf_mod

RECORD_HEADER = 5
GROUPS = ("buffers", "certificates", "temporaries", "contexts", "other", "untracked")
GROUP_LABELS = {"buffers": "record buffers", "certificates": "certificates",
                "temporaries": "bignum/ECC temporaries", "contexts": "contexts",
                "other": "unattributed bytes", "untracked": "untracked bytes"}

# (function name pattern, group, why the block is there).  First match wins.
CALLERS = (
    (r"mbedtls_ssl_setup$|resize_buffer$", "buffers",
     "the record input and output buffers mbedtls_ssl_setup allocates"),
    (r"ssl_buffer_message$|ssl_buffer_future_record$|ssl_flight_append$", "buffers",
     "DTLS reassembly and retransmission buffers"),
    (r"mbedtls_ssl_parse_certificate$|mbedtls_ssl_tls13_(parse|process)_certificate$",
     "certificates",
     "the server's chain, parsed by the TLS layer for verification"),
    (r"x509|asn1|_alloc_wrap$|pk_parse|mbedtls_pk_setup", "certificates",
     "a parsed certificate (its DER copy, names, extensions) or its public key"),
    (r"mpi|bignum|ecp|ecdsa|ecdh|rsa|p256|mbedtls_psa_\w+_load_representation$",
     "temporaries", "bignum/ECC working memory of the signature check or key exchange"),
    (r"psa_crypto_local_(input|output)_alloc$", "temporaries",
     "PSA's copies of caller buffers (MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS drops them)"),
    (r"tls_prf_generic$|export_keying_material$", "temporaries",
     "the key derivation's working buffer"),
    (r"ssl|md_setup$|md_clone$|_ctx_alloc$|cipher|psa_|cmac", "contexts",
     "the handshake, session and transform, hash and cipher contexts, PSA key slots"),
)

# Why what is above the floor cannot go, per group (the floor parts have their own).
ABOVE_WHY = {
    "certificates": "mbedTLS holds the trust anchors and parses the whole chain before it "
                    "verifies it; no option lowers this below the certificates' size "
                    "(MBEDTLS_SSL_KEEP_PEER_CERTIFICATE off frees the chain only after the "
                    "handshake)",
    "temporaries": "the working set of the signature check or key exchange in progress at "
                   "the peak (bignum limbs, ECP points and tables, an RSA exponentiation "
                   "window); MBEDTLS_ECP_WINDOW_SIZE and MBEDTLS_ECP_FIXED_POINT_OPTIM are "
                   "fit knobs and an RSA public exponent takes the smallest window already: "
                   "no option lowers the rest",
    "other": "bytes whose allocating function tlsfit does not know (CALLERS)",
    "untracked": "bytes charged to no allocation site: the firmware's site table "
                 "(TF_ALLOC_SITES) was full",
}


@dataclass(frozen=True)
class PeakBlock:
    """What one allocation site held at the peak."""
    bytes: int
    function: str        # the allocating function, or None when unknown
    group: str           # one of GROUPS
    role: str = None     # "input", "output" for the record buffers

    def to_json(self):
        return {"bytes": self.bytes, "function": self.function, "group": self.group,
                "role": self.role}


@dataclass(frozen=True)
class FloorPart:
    name: str
    bytes: int
    why: str

    def to_json(self):
        return {"name": self.name, "bytes": self.bytes, "why": self.why}


@dataclass(frozen=True)
class HeapFloor:
    floor_bytes: int
    peak_bytes: int
    floor: tuple          # FloorPart: input record, output record, contexts
    above: tuple          # FloorPart: what the peak holds beyond the floor, largest first
    groups: dict          # {group: bytes at the peak}, summing to the peak

    @property
    def ratio(self):
        return round(self.peak_bytes / self.floor_bytes, 3) if self.floor_bytes else None

    def to_json(self):
        return {"heap_floor_bytes": self.floor_bytes, "heap_peak_bytes": self.peak_bytes,
                "ratio": self.ratio, "floor": [p.to_json() for p in self.floor],
                "above": [p.to_json() for p in self.above], "groups": dict(self.groups)}


def group_of(function):
    """(group, reason) of a block allocated by function (None: unknown)."""
    if function:
        for pattern, group, why in CALLERS:
            if re.search(pattern, function):
                return group, why
    return "other", ABOVE_WHY["other"]


def _buffer_roles(pairs, in_len, out_len):
    """Which record-buffer block is the input and which the output.  Both carry the same
    overhead beyond their content length (MBEDTLS_SSL_IN/OUT_BUFFER_LEN), so the pairing
    whose overheads agree wins; the first allocated is the input when nothing tells."""
    idx = [k for k, (_, g) in enumerate(pairs) if g == "buffers"]
    roles = {}
    if len(idx) >= 2 and in_len is not None and out_len is not None:
        a, b = idx[0], idx[1]
        sa, sb = pairs[a][0], pairs[b][0]
        if sb - in_len == sa - out_len and sa - in_len != sb - out_len:
            a, b = b, a
        roles = {a: "input", b: "output"}
    elif len(idx) == 1:
        roles = {idx[0]: "input"}
    return roles


def classify(sites, functions, in_content_len=None, out_content_len=None):
    """The peak by allocation site: sites [(address, bytes held at the peak)] from the
    firmware, the addresses mapped through functions (elf.elf_functions) -> tuple of
    PeakBlock (one per site: its bytes, function, group, role), largest first."""
    names = [elf_mod.function_at(functions, int(pc)) for pc, _ in sites]
    pairs = [(int(b), group_of(n)[0]) for (_, b), n in zip(sites, names)]
    roles = _buffer_roles(pairs, in_content_len, out_content_len)
    out = [PeakBlock(size, names[k], g, roles.get(k)) for k, (size, g) in enumerate(pairs)]
    return tuple(sorted(out, key=lambda b: -b.bytes))


def aead_expansion(version, ciphersuite):
    """Bytes a protected handshake record adds to its message: TLS 1.3 the inner content
    type and the AEAD tag (8 for CCM_8, else 16); TLS 1.2 handshake messages up to the
    Certificate travel in plaintext (0)."""
    if version != "TLSv1.3":
        return 0
    return 1 + (8 if ciphersuite and ciphersuite.endswith("CCM_8_SHA256") else 16)


def _buffer_why(role, held, need, content_len):
    option = f"MBEDTLS_SSL_{'IN' if role == 'input' else 'OUT'}_CONTENT_LEN"
    if content_len is None:
        return (f"the {role} buffer is {held:,} B for a {need:,} B record: {option} above the "
                "largest record, plus mbedTLS's fixed record overhead")
    return (f"the {role} buffer is {held:,} B for a {need:,} B record: {option} {content_len:,} "
            f"plus {held - content_len:,} B of mbedTLS's fixed record overhead (header, "
            f"counter, IV and MAC room; no option lowers it); {option} is the part that can "
            "go lower" + (" (gen keeps headroom over the largest record for the server's "
                          "next, larger certificate)" if role == "input" else ""))


def heap_floor(peak_blocks, untracked, peak, wire, handshake_message=None, version=None,
               ciphersuite=None, in_content_len=None, out_content_len=None):
    """The floor against the peak.  peak_blocks: classify()'s sites; untracked: bytes
    charged to no site; wire: {largest_record (server's), largest_record_to_server,
    largest_handshake_message (plaintext ones)}; handshake_message: the profile's largest
    handshake message (header included), when known; in/out_content_len: the header's
    MBEDTLS_SSL_IN/OUT_CONTENT_LEN (for the reasons)."""
    groups = {g: 0 for g in GROUPS}
    for b in peak_blocks:
        groups[b.group] += b.bytes
    groups["untracked"] = int(untracked or 0)
    largest_in = int(wire.get("largest_record") or 0) + RECORD_HEADER
    msg = max(int(handshake_message or 0), int(wire.get("largest_handshake_message") or 0))
    msg_record = msg + aead_expansion(version, ciphersuite) + RECORD_HEADER if msg else 0
    in_need = max(largest_in, msg_record)
    in_why = (f"the largest handshake message ({msg:,} B) in one record with its header"
              if msg_record > largest_in else
              f"the largest record the server sent ({largest_in - RECORD_HEADER:,} B) with its "
              "header")
    out_need = int(wire.get("largest_record_to_server") or 0) + RECORD_HEADER
    floor = (FloorPart("input record", in_need, in_why),
             FloorPart("output record", out_need,
                       f"the largest record the client sent ({out_need - RECORD_HEADER:,} B: "
                       "ClientHello, Finished or its certificate) with its header"),
             FloorPart("contexts", groups["contexts"],
                       "the handshake, session and transform, hash and cipher contexts and "
                       "PSA key slots held at the peak, as measured"))
    above = []
    for role, need, content_len in (("input", in_need, in_content_len),
                                    ("output", out_need, out_content_len)):
        held = sum(b.bytes for b in peak_blocks if b.role == role)
        if held:
            above.append(FloorPart(f"{role} buffer beyond the record", held - need,
                                   _buffer_why(role, held, need, content_len)))
        else:
            above.append(FloorPart(f"{role} buffer not held at the peak", -need,
                                   f"the {role} record buffer was not held at the peak"))
    extra = groups["buffers"] - sum(b.bytes for b in peak_blocks if b.role)
    if extra:
        above.append(FloorPart("other record buffers", extra,
                               "DTLS or resized buffers beyond the input and output ones"))
    for g in ("certificates", "temporaries", "other", "untracked"):
        if groups[g]:
            above.append(FloorPart(GROUP_LABELS[g], groups[g], ABOVE_WHY[g]))
    above = tuple(sorted((p for p in above if p.bytes), key=lambda p: -p.bytes))
    return HeapFloor(sum(p.bytes for p in floor), int(peak), floor, above, groups)


def floor_line(floor):
    """One line: "peak 7,160 B = 1.21x the floor 5,900 B; above it: certificates 820 B,
    ..." (the floor as a dict from HeapFloor.to_json or a HeapFloor)."""
    f = floor.to_json() if isinstance(floor, HeapFloor) else floor
    if not f or not f.get("heap_floor_bytes"):
        return "heap floor: unknown"
    above = ", ".join(f"{p['name']} {p['bytes']:,} B" for p in f["above"] if p["bytes"] > 0)
    return (f"peak {f['heap_peak_bytes']:,} B = {f['ratio']:.2f}x the floor "
            f"{f['heap_floor_bytes']:,} B" + (f"; above it: {above}" if above else ""))


# ----------------------------------------------------------- from a measure report

def peak_blocks(res, elf, peak):
    """The blocks that made up the peak heap, largest first: {blocks: [bytes...],
    untracked: bytes held in blocks beyond the firmware's table, named: [{bytes,
    function, group, role}...] (the peak by allocation site, classify),
    named_untracked: bytes charged to no site}."""
    at = (res or {}).get("heap_at_peak") or {}
    sites = [(int(pc), int(n)) for pc, n in at.get("sites") or ()]
    try:
        functions = elf_mod.elf_functions(elf)
    except (OSError, ValueError):
        functions = []
    named = classify(sites, functions, res.get("in_content_len"),
                               res.get("out_content_len"))
    return {"blocks": sorted((int(b) for b in at.get("blocks") or ()), reverse=True),
            "untracked": int(at.get("untracked") or 0),
            "named": [b.to_json() for b in named],
            "named_untracked": int(peak or 0) - sum(b.bytes for b in named)}


def floor_of(report, handshake_message=None):
    """The heap floor (HeapFloor) of a measure report (its heap_peak_blocks,
    wire and handshake), or None when the heap was not counted or nothing went over
    the wire.  handshake_message: the profile's largest handshake message, header
    included (fit knows it; the wire shows only plaintext ones)."""
    at, wire = report.get("heap_peak_blocks"), report.get("wire")
    if not at or not wire or report.get("heap_peak_bytes") is None:
        return None
    blocks = tuple(PeakBlock(b["bytes"], b["function"], b["group"], b["role"])
                   for b in at.get("named") or ())
    hs = report.get("handshake") or {}
    return heap_floor(blocks, at.get("named_untracked"), report["heap_peak_bytes"],
                                wire, handshake_message, hs.get("version"), hs.get("ciphersuite"),
                                report.get("in_content_len"), report.get("out_content_len"))
