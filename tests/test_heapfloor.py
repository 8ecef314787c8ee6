"""The heap floor (target/heapfloor.py): unit tests on fixture blocks, and one real
measurement on a Cortex-M4 against openssl s_server on 127.0.0.1.

The real test asserts what the server was configured with (TLS 1.3, the EC test chain)
against the floor's parts: the input record is at least the server's Certificate message
(the chain's DER plus its framing), the output record at least the ClientHello the relay
saw, and the breakdown by group sums to the peak."""
import json

import pytest

from conftest import require_tools

from tlsfit.core import pki
from tlsfit.lab import refservers
from tlsfit.target import heapfloor, measure
from tlsfit.target.relay import RecordSizes

from test_measure import FIXTURES, EC13_ARGS

TLS13_EC = FIXTURES / "tls13_ecdhe_ecdsa.h"

# A symbol table (address, size, name) and the peak of a TLS 1.3 handshake in miniature.
FUNCS = [(0x1000, 0x100, "mbedtls_ssl_setup"), (0x1100, 0x80, "ssl_handshake_init"),
         (0x1200, 0x80, "x509_crt_parse_der_core"), (0x1300, 0x40, "mbedtls_mpi_grow"),
         (0x1400, 0x40, "ecp_mul_comb"), (0x1500, 0x40, "psa_allocate_buffer_to_slot"),
         (0x1600, 0x40, "mbedtls_ssl_parse_certificate")]
# in_buf 4096 + 93, out_buf 2048 + 93 (the same overhead), handshake 1200, a certificate
# 900, its chain link 600, bignum 64 x 3, the ECP table 320, a PSA key 65, an unknown 40.
BLOCKS = [2141, 4189, 1200, 900, 600, 64, 64, 64, 320, 65, 40]
CALLERS = [0x1011, 0x1021, 0x1109, 0x1231, 0x1605, 0x1301, 0x1303, 0x1311, 0x1405, 0x1511,
           0x9001]
SITES = list(zip(CALLERS, BLOCKS))     # one site per block here
WIRE = {"largest_record": 1500, "largest_record_to_server": 300,
        "largest_handshake_message": 0}


def test_classify_groups_sites_by_their_allocating_function():
    named = heapfloor.classify(SITES, FUNCS, 4096, 2048)
    assert [b.bytes for b in named] == sorted(BLOCKS, reverse=True)
    by_size = {b.bytes: b for b in named}
    assert (by_size[4189].group, by_size[4189].role) == ("buffers", "input")
    assert (by_size[2141].group, by_size[2141].role) == ("buffers", "output")
    assert by_size[1200].group == "contexts" and by_size[65].group == "contexts"
    assert by_size[900].function == "x509_crt_parse_der_core"
    assert by_size[900].group == by_size[600].group == "certificates"
    assert by_size[320].group == "temporaries"
    assert (by_size[40].function, by_size[40].group) == (None, "other")


def test_floor_parts_and_above_sum_to_the_peak():
    named = heapfloor.classify(SITES, FUNCS, 4096, 2048)
    peak = sum(BLOCKS) + 100
    f = heapfloor.heap_floor(named, 100, peak, WIRE, version="TLSv1.3",
                             ciphersuite="TLS_AES_128_GCM_SHA256")
    assert [p.bytes for p in f.floor] == [1505, 305, 1265]
    assert f.floor_bytes == 1505 + 305 + 1265
    assert sum(f.groups.values()) == peak
    assert f.groups == {"buffers": 6330, "certificates": 1500, "temporaries": 512,
                        "contexts": 1265, "other": 40, "untracked": 100}
    assert f.floor_bytes + sum(p.bytes for p in f.above) == peak
    above = {p.name: p.bytes for p in f.above}
    assert above["input buffer beyond the record"] == 4189 - 1505
    assert above["output buffer beyond the record"] == 2141 - 305
    assert above["certificates"] == 1500 and above["untracked bytes"] == 100
    line = heapfloor.floor_line(f)
    assert line.startswith(f"peak {peak:,} B = {peak / f.floor_bytes:.2f}x the floor "
                           f"{f.floor_bytes:,} B; above it: input buffer beyond the record")


def test_a_larger_handshake_message_raises_the_input_floor():
    named = heapfloor.classify(SITES, FUNCS, 4096, 2048)
    # A 3000 B Certificate message sent in 512 B records: mbedTLS reassembles it whole.
    f = heapfloor.heap_floor(named, 0, sum(BLOCKS), dict(WIRE, largest_record=529),
                             handshake_message=3000, version="TLSv1.3",
                             ciphersuite="TLS_AES_128_CCM_8_SHA256")
    assert f.floor[0].bytes == 3000 + 1 + 8 + 5
    assert "message (3,000 B)" in f.floor[0].why
    tls12 = heapfloor.heap_floor(named, 0, sum(BLOCKS), dict(WIRE, largest_record=529),
                                 handshake_message=3000, version="TLSv1.2")
    assert tls12.floor[0].bytes == 3005


