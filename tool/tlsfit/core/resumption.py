"""Session resumption's figures, as verify, measure and fit report them.

With --resume the client (host verify client or measure firmware, through
tool/harness/resume.h) makes a second connection that resumes the first one's
session.  Every report carries the same `resumption` object:

    {"mode": "tls12-session-id" | "tls12-ticket" | "tls13-ticket" | None,
     "accepted": bool,
     "full":    {"handshake_instructions", "heap_peak_bytes", "bytes_sent",
                 "bytes_received"} | None,
     "resumed": {...the same keys...} | None}

A figure the side cannot measure is None (host verify: instructions and heap);
"full"/"resumed" are None when that connection did not get that far.
"""
import re
from pathlib import Path

from ..core.errors import NOT_RESUMED

_RESUME_DEFINE = re.compile(r"^\s*#\s*define\s+TLSFIT_RESUME\b", re.M)

FIGURES = ("handshake_instructions", "heap_peak_bytes", "bytes_sent", "bytes_received")
FIGURE_LABELS = {"handshake_instructions": "handshake instructions",
                 "heap_peak_bytes": "heap peak (bytes)",
                 "bytes_sent": "bytes sent", "bytes_received": "bytes received"}
MODES = ("tls12-session-id", "tls12-ticket", "tls13-ticket")

# The C tools' names (tool/errors/errors.h) of a resumption that failed.
RESUME_ERRORS = ("TLSFIT_RESUME_REFUSED", "TLSFIT_RESUME_NO_SESSION")


def figures(conn):
    """One connection's figures, every key present (None: not measured); None stays None."""
    if conn is None:
        return None
    return {k: conn.get(k) for k in FIGURES}


def normalized(doc):
    """The `resumption` object with every key present, from a client's (partial) one;
    None when the run had no --resume."""
    if doc is None:
        return None
    return {"mode": doc.get("mode"), "accepted": bool(doc.get("accepted")),
            "full": figures(doc.get("full")), "resumed": figures(doc.get("resumed"))}


def header_resumes(config_path):
    """True when the header defines TLSFIT_RESUME (made with `gen --resume`)."""
    try:
        text = Path(config_path).read_text(errors="replace")
    except OSError:
        return False        # the caller's own read reports the file
    return _RESUME_DEFINE.search(text) is not None


def from_firmware(doc, clock_hz):
    """The `resumption` object of a measure report from the firmware's result line's
    (ticks -> instructions as for the handshake: with -icount shift=0 a tick is
    1e9 / clock_hz instructions); None when the firmware wrote none."""
    if doc is None:
        return None

    def conn(c):
        if c is None:
            return None
        return {"handshake_instructions": int(round(c["ticks"] * 1e9 / clock_hz)),
                "heap_peak_bytes": c.get("heap_peak"), "bytes_sent": c.get("sent"),
                "bytes_received": c.get("received")}
    return {"mode": doc.get("mode"), "accepted": bool(doc.get("accepted")),
            "full": conn(doc.get("full")), "resumed": conn(doc.get("resumed"))}


def failure_message(error, mode):
    """The one-line message of a resumption that failed (error: the C tools' name)."""
    if error == "TLSFIT_RESUME_REFUSED":
        return (f"the server did not resume the {mode} session: the second connection ran "
                "a full handshake (the server sent its certificate again)")
    if error == "TLSFIT_RESUME_NO_SESSION":
        return ("the server gave nothing to resume with: no session ticket within the "
                "proof's wait and no session ID")
    return f"the resuming connection failed with {error}"


def failed(result):
    """True when a failed result failed at resumption (the command exits NOT_RESUMED)."""
    return not result.get("ok") and result.get("error") in RESUME_ERRORS


def exit_code(result, otherwise):
    """NOT_RESUMED for a failed resumption, else `otherwise`."""
    return NOT_RESUMED if failed(result) else otherwise


def _cell(v):
    return "—" if v is None else f"{v:,}" if isinstance(v, int) else str(v)


def markdown_rows(res):
    """report.md's table: full vs resumed side by side (a list of lines)."""
    if not res:
        return []
    full, resumed = res.get("full") or {}, res.get("resumed") or {}
    state = "accepted" if res.get("accepted") else "NOT accepted"
    lines = [f"Resumption ({res.get('mode') or 'no session to resume'}): {state} by the "
             "server.", "", "| | full handshake | resumed |", "|---|---:|---:|"]
    for k in FIGURES:
        lines.append(f"| {FIGURE_LABELS[k]} | {_cell(full.get(k))} | {_cell(resumed.get(k))} |")
    return lines


def text_lines(res):
    """The lines verify/measure print under their result (indented)."""
    if not res:
        return []
    full, resumed = res.get("full") or {}, res.get("resumed") or {}
    state = "accepted" if res.get("accepted") else "NOT accepted"
    lines = [f"  resumption ({res.get('mode') or 'no session'}): {state}"]
    for k in FIGURES:
        a, b = full.get(k), resumed.get(k)
        if a is None and b is None:
            continue
        lines.append(f"    {FIGURE_LABELS[k]:<24} full {_cell(a):>10}   resumed {_cell(b):>10}")
    return lines
