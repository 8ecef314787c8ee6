"""Policies: which of the server's acceptable choices gen may use.

A policy is a tuple of Predicates.  Each predicate looks at one candidate (a version,
suite, group and signature scheme the server accepts) and returns None when the
candidate passes, or the reason it does not.  A `hard` predicate always excludes; a
soft one excludes only while some other candidate passes it, and otherwise lets the
candidate through with its reason as a warning.  Policies compose by concatenation,
so a new one is a new tuple, never a new code path.

    default  forward secrecy, AEAD and ECDHE preferred; static RSA, CBC or DHE only when
             the server offers nothing better (with a warning)
    strict   static RSA, CBC and SHA-1 certificate signatures refused (certification
             regimes that demand it)
    compat   default, plus a second suite and group kept in the header so that a
             server-side change does not brick a fleet
"""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Predicate:
    name: str
    test: Callable          # (candidate) -> None or reason
    hard: bool


def _forward_secret(c):
    if c.forward_secret:
        return None
    what = "the pre-shared key alone (no ephemeral key exchange)" if "PSK" in c.kx.split("_") \
        else "static RSA key exchange"
    return f"{c.suite}: {what} has no forward secrecy"


def _aead(c):
    return None if c.aead else f"{c.suite}: CBC (MAC-then-encrypt) suite, not AEAD"


def _ecdhe(c):
    return None if c.kx != "DHE_RSA" else (
        f"{c.suite}: finite-field DHE costs a full-size modular exponentiation on the device, "
        "and the server may switch to a larger prime than MBEDTLS_MPI_MAX_SIZE holds")


PREFER_ECDHE = Predicate("ECDHE", _ecdhe, hard=False)
PREFER_FORWARD_SECRECY = Predicate("forward-secrecy", _forward_secret, hard=False)
PREFER_AEAD = Predicate("aead", _aead, hard=False)
REQUIRE_FORWARD_SECRECY = Predicate("forward-secrecy", _forward_secret, hard=True)
REQUIRE_AEAD = Predicate("aead", _aead, hard=True)


@dataclass(frozen=True)
class Policy:
    name: str
    predicates: tuple
    refuse_sha1_certs: bool   # SHA-1 certificate signatures: refused even when asked for
    keep_second: bool         # compat: a second suite and group
    summary: str


POLICIES = {
    "default": Policy("default", (PREFER_FORWARD_SECRECY, PREFER_AEAD, PREFER_ECDHE), False,
                      False, "forward secrecy, AEAD and ECDHE preferred"),
    "strict": Policy("strict", (REQUIRE_FORWARD_SECRECY, REQUIRE_AEAD, PREFER_ECDHE), True,
                     False, "static RSA, CBC and SHA-1 certificate signatures refused; ECDHE preferred"),
    "compat": Policy("compat", (PREFER_FORWARD_SECRECY, PREFER_AEAD, PREFER_ECDHE), False,
                     True, "forward secrecy, AEAD and ECDHE preferred; a second suite and group kept"),
}


def apply(policy, candidates):
    """Filter candidates through the policy's predicates, in order.

    Returns (kept, excluded, warnings): excluded is a list of (candidate, reason);
    warnings are the reasons of soft predicates that had to let candidates through."""
    kept, excluded, warnings = list(candidates), [], []
    for p in policy.predicates:
        verdicts = [(c, p.test(c)) for c in kept]
        passing = [c for c, why in verdicts if why is None]
        if passing or p.hard:
            excluded += [(c, f"policy {policy.name}: {why}") for c, why in verdicts if why]
            kept = passing
        else:
            warnings.append(f"policy {policy.name} prefers {p.name}, but the server offers "
                            f"no candidate with it")
    return kept, excluded, warnings


def soft_failures(policy, candidate):
    """The reasons of the soft predicates this (chosen) candidate fails: the header's
    warnings."""
    return [why for p in policy.predicates if not p.hard for why in [p.test(candidate)] if why]
