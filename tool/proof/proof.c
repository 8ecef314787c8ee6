/* proof.c -- the post-handshake proof of acceptance (proof.h). */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS    /* 3.x: in_msg / in_left, the alert and a partial record */

#include "proof.h"

#include <string.h>

#include "mbedtls/version.h"
#include "mbedtls/ssl.h"

#ifndef MBEDTLS_PRIVATE
#define MBEDTLS_PRIVATE(member) member      /* 2.28: the fields are public */
#endif
#ifndef MBEDTLS_ERR_NET_CONN_RESET
#define MBEDTLS_ERR_NET_CONN_RESET -0x0050
#endif

/* MQTT 3.1.1 CONNECT: remaining length 18; "MQTT", level 4, flags 0x02 (clean
   session), keep-alive 60 s; payload: client id "tlsfit". */
static const unsigned char mqtt_connect[] = {
    0x10, 0x12, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3C,
    0x00, 0x06, 't', 'l', 's', 'f', 'i', 't',
};
/* A CONNACK starts 20 02 (type 2, remaining length 2); then flags and the code. */
static const unsigned char connack_prefix[] = { 0x20, 0x02 };
static const char http_prefix[] = "HTTP/1.";
/* CoAP (RFC 7252 section 3): version 1, confirmable, no token; GET; message ID 0x7F5A;
   Uri-Path ".well-known" (option 11) and "core".  Its piggybacked answer starts:
   version 1, ACK, no token; 2.05 Content (0x45); the same message ID. */
static const unsigned char coap_get[] = {
    0x40, 0x01, 0x7F, 0x5A, 0xBB, '.', 'w', 'e', 'l', 'l', '-', 'k', 'n', 'o', 'w', 'n',
    0x04, 'c', 'o', 'r', 'e',
};
static const unsigned char coap_content[] = { 0x60, 0x45, 0x7F, 0x5A };
#define HTTP_HOST_MAX 255
#define MESSAGE_MAX (HTTP_HOST_MAX + 64)

const char *tf_proof_label(enum tf_proof_kind kind)
{
    switch (kind) {
        case TF_PROOF_MQTT: return "mqtt-connack";
        case TF_PROOF_HTTP: return "http";
        case TF_PROOF_BYTES: return "send-expect";
        case TF_PROOF_COAP: return "coap-content";
        default: return "no-alert";
    }
}

const char *tf_proof_outcome_name(enum tf_proof_outcome outcome)
{
    static const char *const names[] = {
        "accepted", "flight", "quiet", "data", "alert", "closed", "timeout", "mismatch", "error",
    };
    return (size_t) outcome < sizeof(names) / sizeof(names[0]) ? names[outcome] : "error";
}

int tf_proof_alert_description(const mbedtls_ssl_context *ssl)
{
    if (ssl->MBEDTLS_PRIVATE(in_msg) == NULL ||
        ssl->MBEDTLS_PRIVATE(in_msgtype) != MBEDTLS_SSL_MSG_ALERT ||
        ssl->MBEDTLS_PRIVATE(in_msglen) < 2) {
        return -1;
    }
    return ssl->MBEDTLS_PRIVATE(in_msg)[1];
}

static int is_tls13(const mbedtls_ssl_context *ssl)
{
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    return mbedtls_ssl_get_version_number(ssl) == MBEDTLS_SSL_VERSION_TLS1_3;
#else
    (void) ssl;
    return 0;
#endif
}

static int accepted(enum tf_proof_outcome o)
{
    return o <= TF_PROOF_ACCEPTED_DATA;
}

/* Ends the proof with outcome o and mbedTLS code ret; returns -1. */
static int end(struct tf_proof_result *r, enum tf_proof_outcome o, int ret)
{
    r->outcome = o;
    r->ret = ret;
    return -1;
}

/* One mbedtls_ssl_read(): > 0 application bytes (the first ones kept in
   r->reply), 0 nothing more now (WANT_READ, a NewSessionTicket), -1 the
   session ended (r says how). */
