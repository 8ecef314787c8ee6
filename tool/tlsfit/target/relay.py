"""The TCP relay between QEMU's UART0 and the TLS server, and what it sees.

QEMU's `-serial tcp:127.0.0.1:PORT` makes the firmware's UART a TCP client
of PORT.  session.py points it at a Relay instead of the server: the relay
has already connected to the real server (so a server that cannot be reached
is reported before QEMU starts, and the server may be any host), copies bytes
both ways, and follows the record layer of what the server sends
(WireObserver): the largest record, and -- while the server still writes
plaintext -- the ServerHello (version, suite, TLS 1.3 key_share group), the
TLS 1.2 ServerKeyExchange's named curve, and alerts.  mbedTLS has no getter
for the negotiated group, and the firmware need not carry a parser for it.

    with Relay(host, port) as relay:     # connects to the server
        ... start QEMU with relay.port ...
        relay.observer.group_id, relay.server_closed_at, ...

A UART cannot carry the server's TCP close to the firmware: the relay keeps
when it happened and how many of the firmware's bytes it had passed on by then
(bytes_to_server_at_close), so session.py and outcome.py can tell a server that hung up
during the session proof from one that answered the firmware's close_notify.
"""
import selectors
import socket
import struct
import threading
import time

from .reconnect import DONE, AskSplitter

LOCALHOST = "127.0.0.1"
ACCEPT_TIMEOUT = 30


class RelayError(Exception):
    """The server could not be reached; str() says why."""



