"""One QEMU run of the firmware against the server, through the relay.

    run_session(elf, request) -> RunOutcome       request: a request.MeasureRequest

QEMU boots the image with -icount shift=0; UART0 reaches the server through
relay.Relay (a DTLS request: dgramrelay.DatagramRelay, datagrams over UDP), whose observer notes the server's records (and a TLS 1.2
CertificateRequest).  The firmware's TLSFIT-RESULT line (fw.parse_result) is the
outcome's result; QEMU is killed at the timeout, or SERVER_CLOSED_GRACE after the
server hung up, and never outlives the call.
"""
import subprocess
import tempfile
import time

from ..core import interrupt, proof as proof_mod, pskkey
from ..core.errors import TARGET, TlsfitError
from .firmware import fw
from .params import PROOF_REPLY_MS
from .dgramrelay import DatagramRelay
from .dgramturns import server_turn
from .relay import Relay, RelayError, WireObserver

# s QEMU may keep running after the server closed: the firmware cannot see the close
# and may sit out the proof's flight window and reply wait first.
SERVER_CLOSED_GRACE = 5.0 + (proof_mod.WAIT_MS + PROOF_REPLY_MS) / 1000


class _Observer(WireObserver):
    """The relay's observer, also noting a TLS 1.2 CertificateRequest (plaintext
    handshake type 13): a handshake_failure after one means the server wanted a
    client certificate."""

    certificate_requested = False

    def _handshake_messages(self):
        off, hs = 0, self._hs
        while off + 4 <= len(hs):
            length = int.from_bytes(hs[off + 1:off + 4], "big")
            if off + 4 + length > len(hs):
                break
            if hs[off] == 13:
                self.certificate_requested = True
            off += 4 + length
        super()._handshake_messages()


class RunOutcome:
    """What one QEMU run produced."""

    def __init__(self):
        self.exit_code = None
        self.stdout = ""
        self.stderr = ""
        self.result = None          # the TLSFIT-RESULT dict
        self.ended = None           # "exit", "timeout", "server_closed"
        self.elapsed = 0.0
        self.relay = None
        self.connect_error = None


def run_session(elf, request):
    """Boots the image under QEMU (-icount shift=0) on request.target with UART0
    relayed to request.host:port, for request.timeout seconds at most; QEMU never
    outlives this call.  DTLS sessions to one server take turns (dgramturns.py: a
    server that serves one peer at a time is wedged by two at once); the wait for the
    turn is not part of the timeout."""
    if request.dtls:
        with server_turn(request.host, request.port):
            return _run_session(elf, request)
    return _run_session(elf, request)


def _run_session(elf, request):
    host, port, timeout = request.host, request.port, request.timeout
    out = RunOutcome()
    start = time.monotonic()
    try:
        if request.dtls:        # datagrams framed over the UART (dgramrelay.py)
            relay = DatagramRelay(host, port, preamble=pskkey.uart_frame(request.psk))
        else:
            relay = Relay(host, port, connect_timeout=min(timeout, 15),
                          reconnect=request.resume, preamble=pskkey.uart_frame(request.psk))
        relay.observer = _Observer()
        relay.open()
    except RelayError as e:
        out.connect_error = str(e)
        out.elapsed = time.monotonic() - start
        return out
    out.relay = relay
    argv = fw.qemu_argv(elf, request.target, relay.port, icount_shift=0)
    # Output to files, not pipes: nobody reads while waiting, and a pipe could fill.
    with tempfile.TemporaryFile() as fout, tempfile.TemporaryFile() as ferr:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fout, stderr=ferr)
        except OSError as e:
            relay.close()
            raise TlsfitError(TARGET, f"cannot run {argv[0]}: {e.strerror}") from None
        ours = False
        try:
            out.ended = _wait(proc, relay, start + timeout)
        finally:
            if proc.poll() is None:
                ours = True
                proc.kill()
            proc.wait()
            relay.close()
        if not ours:
            interrupt.killed(proc.returncode, f"QEMU ({argv[0]})")
        fout.seek(0)
        ferr.seek(0)
        out.stdout = fout.read().decode(errors="replace")
        out.stderr = ferr.read().decode(errors="replace")
    out.exit_code = proc.returncode
    out.result = fw.parse_result(out.stdout)
    out.elapsed = time.monotonic() - start
    return out


def _wait(proc, relay, deadline):
    """Waits for QEMU; "exit", "timeout", or "server_closed" (the server hung up
    and the firmware, which cannot see that on a UART, kept waiting)."""
    while True:
        try:
            proc.wait(timeout=0.1)
            return "exit"
        except subprocess.TimeoutExpired:
            pass
        interrupt.check()           # a stopping signal (in fit's pool: not our thread's)
        now = time.monotonic()
        if now >= deadline:
            return "timeout"
        closed = relay.server_closed_at
        if closed is not None and now - closed > SERVER_CLOSED_GRACE:
            return "server_closed"

