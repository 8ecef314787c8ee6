/*
 * dgram.c -- the measure firmware's datagram link over UART0 (dgram.h: the
 * framing and its invariants).  Compiles to nothing without TLSFIT_DTLS.
 */
#include "dgram.h"

#if defined(TLSFIT_DTLS)

#include "tls_client.h"

struct tf_dgram_stats tf_dgram;

/* mbedtls_ssl_send_t: one frame, one datagram. */
static int dgram_send(void *ctx, const unsigned char *buf, size_t len)
{
    (void)ctx;
    if (len == 0)
        return 0;
    if (len > 0xFFFFu)
        len = 0xFFFFu;      /* mbedTLS never writes more than its MTU / buffer */
    unsigned char hdr[2] = { (unsigned char)(len >> 8), (unsigned char)len };
    if (tf_uart_write(hdr, 2, tf_run.uart_timeout_polls) != 2 ||
        tf_uart_write(buf, len, tf_run.uart_timeout_polls) != len)
        return MBEDTLS_ERR_SSL_TIMEOUT;
    cl.sent += len;
    tf_dgram.sent++;
    return (int)len;
}

/* Sleeps until a byte arrives or timeout_ms passes (0: TF_DGRAM_IDLE_MS); the
 * wait goes to tf_uart_wait_ticks.  1: a byte is waiting. */
static int await_frame(uint32_t timeout_ms)
{
    if (tf_uart_rx_ready())
        return 1;
    uint64_t t0 = tf_ticks();
    uint64_t ms = timeout_ms != 0 ? timeout_ms : TF_DGRAM_IDLE_MS;
    int got = tf_uart_wait_rx(t0 + ms * tf_ticks_per_ms());
    tf_uart_wait_ticks += tf_ticks() - t0;
    return got;
}

/* Reads one frame's body into buf (at most len bytes, the rest discarded).
 * The frame has begun arriving, so its bytes are read with the UART's
 * blocking reads; a short one breaks the link. */
static int read_frame(unsigned char *buf, size_t len)
{
    unsigned char hdr[2];
    if (tf_uart_read(hdr, 2, tf_run.uart_timeout_polls) != 2)
        goto broken;
    size_t n = ((size_t)hdr[0] << 8) | hdr[1];
    if (n == 0)
        goto broken;
    size_t keep = n < len ? n : len;
    if (tf_uart_read(buf, keep, tf_run.uart_timeout_polls) != keep)
        goto broken;
    for (size_t i = keep; i < n; i++) {
        unsigned char c;
        if (tf_uart_read(&c, 1, tf_run.uart_timeout_polls) != 1)
            goto broken;
    }
    if (keep < n)
        tf_dgram.truncated++;
    cl.received += keep;
    tf_dgram.received++;
    return (int)keep;
broken:
    tf_dgram.broken = 1;
    cl.uart_timed_out = 1;
    return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

/* mbedtls_ssl_recv_timeout_t: one datagram, or MBEDTLS_ERR_SSL_TIMEOUT when
 * none came within timeout_ms (the proof's non-blocking reads: WANT_READ). */
static int dgram_recv(void *ctx, unsigned char *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx;
    if (tf_dgram.broken)
        return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    if (cl.nonblock && !tf_uart_rx_ready())
        return MBEDTLS_ERR_SSL_WANT_READ;
    if (!await_frame(timeout_ms)) {
        tf_dgram.timeouts++;
        return MBEDTLS_ERR_SSL_TIMEOUT;
    }
    return read_frame(buf, len);
}

/* mbedtls_ssl_set_delay_t */
static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
    struct tf_dgram_timer *t = ctx;
    t->int_ms = int_ms;
    t->fin_ms = fin_ms;
    t->start = tf_ticks();
}

/* mbedtls_ssl_get_timer_t: -1 cancelled, 0 running, 1 intermediate passed, 2 final passed. */
static int timer_get(void *ctx)
{
    const struct tf_dgram_timer *t = ctx;
    if (t->fin_ms == 0)
        return -1;
    uint64_t ms = (tf_ticks() - t->start) / tf_ticks_per_ms();
    return ms >= t->fin_ms ? 2 : ms >= t->int_ms ? 1 : 0;
}

void tf_dgram_conf(mbedtls_ssl_config *conf)
{
    mbedtls_ssl_conf_handshake_timeout(conf, TF_DGRAM_RETRANSMIT_MIN_MS,
                                       TF_DGRAM_RETRANSMIT_MAX_MS);
}

void tf_dgram_bio(mbedtls_ssl_context *ssl, struct tf_dgram_timer *timer)
{
    mbedtls_ssl_set_bio(ssl, NULL, dgram_send, NULL, dgram_recv);
    mbedtls_ssl_set_timer_cb(ssl, timer, timer_set, timer_get);
}

#endif
