"""One header measured on the target (Trial), and the pure judgements on trials: whether
a completed handshake negotiated what the header chose (chosen_mismatch) and what one
option costs between two trials (option_cost).  Used by fit/search.py's Fitter."""
from dataclasses import dataclass, field
from pathlib import Path

from ..header.types import NO_OVERRIDES, FitOverrides, GenOptions, HeaderPlan
from . import resume as resume_mod
from .objective import joint_figures
from .report import site_chosen


@dataclass
class Trial:
    """One header measured on the target, against every server."""
    label: str
    config: Path
    gen_opts: GenOptions
    plan: HeaderPlan
    measurements: list = field(default_factory=lambda: [None])   # one per server
    error: str = None
    phase: str = "search"
    removed: tuple = ()
    mismatch: str = None         # the handshake completed, but not with what was chosen
    overrides: FitOverrides = NO_OVERRIDES   # what the fit forced on gen (removals, knobs, ...)
    reconnects: int = 0          # figures() adds reconnect_instructions (fit/resume.py)

    @property
    def measurement(self):
        """The first server's Measurement (the only one for one server)."""
        return self.measurements[0]

    @property
    def ok(self):
        """Every server's handshake completed and negotiated what the header chose."""
        return bool(all(m is not None and m.ok for m in self.measurements)
                    and not self.mismatch)

    def figures(self):
        if len(self.measurements) == 1:
            fig = self.measurement.figures() if self.measurement else {}
        else:
            fig = joint_figures(self.measurements)
        return resume_mod.with_reconnect(fig, self.measurements, self.reconnects)


DTLS_AS_TLS = {"DTLSv1.2": "TLSv1.2"}


def chosen_mismatch(plan, measurement, index=None):
    """Why a completed handshake does not count for this header: it negotiated another
    version, suite or group than the one chosen (a silent substitution would measure
    one thing and report another).  None when it matches or did not complete.  With
    several servers the version is the one chosen for server `index` and the group one
    of the header's (the joint group list serves them all)."""
    hs = measurement.handshake
    if not hs.ok or not plan.chosen:
        return None
    ok_groups = {c.group for c in plan.chosen if c.group}
    versions = {c.version for c in site_chosen(plan, index)}
    # DTLS 1.2 carries TLS 1.2's handshake: a DTLS server's candidates are TLS 1.2's
    # (header/dtls.py), and the firmware names the version it spoke.
    negotiated = DTLS_AS_TLS.get(hs.version, hs.version)
    if negotiated and negotiated not in versions:
        return f"negotiated {hs.version}, but the header chose {', '.join(sorted(versions))}"
    if ok_groups and hs.group and hs.group not in ok_groups:
        return (f"negotiated group {hs.group}, but the header chose "
                f"{', '.join(sorted(ok_groups))} (the harness offered another group first?)")
    return None


COST_KEYS = ("rom_cost_bytes", "ram_cost_bytes", "heap_cost_bytes", "instructions_cost")


def option_cost(with_it, without_it):
    """What one option costs, measured: the figures of the header with it minus the
    header without it (the ablation's two builds).  Flash and static RAM come from the
    link, so they are known whenever both linked; heap and instructions only when both
    completed the handshake (a failed one stops early)."""
    a, b = with_it.figures(), without_it.figures()
    out = {}
    for key, figure in zip(COST_KEYS, ("rom_bytes", "ram_static_bytes", "heap_peak_bytes",
                                       "handshake_instructions")):
        both = a.get(figure) is not None and b.get(figure) is not None
        if figure in ("heap_peak_bytes", "handshake_instructions"):
            both = both and with_it.ok and without_it.ok
        out[key] = a[figure] - b[figure] if both else None
    return out
