"""The datagram relay: QEMU's UART0 (one TCP byte stream) to a DTLS server over UDP.

A UART carries bytes, a DTLS server wants datagrams.  The measure firmware built
for DTLS (tool/firmware/dgram.h) and this relay frame each datagram on the stream:

    frame = length (2 bytes, big-endian, 1..65535) || that many bytes

Invariants (the firmware keeps the same):
  - one frame is exactly one UDP datagram: each frame the firmware writes is sent
    as one datagram from one UDP socket connected to the server (127.0.0.1 or the
    server's address; the server sees one client port for the whole session), and
    each datagram received on it is framed whole, in the order received;
  - no empty frame: an empty datagram from the server is dropped; a frame of
    length 0 from the firmware means the stream lost its framing and the relay
    stops forwarding (the firmware's handshake then times out);
  - the only unframed bytes are the pre-shared key's frame (core/pskkey.uart_frame),
    written to the firmware before the first datagram frame;
  - the relay never retransmits, reorders or drops a datagram of its own accord:
    retransmission is the firmware's (mbedTLS's timers on the target's clock).

The relay follows what goes by (DtlsWire): the server's records, translated to
TLS's record form for relay.WireObserver (ServerHello, ServerKeyExchange,
alerts, CertificateRequest), the HelloVerifyRequests (the cookie exchange), the
datagrams each way and the handshake's round trips: the server flights until the
one that carries its ChangeCipherSpec (HelloVerifyRequest 1, ServerHello...
ServerHelloDone 2, ChangeCipherSpec + Finished 3 for a full handshake with a
cookie).  An ICMP port unreachable (ECONNREFUSED on the socket) is noted, not
fatal: a server that re-binds between sessions (ssl_server2) may cause one.

    with DatagramRelay(host, port, preamble=...) as relay:
        ... start QEMU with relay.port ...
        relay.observer, relay.wire.round_trips, relay.wire.hello_verify_requests
"""
import selectors
import socket
import threading
import time

from .relay import RecordSizes, RelayError, WireObserver, accept_qemu, listen_for_qemu

FRAME_HEADER = 2
DTLS_RECORD_HEADER = 13          # type, version, epoch, sequence number, length
DTLS_HANDSHAKE_HEADER = 12       # type, length, message_seq, fragment offset, length
HELLO_VERIFY_REQUEST = 3
CHANGE_CIPHER_SPEC = 20
# close() waits this long at most for the relay to read the firmware's side to its end:
# the firmware's last frame (its close_notify) is written just before QEMU exits, and a
# close() right after QEMU's exit dropped it unsent (measured: s_server -dtls1_2 kept
# waiting on the session, its socket ESTAB to the departed client, the firmware's
# `sent` one more than the relay's datagrams_to_server).  QEMU is gone when
# target/session.py closes the relay, so the end of its stream is already there.
FIRMWARE_DRAIN_S = 2.0


class FrameReader:
    """Splits the firmware's byte stream into frames (the module's framing)."""

    def __init__(self):
        self._buf = bytearray()
        self.broken = False

    def feed(self, data):
        """The whole frames data completes (a list of bytes); after a length-0 frame,
        nothing more (broken)."""
        if self.broken:
            return []
        self._buf += data
        frames = []
        while len(self._buf) >= FRAME_HEADER:
            n = int.from_bytes(self._buf[:FRAME_HEADER], "big")
            if n == 0:
                self.broken = True
                self._buf.clear()
                break
            if len(self._buf) < FRAME_HEADER + n:
                break
            frames.append(bytes(self._buf[FRAME_HEADER:FRAME_HEADER + n]))
            del self._buf[:FRAME_HEADER + n]
        return frames


def frame(datagram):
    """One datagram as a frame (1..65535 bytes: a UDP datagram on IPv4 is at most 65507)."""
    return len(datagram).to_bytes(FRAME_HEADER, "big") + datagram


