/*
 * mbdgram.c -- a tf_mbconn over UDP for mbedTLS's DTLS client (see mbdgram.h).
 */
#include <stdio.h>
#include <string.h>

#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/ssl.h"

#include "errors.h"
#include "mbdgram.h"

#define DTLS_RECORD_HEADER 13     /* type, version, epoch, sequence number, length (RFC 6347 4.1) */

int tf_mbdgram_open(tf_mbconn *c, tf_target *t)
{
    tf_mbconn_prepare(c, t);
    c->server_seen = t->udp_answered;
    return tf_net_connect_udp(t, &c->fd);
}

/* A port unreachable that may pass (mbdgram.h): the server answered an earlier
   connection and nothing has come on this one yet. */
static int momentary(const tf_mbconn *c, int rc)
{
    return rc == TF_ERR_UDP_UNREACHABLE && c->server_seen && c->ngot == 0;
}

static int send_datagram(void *ctx, const unsigned char *buf, size_t len)
{
    tf_mbconn *c = ctx;
    int rc = tf_net_send_datagram(c->fd, buf, len);
    if (momentary(c, rc)) return (int)len;          /* lost: the timer sends it again */
    if (rc != TF_OK) return MBEDTLS_ERR_NET_SEND_FAILED;
    tf_mbconn_keep(c->sent, &c->nsent, buf, len);
    return (int)len;
}

/* One datagram, waiting at most timeout_ms (0: the per-operation timeout),
   never past the connection's deadline. */
static int recv_datagram(void *ctx, unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    tf_mbconn *c = ctx;
    size_t got = 0;
    int wait = tf_mbconn_wait_ms(c, timeout_ms), rc;
    long long end = tf_now_ms() + (wait > 0 ? wait : 0);
    if (wait < 0) return MBEDTLS_ERR_SSL_TIMEOUT;
    rc = tf_net_recv_datagram(c->fd, buf, len, wait, &got);
    while (momentary(c, rc)) {                      /* reported once: wait on */
        long long left = end - tf_now_ms();
        if (left <= 0) return MBEDTLS_ERR_SSL_TIMEOUT;
        rc = tf_net_recv_datagram(c->fd, buf, len, (int)left, &got);
    }
    if (rc == TF_ERR_TIMEOUT) return MBEDTLS_ERR_SSL_TIMEOUT;
    if (rc != TF_OK) return MBEDTLS_ERR_NET_RECV_FAILED;
    tf_mbconn_keep(c->got, &c->ngot, buf, got);
    return (int)got;
}

static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
    tf_mbdgram_timer *t = ctx;
    t->start_ms = tf_now_ms();
    t->int_ms = int_ms;
    t->fin_ms = fin_ms;
}

/* mbedtls_ssl_get_timer_t: -1 cancelled, 0 none passed, 1 intermediate, 2 final. */
static int timer_get(void *ctx)
{
    const tf_mbdgram_timer *t = ctx;
    long long elapsed;
    if (t->fin_ms == 0) return -1;
    elapsed = tf_now_ms() - t->start_ms;
    if (elapsed >= t->fin_ms) return 2;
    if (elapsed >= t->int_ms) return 1;
    return 0;
}

int tf_mbdgram_handshake(tf_mbconn *c, void *ssl, tf_mbdgram_timer *timer, char *why, size_t why_len)
{
    int rc;
    memset(timer, 0, sizeof(*timer));
    mbedtls_ssl_set_bio(ssl, c, send_datagram, NULL, recv_datagram);
    mbedtls_ssl_set_timer_cb(ssl, timer, timer_set, timer_get);
    do rc = mbedtls_ssl_handshake(ssl);
    while (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
    if (rc != 0) {
        char text[100];
        mbedtls_strerror(rc, text, sizeof(text));
        snprintf(why, why_len, "mbedTLS's handshake failed: -0x%04X %.90s", (unsigned)-rc, text);
    }
    return rc;
}

void tf_mbdgram_record_sizes(const tf_mbconn *c, size_t overhead, size_t *max_record, size_t *max_plain)
{
    size_t at = 0;
    while (at + DTLS_RECORD_HEADER <= c->ngot) {
        const uint8_t *h = c->got + at;
        size_t len = (size_t)h[11] << 8 | h[12];
        int epoch = h[3] << 8 | h[4];
        size_t plain = epoch && len > overhead ? len - overhead : len;
        if (at + DTLS_RECORD_HEADER + len > c->ngot) break;
        if (len > *max_record) *max_record = len;
        if (plain > *max_plain) *max_plain = plain;
        at += DTLS_RECORD_HEADER + len;
    }
}
