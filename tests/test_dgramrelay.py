"""The datagram relay's framing and its view of a DTLS handshake (target/dgramrelay.py),
on hand-built frames and records: pure, no server, no QEMU."""
from hostile_udp import dtls_record, hello_verify_request
from tlsfit.target.dgramrelay import DtlsWire, FrameReader, frame
from tlsfit.target.relay import WireObserver


def test_frames_split_a_stream_into_whole_datagrams():
    r = FrameReader()
    stream = frame(b"hello") + frame(b"x" * 300) + frame(b"tail")
    assert r.feed(stream[:3]) == []                  # a header and one byte: nothing yet
    assert r.feed(stream[3:10]) == [b"hello"]
    assert r.feed(stream[10:]) == [b"x" * 300, b"tail"]
    assert frame(b"ab") == b"\x00\x02ab"


def test_an_empty_frame_breaks_the_stream():
    r = FrameReader()
    assert r.feed(frame(b"one") + b"\x00\x00" + frame(b"two")) == [b"one"]
    assert r.broken and r.feed(frame(b"three")) == []


def _handshake(htype, body, seq, off=0, total=None):
    total = len(body) if total is None else total
    return (bytes([htype]) + total.to_bytes(3, "big") + seq.to_bytes(2, "big")
            + off.to_bytes(3, "big") + len(body).to_bytes(3, "big") + body)


def _server_hello(suite):
    return (b"\xfe\xfd" + b"\x11" * 32 + b"\x00" + suite.to_bytes(2, "big") + b"\x00"
            + b"\x00\x00")


def test_round_trips_cookie_and_the_server_hello_in_tls_form():
    obs = WireObserver()
    w = DtlsWire(obs)
    w.client_datagram()                                      # ClientHello
    w.server_datagram(hello_verify_request(b"\x42" * 20))
    w.client_datagram()                                      # ClientHello with the cookie
    sh = _handshake(2, _server_hello(0xC0A8), seq=1)
    w.server_datagram(dtls_record(22, sh) + dtls_record(22, _handshake(14, b"", seq=2)))
    w.server_datagram(dtls_record(22, sh))                   # a retransmission: same flight
    w.client_datagram()                                      # CKE, CCS, Finished
    w.server_datagram(dtls_record(20, b"\x01"))
    w.client_datagram()                                      # the proof's request
    w.server_datagram(dtls_record(23, b"", epoch=1))        # the reply
    assert (w.hello_verify_requests, w.round_trips, w.flights) == (1, 3, 4)
    assert (obs.version, obs.suite_id) == (0x0303, 0xC0A8)   # DTLS 1.2 read as TLS 1.2
    assert not obs.plaintext


def test_fragments_are_reassembled_once():
    obs = WireObserver()
    w = DtlsWire(obs)
    body = _server_hello(0xC02B)
    w.server_datagram(dtls_record(22, _handshake(2, body[:20], 0, 0, len(body))))
    assert obs.suite_id is None
    w.server_datagram(dtls_record(22, _handshake(2, body[20:], 0, 20, len(body))))
    assert obs.suite_id == 0xC02B and obs.largest_handshake_message == 4 + len(body)
