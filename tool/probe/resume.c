/*
 * resume.c -- the resumption step (see resume.h).
 *
 * Implementation notes
 * --------------------
 * Every connection is one mbedTLS client session over the prober's own
 * sockets (mbconn.h: the target's address, per-operation timeouts).  The
 * callbacks keep the first bytes each side sent (`sent`, `got`): the verdict
 * on a resumption is read from those bytes, not from mbedTLS's state -- the
 * session ID of our ClientHello and the server's last plaintext ServerHello
 * (tf_parse_server_hello, the same decoder as the enumeration steps).  A
 * ServerHello that does not fit the captured bytes, or spans records, leaves
 * the verdict unknown rather than guessed.
 *
 * The ticket's size and lifetime come from the mbedTLS session the client
 * keeps (its private fields: this is the prober's own pinned 3.6 tree).
 */
#include <stdio.h>
#include <string.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/error.h"
#include "mbedtls/ssl.h"

#include "clientid.h"
#include "errors.h"
#include "mbconn.h"
#include "parse.h"
#include "record.h"
#include "resume.h"

#define MAX_ALPN 16
#define TICKET_READS 4         /* reads after a TLS 1.3 handshake that may bring tickets */
#define TICKET_WAIT_MS 500     /* ... each waiting at most this long for the next one */

typedef tf_mbconn link;

/* What every connection of one tf_resume_probe call shares. */
typedef struct {
    tf_target *t;
    const uint8_t *alpn;       /* protocol_name_list offered in every hello, or NULL */
    size_t alpn_len;
    tf_client_id *id;          /* presented when the server asks, or NULL */
    tf_resume_facts *f;        /* what the step learns; f->connections counts them */
} run;

/* The outcome of one connection. */
typedef struct {
    int ok;                    /* the handshake completed */
    int resumed;               /* -1 unknown, else what the ServerHello says */
    int key_share;             /* TLS 1.3: the resuming ServerHello had a key_share */
    int tickets;               /* TLS 1.3 NewSessionTickets read after the handshake */
    char detail[160];          /* when !ok */
} outcome;

/* The session ID of the ClientHello at the start of `l->sent`; -1 when not there whole. */
static int hello_session_id(const link *l, uint8_t sid[32], size_t *sid_len)
{
    const size_t at = 5 + 4 + 2 + 32;            /* record, handshake header, version, random */
    if (l->nsent < at + 1 || l->sent[0] != 22 || l->sent[5] != 1) return -1;
    *sid_len = l->sent[at];
    if (*sid_len > 32 || l->nsent < at + 1 + *sid_len) return -1;
    memcpy(sid, l->sent + at + 1, *sid_len);
    return 0;
}

/* What the ServerHello says of the resumption offered (-1 unknown). */
static int judge(const link *l, uint16_t version, int offered, outcome *o)
{
    tf_server_hello sh;
    const uint8_t *ssid = NULL;
    uint8_t csid[32];
    size_t ssid_len = 0, csid_len;
    if (!offered) return 0;
    if (tf_mbconn_server_hello(l, &sh, &ssid, &ssid_len) != 0) return -1;
    if (version == 0x0304) {
        o->key_share = sh.ks_group != 0;
        return sh.psk;
    }
    if (hello_session_id(l, csid, &csid_len) != 0) return -1;
    return csid_len > 0 && ssid_len == csid_len && memcmp(ssid, csid, csid_len) == 0;
}

/* Names of a protocol_name_list as mbedTLS's NULL-terminated array (pointing into `store`). */
static void alpn_array(const uint8_t *list, size_t len, char *store, const char **names)
{
    size_t at = 0, n = 0;
    while (list && at < len && at + 1 + list[at] <= len && n < MAX_ALPN) {
        memcpy(store, list + at + 1, list[at]);
        store[list[at]] = '\0';
        names[n++] = store;
        store += list[at] + 1;
        at += 1 + (size_t)list[at];
    }
    names[n] = NULL;
}

