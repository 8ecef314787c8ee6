"""Tiny hostile TCP peers on 127.0.0.1 for the prober's failure paths.

    with HostilePeer(behaviour) as peer:   # peer.port, peer.hostport, peer.connections
        ...

`behaviour(conn)` handles one accepted connection (a socket with a timeout);
every connection gets its own thread.  Everything is bounded: the accept loop
ends at `lifetime` seconds, each socket times out, and leaving the `with`
block closes the listener and joins the threads.
"""
import contextlib
import socket
import threading
import time

LOCALHOST = "127.0.0.1"


def recv_exact(conn, n):
    """Reads exactly n bytes; returns fewer when the peer closes or times out."""
    data = b""
    while len(data) < n:
        try:
            chunk = conn.recv(n - len(data))
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def read_client_hello(conn):
    """Reads one TLS record (the ClientHello); returns (header, body)."""
    header = recv_exact(conn, 5)
    if len(header) < 5:
        return header, b""
    length = int.from_bytes(header[3:5], "big")
    return header, recv_exact(conn, length)


def drain_until_closed(conn, limit=15):
    """Reads and discards until the other side closes (bounded by `limit` seconds)."""
    deadline = time.monotonic() + limit
    conn.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            if not conn.recv(4096):
                return
        except socket.timeout:
            continue
        except OSError:
            return


class HostilePeer:
    def __init__(self, behaviour, lifetime=60, sock_timeout=20):
        self.behaviour = behaviour
        self.lifetime = lifetime
        self.sock_timeout = sock_timeout
        self.connections = 0
        self.errors = []
        self._stop = threading.Event()
        self._threads = []
        self._conns = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOCALHOST, 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.hostport = f"{LOCALHOST}:{self.port}"
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True,
                                          name=f"hostile-{self.port}")

    def _accept_loop(self):
        deadline = time.monotonic() + self.lifetime
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            self._conns.append(conn)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, conn):
        conn.settimeout(self.sock_timeout)
        try:
            self.behaviour(conn)
        except OSError:
            pass            # the prober hung up first: fine
        except Exception as e:  # noqa: BLE001 -- reported by the test
            self.errors.append(repr(e))
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def __enter__(self):
        self._acceptor.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self._acceptor.join(timeout=5)
        for conn in self._conns:     # wakes behaviours blocked in recv()
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for t in self._threads:
            t.join(timeout=self.sock_timeout + 5)
        return False


# ------------------------------------------------------- a minimal TLS 1.2 peer
#
# Enough of a TLS 1.2 server for the prober to record a version and a suite, so that a
# hostile flight fails only the steps that read it: every TLS 1.2 hello offering
# TLS_RSA_WITH_AES_128_GCM_SHA256 (0x009C: static RSA, so no group or signature step
# reads past the ServerHello) gets a ServerHello for that suite, then `flight(conn)`;
# every other hello (TLS 1.3, 1.0, 1.1, or without the suite) gets a handshake_failure
# alert.

RSA_AES128_GCM = 0x009C
ALERT_HANDSHAKE_FAILURE = b"\x15\x03\x03\x00\x02\x02\x28"
CCS_RECORD = b"\x14\x03\x03\x00\x01\x01"


def parse_client_hello(body):
    """(legacy_version, suites, supported_versions) of a ClientHello record body;
    None when it is not one."""
    if len(body) < 4 or body[0] != 1:
        return None
    pos = 4
    version = int.from_bytes(body[pos:pos + 2], "big")
    pos += 2 + 32
    pos += 1 + body[pos]                                   # session_id
    n = int.from_bytes(body[pos:pos + 2], "big")
    suites = [int.from_bytes(body[pos + 2 + i:pos + 4 + i], "big") for i in range(0, n, 2)]
    pos += 2 + n
    pos += 1 + body[pos]                                   # compression methods
    versions = []
    end = pos + 2 + int.from_bytes(body[pos:pos + 2], "big") if pos + 2 <= len(body) else pos
    pos += 2
    while pos + 4 <= end:
        etype = int.from_bytes(body[pos:pos + 2], "big")
        elen = int.from_bytes(body[pos + 2:pos + 4], "big")
        data = body[pos + 4:pos + 4 + elen]
        if etype == 43 and data:
            versions = [int.from_bytes(data[1 + i:3 + i], "big") for i in range(0, data[0], 2)]
        pos += 4 + elen
    return version, suites, versions


def handshake(msg_type, body):
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def records(content, ctype=22, size=16384):
    """`content` as records of `ctype`, at most `size` bytes each."""
    return b"".join(bytes([ctype, 3, 3]) + len(content[i:i + size]).to_bytes(2, "big")
                    + content[i:i + size] for i in range(0, len(content), size))


def server_hello(suite=RSA_AES128_GCM):
    body = b"\x03\x03" + bytes(range(32)) + b"\x00" + suite.to_bytes(2, "big") + b"\x00" \
        + b"\x00\x00"
    return handshake(2, body)


def certificate(ders):
    """A TLS 1.2 Certificate message holding the DER blobs `ders`."""
    chain = b"".join(len(d).to_bytes(3, "big") + d for d in ders)
    return handshake(11, len(chain).to_bytes(3, "big") + chain)


SERVER_HELLO_DONE = handshake(14, b"")


def tls12_peer(flight):
    """A behaviour for HostilePeer: TLS 1.2 with 0x009C only, then flight(conn)."""
    def behaviour(conn):
        _, body = read_client_hello(conn)
        hello = parse_client_hello(body)
        if hello is None:
            return
        version, suites, versions = hello
        if version != 0x0303 or 0x0304 in versions or RSA_AES128_GCM not in suites:
            conn.sendall(ALERT_HANDSHAKE_FAILURE)
            drain_until_closed(conn, limit=5)
            return
        conn.sendall(records(server_hello()))
        flight(conn)
    behaviour.__name__ = f"tls12_{getattr(flight, '__name__', 'flight')}"
    return behaviour
