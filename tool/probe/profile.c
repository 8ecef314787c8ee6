/*
 * profile.c -- writing a tf_profile as schema-1 JSON (docs/profile-schema.md).
 *
 * The chain is decoded here, at output time, from the Certificate message the
 * flight step kept: tf_parse_certificate() hands each DER to add_cert(), which
 * decodes it with tf_x509_parse() into `chain`.  The path to the trust anchor
 * is chosen by path.h among every certificate sent: choose_path() tells it
 * who issued whom (names, key identifiers and, where mbedTLS's crypto can,
 * signatures: sigcheck.h), which sent certificates are self-signed roots and
 * which are issued by a certificate of the --ca bundles or, only when those
 * and the sent roots end no path, of the system store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anchor.h"
#include "dtls_frag.h"
#include "errors.h"
#include "inner.h"
#include "json.h"
#include "parse.h"
#include "path.h"
#include "probe.h"
#include "sigcheck.h"
#include "tables.h"
#include "x509.h"

#define MAX_CHAIN TF_PATH_MAX

typedef struct {
    tf_cert cert[MAX_CHAIN];
    const uint8_t *der[MAX_CHAIN];
    size_t der_len[MAX_CHAIN];
    int undecoded[MAX_CHAIN];   /* tf_x509_parse rejected it: written in the schema's undecoded form */
    size_t n;
    size_t sent;                /* certificates in the message: n, or more when cut to MAX_CHAIN */
} chain_t;

static int add_cert(void *ctx, const uint8_t *der, size_t len)
{
    chain_t *c = ctx;
    c->sent++;
    if (c->n >= MAX_CHAIN) return 0;    /* counted, not kept: the profile says chain_truncated */
    c->undecoded[c->n] = tf_x509_parse(&c->cert[c->n], der, len) != 0;
    if (c->undecoded[c->n]) {
        memset(&c->cert[c->n], 0, sizeof(c->cert[c->n]));
        snprintf(c->cert[c->n].key_type, sizeof(c->cert[c->n].key_type), "unknown");
    }
    c->der[c->n] = der;
    c->der_len[c->n] = len;
    c->n++;
    return 0;
}

/*
 * The schema's names (docs/profile-schema.md): a key type or signature hash the
 * decoder names but the schema does not list (x25519, x448, sha3-256, sm3, ...) is
 * written "unknown"; the OID beside it (key.oid, signature_oid) says which it is.
 */
static const char *const schema_key_types[] = { "rsa", "ec", "ed25519", "ed448", "rsa-pss", "dsa" };
static const char *const schema_hashes[] = { "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "" };

static const char *schema_name(const char *name, const char *const *known, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) if (strcmp(name, known[i]) == 0) return name;
    return "unknown";
}

static void json_key(tf_json *j, const tf_cert *c)
{
    tf_json_obj(j, "key");
    tf_json_str(j, "type", schema_name(c->key_type, schema_key_types, TF_ARRAY_LEN(schema_key_types)));
    tf_json_int(j, "bits", c->key_bits);
    tf_json_str(j, "curve", c->curve[0] ? c->curve : NULL);
    tf_json_str(j, "oid", c->key_oid);
    tf_json_end_obj(j);
}

static void json_cert_fields(tf_json *j, const tf_cert *c, const uint8_t *der, size_t len)
{
    size_t i;
    tf_json_str(j, "subject", c->subject);
    tf_json_str(j, "issuer", c->issuer);
    json_key(j, c);
    tf_json_str(j, "signature_algorithm", c->sig_alg);
    tf_json_str(j, "signature_hash", schema_name(c->sig_hash, schema_hashes, TF_ARRAY_LEN(schema_hashes)));
    tf_json_str(j, "signature_oid", c->sig_oid);
    tf_json_str(j, "not_before", c->not_before);
    tf_json_str(j, "not_after", c->not_after);
    tf_json_str(j, "serial", c->serial_hex);
    tf_json_arr(j, "san");
    for (i = 0; i < c->san_count; i++) tf_json_str(j, NULL, c->san_dns[i]);
    tf_json_end_arr(j);
    if (c->san_total > c->san_count) tf_json_bool(j, "san_truncated", 1);
    tf_json_bool(j, "is_ca", c->is_ca);
    tf_json_int(j, "der_len", (long long)len);
    tf_json_b64(j, "der_b64", der, len);
}

