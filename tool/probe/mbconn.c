/*
 * mbconn.c -- the socket and random generator of the mbedTLS client steps
 * (see mbconn.h).
 */
#include <stdio.h>
#include <string.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/ssl.h"
#include "psa/crypto.h"

#include "errors.h"
#include "mbconn.h"
#include "record.h"

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static int rng_state;          /* 0 not tried, 1 ready, -1 failed */

void *tf_mbconn_rng(void)
{
    if (rng_state == 0) {
        mbedtls_entropy_init(&entropy);
        mbedtls_ctr_drbg_init(&drbg);
        rng_state = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                          (const unsigned char *)"tlsfit-probe", 12) == 0 &&
                    psa_crypto_init() == PSA_SUCCESS ? 1 : -1;
    }
    return rng_state == 1 ? &drbg : NULL;
}

void tf_mbconn_prepare(tf_mbconn *c, const tf_target *t)
{
    c->fd = -1;
    c->nsent = c->ngot = 0;
    c->server_seen = 0;
    c->timeout_ms = t->timeout_ms;
    c->deadline_ms = tf_now_ms() + (long long)TF_CONN_DEADLINE_FACTOR * t->timeout_ms;
}

int tf_mbconn_open(tf_mbconn *c, tf_target *t)
{
    tf_mbconn_prepare(c, t);
    return tf_net_connect(t, &c->fd);
}

void tf_mbconn_close(tf_mbconn *c)
{
    if (c->fd >= 0) tf_net_close(c->fd);
    c->fd = -1;
}

void tf_mbconn_keep(uint8_t *dst, size_t *n, const unsigned char *src, size_t len)
{
    size_t room = TF_MBCONN_CAPTURE - *n;
    if (len > room) len = room;
    memcpy(dst + *n, src, len);
    *n += len;
}

int tf_mbconn_wait_ms(const tf_mbconn *c, uint32_t timeout_ms)
{
    long long left = c->deadline_ms - tf_now_ms();
    int wait = timeout_ms ? (int)timeout_ms : c->timeout_ms;
    if (left <= 0) return -1;
    return wait > left ? (int)left : wait;
}

int tf_mbconn_send(void *ctx, const unsigned char *buf, size_t len)
{
    tf_mbconn *c = ctx;
    if (tf_net_send(c->fd, buf, len, c->timeout_ms) != TF_OK) return MBEDTLS_ERR_NET_SEND_FAILED;
    tf_mbconn_keep(c->sent, &c->nsent, buf, len);
    return (int)len;
}

int tf_mbconn_recv(void *ctx, unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    tf_mbconn *c = ctx;
    size_t got = 0;
    int wait = tf_mbconn_wait_ms(c, timeout_ms), rc;
    if (wait < 0) return MBEDTLS_ERR_SSL_TIMEOUT;
    rc = tf_net_recv(c->fd, buf, len, wait, &got);
    tf_mbconn_keep(c->got, &c->ngot, buf, got);
    if (rc == TF_OK || got > 0) return (int)(rc == TF_OK ? len : got);
    if (rc == TF_ERR_TIMEOUT) return MBEDTLS_ERR_SSL_TIMEOUT;
    if (rc == TF_ERR_CLOSED) return 0;
    return MBEDTLS_ERR_NET_RECV_FAILED;
}

int tf_mbconn_server_hello(const tf_mbconn *c, tf_server_hello *sh, const uint8_t **sid, size_t *sid_len)
{
    size_t at = 0;
    int found = -1;
    while (at + 5 <= c->ngot) {
        uint8_t type = c->got[at];
        size_t len = (size_t)c->got[at + 3] << 8 | c->got[at + 4];
        const uint8_t *body = c->got + at + 5;
        if (at + 5 + len > c->ngot || (type != 22 && type != 20)) break;
        if (type == 22 && len >= 4 && body[0] == TF_HS_SERVER_HELLO) {
            size_t mlen = 4 + ((size_t)body[1] << 16 | (size_t)body[2] << 8 | body[3]);
            tf_server_hello one;
            if (mlen <= len && tf_parse_server_hello(body, mlen, &one) == TF_OK && !one.hrr) {
                *sh = one;
                *sid = body + 4 + 2 + 32 + 1;     /* type+len, version, random, sid length */
                *sid_len = body[4 + 2 + 32];
                found = 0;
            }
        }
        at += 5 + len;
    }
    return found;
}

int tf_mbconn_handshake(tf_mbconn *c, void *ssl, char *why, size_t why_len)
{
    int rc;
    mbedtls_ssl_set_bio(ssl, c, tf_mbconn_send, NULL, tf_mbconn_recv);
    rc = mbedtls_ssl_handshake(ssl);
    if (rc != 0) {
        char text[100];
        mbedtls_strerror(rc, text, sizeof(text));
        snprintf(why, why_len, "mbedTLS's handshake failed: -0x%04X %.90s", (unsigned)-rc, text);
    }
    return rc;
}