static int read_some(mbedtls_ssl_context *ssl, struct tf_proof_result *r)
{
    unsigned char buf[64];
    int ret = mbedtls_ssl_read(ssl, buf, sizeof(buf));
    if (ret > 0) {
        size_t room = sizeof(r->reply) - r->reply_len;
        size_t n = (size_t) ret < room ? (size_t) ret : room;
        memcpy(r->reply + r->reply_len, buf, n);
        r->reply_len += n;
        return ret;
    }
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
    if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
        r->flight = 1;
        return 0;
    }
#endif
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        return 0;
    }
    if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        r->alert = tf_proof_alert_description(ssl);
        return end(r, TF_PROOF_REJECTED_ALERT, ret);
    }
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == MBEDTLS_ERR_NET_CONN_RESET) {
        return end(r, TF_PROOF_REJECTED_CLOSE, ret);    /* 0: the connection closed */
    }
    return end(r, TF_PROOF_FAILED_ERROR, ret);
}

/* Waits for more input unless mbedTLS already holds some; 0 at the deadline. */
static int wait_more(mbedtls_ssl_context *ssl, const struct tf_proof_io *io, uint64_t deadline)
{
    return mbedtls_ssl_check_pending(ssl) || io->wait_input(io->ctx, deadline);
}

/* Step 1 (and all of TF_PROOF_NO_ALERT): reads what the server sends after the
   handshake until its flight has arrived (a whole record that was not an
   alert) or the deadline.  0 to go on, -1 rejected or failed. */
static int await_flight(mbedtls_ssl_context *ssl, const struct tf_proof_spec *spec,
                        const struct tf_proof_io *io, struct tf_proof_result *r,
                        uint64_t deadline)
{
    unsigned long before = io->received(io->ctx);
    int no_alert = spec->kind == TF_PROOF_NO_ALERT;
    for (;;) {
        int n = read_some(ssl, r);
        if (n < 0) {
            return -1;
        }
        if (n > 0 && no_alert) {
            r->outcome = TF_PROOF_ACCEPTED_DATA;
            return 0;
        }
        if (io->received(io->ctx) != before && ssl->MBEDTLS_PRIVATE(in_left) == 0) {
            r->flight = 1;      /* whole records, none an alert: tickets (TLS 1.3) */
        }
        if (r->flight || n > 0) {
            r->outcome = TF_PROOF_ACCEPTED_FLIGHT;
            return 0;
        }
        if (!wait_more(ssl, io, deadline)) {
            r->outcome = TF_PROOF_ACCEPTED_QUIET;
            return 0;
        }
    }
}

/* The message of the proof into buf (MESSAGE_MAX bytes); returns its length. */
static size_t message(const struct tf_proof_spec *spec, unsigned char *buf,
                      const unsigned char **out)
{
    if (spec->kind == TF_PROOF_MQTT) {
        *out = mqtt_connect;
        return sizeof(mqtt_connect);
    }
    if (spec->kind == TF_PROOF_BYTES) {
        *out = spec->send;
        return spec->send_len;
    }
    if (spec->kind == TF_PROOF_COAP) {
        *out = coap_get;
        return sizeof(coap_get);
    }
    size_t host_len = spec->host != NULL ? strlen(spec->host) : 0;
    if (host_len > HTTP_HOST_MAX) {
        host_len = HTTP_HOST_MAX;
    }
    size_t n = 0;
    memcpy(buf, "HEAD / HTTP/1.1\r\nHost: ", 23);
    n += 23;
    if (host_len > 0) {
        memcpy(buf + n, spec->host, host_len);
        n += host_len;
    }
    memcpy(buf + n, "\r\nConnection: close\r\n\r\n", 23);
    n += 23;
    *out = buf;
    return n;
}

