/*
 * dtls.c -- the prober's DTLS 1.2 transport (see dtls.h, dtls_conn.h).
 *
 * Implementation notes
 * --------------------
 * Reading position (between calls of tf_dtls_handshake):
 *   dg[0..dg_len)   the datagram being read; records before dg_at are done.
 *   rec, rec_active the record being read when rec_active (a handshake
 *                   record of epoch 0); its fragments before rec_at are done.
 *   as              the message being reassembled (dtls_frag.h invariants);
 *                   once complete it is returned and stays until the next
 *                   call, which resets it first.
 *   next_seq        the server's message_seq expected next; -1 until a
 *                   ServerHello's first fragment names it (the server's
 *                   numbering starts at 0, or 1 after a cookie exchange).
 * Fragments of other messages are dropped: older ones are retransmissions,
 * later ones come again when the server retransmits its flight.
 *
 * Sending: ch[0..ch_len) is the ClientHello body from client_version on, as
 * hello.c built it (TLS form, no cookie); every send writes it anew with
 * the current cookie, the hello's message_seq (0, then 1 after a
 * HelloVerifyRequest, RFC 6347 4.2.2) and the next record sequence number.
 * While no datagram comes, the hello is sent again after TF_DTLS_RETRANSMIT_MS,
 * doubled each time, until --timeout has passed without an answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_conn.h"
#include "dtls_frag.h"
#include "errors.h"
#include "inner.h"
#include "net.h"
#include "parse.h"

#define HS_HELLO_VERIFY_REQUEST 3
#define HELLO_MAX 4096

struct tf_dtls {
    tf_dtls_facts facts;
    uint8_t ch[HELLO_MAX];
    size_t ch_len;
    uint8_t cookie[255];
    size_t cookie_len;
    uint16_t ch_seq;
    uint64_t send_seq;
    int next_seq;
    int retransmit_ms;
    unsigned datagrams;         /* datagrams received */
    int server_seen;            /* tf_dtls_server_seen: unreachable may be momentary */
    unsigned msg_first_dg;      /* datagram the held message's first fragment came in */
    int msg_across;
    tf_drec rec;
    int rec_active;
    size_t rec_at;
    tf_dasm as;
    size_t dg_len, dg_at;
    uint8_t dg[TF_DTLS_MAX_DATAGRAM];
};

tf_dtls *tf_dtls_new(void)
{
    tf_dtls *d = calloc(1, sizeof(*d));
    if (!d) return NULL;
    d->facts.used = 1;
    d->next_seq = -1;
    d->retransmit_ms = TF_DTLS_RETRANSMIT_MS;
    return d;
}

void tf_dtls_server_seen(tf_dtls *d) { d->server_seen = 1; }

void tf_dtls_free(tf_dtls *d)
{
    if (!d) return;
    tf_dasm_free(&d->as);
    free(d);
}

const tf_dtls_facts *tf_dtls_facts_of(const tf_dtls *d) { return &d->facts; }

void tf_dtls_facts_merge(tf_dtls_facts *into, const tf_dtls_facts *from)
{
    if (!from->used) return;
    into->used = 1;
    if (from->version) into->version = from->version;
    if (from->hello_verify > into->hello_verify) into->hello_verify = from->hello_verify;
    if (from->cookie_len > into->cookie_len) into->cookie_len = from->cookie_len;
    if (from->round_trips > into->round_trips) into->round_trips = from->round_trips;
    into->retransmissions += from->retransmissions;
    if (from->max_datagram > into->max_datagram) into->max_datagram = from->max_datagram;
    into->fragmented |= from->fragmented;
    into->across_datagrams |= from->across_datagrams;
    into->dropped += from->dropped;
}

/* ---- sending ---------------------------------------------------------------- */

/* c->detail for a failed send or receive. */
static int io_failed(tf_conn *c, int rc, const char *what)
{
    if (rc == TF_ERR_UDP_UNREACHABLE)
        snprintf(c->detail, sizeof(c->detail), "the UDP port is unreachable (ICMP port unreachable)");
    else
        snprintf(c->detail, sizeof(c->detail), "could not %s a datagram", what);
    return rc;
}

static int send_datagram(tf_conn *c, const uint8_t *buf, size_t len)
{
    int rc = tf_net_send_datagram(c->fd, buf, len);
    return rc ? io_failed(c, rc, "send") : TF_OK;
}