/*
 * A certificate the decoder rejects: every key of a certificate, with "" for the
 * names, "unknown" for the key type and hash, null for what must be well-formed when
 * given (OIDs, times, serial), and "decoded": false.
 */
static void json_undecoded_cert(tf_json *j, const uint8_t *der, size_t len)
{
    tf_json_bool(j, "decoded", 0);
    tf_json_str(j, "subject", "");
    tf_json_str(j, "issuer", "");
    tf_json_obj(j, "key");
    tf_json_str(j, "type", "unknown");
    tf_json_int(j, "bits", 0);
    tf_json_null(j, "curve");
    tf_json_null(j, "oid");
    tf_json_end_obj(j);
    tf_json_str(j, "signature_algorithm", "");
    tf_json_str(j, "signature_hash", "unknown");
    tf_json_null(j, "signature_oid");
    tf_json_null(j, "not_before");
    tf_json_null(j, "not_after");
    tf_json_null(j, "serial");
    tf_json_arr(j, "san");
    tf_json_end_arr(j);
    tf_json_bool(j, "is_ca", 0);
    tf_json_int(j, "der_len", (long long)len);
    tf_json_b64(j, "der_b64", der, len);
}

static const char *vname(int slot) { return tf_version_name(tf_slot_version(slot)); }

static void json_versions(tf_json *j, const tf_profile *p)
{
    int slot;
    tf_json_arr(j, "versions");
    for (slot = 0; slot < TF_NV; slot++) if (p->accepted[slot]) tf_json_str(j, NULL, vname(slot));
    tf_json_end_arr(j);
}

/* One suite as {"id": "0x00A8", "name": IANA name, or the id when unknown}. */
static void json_suite(tf_json *j, const char *key, uint16_t suite)
{
    char id[8];
    const char *name = tf_suite_name(suite);
    snprintf(id, sizeof(id), "0x%04X", suite);
    tf_json_obj(j, key);
    tf_json_str(j, "id", id);
    tf_json_str(j, "name", name ? name : id);
    tf_json_end_obj(j);
}

static void json_suites(tf_json *j, const tf_profile *p)
{
    int slot;
    size_t i;
    tf_json_obj(j, "ciphersuites");
    for (slot = 0; slot < TF_NV; slot++) {
        if (!p->accepted[slot]) continue;
        tf_json_arr(j, vname(slot));
        for (i = 0; i < p->nsuites[slot]; i++) json_suite(j, NULL, p->suites[slot][i]);
        tf_json_end_arr(j);
    }
    tf_json_end_obj(j);
    tf_json_obj(j, "server_preference");
    for (slot = 0; slot < TF_NV; slot++) {
        if (!p->accepted[slot]) continue;
        if (p->server_pref[slot] < 0) tf_json_null(j, vname(slot));
        else tf_json_bool(j, vname(slot), p->server_pref[slot]);
    }
    tf_json_end_obj(j);
}

/* Writes `name(id)` or the hex id when unknown. */
static void json_id(tf_json *j, const char *key, uint16_t id, const char *(*name)(uint16_t))
{
    char hex[8];
    const char *n = name(id);
    snprintf(hex, sizeof(hex), "0x%04X", id);
    tf_json_str(j, key, n ? n : hex);
}

static void json_id_lists(tf_json *j, const char *key, const tf_profile *p,
                          const uint16_t (*lists)[TF_MAX_LIST], const size_t *counts, const char *(*name)(uint16_t))
{
    int slot;
    size_t i;
    tf_json_obj(j, key);
    for (slot = 0; slot < TF_NV; slot++) {
        if (!p->accepted[slot]) continue;
        tf_json_arr(j, vname(slot));
        for (i = 0; i < counts[slot]; i++) json_id(j, NULL, lists[slot][i], name);
        tf_json_end_arr(j);
    }
    tf_json_end_obj(j);
}

