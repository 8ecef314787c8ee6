/*
 * resume.h -- session resumption: the second, resuming connection tlsfit
 * makes when the header under test defines TLSFIT_RESUME (a header from
 * `tlsfit gen --resume`; the verify client also takes --resume).  Shared by
 * the verify client (tool/verify/resume.c) and the measure firmware
 * (tool/firmware/tls_client.c); inline, so the firmware's image stays as small
 * as with its own copy.
 *
 * The sequence each side runs, with its own transport:
 *   1. tf_resume_conf() before the first handshake: session tickets on, and
 *      (3.6, TLS 1.3) mbedTLS signals each NewSessionTicket to the reader
 *      (mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets: without it
 *      3.6 discards TLS 1.3 tickets, ssl_msg.c "Ignoring NewSessionTicket").
 *   2. the full handshake and its proof (../proof/proof.h; the proof's reads
 *      take the first NewSessionTicket in their stride).
 *   3. tf_resume_await_ticket(): TLS 1.3 only, when no ticket arrived during
 *      the proof, reads until MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET,
 *      bounded by the proof's wait.
 *   4. tf_resume_save(): mbedtls_ssl_get_session(); TLSFIT_RESUME_NO_SESSION
 *      when the server gave nothing to resume with (no ticket, no session ID).
 *   5. close, connect again, mbedtls_ssl_session_reset(),
 *      mbedtls_ssl_set_session(), and the handshake stepped with
 *      tf_resume_note_state() before each step; then the proof again.
 *   6. tf_resume_accepted(): the server resumed the session.
 *
 * How acceptance is told (mbedTLS 3.6 has no public getter: the 2.x
 * mbedtls_ssl_session_reused() is gone, and ssl->handshake, which holds the
 * `resume` flag and TLS 1.3's selected key-exchange mode, is freed when the
 * handshake ends): the client's state machine skips the server's certificate
 * exactly when the server accepted the session.  TLS 1.2: ServerHello echoing
 * the offered session ID jumps to MBEDTLS_SSL_SERVER_CHANGE_CIPHER_SPEC
 * (3.6 library/ssl_tls12_client.c:1384; the ticket path offers a random
 * session ID and takes the same branch); TLS 1.3: a PSK key exchange jumps
 * from EncryptedExtensions to MBEDTLS_SSL_SERVER_FINISHED
 * (library/ssl_tls13_client.c:2272).  A full handshake always passes through
 * MBEDTLS_SSL_SERVER_CERTIFICATE.
 */
#ifndef TF_HARNESS_RESUME_H
#define TF_HARNESS_RESUME_H

#include <string.h>

#include "mbedtls/ssl.h"
#include "../proof/proof.h"
#include "../errors/errors.h"

/* A private field of an mbedTLS struct (3.x names them through MBEDTLS_PRIVATE). */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define TF_PRIV(field) MBEDTLS_PRIVATE(field)
#define TF_SSL_STATE(ssl) ((ssl)->MBEDTLS_PRIVATE(state))
#define TF_HANDSHAKE_OVER(ssl) mbedtls_ssl_is_handshake_over(ssl)
#else
#define TF_PRIV(field) field
#define TF_SSL_STATE(ssl) ((ssl)->state)
#define TF_HANDSHAKE_OVER(ssl) ((ssl)->state == MBEDTLS_SSL_HANDSHAKE_OVER)
#endif

/* 1 when this build can receive a TLS 1.3 ticket (and must be told to signal it). */
#if MBEDTLS_VERSION_NUMBER >= 0x03060000 && defined(MBEDTLS_SSL_SESSION_TICKETS) && \
    defined(MBEDTLS_SSL_PROTO_TLS1_3)
#define TF_RESUME_TLS13_TICKETS 1
#else
#define TF_RESUME_TLS13_TICKETS 0
#endif

/* Per connection: what the report carries for the full and the resumed one. */
struct tf_conn_figures {
    uint64_t handshake_ticks;   /* firmware: SysTick ticks in the handshake; host: 0 */
    size_t heap_peak;           /* firmware: peak bytes held; host: 0 (not counted) */
    unsigned long bytes_sent;
    unsigned long bytes_received;
};

struct tf_resume {
    mbedtls_ssl_session saved;  /* the full connection's session */
    const char *mode;           /* "tls12-session-id", "tls12-ticket", "tls13-ticket", NULL */
    int cert_state_seen;        /* the resuming handshake entered SERVER_CERTIFICATE */
    int tried;                  /* the resuming handshake ran to its end */
    struct tf_conn_figures full, resumed;
};

