"""One candidate per server for a header that serves several servers (`tlsfit gen P1 P2`).

The header is one option set, so what it costs is the flash estimate of the UNION of
the chosen candidates' option sets: a suite, cipher or group shared by every server is
paid once, which is why it wins.  The search:

  1. The versions the header enables decide what each server negotiates: a server
     takes the highest version it accepts among them, so a server that accepts TLS 1.3
     is served by TLS 1.3 whenever the header enables it for another server.  Each
     enabled version set is tried in turn; a server's candidates are those of the
     version it would negotiate.
  2. Per server a bounded pool of its usable candidates (the policy already applied),
     one per distinct option set: first the cheapest for each (cipher, group) that every
     other server can also use (so a shared AEAD and group is always explored), then
     the cheapest others, POOL in all.  The product of the pools is costed
     exhaustively (POOL**3 = 1728 unions for three servers).
  3. The smallest union wins; ties go to fewer distinct suites, then fewer groups,
     then rules.toml [preference] (each server's rank).  A combination in which a
     known library defect hits one server's candidate (the union turns on what the
     defect needs) is skipped.

This module only sees Choices and callables: gen.py builds them from selection.py's Rows.
"""
import itertools
from dataclasses import dataclass

POOL = 12


@dataclass(frozen=True)
class Choice:
    """One usable candidate of one server: its option names, flash estimate and rank."""
    candidate: object
    options: frozenset
    flash: int
    rank: tuple


@dataclass(frozen=True)
class ServerChoices:
    who: str                 # "server 2 (ota.example.com:443)"
    accepts: tuple           # the versions the server accepts (the profile's)
    choices: tuple           # Choice, cheapest first (flash, rank)


class NoJointChoice(Exception):
    """No combination serves every server; .reasons says why, one per version set."""

    def __init__(self, reasons):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _sharing_key(c):
    return (c.version, c.cipher, c.group)


def _pool(mine, others):
    """At most POOL choices, one per distinct option set: the cheapest for each
    (version, cipher, group) every other server can use, then the cheapest rest."""
    shared = set.intersection(*[{_sharing_key(o.candidate) for o in other} for other in others])
    seen_sets, seen_keys, first, rest = set(), set(), [], []
    for ch in mine:
        if ch.options in seen_sets:
            continue
        key = _sharing_key(ch.candidate)
        if key in shared and key not in seen_keys and len(first) < POOL // 2:
            seen_keys.add(key)
            first.append(ch)
        else:
            rest.append(ch)
        seen_sets.add(ch.options)
    return (first + rest)[:POOL]


def _version_sets(servers):
    versions = sorted({ch.candidate.version for s in servers for ch in s.choices})
    for n in range(1, len(versions) + 1):
        yield from (set(vs) for vs in itertools.combinations(versions, n))


def _negotiated(server, enabled):
    both = [v for v in server.accepts if v in enabled]
    return max(both) if both else None


def _pools(servers, enabled):
    """(pools, None) for this enabled version set, or (None, why it cannot serve)."""
    negotiated = [_negotiated(s, enabled) for s in servers]
    on = " and ".join(sorted(enabled))
    for s, v in zip(servers, negotiated):
        if v is None:
            return None, f"with {on} only, {s.who} (accepts {', '.join(s.accepts)}) is not served"
    if set(negotiated) != enabled:
        return None, None                # a version no server negotiates: a subset covers it
    mine = [[ch for ch in s.choices if ch.candidate.version == v]
            for s, v in zip(servers, negotiated)]
    for s, v, m in zip(servers, negotiated, mine):
        if not m:
            needs = [o.who for o, ov in zip(servers, negotiated) if ov == v and o is not s]
            return None, (f"{', '.join(needs)} needs {v}, and with {v} enabled {s.who} "
                          f"negotiates {v} too, but none of its {v} candidates is usable")
    return [_pool(m, mine[:i] + mine[i + 1:]) for i, m in enumerate(mine)], None


def choose(servers, cost, defect):
    """The candidate of each server whose union is cheapest, as a list in server order,
    and that union's flash estimate.

    servers: [ServerChoices]; cost(option names) -> bytes; defect(i, candidate, union)
    -> the reason a library defect rules the candidate out beside the union, or None."""
    best, reasons = None, []
    for enabled in _version_sets(servers):
        pools, why = _pools(servers, enabled)
        if pools is None:
            if why:
                reasons.append(why)
            continue
        for combo in itertools.product(*pools):
            union = frozenset().union(*(ch.options for ch in combo))
            key = (cost(union), len({ch.candidate.suite for ch in combo}),
                   len({ch.candidate.group for ch in combo if ch.candidate.group}),
                   tuple(ch.rank for ch in combo))
            if best is not None and key >= best[0]:
                continue
            hit = [(servers[i].who, d) for i, ch in enumerate(combo)
                   for d in [defect(i, ch.candidate, union)] if d]
            if hit:
                why = f"{hit[0][0]}: {hit[0][1]}"
                if why not in reasons:
                    reasons.append(why)
                continue
            best = (key, combo)
    if best is None:
        raise NoJointChoice(reasons or ["no combination of the servers' candidates"])
    return [ch.candidate for ch in best[1]], best[0][0]
