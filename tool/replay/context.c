/*
 * context.c -- the replica's SSL_CTX from its options (see replay.h).
 *
 * Lists are applied item by item where OpenSSL takes names it may not know:
 * an item it refuses is left out and printed as a "differs:" line, and the
 * rest is set in the recorded order.  TLS 1.2 suites come as IANA ids and are
 * named through SSL_CIPHER_find(), then read back from the context, so a
 * suite this OpenSSL lacks is reported instead of silently missing.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/ssl.h>

#include "replay.h"

typedef int (*list_setter)(SSL_CTX *ctx, const char *list);

static int set_groups(SSL_CTX *ctx, const char *l)
{
    return (int)SSL_CTX_set1_groups_list(ctx, l);
}
static int set_sigalgs(SSL_CTX *ctx, const char *l)
{
    return (int)SSL_CTX_set1_sigalgs_list(ctx, l);
}
static int set_client_sigalgs(SSL_CTX *ctx, const char *l)
{
    return (int)SSL_CTX_set1_client_sigalgs_list(ctx, l);
}
static int set_suites13(SSL_CTX *ctx, const char *l) { return SSL_CTX_set_ciphersuites(ctx, l); }

/* Appends item to the colon list out (capacity TF_REPLAY_MAX_LIST). */
static void append(char *out, const char *item)
{
    size_t used = strlen(out);
    if (used + strlen(item) + 2 > TF_REPLAY_MAX_LIST) return;
    if (used) strcat(out, ":");
    strcat(out, item);
}

/*
 * The items of the colon list `list` that OpenSSL takes one at a time (each
 * tested with `set` on a scratch context), in order, written to out (capacity
 * TF_REPLAY_MAX_LIST); prints "differs: FIELD: ITEM ..." for each refused one
 * (FIELD, `what`: the profile's key).  Returns the number kept, -1 on failure.
 */
static int kept_list(const char *list, list_setter set, const char *what, char *out)
{
    SSL_CTX *scratch = SSL_CTX_new(TLS_server_method());
    char copy[TF_REPLAY_MAX_LIST];
    char *save = NULL, *item;
    int n = 0;
    out[0] = '\0';
    if (scratch == NULL) return -1;
    snprintf(copy, sizeof copy, "%s", list);
    for (item = strtok_r(copy, ":", &save); item; item = strtok_r(NULL, ":", &save)) {
        if (set(scratch, item) == 1) {
            append(out, item);
            n++;
        } else {
            printf("differs: %s: %s is not available in this OpenSSL; left out\n", what, item);
        }
    }
    SSL_CTX_free(scratch);
    ERR_clear_error();
    return n;
}

/* Sets the kept items of `list` on ctx; the number kept, or -1 when setting failed. */
static int apply_list(SSL_CTX *ctx, const char *list, list_setter set, const char *what)
{
    char kept[TF_REPLAY_MAX_LIST];
    int n = kept_list(list, set, what, kept);
    if (n > 0 && set(ctx, kept) != 1) return -1;
    return n;
}

/* Does ctx hold the cipher whose IANA id is `id`? */
static int has_cipher(SSL_CTX *ctx, unsigned id)
{
    STACK_OF(SSL_CIPHER) *all = SSL_CTX_get_ciphers(ctx);
    int i;
    for (i = 0; all && i < sk_SSL_CIPHER_num(all); i++)
        if ((SSL_CIPHER_get_protocol_id(sk_SSL_CIPHER_value(all, i)) & 0xFFFF) == id) return 1;
    return 0;
}

/*
 * The TLS <= 1.2 suites: ids ("C030:C02F") to OpenSSL names, set in order with
 * the security level, then read back.  Returns the number of suites set.
 */
