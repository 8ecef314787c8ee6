"""A 3.6 choice (gen's HeaderPlan for line 3.6) as the two 4.x files: every option and
value moved to the TLS file or the crypto file under its 4.x name (table.Move), what
4.x's own checks add, and what every 4.x crypto file defines.  Pure: no I/O."""
from dataclasses import dataclass

from ...core.errors import RULES, TlsfitError


@dataclass(frozen=True)
class Files:
    """The two files' contents before rendering: {name: [reasons]} and
    {name: (value, reason)} per file."""
    tls: dict
    crypto: dict
    tls_values: dict
    crypto_values: dict


def _move(table, name):
    move = table.moves.get(name)
    if move is None:
        raise TlsfitError(RULES, f"rules_4.toml: no [map.{name}]: gen for 3.6 chose {name} "
                                 "and the 4.x table does not say what it becomes")
    return move


def _add(into, name, reasons):
    into.setdefault(name, [])
    into[name] += [r for r in reasons if r not in into[name]]


SLOTS = "MBEDTLS_PSA_KEY_SLOT_COUNT"


def key_slots(plan, table, withs):
    """(value, reason) of MBEDTLS_PSA_KEY_SLOT_COUNT for the choice: the measured minimum
    of the handshake kinds it makes ([key_slots]), or None without a measurement (DTLS
    was not measured: 4.x's default stays)."""
    if "MBEDTLS_SSL_PROTO_DTLS" in plan.options:
        return None
    versions = {c.version for c in plan.chosen}
    slots, kinds = table.slots_for(versions, withs)
    if slots is None:
        return None
    cite, command, note = table.key_slots_note
    measured = "; ".join(k.measured for k in kinds)
    return slots, f"{note}: {measured} (measured by {command})"


def translate(plan, table, external_rng=False, client_key=None, withs=()):
    """Files for a 3.6 HeaderPlan (client_key: the device key's type, "ec" or "rsa", when
    a server asks for the device's certificate; withs: the features of its handshakes
    that need PSA key slots, "psk", "resume"; "client_cert" and "cbc" are read here).  A name the table marks `refuse` here is a bug (the
    choice ran with 4.x's removed key exchanges taken out): TlsfitError(RULES)."""
    tls, crypto, tls_values, crypto_values = {}, {}, {}, {}
    for name, reasons in plan.options.items():
        move = _move(table, name)
        if move.to == "refuse":
            raise TlsfitError(RULES, f"{name} reached the 4.x translation: {move.why}")
        for new in move.names:
            why = list(reasons) if new == name else [f"{r} (3.6: {name})" for r in reasons]
            _add(tls if move.to == "tls" else crypto, new, why)
    for name, (value, why) in plan.values.items():
        if name.startswith("TLSFIT_"):
            tls_values[name] = (value, why)
            continue
        move = _move(table, name)
        if move.to in ("tls", "crypto"):
            (tls_values if move.to == "tls" else crypto_values)[move.names[0]] = (value, why)
    for name in plan.options:
        move = table.moves[name]
        present = set(crypto) | set(tls)
        if move.also and not (move.unless_all and all(u in present for u in move.unless_all)):
            for new in move.also:
                _add(crypto, new, [f"{move.also_why} ({move.also_cite})"])
    for name, (cite, why) in table.crypto_base.items():
        _add(crypto, name, [why])
    if client_key in table.client_key:
        names, cite, why = table.client_key[client_key]
        for name in names:
            _add(crypto, name, [why])
    entropy, cite, why = table.entropy["external" if external_rng else "hardware"]
    crypto[entropy] = [why]
    withs = set(withs) | ({"client_cert"} if client_key else set()) | (
        {"cbc"} if any(not c.aead for c in plan.chosen) else set())
    slots = key_slots(plan, table, withs)
    if slots is not None:
        crypto_values[SLOTS] = slots
    return Files(tls, crypto, tls_values, crypto_values)