static inline void tf_resume_init(struct tf_resume *r)
{
    memset(r, 0, sizeof(*r));
    mbedtls_ssl_session_init(&r->saved);
}

static inline void tf_resume_free(struct tf_resume *r)
{
    mbedtls_ssl_session_free(&r->saved);
}

/* Step 1: tickets on, TLS 1.3 tickets signalled to the reader. */
static inline void tf_resume_conf(mbedtls_ssl_config *conf)
{
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    mbedtls_ssl_conf_session_tickets(conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
#endif
#if TF_RESUME_TLS13_TICKETS && MBEDTLS_VERSION_NUMBER < 0x04000000
    /* 4.x has no such switch: mbedtls_ssl_read() always returns
     * MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET (include/mbedtls/ssl.h:86 of 4.0.0;
     * the function is in none of its headers) */
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#endif
    (void) conf;
}

/* The ticket the current session holds, in bytes (0: none, or no ticket support). */
static inline size_t tf_resume_ticket_len(const mbedtls_ssl_context *ssl)
{
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    const mbedtls_ssl_session *s = ssl->TF_PRIV(session);
    return s != NULL ? s->TF_PRIV(ticket_len) : 0;
#else
    (void) ssl;
    return 0;
#endif
}

/* 1 when the session was negotiated in TLS 1.3. */
static inline int tf_resume_is_tls13(const mbedtls_ssl_context *ssl)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_ssl_get_version_number(ssl) == MBEDTLS_SSL_VERSION_TLS1_3;
#else
    (void) ssl;
    return 0;
#endif
}

/* Step 3: in TLS 1.3, reads until a NewSessionTicket arrived (or wait_ms passed,
   or the session ended); the connection must be non-blocking (the proof's io).
   Returns 1 when the session holds a ticket, else 0. */
static inline int tf_resume_await_ticket(mbedtls_ssl_context *ssl, const struct tf_proof_io *io,
                                         uint32_t wait_ms)
{
#if TF_RESUME_TLS13_TICKETS
    if (!tf_resume_is_tls13(ssl) || tf_resume_ticket_len(ssl) > 0)
        return tf_resume_ticket_len(ssl) > 0;
    uint64_t deadline = io->now(io->ctx) + (uint64_t) wait_ms * io->per_ms;
    for (;;) {
        unsigned char buf[32];
        int ret = mbedtls_ssl_read(ssl, buf, sizeof(buf));
        if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
            return 1;
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret > 0) {
            if (!mbedtls_ssl_check_pending(ssl) && !io->wait_input(io->ctx, deadline))
                return 0;
            continue;
        }
        return 0;       /* the session ended: nothing more will come */
    }
#else
    (void) io;
    (void) wait_ms;
    return tf_resume_ticket_len(ssl) > 0;
#endif
}

/* Step 4: keeps the session to resume; TF_OK, TLSFIT_RESUME_NO_SESSION (the server
   gave neither a ticket nor a session ID), or TF_ERR_FAILED with *ret. */
static inline int tf_resume_save(mbedtls_ssl_context *ssl, struct tf_resume *r, int *ret)
{
    size_t ticket = tf_resume_ticket_len(ssl);
    int tls13 = tf_resume_is_tls13(ssl);
    const mbedtls_ssl_session *s = ssl->TF_PRIV(session);
    if (s == NULL || (ticket == 0 && (tls13 || s->TF_PRIV(id_len) == 0)))
        return TLSFIT_RESUME_NO_SESSION;
    r->mode = tls13 ? "tls13-ticket" : ticket > 0 ? "tls12-ticket" : "tls12-session-id";
    *ret = mbedtls_ssl_get_session(ssl, &r->saved);
    return *ret == 0 ? TF_OK : TF_ERR_FAILED;
}

/* Step 5, before each mbedtls_ssl_handshake_step() of the resuming handshake. */
static inline void tf_resume_note_state(struct tf_resume *r, int state)
{
    if (state == MBEDTLS_SSL_SERVER_CERTIFICATE)
        r->cert_state_seen = 1;
}

/* Step 6: 1 when the server resumed the session (see the top of this file). */
static inline int tf_resume_accepted(const struct tf_resume *r)
{
    return r->tried && !r->cert_state_seen;
}

#endif
