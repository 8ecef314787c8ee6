/*
 * session.c -- one probe connection (see session.h).
 *
 * Implementation notes
 * --------------------
 * run() owns the connection `c` and, for TLS 1.3 flights, the key exchange
 * `kex`; both are released at its single cleanup label.  The hello bytes
 * live in `hello[0..hello_len)`; the ClientHello message is hello + 5 (the
 * TLS 1.3 transcript needs it).  Reading proceeds message by message with
 * tf_conn_handshake(); read_12() and read_13() stop as soon as `until` is
 * satisfied, so enumeration connections cost the server as little as
 * possible.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "record.h"
#include "session.h"
#include "tables.h"
#include "tls13.h"

#define HELLO_CAP 4096

static int fail(tf_sess *s, int err, const char *detail)
{
    s->outcome = TF_SESS_ERROR;
    s->err = err;
    snprintf(s->detail, sizeof(s->detail), "%s", detail);
    return err;
}

static int keep_copy(uint8_t **dst, size_t *dst_len, const uint8_t *msg, size_t len)
{
    free(*dst);
    *dst = malloc(len);
    if (!*dst) return TF_ERR_NOMEM;
    memcpy(*dst, msg, len);
    *dst_len = len;
    return TF_OK;
}

/* Classifies a failed read: alert or close-before-any-answer = refusal. */
static void read_failed(tf_sess *s, tf_conn *c, int rc, int answered)
{
    if (rc == TF_CONN_ALERT) {
        s->outcome = TF_SESS_REFUSED;
        s->alert = c->alert_desc;
        snprintf(s->detail, sizeof(s->detail), "%s", c->detail);
        return;
    }
    if (rc == TF_ERR_CLOSED && !answered && c->records == 0) {
        s->outcome = TF_SESS_REFUSED;
        s->err = rc;
        snprintf(s->detail, sizeof(s->detail), "%s", c->detail);
        return;
    }
    fail(s, rc, c->detail[0] ? c->detail : tf_err_comment(rc));
}

/*
 * A DTLS server that has answered a hello with a ServerHello before, sent a
 * HelloVerifyRequest now, and then nothing for the hello with its cookie (or
 * its retransmissions) within --timeout: it refused the offer without an
 * alert, as gnutls-serv --udp does with every handshake that fails (it ends
 * the session and answers nothing).  A server sends the HelloVerifyRequest
 * only when it is free to serve, so the silence is no busy server.  The
 * TCP twin is a close before any record (read_failed).
 */
static void silent_refusal(tf_sess *s, tf_conn *c)
{
    s->outcome = TF_SESS_REFUSED;
    s->err = TF_ERR_DTLS_COOKIE;
    snprintf(s->detail, sizeof(s->detail), "refused without an alert: %s", c->detail);
}

/* TLS <= 1.2: after the ServerHello, read up to ServerKeyExchange or the
   whole flight. */
static int read_12(tf_sess *s, tf_conn *c, tf_until until)
{
    const uint8_t *msg;
    size_t len;
    const tf_suite *suite = tf_suite_find(s->suite);
    int rc;

    for (;;) {
        rc = tf_conn_handshake(c, &msg, &len);
        if (rc) return rc;
        switch (msg[0]) {
        case TF_HS_CERTIFICATE:
            if ((rc = keep_copy(&s->cert_msg, &s->cert_msg_len, msg, len))) return rc;
            break;
        case TF_HS_SERVER_KEY_EXCHANGE: {
            tf_ske ske;
            if (!suite || tf_parse_ske(msg, len, suite->kx, s->version, &ske) != 0) {
                snprintf(c->detail, sizeof(c->detail), "malformed ServerKeyExchange");
                return TF_ERR_MALFORMED;
            }
            s->group = ske.curve;
            s->dh_bits = ske.dh_bits;
            s->sigalg = ske.sigalg;
            if (until == TF_UNTIL_SKE) return TF_OK;
            break;
        }
        case TF_HS_CERTIFICATE_REQUEST:
            s->certreq_seen = 1;
            if ((rc = keep_copy(&s->certreq_msg, &s->certreq_msg_len, msg, len))) return rc;
            break;
        case TF_HS_SERVER_HELLO_DONE:
            s->flight_complete = 1;
            return TF_OK;
        case TF_HS_CERTIFICATE_STATUS:
            break;
        default:
            snprintf(c->detail, sizeof(c->detail), "unexpected handshake message %u in a TLS 1.2 flight", msg[0]);
            return TF_ERR_MALFORMED;
        }
    }
}

