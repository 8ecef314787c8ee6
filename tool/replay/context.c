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

static int set_groups(SSL_CTX *ctx, const char *l) { return (int)SSL_CTX_set1_groups_list(ctx, l); }
static int set_sigalgs(SSL_CTX *ctx, const char *l) { return (int)SSL_CTX_set1_sigalgs_list(ctx, l); }
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
 * Applies the colon list `list` with `set`, keeping only the items OpenSSL
 * takes one at a time (tested on a scratch context); prints "differs: FIELD:
 * ITEM ..." for each refused one (FIELD: the profile's key).  Returns the number of items kept, or -1
 * when setting the kept list failed.
 */
static int apply_list(SSL_CTX *ctx, const char *list, list_setter set, const char *what)
{
    char copy[TF_REPLAY_MAX_LIST], kept[TF_REPLAY_MAX_LIST] = "";
    char *save = NULL, *item;
    int n = 0;
    SSL_CTX *scratch = SSL_CTX_new(TLS_server_method());
    if (scratch == NULL) return -1;
    snprintf(copy, sizeof copy, "%s", list);
    for (item = strtok_r(copy, ":", &save); item; item = strtok_r(NULL, ":", &save)) {
        if (set(scratch, item) == 1) {
            append(kept, item);
            n++;
        } else {
            printf("differs: %s: %s is not available in this OpenSSL; left out\n", what, item);
        }
    }
    SSL_CTX_free(scratch);
    ERR_clear_error();
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

/* Key exchange and extensions: groups, schemes, DH, options, fragments, ALPN. */
static int apply_handshake(SSL_CTX *ctx, const tf_replay_opts *o)
{
    uint64_t opts = 0;
    if (o->groups && apply_list(ctx, o->groups, set_groups, "groups") < 0) return -1;
    if (o->sigalgs && apply_list(ctx, o->sigalgs, set_sigalgs, "signature_algorithms") < 0)
        return -1;
    if (o->server_pref) opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
    if (o->no_ems) opts |= SSL_OP_NO_EXTENDED_MASTER_SECRET;
    if (o->no_etm) opts |= SSL_OP_NO_ENCRYPT_THEN_MAC;
    if (o->no_ticket) opts |= SSL_OP_NO_TICKET;
    SSL_CTX_set_options(ctx, opts);
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
    if (o->send_frag > 0) SSL_CTX_set_max_send_fragment(ctx, o->send_frag);
    if (o->alpn) SSL_CTX_set_alpn_select_cb(ctx, alpn_select, (void *)o->alpn);
    return apply_client_auth(ctx, o);
}

SSL_CTX *tf_replay_context(const tf_replay_opts *o)
{
    int suites = 0, n;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) goto fail;
    if (SSL_CTX_set_min_proto_version(ctx, o->min_version) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, o->max_version) != 1) goto fail;
    if (o->seclevel >= 0) SSL_CTX_set_security_level(ctx, (int)o->seclevel);
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
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
        suites += n;
    }
    if (suites == 0) {
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
