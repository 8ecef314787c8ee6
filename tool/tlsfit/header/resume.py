"""Session resumption in the header (gen --resume; the modes are data: rules.toml
[resumption]).

    choices = choose_all(servers, opts, rules, cost)   # [ResumeChoice], one per server
    wants(choices)                                     # per server {option: [reasons]}
    values(choices), duties(choices), comment_lines(choices), facts(choices)
    ticket_flight(doc, line, resume)                   # the input buffer must hold it

For the version the header negotiates with a server (the highest both have), the
cheapest mode the profile's `resumption` facts prove the server ACCEPTED (the probe
resumed that way: true, not merely a ticket issued) is chosen.  A server that resumes
in no way the header can use is refused (exit 38) with what the probe saw and the next
step; a profile that cannot tell (no `resumption`: it predates the probe's step; or the
facts are null) is exit 54.  Several servers: each one that resumes gets its mode, the
others a warning; refused only when none resumes.
"""
from dataclasses import dataclass

from ..core.errors import RESUME, TlsfitError
from .types import Refusal

VERSION_ORDER = ("TLSv1.2", "TLSv1.3")
# A TLS 1.3 NewSessionTicket beyond its ticket (RFC 8446 4.6.1): handshake header 4,
# ticket_lifetime 4, ticket_age_add 4, nonce 1 + up to 255 (its length is not in the
# profile), ticket length 2, extensions 2 + early_data 8.
NST13_OVERHEAD = 280
# A TLS 1.2 NewSessionTicket beyond its ticket (RFC 5077 3.3): handshake header 4,
# ticket_lifetime_hint 4, ticket length 2.
NST12_OVERHEAD = 10


class ResumeUnknown(TlsfitError):
    """The profile cannot tell how the server resumes (exit 54)."""

    def __init__(self, message):
        super().__init__(RESUME, message)


@dataclass(frozen=True)
class ResumeChoice:
    """One server's resumption: the version the header negotiates with it, the mode
    chosen (rules.ResumeMode) and the server's numbers, or why it gets none."""
    server: object                   # servers.Server
    version: str
    mode: object = None
    numbers: str = ""                # "2 tickets, lifetime 7200 s, 192 B"
    lifetime: str = ""               # for the duty: how long the saved session lasts
    why_not: str = None
    unknown: bool = False            # the profile cannot tell (exit 54 when nothing resumes)

    @property
    def fact(self):
        """The server fact the header states for the mode."""
        return self.mode.reason + (f": {self.numbers}" if self.numbers else "")


def negotiated(server, servers):
    """The version the header negotiates with `server`: the highest of the header's
    versions (every server's chosen candidates) that the server accepts."""
    header = {c.version for s in servers for c in s.chosen}
    mine = [v for v in VERSION_ORDER if v in header and v in server.doc.versions]
    return mine[-1] if mine else server.chosen[0].version


def _numbers(mode, f):
    """(the server's numbers for the header, the lifetime for the duty)."""
    life = f.get("ticket_lifetime_s")
    if mode.fact == "session_id":
        return "", ("the server's session cache decides how long it keeps the session "
                    "(the probe does not measure it)")
    size = f"{f['ticket_len']} B" if f.get("ticket_len") is not None else "size unknown"
    life_text = f"lifetime {life} s" if life is not None else "lifetime unknown"
    count = ""
    if mode.version == "TLSv1.3" and f.get("tickets") is not None:
        count = f"{f['tickets']} ticket{'s' if f['tickets'] != 1 else ''}, "
    keep = (f"the server's ticket lives {life} s" if life is not None
            else "the server stated no ticket lifetime")
    return f"{count}{life_text}, {size}", keep


def _unknown(doc, version):
    """Why the profile cannot tell how the server resumes `version` sessions, and the
    next step: a step that did not try (its note) will not try on a second probe either."""
    step = (doc.get("steps") or {}).get(f"resumption.{version}") or {}
    what = f"the probe could not tell how it resumes {version} sessions"
    if step.get("status") == "ok" and step.get("note"):
        return f"{what} ({step['note']}): drop --resume"
    if step.get("status") == "error":
        return f"{what} (the step failed: {step.get('reason')}): re-probe the server, or drop --resume"
    return f"{what} (no resumption.{version} step recorded): re-probe the server, or drop --resume"


def _not_resumed(version, f):
    """What the probe saw of a server that resumed no session of `version`."""
    if version == "TLSv1.2":
        return "it resumed no TLS 1.2 session when probed (by session ID: no, by ticket: no)"
    if not f.get("tickets"):
        return "it issued no TLS 1.3 ticket when probed"
    return (f"it issued {f['tickets']} TLS 1.3 ticket(s) when probed but resumed with neither "
            "psk_dhe_ke nor psk_ke")


def _elsewhere(version, res, opts):
    """The next step when the server resumes in the version the header does not negotiate."""
    t13, t12 = res.get("TLSv1.3") or {}, res.get("TLSv1.2") or {}
    if version == "TLSv1.2" and (t13.get("psk_dhe_ke") or t13.get("psk_ke")):
        if opts.line == "2.28":
            return ("; it resumed a TLS 1.3 ticket, but TLS 1.3 resumption is not available "
                    "in mbedTLS 2.28 (no TLS 1.3): --mbedtls 3.6, or drop --resume")
        return ("; it resumed a TLS 1.3 ticket, but the header negotiates TLS 1.2 with it"
                + (" (--tls 1.2)" if opts.tls == "1.2" else "") + ": --tls 1.3, or drop --resume")
    if version == "TLSv1.3" and (t12.get("session_id") or t12.get("ticket")):
        return ("; it resumed TLS 1.2 sessions, but the header negotiates TLS 1.3 with it: "
                "--tls 1.2, or drop --resume")
    return ": drop --resume"


