/*
 * probe.c -- the probe's steps (see probe.h).
 *
 * Enumeration uses remove-and-retry: offer a list, record what the server
 * picks, remove it, offer again, until the server refuses.  That costs one
 * connection per accepted item plus one, and for a server with its own
 * preference yields that preference order directly.
 *
 * Offer order (the prober's documented "client preference"): the IANA table
 * order, except that ChaCha20 suites go last -- servers that prefer ChaCha
 * only when a client lists it first would otherwise fake a client order.
 * TLS <= 1.2 suite lists are offered in chunks of CHUNK suites so no hello
 * grows past what fragile servers accept; the suites found are then ranked
 * again as one list.
 *
 * TLS 1.3 suites and groups need no key exchange: a hello with an empty
 * key_share makes the server answer with a HelloRetryRequest naming the suite
 * and group it picked.  Signature schemes need the server's CertificateVerify,
 * so each of those connections does a real key exchange (tls13.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "inner.h"
#include "parse.h"
#include "probe.h"
#include "record.h"
#include "session.h"
#include "steps.h"
#include "tables.h"
#include "tls13.h"
#include "x509.h"

#define BOGUS_SIGALG 0xFEFE   /* unassigned: a server that picks it signs with anything */


static void list_add(idlist *l, uint16_t id)
{
    if (l->n < TF_ARRAY_LEN(l->v)) l->v[l->n++] = id;
}

static int list_has(const uint16_t *v, size_t n, uint16_t id)
{
    size_t i;
    for (i = 0; i < n; i++) if (v[i] == id) return 1;
    return 0;
}

static void list_remove(idlist *l, uint16_t id)
{
    size_t i, j = 0;
    for (i = 0; i < l->n; i++) if (l->v[i] != id) l->v[j++] = l->v[i];
    l->n = j;
}

static int is_chacha(const char *name) { return strstr(name, "CHACHA20") != NULL; }

/* Suites offered for a version slot, in offer order. */
void tf_offer_suites(int slot, idlist *out)
{
    size_t i;
    int pass;
    out->n = 0;
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < tf_suites_count; i++) {
            const tf_suite *s = &tf_suites[i];
            if ((s->kx == TF_KX_TLS13) != (slot == 3)) continue;
            if (is_chacha(s->name) != (pass == 1)) continue;
            list_add(out, s->id);
        }
}

void tf_offer_groups(int slot, idlist *out)
{
    size_t i;
    out->n = 0;
    for (i = 0; i < tf_groups_count; i++)
        if (slot == 3 ? tf_groups[i].tls13 : tf_groups[i].tls12) list_add(out, tf_groups[i].id);
}

void tf_offer_sigalgs(int slot, idlist *out)
{
    size_t i;
    out->n = 0;
    for (i = 0; i < tf_sigalgs_count; i++)
        if (slot < 3 || tf_sigalgs[i].tls13) list_add(out, tf_sigalgs[i].id);
}

/* ---- steps bookkeeping ---------------------------------------------------- */

tf_step *tf_step_begin(tf_profile *p, const char *name, int slot)
{
    tf_step *st;
    if (p->nsteps >= TF_MAX_STEPS) return &p->steps[TF_MAX_STEPS - 1];
    st = &p->steps[p->nsteps++];
    memset(st, 0, sizeof(*st));
    if (slot >= 0) snprintf(st->name, sizeof(st->name), "%s.%s", name, tf_version_name(tf_slot_version(slot)));
    else snprintf(st->name, sizeof(st->name), "%s", name);
    st->ran = 1;
    st->ok = 1;
    if (p->progress) fprintf(stderr, "tlsfit-probe: %s ...\n", st->name);
    return st;
}

static void step_fail(tf_step *st, const tf_sess *s)
{
    st->ok = 0;
    st->code = s->err ? s->err : TF_ERR_INTERNAL;
    snprintf(st->reason, sizeof(st->reason), "%s", s->detail);
}

void tf_step_fail_msg(tf_step *st, int code, const char *msg)
{
    st->ok = 0;
    st->code = code;
    snprintf(st->reason, sizeof(st->reason), "%s", msg);
}

