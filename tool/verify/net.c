/* net.c -- TCP connect and the socket callbacks (net.h). */
#define _POSIX_C_SOURCE 200809L

#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "mbedtls/ssl.h"

void tf_io_init(struct tf_io *io, int timeout_ms)
{
    memset(io, 0, sizeof(*io));
    io->fd = -1;
    io->timeout_ms = timeout_ms;
    tf_wire_init(&io->wire);
}

void tf_io_set_deadline(struct tf_io *io, int seconds)
{
    clock_gettime(CLOCK_MONOTONIC, &io->deadline);
    io->deadline.tv_sec += seconds;
}

void tf_io_close(struct tf_io *io)
{
    if (io->fd >= 0) {
        close(io->fd);
        io->fd = -1;
    }
}

static const char *gai_name(int e)
{
    switch (e) {
        case EAI_NONAME: return "EAI_NONAME";
        case EAI_AGAIN: return "EAI_AGAIN";
        case EAI_FAIL: return "EAI_FAIL";
        case EAI_SERVICE: return "EAI_SERVICE";
        case EAI_FAMILY: return "EAI_FAMILY";
        default: return "EAI_ERROR";
    }
}

/* Waits for a non-blocking connect() on fd; 0 connected, else the errno. */
static int finish_connect(int fd, int timeout_ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLOUT, .revents = 0 };
    int r;
    do {
        r = poll(&pfd, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r <= 0) {
        return r == 0 ? ETIMEDOUT : errno;
    }
    int err = 0;
    socklen_t elen = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    return err;
}

/* Connects to one address; returns the fd, or -1 with *err set. */
static int connect_one(const struct addrinfo *ai, int timeout_ms, int *err)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        return fd;
    }
    *err = errno == EINPROGRESS ? finish_connect(fd, timeout_ms) : errno;
    if (*err == 0) {
        return fd;
    }
    close(fd);
    return -1;
}

int tf_resolve(const struct tf_opts *o, int socktype, struct addrinfo **res, struct tf_fail *f)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
    *res = NULL;
    int g = getaddrinfo(o->host, o->port, &hints, res);
    if (g != 0) {
        tf_fail_set(f, gai_name(g), "cannot resolve %s: %s", o->host, gai_strerror(g));
        return -1;
    }
    return 0;
}

int tf_tcp_connect(struct tf_io *io, const struct tf_opts *o, struct tf_fail *f)
{
    struct addrinfo *res;
    if (tf_resolve(o, SOCK_STREAM, &res, f) != 0) {
        return -1;
    }
    int last_errno = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai != NULL && io->fd < 0; ai = ai->ai_next) {
        io->fd = connect_one(ai, o->timeout_ms, &last_errno);
    }
    freeaddrinfo(res);
    if (io->fd >= 0) {
        return 0;
    }
    if (last_errno == ETIMEDOUT) {
        tf_fail_set(f, tf_errno_name(last_errno), "no answer from %s port %s within %d ms",
                    o->host, o->port, o->timeout_ms);
    } else {
        tf_fail_set(f, tf_errno_name(last_errno), "cannot connect to %s port %s: %s",
                    o->host, o->port, strerror(last_errno));
    }
    return -1;
}

static uint64_t proof_now(void *ctx)
{
    struct timespec now;
    (void) ctx;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t) now.tv_sec * 1000u + (uint64_t) now.tv_nsec / 1000000u;
}

/* Input waiting (or the socket closed / failed, which recv reports) by the deadline. */
static int proof_wait_input(void *ctx, uint64_t deadline)
{
    struct tf_io *io = ctx;
    for (;;) {
        uint64_t now = proof_now(NULL);
        uint64_t left = now >= deadline ? 0 : deadline - now;
        int wait = left > INT_MAX ? INT_MAX : (int) left;
        struct pollfd pfd = { .fd = io->fd, .events = POLLIN, .revents = 0 };
        int r = poll(&pfd, 1, wait);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        return r != 0;      /* an error: let recv report it */
    }
}

static unsigned long proof_received(void *ctx)
{
    const struct tf_io *io = ctx;
    return io->received;
}

void tf_io_proof(struct tf_io *io, struct tf_proof_io *pio)
{
    io->nonblock = 1;
    pio->ctx = io;
    pio->per_ms = 1;
    pio->now = proof_now;
    pio->wait_input = proof_wait_input;
    pio->received = proof_received;
}

long tf_ms_until(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long) (deadline->tv_sec - now.tv_sec) * 1000 +
           (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Waits for `events`; 1 ready, 0 timed out, -1 error (errno set). */
static int wait_fd(struct tf_io *io, short events)
{
    for (;;) {
        long left = tf_ms_until(&io->deadline);
        int wait = io->timeout_ms;
        if (left < wait) {
            wait = left > 0 ? (int) left : 0;
        }
        struct pollfd pfd = { .fd = io->fd, .events = events, .revents = 0 };
        int r = poll(&pfd, 1, wait);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r == 0) {
            io->timed_out = 1;
        }
        return r;
    }
}

/* After EAGAIN: 0 to try again, else the callback's error for a timeout or
   a failed wait. */
static int wait_again(struct tf_io *io, short events, int failed)
{
    int r = wait_fd(io, events);
    if (r == 0) {
        return MBEDTLS_ERR_SSL_TIMEOUT;
    }
    if (r < 0) {
        io->sys_errno = errno;
        return failed;
    }
    return 0;
}

/* The server hung up while the client was still sending: what it sent before
   (e.g. a TLS 1.2 alert rejecting the client's certificate, which mbedTLS
   never reads because its write failed first) is shown to the wire observer,
   so that the failure names the alert.  Linux keeps received data readable
   after a reset. */
static void show_last_words(struct tf_io *io)
{
    unsigned char buf[2048];
    for (int i = 0; i < 8; i++) {
        ssize_t n = recv(io->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n <= 0) {
            return;
        }
        tf_wire_observe(&io->wire, buf, (size_t) n);
    }
}

int tf_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct tf_io *io = ctx;
    for (;;) {
        ssize_t n = send(io->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) {
            io->sent += (unsigned long) n;
            return (int) n;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int ret = wait_again(io, POLLOUT, MBEDTLS_ERR_NET_SEND_FAILED);
            if (ret != 0) {
                return ret;
            }
            continue;
        }
        io->sys_errno = errno;
        if (errno == EPIPE || errno == ECONNRESET) {
            show_last_words(io);
            return MBEDTLS_ERR_NET_CONN_RESET;
        }
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
}

int tf_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct tf_io *io = ctx;
    if (len > INT_MAX) {
        len = INT_MAX;
    }
    for (;;) {
        ssize_t n = recv(io->fd, buf, len, 0);
        if (n > 0) {
            tf_wire_observe(&io->wire, buf, (size_t) n);
            io->received += (unsigned long) n;
            return (int) n;
        }
        if (n == 0) {
            return 0;   /* EOF: mbedTLS reports MBEDTLS_ERR_SSL_CONN_EOF */
        }
        if (errno == EINTR) {
            continue;
        }
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && io->nonblock) {
            return MBEDTLS_ERR_SSL_WANT_READ;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int ret = wait_again(io, POLLIN, MBEDTLS_ERR_NET_RECV_FAILED);
            if (ret != 0) {
                return ret;
            }
            continue;
        }
        io->sys_errno = errno;
        return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
    }
}
