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