/* Writes a DTLS record header of epoch 0 with the next sequence number. */
static void record_header(tf_wr *w, tf_dtls *d, uint8_t type)
{
    int i;
    tf_wr_u8(w, type);
    tf_wr_u16(w, TF_DTLS_V12);
    tf_wr_u16(w, 0);                                    /* epoch */
    for (i = 5; i >= 0; i--) tf_wr_u8(w, (uint32_t)(d->send_seq >> (8 * i)) & 0xFF);
    d->send_seq++;
}

/* Writes the hello as one DTLS record (one fragment) and sends it. */
static int send_hello_now(tf_conn *c, tf_dtls *d)
{
    static uint8_t out[HELLO_MAX + 512];
    size_t rec, msg, body, sid_len;
    tf_wr w;

    sid_len = d->ch[34];
    tf_wr_init(&w, out, sizeof(out));
    record_header(&w, d, 22);
    rec = tf_wr_open(&w, 2);
    tf_wr_u8(&w, 1);                                    /* client_hello */
    msg = tf_wr_open(&w, 3);
    tf_wr_u16(&w, d->ch_seq);
    tf_wr_u24(&w, 0);                                   /* fragment_offset */
    body = tf_wr_open(&w, 3);                           /* fragment_length */
    tf_wr_u16(&w, TF_DTLS_V12);
    tf_wr_bytes(&w, d->ch + 2, 32 + 1 + sid_len);       /* random, session_id */
    tf_wr_u8(&w, (uint32_t)d->cookie_len);
    tf_wr_bytes(&w, d->cookie, d->cookie_len);
    tf_wr_bytes(&w, d->ch + 35 + sid_len, d->ch_len - 35 - sid_len);
    tf_wr_close(&w, body, 3);
    if (!w.bad) memcpy(out + msg, out + body, 3);       /* length == fragment_length */
    tf_wr_close(&w, rec, 2);
    if (w.bad) {
        snprintf(c->detail, sizeof(c->detail), "ClientHello too large");
        return TF_ERR_INTERNAL;
    }
    return send_datagram(c, out, w.len);
}

void tf_dtls_close(tf_conn *c)
{
    uint8_t out[TF_DTLS_RECORD_HDR + 2];
    tf_wr w;
    /* Only into a handshake the server began (a ServerHello came) and did not end with an
       alert: a stateless cookie exchange leaves nothing to end, and GnuTLS's gnutls-serv
       --udp, between sessions, takes only ClientHellos off its socket -- any other datagram
       stays at the head of its queue and stops it serving anyone. */
    if (!c->dtls || c->dtls->next_seq < 0 || c->alert_level) return;
    tf_wr_init(&w, out, sizeof(out));
    record_header(&w, c->dtls, TF_CT_ALERT);
    tf_wr_u16(&w, 2);
    tf_wr_u8(&w, 1);                                    /* warning */
    tf_wr_u8(&w, 0);                                    /* close_notify */
    if (!w.bad) (void)tf_net_send_datagram(c->fd, out, w.len);
}

int tf_dtls_send_hello(tf_conn *c, const uint8_t *rec, size_t len)
{
    tf_dtls *d = c->dtls;
    /* rec: 5-byte record header, 4-byte handshake header, then the body */
    if (len < 9 + 35 || len - 9 > sizeof(d->ch) || len - 9 < 35u + rec[9 + 34]) {
        snprintf(c->detail, sizeof(c->detail), "ClientHello too large for DTLS");
        return TF_ERR_INTERNAL;
    }
    memcpy(d->ch, rec + 9, len - 9);
    d->ch_len = len - 9;
    d->facts.round_trips = 1;
    return send_hello_now(c, d);
}

/* ---- receiving ------------------------------------------------------------- */

static int silence(tf_conn *c, tf_dtls *d, int by_deadline)
{
    if (by_deadline) {
        snprintf(c->detail, sizeof(c->detail), "the connection passed its deadline (%d ms: %d x --timeout) "
                 "after %u datagrams", TF_CONN_DEADLINE_FACTOR * c->timeout_ms, TF_CONN_DEADLINE_FACTOR,
                 d->datagrams);
        return TF_ERR_TIMEOUT;
    }
    if (d->datagrams == 0) {
        snprintf(c->detail, sizeof(c->detail), "no datagram answered the ClientHello within %d ms (%u "
                 "retransmissions)", c->timeout_ms, d->facts.retransmissions);
        return TF_ERR_DTLS_SILENT;
    }
    if (d->next_seq < 0 && d->facts.hello_verify) {
        snprintf(c->detail, sizeof(c->detail), "no answer within %d ms to the ClientHello with the server's "
                 "%u-byte cookie", c->timeout_ms, d->facts.cookie_len);
        return TF_ERR_DTLS_COOKIE;
    }
    snprintf(c->detail, sizeof(c->detail), "no datagram within %d ms in the middle of the server's flight",
             c->timeout_ms);
    return TF_ERR_TIMEOUT;
}

