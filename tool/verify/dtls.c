/* dtls.c -- the client's DTLS transport (dtls.h). */
#define _POSIX_C_SOURCE 200809L

#include "dtls.h"
#include "../errors/errors.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RECORD_HDR 13           /* type, version, epoch, sequence number, length */
#define FRAGMENT_HDR 12         /* type, length, message_seq, fragment offset, fragment length */
#define DTLS_1_2 0xFEFD

int tf_udp_connect(struct tf_io *io, const struct tf_opts *o, struct tf_fail *f)
{
    struct addrinfo *res;
    if (tf_resolve(o, SOCK_DGRAM, &res, f) != 0) {
        return -1;
    }
    int err = 0;
    for (struct addrinfo *ai = res; ai != NULL && io->fd < 0; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
            if (fd >= 0) {
                close(fd);
            }
            continue;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        io->fd = fd;
    }
    freeaddrinfo(res);
    if (io->fd >= 0) {
        return 0;
    }
    tf_fail_set(f, tf_errno_name(err), "cannot open a UDP socket to %s port %s: %s", o->host,
                o->port, strerror(err));
    return -1;
}

static uint32_t elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (long long) (now.tv_sec - since->tv_sec) * 1000 +
                   (now.tv_nsec - since->tv_nsec) / 1000000;
    return ms < 0 ? 0 : ms > UINT32_MAX ? UINT32_MAX : (uint32_t) ms;
}

/* mbedtls_ssl_set_delay_t */
static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
    struct tf_dtls_timer *t = ctx;
    t->int_ms = int_ms;
    t->fin_ms = fin_ms;
    clock_gettime(CLOCK_MONOTONIC, &t->start);
}

/* mbedtls_ssl_get_timer_t: -1 cancelled, 0 running, 1 intermediate passed, 2 final passed. */
static int timer_get(void *ctx)
{
    struct tf_dtls_timer *t = ctx;
    if (t->fin_ms == 0) {
        return -1;
    }
    uint32_t ms = elapsed_ms(&t->start);
    return ms >= t->fin_ms ? 2 : ms >= t->int_ms ? 1 : 0;
}

void tf_dtls_bio(mbedtls_ssl_context *ssl, struct tf_io *io, struct tf_dtls_timer *timer)
{
    mbedtls_ssl_set_bio(ssl, io, tf_send, NULL, tf_dtls_recv);
    mbedtls_ssl_set_timer_cb(ssl, timer, timer_set, timer_get);
}

/* Waits for a datagram: 1 one is waiting (or an error recv will report), 0 none in time. */
static int wait_datagram(struct tf_io *io, uint32_t timeout)
{
    long wait = timeout != 0 ? (long) timeout : io->timeout_ms;
    long left = tf_ms_until(&io->deadline);
    if (left < wait) {
        wait = left > 0 ? left : 0;
    }
    for (;;) {
        struct pollfd pfd = { .fd = io->fd, .events = POLLIN, .revents = 0 };
        int r = poll(&pfd, 1, wait > INT_MAX ? INT_MAX : (int) wait);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        return r != 0;
    }
}

int tf_dtls_recv(void *ctx, unsigned char *buf, size_t len, uint32_t timeout)
{
    struct tf_io *io = ctx;
    if (!io->nonblock && !wait_datagram(io, timeout)) {
        /* a retransmission timer ran out, or the server was silent past --timeout */
        io->timed_out = timeout == 0 || tf_ms_until(&io->deadline) <= 0;
        return MBEDTLS_ERR_SSL_TIMEOUT;
    }
    ssize_t n = recv(io->fd, buf, len > INT_MAX ? INT_MAX : len, MSG_DONTWAIT);
    if (n >= 0) {
        tf_dtls_observe(&io->wire, buf, (size_t) n);
        io->received += (unsigned long) n;
        return (int) n;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return io->nonblock ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_SSL_TIMEOUT;
    }
    io->sys_errno = errno;      /* ECONNREFUSED: ICMP port unreachable */
    return MBEDTLS_ERR_NET_RECV_FAILED;
}

