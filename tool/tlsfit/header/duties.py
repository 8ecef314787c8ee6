"""The application's duties: what it must supply (the TRNG, the time) or call (the record
limit, the group list, loading the anchors and the identity, the host name check) for
the header to work."""
from . import client as client_mod
from .alpn import alpn_duties
from .groups import GROUP_PIN
from .psk import duty as psk_duty
from .servers import whose
from .sizes import limit_of


def duties(servers, enabled, opts, values):
    """What the application must supply or call for this header, in the order it does it."""
    if opts.external_rng and "MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG" in enabled:
        duties = ["supply mbedtls_psa_external_get_random() from the device's TRNG, and give TLS "
                  "mbedtls_psa_get_random (the block above)"]
    elif opts.external_rng:
        duties = ["give mbedtls_ssl_conf_rng() the device's TRNG as f_rng (the block above)"]
    else:
        duties = ["supply mbedtls_hardware_poll() from the device's TRNG "
                  "(MBEDTLS_ENTROPY_HARDWARE_ALT)"]
    if "MBEDTLS_PLATFORM_MS_TIME_ALT" in enabled:
        duties.append("supply mbedtls_ms_time() and a time() that returns the wall-clock time")
    elif "MBEDTLS_HAVE_TIME" in enabled:
        duties.append("supply a time() that returns the wall-clock time")
    if "MBEDTLS_PSA_CRYPTO_C" in enabled:
        duties.append("call psa_crypto_init() before the handshake")
    if "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH" in enabled:
        duties.append("call mbedtls_ssl_conf_max_frag_len(&conf, TLSFIT_MAX_FRAG_LEN) before "
                      "mbedtls_ssl_setup()" + _mflwhose(servers, enabled))
    for name, _, _, call in GROUP_PIN.values():
        if name in values:
            duties.append(f"before mbedtls_ssl_setup(): {call} (offers {values[name][0]})")
    duties += alpn_duties(servers, values)
    loader = "mbedtls_x509_crt_parse()" if opts.pem else "mbedtls_x509_crt_parse_der()"
    anchors = {}
    for s in servers:
        if s.chain.anchor is not None:
            anchors.setdefault(s.chain.anchor["subject"], []).append(s)
    for subject, ss in anchors.items():
        duties.append(f'load the trust anchor "{subject}" with {loader}' +
                      (f" (for {whose(ss, len(servers))})" if len(servers) > 1 else ""))
    if opts.client is not None and any(s.doc.client_cert_requested for s in servers):
        duties.append(client_mod.client_duty(opts.client, opts.pem))
    if opts.psk is not None and "TLSFIT_PSK_IDENTITY" in values:
        duties.append(psk_duty(opts.psk))
    for s in servers:
        if s.chain.anchor is None:
            continue                  # authenticated by the pre-shared key
        sni = s.doc.target.sni or s.doc.target.host
        duties.append(f'keep MBEDTLS_SSL_VERIFY_REQUIRED and call mbedtls_ssl_set_hostname(&ssl, '
                      f'"{sni}")' + (f" on the connection to {s.who}" if len(servers) > 1 else ""))
    return duties


def _mflwhose(servers, enabled):
    if len(servers) == 1:
        return ""
    them = [s for s in servers if limit_of(s, enabled) == "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH"]
    return (f" (for {whose(them, len(servers))}; a server that does not honour "
            "max_fragment_length ignores the request)")
