"""A fit's progress lines on stderr: what it does, and per phase how many headers are
measured and roughly how long the phase has left."""
import sys
import time


class Progress:
    """Prints `tlsfit fit: MSG` lines on stderr when enabled (--quiet and --json runs keep
    stderr for errors); `start` is when the fit began."""

    def __init__(self, enabled):
        self.enabled = enabled
        self.start = time.monotonic()

    def say(self, msg):
        if self.enabled:
            print(f"tlsfit fit: {msg}", file=sys.stderr, flush=True)

    def step(self, phase, done, total, began):
        if not self.enabled:
            return
        spent = time.monotonic() - began
        left = spent / done * (total - done) if done else 0
        self.say(f"[{phase}] {done}/{total} measured, {time.monotonic() - self.start:.0f} s "
                 f"so far, ~{left:.0f} s left in this phase")
