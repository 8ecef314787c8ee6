"""The firmware's second TCP connection over one UART (measure --resume).

QEMU's UART0 is one TCP connection to the relay (relay.py), and a UART cannot
close or open a connection.  So the firmware asks in band: between two TLS
records it writes ASK (a line that cannot start a TLS record: its first byte,
'~', is no record type); the relay closes the server connection, opens a new
one, stops passing on anything of the old one, and writes DONE to the firmware,
which drops what it receives until DONE and then starts the resuming handshake
(tool/firmware/tls_client.c, reconnect()).  The firmware's copies of the two
lines are TF_RECONNECT_ASK / TF_RECONNECT_DONE in tool/firmware/tls_harness.h.

    split = AskSplitter()
    before, asked, after = split.feed(data)    # bytes for the old server, ASK seen,
                                               # bytes for the new one
"""

ASK = b"~tlsfit-reconnect\n"
DONE = b"~tlsfit-upstream\n"

_TLS_TYPES = range(20, 25)


class AskSplitter:
    """Follows the client's records and finds ASK at a record boundary (once)."""

    def __init__(self):
        self._header = bytearray()  # an incomplete record header
        self._skip = 0              # body bytes of the current record still to come
        self._ask = bytearray()     # the part of ASK seen so far
        self.asked = False

    def feed(self, data):
        """(bytes to pass to the current server, True when ASK ended in data, the bytes
        after ASK: for the new connection)."""
        if self.asked:
            return bytes(data), False, b""
        out = bytearray()
        i = 0
        while i < len(data):
            if self._skip:
                n = min(self._skip, len(data) - i)
                out += data[i:i + n]
                self._skip -= n
                i += n
                continue
            b = data[i]
            if self._ask or (not self._header and b not in _TLS_TYPES and b == ASK[0]):
                self._ask.append(b)
                i += 1
                if bytes(self._ask) == ASK:
                    self.asked = True
                    return bytes(out), True, bytes(data[i:])
                if not ASK.startswith(bytes(self._ask)):    # not ours after all: pass it on
                    out += self._ask
                    self._ask.clear()
                    self._skip = float("inf")               # and stop following
                continue
            self._header.append(b)
            out.append(b)
            i += 1
            if len(self._header) == 5:
                self._skip = int.from_bytes(self._header[3:5], "big")
                self._header.clear()
        return bytes(out), False, b""