def listen_for_qemu():
    """(listening socket, port) on 127.0.0.1 for QEMU's serial chardev to connect to;
    accept() on it times out every 0.2 s so a relay thread can notice a stop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((LOCALHOST, 0))
        sock.listen(1)
    except OSError as e:
        sock.close()
        raise RelayError(f"cannot listen on {LOCALHOST} for QEMU: {e.strerror}") from None
    sock.settimeout(0.2)
    return sock, sock.getsockname()[1]


def accept_qemu(listen, stop):
    """QEMU's connection (blocking, TCP_NODELAY), or None when `stop` (a threading.Event)
    is set, the socket closed, or ACCEPT_TIMEOUT seconds pass without one."""
    deadline = time.monotonic() + ACCEPT_TIMEOUT
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            conn, _ = listen.accept()
        except socket.timeout:
            continue
        except OSError:
            return None
        conn.setblocking(True)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn
    return None


class WireObserver:
    """Follows the TLS records of one direction (server to client)."""

    def __init__(self):
        self.bytes = 0
        self.records = 0
        self.largest_record = 0
        self.plaintext = True         # before ChangeCipherSpec / encrypted records
        self.version = None           # 0x0303, 0x0304 (supported_versions)
        self.suite_id = None
        self.key_share_group = None   # TLS 1.3 (ServerHello or HelloRetryRequest)
        self.ske_curve = None         # TLS 1.2 ECDHE ServerKeyExchange named_curve
        self.ske_raw = None
        self.alert = None             # (level, description) of a plaintext alert
        self.largest_handshake_message = 0   # of the plaintext ones, 4-byte header included
        self._buf = bytearray()
        self._hs = bytearray()

    @property
    def group_id(self):
        if self.version == 0x0304:
            return self.key_share_group
        return self.ske_curve

    def feed(self, data):
        self.bytes += len(data)
        self._buf += data
        while len(self._buf) >= 5:
            rtype = self._buf[0]
            length, = struct.unpack_from(">H", self._buf, 3)
            if rtype < 20 or rtype > 24:
                self._buf.clear()          # not TLS (any more): stop following
                self.plaintext = False
                return
            # Known from the header: a record too large for the client is
            # counted even if the client gives up before it has arrived.
            self.largest_record = max(self.largest_record, length)
            if len(self._buf) < 5 + length:
                return
            body = bytes(self._buf[5:5 + length])
            del self._buf[:5 + length]
            self.records += 1
            self._record(rtype, body)

    def _record(self, rtype, body):
        if rtype in (20, 23):
            self.plaintext = False
            return
        if not self.plaintext:
            return
        if rtype == 21 and len(body) >= 2:
            self.alert = (body[0], body[1])
        elif rtype == 22:
            self._hs += body
            self._handshake_messages()

    def _handshake_messages(self):
        while len(self._hs) >= 4:
            htype = self._hs[0]
            length = int.from_bytes(self._hs[1:4], "big")
            if len(self._hs) < 4 + length:
                return
            msg = bytes(self._hs[4:4 + length])
            del self._hs[:4 + length]
            self.largest_handshake_message = max(self.largest_handshake_message, 4 + length)
            if htype == 2:
                self._server_hello(msg)
            elif htype == 12:
                self._server_key_exchange(msg)

    def _server_hello(self, m):
        if len(m) < 38:
            return
        version = int.from_bytes(m[0:2], "big")
        p = 34
        sid = m[p]
        p += 1 + sid
        if len(m) < p + 3:
            return
        self.suite_id = int.from_bytes(m[p:p + 2], "big")
        p += 3
        self.version = version
        if len(m) < p + 2:
            return
        end = min(len(m), p + 2 + int.from_bytes(m[p:p + 2], "big"))
        p += 2
        while p + 4 <= end:
            etype = int.from_bytes(m[p:p + 2], "big")
            elen = int.from_bytes(m[p + 2:p + 4], "big")
            ext = m[p + 4:p + 4 + elen]
            if etype == 43 and elen == 2:           # supported_versions
                self.version = int.from_bytes(ext, "big")
            elif etype == 51 and elen >= 2:         # key_share (SH and HRR)
                self.key_share_group = int.from_bytes(ext[0:2], "big")
            p += 4 + elen

    def _server_key_exchange(self, m):
        self.ske_raw = m
        # ECDHE: curve_type 3 (named_curve), then the group.  The caller
        # confirms the suite is ECDHE before trusting this (ske_curve_for).
        if len(m) >= 4 and m[0] == 3:
            self.ske_curve = int.from_bytes(m[1:3], "big")
        elif len(m) >= 5:
            # ECDHE-PSK (RFC 5489 2): psk_identity_hint<0..2^16-1>, then the same
            hint = int.from_bytes(m[0:2], "big")
            if len(m) >= 2 + hint + 3 and m[2 + hint] == 3:
                self.ske_curve = int.from_bytes(m[3 + hint:5 + hint], "big")


class RecordSizes:
    """Follows the record headers of the client's direction: the first record (the
    ClientHello) and the largest, body lengths as on the wire.  Every one of them was
    built whole in the client's output buffer."""

    def __init__(self):
        self.first_record = None
        self.largest_record = 0
        self._pending = bytearray()   # an incomplete header, or the body left to skip
        self._skip = 0

    def feed(self, data):
        view = memoryview(data)
        while view:
            if self._skip:
                n = min(self._skip, len(view))
                self._skip -= n
                view = view[n:]
                continue
            need = 5 - len(self._pending)
            self._pending += view[:need]
            view = view[need:]
            if len(self._pending) < 5:
                return
            if not 20 <= self._pending[0] <= 24:
                self._skip = float("inf")    # not TLS (any more): stop following
                return
            length = int.from_bytes(self._pending[3:5], "big")
            self._pending.clear()
            if self.first_record is None:
                self.first_record = length
            self.largest_record = max(self.largest_record, length)
            self._skip = length