static void feed(struct tf_wire *w, unsigned type, const unsigned char *hs_hdr, size_t hs_len,
                 const unsigned char *body, size_t len)
{
    unsigned char hdr[5] = { (unsigned char) type, 3, 3, 0, 0 };
    size_t total = hs_len + len;
    hdr[3] = (unsigned char) (total >> 8);
    hdr[4] = (unsigned char) total;
    tf_wire_observe(w, hdr, sizeof(hdr));
    if (hs_len) {
        tf_wire_observe(w, hs_hdr, hs_len);
    }
    tf_wire_observe(w, body, len);
}

/* A whole (unfragmented) handshake message to the observer, the ServerHello's
   DTLS 1.2 version written as TLS 1.2's. */
static void observe_message(struct tf_wire *w, const unsigned char *frag, size_t len)
{
    unsigned char hs[4] = { frag[0], frag[1], frag[2], frag[3] };
    unsigned char sh_version[2] = { 3, 3 };
    const unsigned char *body = frag + FRAGMENT_HDR;
    if (frag[0] == 2 && len >= 2 && ((body[0] << 8) | body[1]) == DTLS_1_2) {
        /* the ServerHello: its version in TLS form, the rest as it came */
        unsigned char hdr[5] = { 22, 3, 3, (unsigned char) ((len + 4) >> 8),
                                 (unsigned char) (len + 4) };
        tf_wire_observe(w, hdr, sizeof(hdr));
        tf_wire_observe(w, hs, sizeof(hs));
        tf_wire_observe(w, sh_version, 2);
        tf_wire_observe(w, body + 2, len - 2);
        return;
    }
    feed(w, 22, hs, sizeof(hs), body, len);
}

void tf_dtls_observe(struct tf_wire *w, const unsigned char *p, size_t n)
{
    static const unsigned char ccs = 1;
    size_t at = 0;
    while (n - at >= RECORD_HDR && w->active && !w->broken) {
        const unsigned char *r = p + at;
        size_t len = ((size_t) r[11] << 8) | r[12];
        if (len > n - at - RECORD_HDR) {
            return;
        }
        if (len > w->largest_record) {
            w->largest_record = len;
        }
        at += RECORD_HDR + len;
        if (r[3] != 0 || r[4] != 0 || r[0] == 20) {     /* epoch 1 on: the plaintext part is over */
            feed(w, 20, NULL, 0, &ccs, 1);
            return;
        }
        if (r[0] != 22) {
            feed(w, r[0], NULL, 0, r + RECORD_HDR, len);
            continue;
        }
        for (size_t f = 0; len - f >= FRAGMENT_HDR;) {
            const unsigned char *h = r + RECORD_HDR + f;
            size_t msg_len = ((size_t) h[1] << 16) | ((size_t) h[2] << 8) | h[3];
            size_t off = ((size_t) h[6] << 16) | ((size_t) h[7] << 8) | h[8];
            size_t frag_len = ((size_t) h[9] << 16) | ((size_t) h[10] << 8) | h[11];
            if (frag_len > len - f - FRAGMENT_HDR) {
                break;
            }
            if (off == 0 && frag_len == msg_len && h[0] != 3) {   /* not HelloVerifyRequest */
                observe_message(w, h, frag_len);
            }
            f += FRAGMENT_HDR + frag_len;
        }
    }
}

void tf_dtls_explain(const struct tf_io *io, int ret, int timeout_ms, struct tf_fail *f)
{
    if ((ret == MBEDTLS_ERR_NET_RECV_FAILED || ret == MBEDTLS_ERR_NET_SEND_FAILED) &&
        io->sys_errno == ECONNREFUSED) {
        tf_fail_set(f, TF_ERROR_NAME(TLSFIT_UDP_UNREACHABLE), "the UDP port is unreachable "
                    "(ICMP port unreachable): nothing listens there for DTLS");
    } else if (ret == MBEDTLS_ERR_SSL_TIMEOUT && io->received == 0) {
        snprintf(f->message, sizeof(f->message), "no datagram answered the ClientHello or its "
                 "retransmissions (--timeout %d ms): no DTLS server on that UDP port, or it "
                 "drops the hello", timeout_ms);
    } else if (ret == MBEDTLS_ERR_SSL_TIMEOUT && io->wire.sh_version == 0) {
        snprintf(f->message, sizeof(f->message), "the server sent %lu bytes but no ServerHello "
                 "(--timeout %d ms): it never answered the hello with its cookie, or sent "
                 "datagrams that are not DTLS (mbedTLS drops them)", io->received, timeout_ms);
    }
}
