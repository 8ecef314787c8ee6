"""SIGINT, SIGTERM and SIGHUP stop a command the same way, and a child killed by a
signal stops it too.

    install()            in the main thread: the three signals raise Interrupted there
                         (a KeyboardInterrupt, so every `finally` that stops children
                         runs) and set STOP, which worker threads poll
    STOP                 threading.Event, set once a stopping signal arrived
    check()              in a worker: raises Interrupted when STOP is set
    killed(rc, what)     raises ChildKilled when a child's return code says a signal
                         killed it (rc < 0) -- never a verdict on a candidate
    exit_code()          128 + the signal that arrived (130 SIGINT, 129 SIGHUP,
                         143 SIGTERM), or INTERRUPTED

QEMU, the relay, compilers and clients run in threads of fit's pool as well as in
the main thread; without STOP a signal stopped only the main thread while the pool
waited for (and started) the rest.
"""
import signal
import threading

from .errors import INTERRUPTED, KILLED, TlsfitError

STOP = threading.Event()
_received = []
SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


class Interrupted(KeyboardInterrupt):
    """A stopping signal arrived (KeyboardInterrupt for SIGINT, SIGTERM and SIGHUP)."""

    def __init__(self, signum=signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class ChildKilled(TlsfitError):
    """A child process (compiler, QEMU, client, ...) was killed by a signal that tlsfit
    did not send: the command stops; it is no verdict on the configuration."""

    def __init__(self, message):
        super().__init__(KILLED, message)


def _handler(signum, frame):
    STOP.set()
    if not _received:
        _received.append(signum)
        raise Interrupted(signum)
    # a second signal while the first one's cleanup runs: let the cleanup finish


def install():
    """Installs the handlers (main thread only; elsewhere a no-op)."""
    reset()
    if threading.current_thread() is not threading.main_thread():
        return
    for name in SIGNALS:
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, _handler)


def reset():
    """Forgets a stop (tests running several commands in one process)."""
    STOP.clear()
    _received.clear()


def check():
    if STOP.is_set():
        raise Interrupted(_received[0] if _received else signal.SIGINT)


def received():
    return _received[0] if _received else None


def exit_code():
    return 128 + _received[0] if _received else INTERRUPTED


def killed(returncode, what):
    """ChildKilled when returncode says `what` was killed by a signal (Interrupted
    when that signal was ours to stop on)."""
    if returncode is None or returncode >= 0:
        return
    check()
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    raise ChildKilled(f"{what} was killed by {name}; stopping (not a verdict on the "
                      "configuration)")
