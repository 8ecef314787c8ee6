/*
 * mbdgram.h -- a tf_mbconn (mbconn.h) over UDP, for the mbedTLS client steps
 * that run DTLS 1.2 (psk.c with `probe --dtls`).
 *
 * The socket is net.c's connected UDP socket (only the target's datagrams
 * arrive; an ICMP port unreachable fails the receive).  The BIO moves whole
 * datagrams: mbedTLS hands one record flight per send and expects one
 * datagram per receive.  The server's datagrams are kept in c->got as they
 * came (DTLS records, 13-byte headers), up to TF_MBCONN_CAPTURE bytes.
 * mbedTLS's retransmission timer (mbedtls_ssl_set_timer_cb) runs on the
 * prober's monotonic clock.
 *
 * A port unreachable before the server's first datagram on this connection,
 * from a server that answered an earlier one (t->udp_answered), is a lost
 * datagram, as dtls.c's tf_dtls_server_seen rule has it: a server that binds
 * its socket anew between sessions (mbedTLS's ssl_server2) is unreachable for
 * a moment.  The send is taken as lost (mbedTLS's timer sends it again) and
 * the receive waits on; both within the connection's deadline and mbedTLS's
 * handshake timeout.  Any other port unreachable fails the handshake.
 */
#ifndef TF_MBDGRAM_H
#define TF_MBDGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "mbconn.h"
#include "net.h"

/* mbedtls_ssl_set_timer_cb's context: the delays set, from `start`. */
typedef struct {
    long long start_ms;
    uint32_t int_ms, fin_ms;    /* fin_ms 0: cancelled */
} tf_mbdgram_timer;

/* Opens c as a UDP socket connected to t (counted in t->connections).  0, or
   the net.c code. */
int tf_mbdgram_open(tf_mbconn *c, tf_target *t);

/*
 * Sets the datagram BIO and the timer on ssl (an mbedtls_ssl_context) and
 * runs the handshake.  0, or mbedTLS's error with `why` as
 * tf_mbconn_handshake writes it.
 */
int tf_mbdgram_handshake(tf_mbconn *c, void *ssl, tf_mbdgram_timer *timer, char *why, size_t why_len);

/*
 * The largest DTLS record body, and its plaintext, in the server's datagrams
 * c captured: the body less the explicit nonce and tag of the negotiated
 * AEAD when the record is in epoch 1 (`overhead` bytes), the body itself in
 * epoch 0.  Grows *max_record and *max_plain.
 */
void tf_mbdgram_record_sizes(const tf_mbconn *c, size_t overhead, size_t *max_record, size_t *max_plain);

#endif
