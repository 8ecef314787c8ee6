/*
 * proof.h -- the proof that the server accepted the session, after the
 * handshake.  Shared by the verify client (tool/verify/, POSIX sockets) and
 * the measure firmware (tool/firmware/tls_client.c, the UART), compiled with
 * the configuration under test against mbedTLS 3.6 or 2.28.
 *
 * Why: in TLS 1.3 the client's handshake is over when it has sent its
 * Finished, before the server has judged the client's flight (its
 * certificate, or the lack of one).  A server that rejects the client says so
 * afterwards, with an alert (e.g. certificate_required, 116) or by closing.
 * So a session counts as accepted only after one exchange:
 *
 *   1. TLS 1.3: the server's post-handshake flight -- a NewSessionTicket
 *      (accepted) or an alert (rejected) -- is read, waiting at most
 *      wait_ms for it to start (a server may send no ticket at all).
 *   2. by kind:
 *      TF_PROOF_NO_ALERT  nothing is sent; accepted when no alert and no
 *                         close came within wait_ms, or as soon as a whole
 *                         record that was not an alert arrived (in TLS 1.3
 *                         the NewSessionTickets of step 1, which a server
 *                         sends only once it has accepted the client's
 *                         flight);
 *      TF_PROOF_MQTT      an MQTT 3.1.1 CONNECT (client id "tlsfit", clean
 *                         session, keep-alive 60 s); accepted on a CONNACK
 *                         (20 02 flags code), whatever its return code;
 *      TF_PROOF_HTTP      "HEAD / HTTP/1.1" with Host: host; accepted on a
 *                         reply starting "HTTP/1.";
 *      TF_PROOF_BYTES     the caller's bytes (possibly none); accepted when
 *                         the reply starts with the expected bytes;
 *      TF_PROOF_COAP      (CoAP over DTLS, RFC 7252) a confirmable GET of
 *                         /.well-known/core; accepted on its piggybacked
 *                         response 2.05 Content (an ACK with the same
 *                         message ID).
 *      The reply may take reply_ms.
 *
 * The transport (struct tf_proof_io) must be non-blocking while the proof
 * runs: its receive callback returns MBEDTLS_ERR_SSL_WANT_READ when no byte
 * is waiting, and the proof waits through io->wait_input() instead.  Times
 * are in the transport's own units (io->per_ms of them to a millisecond), so
 * the firmware can count SysTick ticks without dividing.
 */
#ifndef TF_PROOF_H
#define TF_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/ssl.h"

enum tf_proof_kind {
    TF_PROOF_NO_ALERT = 0,
    TF_PROOF_MQTT = 1,
    TF_PROOF_HTTP = 2,
    TF_PROOF_BYTES = 3,
    TF_PROOF_COAP = 4,
};

/* The largest expected reply (TF_PROOF_BYTES) and the reply bytes kept. */
#define TF_PROOF_EXPECT_MAX 64
#define TF_PROOF_REPLY_MAX 96
/* The default of wait_ms: the no-alert window of issue 13. */
#define TF_PROOF_WAIT_MS 2000u

struct tf_proof_spec {
    enum tf_proof_kind kind;
    const unsigned char *send;      /* TF_PROOF_BYTES: what is sent (send_len may be 0) */
    size_t send_len;
    const unsigned char *expect;    /* TF_PROOF_BYTES: the reply's first bytes */
    size_t expect_len;              /* 1 .. TF_PROOF_EXPECT_MAX */
    const char *host;               /* TF_PROOF_HTTP: the Host header (the SNI name) */
    uint32_t wait_ms;               /* the post-handshake flight / no-alert window */
    uint32_t reply_ms;              /* how long the reply may take */
};

/* The transport's clock and wait; `ctx` is passed back to both. */
struct tf_proof_io {
    void *ctx;
    uint64_t per_ms;                                    /* clock units per millisecond */
    uint64_t (*now)(void *ctx);                         /* the clock */
    int (*wait_input)(void *ctx, uint64_t deadline);    /* 1 input waiting, 0 deadline passed */
    unsigned long (*received)(void *ctx);               /* bytes received so far */
};

/* How the proof ended (struct tf_proof_result.outcome). */
enum tf_proof_outcome {
    TF_PROOF_ACCEPTED_REPLY = 0,    /* the expected reply (CONNACK, status line, bytes) */
    TF_PROOF_ACCEPTED_FLIGHT,       /* no-alert: the server's TLS 1.3 flight, no alert */
    TF_PROOF_ACCEPTED_QUIET,        /* no-alert: nothing within wait_ms */
    TF_PROOF_ACCEPTED_DATA,         /* no-alert: the server sent application data */
    TF_PROOF_REJECTED_ALERT,        /* a fatal alert (alert) */
    TF_PROOF_REJECTED_CLOSE,        /* close_notify, or the connection closed / reset */
    TF_PROOF_FAILED_TIMEOUT,        /* no reply within reply_ms */
    TF_PROOF_FAILED_MISMATCH,       /* a reply, not the expected one */
    TF_PROOF_FAILED_ERROR,          /* another mbedTLS error (ret) */
};

struct tf_proof_result {
    enum tf_proof_outcome outcome;
    int ret;                /* the mbedTLS error that ended it, else 0 */
    int alert;              /* the fatal alert's description, else -1 */
    int flight;             /* 1: the server sent a post-handshake record that was not an alert */
    int mqtt_code;          /* the CONNACK return code, else -1 */
    size_t sent;            /* bytes of the proof message written */
    unsigned char reply[TF_PROOF_REPLY_MAX];    /* the reply's first bytes */
    size_t reply_len;
    uint64_t elapsed;       /* the proof's duration, in io units */
};

/* Runs the proof on a completed handshake; returns 0 when the server accepted
   the session, -1 otherwise (*r says how either way). */
int tf_proof_run(mbedtls_ssl_context *ssl, const struct tf_proof_spec *spec,
                 const struct tf_proof_io *io, struct tf_proof_result *r);

/* "mqtt-connack", "http", "no-alert", "send-expect", "coap-content": the proof's name in reports. */
const char *tf_proof_label(enum tf_proof_kind kind);

/* "accepted", "flight", "quiet", "data", "alert", "closed", "timeout",
   "mismatch", "error". */
const char *tf_proof_outcome_name(enum tf_proof_outcome outcome);

/* The fatal alert mbedTLS just reported (after MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE):
   its description, from the record mbedTLS holds. */
int tf_proof_alert_description(const mbedtls_ssl_context *ssl);

#endif
