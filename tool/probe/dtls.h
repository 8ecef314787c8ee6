/*
 * dtls.h -- the prober's DTLS 1.2 transport (RFC 6347): one connected UDP
 * socket per probe connection, the ClientHello turned into a DTLS record,
 * the HelloVerifyRequest cookie exchange, retransmission of the hello while
 * the server is silent, and the server's handshake messages reassembled from
 * fragments (dtls_frag.h) and handed up in TLS form.
 *
 * record.c's tf_conn delegates to this when its `dtls` is set, so the steps
 * and session.c run unchanged over UDP.  Messages come up as TLS 1.2 would
 * carry them: a 4-byte header, and the ServerHello's version DTLS 1.2
 * (0xFEFD) written as its TLS twin 0x0303 (DTLS 1.0, 0xFEFF, as 0x0302), the
 * versions whose handshake messages DTLS reuses (RFC 6347 section 4.2).
 */
#ifndef TF_DTLS_H
#define TF_DTLS_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"

/* The DTLS facts of one connection (and, merged, of a probe). */
typedef struct {
    int used;                   /* the connection ran over DTLS */
    uint16_t version;           /* record version of the ServerHello (0xFEFD), 0 none */
    unsigned hello_verify;      /* HelloVerifyRequests received */
    unsigned cookie_len;        /* length of the last cookie */
    unsigned round_trips;       /* hellos sent until the ServerHello arrived (2 with a cookie exchange) */
    unsigned retransmissions;   /* hellos sent again after a silence */
    size_t max_datagram;        /* largest datagram received, bytes */
    int fragmented;             /* a handshake message came in more than one fragment */
    int across_datagrams;       /* ... whose fragments came in more than one datagram */
    unsigned dropped;           /* fragments dropped (a gap before them) */
} tf_dtls_facts;

/*
 * Initial retransmission timer, doubled per silence.  RFC 6347 section
 * 4.2.4.1 recommends 1 s; the prober uses less because servers that serve
 * one peer at a time (mbedTLS's ssl_server2) drop the hello that arrives
 * while they reset after the previous connection, and a probe makes dozens
 * of connections.  A second hello costs the server nothing: it answers the
 * same flight again.
 */
#define TF_DTLS_RETRANSMIT_MS 100
/* The timer stops doubling here (RFC 6347 section 4.2.4.1: at least 60 s). */
#define TF_DTLS_RETRANSMIT_MAX_MS 60000
/* Largest datagram read. */
#define TF_DTLS_MAX_DATAGRAM 65535
/* Most HelloVerifyRequests accepted on one connection. */
#define TF_DTLS_MAX_HVR 3

typedef struct tf_dtls tf_dtls;

/* Allocates the DTLS state of a connection.  NULL when out of memory. */
tf_dtls *tf_dtls_new(void);

/*
 * Says that the server answered on an earlier connection: a port unreachable
 * before this connection's first datagram is then taken for a lost datagram (a
 * server that binds its socket anew between sessions, as mbedTLS's ssl_server2
 * does, is unreachable for a moment) and the hello is sent again on the
 * retransmission timer, within the connection's timeout and deadline.
 */
void tf_dtls_server_seen(tf_dtls *d);
void tf_dtls_free(tf_dtls *d);

/* The facts gathered so far. */
const tf_dtls_facts *tf_dtls_facts_of(const tf_dtls *d);

/* Merges connection facts into a probe's (largest, any, most). */
void tf_dtls_facts_merge(tf_dtls_facts *into, const tf_dtls_facts *from);

#endif
