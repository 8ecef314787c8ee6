"""fit --resume and the reconnect objective.

With --resume every candidate header is generated with gen's resume
(GenOptions.resume: the header defines TLSFIT_RESUME and what resumption needs)
and measured with a second, resuming connection (measure --resume), so each
trial also has the resumed handshake's figures (core/resumption.py).

`--objective reconnect --reconnects N` ranks headers by what a device that
reconnects pays: the instructions of 1 full handshake plus N resumed ones,

    reconnect_instructions = full + N x resumed

(the figure "reconnect_instructions"; several servers: the worst server's full and
resumed handshakes).  It needs --resume: without the resumed figures there is
nothing to weigh.
"""

from ..core.errors import USAGE, TlsfitError

RECONNECT = "reconnect"
FIGURE = "reconnect_instructions"
DEFAULT_RECONNECTS = 10


def check(objective, resume, reconnects):
    """A usage error for options that do not go together, else None."""
    if objective == RECONNECT and not resume:
        raise TlsfitError(USAGE, "--objective reconnect weighs resumed handshakes: add --resume "
                                 "(the fit then measures a resuming connection per candidate)")
    if reconnects is not None and objective != RECONNECT:
        raise TlsfitError(USAGE, "--reconnects N is the mix of --objective reconnect "
                                 "(1 full + N resumed handshakes): add --objective reconnect")


def gen_kw(opts):
    """GenOptions' keyword for resumption ({} without --resume)."""
    return {"resume": True} if opts.resume else {}


def resumed_instructions(measurement):
    """The resumed handshake's instructions in a measure report, else None."""
    if measurement is None:
        return None
    res = measurement.get("resumption") or {}
    return (res.get("resumed") or {}).get("handshake_instructions")


def with_reconnect(fig, measurements, reconnects):
    """fig plus FIGURE for 1 full + `reconnects` resumed handshakes (None when a
    resumed figure is missing); fig unchanged when reconnects is 0."""
    if not reconnects or not fig:
        return fig
    resumed = [resumed_instructions(m) for m in measurements]
    full = fig.get("handshake_instructions")
    total = None
    if full is not None and resumed and None not in resumed:
        total = full + reconnects * max(resumed)
    return {**fig, FIGURE: total}


def mix_text(reconnects):
    """The mix report.md states."""
    return (f"ranked by the instructions of 1 full handshake + {reconnects} resumed "
            f"handshakes (reconnect_instructions = full + {reconnects} x resumed)")
