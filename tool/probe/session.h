/*
 * session.h -- one probe connection: send one ClientHello, read as much of
 * the server's answer as the caller needs, close.
 *
 * Outcomes are typed: TF_SESS_HELLO (the server answered with a ServerHello
 * for the offer), TF_SESS_HRR (a TLS 1.3 HelloRetryRequest), TF_SESS_REFUSED
 * (an alert, or a close without answer after the hello: the offer was not
 * accepted) or TF_SESS_ERROR (timeouts, garbage, ...: `err` and `detail` say
 * which).  The caller decides what a refusal means for its step.
 */
#ifndef TF_SESSION_H
#define TF_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "dtls.h"
#include "hello.h"
#include "net.h"
#include "parse.h"

typedef enum {
    TF_UNTIL_HELLO,    /* stop after ServerHello */
    TF_UNTIL_SKE,      /* TLS <= 1.2: stop after ServerKeyExchange (or ServerHelloDone) */
    TF_UNTIL_FLIGHT    /* whole server flight: ServerHelloDone, or TLS 1.3 CertificateVerify */
} tf_until;

typedef enum { TF_SESS_HELLO, TF_SESS_HRR, TF_SESS_REFUSED, TF_SESS_ERROR } tf_sess_outcome;

typedef struct {
    tf_sess_outcome outcome;
    int err;                    /* errors.h code when TF_SESS_ERROR (also set for a refusal by close) */
    char detail[160];
    int alert;                  /* alert description when refused by alert, -1 otherwise */
    int saw_tls;                /* the peer sent at least one well-formed record */

    tf_server_hello sh;         /* key fields copied out; pointers not valid */
    uint16_t version, suite, group, sigalg;  /* negotiated; group: SKE curve or 1.3 share group */
    unsigned dh_bits;
    tf_server_exts ext;         /* ServerHello + EncryptedExtensions */

    uint8_t *cert_msg;          /* malloc'd copy of the Certificate message, NULL if not read */
    size_t cert_msg_len;
    int certreq_seen;
    uint8_t *certreq_msg;       /* malloc'd copy of CertificateRequest, NULL if none */
    size_t certreq_msg_len;
    int flight_complete;        /* read through ServerHelloDone / CertificateVerify */

    size_t max_record_len, max_plain_len, max_hs_len;
    tf_dtls_facts dtls;         /* DTLS connections only (dtls.h) */
} tf_sess;

/*
 * Runs one connection.  For a TLS 1.3 offer with until == TF_UNTIL_FLIGHT,
 * h->key_share_group must name a group tf_kex_supported(); the key share is
 * generated here.  Returns the outcome (also in s->outcome).  Free with
 * tf_sess_free.
 */
tf_sess_outcome tf_session_run(tf_target *t, const tf_hello *h, tf_until until, tf_sess *s);

void tf_sess_free(tf_sess *s);

/*
 * RFC 8446 4.2.8, the group of a TLS 1.3 answer to hello `h`: a ServerHello's
 * key share is in the group of the client's share (h->key_share_group; the
 * prober sends one); a HelloRetryRequest selects a group of supported_groups
 * (h->groups) other than the one the client shared.  0 when it keeps to that,
 * else TF_ERR_MALFORMED with `detail` saying which group was wrong.
 */
int tf_sess_check_group(const tf_hello *h, const tf_server_hello *sh, char *detail, size_t detail_len);

#endif
