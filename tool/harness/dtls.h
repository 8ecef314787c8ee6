/*
 * dtls.h -- the harness's DTLS part (included by harness.h): a header from
 * `tlsfit gen` for a DTLS server defines TLSFIT_DTLS (and TLSFIT_DTLS_MTU,
 * and TLSFIT_DTLS_CID when the server chose a Connection ID).  The transport,
 * the MTU and the Connection ID are set here, once, for the verify client
 * and the firmware; the timer and the datagram BIO stay with each side.
 */
#ifndef TF_HARNESS_DTLS_H
#define TF_HARNESS_DTLS_H

#include "mbedtls/ssl.h"

#if defined(TLSFIT_DTLS) && !defined(MBEDTLS_SSL_PROTO_DTLS)
#error "tlsfit: TLSFIT_DTLS asks for DTLS but MBEDTLS_SSL_PROTO_DTLS is not defined"
#endif

/* The transport mbedtls_ssl_config_defaults() gets. */
#if defined(TLSFIT_DTLS)
#define TF_HARNESS_TRANSPORT MBEDTLS_SSL_TRANSPORT_DATAGRAM
#else
#define TF_HARNESS_TRANSPORT MBEDTLS_SSL_TRANSPORT_STREAM
#endif

/* After mbedtls_ssl_setup(): the MTU and, when the header asks, an empty
   Connection ID of the client's own (the server's is used for what the client
   sends).  0 or the mbedTLS error. */
static inline int tf_harness_dtls_ssl(mbedtls_ssl_context *ssl)
{
    int ret = 0;
#if defined(TLSFIT_DTLS) && defined(TLSFIT_DTLS_MTU)
    mbedtls_ssl_set_mtu(ssl, TLSFIT_DTLS_MTU);
#endif
#if defined(TLSFIT_DTLS) && defined(TLSFIT_DTLS_CID) && defined(MBEDTLS_SSL_DTLS_CONNECTION_ID)
    ret = mbedtls_ssl_set_cid(ssl, MBEDTLS_SSL_CID_ENABLED, NULL, 0);
#endif
    (void) ssl;
    return ret;
}

#endif
