/*
 * fuzz_tls13.c -- TLS 1.3 record decryption (tls13.c tf_tls13_open, through
 * record.c's tf_conn_record).
 *
 * The fuzzer chooses plaintexts; the harness is the server: it derives the
 * server handshake traffic key and IV itself (RFC 8446 7.1 and 7.3, written
 * here independently of tls13.c, with mbedTLS's HKDF and AEAD) from a fixed
 * (EC)DHE secret and transcript, encrypts each TLSInnerPlaintext into a
 * record and feeds the records to a tf_conn holding the prober's key
 * schedule for the same inputs.
 *
 * Input: one byte choosing the suite (0x1301 + n % 5), then records, each
 *   flags(1) pad(1) len(2) content(len)
 * flags bits 0-6: the inner content type (0 -> 22, handshake); bit 7: flip
 * one ciphertext bit.  Oracle: an intact record decrypts to exactly its
 * content and type (an alert record surfaces as TF_CONN_ALERT or, under two
 * bytes, TF_ERR_MALFORMED); a flipped one fails with TF_ERR_CRYPTO.  The
 * records are then read again as handshake messages (tf_conn_handshake), so
 * reassembly sees decrypted fragments, empty ones included.
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/cipher.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>

#include "errors.h"
#include "fuzz.h"
#include "record.h"
#include "tls13.h"

#define MAX_RECORDS 32
#define MAX_INNER 16385                /* 2^14 + 1: content type included (RFC 8446 5.4) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    uint16_t id;
    mbedtls_md_type_t hash;
    mbedtls_cipher_type_t cipher;
    size_t key_len, tag_len;
} suite_row;

static const suite_row suites[] = {
    { 0x1301, MBEDTLS_MD_SHA256, MBEDTLS_CIPHER_AES_128_GCM, 16, 16 },
    { 0x1302, MBEDTLS_MD_SHA384, MBEDTLS_CIPHER_AES_256_GCM, 32, 16 },
    { 0x1303, MBEDTLS_MD_SHA256, MBEDTLS_CIPHER_CHACHA20_POLY1305, 32, 16 },
    { 0x1304, MBEDTLS_MD_SHA256, MBEDTLS_CIPHER_AES_128_CCM, 16, 16 },
    { 0x1305, MBEDTLS_MD_SHA256, MBEDTLS_CIPHER_AES_128_CCM, 16, 8 },
};

static const uint8_t client_hello[] = { 1, 0, 0, 4, 'f', 'u', 'z', 'z' };
static const uint8_t server_hello[] = { 2, 0, 0, 4, 's', 'e', 'r', 'v' };
static const uint8_t ecdhe[32] = { 0x42, 0x17, 0x99, 1, 2, 3, 4, 5 };

/* HKDF-Expand-Label(secret, label, context, len) of RFC 8446 7.1. */
static int expand_label(const mbedtls_md_info_t *md, const uint8_t *secret, const char *label,
                        const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t len)
{
    uint8_t info[2 + 1 + 255 + 1 + 64];
    size_t n = 0, ll = 6 + strlen(label);
    info[n++] = (uint8_t)(len >> 8);
    info[n++] = (uint8_t)len;
    info[n++] = (uint8_t)ll;
    memcpy(info + n, "tls13 ", 6);
    memcpy(info + n + 6, label, ll - 6);
    n += ll;
    info[n++] = (uint8_t)ctx_len;
    if (ctx_len) memcpy(info + n, ctx, ctx_len);
    n += ctx_len;
    return mbedtls_hkdf_expand(md, secret, mbedtls_md_get_size(md), info, n, out, len);
}

/* The server handshake traffic key and IV for suite r. */
static int server_keys(const suite_row *r, uint8_t *key, uint8_t iv[12])
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(r->hash);
    uint8_t zeros[64] = { 0 }, early[64], derived[64], hs[64], th[64], empty[64], shs[64];
    size_t hl = mbedtls_md_get_size(md);
    mbedtls_md_context_t t;
    int rc;

    mbedtls_md_init(&t);
    rc = mbedtls_md_setup(&t, md, 0) || mbedtls_md_starts(&t) ||
         mbedtls_md_update(&t, client_hello, sizeof(client_hello)) ||
         mbedtls_md_update(&t, server_hello, sizeof(server_hello)) || mbedtls_md_finish(&t, th);
    mbedtls_md_free(&t);
    if (rc) return -1;
    if (mbedtls_md(md, NULL, 0, empty) || mbedtls_hkdf_extract(md, NULL, 0, zeros, hl, early) ||
        expand_label(md, early, "derived", empty, hl, derived, hl) ||
        mbedtls_hkdf_extract(md, derived, hl, ecdhe, sizeof(ecdhe), hs) ||
        expand_label(md, hs, "s hs traffic", th, hl, shs, hl) ||
        expand_label(md, shs, "key", NULL, 0, key, r->key_len) ||
        expand_label(md, shs, "iv", NULL, 0, iv, 12))
        return -1;
    return 0;
}