class Relay:
    """One relayed connection: QEMU (accepted on 127.0.0.1:self.port) <-> server."""

    def __init__(self, host, port, connect_timeout=10, reconnect=False, preamble=b""):
        self.host = host
        self.preamble = preamble         # sent to QEMU first (core/pskkey.uart_frame), not relayed
        self.server_port = port
        self.connect_timeout = connect_timeout
        self.observer = WireObserver()
        self.client_records = RecordSizes()
        self.bytes_to_server = 0
        self.server_closed_at = None     # time.monotonic() when the server closed
        self.bytes_to_server_at_close = None   # bytes_to_server when it closed
        self.client_closed_at = None
        self.connected_at = None         # QEMU connected
        self._listen = None
        self._upstream = None
        self._stop = threading.Event()
        self._thread = None
        self.port = None
        # reconnect (measure --resume): the firmware's second connection (reconnect.py).
        # observer, client_records and bytes_to_server stay the first connection's;
        # server_closed_at and bytes_to_server_at_close are the current one's.
        self._ask = AskSplitter() if reconnect else None
        self.resumed_observer = None        # the second connection's server records
        self.resumed_bytes_to_server = 0
        self._conn_bytes_to_server = 0

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def open(self):
        try:
            self._upstream = socket.create_connection((self.host, self.server_port),
                                                      timeout=self.connect_timeout)
        except OSError as e:
            why = e.strerror or str(e)
            raise RelayError(f"cannot connect to {self.host} port {self.server_port}: "
                             f"{why}") from None
        self._upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._listen, self.port = listen_for_qemu()
        except RelayError:
            self.close()
            raise
        self._thread = threading.Thread(target=self._serve, name="tlsfit-relay", daemon=True)
        self._thread.start()

    def close(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for s in (self._listen, self._upstream):
            if s is not None:
                s.close()

    def _accept(self):
        conn = accept_qemu(self._listen, self._stop)
        if conn is not None:
            self.connected_at = time.monotonic()
        return conn

    def _serve(self):
        down = self._accept()
        if down is None:
            return
        if self.preamble:
            self._send(down, self.preamble)
        up = self._upstream
        up.settimeout(None)
        sel = selectors.DefaultSelector()
        sel.register(down, selectors.EVENT_READ, "down")
        sel.register(up, selectors.EVENT_READ, "up")
        try:
            while not self._stop.is_set() and sel.get_map():
                for key, _ in sel.select(timeout=0.1):
                    try:
                        data = key.fileobj.recv(65536)
                    except OSError:
                        data = b""
                    if key.data == "up":
                        if not data:
                            self.server_closed_at = time.monotonic()
                            self.bytes_to_server_at_close = self._conn_bytes_to_server
                            sel.unregister(up)
                            continue
                        (self.resumed_observer or self.observer).feed(data)
                        self._send(down, data)
                    else:
                        if not data:
                            self.client_closed_at = time.monotonic()
                            sel.unregister(down)
                            # The firmware is gone: let the server see the close.
                            if self.server_closed_at is None:
                                try:
                                    up.shutdown(socket.SHUT_WR)
                                except OSError:
                                    pass
                            continue
                        if self._ask is not None and not self._ask.asked:
                            data, asked, after = self._ask.feed(data)
                            self._to_server(up, data)
                            if not asked:
                                continue
                            up = self._reconnect(sel, up, down)
                            data = after
                        self._to_server(up, data)
        finally:
            sel.close()
            down.close()

    def _to_server(self, up, data):
        if not data:
            return
        self._conn_bytes_to_server += len(data)
        if self.resumed_observer is None:
            self.bytes_to_server += len(data)
            self.client_records.feed(data)
        else:
            self.resumed_bytes_to_server += len(data)
        self._send(up, data)

    def _reconnect(self, sel, up, down):
        """The firmware asked for a new connection: the old one closed and forgotten,
        a new one opened (its records followed by resumed_observer), DONE written."""
        try:
            sel.unregister(up)
        except (KeyError, ValueError):
            pass            # the server had closed it already
        up.close()
        self.server_closed_at = self.bytes_to_server_at_close = None
        self._conn_bytes_to_server = 0
        self.resumed_observer = type(self.observer)()
        try:
            up = socket.create_connection((self.host, self.server_port),
                                          timeout=self.connect_timeout)
        except OSError:
            return up       # the firmware's handshake times out: it reports that
        up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        up.settimeout(None)
        self._upstream = up
        sel.register(up, selectors.EVENT_READ, "up")
        self._send(down, DONE)
        return up

    @staticmethod
    def _send(sock, data):
        try:
            sock.sendall(data)
        except OSError:
            pass