static void note_facts(tf_profile *p, const tf_sess *s)
{
    if (s->max_record_len > p->max_record_len) p->max_record_len = s->max_record_len;
    if (s->max_plain_len > p->max_plain_len) p->max_plain_len = s->max_plain_len;
    if (s->max_hs_len > p->max_hs_len) p->max_hs_len = s->max_hs_len;
    tf_dtls_facts_merge(&p->dtls, &s->dtls);
    if (s->outcome == TF_SESS_HELLO && s->ext.cid) {
        p->cid = 1;
        p->cid_len = s->ext.cid_len;
    }
}

/*
 * A server that answers and then stalls (trickling records until each
 * connection's deadline) costs 2 x --timeout per connection.  After
 * STALL_LIMIT connections in a row ended at a timeout, the probe opens no
 * more: every later connection fails at once as skipped, so such a probe ends
 * with its partial profile instead of one deadline per remaining step.
 */
#define STALL_LIMIT 2

static tf_sess_outcome skipped(tf_sess *s)
{
    memset(s, 0, sizeof(*s));
    s->alert = -1;
    s->outcome = TF_SESS_ERROR;
    s->err = TF_ERR_TIMEOUT;
    snprintf(s->detail, sizeof(s->detail), "skipped: the %d connections before it ended at a timeout, so the "
             "probe opened no more", STALL_LIMIT);
    return s->outcome;
}

/* One connection with the profile's target; facts noted. */
tf_sess_outcome tf_probe_connect(tf_profile *p, const tf_hello *h, tf_until until, tf_sess *s)
{
    tf_sess_outcome o;
    if (p->timeouts_in_a_row >= STALL_LIMIT) return skipped(s);
    o = tf_session_run(p->target, h, until, s);
    note_facts(p, s);
    p->timeouts_in_a_row = o == TF_SESS_ERROR && s->err == TF_ERR_TIMEOUT ? p->timeouts_in_a_row + 1 : 0;
    return o;
}

void tf_base_hello(tf_profile *p, int slot, tf_hello *h)
{
    memset(h, 0, sizeof(*h));
    h->version = tf_slot_version(slot);
    h->sni = p->target->sni;
    h->cid = p->target->dtls;
    if (p->alpn_list_len) {
        h->alpn = p->alpn_list;
        h->alpn_len = p->alpn_list_len;
    }
}

/* ---- step: cipher suites --------------------------------------------------- */

/*
 * Remove-and-retry over `offer`; appends picks to `found` in pick order.
 * `groups` for 1.3 hellos (HRR trick).  Returns 0 or an error code (step
 * failed, `s` holds why).
 */
static int pick_suites(tf_profile *p, int slot, idlist offer, idlist *found, tf_sess *s)
{
    idlist groups, sigs;
    tf_hello h;

    tf_offer_groups(slot, &groups);
    tf_offer_sigalgs(slot, &sigs);
    while (offer.n > 0) {
        tf_sess_outcome o;
        tf_base_hello(p, slot, &h);
        h.suites = offer.v; h.nsuites = offer.n;
        h.groups = groups.v; h.ngroups = groups.n;
        h.sigalgs = sigs.v; h.nsigalgs = sigs.n;
        o = tf_probe_connect(p, &h, TF_UNTIL_HELLO, s);
        if (o == TF_SESS_ERROR) return s->err;
        if (o == TF_SESS_REFUSED || s->version != tf_slot_version(slot) || !list_has(offer.v, offer.n, s->suite)) {
            tf_sess_free(s);
            return TF_OK;
        }
        list_add(found, s->suite);
        list_remove(&offer, s->suite);
        tf_sess_free(s);
    }
    return TF_OK;
}

/* The suite the server picks from `offer` (0 when it refuses). */
static uint16_t first_pick(tf_profile *p, int slot, const idlist *offer, tf_sess *s)
{
    idlist found = { { 0 }, 0 };
    idlist one = *offer;
    tf_hello h;
    idlist groups, sigs;
    tf_offer_groups(slot, &groups);
    tf_offer_sigalgs(slot, &sigs);
    tf_base_hello(p, slot, &h);
    h.suites = one.v; h.nsuites = one.n;
    h.groups = groups.v; h.ngroups = groups.n;
    h.sigalgs = sigs.v; h.nsigalgs = sigs.n;
    if (tf_probe_connect(p, &h, TF_UNTIL_HELLO, s) == TF_SESS_HELLO || s->outcome == TF_SESS_HRR) list_add(&found, s->suite);
    tf_sess_free(s);
    return found.n ? found.v[0] : 0;
}