static void json_groups(tf_json *j, const tf_profile *p)
{
    int slot;
    json_id_lists(j, "groups", p, p->groups, p->ngroups, tf_group_name);
    tf_json_obj(j, "group_preferred");
    for (slot = 0; slot < TF_NV; slot++) {
        if (!p->accepted[slot]) continue;
        if (p->group_pref[slot]) json_id(j, vname(slot), p->group_pref[slot], tf_group_name);
        else tf_json_null(j, vname(slot));
    }
    tf_json_end_obj(j);
    tf_json_obj(j, "key_exchange");
    for (slot = 0; slot < TF_NV; slot++) {
        if (!p->accepted[slot]) continue;
        if (!p->kx_known[slot]) { tf_json_null(j, vname(slot)); continue; }
        tf_json_obj(j, vname(slot));
        if (p->kx_group[slot]) json_id(j, slot == 3 ? "group" : "curve", p->kx_group[slot], tf_group_name);
        if (p->kx_dh_bits[slot]) tf_json_int(j, "dh_bits", p->kx_dh_bits[slot]);
        tf_json_end_obj(j);
    }
    tf_json_end_obj(j);
}

/* Whether chain certificate `cert` and anchor `a` are the same certificate. */
static int same_der(const chain_t *c, size_t i, const tf_anchor *a)
{
    return a->der && a->der_len == c->der_len[i] && memcmp(a->der, c->der[i], a->der_len) == 0;
}

/* The "issued by" edges between certificates of the chain, and its self-signed roots. */
static void chain_graph(const chain_t *c, tf_path_graph *g)
{
    size_t i, j;
    memset(g, 0, sizeof *g);
    g->n = c->n;
    for (i = 0; i < c->n; i++) {
        if (c->cert[i].self_issued && tf_sig_check(&c->cert[i], &c->cert[i]) != 0) g->root[i] = TF_TRUST_SENT;
        for (j = 0; j < c->n; j++)
            if (j != i && tf_x509_issued_by(&c->cert[i], &c->cert[j]) && tf_sig_check(&c->cert[i], &c->cert[j]) != 0)
                g->issuers[i] |= (uint32_t)1 << j;
    }
}

/*
 * Looks up, in `paths`, an issuer of every certificate of the chain not yet
 * anchored, marking it with trust t; a sent root found there as itself is
 * upgraded to t when t is better than being sent.  0, or TF_ERR_NOMEM.
 */
static int anchor_graph(const chain_t *c, const char *const *paths, size_t np, tf_trust t, tf_anchor *out,
                        tf_path_graph *g)
{
    size_t i;
    if (np == 0) return TF_OK;
    if (tf_anchor_find_each(paths, np, c->cert, c->n, out) < 0) return TF_ERR_NOMEM;
    for (i = 0; i < c->n; i++) {
        if (!out[i].der) continue;
        if (same_der(c, i, &out[i])) {
            if (g->root[i] && t < g->root[i]) g->root[i] = (uint8_t)t;
            tf_anchor_free(&out[i]);  /* not an anchor outside the chain */
        } else if (!g->anchored[i]) {
            g->anchored[i] = (uint8_t)t;
        }
    }
    return TF_OK;
}

/* Picks the path: --ca bundles first, the system store only when they and the sent roots end none. */
static int choose_path(const tf_profile *p, const chain_t *c, tf_anchor *ca, tf_anchor *store, tf_path *path)
{
    tf_path_graph g;
    const char *store_path[1] = { TF_SYSTEM_BUNDLE };
    int rc;
    chain_graph(c, &g);
    rc = anchor_graph(c, p->ca_paths, p->nca, TF_TRUST_CA, ca, &g);
    if (rc) return rc;
    tf_path_build(&g, path);
    if (path->trust == TF_TRUST_CA || path->trust == TF_TRUST_SENT || !p->system_store) return TF_OK;
    rc = anchor_graph(c, store_path, 1, TF_TRUST_STORE, store, &g);
    if (rc) return rc;
    tf_path_build(&g, path);
    return TF_OK;
}

static void json_indices(tf_json *j, const char *key, const size_t *idx, size_t n)
{
    size_t i;
    tf_json_arr(j, key);
    for (i = 0; i < n; i++) tf_json_int(j, NULL, (long long)idx[i]);
    tf_json_end_arr(j);
}

/* trust_anchor and chain_complete for the chosen path. */
static void json_anchor(tf_json *j, const chain_t *c, const tf_path *path, const tf_anchor *ca,
                        const tf_anchor *store)
{
    size_t last = path->len ? path->idx[path->len - 1] : 0;
    const tf_anchor *a = NULL;
    if (path->end == TF_PATH_END_ROOT) {
        tf_json_obj(j, "trust_anchor");
        tf_json_str(j, "source", "sent");
        json_cert_fields(j, &c->cert[last], c->der[last], c->der_len[last]);
        tf_json_end_obj(j);
    } else if (path->end == TF_PATH_END_ANCHOR) {
        a = path->trust == TF_TRUST_CA ? &ca[last] : &store[last];
        tf_json_obj(j, "trust_anchor");
        tf_json_str(j, "source", a->source);
        json_cert_fields(j, &a->cert, a->der, a->der_len);
        tf_json_end_obj(j);
    } else {
        tf_json_null(j, "trust_anchor");
    }
    tf_json_bool(j, "chain_complete", path->end != TF_PATH_END_NONE);
}

