"""A DTLS server that stops answering in the middle of a fit: one line and exit 61, not
a search that reads the silence as "this header fails".

    watch = ServerWatch(n_sites)
    watch.note(i, site_hostport, measurement)     after each live measurement of site i

A server that serves one association at a time can be left waiting for a peer that is
gone (measured, GnuTLS 3.7.9 `gnutls-serv --udp`, src/udp-serv.c): after a completed
handshake it reads only from that peer, with no timeout, and swallows every other peer's
datagram; between sessions a datagram that is not a ClientHello stops it for good.  The
fit's sessions take turns (target/dgramturns.py), and the firmware ends a proven session
with close_notify, but a header whose handshake completes and whose proof then fails
leaves no close_notify behind.  From then on every ClientHello goes unanswered: each
later header would fail with TLSFIT_DTLS_SILENT and the ablation would keep every option
it tries.  So once server i has answered a session of this fit (a datagram came back), a
live session it answers with nothing at all ends the fit.
"""
import threading

from ..core.errors import DTLS_SERVER_STOPPED, TlsfitError
from ..target.outcome import SILENT


class ServerWatch:
    """Per site: has the server answered a live session of this fit yet."""

    def __init__(self, n_sites):
        self._answered = [False] * n_sites
        self._lock = threading.Lock()

    def note(self, i, hostport, m):
        """m: a Measurement of a DTLS session to site i.  Raises TlsfitError
        (DTLS_SERVER_STOPPED) when site i answered before and m heard nothing."""
        if m.get("cached_result") is not None:
            return                  # a stored result: the server was not asked
        wire = m.get("wire") or {}
        with self._lock:
            if wire.get("datagrams_from_server", 0) > 0:
                self._answered[i] = True
                return
            answered = self._answered[i]
        if answered and not m.handshake.ok and m.handshake.error == SILENT:
            raise TlsfitError(DTLS_SERVER_STOPPED, stopped_message(hostport))


def stopped_message(hostport):
    """The one line for a DTLS server that went silent in the middle of a fit."""
    return (f"the DTLS server {hostport} answered earlier sessions of this fit and then no "
            "datagram at all: it stopped serving (a server that serves one peer at a time, "
            "such as gnutls-serv --udp, stays on a client that left without close_notify); "
            "restart the server and run the fit again")
