/* session.c -- TLS configuration and the handshake (session.h). */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DTLS: the first retransmission of a flight the server did not answer.  Less than
   mbedTLS's default second: servers that serve one peer at a time (ssl_server2) drop the
   hello that comes while they reset after the cookie exchange. */
#define DTLS_RETRANSMIT_MS 250

void tf_session_init(struct tf_session *s, const struct tf_opts *o)
{
    memset(s, 0, sizeof(*s));
    tf_harness_allocator(calloc, free);
    mbedtls_ssl_init(&s->ssl);
    mbedtls_ssl_config_init(&s->conf);
#if defined(MBEDTLS_X509_CRT_PARSE_C)
    mbedtls_x509_crt_init(&s->cacert);
    mbedtls_x509_crt_init(&s->own_cert);
    mbedtls_pk_init(&s->own_key);
#endif
    tf_rng_init(&s->rng);
    tf_io_init(&s->io, o->timeout_ms);
    tf_resume_init(&s->resume);
}

void tf_session_free(struct tf_session *s)
{
    tf_io_close(&s->io);
    mbedtls_ssl_free(&s->ssl);
    mbedtls_ssl_config_free(&s->conf);
#if defined(MBEDTLS_X509_CRT_PARSE_C)
    mbedtls_x509_crt_free(&s->cacert);
    mbedtls_x509_crt_free(&s->own_cert);
    mbedtls_pk_free(&s->own_key);
#endif
    tf_psk_wipe(&s->psk);
    tf_rng_free(&s->rng);
    tf_resume_free(&s->resume);
}

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
/* 1 when this configuration has TLS 1.`want`; else 0 with *f filled in. */
static int version_enabled(int want, struct tf_fail *f)
{
    (void) want;    /* unused when both versions are enabled */
    (void) f;
#if !defined(MBEDTLS_SSL_PROTO_TLS1_3)
    if (want == 13) {
        tf_fail_set(f, TF_ERROR_NAME(TLSFIT_VERSION_NOT_ENABLED), "TLS 1.3 is not enabled "
                    "(MBEDTLS_SSL_PROTO_TLS1_3 is not defined)");
        return 0;
    }
#endif
#if !defined(MBEDTLS_SSL_PROTO_TLS1_2)
    if (want == 12) {
        tf_fail_set(f, TF_ERROR_NAME(TLSFIT_VERSION_NOT_ENABLED), "TLS 1.2 is not enabled "
                    "(MBEDTLS_SSL_PROTO_TLS1_2 is not defined)");
        return 0;
    }
#endif
    return 1;
}

/* Sets the minimum (i == 0) or maximum (i == 1) version to TLS 1.`want`. */
static int set_version(mbedtls_ssl_config *conf, int i, int want, struct tf_fail *f)
{
    if (!version_enabled(want, f)) {
        return -1;
    }
    mbedtls_ssl_protocol_version v = want == 13 ? MBEDTLS_SSL_VERSION_TLS1_3
                                                : MBEDTLS_SSL_VERSION_TLS1_2;
    if (i == 0) {
        mbedtls_ssl_conf_min_tls_version(conf, v);
    } else {
        mbedtls_ssl_conf_max_tls_version(conf, v);
    }
    return 0;
}
#else
static int set_version(mbedtls_ssl_config *conf, int i, int want, struct tf_fail *f)
{
    int minor;
    (void) f;
    if (want == 12) {
        minor = MBEDTLS_SSL_MINOR_VERSION_3;
    } else {
#if defined(MBEDTLS_SSL_PROTO_TLS1_3_EXPERIMENTAL) && defined(MBEDTLS_SSL_MINOR_VERSION_4)
        minor = MBEDTLS_SSL_MINOR_VERSION_4;
#else
        tf_fail_set(f, TF_ERROR_NAME(TLSFIT_VERSION_NOT_ENABLED), "TLS 1.3 is not available in mbedTLS %s "
                    "with this configuration", MBEDTLS_VERSION_STRING);
        return -1;
#endif
    }
    if (i == 0) {
        mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, minor);
    } else {
        mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, minor);
    }
    return 0;
}
#endif

/* --min-version / --max-version, when given. */
static int set_versions(mbedtls_ssl_config *conf, const struct tf_opts *o, struct tf_fail *f)
{
    int want[2] = { o->min_version, o->max_version };
    for (int i = 0; i < 2; i++) {
        if (want[i] != 0 && set_version(conf, i, want[i], f) != 0) {
            return -1;
        }
    }
    return 0;
}

int tf_session_setup(struct tf_session *s, const struct tf_opts *o, int *code,
                     struct tf_fail *f)
{
    if ((*code = tf_harness_conf(&s->conf, &s->cacert, &s->rng)) != 0) {
        return -1;
    }
    if (set_versions(&s->conf, o, f) != 0) {
        return -1;
    }
#if defined(TLSFIT_DTLS)
    /* retransmit after DTLS_RETRANSMIT_MS, doubling, until --timeout */
    mbedtls_ssl_conf_handshake_timeout(&s->conf, DTLS_RETRANSMIT_MS,
                                       o->timeout_ms > DTLS_RETRANSMIT_MS ? (uint32_t) o->timeout_ms
                                                                          : DTLS_RETRANSMIT_MS);
#endif
    if (o->resume) {
        tf_resume_conf(&s->conf);
    }
#if defined(MBEDTLS_X509_CRT_PARSE_C)
    if (o->client_cert != NULL &&
        (*code = mbedtls_ssl_conf_own_cert(&s->conf, &s->own_cert, &s->own_key)) != 0) {
        return -1;
    }
#endif
    if (o->psk_identity != NULL && tf_psk_conf(&s->conf, &s->psk, code, f) != 0) {
        return -1;
    }
    if ((*code = tf_harness_ssl(&s->ssl, &s->conf, o->sni)) != 0) {
        return -1;
    }
    return 0;
}

int tf_session_handshake(struct tf_session *s, const struct tf_opts *o, struct tf_fail *f)
{
    int ret;
#if defined(TLSFIT_DTLS)
    tf_dtls_bio(&s->ssl, &s->io, &s->timer);
#else
    mbedtls_ssl_set_bio(&s->ssl, &s->io, tf_send, tf_recv, NULL);
#endif
    s->handshaking = 1;
    tf_io_set_deadline(&s->io, tf_handshake_limit_s(o));
    do {
        ret = mbedtls_ssl_handshake(&s->ssl);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    if (ret == MBEDTLS_ERR_SSL_TIMEOUT && s->io.timed_out) {
        snprintf(f->message, sizeof(f->message), "the server sent nothing for %d ms "
                 "(or the handshake took longer than %d s)", o->timeout_ms,
                 tf_handshake_limit_s(o));
    }
#if defined(TLSFIT_DTLS)
    tf_dtls_explain(&s->io, ret, o->timeout_ms, f);
#endif
    return ret;
}

int tf_session_proof(struct tf_session *s, const struct tf_opts *o)
{
    struct tf_proof_io pio;
    tf_io_set_deadline(&s->io, tf_handshake_limit_s(o));   /* bounds the proof's sends */
    tf_io_proof(&s->io, &pio);
    s->proof_ran = 1;
    return tf_proof_run(&s->ssl, &o->proof, &pio, &s->proof);
}
