/*
 * mbconn.h -- the socket and random generator under the steps that run
 * mbedTLS's own client (resume.c, psk.c) instead of their own hellos.
 *
 * A tf_mbconn is one connection over the prober's sockets (net.c: the
 * target's address, per-operation timeouts, the connection's deadline of
 * TF_CONN_DEADLINE_FACTOR x the read timeout) that keeps the first
 * TF_MBCONN_CAPTURE bytes each side sent, for steps that judge a handshake
 * by the bytes on the wire.  tf_mbconn_send/recv are mbedTLS BIO callbacks.
 */
#ifndef TF_MBCONN_H
#define TF_MBCONN_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "parse.h"

#define TF_MBCONN_CAPTURE 16384    /* bytes of each direction kept */

typedef struct {
    int fd;
    int timeout_ms;
    long long deadline_ms;
    uint8_t sent[TF_MBCONN_CAPTURE], got[TF_MBCONN_CAPTURE];
    size_t nsent, ngot;
    int server_seen;            /* UDP (mbdgram.c): the server answered an earlier connection */
} tf_mbconn;

/* Connects `c` to `t` (counted in t->connections).  0, or the net.c code. */
int tf_mbconn_open(tf_mbconn *c, tf_target *t);

/* Sets c's timeouts and deadline for a connection to t and empties its
   captures (no socket yet); tf_mbconn_open and mbdgram.h's open call it. */
void tf_mbconn_prepare(tf_mbconn *c, const tf_target *t);

/* Appends len bytes at src to a capture (dst holding *n), cut at
   TF_MBCONN_CAPTURE. */
void tf_mbconn_keep(uint8_t *dst, size_t *n, const unsigned char *src, size_t len);

/* How long a receive may wait: timeout_ms (0: the per-operation timeout),
   never past the connection's deadline; -1 when the deadline has passed. */
int tf_mbconn_wait_ms(const tf_mbconn *c, uint32_t timeout_ms);

/* Closes the socket (when open). */
void tf_mbconn_close(tf_mbconn *c);

/* mbedTLS BIO callbacks; ctx is a tf_mbconn. */
int tf_mbconn_send(void *ctx, const unsigned char *buf, size_t len);
int tf_mbconn_recv(void *ctx, unsigned char *buf, size_t len, uint32_t timeout_ms);

/*
 * The server's last ServerHello that is not a HelloRetryRequest, from the
 * plaintext handshake records at the start of `c->got` (the walk stops at the
 * first record of another type but ChangeCipherSpec), with its session ID.
 * -1 when none was seen whole (spanning records, cut by TF_MBCONN_CAPTURE,
 * malformed).
 */
int tf_mbconn_server_hello(const tf_mbconn *c, tf_server_hello *sh, const uint8_t **sid, size_t *sid_len);

/*
 * Runs ssl's handshake over c (the BIO set here).  0, or mbedTLS's error with
 * `why` holding "mbedTLS's handshake failed: -0xNNNN text".
 */
int tf_mbconn_handshake(tf_mbconn *c, void *ssl, char *why, size_t why_len);

/* mbedTLS's random generator for the prober's clients (mbedtls_ctr_drbg_random's
   context), seeded once with PSA started; NULL when that failed. */
void *tf_mbconn_rng(void);

#endif