static void reversed(const idlist *in, idlist *out)
{
    size_t i;
    out->n = in->n;
    for (i = 0; i < in->n; i++) out->v[i] = in->v[in->n - 1 - i];
}

/* Decides server preference and, when the server has one, its order. */
static int rank_suites(tf_profile *p, int slot, idlist *found, int chunked, tf_sess *s)
{
    idlist rev, ranked = { { 0 }, 0 };
    uint16_t fwd_pick, rev_pick;
    int rc;

    if (found->n < 2) { p->server_pref[slot] = -1; return TF_OK; }
    fwd_pick = chunked ? first_pick(p, slot, found, s) : found->v[0];
    reversed(found, &rev);
    rev_pick = first_pick(p, slot, &rev, s);
    p->server_pref[slot] = fwd_pick != 0 && fwd_pick == rev_pick;
    if (p->server_pref[slot] && chunked) {
        rc = pick_suites(p, slot, *found, &ranked, s);
        if (rc) return rc;
        if (ranked.n == found->n) *found = ranked;
    }
    return TF_OK;
}

static void step_suites(tf_profile *p, int slot)
{
    tf_step *st = tf_step_begin(p, "ciphersuites", slot);
    idlist all, found = { { 0 }, 0 };
    tf_sess s;
    size_t off;
    int rc = TF_OK, chunks = 0;

    memset(&s, 0, sizeof(s));
    tf_offer_suites(slot, &all);
    for (off = 0; off < all.n && rc == TF_OK; off += CHUNK) {
        idlist part;
        size_t before = found.n;
        part.n = all.n - off < CHUNK ? all.n - off : CHUNK;
        memcpy(part.v, all.v + off, part.n * sizeof(part.v[0]));
        rc = pick_suites(p, slot, part, &found, &s);
        if (found.n > before) chunks++;
    }
    if (rc == TF_OK) rc = rank_suites(p, slot, &found, chunks > 1, &s);
    p->nsuites[slot] = found.n < TF_MAX_LIST ? found.n : TF_MAX_LIST;
    memcpy(p->suites[slot], found.v, p->nsuites[slot] * sizeof(uint16_t));
    if (rc) step_fail(st, &s);
    tf_sess_free(&s);
}

/* ---- step: groups ---------------------------------------------------------- */

/* Accepted suites of `slot` whose key exchange satisfies `pred` (NULL = all). */
static void accepted_suites(const tf_profile *p, int slot, int (*pred)(tf_kx), idlist *out)
{
    size_t i;
    out->n = 0;
    for (i = 0; i < p->nsuites[slot]; i++) {
        const tf_suite *s = tf_suite_find(p->suites[slot][i]);
        if (s && (!pred || pred(s->kx))) list_add(out, s->id);
    }
}

/* parse.h callback: keeps the first certificate (the leaf) and stops. */
static int first_cert(void *ctx, const uint8_t *der, size_t len)
{
    tf_cert *leaf = ctx;
    if (tf_x509_parse(leaf, der, len) != 0) leaf->curve[0] = '\0';
    return 1;
}

/* The TLS 1.2 group of the leaf's EC key in a Certificate message, 0 when it has none. */
static uint16_t leaf_group(const tf_sess *s)
{
    tf_cert *leaf;
    uint16_t id = 0;
    size_t i;
    if (!s->cert_msg || !(leaf = calloc(1, sizeof *leaf))) return 0;
    tf_parse_certificate(s->cert_msg, s->cert_msg_len, 0, first_cert, leaf);
    for (i = 0; i < tf_groups_count && leaf->curve[0]; i++)
        if (tf_groups[i].tls12 && strcmp(tf_groups[i].name, leaf->curve) == 0) id = tf_groups[i].id;
    free(leaf);
    return id;
}

/*
 * The hello's groups: up to GROUP_WINDOW - 1 of `offer` other than `pinned`, in
 * order, then `pinned` last when it is still offered.  mbedTLS 2.28 servers keep
 * only the first 11 curves a client lists (3.6: 13): a longer list would push
 * the certificate's curve out of sight and the server could not use its
 * certificate at all.
 */