/*
 * Reads after a TLS 1.3 handshake until no more tickets come (at most
 * TICKET_READS, each read bounded by the read timeout); each ticket replaces
 * the last in `session`.  mbedTLS first answers WANT_READ to a ticket (it
 * switched state), then RECEIVED_NEW_SESSION_TICKET once it parsed it.
 */
static int read_tickets(mbedtls_ssl_context *ssl, mbedtls_ssl_session *session, outcome *o)
{
    unsigned char buf[256];
    int i, n = 0;
    for (i = 0; i < 2 * TICKET_READS && n < TICKET_READS; i++) {
        int rc = mbedtls_ssl_read(ssl, buf, sizeof(buf));
        if (rc == MBEDTLS_ERR_SSL_WANT_READ) continue;
        if (rc != MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
            /* a TLS 1.3 server may refuse the session after our Finished (an alert): then
               no ticket says nothing about its tickets */
            if (n == 0 && rc != MBEDTLS_ERR_SSL_TIMEOUT && rc < 0) {
                char text[100];
                mbedtls_strerror(rc, text, sizeof(text));
                snprintf(o->detail, sizeof(o->detail), "the server ended the session after the "
                         "handshake: -0x%04X %.90s", (unsigned)-rc, text);
                return -1;
            }
            break;
        }
        n++;
        mbedtls_ssl_session_free(session);
        mbedtls_ssl_session_init(session);
        if (mbedtls_ssl_get_session(ssl, session) != 0) break;
    }
    return n;
}

/*
 * One connection: a handshake at `version` offering `in` when given (TLS 1.3:
 * with key exchange modes `modes`), tickets (TLS 1.2) when `tickets`.  The
 * session it leaves goes to `out` when given.
 */
