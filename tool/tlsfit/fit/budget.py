"""Budgets for one fit (`tlsfit fit --max-rom/--max-heap`): the fitted header's
figures against the device's limits.

--max-rom is compared with rom_tls_bytes, mbedTLS's share of the image (the test
firmware's own code is not the device's); --max-heap with heap_peak_bytes (the
handshake and the proof after it).  Sizes are bytes, or with a K/KiB or M/MiB
suffix (1024-based, as linker scripts count).
"""
import argparse
import re

from ..core.errors import USAGE, TlsfitError

BUDGETS = (("max_rom", "rom_tls_bytes", "--max-rom", "mbedTLS ROM"),
           ("max_heap", "heap_peak_bytes", "--max-heap", "peak heap"))
_SIZE = re.compile(r"^\s*(\d+)\s*(k|kib|m|mib|b)?\s*$", re.I)


def parse_size(text):
    """'48K' -> 49152; ValueError on anything else (argparse turns it into a usage
    error naming the option)."""
    m = _SIZE.match(str(text))
    if not m:
        raise ValueError(f"expected bytes, e.g. 65536 or 64K, got {text!r}")
    mult = {"k": 1024, "kib": 1024, "m": 1024 * 1024, "mib": 1024 * 1024}.get(
        (m.group(2) or "").lower(), 1)
    return int(m.group(1)) * mult


def size_arg(text):
    """parse_size for argparse: a bad size is a usage error that shows what is wanted."""
    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def over_budget(report, max_rom=None, max_heap=None):
    """One line per budget the report's figures exceed (empty: within budget); a
    figure the report lacks is a USAGE error (nothing was measured to compare)."""
    limits = {"max_rom": max_rom, "max_heap": max_heap}
    out = []
    for key, figure, flag, what in BUDGETS:
        limit = limits[key]
        if limit is None:
            continue
        value = report.get(figure)
        if not isinstance(value, int):
            raise TlsfitError(USAGE, f"{flag}: the report has no {figure} to compare")
        if value > limit:
            out.append(f"{what} ({figure}) {value:,} B is over {flag} {limit:,} B by "
                       f"{value - limit:,} B ({100.0 * (value - limit) / limit:+.1f} %)")
    return out
