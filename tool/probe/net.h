/*
 * net.h -- the prober's transport: name resolution once per probe, then
 * TCP connections with a deadline on every operation, or (DTLS) connected UDP
 * sockets and single datagrams.  No operation blocks past
 * the target's timeout; all failures map to errors.h codes.
 */
#ifndef TF_NET_H
#define TF_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* coaps, CoAP over DTLS (RFC 7252 section 6.2): the usual DTLS port. */
#define TF_DTLS_DEFAULT_PORT 5684

typedef struct {
    char host[256];          /* as given (brackets of IPv6 literals removed) */
    uint16_t port;
    char sni[256];           /* server_name to send; "" sends none */
    int timeout_ms;          /* per-operation I/O timeout */
    int delay_ms;            /* pause before every connection but the first */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char addr_str[64];       /* numeric address connected to */
    unsigned connections;    /* connections attempted so far */
    int dtls;                /* DTLS 1.2 over UDP (dtls.h) instead of TLS over TCP */
    int udp_answered;        /* DTLS: a datagram came back on an earlier connection */
    int udp_handshook;       /* DTLS: a ServerHello came back on an earlier connection */
} tf_target;

/*
 * Parses "HOST", "HOST:PORT", "[V6]:PORT" into t->host / t->port (default
 * 443, or TF_DTLS_DEFAULT_PORT when t->dtls is set).  Returns 0 or TF_ERR_USAGE.
 */
int tf_target_parse(tf_target *t, const char *spec);

/* 1 when host is an IPv4 or IPv6 literal (no SNI is sent for those). */
int tf_host_is_ip(const char *host);

/* Resolves t->host once (first address returned).  0 or TF_ERR_RESOLVE. */
int tf_target_resolve(tf_target *t);

/* Before a connection: waits delay_ms (but before the first) and counts it. */
void tf_net_pace(tf_target *t);

/* Opens a TCP connection within the timeout.  0 (and *fd set) or
   TF_ERR_REFUSED / TF_ERR_TIMEOUT / TF_ERR_CONNECT. */
int tf_net_connect(tf_target *t, int *fd);

/* Sends all n bytes.  0 or TF_ERR_CLOSED / TF_ERR_TIMEOUT / TF_ERR_CONNECT. */
int tf_net_send(int fd, const uint8_t *buf, size_t n, int timeout_ms);

/*
 * Receives exactly n bytes.  Returns 0, or TF_ERR_TIMEOUT, or TF_ERR_CLOSED
 * when the peer closed first (*got says how many bytes did arrive), or
 * TF_ERR_CONNECT on a reset.
 */
int tf_net_recv(int fd, uint8_t *buf, size_t n, int timeout_ms, size_t *got);

/* UDP (the DTLS transport, dtls.c): a socket connected to t, so that only t's
   datagrams arrive and an ICMP port unreachable comes back as ECONNREFUSED.
   0 (*fd set) or TF_ERR_CONNECT. */
int tf_net_connect_udp(tf_target *t, int *fd);

/* Sends one datagram.  0, TF_ERR_UDP_UNREACHABLE or TF_ERR_CONNECT. */
int tf_net_send_datagram(int fd, const uint8_t *buf, size_t n);

/* Receives one datagram, waiting at most wait_ms: 0 (*got its length, cut to
   cap), TF_ERR_TIMEOUT when none came, TF_ERR_UDP_UNREACHABLE (ICMP port
   unreachable), TF_ERR_CONNECT. */
int tf_net_recv_datagram(int fd, uint8_t *buf, size_t cap, int wait_ms, size_t *got);

void tf_net_close(int fd);

/* Milliseconds from a monotonic clock. */
long long tf_now_ms(void);

#endif
