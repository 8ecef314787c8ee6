/* net.c -- TCP with deadlines (see net.h). */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "net.h"

long long tf_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tf_host_is_ip(const char *host)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    long v;
    if (*s == '\0') return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < 1 || v > 65535) return -1;
    *port = (uint16_t)v;
    return 0;
}

int tf_target_parse(tf_target *t, const char *spec)
{
    const char *host = spec, *port = NULL, *colon;
    size_t hlen;

    t->port = t->dtls ? TF_DTLS_DEFAULT_PORT : 443;
    if (spec[0] == '[') {                       /* [v6]:port */
        const char *close = strchr(spec, ']');
        if (!close) return TF_ERR_USAGE;
        host = spec + 1;
        hlen = (size_t)(close - host);
        if (close[1] == ':') port = close + 2;
        else if (close[1] != '\0') return TF_ERR_USAGE;
    } else {
        colon = strrchr(spec, ':');
        if (colon && strchr(spec, ':') == colon) { hlen = (size_t)(colon - spec); port = colon + 1; }
        else hlen = strlen(spec);               /* bare v6 literal or plain host */
    }
    if (hlen == 0 || hlen >= sizeof(t->host)) return TF_ERR_USAGE;
    memcpy(t->host, host, hlen);
    t->host[hlen] = '\0';
    if (port && parse_port(port, &t->port) != 0) return TF_ERR_USAGE;
    return TF_OK;
}

int tf_target_resolve(tf_target *t)
{
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portstr, sizeof(portstr), "%u", t->port);
    rc = getaddrinfo(t->host, portstr, &hints, &res);
    if (rc != 0 || res == NULL) return TF_ERR_RESOLVE;
    memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
    t->addrlen = res->ai_addrlen;
    rc = getnameinfo(res->ai_addr, res->ai_addrlen, t->addr_str, sizeof(t->addr_str), NULL, 0, NI_NUMERICHOST);
    if (rc != 0) snprintf(t->addr_str, sizeof(t->addr_str), "?");
    freeaddrinfo(res);
    return TF_OK;
}

static int wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p;
    int rc;
    p.fd = fd; p.events = events; p.revents = 0;
    do rc = poll(&p, 1, timeout_ms); while (rc < 0 && errno == EINTR);
    return rc; /* 1 ready, 0 timeout, -1 error */
}

static int map_errno(int e)
{
    if (e == ECONNREFUSED) return TF_ERR_REFUSED;
    if (e == ETIMEDOUT) return TF_ERR_TIMEOUT;
    if (e == EPIPE || e == ECONNRESET) return TF_ERR_CLOSED;
    return TF_ERR_CONNECT;
}

void tf_net_pace(tf_target *t)
{
    if (t->connections > 0 && t->delay_ms > 0) {
        struct timespec ts = { t->delay_ms / 1000, (long)(t->delay_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    t->connections++;
}

int tf_net_connect(tf_target *t, int *fd_out)
{
    int fd, rc, err = 0, one = 1;
    socklen_t elen = sizeof(err);

    tf_net_pace(t);
    fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return TF_ERR_CONNECT;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    rc = connect(fd, (struct sockaddr *)&t->addr, t->addrlen);
    if (rc < 0 && errno != EINPROGRESS) { err = errno; goto fail; }
    if (rc < 0) {
        rc = wait_fd(fd, POLLOUT, t->timeout_ms);
        if (rc == 0) { close(fd); return TF_ERR_TIMEOUT; }
        if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0) { err = errno; goto fail; }
        if (err != 0) goto fail;
    }
    *fd_out = fd;
    return TF_OK;
fail:
    close(fd);
    return map_errno(err);
}

int tf_net_send(int fd, const uint8_t *buf, size_t n, int timeout_ms)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
        if (w > 0) { off += (size_t)w; continue; }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_fd(fd, POLLOUT, timeout_ms);
            if (rc == 0) return TF_ERR_TIMEOUT;
            if (rc < 0) return TF_ERR_CONNECT;
            continue;
        }
        return map_errno(errno);
    }
    return TF_OK;
}

int tf_net_recv(int fd, uint8_t *buf, size_t n, int timeout_ms, size_t *got)
{
    size_t off = 0;
    long long deadline = tf_now_ms() + timeout_ms;
    *got = 0;
    while (off < n) {
        ssize_t r = recv(fd, buf + off, n - off, 0);
        if (r > 0) { off += (size_t)r; *got = off; continue; }
        if (r == 0) return TF_ERR_CLOSED;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            long long left = deadline - tf_now_ms();
            int rc;
            if (left <= 0) return TF_ERR_TIMEOUT;
            rc = wait_fd(fd, POLLIN, (int)left);
            if (rc == 0) return TF_ERR_TIMEOUT;
            if (rc < 0) return TF_ERR_CONNECT;
            continue;
        }
        return errno == ECONNRESET ? TF_ERR_CLOSED : TF_ERR_CONNECT;
    }
    return TF_OK;
}

int tf_net_connect_udp(tf_target *t, int *fd_out)
{
    int fd;
    tf_net_pace(t);
    fd = socket(t->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return TF_ERR_CONNECT;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (connect(fd, (struct sockaddr *)&t->addr, t->addrlen) != 0) {
        close(fd);
        return TF_ERR_CONNECT;
    }
    *fd_out = fd;
    return TF_OK;
}

int tf_net_send_datagram(int fd, const uint8_t *buf, size_t n)
{
    ssize_t w;
    do w = send(fd, buf, n, MSG_NOSIGNAL); while (w < 0 && errno == EINTR);
    if (w == (ssize_t)n) return TF_OK;
    return w < 0 && errno == ECONNREFUSED ? TF_ERR_UDP_UNREACHABLE : TF_ERR_CONNECT;
}

int tf_net_recv_datagram(int fd, uint8_t *buf, size_t cap, int wait_ms, size_t *got)
{
    long long deadline = tf_now_ms() + wait_ms;
    *got = 0;
    for (;;) {
        ssize_t r = recv(fd, buf, cap, MSG_DONTWAIT);
        long long left;
        int rc;
        if (r >= 0) { *got = (size_t)r; return TF_OK; }
        if (errno == ECONNREFUSED) return TF_ERR_UDP_UNREACHABLE;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return TF_ERR_CONNECT;
        left = deadline - tf_now_ms();
        if (left <= 0) return TF_ERR_TIMEOUT;
        rc = wait_fd(fd, POLLIN, (int)left);
        if (rc == 0) return TF_ERR_TIMEOUT;
        if (rc < 0) return TF_ERR_CONNECT;
    }
}

void tf_net_close(int fd)
{
    if (fd >= 0) close(fd);
}