/* Encrypts inner[0..n) as record number seq into out (header + body); returns the length or 0. */
static size_t seal(mbedtls_cipher_context_t *aead, const suite_row *r, const uint8_t iv[12], uint64_t seq,
                   const uint8_t *inner, size_t n, uint8_t *out)
{
    uint8_t nonce[12];
    size_t body = n + r->tag_len, olen = 0, i;
    memcpy(nonce, iv, 12);
    for (i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
    out[0] = TF_CT_APPDATA; out[1] = 3; out[2] = 3;
    out[3] = (uint8_t)(body >> 8); out[4] = (uint8_t)body;
    if (mbedtls_cipher_auth_encrypt_ext(aead, nonce, 12, out, 5, inner, n, out + 5, body, &olen, r->tag_len) ||
        olen != body)
        return 0;
    return 5 + body;
}

typedef struct {
    uint8_t type;
    int flipped;
    const uint8_t *content;
    size_t len;
} sent_rec;

/* Reads the records back through the prober and checks each against what was sent. */
static void check_records(tf_conn *c, const sent_rec *recs, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        int rc = tf_conn_record(c);
        if (recs[i].flipped) {
            if (rc != TF_ERR_CRYPTO) abort();
            return;                               /* the sequence stops at a failed open */
        }
        if (recs[i].type == TF_CT_ALERT) {
            if (rc != (recs[i].len >= 2 ? TF_CONN_ALERT : TF_ERR_MALFORMED)) abort();
        } else if (rc != TF_OK) {
            abort();
        }
        if (c->type != recs[i].type || c->body_len != recs[i].len ||
            (recs[i].len && memcmp(c->body, recs[i].content, recs[i].len) != 0)) abort();
    }
}

/* The prober's key schedule for the same secret and transcript. */
static tf_tls13 *prober_keys(uint16_t suite)
{
    tf_tls13 *t = NULL;
    if (tf_tls13_new(&t, suite)) abort();
    tf_tls13_transcript(t, client_hello, sizeof(client_hello));
    tf_tls13_transcript(t, server_hello, sizeof(server_hello));
    if (tf_tls13_handshake_keys(t, ecdhe, sizeof(ecdhe))) abort();
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_cursor in;
    const suite_row *r;
    uint8_t key[32], iv[12], *stream = NULL, *inner = NULL;
    sent_rec recs[MAX_RECORDS];
    size_t nrec = 0, slen = 0;
    mbedtls_cipher_context_t aead;
    tf_conn *c = NULL;
    const uint8_t *msg;
    size_t len;

    fz_init(&in, data, size);
    r = &suites[fz_u8(&in) % 5];
    mbedtls_cipher_init(&aead);
    if (server_keys(r, key, iv) || mbedtls_cipher_setup(&aead, mbedtls_cipher_info_from_type(r->cipher)) ||
        mbedtls_cipher_setkey(&aead, key, (int)(8 * r->key_len), MBEDTLS_ENCRYPT))
        abort();
    stream = malloc(MAX_RECORDS * (5 + MAX_INNER + 16));
    inner = malloc(MAX_INNER);
    c = malloc(sizeof(*c));
    if (!stream || !inner || !c) goto cleanup;
    while (fz_left(&in) > 0 && nrec < MAX_RECORDS) {
        uint8_t flags = fz_u8(&in), pad = fz_u8(&in);
        size_t want = fz_u16(&in) % MAX_INNER, n, rl;
        sent_rec *s = &recs[nrec];
        s->type = (flags & 0x7f) ? (flags & 0x7f) : TF_CT_HANDSHAKE;
        s->flipped = (flags & 0x80) != 0;
        s->len = fz_take(&in, want, &s->content);
        if (s->len + 1 + pad > MAX_INNER) pad = (uint8_t)(MAX_INNER - 1 - s->len);
        memcpy(inner, s->content, s->len);
        inner[s->len] = s->type;
        memset(inner + s->len + 1, 0, pad);
        n = s->len + 1 + pad;
        rl = seal(&aead, r, iv, nrec, inner, n, stream + slen);
        if (rl == 0) abort();
        if (s->flipped) stream[slen + 5 + (pad + s->len) % (rl - 5)] ^= 0x01;
        slen += rl;
        nrec++;
        if (s->flipped) break;
    }
    tf_fuzz_net_set(stream, slen);
    tf_conn_init(c, 1000, 5000);
    tf_conn_protect(c, prober_keys(r->id));       /* c owns them now */
    check_records(c, recs, nrec);
    tf_conn_free(c);
    /* The same records again, as handshake messages: reassembly of decrypted
       fragments, an empty one included (record headers never carry those). */
    tf_fuzz_net_set(stream, slen);
    tf_conn_init(c, 1000, 5000);
    tf_conn_protect(c, prober_keys(r->id));
    while (tf_conn_handshake(c, &msg, &len) == TF_OK)
        if (len < 4) abort();
    tf_conn_free(c);
cleanup:
    mbedtls_cipher_free(&aead);
    free(c);
    free(inner);
    free(stream);
    return 0;
}