#define GROUP_WINDOW 8
static void group_window(const idlist *offer, uint16_t pinned, idlist *out)
{
    size_t i;
    out->n = 0;
    for (i = 0; i < offer->n && out->n < GROUP_WINDOW - 1; i++)
        if (offer->v[i] != pinned) list_add(out, offer->v[i]);
    if (pinned && list_has(offer->v, offer->n, pinned)) list_add(out, pinned);
}

/* Records one group the server picked (first pick: its preference). */
static void group_accepted(tf_profile *p, int slot, uint16_t g)
{
    if (!p->group_pref[slot]) p->group_pref[slot] = g;
    if (p->ngroups[slot] < TF_MAX_LIST && !list_has(p->groups[slot], p->ngroups[slot], g))
        p->groups[slot][p->ngroups[slot]++] = g;
}

/*
 * Remove-and-retry over the groups.  In TLS 1.2 a server can use an ECDSA
 * certificate only when the client offers the certificate's curve, so that
 * curve (learnt from the first Certificate message) is kept in every hello,
 * last, while the others are tried a window at a time (group_window).  When
 * the server picks it although others came first, none of those others was
 * preferred: a server following the client's order accepts none of them, and
 * they are dropped; once no other is left the curve itself is dropped for a
 * last try (another certificate may take over).  A server imposing its own
 * order that ranks the certificate's curve first hides the groups it ranks
 * after it.  The first hello offers every group (the curve is not known yet).
 */
static void step_groups(tf_profile *p, int slot)
{
    tf_step *st = tf_step_begin(p, "groups", slot);
    idlist suites, offer, sigs, sent;
    uint16_t pinned = 0;     /* the leaf's curve, offered last (TLS 1.2) */
    int learnt = slot == 3;  /* pinned was looked for */
    tf_sess s;

    memset(&s, 0, sizeof(s));
    accepted_suites(p, slot, slot == 3 ? NULL : tf_kx_is_ecdhe, &suites);
    if (suites.n == 0) return;  /* no (EC)DHE suite: nothing to negotiate */
    tf_offer_groups(slot, &offer);
    tf_offer_sigalgs(slot, &sigs);
    while (offer.n > 0) {
        tf_hello h;
        tf_sess_outcome o;
        int windowed = learnt && slot < 3 && pinned;   /* pinned is last in `sent` */
        if (windowed) group_window(&offer, pinned, &sent);
        else sent = offer;
        tf_base_hello(p, slot, &h);
        h.suites = suites.v; h.nsuites = suites.n;
        h.groups = sent.v; h.ngroups = sent.n;
        h.sigalgs = sigs.v; h.nsigalgs = sigs.n;
        o = tf_probe_connect(p, &h, slot == 3 ? TF_UNTIL_HELLO : TF_UNTIL_SKE, &s);
        if (o == TF_SESS_ERROR) { step_fail(st, &s); break; }
        if (o == TF_SESS_REFUSED || !s.group || !list_has(sent.v, sent.n, s.group)) break;
        group_accepted(p, slot, s.group);
        if (!learnt) { pinned = leaf_group(&s); learnt = 1; }
        if (s.group != pinned) {
            list_remove(&offer, s.group);
        } else if (!windowed) {
            ;                         /* just learnt: offer the others first, it last */
        } else if (sent.n > 1) {
            size_t i;                 /* preferred over every other of the window */
            for (i = 0; i + 1 < sent.n; i++) list_remove(&offer, sent.v[i]);
        } else {
            pinned = 0;               /* alone: a last try without it */
            list_remove(&offer, s.group);
        }
        tf_sess_free(&s);
    }
    tf_sess_free(&s);
}

/* ---- step: signature schemes ---------------------------------------------- */

/* A group for a real TLS 1.3 key exchange: the server's favourite if the
   prober can compute it, else the first accepted one it can. */
static uint16_t kex_group(const tf_profile *p)
{
    size_t i;
    if (p->group_pref[3] && tf_kex_supported(p->group_pref[3])) return p->group_pref[3];
    for (i = 0; i < p->ngroups[3]; i++)
        if (tf_kex_supported(p->groups[3][i])) return p->groups[3][i];
    return 0;
}

static int suite13_ok(tf_kx kx) { (void)kx; return 1; }

