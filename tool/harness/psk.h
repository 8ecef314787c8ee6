/*
 * psk.h -- the pre-shared key in tlsfit's TLS client set-up, shared by the
 * verify client and the measure firmware (a header from `tlsfit gen
 * --psk-identity` defines TLSFIT_PSK_IDENTITY and MBEDTLS_PSK_MAX_LEN).
 *
 * The key reaches the client at run time (the verify client: an inherited
 * file descriptor; the firmware: the relay, over the UART), never through
 * the image or the command line.
 */
#ifndef TF_HARNESS_PSK_H
#define TF_HARNESS_PSK_H

#include <stddef.h>
#include <string.h>

#include "mbedtls/ssl.h"

/* 1 when this configuration can do a PSK handshake at all. */
#if (MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_SSL_HANDSHAKE_WITH_PSK_ENABLED)) || \
    (MBEDTLS_VERSION_NUMBER < 0x03000000 && defined(MBEDTLS_KEY_EXCHANGE_SOME_PSK_ENABLED))
#define TF_HARNESS_PSK 1
#else
#define TF_HARNESS_PSK 0
#endif

/*
 * Configures the key (len bytes) and identity on conf; 0, the mbedTLS error,
 * or -1 when the configuration has no PSK key exchange (the caller names
 * TLSFIT_NO_PSK).  (Inline: the firmware's image stays as small as with its
 * own copy.)
 */
static inline int tf_harness_psk(mbedtls_ssl_config *conf, const unsigned char *key, size_t len,
                                 const char *identity)
{
#if TF_HARNESS_PSK
    return mbedtls_ssl_conf_psk(conf, key, len, (const unsigned char *) identity,
                                strlen(identity));
#else
    (void) conf;
    (void) key;
    (void) len;
    (void) identity;
    return -1;
#endif
}

#endif