def test_buffers_told_apart_by_their_common_overhead():
    # The output buffer allocated first: the pairing whose overheads agree wins.
    named = heapfloor.classify([(0x1011, 2141), (0x1021, 4189)], FUNCS, 4096, 2048)
    roles = {b.bytes: b.role for b in named}
    assert roles == {4189: "input", 2141: "output"}
    named = heapfloor.classify([(0x1011, 4189), (0x1021, 2141)], FUNCS, 2048, 4096)
    assert {b.bytes: b.role for b in named} == {2141: "input", 4189: "output"}


def test_unknown_addresses_leave_sites_unattributed():
    named = heapfloor.classify([(0x9001, 100), (0x0fff, 200)], FUNCS)
    assert [(b.bytes, b.function, b.group) for b in named] == [(200, None, "other"),
                                                               (100, None, "other")]


def test_record_sizes_follow_headers_across_reads():
    rs = RecordSizes()
    hello = b"\x16\x03\x01\x00\x05hello"
    fin = b"\x17\x03\x03\x01\x00" + b"x" * 256
    data = hello + fin
    for k in range(0, len(data), 3):
        rs.feed(data[k:k + 3])
    assert (rs.first_record, rs.largest_record) == (5, 256)
    rs.feed(b"GET / HTTP/1.1\r\n" + b"\x17\x03\x03\xff\xff")
    assert rs.largest_record == 256      # not TLS any more: no longer followed


# ------------------------------------------------------------ one real measurement

@pytest.fixture(scope="module")
def ec13(pki, server_logs):
    require_tools()
    with refservers.openssl_server(pki.ec, *EC13_ARGS, log_dir=server_logs) as srv:
        yield srv


def _der_len(pem):
    return len(pki.pem_certificate(pem.read_bytes()))


def test_measured_floor_on_cortex_m4(ec13, pki):
    r = measure.measure(TLS13_EC, "cortex-m4", "127.0.0.1", ec13.port, sni="localhost",
                        ca=pki.ec.root.pem, timeout=60, progress=False)
    assert r["handshake"]["ok"], json.dumps(dict(r), default=str)[:3000]
    f = r["heap_floor"]
    assert r["heap_floor_bytes"] == f["heap_floor_bytes"] <= r["heap_peak_bytes"]
    assert sum(f["groups"].values()) == r["heap_peak_bytes"]
    assert f["heap_floor_bytes"] + sum(p["bytes"] for p in f["above"]) == r["heap_peak_bytes"]
    named = r["heap_peak_blocks"]["named"]
    assert sum(b["bytes"] for b in named) + r["heap_peak_blocks"]["named_untracked"] == \
        r["heap_peak_bytes"]
    roles = {b["role"]: b for b in named if b["role"]}
    assert roles["input"]["function"] == roles["output"]["function"] == "mbedtls_ssl_setup"
    assert roles["input"]["bytes"] > r["in_content_len"]
    # The server sends leaf + intermediate: its Certificate record holds both DERs.
    chain = _der_len(pki.ec.leaf.pem) + _der_len(pki.ec.inter.pem)
    floor = {p["name"]: p["bytes"] for p in f["floor"]}
    assert floor["input record"] > chain + 5
    assert floor["output record"] >= r["wire"]["client_hello_record"] + 5
    assert f["groups"]["certificates"] > chain       # the chain parsed, and the anchor
    assert f["groups"]["other"] == 0, [b for b in named if b["group"] == "other"]
    assert f["groups"]["untracked"] == 0          # every byte of the peak charged to a site
    # TLS 1.3 parses the chain in mbedtls_ssl_tls13_process_certificate: a certificate.
    assert not [b for b in named if "certificate" in (b["function"] or "")
                and b["group"] != "certificates"]
    assert "heap floor: peak" in "\n".join(measure.format_report(r))


# ------------------------------------------------------------ the fit's floors

