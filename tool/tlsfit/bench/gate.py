"""The size gate: two results documents compared cell by cell, figure by figure and
module by module, as rows a reviewer reads in a pull request.

    c = compare(baseline_doc, current_doc, tolerance_pct=1.0)
    c.regressions      the rows that fail the gate (a figure grew by more than the
                       tolerance, or a cell that verified in the baseline now fails)
    markdown(c)        the table (GitHub-flavoured markdown, readable as text)

Rules, each with its reason:
- a figure regresses when current > baseline * (1 + tolerance/100): a relative
  tolerance, because handshake instructions and peak heap move by a few parts per
  thousand with the server's random values and certificate sizes from run to run;
- a module is listed under a cell whose ROM figure regressed, when it grew (by any
  amount): it says *where* the flash went; modules alone never fail the gate (code
  moving between objects is not growth);
- a cell that verified in the baseline and fails now is a regression (a header that
  no longer completes its handshake is worse than a larger one);
- a cell in only one of the two documents is a note, not a failure (a gate may run a
  subset of the matrix).
"""
from dataclasses import dataclass

from ..target.result import FIGURES
from .results import key_of

ROM_FIGURES = ("rom_bytes", "rom_tls_bytes")
MODULE_ROWS = 8          # modules listed per regressed cell, largest growth first


@dataclass(frozen=True)
class Row:
    """One line of the table.  what: a figure name, "module X.o" or "handshake"."""
    key: object           # results.CellKey
    what: str
    baseline: object
    current: object
    status: str           # "regression", "grew", "shrank", "same", "failed"

    @property
    def delta(self):
        if isinstance(self.baseline, int) and isinstance(self.current, int):
            return self.current - self.baseline
        return None

    @property
    def pct(self):
        d = self.delta
        return None if d is None or not self.baseline else 100.0 * d / self.baseline


@dataclass(frozen=True)
class Comparison:
    rows: tuple
    tolerance_pct: float
    only_baseline: tuple   # CellKeys not in the current document
    only_current: tuple
    compared: int          # cells in both

    @property
    def regressions(self):
        return tuple(r for r in self.rows if r.status in ("regression", "failed"))

    @property
    def ok(self):
        return not self.regressions


def _figure_row(key, name, old, new, tol):
    if not isinstance(old, int) or not isinstance(new, int):
        return None
    if new > old * (1 + tol / 100.0) and new > old:
        status = "regression"
    elif new > old:
        status = "grew"
    elif new < old:
        status = "shrank"
    else:
        status = "same"
    return Row(key, name, old, new, status)


def _module_rows(key, old_mods, new_mods):
    grew = []
    for name in sorted(set(old_mods) | set(new_mods)):
        a, b = old_mods.get(name, 0), new_mods.get(name, 0)
        if b > a:
            grew.append(Row(key, f"module {name}", a, b, "grew"))
    grew.sort(key=lambda r: -r.delta)
    return grew[:MODULE_ROWS]


def compare_cells(key, old, new, tol):
    """Rows for one cell present in both documents."""
    if old.get("ok") and not new.get("ok"):
        return [Row(key, "handshake", "ok", f"failed: {new.get('error') or 'no result'}",
                    "failed")]
    if not old.get("ok") or not new.get("ok"):
        return []
    rows = [r for r in (_figure_row(key, f, old.get(f), new.get(f), tol) for f in FIGURES) if r]
    if any(r.status == "regression" and r.what in ROM_FIGURES for r in rows):
        rows += _module_rows(key, old.get("modules") or {}, new.get("modules") or {})
    return rows


def compare(baseline, current, tolerance_pct=1.0):
    """Comparison of two results documents (results.load)."""
    old = {key_of(c): c for c in baseline["cells"]}
    new = {key_of(c): c for c in current["cells"]}
    rows = []
    for key in sorted(old.keys() & new.keys()):
        rows += compare_cells(key, old[key], new[key], tolerance_pct)
    return Comparison(tuple(rows), tolerance_pct, tuple(sorted(old.keys() - new.keys())),
                      tuple(sorted(new.keys() - old.keys())), len(old.keys() & new.keys()))


def _num(v):
    return f"{v:,}" if isinstance(v, int) else str(v)


def change_text(row):
    d, p = row.delta, row.pct
    if d is None:
        return "-"
    pct = f" ({p:+.1f} %)" if p is not None else ""
    return f"{d:+,}{pct}"


STATUS_TEXT = {"regression": "**REGRESSION**", "failed": "**FAILED**", "grew": "grew",
               "shrank": "shrank", "same": "same"}


def markdown(c, show=("regression", "failed", "grew")):
    """The table of the rows whose status is in `show`, then one line of verdict.  A
    module row sits under its cell's figure rows (the profile, target and variant
    columns name it again, so a reviewer can read any row alone)."""
    lines = ["| profile | target | variant | what | baseline | current | change | status |",
             "|---|---|---|---|---:|---:|---:|---|"]
    shown = [r for r in c.rows if r.status in show]
    for r in shown:
        lines.append(f"| {r.key.profile} | {r.key.target} | {r.key.variant} | {r.what} | "
                     f"{_num(r.baseline)} | {_num(r.current)} | {change_text(r)} | "
                     f"{STATUS_TEXT[r.status]} |")
    if not shown:
        lines = []
    lines.append("")
    lines.append(verdict(c))
    for k in c.only_baseline:
        lines.append(f"note: {k.label()} is in the baseline but was not run")
    for k in c.only_current:
        lines.append(f"note: {k.label()} is new (not in the baseline)")
    return "\n".join(lines)


def verdict(c):
    n = len(c.regressions)
    if n:
        return (f"size gate: FAILED: {n} regression{'s' if n != 1 else ''} beyond "
                f"{c.tolerance_pct:g} % in {c.compared} cell{'s' if c.compared != 1 else ''} "
                "compared")
    if not c.compared:
        return "size gate: nothing compared (no cell is in both files)"
    return (f"size gate: passed: {c.compared} cell{'s' if c.compared != 1 else ''} "
            f"within {c.tolerance_pct:g} %")


def summary_of(c):
    """What grew, where and by how much, in one line per regression (for stderr)."""
    out = []
    for r in c.regressions:
        if r.status == "failed":
            out.append(f"{r.key.label()}: {r.current}")
        else:
            out.append(f"{r.key.label()}: {r.what} grew {change_text(r)} "
                       f"({_num(r.baseline)} -> {_num(r.current)})")
    return out


def cells_table(doc):
    """A results document's cells as a markdown table: the figures, and the time each
    cell took (what `tlsfit bench` prints at the end and `tlsfit size FILE` shows)."""
    lines = ["| profile | target | variant | ok | ROM | mbedTLS ROM | static RAM | peak heap "
             "| peak stack | handshake instructions | time (s) |",
             "|---|---|---|---|" + "---:|" * 7]
    for c in doc["cells"]:
        figs = " | ".join(_num(c.get(f)) if isinstance(c.get(f), int) else "-"
                          for f in FIGURES)
        ok = "yes" if c.get("ok") else f"no: {c.get('error')}"
        t = c.get("elapsed_s")
        lines.append(f"| {c['profile']} | {c['target']} | {c['variant']} | {ok} | {figs} | "
                     f"{t if t is not None else '-'} |")
    return "\n".join(lines)