int tf_sess_check_group(const tf_hello *h, const tf_server_hello *sh, char *detail, size_t detail_len)
{
    size_t i;
    if (!sh->hrr) {
        if (sh->ks_group == h->key_share_group) return 0;
        if (h->key_share_group)
            snprintf(detail, detail_len, "the server's key share is for group 0x%04X, not 0x%04X, the group "
                     "of the client's share", sh->ks_group, h->key_share_group);
        else
            snprintf(detail, detail_len, "the server sent a key share (group 0x%04X) for an empty key_share",
                     sh->ks_group);
        return TF_ERR_MALFORMED;
    }
    if (sh->ks_group == 0) return 0;           /* an HRR for a cookie only */
    if (sh->ks_group == h->key_share_group && h->key_share_group) {
        snprintf(detail, detail_len, "the HelloRetryRequest selects group 0x%04X, the group the client "
                 "already sent a share for", sh->ks_group);
        return TF_ERR_MALFORMED;
    }
    for (i = 0; i < h->ngroups; i++)
        if (h->groups[i] == sh->ks_group) return 0;
    snprintf(detail, detail_len, "the HelloRetryRequest selects group 0x%04X, which the client did not "
             "offer", sh->ks_group);
    return TF_ERR_MALFORMED;
}

/* TLS 1.3: installs handshake keys, then decrypts up to CertificateVerify. */
static int read_13(tf_sess *s, tf_conn *c, tf_kex *kex, const tf_hello *h, const uint8_t *ch, size_t ch_len,
                   const uint8_t *shmsg, size_t sh_len)
{
    uint8_t secret[160];
    size_t secret_len;
    const uint8_t *msg;
    size_t len;
    tf_tls13 *t = NULL;
    int rc;

    /* s->group is a copy of s->sh.ks_group: the check is against the client's share */
    rc = tf_sess_check_group(h, &s->sh, c->detail, sizeof(c->detail));
    if (rc) return rc;
    if (!s->sh.ks_key ||
        tf_kex_compute(kex, s->sh.ks_key, s->sh.ks_len, secret, sizeof(secret), &secret_len) != 0) {
        snprintf(c->detail, sizeof(c->detail), "the server's key share could not be used");
        return TF_ERR_CRYPTO;
    }
    if (tf_tls13_new(&t, s->suite) != 0) {
        snprintf(c->detail, sizeof(c->detail), "cannot decrypt suite 0x%04X", s->suite);
        return TF_ERR_CRYPTO;
    }
    tf_tls13_transcript(t, ch, ch_len);
    tf_tls13_transcript(t, shmsg, sh_len);
    if (tf_tls13_handshake_keys(t, secret, secret_len) != 0) {
        tf_tls13_free(t);
        snprintf(c->detail, sizeof(c->detail), "TLS 1.3 key schedule failed");
        return TF_ERR_CRYPTO;
    }
    tf_conn_protect(c, t);
    for (;;) {
        rc = tf_conn_handshake(c, &msg, &len);
        if (rc) return rc;
        switch (msg[0]) {
        case TF_HS_ENCRYPTED_EXTENSIONS:
            if (tf_parse_encrypted_extensions(msg, len, &s->ext) != 0) {
                snprintf(c->detail, sizeof(c->detail), "malformed EncryptedExtensions");
                return TF_ERR_MALFORMED;
            }
            break;
        case TF_HS_CERTIFICATE_REQUEST:
            s->certreq_seen = 1;
            if ((rc = keep_copy(&s->certreq_msg, &s->certreq_msg_len, msg, len))) return rc;
            break;
        case TF_HS_CERTIFICATE:
            if ((rc = keep_copy(&s->cert_msg, &s->cert_msg_len, msg, len))) return rc;
            break;
        case TF_HS_CERTIFICATE_VERIFY:
            if (tf_parse_cert_verify(msg, len, &s->sigalg) != 0) {
                snprintf(c->detail, sizeof(c->detail), "malformed CertificateVerify");
                return TF_ERR_MALFORMED;
            }
            s->flight_complete = 1;
            return TF_OK;
        case TF_HS_FINISHED:            /* PSK-only server: no certificate */
            s->flight_complete = 1;
            return TF_OK;
        default:
            snprintf(c->detail, sizeof(c->detail), "unexpected handshake message %u in a TLS 1.3 flight", msg[0]);
            return TF_ERR_MALFORMED;
        }
    }
}

static void copy_facts(tf_sess *s, const tf_conn *c)
{
    s->saw_tls = c->saw_tls;
    s->max_record_len = c->max_record_len;
    s->max_plain_len = c->max_plain_len;
    s->max_hs_len = c->max_hs_len;
    if (c->dtls) s->dtls = *tf_dtls_facts_of(c->dtls);
}

