"""Where a fit's (or a measurement's) time goes: seconds, counts and cache hits per phase.

    with timings.collecting() as t:      # fit() does this around the whole fit
        ...                              # the phases below add to t, from any thread
    t.to_json() -> {"probe": {"seconds": 1.2, "count": 1, "cached": 0}, ...}
    with timings.timed("link"): ...      # adds the block's seconds to the active collector
    timings.add("compile", 0.0, cached=True)

The phases (PHASES, in the order a measurement meets them):
  probe       tlsfit-probe against each server (or a --profile read)
  render      gen rendering a candidate header (plan and text)
  compile     mbedTLS cross-built for a header (target/xbuild.py); "cached": the build
              was found ready in the cache
  objects     mbedTLS's object files of the cross builds that ran (target/objcache.py):
              count the objects, "cached" those taken from the object store (the same
              preprocessed source compiled before), seconds the preprocessing and
              compiling of the others
  link        the TLS client firmware compiled and linked (target/image.py); "cached":
              the image came from the image cache (target/runcache.py)
  qemu        QEMU booted with the image, the handshake and the proof run (one session);
              "cached": the result of that identical image against the same server
              facts came from the result cache (target/runcache.py), no QEMU ran
  heap_floor  the peak's blocks named from the image and the heap floor worked out
  baseline    mbedTLS's default configuration (its build, link and session; they are
              also counted under compile/link/qemu)
  lto         the final header's -flto measurement (fit --lto; also counted under
              compile/link/qemu)

Seconds add up over threads: with --jobs 2 two links in parallel count twice, so a
phase's seconds are the work done, and the fit's wall time (report "phases_s") is the
wall clock.  One collector is active per process (a fit); outside collecting() the
calls do nothing.
"""
import contextlib
import threading
import time

PHASES = ("probe", "render", "compile", "objects", "link", "qemu", "heap_floor", "baseline", "lto")


class Timings:
    """Seconds, counts and cache hits per phase; safe to add to from several threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self.count = dict.fromkeys(PHASES, 0)
        self.cached = dict.fromkeys(PHASES, 0)

    def add(self, phase, seconds, cached=False):
        with self._lock:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds
            self.count[phase] = self.count.get(phase, 0) + 1
            self.cached[phase] = self.cached.get(phase, 0) + int(bool(cached))

    def add_many(self, phase, seconds, count, cached):
        """`count` events of `phase` at once, `cached` of them cache hits."""
        with self._lock:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds
            self.count[phase] = self.count.get(phase, 0) + count
            self.cached[phase] = self.cached.get(phase, 0) + cached

    def to_json(self):
        """{phase: {"seconds", "count", "cached"}} for every phase, in PHASES order."""
        with self._lock:
            return {p: {"seconds": round(self.seconds[p], 2), "count": self.count[p],
                        "cached": self.cached[p]} for p in self.seconds}


_active = None
_active_lock = threading.Lock()


@contextlib.contextmanager
def collecting():
    """A fresh Timings, active (every add() goes to it) until the block ends."""
    global _active
    mine = Timings()
    with _active_lock:
        outer, _active = _active, mine
    try:
        yield mine
    finally:
        with _active_lock:
            _active = outer


def add(phase, seconds, cached=False):
    """Adds one event of `phase` to the active collector (nothing when none is)."""
    current = _active
    if current is not None:
        current.add(phase, seconds, cached)


def add_many(phase, seconds, count, cached):
    """Adds `count` events of `phase` (`cached` of them hits) to the active collector."""
    current = _active
    if current is not None:
        current.add_many(phase, seconds, count, cached)


@contextlib.contextmanager
def timed(phase, cached=False):
    """Adds the block's wall seconds to `phase` of the active collector."""
    began = time.monotonic()
    try:
        yield
    finally:
        add(phase, time.monotonic() - began, cached)


def summary_line(timings_json):
    """One line: each phase that ran, its seconds, count and cache hits."""
    parts = []
    for phase, v in timings_json.items():
        if not v["count"]:
            continue
        hits = f", {v['cached']} cached" if v["cached"] else ""
        parts.append(f"{phase} {v['seconds']:.1f} s ({v['count']}{hits})")
    return "; ".join(parts) or "nothing measured"


LABELS = {"probe": "probe", "render": "render headers (gen)",
          "compile": "compile mbedTLS (cross build)",
          "objects": "mbedTLS objects (per-object cache)", "link": "compile and link the firmware",
          "qemu": "QEMU: boot, handshake, proof", "heap_floor": "heap floor and peak blocks",
          "baseline": "baseline (default configuration)", "lto": "LTO build and run"}


def table_lines(timings_json):
    """report.md's "Where the time went" table: each phase that ran."""
    lines = ["| phase | seconds | count | cached |", "| --- | ---: | ---: | ---: |"]
    for phase, v in timings_json.items():
        if v["count"]:
            lines.append(f"| {LABELS.get(phase, phase)} | {v['seconds']:.1f} | {v['count']} | "
                         f"{v['cached']} |")
    return lines


def md_lines(timings_json, wall_seconds):
    """report.md's section on where the fit's time went."""
    return ["## Where the time went", "",
            f"{wall_seconds} s wall clock.  Seconds per phase add up over the parallel "
            "measurements (--jobs); \"cached\": found in the build, image or result cache "
            "(a result only for an identical image against the same server facts; the "
            "final header's handshake always runs).", "", *table_lines(timings_json)]
