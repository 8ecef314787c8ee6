/*
 * respond.c -- one connection of the replica: the handshake, then the proof
 * responder (the application's first exchange, as tool/proof/proof.c makes it).
 *
 *   MQTT  the client's CONNECT (fixed header 0x10, remaining length, body) is
 *         read whole, then CONNACK 20 02 00 00 (session not present,
 *         accepted) is sent; the session then runs until the client closes.
 *   HTTP  the request is read up to its blank line ("\r\n\r\n"), then
 *         "HTTP/1.1 200 OK" with an empty body and "Connection: close".
 *   CoAP  (DTLS: one record is one CoAP message, RFC 7252 section 9.1) a
 *         confirmable request (version 1, type CON, token of 0-8 bytes) gets
 *         the piggybacked ACK 2.05 Content with its message ID and token and
 *         the payload "</>" (a CoRE link to the root, what /.well-known/core
 *         lists); the session then runs until the client closes.
 *   none  nothing is sent; bytes are read and dropped until the client closes.
 *
 * Anything else the client sends first (an HTTP request to an MQTT replica,
 * say) closes the connection, as the real server would.  The buffer cursor
 * invariant: 0 <= used <= sizeof buf, and buf[0..used) is what was read.
 * A child lives at most CHILD_LIMIT seconds (alarm), whatever the client does.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "replay.h"

#define CHILD_LIMIT 120u

static const unsigned char CONNACK[4] = { 0x20, 0x02, 0x00, 0x00 };
static const char HTTP_OK[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/*
 * 1 when buf[0..used) holds a whole MQTT CONNECT, 0 when more is needed, -1
 * when it is not a CONNECT (or its remaining length is malformed).
 */
static int mqtt_connect_complete(const unsigned char *buf, size_t used)
{
    size_t len = 0, i;
    unsigned shift = 0;
    if (used == 0) return 0;
    if (buf[0] != 0x10) return -1;
    for (i = 1; i < used && i <= 4; i++) {
        len |= (size_t)(buf[i] & 0x7F) << shift;
        if (!(buf[i] & 0x80)) return used >= i + 1 + len ? 1 : 0;
        shift += 7;
    }
    return i > 4 ? -1 : 0;
}

/* 1 when buf[0..used) holds an HTTP request head, 0 more needed, -1 not HTTP. */
static int http_head_complete(const unsigned char *buf, size_t used)
{
    size_t i;
    if (used > 0 && (buf[0] < 'A' || buf[0] > 'Z')) return -1;
    for (i = 3; i < used; i++)
        if (memcmp(buf + i - 3, "\r\n\r\n", 4) == 0) return 1;
    return 0;
}

static int write_all(SSL *ssl, const void *data, int len)
{
    return SSL_write(ssl, data, len) == len ? 0 : -1;
}

/* The CoAP answer to the request buf[0..used): its length in out, -1 not a CON request. */
static int coap_answer(const unsigned char *buf, size_t used, unsigned char *out)
{
    static const unsigned char payload[] = { 0xFF, '<', '/', '>' };
    size_t tkl;
    if (used < 4 || (buf[0] & 0xF0) != 0x40 || (buf[0] & 0x0F) > 8 || buf[1] == 0 ||
        buf[1] > 0x1F)
        return -1;                                  /* ver 1 CON, token <= 8, a method code */
    tkl = buf[0] & 0x0F;
    if (used < 4 + tkl) return -1;
    out[0] = (unsigned char)(0x60 | tkl);           /* ver 1, ACK */
    out[1] = 0x45;                                  /* 2.05 Content */
    memcpy(out + 2, buf + 2, 2 + tkl);              /* message ID, token */
    memcpy(out + 4 + tkl, payload, sizeof payload);
    return (int)(4 + tkl + sizeof payload);
}

static int respond_coap(SSL *ssl)
{
    unsigned char buf[2048], out[16];
    int n = SSL_read(ssl, buf, (int)sizeof buf), len;
    if (n <= 0 || (len = coap_answer(buf, (size_t)n, out)) < 0) return 1;
    if (write_all(ssl, out, len) != 0) return 1;
    while (SSL_read(ssl, buf, (int)sizeof buf) > 0) { /* until the client closes */ }
    return 0;
}

/* Reads until the request of `proof` is whole, answers it, then drains. */
static int respond(SSL *ssl, enum tf_replay_proof proof)
{
    unsigned char buf[8192];
    size_t used = 0;
    int state = 0;
    if (proof == TF_REPLAY_PROOF_COAP) return respond_coap(ssl);
    while (state == 0 && used < sizeof buf) {
        int n = SSL_read(ssl, buf + used, (int)(sizeof buf - used));
        if (n <= 0) return proof == TF_REPLAY_PROOF_NONE ? 0 : 1;
        used += (size_t)n;
        if (proof == TF_REPLAY_PROOF_MQTT) state = mqtt_connect_complete(buf, used);
        else if (proof == TF_REPLAY_PROOF_HTTP) state = http_head_complete(buf, used);
        else used = 0;                                  /* none: drop and go on */
    }
    if (state != 1) return 1;
    if (proof == TF_REPLAY_PROOF_MQTT) {
        if (write_all(ssl, CONNACK, (int)sizeof CONNACK) != 0) return 1;
        while (SSL_read(ssl, buf, (int)sizeof buf) > 0) { /* until DISCONNECT / close */ }
        return 0;
    }
    return write_all(ssl, HTTP_OK, (int)(sizeof HTTP_OK - 1));
}

int tf_replay_serve_ssl(SSL *ssl, int fd, enum tf_replay_proof proof)
{
    int rc = 1;
    alarm(CHILD_LIMIT);
    if (SSL_accept(ssl) == 1) {
        rc = respond(ssl, proof);
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    close(fd);
    return rc;
}

int tf_replay_serve(SSL_CTX *ctx, int fd, enum tf_replay_proof proof)
{
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        close(fd);
        return 1;
    }
    return tf_replay_serve_ssl(ssl, fd, proof);
}
