"""One DTLS association at a time per server: the QEMU sessions of one process that
talk DTLS to the same server take turns (fit measures headers on --jobs threads).

    with server_turn(host, port):
        ... relay + QEMU session ...

Why (measured, GnuTLS 3.7.9): `gnutls-serv --udp` serves one peer at a time and its
socket is shared by every peer (src/udp-serv.c).  While it serves one association, its
pull_timeout_func peeks the next datagram and, when another peer sent it, reports a
timeout without taking it off the queue: the association in progress hears nothing
more (the firmware timed out waiting for the server's ChangeCipherSpec) and gnutls-serv
gives up on it at its own handshake timeout.  Back between sessions it peeks the head of
the queue and takes nothing but a ClientHello: the abandoned client's retransmitted
flight stays there and gnutls-serv loops on it at full CPU, never serving anyone again.
`tlsfit fit --dtls` with --jobs 2 (two sessions at once) wedged it that way on its first
two headers; with the sessions in turns the same fit verified (docs/fit.md#dtls).
OpenSSL's s_server -dtls1_2 and mbedTLS's ssl_server2 dtls=1 also serve one peer at a
time (they drop the other peer's datagrams, which then cost its retransmission timer), so
the turns cost no server anything; a TCP session never waits here.

A turn is waited for outside the session's timeout; a stopping signal ends the wait
(interrupt.check).
"""
import contextlib
import threading

from ..core import interrupt

_POLL_S = 0.1
_guard = threading.Lock()
_turns = {}                     # (host, port) -> threading.Lock


def _lock(host, port):
    with _guard:
        return _turns.setdefault((str(host).lower(), int(port)), threading.Lock())


@contextlib.contextmanager
def server_turn(host, port):
    """Holds the turn of DTLS server host:port for this process's sessions."""
    lock = _lock(host, port)
    while not lock.acquire(timeout=_POLL_S):
        interrupt.check()
    try:
        yield
    finally:
        lock.release()