/* Hello for a real TLS 1.3 key exchange (decryptable suites only). */
static int hello13(tf_profile *p, tf_hello *h, idlist *suites, idlist *groups)
{
    size_t i;
    idlist all;
    accepted_suites(p, 3, suite13_ok, &all);
    suites->n = 0;
    for (i = 0; i < all.n; i++) if (tf_tls13_suite_supported(all.v[i])) list_add(suites, all.v[i]);
    groups->n = 0;
    list_add(groups, kex_group(p));
    if (!suites->n || !groups->v[0]) return -1;
    tf_base_hello(p, 3, h);
    h->suites = suites->v; h->nsuites = suites->n;
    h->groups = groups->v; h->ngroups = 1;
    h->key_share_group = groups->v[0];
    return 0;
}

static void step_sigalgs(tf_profile *p, int slot)
{
    tf_step *st = tf_step_begin(p, "signature_algorithms", slot);
    idlist suites, groups, offer;
    tf_hello h;
    tf_sess s;

    memset(&s, 0, sizeof(s));
    if (slot == 3) {
        if (hello13(p, &h, &suites, &groups) != 0) {
            tf_step_fail_msg(st, TF_ERR_CRYPTO, "no TLS 1.3 suite and group the prober can decrypt");
            return;
        }
    } else {
        accepted_suites(p, slot, tf_kx_is_signed, &suites);
        if (suites.n == 0 || slot < 2) return;   /* no signed key exchange, or no sigalgs before 1.2 */
        tf_offer_groups(slot, &groups);
        tf_base_hello(p, slot, &h);
        h.suites = suites.v; h.nsuites = suites.n;
        h.groups = groups.v; h.ngroups = groups.n;
    }
    offer.n = 0;
    list_add(&offer, BOGUS_SIGALG);
    {
        idlist all;
        size_t i;
        tf_offer_sigalgs(slot, &all);
        for (i = 0; i < all.n; i++) list_add(&offer, all.v[i]);
    }
    while (offer.n > 0) {
        tf_sess_outcome o;
        h.sigalgs = offer.v; h.nsigalgs = offer.n;
        o = tf_probe_connect(p, &h, slot == 3 ? TF_UNTIL_FLIGHT : TF_UNTIL_SKE, &s);
        if (o == TF_SESS_ERROR) { step_fail(st, &s); break; }
        if (o != TF_SESS_HELLO || !s.sigalg) break;
        if (!list_has(offer.v, offer.n, s.sigalg)) {
            p->sigalg_unoffered[slot] = 1;
            if (!list_has(p->sigalgs[slot], p->nsigalgs[slot], s.sigalg) && p->nsigalgs[slot] < TF_MAX_LIST)
                p->sigalgs[slot][p->nsigalgs[slot]++] = s.sigalg;
            break;
        }
        if (p->nsigalgs[slot] < TF_MAX_LIST) p->sigalgs[slot][p->nsigalgs[slot]++] = s.sigalg;
        list_remove(&offer, s.sigalg);
        tf_sess_free(&s);
    }
    tf_sess_free(&s);
}

/* ---- full-flight hellos ---------------------------------------------------- */

/*
 * Rank of a suite in a "default" handshake, the way a current client orders
 * its offer: ECDHE before DHE before the rest, AEAD before CBC.
 */
static int modern_rank(uint16_t id)
{
    const tf_suite *s = tf_suite_find(id);
    int r = 0;
    if (!s) return 0;
    if (tf_kx_is_ecdhe(s->kx) || s->kx == TF_KX_TLS13) r += 4;
    else if (tf_kx_is_dhe(s->kx)) r += 2;
    if (strstr(s->name, "GCM") || strstr(s->name, "CCM") || strstr(s->name, "CHACHA20")) r += 1;
    return r;
}

/* Stable sort of a suite list by modern_rank, best first. */
static void modern_order(idlist *l)
{
    size_t i, j;
    for (i = 1; i < l->n; i++) {
        uint16_t v = l->v[i];
        for (j = i; j > 0 && modern_rank(l->v[j - 1]) < modern_rank(v); j--) l->v[j] = l->v[j - 1];
        l->v[j] = v;
    }
}