class DtlsWire:
    """Follows the server's DTLS datagrams and feeds an observer (relay.WireObserver)
    the plaintext part in TLS form: each record as a TLS record, handshake messages
    reassembled from their fragments, once each (a retransmitted flight is not fed
    twice), with TLS's 4-byte handshake header.  Epoch 1 on ends the plaintext."""

    def __init__(self, observer):
        self.observer = observer
        self.hello_verify_requests = 0
        self.largest_record = 0
        self.records = 0
        self.bytes = 0
        self.largest_datagram = 0
        self.round_trips = 0           # server flights up to the one with its CCS
        self.flights = 0               # every server flight (the proof's too)
        self.ccs_seen = False
        self._client_spoke = False
        self._messages = {}            # message_seq -> (type, total length, bytearray)
        self._delivered = set()

    def client_datagram(self):
        self._client_spoke = True

    def server_datagram(self, data):
        self.largest_datagram = max(self.largest_datagram, len(data))
        self.bytes += len(data)
        if self._client_spoke:
            self._client_spoke = False
            self.flights += 1
            if not self.ccs_seen:
                self.round_trips = self.flights
        at = 0
        while len(data) - at >= DTLS_RECORD_HEADER:
            rtype = data[at]
            epoch = int.from_bytes(data[at + 3:at + 5], "big")
            length = int.from_bytes(data[at + 11:at + 13], "big")
            body = data[at + DTLS_RECORD_HEADER:at + DTLS_RECORD_HEADER + length]
            at += DTLS_RECORD_HEADER + length
            if len(body) < length:
                return                      # a lying length: the rest is not DTLS
            self.largest_record = max(self.largest_record, length)
            self.records += 1
            if rtype == CHANGE_CIPHER_SPEC:
                self.ccs_seen = True
            if rtype == CHANGE_CIPHER_SPEC or epoch != 0:
                self._feed(rtype if epoch == 0 else 23, body)
            elif rtype == 22:
                self._handshake(body)
            else:
                self._feed(rtype, body)

    def _feed(self, rtype, body):
        self.observer.feed(bytes([rtype, 3, 3]) + len(body).to_bytes(2, "big") + body)

    def _handshake(self, body):
        at = 0
        while len(body) - at >= DTLS_HANDSHAKE_HEADER:
            h = body[at:at + DTLS_HANDSHAKE_HEADER]
            total = int.from_bytes(h[1:4], "big")
            seq = int.from_bytes(h[4:6], "big")
            off = int.from_bytes(h[6:9], "big")
            flen = int.from_bytes(h[9:12], "big")
            frag = body[at + DTLS_HANDSHAKE_HEADER:at + DTLS_HANDSHAKE_HEADER + flen]
            at += DTLS_HANDSHAKE_HEADER + flen
            if len(frag) < flen:
                return
            if h[0] == HELLO_VERIFY_REQUEST:
                self.hello_verify_requests += 1
                continue
            self._fragment(h[0], seq, total, off, frag)

    def _fragment(self, htype, seq, total, off, frag):
        if seq in self._delivered:
            return                          # a retransmission
        mtype, mtotal, buf = self._messages.setdefault(seq, (htype, total, bytearray()))
        if off == len(buf):                 # in order; an out-of-order one comes again
            buf += frag
        if len(buf) >= mtotal:
            del self._messages[seq]
            self._delivered.add(seq)
            msg = bytes(buf[:mtotal])
            if mtype == 2 and len(msg) >= 2 and msg[:2] == b"\xfe\xfd":
                msg = b"\x03\x03" + msg[2:]     # the ServerHello's DTLS 1.2 as TLS 1.2
            self._feed(22, bytes([mtype]) + mtotal.to_bytes(3, "big") + msg)


class ClientDatagrams(RecordSizes):
    """The client's records (relay.RecordSizes' first_record, largest_record), from
    the DTLS record headers of each datagram."""

    def feed_datagram(self, data):
        at = 0
        while len(data) - at >= DTLS_RECORD_HEADER:
            length = int.from_bytes(data[at + 11:at + 13], "big")
            if self.first_record is None:
                self.first_record = length
            self.largest_record = max(self.largest_record, length)
            at += DTLS_RECORD_HEADER + length