static void connect_once(const run *r, uint16_t version, const mbedtls_ssl_session *in, int modes,
                         int tickets, mbedtls_ssl_session *out, outcome *o)
{
    tf_target *t = r->t;
    static link l;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    char store[300];
    const char *names[MAX_ALPN + 1];
    int rc;

    memset(o, 0, sizeof(*o));
    o->resumed = -1;
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    r->f->connections++;
    if ((rc = tf_mbconn_open(&l, t)) != TF_OK) {
        snprintf(o->detail, sizeof(o->detail), "could not connect (%s)", tf_err_name(rc));
        goto done;
    }
    mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                MBEDTLS_SSL_PRESET_DEFAULT);
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);   /* facts only; no data is sent */
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, tf_mbconn_rng());
    mbedtls_ssl_conf_min_tls_version(&conf, (mbedtls_ssl_protocol_version)version);
    mbedtls_ssl_conf_max_tls_version(&conf, (mbedtls_ssl_protocol_version)version);
    mbedtls_ssl_conf_session_tickets(&conf, tickets ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                                    : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
    mbedtls_ssl_conf_tls13_key_exchange_modes(&conf, modes);
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(&conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
    mbedtls_ssl_conf_read_timeout(&conf, (uint32_t)t->timeout_ms);
    alpn_array(r->alpn, r->alpn_len, store, names);
    if (names[0]) mbedtls_ssl_conf_alpn_protocols(&conf, names);
    if ((r->id && mbedtls_ssl_conf_own_cert(&conf, &r->id->cert, &r->id->key) != 0) ||
        mbedtls_ssl_setup(&ssl, &conf) != 0 ||
        mbedtls_ssl_set_hostname(&ssl, t->sni[0] ? t->sni : NULL) != 0 ||
        (in && mbedtls_ssl_set_session(&ssl, in) != 0)) {
        snprintf(o->detail, sizeof(o->detail), "mbedTLS could not set up the client");
        goto done;
    }
    if (tf_mbconn_handshake(&l, &ssl, o->detail, sizeof(o->detail)) != 0) goto done;
    o->ok = 1;
    o->resumed = judge(&l, version, in != NULL, o);
    if (version == 0x0304 && out) {
        mbedtls_ssl_conf_read_timeout(&conf, (uint32_t)(t->timeout_ms < TICKET_WAIT_MS ? t->timeout_ms : TICKET_WAIT_MS));
        o->tickets = read_tickets(&ssl, out, o);
    }
    else if (out) mbedtls_ssl_get_session(&ssl, out);
    mbedtls_ssl_close_notify(&ssl);
done:
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    tf_mbconn_close(&l);
}

static void note_ticket(tf_resume_facts *f, const mbedtls_ssl_session *s)
{
    if (s->MBEDTLS_PRIVATE(ticket_len) == 0) return;
    if ((long)s->MBEDTLS_PRIVATE(ticket_len) > f->ticket_len) f->ticket_len = (long)s->MBEDTLS_PRIVATE(ticket_len);
    f->ticket_lifetime = (long)s->MBEDTLS_PRIVATE(ticket_lifetime);
}

static void why(tf_resume_facts *f, const char *what, const outcome *o)
{
    if (!f->why[0]) snprintf(f->why, sizeof(f->why), "%s: %s", what, o->detail);
}

/* TLS 1.2: a full handshake, then its session again; the same with a ticket. */
static void probe_12(const run *r)
{
    tf_resume_facts *f = r->f;
    mbedtls_ssl_session s;
    outcome o;
    int pass;
    for (pass = 0; pass < 2; pass++) {          /* 0: session ID, 1: ticket */
        int *verdict = pass ? &f->ticket : &f->session_id;
        mbedtls_ssl_session_init(&s);
        connect_once(r, 0x0303, NULL, 0, pass, &s, &o);
        if (!o.ok) { why(f, "the full handshake", &o); mbedtls_ssl_session_free(&s); continue; }
        if (pass) note_ticket(f, &s);
        if (pass && s.MBEDTLS_PRIVATE(ticket_len) == 0) *verdict = 0;      /* no ticket issued */
        else {
            connect_once(r, 0x0303, &s, 0, pass, NULL, &o);
            if (o.ok) *verdict = o.resumed;
            else { why(f, "the resuming handshake", &o); *verdict = 0; }
        }
        mbedtls_ssl_session_free(&s);
    }
}

/* TLS 1.3: a full handshake and its tickets, then one resumption per key exchange mode. */
static void probe_13(const run *r)
{
    tf_resume_facts *f = r->f;
    static const int modes[2] = { MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL |
                                  MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL,
                                  MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK };
    int pass;
    for (pass = 0; pass < 2; pass++) {          /* 0: psk_dhe_ke, 1: psk_ke; a fresh ticket each */
        int *verdict = pass ? &f->psk_ke : &f->psk_dhe_ke;
        mbedtls_ssl_session s;
        outcome o;
        mbedtls_ssl_session_init(&s);
        connect_once(r, 0x0304, NULL, MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_ALL, 1, &s, &o);
        if (!o.ok) { why(f, "the full handshake", &o); mbedtls_ssl_session_free(&s); return; }
        if (o.tickets < 0) { why(f, "after the full handshake", &o); mbedtls_ssl_session_free(&s); return; }
        if (pass == 0) f->tickets = o.tickets;
        note_ticket(f, &s);
        if (o.tickets == 0) { f->psk_dhe_ke = f->psk_ke = 0; mbedtls_ssl_session_free(&s); return; }
        connect_once(r, 0x0304, &s, modes[pass], 1, NULL, &o);
        *verdict = o.ok ? o.resumed == 1 && o.key_share == !pass : 0;
        if (o.ok && o.resumed < 0) *verdict = -1;
        mbedtls_ssl_session_free(&s);
    }
}

int tf_resume_probe(tf_target *t, uint16_t version, const uint8_t *alpn, size_t alpn_len,
                    tf_client_id *id, tf_resume_facts *out)
{
    run r = { t, alpn, alpn_len, id && id->loaded ? id : NULL, out };
    tf_resume_unknown(out);
    if (!tf_mbconn_rng()) {
        snprintf(out->why, sizeof(out->why), "mbedTLS's random generator could not be seeded");
        return TF_ERR_INTERNAL;
    }
    if (version == 0x0304) probe_13(&r);
    else probe_12(&r);
    return TF_OK;
}