/* A full-flight hello for `slot` with everything the server accepts. */
static int flight_hello(tf_profile *p, int slot, tf_hello *h, idlist *suites, idlist *groups, idlist *sigs)
{
    tf_offer_sigalgs(slot, sigs);
    if (slot == 3) {
        if (hello13(p, h, suites, groups) != 0) return -1;
    } else {
        tf_offer_suites(slot, suites);
        if (p->nsuites[slot]) accepted_suites(p, slot, NULL, suites);
        modern_order(suites);
        tf_offer_groups(slot, groups);
        tf_base_hello(p, slot, h);
        h->suites = suites->v; h->nsuites = suites->n;
        h->groups = groups->v; h->ngroups = groups->n;
    }
    h->sigalgs = sigs->v; h->nsigalgs = sigs->n;
    return 0;
}

/* ---- step: full flights ---------------------------------------------------- */

static void take_flight(tf_profile *p, int slot, tf_sess *s)
{
    p->kx_known[slot] = 1;
    p->kx_group[slot] = s->group;
    p->kx_dh_bits[slot] = s->dh_bits;
    if (s->cert_msg && (p->chain_slot < 0 || slot == 3)) {
        free(p->cert_msg);
        p->cert_msg = s->cert_msg; p->cert_msg_len = s->cert_msg_len;
        s->cert_msg = NULL;
        p->chain_slot = slot;
    }
    if (s->certreq_seen) p->client_cert_requested = 1;
    if (s->certreq_msg && (p->certreq_slot < 0 || slot == 3)) {
        free(p->certreq_msg);
        p->certreq_msg = s->certreq_msg; p->certreq_msg_len = s->certreq_msg_len;
        s->certreq_msg = NULL;
        p->certreq_slot = slot;
    }
    if (slot <= 2) {
        p->ext_known = 1;
        p->ems = s->ext.ems; p->ticket = s->ext.ticket; p->renego = s->ext.renego;
    }
}

static void step_flight(tf_profile *p, int slot)
{
    tf_step *st = tf_step_begin(p, "handshake", slot);
    idlist suites, groups, sigs;
    tf_hello h;
    tf_sess s;

    memset(&s, 0, sizeof(s));
    if (flight_hello(p, slot, &h, &suites, &groups, &sigs) != 0) {
        tf_step_fail_msg(st, TF_ERR_CRYPTO, "no TLS 1.3 suite and group the prober can decrypt");
        return;
    }
    if (tf_probe_connect(p, &h, TF_UNTIL_FLIGHT, &s) != TF_SESS_HELLO || !s.flight_complete) {
        step_fail(st, &s);
        if (!s.err && s.outcome == TF_SESS_REFUSED) st->code = TF_ERR_CLOSED;
    } else {
        take_flight(p, slot, &s);
    }
    tf_sess_free(&s);
}

/* ---- steps: record size extensions and ALPN ------------------------------- */

static int highest_slot(const tf_profile *p)
{
    int slot;
    for (slot = 3; slot >= 0; slot--) if (p->accepted[slot]) return slot;
    return -1;
}

/*
 * One connection of an extension step: the full-flight hello for the highest
 * version accepted, adjusted by `tweak`.  Returns 1 when the server answered
 * with a ServerHello (and the whole flight when until == TF_UNTIL_FLIGHT), 0
 * when it refused the hello, -1 when the connection failed (step marked).
 */
static int ext_session(tf_profile *p, tf_step *st, void (*tweak)(tf_hello *h, int slot), tf_until until,
                       tf_sess *s)
{
    int slot = highest_slot(p);
    idlist suites, groups, sigs;
    tf_hello h;
    tf_sess_outcome o;

    memset(s, 0, sizeof(*s));
    if (flight_hello(p, slot, &h, &suites, &groups, &sigs) != 0) {
        tf_step_fail_msg(st, TF_ERR_CRYPTO, "no usable hello");
        return -1;
    }
    tweak(&h, slot);
    o = tf_probe_connect(p, &h, until, s);
    if (o == TF_SESS_HELLO && (until != TF_UNTIL_FLIGHT || s->flight_complete)) return 1;
    if (o == TF_SESS_ERROR && s->err != TF_ERR_CLOSED) {
        step_fail(st, s);
        return -1;
    }
    return 0;
}

