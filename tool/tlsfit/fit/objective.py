"""The objectives fit optimises: one table that scoring, the knob model's prediction,
the Pareto front and the command line all read.

An objective sums `terms` (figures of a measurement; smaller is better) and breaks
ties by `tiebreak`.  A relative objective (balanced) divides each term by the best
value seen among the headers compared, so flash, heap and instructions count alike.
"""
from dataclasses import dataclass

from ..target.result import FIGURES
# Figures made from a measurement's own, not measured as such: fit/resume.py's.
DERIVED_FIGURES = ("reconnect_instructions",)
# The dimensions of the Pareto front (and of the balanced objective).
PARETO_KEYS = ("rom_bytes", "heap_peak_bytes", "handshake_instructions")


@dataclass(frozen=True)
class Objective:
    name: str
    summary: str
    terms: tuple
    tiebreak: str = None
    relative: bool = False
    predict_terms: tuple = None     # the knob model's terms, when not `terms` (measured deltas)


TABLE = {o.name: o for o in (
    Objective("rom", "smallest flash", ("rom_bytes",), "heap_peak_bytes"),
    Objective("heap", "smallest peak heap", ("heap_peak_bytes",), "rom_bytes"),
    Objective("ram", "smallest heap+stack+static", ("ram_static_bytes", "heap_peak_bytes",
                                                    "stack_peak_bytes"), "rom_bytes"),
    Objective("speed", "fewest handshake instructions", ("handshake_instructions",),
              "rom_bytes"),
    Objective("balanced", "ROM, heap and instructions, each relative to the best seen",
              PARETO_KEYS, relative=True),
    # fit/resume.py: needs --resume; the knob model knows full handshakes only
    Objective("reconnect", "fewest instructions for 1 full + N resumed handshakes "
              "(--reconnects N, needs --resume)", ("reconnect_instructions",), "rom_bytes",
              predict_terms=("handshake_instructions",)),
)}
OBJECTIVES = tuple(TABLE)


def score(objective, fig, best=None):
    """The sort key of a measurement's figures under an objective (smaller is better).
    best: per-figure best values among the compared headers (relative objectives)."""
    o = TABLE[objective]
    if o.relative:
        best = best or fig
        return (sum(fig[k] / max(1, best[k]) for k in o.terms),)
    values = [fig[k] for k in o.terms]
    primary = float("inf") if any(v is None for v in values) else sum(values)
    return (primary, fig[o.tiebreak])


# The figures that differ between servers measured with one build: the maximum counts.
PER_SERVER_FIGURES = ("heap_peak_bytes", "stack_peak_bytes", "handshake_instructions")


def joint_figures(measurements):
    """The figures of one header measured against several servers: ROM and static RAM
    of the (one) build, heap, stack and instructions the maximum over the servers."""
    ms = [m for m in measurements if m is not None]
    if not ms:
        return {}
    out = ms[0].figures()
    for k in PER_SERVER_FIGURES:
        seen = [m.figures()[k] for m in ms if m.figures()[k] is not None]
        out[k] = max(seen) if seen else None
    return out


def best_of(figures):
    """Per-figure best (smallest) values of PARETO_KEYS over a list of figure dicts."""
    return {k: min(f[k] for f in figures) for k in PARETO_KEYS}


def predicted(objective, delta, lean):
    """The change a knob setting makes to the objective, from the knob model's measured
    deltas (negative: better).  lean: the figures of the header without the change."""
    o = TABLE[objective]
    d = {k: delta.get(k) or 0 for k in FIGURES}
    if o.relative:
        return sum(d[k] / max(1, lean.get(k) or 1) for k in o.terms)
    return sum(d[k] for k in o.predict_terms or o.terms)


def pareto(items, figures):
    """The items no other item beats on every PARETO_KEY (and strictly on one), one per
    distinct set of figures, smallest ROM first.  figures(item) -> dict with every key."""
    front = []
    for t in items:
        f = figures(t)
        dominated = any(all(figures(o)[k] <= f[k] for k in PARETO_KEYS) and
                        any(figures(o)[k] < f[k] for k in PARETO_KEYS)
                        for o in items if o is not t)
        if not dominated and not any(figures(p) == f for p in front):
            front.append(t)
    return sorted(front, key=lambda t: figures(t)["rom_bytes"])


def help_text():
    """The objectives as `fit --help` lists them."""
    return "\n".join(f"  {o.name:<9} {o.summary}" for o in TABLE.values())
