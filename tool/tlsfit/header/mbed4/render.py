"""The text of the two 4.x files (templates/mbedtls-4.0.h.j2 and mbedtls-4.0-crypto.h.j2),
and writing them side by side (configfiles.py names the crypto file)."""
from pathlib import Path

from ...core import paths
from ...mbedtls.configfiles import crypto_config_path
from .. import render as render36
from . import LINE

COLUMN = render36.COLUMN
_ENTROPY = ("MBEDTLS_PSA_DRIVER_GET_ENTROPY", "MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG",
            "MBEDTLS_CTR_DRBG_C", "MBEDTLS_HMAC_DRBG_C")
TICKET_DUTY = ("on TLS 1.3, mbedtls_ssl_read() may return "
               "MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET: not an error -- call it again "
               "(the ticket is dropped unless the build keeps session tickets)")

# 4.x renamed mbedtls_pk_setup_opaque() to mbedtls_pk_wrap_psa() and always uses PSA
# (tf-psa-crypto/docs/1.0-migration-guide.md:891, :238)
OPAQUE_36 = "MBEDTLS_USE_PSA_CRYPTO and mbedtls_pk_setup_opaque()"
OPAQUE_4 = "mbedtls_pk_wrap_psa()"


def _section(name):
    if name in _ENTROPY:
        return "entropy and random generator"
    if name.startswith("PSA_WANT_"):
        return "PSA mechanisms (PSA_WANT_)"
    if name.startswith(("MBEDTLS_PLATFORM", "MBEDTLS_HAVE_")):
        return "system and platform"
    if name.startswith("MBEDTLS_X509"):
        return "certificates"
    if name.startswith(("MBEDTLS_SSL", "MBEDTLS_KEY_EXCHANGE")):
        return "TLS"
    return "keys, ASN.1, PEM and the PSA core"


def _rows(options, values, table):
    """[{title, options}] sorted by section then name, and the value rows."""
    sections = {}
    for name in sorted(options):
        why, value = render36.first_reason(options[name]), table.value_of(name)
        text = name if value is None else f"{name} {value}"
        sections.setdefault(_section(name), []).append(
            {"name": name, "value": value, "why": why, "pad": max(1, COLUMN - 8 - len(text))})
    rows = [{"name": n, "value": v, "why": why,
             "pad": max(1, COLUMN - 9 - len(n) - len(str(v)))}
            for n, (v, why) in sorted(values.items())]
    return [{"title": t, "options": o} for t, o in sorted(sections.items())], rows


def duties(plan):
    """What the application owes on 4.x: the entropy callback, psa_crypto_init(), then the
    3.6 duties that still hold (time, record limit, groups, anchors, identity, host
    name), then the NewSessionTicket return."""
    if plan.opts.external_rng:
        first = ["supply mbedtls_psa_external_get_random() from the device's TRNG "
                 "(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG; no entropy module, no DRBG)"]
    else:
        first = ["supply int mbedtls_platform_get_entropy(psa_driver_get_entropy_flags_t "
                 "flags, size_t *estimate_bits, unsigned char *output, size_t output_size) "
                 "from the device's TRNG (MBEDTLS_PSA_DRIVER_GET_ENTROPY; full entropy, "
                 "PSA_ERROR_INSUFFICIENT_ENTROPY on failure), or a PSA entropy driver"]
    first.append("call psa_crypto_init() before any TLS or X.509 call")
    rest = [d.replace(OPAQUE_36, OPAQUE_4) for d in plan.plan36.duties[1:]
            if "psa_crypto_init" not in d]
    return first + rest + [TICKET_DUTY]


def view(plan, tls_name, table):
    p36, f = plan.plan36, plan.plan36.facts
    crypto_name = crypto_config_path(tls_name).name
    tls_sections, tls_values = _rows(plan.files.tls, plan.files.tls_values, table)
    crypto_sections, crypto_values = _rows(plan.files.crypto, plan.files.crypto_values, table)
    servers = [dict(s, prove=s["prove"] + f" --mbedtls {LINE}") for s in p36.servers]
    return {"line": LINE, "target": p36.target, "tlsfit": f["tlsfit"], "profile": f["profile"],
            "probed_at": f["probed_at"] or "?", "regenerate": f["regenerate"],
            "policy": p36.policy, "policy_summary": f["policy_summary"],
            "chosen": [c.label() for c in p36.chosen], "warnings": p36.warnings,
            "notes": list(plan.notes) + ([f["ecc_note"]] if f.get("ecc_note") else []),
            "anchor": list(f.get("anchor_note") or ()), "time": f["time"],
            "duties": duties(plan), "servers": servers if len(servers) > 1 else [],
            "prove": f["prove"].replace("tls_config.h", tls_name) + f" --mbedtls {LINE}",
            "tls_name": tls_name, "crypto_name": crypto_name,
            "tls_sections": tls_sections, "tls_values": tls_values,
            "crypto_sections": crypto_sections, "crypto_values": crypto_values,
            "ciphersuites": p36.ciphersuites}


def pair_texts(plan, table, tls_name="tls_config.h"):
    """(TLS file text, crypto file text) with the files named as `tls_name` and its pair."""
    env = render36.environment()
    v = view(plan, Path(tls_name).name, table)
    return (env.get_template("mbedtls-4.0.h.j2").render(h=v),
            env.get_template("mbedtls-4.0-crypto.h.j2").render(h=v))


def write_pair(plan, tls_path):
    """Writes both files (X.h and X_crypto.h), each atomically, the crypto file first so
    that a TLS file is never newer than its pair; returns the two paths."""
    from .table import load
    tls_text, crypto_text = pair_texts(plan, load(), Path(tls_path).name)
    crypto = paths.write_atomic(crypto_config_path(tls_path), crypto_text)
    return [paths.write_atomic(tls_path, tls_text), crypto]