static void tweak_mfl(tf_hello *h, int slot) { (void)slot; h->mfl = 1; /* 2^9 = 512 */ }
/* TLS 1.3 counts the inner content type in the limit. */
static void tweak_rsl(tf_hello *h, int slot) { h->record_size_limit = slot == 3 ? 513 : 512; }
/* The alpn step's hello: the user's --alpn (already in every hello) or the default list. */
static void tweak_alpn(tf_hello *h, int slot)
{
    (void)slot;
    if (!h->alpn) {
        h->alpn = tf_alpn_default;
        h->alpn_len = tf_alpn_default_len;
    }
}
static void tweak_no_alpn(tf_hello *h, int slot) { (void)slot; h->alpn = NULL; h->alpn_len = 0; }

static void step_mfl(tf_profile *p)
{
    tf_step *st = tf_step_begin(p, "max_fragment_length", -1);
    tf_sess s;
    int r = ext_session(p, st, tweak_mfl, TF_UNTIL_FLIGHT, &s);
    if (r >= 0) p->mfl_honoured = r == 1 && s.ext.mfl == 1 && s.max_plain_len <= 512;
    tf_sess_free(&s);
}

static void step_rsl(tf_profile *p)
{
    tf_step *st = tf_step_begin(p, "record_size_limit", -1);
    tf_sess s;
    if (ext_session(p, st, tweak_rsl, TF_UNTIL_FLIGHT, &s) == 1) {
        p->rsl_acked = s.ext.has_rsl;
        p->rsl = s.ext.rsl;
        p->rsl_honoured = s.ext.has_rsl && s.max_plain_len <= 512;
    }
    tf_sess_free(&s);
}

static int is_cbc(uint16_t id)
{
    const char *name = tf_suite_name(id);
    return name && strstr(name, "_CBC_") != NULL;
}

/*
 * encrypt_then_mac only applies to CBC suites (RFC 7366), and servers echo it
 * only when they pick one: so it is tested with a hello offering only the
 * TLS 1.2 CBC suites the server accepts, and left unknown when there are none.
 */
static void step_etm(tf_profile *p)
{
    tf_step *st;
    idlist cbc, groups, sigs;
    tf_hello h;
    tf_sess s;
    size_t i;

    cbc.n = 0;
    for (i = 0; i < p->nsuites[2]; i++) if (is_cbc(p->suites[2][i])) list_add(&cbc, p->suites[2][i]);
    if (!p->accepted[2] || cbc.n == 0) return;
    st = tf_step_begin(p, "encrypt_then_mac", -1);
    memset(&s, 0, sizeof(s));
    tf_offer_groups(2, &groups);
    tf_offer_sigalgs(2, &sigs);
    tf_base_hello(p, 2, &h);
    h.suites = cbc.v; h.nsuites = cbc.n;
    h.groups = groups.v; h.ngroups = groups.n;
    h.sigalgs = sigs.v; h.nsigalgs = sigs.n;
    if (tf_probe_connect(p, &h, TF_UNTIL_HELLO, &s) == TF_SESS_HELLO) {
        p->etm_known = 1;
        p->etm = s.ext.etm;
    } else {
        step_fail(st, &s);
    }
    tf_sess_free(&s);
}

/*
 * The protocol the server selects from the offered list (the user's --alpn,
 * else h2, http/1.1, mqtt, x-amzn-mqtt-ca), and whether it requires ALPN.
 * Without --alpn every earlier hello went without it, so it does not.  With
 * --alpn one more hello goes without it: refused (an alert or a close) where
 * the same hello with it was answered, the server requires it.
 */
static void step_alpn(tf_profile *p)
{
    tf_step *st = tf_step_begin(p, "alpn", -1);
    /* TLS 1.3 acknowledges ALPN in EncryptedExtensions: read the flight. */
    tf_until until = highest_slot(p) == 3 ? TF_UNTIL_FLIGHT : TF_UNTIL_HELLO;
    tf_sess s;
    int with, without;

    tf_alpn_list_text(p->alpn_list_len ? p->alpn_list : tf_alpn_default,
                      p->alpn_list_len ? p->alpn_list_len : tf_alpn_default_len, p->alpn_offered,
                      sizeof(p->alpn_offered));
    with = ext_session(p, st, tweak_alpn, until, &s);
    if (with == 1) snprintf(p->alpn, sizeof(p->alpn), "%s", s.ext.alpn);
    tf_sess_free(&s);
    if (!p->alpn_list_len) {
        p->alpn_required = 0;
        return;
    }
    if (with != 1) return;
    without = ext_session(p, st, tweak_no_alpn, until, &s);
    if (without >= 0) p->alpn_required = without == 0;
    tf_sess_free(&s);
}