static int json_chain(tf_json *j, const tf_profile *p)
{
    chain_t *c = calloc(1, sizeof(*c));
    tf_anchor *ca = NULL, *store = NULL;
    tf_path path;
    size_t i;
    int rc = TF_ERR_NOMEM;

    if (!c) goto cleanup;
    if (p->cert_msg) tf_parse_certificate(p->cert_msg, p->cert_msg_len, p->chain_slot == 3, add_cert, c);
    ca = calloc(c->n ? c->n : 1, sizeof *ca);
    store = calloc(c->n ? c->n : 1, sizeof *store);
    if (!ca || !store) goto cleanup;
    rc = choose_path(p, c, ca, store, &path);
    if (rc) goto cleanup;
    tf_json_arr(j, "chain");
    for (i = 0; i < c->n; i++) {
        tf_json_obj(j, NULL);
        if (c->undecoded[i]) json_undecoded_cert(j, c->der[i], c->der_len[i]);
        else json_cert_fields(j, &c->cert[i], c->der[i], c->der_len[i]);
        tf_json_end_obj(j);
    }
    tf_json_end_arr(j);
    tf_json_str(j, "chain_from", p->chain_slot >= 0 ? vname(p->chain_slot) : NULL);
    json_indices(j, "chain_path", path.idx, path.len);
    json_indices(j, "chain_unused", path.unused, path.nunused);
    if (c->sent > c->n) {
        tf_json_obj(j, "chain_truncated");
        tf_json_int(j, "sent", (long long)c->sent);
        tf_json_int(j, "kept", (long long)c->n);
        tf_json_end_obj(j);
    }
    json_anchor(j, c, &path, ca, store);
cleanup:
    for (i = 0; c && ca && i < c->n; i++) tf_anchor_free(&ca[i]);
    for (i = 0; c && store && i < c->n; i++) tf_anchor_free(&store[i]);
    free(ca);
    free(store);
    free(c);
    return rc;
}

static void json_records(tf_json *j, const tf_profile *p)
{
    tf_json_obj(j, "records");
    tf_json_int(j, "max_record_len", (long long)p->max_record_len);
    tf_json_int(j, "max_plaintext_len", (long long)p->max_plain_len);
    tf_json_int(j, "max_handshake_msg_len", (long long)p->max_hs_len);
    tf_json_int(j, "certificate_msg_len", (long long)p->cert_msg_len);
    if (p->mfl_honoured < 0) tf_json_null(j, "mfl_honoured"); else tf_json_bool(j, "mfl_honoured", p->mfl_honoured);
    if (p->rsl_acked) tf_json_int(j, "record_size_limit", p->rsl); else tf_json_null(j, "record_size_limit");
    if (p->rsl_acked) tf_json_bool(j, "record_size_limit_honoured", p->rsl_honoured);
    else tf_json_null(j, "record_size_limit_honoured");
    tf_json_end_obj(j);
}

static void json_ext_flag(tf_json *j, const tf_profile *p, const char *key, int v)
{
    if (p->ext_known) tf_json_bool(j, key, v); else tf_json_null(j, key);
}

static void json_tristate(tf_json *j, const char *key, int v)
{
    if (v < 0) tf_json_null(j, key); else tf_json_bool(j, key, v);
}

static void json_count(tf_json *j, const char *key, long v)
{
    if (v < 0) tf_json_null(j, key); else tf_json_int(j, key, v);
}

/*
 * "dtls" (DTLS targets only): the transport's facts (dtls.h).  The version
 * found is listed as TLSv1.2 in "versions" (its handshake); "version" here
 * names it on the wire.
 */