/* A port unreachable that may pass: the server answered an earlier connection and
   has sent nothing on this one yet (tf_dtls_server_seen). */
static int momentary(const tf_dtls *d)
{
    return d->server_seen && d->datagrams == 0;
}

/* Waits for the next datagram, sending the hello again at each retransmission timeout. */
static int recv_datagram(tf_conn *c, tf_dtls *d)
{
    long long end = tf_now_ms() + c->timeout_ms;
    for (;;) {
        long long now = tf_now_ms(), left = end - now;
        int by_deadline = c->deadline_ms && c->deadline_ms <= end, wait, rc;
        size_t n;
        if (by_deadline) left = c->deadline_ms - now;
        if (left <= 0) return silence(c, d, by_deadline);
        wait = left < d->retransmit_ms ? (int)left : d->retransmit_ms;
        rc = tf_net_recv_datagram(c->fd, d->dg, sizeof(d->dg), wait, &n);
        if (rc == TF_ERR_UDP_UNREACHABLE && momentary(d)) {
            /* the error is reported once: this waits for the retransmission timer */
            rc = tf_net_recv_datagram(c->fd, d->dg, sizeof(d->dg), wait, &n);
        }
        if (rc == TF_ERR_TIMEOUT) {
            if (tf_now_ms() >= (by_deadline ? c->deadline_ms : end)) continue;
            d->facts.retransmissions++;
            if (d->retransmit_ms < TF_DTLS_RETRANSMIT_MAX_MS) d->retransmit_ms *= 2;
            rc = send_hello_now(c, d);
            if (rc == TF_ERR_UDP_UNREACHABLE && momentary(d)) rc = TF_OK;
            if (rc) return rc;
            continue;
        }
        if (rc) return io_failed(c, rc, "receive");
        if (d->datagrams >= TF_MAX_RECORDS) {
            snprintf(c->detail, sizeof(c->detail), "the server sent more than %u datagrams on one connection",
                     TF_MAX_RECORDS);
            return TF_ERR_MALFORMED;
        }
        d->datagrams++;
        if (n == 0) continue;
        d->dg_len = n;
        d->dg_at = 0;
        if (n > d->facts.max_datagram) d->facts.max_datagram = n;
        return TF_OK;
    }
}

static int hello_verify(tf_conn *c, tf_dtls *d, const tf_dfrag *f)
{
    tf_rd r, cookie;
    tf_rd_init(&r, f->frag, f->len);
    (void)tf_rd_u16(&r);                                /* server_version */
    tf_rd_vec(&r, 1, &cookie);
    if (f->off != 0 || f->len != f->length || !tf_rd_clean_end(&r) || cookie.bad) {
        snprintf(c->detail, sizeof(c->detail), "malformed HelloVerifyRequest");
        return TF_ERR_MALFORMED;
    }
    if (++d->facts.hello_verify > TF_DTLS_MAX_HVR) {
        snprintf(c->detail, sizeof(c->detail), "the server sent more than %d HelloVerifyRequests",
                 TF_DTLS_MAX_HVR);
        return TF_ERR_MALFORMED;
    }
    memcpy(d->cookie, f->frag + 3, cookie.len);
    d->cookie_len = cookie.len;
    d->facts.cookie_len = (unsigned)cookie.len;
    d->facts.round_trips++;
    d->ch_seq++;
    d->retransmit_ms = TF_DTLS_RETRANSMIT_MS;
    d->dg_at = d->dg_len;                               /* the rest answered the old hello */
    d->rec_active = 0;
    return send_hello_now(c, d);
}

/* Takes one fragment; 1 when it completed the message expected. */
static int take_fragment(tf_conn *c, tf_dtls *d, const tf_dfrag *f)
{
    int rc;
    if (d->next_seq < 0) {
        if (f->type == HS_HELLO_VERIFY_REQUEST) return hello_verify(c, d, f);
        if (f->type != TF_HS_SERVER_HELLO || f->off != 0) return 0;
        d->next_seq = f->seq;
    }
    if (f->seq != d->next_seq) {
        if (f->seq > d->next_seq) d->facts.dropped++;
        return 0;
    }
    if (!d->as.active) d->msg_first_dg = d->datagrams;
    else if (d->msg_first_dg != d->datagrams) d->msg_across = 1;
    rc = tf_dasm_add(&d->as, f, c->detail, sizeof(c->detail));
    if (rc == -2) return TF_ERR_NOMEM;
    if (rc) return TF_ERR_MALFORMED;
    return tf_dasm_complete(&d->as) ? 1 : 0;
}