class DatagramRelay:
    """One relayed DTLS session: QEMU (accepted on 127.0.0.1:self.port) <-> a UDP
    socket connected to the server.  The attributes session.py and measure.py read
    of relay.Relay (observer, client_records, bytes_to_server, server_closed_at, ...)
    mean the same here; a UDP server never closes (server_closed_at stays None)."""

    def __init__(self, host, port, connect_timeout=10, preamble=b""):
        self.host = host
        self.server_port = port
        self.connect_timeout = connect_timeout
        self.preamble = preamble
        self.observer = WireObserver()
        self.client_records = ClientDatagrams()
        self.wire = None                # DtlsWire, made when the session starts
        self.bytes_to_server = 0
        self.datagrams_to_server = 0
        self.datagrams_from_server = 0
        self.unreachable = False        # an ICMP port unreachable came back
        self.server_closed_at = None
        self.bytes_to_server_at_close = None
        self.client_closed_at = None
        self.connected_at = None
        self.resumed_observer = None
        self.resumed_bytes_to_server = 0
        self.frames = FrameReader()
        self._listen = self._udp = None
        self._stop = threading.Event()
        self._firmware_done = threading.Event()     # its side read to the end (or never came)
        self._thread = None
        self.port = None

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def open(self):
        try:
            infos = socket.getaddrinfo(self.host, self.server_port, type=socket.SOCK_DGRAM)
            family, _, _, _, addr = infos[0]
            self._udp = socket.socket(family, socket.SOCK_DGRAM)
            self._udp.connect(addr)
        except OSError as e:
            self.close()
            raise RelayError(f"cannot open a UDP socket to {self.host} port "
                             f"{self.server_port}: {e.strerror or e}") from None
        try:
            self._listen, self.port = listen_for_qemu()
        except RelayError:
            self.close()
            raise
        self._thread = threading.Thread(target=self._serve, name="tlsfit-dgram-relay",
                                        daemon=True)
        self._thread.start()

    def close(self):
        """Stops the relay once the firmware's frames are all sent (FIRMWARE_DRAIN_S)."""
        if self._thread is not None:
            self._firmware_done.wait(timeout=FIRMWARE_DRAIN_S)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for s in (self._listen, self._udp):
            if s is not None:
                s.close()

    def _accept(self):
        conn = accept_qemu(self._listen, self._stop)
        if conn is not None:
            self.connected_at = time.monotonic()
        return conn

    def _serve(self):
        try:
            self._relay()
        finally:
            self._firmware_done.set()

    def _relay(self):
        down = self._accept()
        if down is None:
            return
        self.wire = DtlsWire(self.observer)
        if self.preamble:
            _send(down, self.preamble)
        sel = selectors.DefaultSelector()
        sel.register(down, selectors.EVENT_READ, "down")
        sel.register(self._udp, selectors.EVENT_READ, "up")
        try:
            while not self._stop.is_set() and sel.get_map():
                for key, _ in sel.select(timeout=0.1):
                    if key.data == "up":
                        self._from_server(down)
                    elif not self._from_firmware(down):
                        self.client_closed_at = time.monotonic()
                        sel.unregister(down)
                        self._firmware_done.set()
        finally:
            sel.close()
            down.close()

    def _from_server(self, down):
        try:
            data = self._udp.recv(65536)
        except ConnectionRefusedError:
            self.unreachable = True
            return
        except OSError:
            return
        if not data:
            return                      # an empty datagram: no frame (the invariant)
        self.datagrams_from_server += 1
        self.wire.server_datagram(data)
        _send(down, frame(data))

    def _from_firmware(self, down):
        """False when the firmware's side closed."""
        try:
            data = down.recv(65536)
        except OSError:
            data = b""
        if not data:
            return False
        for datagram in self.frames.feed(data):
            self.wire.client_datagram()
            self.client_records.feed_datagram(datagram)
            self.bytes_to_server += len(datagram)
            self.datagrams_to_server += 1
            try:
                self._udp.send(datagram)
            except ConnectionRefusedError:
                self.unreachable = True
            except OSError:
                pass
        return True

    def facts(self):
        """The report's "wire" additions for a DTLS session."""
        w = self.wire
        return {"transport": "udp", "datagrams_to_server": self.datagrams_to_server,
                "datagrams_from_server": self.datagrams_from_server,
                "largest_datagram_from_server": w.largest_datagram if w else 0,
                "hello_verify_requests": w.hello_verify_requests if w else 0,
                "round_trips": w.round_trips if w else 0,
                "port_unreachable": self.unreachable}


def _send(sock, data):
    try:
        sock.sendall(data)
    except OSError:
        pass