static int apply_suites12(SSL_CTX *ctx, const tf_replay_opts *o)
{
    char copy[TF_REPLAY_MAX_LIST], names[TF_REPLAY_MAX_LIST] = "", level[32];
    char *save = NULL, *item;
    unsigned found[TF_REPLAY_MAX_LIST / 5];
    size_t nfound = 0, i;
    int n = 0;
    SSL *probe = SSL_new(ctx);
    if (probe == NULL) return -1;
    snprintf(copy, sizeof copy, "%s", o->suites12);
    for (item = strtok_r(copy, ":", &save); item; item = strtok_r(NULL, ":", &save)) {
        unsigned long id = strtoul(item, NULL, 16);
        unsigned char wire[2] = { (unsigned char)(id >> 8), (unsigned char)id };
        const SSL_CIPHER *c = SSL_CIPHER_find(probe, wire);
        if (c == NULL)
            printf("differs: ciphersuites: 0x%04lX is not in this OpenSSL; left out\n", id);
        else if (nfound < sizeof found / sizeof found[0]) {
            append(names, SSL_CIPHER_get_name(c));
            found[nfound++] = (unsigned)id;
        }
    }
    SSL_free(probe);
    if (o->seclevel >= 0) {
        snprintf(level, sizeof level, "@SECLEVEL=%ld", o->seclevel);
        append(names, level);
    }
    if (SSL_CTX_set_cipher_list(ctx, names) != 1) return 0;
    for (i = 0; i < nfound; i++) {
        if (has_cipher(ctx, found[i])) n++;
        else printf("differs: ciphersuites: 0x%04X cannot be enabled in this OpenSSL; left out\n",
                    found[i]);
    }
    return n;
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    const char *want = arg;
    size_t wlen = strlen(want);
    unsigned i = 0;
    (void)ssl;
    while (i < inlen) {
        unsigned len = in[i];
        if (i + 1 + len > inlen) break;
        if (len == wlen && memcmp(in + i + 1, want, wlen) == 0) {
            *out = in + i + 1;
            *outlen = (unsigned char)len;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + len;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

/* Any client certificate is accepted: the replica cannot hold the real CA. */
static int accept_any(int ok, X509_STORE_CTX *store) { (void)ok; (void)store; return 1; }

/* The client-certificate request: mode, the CA names it lists, its schemes. */
static int apply_client_auth(SSL_CTX *ctx, const tf_replay_opts *o)
{
    int mode = SSL_VERIFY_PEER;
    if (o->verify == TF_REPLAY_VERIFY_NONE) return 0;
    if (o->verify == TF_REPLAY_VERIFY_REQUIRE) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, accept_any);
    if (o->client_ca) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->client_ca);
        if (names == NULL) {
            fprintf(stderr, "tlsfit-replay: cannot read the client CA names from %s\n",
                    o->client_ca);
            return -1;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
    }
    if (o->client_sigalgs && apply_list(ctx, o->client_sigalgs, set_client_sigalgs,
                                        "client_cert_request.signature_algorithms") < 0) return -1;
    return 0;
}

/*
 * The per-connection facts: which order picks the suite in TLS <= 1.2 and in
 * TLS 1.3, and TLS 1.3's own groups and schemes (already checked item by item).
 *
 * OpenSSL's one switch, SSL_OP_CIPHER_SERVER_PREFERENCE, orders suites, groups
 * and schemes together; real servers often follow the client's suite order and
 * still rank groups themselves.  So the switch stays on (groups and schemes in
 * the recorded order: for a server that follows the client, that is the order
 * it was offered them, which picks the same), and a server that follows the
 * client's suite order is replayed by setting, per connection, the suites to
 * the client's offer in its order, kept to the recorded ones.  Where that
 * equivalence fails (TLS 1.2 with an ECDSA leaf: the prober offers the leaf's
 * curve last, so a server that follows the client picks another one first),
 * client_groups12 turns the switch off for the connection: everything in the
 * client's order.
 */
typedef struct {
    char groups13[TF_REPLAY_MAX_LIST];
    char sigalgs13[TF_REPLAY_MAX_LIST];
    int server_pref12, server_pref13;
    int client_groups12;            /* TLS <= 1.2: groups and schemes in the client's order */
    int max_version;
} conn_facts;

static conn_facts g_conn;

/* Will this ClientHello get TLS 1.3?  (It lists 0x0304 in supported_versions.) */
static int offers_tls13(SSL *s)
{
    const unsigned char *ext;
    size_t len, i;
    if (SSL_client_hello_get0_ext(s, TLSEXT_TYPE_supported_versions, &ext, &len) != 1 ||
        len < 1 || ext[0] + 1u > len) return 0;
    for (i = 1; i + 1 < (size_t)ext[0] + 1; i += 2)
        if (ext[i] == 0x03 && ext[i + 1] == 0x04) return 1;
    return 0;
}

/* The client's suites in its order, kept to those ctx serves: OpenSSL names (TLS <= 1.2)
 * or standard names (TLS 1.3) in out. */
static void client_ordered(SSL *s, int tls13, char *out)
{
    const unsigned char *ids;
    size_t n = SSL_client_hello_get0_ciphers(s, &ids), i;
    STACK_OF(SSL_CIPHER) *ours = SSL_CTX_get_ciphers(SSL_get_SSL_CTX(s));
    out[0] = '\0';
    for (i = 0; i + 1 < n; i += 2) {
        unsigned id = (unsigned)ids[i] << 8 | ids[i + 1];
        int k;
        if ((id >> 8 == 0x13) != tls13) continue;
        for (k = 0; ours && k < sk_SSL_CIPHER_num(ours); k++) {
            const SSL_CIPHER *c = sk_SSL_CIPHER_value(ours, k);
            if ((SSL_CIPHER_get_protocol_id(c) & 0xFFFF) == id) {
                append(out, tls13 ? SSL_CIPHER_standard_name(c) : SSL_CIPHER_get_name(c));
                break;
            }
        }
    }
}

/* SSL_CTX_set_client_hello_cb: the suite order and TLS 1.3's own lists. */
static int on_client_hello(SSL *s, int *alert, void *arg)
{
    const conn_facts *f = arg;
    char order[TF_REPLAY_MAX_LIST];
    int tls13 = f->max_version == TLS1_3_VERSION && offers_tls13(s);
    (void)alert;
    if (tls13 && f->groups13[0]) SSL_set1_groups_list(s, f->groups13);
    if (tls13 && f->sigalgs13[0]) SSL_set1_sigalgs_list(s, f->sigalgs13);
    if (!tls13 && f->client_groups12) {
        SSL_clear_options(s, SSL_OP_CIPHER_SERVER_PREFERENCE);
    } else if (!(tls13 ? f->server_pref13 : f->server_pref12)) {
        client_ordered(s, tls13, order);
        if (order[0] && tls13) SSL_set_ciphersuites(s, order);
        else if (order[0]) SSL_set_cipher_list(s, order);
    }
    ERR_clear_error();
    return SSL_CLIENT_HELLO_SUCCESS;
}

/* The order switch (always on) and the per-connection facts' callback. */
static void apply_per_connection(SSL_CTX *ctx, const tf_replay_opts *o)
{
    g_conn.max_version = o->max_version;
    g_conn.server_pref12 = o->server_pref;
    g_conn.server_pref13 = o->server_pref13 >= 0 ? o->server_pref13 : o->server_pref;
    g_conn.client_groups12 = o->client_groups12;
    if (o->groups13) kept_list(o->groups13, set_groups, "groups", g_conn.groups13);
    if (o->sigalgs13) kept_list(o->sigalgs13, set_sigalgs, "signature_algorithms",
                                g_conn.sigalgs13);
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_client_hello_cb(ctx, on_client_hello, &g_conn);
}

/* DHE: an RFC 7919 group of the recorded size (the next larger one), or OpenSSL's auto. */
static int apply_dh(SSL_CTX *ctx, const tf_replay_opts *o)
{
    if (o->dh_bits > 0) {
        const char *name = o->dh_bits <= 2048 ? "ffdhe2048" : o->dh_bits <= 3072 ? "ffdhe3072"
                         : o->dh_bits <= 4096 ? "ffdhe4096" : "ffdhe8192";
        EVP_PKEY *dh = NULL;
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
        OSSL_PARAM params[2] = { OSSL_PARAM_utf8_string("group", (char *)name, 0),
                                 OSSL_PARAM_END };
        if (pc == NULL || EVP_PKEY_paramgen_init(pc) != 1 ||
            EVP_PKEY_CTX_set_params(pc, params) != 1 || EVP_PKEY_paramgen(pc, &dh) != 1 ||
            SSL_CTX_set0_tmp_dh_pkey(ctx, dh) != 1) {
            EVP_PKEY_CTX_free(pc);
            fprintf(stderr, "tlsfit-replay: cannot set up DH group %s\n", name);
            return -1;
        }
        EVP_PKEY_CTX_free(pc);
        if (o->dh_bits != 2048 && o->dh_bits != 3072 && o->dh_bits != 4096 && o->dh_bits != 8192)
            printf("differs: key_exchange: DHE uses %s, not a %ld-bit prime\n", name,
                   o->dh_bits);
    } else {
        SSL_CTX_set_dh_auto(ctx, 1);
    }
    return 0;
}

/* Key exchange and extensions: groups, schemes, DH, options, fragments, ALPN. */
static int apply_handshake(SSL_CTX *ctx, const tf_replay_opts *o)
{
    uint64_t opts = 0;
    if (o->groups && apply_list(ctx, o->groups, set_groups, "groups") < 0) return -1;
    if (o->sigalgs && apply_list(ctx, o->sigalgs, set_sigalgs, "signature_algorithms") < 0)
        return -1;
    if (o->no_ems) opts |= SSL_OP_NO_EXTENDED_MASTER_SECRET;
    if (o->no_etm) opts |= SSL_OP_NO_ENCRYPT_THEN_MAC;
    if (o->no_ticket) opts |= SSL_OP_NO_TICKET;
    SSL_CTX_set_options(ctx, opts);
    if (apply_dh(ctx, o) != 0) return -1;
    if (o->send_frag > 0) SSL_CTX_set_max_send_fragment(ctx, o->send_frag);
    if (o->alpn) SSL_CTX_set_alpn_select_cb(ctx, alpn_select, (void *)o->alpn);
    apply_per_connection(ctx, o);
    return apply_client_auth(ctx, o);
}

SSL_CTX *tf_replay_context(const tf_replay_opts *o)
{
    int suites = 0, n;
    /* DTLS: o's versions are TLS 1.2 (main.c checks), served as DTLS 1.2 */
    SSL_CTX *ctx = SSL_CTX_new(o->dtls ? DTLS_server_method() : TLS_server_method());
    if (ctx == NULL) goto fail;
    if (SSL_CTX_set_min_proto_version(ctx, o->dtls ? DTLS1_2_VERSION : o->min_version) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, o->dtls ? DTLS1_2_VERSION : o->max_version) != 1)
        goto fail;
    if (o->seclevel >= 0) SSL_CTX_set_security_level(ctx, (int)o->seclevel);
    if (o->dtls && tf_replay_dtls_setup(ctx, o) != 0) goto fail;
    if (o->cert && (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)) {
        fprintf(stderr, "tlsfit-replay: cannot load the chain %s with the key %s\n",
                o->cert, o->key);
        goto fail;
    }
    if (o->max_version == TLS1_3_VERSION) {
        n = apply_list(ctx, o->suites13 ? o->suites13 : "", set_suites13, "ciphersuites");
        if (n < 0) goto fail;
        if (n == 0) SSL_CTX_set_ciphersuites(ctx, "");
        suites += n;
    }
    if (o->min_version < TLS1_3_VERSION && o->suites12) {
        n = apply_suites12(ctx, o);
        if (n < 0) goto fail;
        if (n == 0 && suites > 0) {          /* else OpenSSL's default list would serve */
            ERR_clear_error();
            SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
            printf("differs: versions: no TLS <= 1.2 suite can be served; the replica "
                   "serves TLS 1.3 only\n");
        }
        suites += n;
    }
    if (suites == 0) {
        ERR_clear_error();
        fprintf(stderr, "tlsfit-replay: none of the recorded suites can be served\n");
        goto fail;
    }
    if (apply_handshake(ctx, o) != 0) goto fail;
    return ctx;
fail:
    if (ctx == NULL || ERR_peek_error() != 0) {
        char buf[256];
        ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
        fprintf(stderr, "tlsfit-replay: OpenSSL: %s\n", buf);
    }
    SSL_CTX_free(ctx);
    return NULL;
}