/* Step 2: writes the message.  0 written, -1 failed (a waiting alert named). */
static int send_message(mbedtls_ssl_context *ssl, const struct tf_proof_spec *spec,
                        struct tf_proof_result *r)
{
    unsigned char buf[MESSAGE_MAX];
    const unsigned char *msg;
    size_t len = message(spec, buf, &msg);
    while (r->sent < len) {
        int ret = mbedtls_ssl_write(ssl, msg + r->sent, len - r->sent);
        if (ret > 0) {
            r->sent += (size_t) ret;
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
        } else if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
            r->flight = 1;      /* a later ticket, signalled (session resumption) */
#endif
        } else if (ret != MBEDTLS_ERR_SSL_WANT_WRITE && ret != MBEDTLS_ERR_SSL_WANT_READ) {
            /* The server may have said why before it hung up. */
            if (read_some(ssl, r) < 0 && r->outcome == TF_PROOF_REJECTED_ALERT) {
                return -1;
            }
            return end(r, ret == MBEDTLS_ERR_NET_CONN_RESET ? TF_PROOF_REJECTED_CLOSE
                                                            : TF_PROOF_FAILED_ERROR, ret);
        }
    }
    return 0;
}

/* Compares the reply so far with the expected prefix: -1 differs, 0 matches so far. */
static int prefix(const struct tf_proof_result *r, const unsigned char *want, size_t want_len)
{
    size_t n = r->reply_len < want_len ? r->reply_len : want_len;
    return memcmp(r->reply, want, n) == 0 ? 0 : -1;
}

/* The reply so far: 1 the expected one, -1 not it, 0 too short to tell. */
static int judge(const struct tf_proof_spec *spec, struct tf_proof_result *r)
{
    switch (spec->kind) {
        case TF_PROOF_MQTT:
            if (prefix(r, connack_prefix, sizeof(connack_prefix)) != 0) {
                return -1;
            }
            if (r->reply_len < 4) {
                return 0;
            }
            r->mqtt_code = r->reply[3];
            return 1;
        case TF_PROOF_COAP:
            if (prefix(r, coap_content, sizeof(coap_content)) != 0) {
                return -1;
            }
            return r->reply_len >= sizeof(coap_content) ? 1 : 0;
        case TF_PROOF_HTTP:
            if (prefix(r, (const unsigned char *) http_prefix, sizeof(http_prefix) - 1) != 0) {
                return -1;
            }
            if (r->reply_len == sizeof(r->reply) ||
                memchr(r->reply, '\n', r->reply_len) != NULL) {
                return 1;
            }
            return 0;
        default:
            if (prefix(r, spec->expect, spec->expect_len) != 0) {
                return -1;
            }
            return r->reply_len >= spec->expect_len ? 1 : 0;
    }
}

/* Step 3: reads until the reply can be judged, the session ends or the deadline. */
static void await_reply(mbedtls_ssl_context *ssl, const struct tf_proof_spec *spec,
                        const struct tf_proof_io *io, struct tf_proof_result *r,
                        uint64_t deadline)
{
    for (;;) {
        int verdict = judge(spec, r);
        if (verdict != 0) {
            r->outcome = verdict > 0 ? TF_PROOF_ACCEPTED_REPLY : TF_PROOF_FAILED_MISMATCH;
            return;
        }
        int n = read_some(ssl, r);
        if (n < 0) {
            return;
        }
        if (n == 0 && !wait_more(ssl, io, deadline)) {
            r->outcome = TF_PROOF_FAILED_TIMEOUT;
            return;
        }
    }
}

int tf_proof_run(mbedtls_ssl_context *ssl, const struct tf_proof_spec *spec,
                 const struct tf_proof_io *io, struct tf_proof_result *r)
{
    memset(r, 0, sizeof(*r));
    r->alert = -1;
    r->mqtt_code = -1;
    uint64_t t0 = io->now(io->ctx);
    int no_alert = spec->kind == TF_PROOF_NO_ALERT;
    if (no_alert || is_tls13(ssl)) {
        if (await_flight(ssl, spec, io, r, t0 + (uint64_t) spec->wait_ms * io->per_ms) != 0 ||
            no_alert) {
            goto done;
        }
    }
    if (send_message(ssl, spec, r) != 0) {
        goto done;
    }
    await_reply(ssl, spec, io, r, io->now(io->ctx) + (uint64_t) spec->reply_ms * io->per_ms);
done:
    r->elapsed = io->now(io->ctx) - t0;
    return accepted(r->outcome) ? 0 : -1;
}