static void json_dtls(tf_json *j, const tf_profile *p)
{
    const tf_dtls_facts *d = &p->dtls;
    if (!p->target->dtls) return;
    tf_json_obj(j, "dtls");
    tf_json_str(j, "version", d->version == TF_DTLS_V12 ? "DTLSv1.2" : d->version == TF_DTLS_V10 ? "DTLSv1.0" : NULL);
    tf_json_str(j, "transport", "udp");
    tf_json_bool(j, "hello_verify", d->hello_verify > 0);
    tf_json_int(j, "cookie_len", d->cookie_len);
    tf_json_int(j, "round_trips", d->round_trips);
    tf_json_int(j, "retransmissions", d->retransmissions);
    tf_json_int(j, "max_datagram_len", (long long)d->max_datagram);
    tf_json_bool(j, "fragmented", d->fragmented);
    tf_json_bool(j, "fragmented_across_datagrams", d->across_datagrams);
    tf_json_bool(j, "connection_id", p->cid);
    if (p->cid) tf_json_int(j, "connection_id_len", p->cid_len); else tf_json_null(j, "connection_id_len");
    tf_json_end_obj(j);
}

/* "resumption": one object per version the resumption step ran for (resume.h). */
static void json_resumption(tf_json *j, const tf_profile *p)
{
    int i;
    if (!p->resume_ran[0] && !p->resume_ran[1]) return;
    tf_json_obj(j, "resumption");
    for (i = 1; i >= 0; i--) {
        const tf_resume_facts *f = &p->resume[i];
        if (!p->resume_ran[i]) continue;
        tf_json_obj(j, vname(i + 2));
        if (i == 0) {
            json_tristate(j, "session_id", f->session_id);
            json_tristate(j, "ticket", f->ticket);
        } else {
            json_count(j, "tickets", f->tickets);
            json_tristate(j, "psk_dhe_ke", f->psk_dhe_ke);
            json_tristate(j, "psk_ke", f->psk_ke);
        }
        json_count(j, "ticket_len", f->ticket_len);
        json_count(j, "ticket_lifetime_s", f->ticket_lifetime);
        tf_json_end_obj(j);
    }
    tf_json_end_obj(j);
}

/* "psk": what the psk step proved for the identity (psk.h); never the key. */
static void json_psk(tf_json *j, const tf_profile *p)
{
    const tf_psk_facts *f = &p->psk_facts;
    size_t i;
    if (!p->psk_ran) return;
    tf_json_obj(j, "psk");
    tf_json_str(j, "identity", p->psk->identity);
    tf_json_arr(j, "tls12_suites");
    for (i = 0; i < f->ntls12; i++) json_suite(j, NULL, f->tls12[i]);
    tf_json_end_arr(j);
    tf_json_arr(j, "tls13_modes");
    if (f->psk_ke == 1) tf_json_str(j, NULL, "psk_ke");
    if (f->psk_dhe_ke == 1) tf_json_str(j, NULL, "psk_dhe_ke");
    tf_json_end_arr(j);
    if (f->tls13_suite) json_suite(j, "tls13_suite", f->tls13_suite); else tf_json_null(j, "tls13_suite");
    if (f->tls13_group) json_id(j, "tls13_group", f->tls13_group, tf_group_name); else tf_json_null(j, "tls13_group");
    tf_json_end_obj(j);
}

static void json_extensions(tf_json *j, const tf_profile *p)
{
    tf_json_obj(j, "extensions");
    json_ext_flag(j, p, "extended_master_secret", p->ems);
    if (p->etm_known) tf_json_bool(j, "encrypt_then_mac", p->etm); else tf_json_null(j, "encrypt_then_mac");
    json_ext_flag(j, p, "session_ticket", p->ticket);
    json_ext_flag(j, p, "renegotiation_info", p->renego);
    tf_json_str(j, "alpn", p->alpn[0] ? p->alpn : NULL);
    if (p->alpn_offered[0]) {       /* "P1,P2": names hold no comma (tf_alpn_list_parse) */
        const char *name = p->alpn_offered;
        char one[256];
        tf_json_arr(j, "alpn_offered");
        for (;;) {
            const char *end = strchr(name, ',');
            size_t n = end ? (size_t)(end - name) : strlen(name);
            snprintf(one, sizeof(one), "%.*s", (int)n, name);
            tf_json_str(j, NULL, one);
            if (!end) break;
            name = end + 1;
        }
        tf_json_end_arr(j);
    }
    if (p->alpn_required < 0) tf_json_null(j, "alpn_required"); else tf_json_bool(j, "alpn_required", p->alpn_required);
    tf_json_end_obj(j);
}

