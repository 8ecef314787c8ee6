/*
 * net.h -- the client's TCP connection: connecting with a timeout and the
 * send / receive callbacks mbedTLS calls (its NET_C module is not used, so a
 * trimmed configuration without it still builds).
 *
 * The socket is non-blocking; each callback waits at most timeout_ms for the
 * socket to be ready, and never past `deadline` (the whole handshake's), and
 * returns MBEDTLS_ERR_SSL_TIMEOUT (setting timed_out) when it runs out.
 * Every byte received is shown to the wire observer (wire.h) first.
 *
 * After the handshake, the proof (tool/proof/proof.h) switches the receive
 * callback to non-blocking (MBEDTLS_ERR_SSL_WANT_READ when nothing is
 * waiting) and does its own waiting through tf_io_proof()'s callbacks.
 */
#ifndef TF_VERIFY_NET_H
#define TF_VERIFY_NET_H

#include <stddef.h>
#include <time.h>

#include "args.h"
#include "fail.h"
#include "wire.h"
#include "../proof/proof.h"
#include "mbedtls/net_sockets.h"   /* error codes only; NET_C itself is not used */

#ifndef MBEDTLS_ERR_NET_RECV_FAILED
#define MBEDTLS_ERR_NET_RECV_FAILED -0x004C
#endif
#ifndef MBEDTLS_ERR_NET_SEND_FAILED
#define MBEDTLS_ERR_NET_SEND_FAILED -0x004E
#endif
#ifndef MBEDTLS_ERR_NET_CONN_RESET
#define MBEDTLS_ERR_NET_CONN_RESET -0x0050
#endif

struct tf_io {
    int fd;                     /* -1 when not connected */
    int timeout_ms;
    struct timespec deadline;   /* whole handshake (CLOCK_MONOTONIC) */
    int timed_out;
    int sys_errno;              /* errno of a failed send / recv, else 0 */
    int nonblock;               /* recv: MBEDTLS_ERR_SSL_WANT_READ instead of waiting */
    unsigned long received;     /* bytes received */
    unsigned long sent;         /* bytes sent */
    struct tf_wire wire;
};

/* Not connected; waits of timeout_ms; the wire observer started. */
void tf_io_init(struct tf_io *io, int timeout_ms);

/* Sets the handshake's deadline `seconds` from now. */
void tf_io_set_deadline(struct tf_io *io, int seconds);

struct addrinfo;

/* Resolves o->host port o->port for `socktype` (SOCK_STREAM, SOCK_DGRAM); 0 with *res
   set (freeaddrinfo it), or -1 with *f filled in. */
int tf_resolve(const struct tf_opts *o, int socktype, struct addrinfo **res, struct tf_fail *f);

/* Connects to o->host port o->port within o->timeout_ms per address; returns
   0 with io->fd set (non-blocking), or -1 with *f filled in. */
int tf_tcp_connect(struct tf_io *io, const struct tf_opts *o, struct tf_fail *f);

/* Makes the receive callback non-blocking and fills *pio with the proof's
   clock (CLOCK_MONOTONIC milliseconds), wait and byte count for io. */
void tf_io_proof(struct tf_io *io, struct tf_proof_io *pio);

/* Milliseconds from now (CLOCK_MONOTONIC) until `deadline`, negative once it passed. */
long tf_ms_until(const struct timespec *deadline);

/* Closes the socket if open. */
void tf_io_close(struct tf_io *io);

/* mbedtls_ssl_send_t / mbedtls_ssl_recv_t on a struct tf_io. */
int tf_send(void *ctx, const unsigned char *buf, size_t len);
int tf_recv(void *ctx, unsigned char *buf, size_t len);

#endif
