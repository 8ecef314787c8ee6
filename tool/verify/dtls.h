/*
 * dtls.h -- the client's DTLS transport, compiled in when the header under
 * test defines TLSFIT_DTLS (tlsfit gen for a profile from `probe --dtls`):
 * a connected UDP socket, the receive-with-timeout callback mbedTLS's DTLS
 * retransmission needs, the handshake timer, and the wire observer fed with
 * the server's datagrams in TLS form (its record and handshake headers
 * rewritten), so the group and signature scheme are read off the wire as
 * over TCP.  The configuration's transport, MTU and Connection ID are the
 * harness's (../harness/dtls.h).
 */
#ifndef TF_VERIFY_DTLS_H
#define TF_VERIFY_DTLS_H

#include <stdint.h>
#include <time.h>

#include "args.h"
#include "fail.h"
#include "net.h"
#include "mbedtls/ssl.h"

/* mbedtls_ssl_set_timer_cb's context: CLOCK_MONOTONIC. */
struct tf_dtls_timer {
    struct timespec start;
    uint32_t int_ms, fin_ms;    /* fin_ms 0: cancelled */
};

/* Opens a UDP socket connected to o->host port o->port (non-blocking); 0 with
   io->fd set, or -1 with *f filled in. */
int tf_udp_connect(struct tf_io *io, const struct tf_opts *o, struct tf_fail *f);

/* Sets the BIO (send, receive with timeout) and the timer on ssl. */
void tf_dtls_bio(mbedtls_ssl_context *ssl, struct tf_io *io, struct tf_dtls_timer *timer);

/* mbedtls_ssl_recv_timeout_t on a struct tf_io: one datagram, waiting at
   most `timeout` ms (0: the per-operation timeout), never past the deadline. */
int tf_dtls_recv(void *ctx, unsigned char *buf, size_t len, uint32_t timeout);

/* The DTLS records of one datagram to the wire observer, in TLS form. */
void tf_dtls_observe(struct tf_wire *w, const unsigned char *p, size_t n);

/*
 * A failed DTLS handshake (mbedTLS's `ret`) said in words, into f: an ICMP port
 * unreachable is TLSFIT_UDP_UNREACHABLE; a timeout says whether any datagram came
 * (none: nothing answers on that port; some but no ServerHello: a server that
 * never answered the hello with its cookie, or datagrams that are not DTLS,
 * which mbedTLS drops).  Nothing for other failures.
 */
void tf_dtls_explain(const struct tf_io *io, int ret, int timeout_ms, struct tf_fail *f);

#endif