/* DN of a CertificateRequest CA name: decode it as a certificate issuer would
   be decoded would need a full cert; print hex when it cannot be rendered. */
static void json_certreq(tf_json *j, const tf_profile *p)
{
    tf_certreq cr;
    size_t i;
    tf_json_bool(j, "client_cert_requested", p->client_cert_requested);
    if (!p->certreq_msg || tf_parse_cert_request(p->certreq_msg, p->certreq_msg_len, p->certreq_slot == 3,
                                                 tf_slot_version(p->certreq_slot), &cr) != 0) {
        tf_json_null(j, "client_cert_request");
        return;
    }
    tf_json_obj(j, "client_cert_request");
    tf_json_arr(j, "signature_algorithms");
    for (i = 0; i < cr.nsigalgs; i++) json_id(j, NULL, cr.sigalgs[i], tf_sigalg_name);
    tf_json_end_arr(j);
    tf_json_arr(j, "ca_names");
    for (i = 0; i < cr.nca; i++) {
        char dn[512];
        if (tf_x509_name_string(cr.ca_der[i], cr.ca_len[i], dn, sizeof(dn)) == 0) tf_json_str(j, NULL, dn);
        else tf_json_hex(j, NULL, cr.ca_der[i], cr.ca_len[i]);
    }
    tf_json_end_arr(j);
    tf_json_arr(j, "cert_types");
    for (i = 0; i < cr.ntypes; i++) tf_json_int(j, NULL, cr.cert_types[i]);
    tf_json_end_arr(j);
    tf_json_end_obj(j);
}

static void json_steps(tf_json *j, const tf_profile *p)
{
    size_t i;
    tf_json_obj(j, "steps");
    for (i = 0; i < p->nsteps; i++) {
        const tf_step *st = &p->steps[i];
        tf_json_obj(j, st->name);
        tf_json_str(j, "status", st->ok ? "ok" : "error");
        if (st->note[0]) tf_json_str(j, "note", st->note);
        if (!st->ok) {
            tf_json_str(j, "reason", st->reason);
            tf_json_int(j, "code", st->code);
            tf_json_str(j, "error", tf_err_name(st->code));
        }
        tf_json_end_obj(j);
    }
    tf_json_end_obj(j);
}

static void json_header(tf_json *j, const tf_profile *p)
{
    tf_json_int(j, "schema_version", 1);
    tf_json_obj(j, "tool");
    tf_json_str(j, "name", "tlsfit-probe");
    tf_json_str(j, "version", "0.1.0");
    tf_json_end_obj(j);
    tf_json_obj(j, "target");
    tf_json_str(j, "host", p->target->host);
    tf_json_int(j, "port", p->target->port);
    tf_json_str(j, "sni", p->target->sni[0] ? p->target->sni : NULL);
    tf_json_str(j, "address", p->target->addr_str);
    tf_json_end_obj(j);
    tf_json_str(j, "probed_at", p->probed_at);
}

int tf_profile_write(const tf_profile *p, FILE *f)
{
    tf_json j;
    int slot, rc;

    tf_json_init(&j, f);
    tf_json_obj(&j, NULL);
    json_header(&j, p);
    json_versions(&j, p);
    json_suites(&j, p);
    json_groups(&j, p);
    json_id_lists(&j, "signature_algorithms", p, p->sigalgs, p->nsigalgs, tf_sigalg_name);
    tf_json_obj(&j, "signs_with_unoffered_scheme");
    for (slot = 0; slot < TF_NV; slot++) if (p->accepted[slot]) tf_json_bool(&j, vname(slot), p->sigalg_unoffered[slot]);
    tf_json_end_obj(&j);
    rc = json_chain(&j, p);
    if (rc) return rc;
    json_records(&j, p);
    json_extensions(&j, p);
    json_resumption(&j, p);
    json_psk(&j, p);
    json_dtls(&j, p);
    json_certreq(&j, p);
    tf_json_obj(&j, "stats");
    tf_json_int(&j, "connections", p->target->connections);
    tf_json_int(&j, "elapsed_ms", p->elapsed_ms);
    tf_json_end_obj(&j);
    json_steps(&j, p);
    tf_json_end_obj(&j);
    return tf_json_finish(&j) == 0 ? TF_OK : TF_ERR_OUTPUT;
}
