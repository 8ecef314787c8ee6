"""Tiny UDP peers on 127.0.0.1 for the prober's DTLS failure paths.

    with UdpPeer(behaviour) as peer:     # peer.port, peer.hostport, peer.datagrams
        ...

`behaviour(datagram, index)` returns the datagrams to send back (a list, maybe empty)
for the index-th datagram received.  One thread; it ends when the `with` block does.
"""
import socket
import struct
import threading

LOCALHOST = "127.0.0.1"


def dtls_record(content_type, body, version=0xFEFD, epoch=0, seq=0):
    return (struct.pack(">BHH", content_type, version, epoch) + seq.to_bytes(6, "big")
            + struct.pack(">H", len(body)) + body)


def handshake_fragment(msg_type, body, message_seq, offset=0, length=None):
    length = len(body) - offset if length is None else length
    return (bytes([msg_type]) + len(body).to_bytes(3, "big") + struct.pack(">H", message_seq)
            + offset.to_bytes(3, "big") + length.to_bytes(3, "big") + body[offset:offset + length])


def hello_verify_request(cookie):
    body = struct.pack(">H", 0xFEFF) + bytes([len(cookie)]) + cookie
    return dtls_record(22, handshake_fragment(3, body, 0), version=0xFEFF)


class UdpPeer:
    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.datagrams = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOCALHOST, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hostport = f"{LOCALHOST}:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65535)
            except (socket.timeout, OSError):
                continue
            for out in self.behaviour(data, self.datagrams):
                self.sock.sendto(out, addr)
            self.datagrams += 1

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


class FlappingRelay:
    """A UDP relay on 127.0.0.1 in front of a real DTLS server (upstream, "host:port")
    whose port goes away for a moment at each new client after the first: the first
    datagram of a new client address is dropped and the relay's socket closed for
    `down_s` seconds, so the client's next datagram meets an ICMP port unreachable --
    what a server that binds its socket anew between sessions (mbedTLS's ssl_server2)
    shows a prober.  `flaps` counts the outages.  One thread."""

    def __init__(self, upstream, down_s=0.25):
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.down_s = down_s
        self.flaps = 0
        self.sock = self._bind(0)
        self.port = self.sock.getsockname()[1]
        self.hostport = f"{LOCALHOST}:{self.port}"
        self._clients = {}              # client address -> its upstream socket
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @staticmethod
    def _bind(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((LOCALHOST, port))
        return s

    def _flap(self):
        self.sock.close()
        self.flaps += 1
        self._stop.wait(self.down_s)
        self.sock = self._bind(self.port)

    def _serve(self):
        import select
        while not self._stop.is_set():
            ups = list(self._clients.values())
            ready, _, _ = select.select([self.sock, *ups], [], [], 0.1)
            for s in ready:
                if s is self.sock:
                    data, addr = s.recvfrom(65535)
                    if addr not in self._clients:
                        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                        up.connect(self.upstream)
                        self._clients[addr] = up
                        if len(self._clients) > 1:
                            self._flap()
                            break
                    self._clients[addr].send(data)
                else:
                    addr = next(a for a, u in self._clients.items() if u is s)
                    try:
                        self.sock.sendto(s.recv(65535), addr)
                    except OSError:
                        pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()
        for up in self._clients.values():
            up.close()