/* ---- step: resumption ------------------------------------------------------ */

/*
 * Whether the server resumes, per accepted version among TLS 1.2 and 1.3,
 * proven by resuming with mbedTLS's own client (resume.h).  Skipped, as every
 * connecting step, once the server has stalled.
 */
static void step_resumption(tf_profile *p, int slot)
{
    tf_step *st = tf_step_begin(p, "resumption", slot);
    tf_resume_facts *f = &p->resume[slot - 2];
    int rc;
    if (p->timeouts_in_a_row >= STALL_LIMIT) {
        tf_sess s;
        skipped(&s);
        step_fail(st, &s);
        return;
    }
    if (p->client_cert_requested && !p->client) {     /* no certificate to give */
        tf_resume_unknown(f);
        p->resume_ran[slot - 2] = 1;
        snprintf(st->note, sizeof(st->note), "not tried: the server asks for a client certificate, "
                 "which the prober has none of (give the device's: --client-cert and --client-key)");
        return;
    }
    rc = tf_resume_probe(p->target, tf_slot_version(slot), p->alpn_list_len ? p->alpn_list : NULL,
                         p->alpn_list_len, p->client, f);
    p->resume_ran[slot - 2] = rc == TF_OK;
    if (rc != TF_OK) tf_step_fail_msg(st, rc, f->why);
    else if (f->why[0]) snprintf(st->note, sizeof(st->note), "%s", f->why);
    else if (p->client_cert_requested)
        snprintf(st->note, sizeof(st->note), "with the device's certificate (--client-cert), which the server asked for");
}

/* ---- driver ---------------------------------------------------------------- */

void tf_profile_init(tf_profile *p)
{
    int slot;
    memset(p, 0, sizeof(*p));
    p->chain_slot = -1;
    p->certreq_slot = -1;
    p->mfl_honoured = -1;
    p->alpn_required = -1;
    p->system_store = 1;
    for (slot = 0; slot < TF_NV; slot++) p->server_pref[slot] = -1;
}

void tf_profile_free(tf_profile *p)
{
    free(p->cert_msg);
    free(p->certreq_msg);
    p->cert_msg = p->certreq_msg = NULL;
}

static void stamp(tf_profile *p)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(p->probed_at, sizeof(p->probed_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int tf_probe_run(tf_profile *p)
{
    long long t0 = tf_now_ms();
    int slot, rc;

    stamp(p);
    rc = tf_step_versions(p);
    if (rc == TF_ERR_NO_VERSION && p->psk && !p->target->dtls) {   /* psk alone: TLS 1.3, TCP only */
        int fatal = p->fatal;
        char detail[sizeof(p->fatal_detail)];
        snprintf(detail, sizeof(detail), "%s", p->fatal_detail);
        rc = tf_step_psk_alone(p);
        if (rc == TF_ERR_NO_VERSION) {          /* nothing in TLS 1.3 either: the versions verdict */
            p->fatal = fatal;
            snprintf(p->fatal_detail, sizeof(p->fatal_detail), "%s", detail);
        }
        p->elapsed_ms = tf_now_ms() - t0;
        return rc;
    }
    if (rc == TF_OK) {
        for (slot = 3; slot >= 0; slot--) if (p->accepted[slot]) step_suites(p, slot);
        for (slot = 3; slot >= 0; slot--) if (p->accepted[slot]) step_groups(p, slot);
        for (slot = 3; slot >= 0; slot--) if (p->accepted[slot]) step_sigalgs(p, slot);
        for (slot = 3; slot >= 0; slot--) if (p->accepted[slot] && (slot >= 2 || highest_slot(p) == slot))
            step_flight(p, slot);
        step_mfl(p);
        step_rsl(p);
        step_etm(p);
        step_alpn(p);
        /* resumption runs mbedTLS's TLS client, over TCP only; the psk step its TLS or DTLS client */
        for (slot = 3; slot >= 2 && !p->target->dtls; slot--) if (p->accepted[slot]) step_resumption(p, slot);
        if (p->psk) rc = tf_step_psk(p);
    }
    p->elapsed_ms = tf_now_ms() - t0;
    return rc;
}