def test_rom_floor_subtracts_what_verified_without_it():
    from tlsfit.fit import floor as fit_floor
    ablation = [
        {"option": "MBEDTLS_A", "result": "kept", "why": "MBEDTLS_ERR_X in STATE",
         "rom_cost_bytes": 900},
        {"option": "MBEDTLS_B", "result": "kept",
         "why": "handshake verified without it, but heap got worse", "rom_cost_bytes": 1200},
        {"option": "MBEDTLS_C", "result": "removed", "why": "handshake verified without it",
         "rom_cost_bytes": 300},
        {"option": "MBEDTLS_D", "result": "not tried", "why": "pinned", "rom_cost_bytes": None},
        {"option": "MBEDTLS_E", "result": "kept",
         "why": "handshake verified without it, but rom got worse", "rom_cost_bytes": -40}]
    f = fit_floor.rom_floor(40_000, ablation, [{"name": "ssl_tls.o", "rom_bytes": 5000,
                                               "library": "libmbedtls.a"}])
    assert f["rom_floor_bytes"] == 40_000 - 1200
    assert f["droppable"] == [{"option": "MBEDTLS_B", "rom_cost_bytes": 1200}]
    assert f["objects"] == [{"name": "ssl_tls.o", "rom_bytes": 5000}]
    assert fit_floor.rom_line(f) == ("mbedTLS flash 40,000 B = 1.03x the 1-minimal floor "
                                     "38,800 B; removable at a cost to the objective: "
                                     "MBEDTLS_B 1,200 B")
    assert fit_floor.rom_floor(None, ablation) is None


def test_fit_heap_floor_takes_the_profiles_largest_message():
    """A measurement document (the shape measure writes) and a profile whose Certificate
    message (3,000 B) was sent in 512 B records: the floor's input part is the message."""
    from tlsfit.fit import floor as fit_floor
    from tlsfit.profile.types import Profile
    from tlsfit.target.result import Measurement
    named = heapfloor.classify(SITES, FUNCS, 4096, 2048)
    doc = {"target": "cortex-m4", "server": "127.0.0.1:1", "mbedtls": "3.6.6",
           "handshake": {"ok": True, "version": "TLSv1.3",
                         "ciphersuite": "TLS_AES_128_GCM_SHA256"},
           "rom_bytes": 1, "rom_tls_bytes": 1, "ram_static_bytes": 1,
           "heap_peak_bytes": sum(BLOCKS), "stack_peak_bytes": 1,
           "handshake_instructions": 1, "modules": [],
           "heap_peak_blocks": {"blocks": sorted(BLOCKS, reverse=True), "untracked": 0,
                                "named": [b.to_json() for b in named],
                                "named_untracked": 0},
           "wire": dict(WIRE, largest_record=529)}
    m = Measurement.from_json(doc)
    prof = Profile.of({"records": {"max_handshake_msg_len": 3000}})
    f = fit_floor.heap_floor([m], [prof])
    assert f["floor"][0]["bytes"] == 3000 + 17 + 5
    assert fit_floor.heap_floor([m], [None])["floor"][0]["bytes"] == 529 + 5
    assert f["heap_peak_bytes"] == sum(BLOCKS) == sum(f["groups"].values())
    assert fit_floor.heap_floor([None], [prof]) is None


def test_buffer_reason_splits_content_length_and_fixed_overhead():
    named = heapfloor.classify(SITES, FUNCS, 4096, 2048)
    f = heapfloor.heap_floor(named, 0, sum(BLOCKS), WIRE, in_content_len=4096,
                             out_content_len=2048)
    why = {p.name: p.why for p in f.above}
    assert why["input buffer beyond the record"].startswith(
        "the input buffer is 4,189 B for a 1,505 B record: MBEDTLS_SSL_IN_CONTENT_LEN 4,096 "
        "plus 93 B of mbedTLS's fixed record overhead")
    assert "MBEDTLS_SSL_OUT_CONTENT_LEN 2,048 plus 93 B" in why["output buffer beyond the record"]


def test_fit_floor_quotes_the_smaller_buffers_that_failed():
    from tlsfit.fit import floor as fit_floor
    from tlsfit.target.result import Measurement
    named = heapfloor.classify(SITES, FUNCS, 4096, 2048)
    doc = {"handshake": {"ok": True, "version": "TLSv1.2"}, "heap_peak_bytes": sum(BLOCKS),
           "heap_peak_blocks": {"named_untracked": 0, "named": [b.to_json() for b in named]},
           "wire": WIRE}
    sizes = [{"option": "MBEDTLS_SSL_OUT_CONTENT_LEN", "value": 256, "ok": False,
              "error": "MBEDTLS_ERR_SSL_BAD_INPUT_DATA"},
             {"option": "MBEDTLS_SSL_OUT_CONTENT_LEN", "value": 512, "ok": True}]
    f = fit_floor.heap_floor([Measurement.from_json(doc)], [None], sizes)
    why = {p["name"]: p["why"] for p in f["above"]}
    assert why["output buffer beyond the record"].endswith(
        "the fit measured MBEDTLS_SSL_OUT_CONTENT_LEN 256 (MBEDTLS_ERR_SSL_BAD_INPUT_DATA): "
        "mbedTLS needs more than the record")
    assert "the fit measured" not in why["input buffer beyond the record"]
