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