/* The record's next fragment: 1 a message completed, 0 none, or an error. */
static int next_fragment(tf_conn *c, tf_dtls *d)
{
    tf_dfrag f;
    int rc = tf_dfrag_next(d->rec.body, d->rec.len, &d->rec_at, &f, c->detail, sizeof(c->detail));
    if (rc == 1) { d->rec_active = 0; return 0; }
    if (rc < 0) return TF_ERR_MALFORMED;
    return take_fragment(c, d, &f);
}

/* A first datagram that is no DTLS: its start in the detail when it is text (an HTTP or CoAP-over-UDP answer). */
static void not_dtls_text(tf_conn *c, const uint8_t *p, size_t n)
{
    char text[17];
    size_t i;
    if (n > 16) n = 16;
    for (i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e) return;     /* keep tf_drec_next's detail */
        text[i] = (char)p[i];
    }
    text[n] = '\0';
    snprintf(c->detail, sizeof(c->detail), "the peer does not speak DTLS (it answered \"%s...\")", text);
}

/* The datagram's next record: 0 (taken or skipped) or an error / TF_CONN_ALERT. */
static int next_record(tf_conn *c, tf_dtls *d)
{
    tf_drec *r = &d->rec;
    int rc = tf_drec_next(d->dg, d->dg_len, &d->dg_at, r, c->detail, sizeof(c->detail));
    if (rc == -2 && !c->saw_tls) {
        not_dtls_text(c, d->dg + d->dg_at, d->dg_len - d->dg_at);
        return TF_ERR_NOT_TLS;
    }
    if (rc < 0) return TF_ERR_MALFORMED;
    if (c->records >= TF_MAX_RECORDS) {
        snprintf(c->detail, sizeof(c->detail), "the server sent more than %u records on one connection",
                 TF_MAX_RECORDS);
        return TF_ERR_MALFORMED;
    }
    c->records++;
    c->saw_tls = 1;
    if (r->len > c->max_record_len) c->max_record_len = r->len;
    if (r->epoch != 0) return TF_OK;                    /* protected: the prober stops before it */
    if (r->len > c->max_plain_len) c->max_plain_len = r->len;
    if (r->type == TF_CT_ALERT && r->len >= 2) {
        c->alert_level = r->body[0];
        c->alert_desc = r->body[1];
        snprintf(c->detail, sizeof(c->detail), "the server sent alert %s (%u)", tf_alert_name(c->alert_desc),
                 c->alert_desc);
        return TF_CONN_ALERT;
    }
    if (r->type == TF_CT_HANDSHAKE) {
        d->rec_active = 1;
        d->rec_at = 0;
    }
    return TF_OK;
}

/* The completed message, handed up in TLS form. */
static void hand_up(tf_conn *c, tf_dtls *d, const uint8_t **msg, size_t *len)
{
    uint8_t *m = d->as.msg;
    *len = 4 + (size_t)d->as.length;
    if (m[0] == TF_HS_SERVER_HELLO && *len >= 6) {
        uint16_t v = (uint16_t)tf_dec16be(m + 4);
        d->facts.version = v;
        if (v == TF_DTLS_V12) tf_enc16be(m + 4, 0x0303);
        else if (v == TF_DTLS_V10) tf_enc16be(m + 4, 0x0302);
    }
    if (d->as.fragments > 1) {
        d->facts.fragmented = 1;
        if (d->msg_across) d->facts.across_datagrams = 1;
    }
    d->facts.dropped += d->as.dropped;
    d->as.dropped = 0;
    d->msg_across = 0;
    d->next_seq++;
    if (*len > c->max_hs_len) c->max_hs_len = *len;
    c->messages++;
    *msg = m;
}

int tf_dtls_handshake(tf_conn *c, const uint8_t **msg, size_t *len)
{
    tf_dtls *d = c->dtls;
    int rc;

    if (c->messages >= TF_MAX_MESSAGES) {
        snprintf(c->detail, sizeof(c->detail), "the server sent more than %u handshake messages on one "
                 "connection", TF_MAX_MESSAGES);
        return TF_ERR_MALFORMED;
    }
    if (tf_dasm_complete(&d->as)) tf_dasm_reset(&d->as);
    for (;;) {
        if (d->rec_active) rc = next_fragment(c, d);
        else if (d->dg_at < d->dg_len) rc = next_record(c, d);
        else rc = recv_datagram(c, d);
        if (rc == 1) {
            hand_up(c, d, msg, len);
            return TF_OK;
        }
        if (rc) return rc;
    }
}