/* Sends the hello; for 1.3 flights first makes the key share. */
static int send_hello(tf_conn *c, const tf_hello *h0, tf_until until, tf_kex **kex,
                      uint8_t *hello, size_t *hello_len)
{
    tf_hello h = *h0;
    uint8_t share[160];
    size_t share_len = 0;
    int rc;

    if (h.version == 0x0304 && until == TF_UNTIL_FLIGHT) {
        rc = tf_kex_generate(kex, h.key_share_group, share, sizeof(share), &share_len);
        if (rc) { snprintf(c->detail, sizeof(c->detail), "cannot make a key share"); return rc; }
        h.key_share = share;
        h.key_share_len = share_len;
    } else if (h.version == 0x0304) {
        h.key_share_group = 0;          /* empty key_share: the server answers with an HRR */
    }
    rc = tf_hello_build(&h, hello, HELLO_CAP, hello_len);
    if (rc) { snprintf(c->detail, sizeof(c->detail), "ClientHello too large"); return rc; }
    return tf_conn_send(c, hello, *hello_len);
}

static void take_server_hello(tf_sess *s, const tf_server_hello *sh)
{
    s->sh = *sh;
    s->version = sh->version;
    s->suite = sh->suite;
    s->group = sh->ks_group;
    s->ext = sh->ext;
    s->outcome = sh->hrr ? TF_SESS_HRR : TF_SESS_HELLO;
}

tf_sess_outcome tf_session_run(tf_target *t, const tf_hello *h, tf_until until, tf_sess *s)
{
    tf_conn c;
    tf_kex *kex = NULL;
    uint8_t *hello = NULL;
    size_t hello_len = 0, len;
    const uint8_t *msg;
    tf_server_hello sh;
    int fd = -1, rc;

    memset(s, 0, sizeof(*s));
    s->alert = -1;
    rc = t->dtls ? tf_net_connect_udp(t, &fd) : tf_net_connect(t, &fd);
    if (rc) {
        fail(s, rc, rc == TF_ERR_REFUSED ? "connection refused" : rc == TF_ERR_TIMEOUT ?
             "connect timed out" : "connection failed");
        return s->outcome;
    }
    tf_conn_init(&c, fd, t->timeout_ms);
    if (t->dtls && !(c.dtls = tf_dtls_new())) { fail(s, TF_ERR_NOMEM, "out of memory"); goto cleanup; }
    if (c.dtls && t->udp_answered) tf_dtls_server_seen(c.dtls);
    c.deadline_ms = tf_now_ms() + (long long)TF_CONN_DEADLINE_FACTOR * t->timeout_ms;
    hello = malloc(HELLO_CAP);
    if (!hello) { fail(s, TF_ERR_NOMEM, "out of memory"); goto cleanup; }
    rc = send_hello(&c, h, until, &kex, hello, &hello_len);
    if (rc) { fail(s, rc, c.detail); goto cleanup; }

    rc = tf_conn_handshake(&c, &msg, &len);
    if (rc == TF_ERR_DTLS_COOKIE && t->udp_handshook) { silent_refusal(s, &c); goto cleanup; }
    if (rc) { read_failed(s, &c, rc, 0); goto cleanup; }
    if (msg[0] != TF_HS_SERVER_HELLO || tf_parse_server_hello(msg, len, &sh) != 0) {
        fail(s, TF_ERR_MALFORMED, msg[0] != TF_HS_SERVER_HELLO ? "the first handshake message is not a ServerHello"
                                                               : "malformed ServerHello");
        goto cleanup;
    }
    take_server_hello(s, &sh);
    if (t->dtls) t->udp_handshook = 1;
    if (sh.hrr) {
        tf_hello sent = *h;             /* the key share send_hello really sent */
        if (!(h->version == 0x0304 && until == TF_UNTIL_FLIGHT)) sent.key_share_group = 0;
        if (tf_sess_check_group(&sent, &sh, c.detail, sizeof(c.detail))) {
            fail(s, TF_ERR_MALFORMED, c.detail);
            goto cleanup;
        }
    }
    if (s->outcome == TF_SESS_HRR || until == TF_UNTIL_HELLO) goto cleanup;
    if (s->version == 0x0304)
        rc = kex ? read_13(s, &c, kex, h, hello + 5, hello_len - 5, msg, len) : TF_OK;
    else
        rc = read_12(s, &c, until);
    if (rc) read_failed(s, &c, rc, 1);

cleanup:
    copy_facts(s, &c);
    if (c.dtls && tf_dtls_facts_of(c.dtls)->max_datagram) t->udp_answered = 1;
    if (kex) tf_kex_free(kex);
    free(hello);
    tf_conn_free(&c);
    return s->outcome;
}

void tf_sess_free(tf_sess *s)
{
    free(s->cert_msg);
    free(s->certreq_msg);
    s->cert_msg = s->certreq_msg = NULL;
}
