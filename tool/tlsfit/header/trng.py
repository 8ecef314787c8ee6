"""The device's TRNG (gen --external-rng, off by default; rules.toml [external_rng]): the
entropy module and the DRBG leave the header (requirements on them count as met), and
with the PSA core present MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG takes their place in PSA;
without it (TLS 1.2 on the built-in code, 2.28) nothing does, since the TLS layer only
needs the f_rng the application gives mbedtls_ssl_conf_rng()."""
from .wants import need


def rng_provided(opts, rules):
    """{option: why it can go} for gen --external-rng (rules.toml [external_rng].drops),
    else {}: the entropy module and the DRBG, which the device's TRNG replaces."""
    if not opts.external_rng:
        return {}
    return dict(rules.external_rng.drops)


def add_external_rng(enabled, rules, line):
    """Adds what the device's TRNG needs to `enabled` (in place) and returns the header's
    facts about it: with the PSA core, MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG (check_config.h
    wants it once the entropy module and DRBG are gone); without, nothing -- the TLS layer
    takes the application's f_rng through mbedtls_ssl_conf_rng()."""
    ext = rules.external_rng
    for need_line, when, add, why in ext.needs:
        if need_line == line and all(o in enabled for o in when):
            need(enabled, list(add), why)
    if "MBEDTLS_PSA_CRYPTO_C" in enabled:
        need(enabled, [o for o in ext.psa if rules.available(o, line)],
             "gen --external-rng: PSA Crypto takes its random bytes from the device's TRNG "
             "(no entropy module, no DRBG)")
        return {"external": True, "via": "psa", "owes": list(ext.psa_owes)}
    return {"external": True, "via": "ssl_conf_rng", "owes": list(ext.plain_owes),
            "why": ext.plain}