def choose(server, servers, opts, rules, cost):
    """The ResumeChoice for one server (see the module docstring)."""
    doc, version = server.doc, negotiated(server, servers)
    res = doc.get("resumption")
    if res is None:
        return ResumeChoice(server, version, unknown=True, why_not=(
            "the profile has no resumption facts (it predates the probe's resumption step): "
            "re-probe the server with tlsfit probe, or drop --resume"))
    f = res.get(version) or {}
    modes = [m for m in rules.resume_modes if m.version == version and
             all(rules.available(o, opts.line) for o in m.options)]
    proven = [m for m in modes if f.get(m.fact) is True]
    if proven:
        best = min(proven, key=lambda m: (cost(set(m.options)), modes.index(m)))
        numbers, lifetime = _numbers(best, f)
        return ResumeChoice(server, version, best, numbers, lifetime)
    if not f or any(f.get(m.fact) is None for m in modes):
        return ResumeChoice(server, version, unknown=True, why_not=_unknown(doc, version))
    return ResumeChoice(server, version,
                        why_not=_not_resumed(version, f) + _elsewhere(version, res, opts))


def choose_all(servers, opts, rules, cost):
    """[ResumeChoice] per server; Refusal (38) or ResumeUnknown (54) when none resumes."""
    choices = [choose(s, servers, opts, rules, cost) for s in servers]
    if any(c.mode for c in choices):
        return choices
    parts = [f"{c.server.who if len(servers) > 1 else c.server.doc.target.hostport}: "
             f"{c.why_not}" for c in choices]
    message = "gen --resume: " + "; ".join(parts)
    if any(c.unknown for c in choices):
        raise ResumeUnknown(message)
    raise Refusal(message)


def wants(choices):
    """Per server (in order), {option: [reason]} its resumption mode needs."""
    return [{o: [f"gen --resume: {c.fact}"] for o in c.mode.options} if c.mode else {}
            for c in choices]


def warnings(choices):
    """Several servers: one line per server that gets no resumption."""
    return [f"{c.server.who}: no resumption: {c.why_not}" for c in choices
            if c.mode is None]


def mode_value(choices):
    """TLSFIT_RESUME_MODE's text: the one mode every resuming server shares, else the
    modes per server in order, comma-separated ("none" for a server without)."""
    modes = [c.mode.mode if c.mode else "none" for c in choices]
    used = {m for m in modes if m != "none"}
    return next(iter(used)) if len(used) == 1 else ",".join(modes)


def values(choices):
    """{name: (value, reason)}: TLSFIT_RESUME and TLSFIT_RESUME_MODE."""
    mode = mode_value(choices)
    if len(choices) == 1:
        why = choices[0].fact
    else:
        why = "; ".join(f"{c.server.who}: {c.mode.mode if c.mode else 'none'}"
                        for c in choices)
    return {"TLSFIT_RESUME": (1, "gen --resume: the application keeps the session and resumes "
                                 "it (the preamble says how); tlsfit verify and the firmware "
                                 "make a second, resuming connection"),
            "TLSFIT_RESUME_MODE": (f'"{mode}"', why)}


def duties(choices):
    """The application's duties for resumption, one line per distinct duty."""
    out, whom = [], {}
    for c in choices:
        if c.mode is None:
            continue
        whom.setdefault(c.mode.owes.format(lifetime=c.lifetime), []).append(c.server)
    for text, servers in whom.items():
        names = " and ".join(s.who for s in servers)
        out.append(text + (f" (for {names})" if len(choices) > 1 else ""))
    return out


def comment_lines(choices):
    """The preamble's lines: the mode per server and the fact that proves it."""
    if len(choices) == 1:
        return [f"Resumption (--resume): {choices[0].mode.mode} -- {choices[0].fact}"]
    return [f"Resumption (--resume) for {c.server.who}: " +
            (f"{c.mode.mode} -- {c.fact}" if c.mode else f"none -- {c.why_not}")
            for c in choices]


def facts(choices):
    """The plan's JSON facts: per server the version, the mode, its options and why."""
    return [{"server": c.server.doc.target.hostport, "version": c.version,
             "mode": c.mode.mode if c.mode else None,
             "options": list(c.mode.options) if c.mode else [],
             "why": c.fact if c.mode else c.why_not} for c in choices]


def ticket_flight(doc, line, resume, versions=None):
    """(bytes, text) of the largest NewSessionTicket record the client may read from this
    server in `versions` (None: any), or None: TLS 1.3 tickets arrive whether or not the
    client keeps them (3.6 reads and drops them without --resume), assumed all in one
    record; a TLS 1.2 ticket only when the client offers session_ticket
    (MBEDTLS_SSL_SESSION_TICKETS, --resume)."""
    res = doc.get("resumption") or {}
    versions = VERSION_ORDER if versions is None else versions
    out = []
    f = res.get("TLSv1.3") or {}
    if line == "3.6" and "TLSv1.3" in versions and f.get("tickets") and f.get("ticket_len"):
        n = f["tickets"] * (f["ticket_len"] + NST13_OVERHEAD)
        out.append((n, f"its TLS 1.3 NewSessionTickets up to {n} bytes ({f['tickets']} x "
                       f"({f['ticket_len']}-byte ticket + {NST13_OVERHEAD}))"))
    f = res.get("TLSv1.2") or {}
    if resume and "TLSv1.2" in versions and f.get("ticket_len"):
        n = f["ticket_len"] + NST12_OVERHEAD
        out.append((n, f"its TLS 1.2 NewSessionTicket {n} bytes ({f['ticket_len']}-byte "
                       f"ticket + {NST12_OVERHEAD})"))
    return max(out) if out else None
