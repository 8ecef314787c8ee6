/*
 * tls13.c -- ephemeral key exchange, key schedule and record opening for the
 * prober's TLS 1.3 path (see tls13.h).  Crypto comes from mbedTLS 3.6's
 * legacy APIs: ecp/ecdh, hkdf, md, gcm, ccm, chachapoly, ctr_drbg, entropy.
 *
 * Implementation notes
 * --------------------
 * tf_kex (one ephemeral key pair):
 *   grp      the loaded curve; set once by tf_kex_generate, never changed.
 *   d, Q     our private scalar and public point; Q is what tf_kex_generate
 *            wrote to `pub`.
 *   plen     byte length of a field element: the size of the shared secret
 *            and of each coordinate on the wire.
 *   drbg     CTR_DRBG seeded from `entropy`; one per key pair so nothing is
 *            shared between threads.  Used for key generation and for the
 *            blinding inside mbedtls_ecdh_compute_shared.
 *   Wire forms: NIST and brainpool shares are 0x04||X||Y (big-endian, each
 *   plen bytes); X25519/X448 shares and secrets are the raw little-endian
 *   u-coordinate, which is exactly what mbedtls_ecp_point_write_binary /
 *   read_binary produce for Montgomery curves.  The (EC)DHE secret of a
 *   Weierstrass curve is X of the shared point, big-endian, padded to plen.
 *   A peer share of the wrong length or form, off the curve, or giving an
 *   all-zero secret (RFC 8446 7.4.2) is rejected with TF_ERR_CRYPTO.
 *
 * tf_tls13 (one key schedule, server->client direction only):
 *   suite    the fixed cipher-suite row (hash, AEAD, key and tag length).
 *   th       running transcript hash (SHA-256 or SHA-384 per suite) over
 *            every message given to tf_tls13_transcript, in order.  No bytes
 *            are buffered; tf_tls13_handshake_keys hashes a clone, so the
 *            transcript can keep growing afterwards.
 *   th_err   sticky: set when a hash update failed; handshake_keys then fails.
 *   keyed    0 until tf_tls13_handshake_keys succeeded; tf_tls13_open
 *            refuses to run before that.  The AEAD context of the suite
 *            holds the server handshake traffic key while keyed is 1.
 *   iv       server_write_iv (12 bytes).
 *   seq      read sequence number: the number of records opened
 *            successfully since the keys were set.  It is reset to 0 by
 *            handshake_keys, advanced only by a successful tf_tls13_open,
 *            and the nonce of the next record is iv XOR seq (big-endian,
 *            left-padded to 12 bytes).  A failed open leaves seq unchanged
 *            (TLS treats that failure as fatal anyway) and leaves the
 *            record buffer's contents unspecified.
 *   tf_tls13_open also answers TF_ERR_CRYPTO, before decrypting, when the
 *   keys are not set, when the length field of `hdr` is not `len`, when
 *   len <= tag length or len > 2^14 + 256 (RFC 8446 5.2); and after
 *   decrypting when the plaintext is all zero padding (no content type).
 *   Secrets (early, handshake, traffic) live only on the stack of
 *   tf_tls13_handshake_keys and are wiped before it returns.
 */
#include "tls13.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "inner.h"

#include <mbedtls/ccm.h>
#include <mbedtls/chachapoly.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

/* ---- ephemeral key exchange ------------------------------------------- */

struct tf_kex {
    mbedtls_ecp_group grp;
    mbedtls_mpi d;
    mbedtls_ecp_point Q;
    size_t plen;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

static const struct {
    uint16_t iana;
    mbedtls_ecp_group_id id;
} tf_kex_groups[] = {
    { 0x0017, MBEDTLS_ECP_DP_SECP256R1 },
    { 0x0018, MBEDTLS_ECP_DP_SECP384R1 },
    { 0x0019, MBEDTLS_ECP_DP_SECP521R1 },
    { 0x001D, MBEDTLS_ECP_DP_CURVE25519 },
    { 0x001E, MBEDTLS_ECP_DP_CURVE448 },
    { 0x001F, MBEDTLS_ECP_DP_BP256R1 }, /* brainpoolP256r1tls13 */
    { 0x0020, MBEDTLS_ECP_DP_BP384R1 }, /* brainpoolP384r1tls13 */
    { 0x0021, MBEDTLS_ECP_DP_BP512R1 }, /* brainpoolP512r1tls13 */
};

/* The mbedTLS curve for `group`, or NONE when unknown or not built in. */
static mbedtls_ecp_group_id tf_kex_curve(uint16_t group)
{
    size_t i;
    for (i = 0; i < TF_ARRAY_LEN(tf_kex_groups); i++) {
        if (tf_kex_groups[i].iana != group) continue;
        if (mbedtls_ecp_curve_info_from_grp_id(tf_kex_groups[i].id) == NULL) break;
        if (!mbedtls_ecdh_can_do(tf_kex_groups[i].id)) break;
        return tf_kex_groups[i].id;
    }
    return MBEDTLS_ECP_DP_NONE;
}

int tf_kex_supported(uint16_t group)
{
    return tf_kex_curve(group) != MBEDTLS_ECP_DP_NONE;
}

static int tf_kex_is_mont(const tf_kex *k)
{
    return mbedtls_ecp_get_type(&k->grp) == MBEDTLS_ECP_TYPE_MONTGOMERY;
}

static tf_kex *tf_kex_alloc(void)
{
    tf_kex *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    mbedtls_ecp_group_init(&k->grp);
    mbedtls_mpi_init(&k->d);
    mbedtls_ecp_point_init(&k->Q);
    mbedtls_entropy_init(&k->entropy);
    mbedtls_ctr_drbg_init(&k->drbg);
    return k;
}

static int tf_kex_setup(tf_kex *k, mbedtls_ecp_group_id id)
{
    static const unsigned char pers[] = "tlsfit tls13 kex";
    const mbedtls_ecp_curve_info *ci = mbedtls_ecp_curve_info_from_grp_id(id);

    if (!ci || mbedtls_ecp_group_load(&k->grp, id) != 0) return TF_ERR_CRYPTO;
    k->plen = ((size_t)ci->bit_size + 7) / 8;
    if (mbedtls_ctr_drbg_seed(&k->drbg, mbedtls_entropy_func, &k->entropy,
                              pers, sizeof pers - 1) != 0) return TF_ERR_CRYPTO;
    if (mbedtls_ecdh_gen_public(&k->grp, &k->d, &k->Q,
                                mbedtls_ctr_drbg_random, &k->drbg) != 0) return TF_ERR_CRYPTO;
    return 0;
}

int tf_kex_generate(tf_kex **out, uint16_t group, uint8_t *pub, size_t pub_cap, size_t *pub_len)
{
    mbedtls_ecp_group_id id = tf_kex_curve(group);
    tf_kex *k = NULL;
    size_t olen = 0;
    int rc;

    *out = NULL;
    *pub_len = 0;
    if (id == MBEDTLS_ECP_DP_NONE || !pub) return TF_ERR_CRYPTO;
    k = tf_kex_alloc();
    if (!k) return TF_ERR_NOMEM;
    rc = tf_kex_setup(k, id);
    if (rc != 0) goto fail;
    /* The format argument is ignored for Montgomery curves (raw LE u). */
    if (mbedtls_ecp_point_write_binary(&k->grp, &k->Q, MBEDTLS_ECP_PF_UNCOMPRESSED,
                                       &olen, pub, pub_cap) != 0) {
        rc = TF_ERR_CRYPTO;
        goto fail;
    }
    *pub_len = olen;
    *out = k;
    return 0;
fail:
    tf_kex_free(k);
    return rc;
}

/* Checks the wire form of a peer share before mbedTLS parses it: TLS 1.3
   allows only the uncompressed point, or exactly plen raw bytes. */
static int tf_kex_peer_form_ok(const tf_kex *k, const uint8_t *peer, size_t peer_len)
{
    if (!peer || peer_len == 0) return 0;
    if (tf_kex_is_mont(k)) return peer_len == k->plen;
    return peer_len == 1 + 2 * k->plen && peer[0] == 0x04;
}

/* Writes the shared X coordinate as the TLS 1.3 (EC)DHE secret. */
static int tf_kex_write_secret(const tf_kex *k, const mbedtls_mpi *z,
                               uint8_t *secret, size_t secret_cap)
{
    uint8_t acc = 0;
    size_t i;
    int rc;

    if (secret_cap < k->plen) return TF_ERR_CRYPTO;
    rc = tf_kex_is_mont(k) ? mbedtls_mpi_write_binary_le(z, secret, k->plen)
                           : mbedtls_mpi_write_binary(z, secret, k->plen);
    if (rc != 0) return TF_ERR_CRYPTO;
    for (i = 0; i < k->plen; i++) acc |= secret[i];
    return acc ? 0 : TF_ERR_CRYPTO;
}

int tf_kex_compute(tf_kex *k, const uint8_t *peer, size_t peer_len,
                   uint8_t *secret, size_t secret_cap, size_t *secret_len)
{
    mbedtls_ecp_point P;
    mbedtls_mpi z;
    int rc = TF_ERR_CRYPTO;

    *secret_len = 0;
    if (!k || !secret || !tf_kex_peer_form_ok(k, peer, peer_len)) return TF_ERR_CRYPTO;
    mbedtls_ecp_point_init(&P);
    mbedtls_mpi_init(&z);
    if (mbedtls_ecp_point_read_binary(&k->grp, &P, peer, peer_len) != 0) goto cleanup;
    if (mbedtls_ecp_check_pubkey(&k->grp, &P) != 0) goto cleanup;
    if (mbedtls_ecdh_compute_shared(&k->grp, &z, &P, &k->d,
                                    mbedtls_ctr_drbg_random, &k->drbg) != 0) goto cleanup;
    rc = tf_kex_write_secret(k, &z, secret, secret_cap);
    if (rc == 0) *secret_len = k->plen;
    else mbedtls_platform_zeroize(secret, secret_cap < k->plen ? secret_cap : k->plen);
cleanup:
    mbedtls_mpi_free(&z);
    mbedtls_ecp_point_free(&P);
    return rc;
}

void tf_kex_free(tf_kex *k)
{
    if (!k) return;
    mbedtls_ctr_drbg_free(&k->drbg);
    mbedtls_entropy_free(&k->entropy);
    mbedtls_ecp_point_free(&k->Q);
    mbedtls_mpi_free(&k->d);
    mbedtls_ecp_group_free(&k->grp);
    free(k);
}

/* ---- key schedule and record protection -------------------------------- */

enum { TF_AEAD_GCM, TF_AEAD_CCM, TF_AEAD_CHACHAPOLY };

#define TF_TLS13_IV_LEN 12
#define TF_TLS13_MAX_HASH 48
/* RFC 8446 5.2: TLSCiphertext.length must not exceed 2^14 + 256. */
#define TF_TLS13_MAX_CIPHERTEXT (16384 + 256)

typedef struct {
    uint16_t id;
    mbedtls_md_type_t md;
    int aead;
    size_t key_len;
    size_t tag_len;
} tf_suite;

static const tf_suite tf_suites[] = {
    { 0x1301, MBEDTLS_MD_SHA256, TF_AEAD_GCM, 16, 16 },        /* AES_128_GCM_SHA256 */
    { 0x1302, MBEDTLS_MD_SHA384, TF_AEAD_GCM, 32, 16 },        /* AES_256_GCM_SHA384 */
    { 0x1303, MBEDTLS_MD_SHA256, TF_AEAD_CHACHAPOLY, 32, 16 }, /* CHACHA20_POLY1305_SHA256 */
    { 0x1304, MBEDTLS_MD_SHA256, TF_AEAD_CCM, 16, 16 },        /* AES_128_CCM_SHA256 */
    { 0x1305, MBEDTLS_MD_SHA256, TF_AEAD_CCM, 16, 8 },         /* AES_128_CCM_8_SHA256 */
};

struct tf_tls13 {
    const tf_suite *suite;
    const mbedtls_md_info_t *md;
    size_t hash_len;
    mbedtls_md_context_t th;
    int th_err;
    int keyed;
    uint8_t iv[TF_TLS13_IV_LEN];
    uint64_t seq;
    mbedtls_gcm_context gcm;
    mbedtls_ccm_context ccm;
    mbedtls_chachapoly_context chachapoly;
};

static const tf_suite *tf_suite_find(uint16_t suite)
{
    size_t i;
    for (i = 0; i < TF_ARRAY_LEN(tf_suites); i++) {
        if (tf_suites[i].id != suite) continue;
        if (mbedtls_md_info_from_type(tf_suites[i].md) == NULL) return NULL;
        return &tf_suites[i];
    }
    return NULL;
}

int tf_tls13_suite_supported(uint16_t suite)
{
    return tf_suite_find(suite) != NULL;
}

int tf_tls13_new(tf_tls13 **out, uint16_t suite)
{
    const tf_suite *s = tf_suite_find(suite);
    tf_tls13 *t;
    int rc;

    *out = NULL;
    if (!s) return TF_ERR_CRYPTO;
    t = calloc(1, sizeof *t);
    if (!t) return TF_ERR_NOMEM;
    t->suite = s;
    t->md = mbedtls_md_info_from_type(s->md);
    t->hash_len = mbedtls_md_get_size(t->md);
    mbedtls_md_init(&t->th);
    mbedtls_gcm_init(&t->gcm);
    mbedtls_ccm_init(&t->ccm);
    mbedtls_chachapoly_init(&t->chachapoly);
    rc = mbedtls_md_setup(&t->th, t->md, 0);
    if (rc == 0) rc = mbedtls_md_starts(&t->th);
    if (rc != 0) {
        tf_tls13_free(t);
        return rc == MBEDTLS_ERR_MD_ALLOC_FAILED ? TF_ERR_NOMEM : TF_ERR_CRYPTO;
    }
    *out = t;
    return 0;
}

void tf_tls13_transcript(tf_tls13 *t, const uint8_t *msg, size_t len)
{
    if (!t || t->th_err) return;
    if (len == 0) return;
    if (!msg || mbedtls_md_update(&t->th, msg, len) != 0) t->th_err = 1;
}

/* Hash of the transcript so far, without ending the running hash. */
static int tf_tls13_transcript_hash(tf_tls13 *t, uint8_t *out)
{
    mbedtls_md_context_t c;
    int rc = TF_ERR_CRYPTO;

    if (t->th_err) return TF_ERR_CRYPTO;
    mbedtls_md_init(&c);
    if (mbedtls_md_setup(&c, t->md, 0) != 0) goto cleanup;
    if (mbedtls_md_clone(&c, &t->th) != 0) goto cleanup;
    if (mbedtls_md_finish(&c, out) != 0) goto cleanup;
    rc = 0;
cleanup:
    mbedtls_md_free(&c);
    return rc;
}

/*
 * HKDF-Expand-Label(secret, label, context, out_len) (RFC 8446 7.1):
 * HKDF-Expand with info = uint16 length || <"tls13 " + label> || <context>.
 */
static int tf_expand_label(const mbedtls_md_info_t *md, const uint8_t *secret, size_t secret_len,
                           const char *label, const uint8_t *ctx, size_t ctx_len,
                           uint8_t *out, size_t out_len)
{
    static const char prefix[] = "tls13 ";
    uint8_t info[2 + 1 + 255 + 1 + 255];
    size_t label_len = strlen(label);
    size_t at;
    tf_wr w;

    tf_wr_init(&w, info, sizeof info);
    tf_wr_u16(&w, (uint32_t)out_len);
    at = tf_wr_open(&w, 1);
    tf_wr_bytes(&w, prefix, sizeof prefix - 1);
    tf_wr_bytes(&w, label, label_len);
    tf_wr_close(&w, at, 1);
    at = tf_wr_open(&w, 1);
    tf_wr_bytes(&w, ctx, ctx_len);
    tf_wr_close(&w, at, 1);
    if (w.bad || out_len > 0xFFFF) return TF_ERR_CRYPTO;
    if (mbedtls_hkdf_expand(md, secret, secret_len, info, w.len, out, out_len) != 0)
        return TF_ERR_CRYPTO;
    return 0;
}

/* Handshake secret from the (EC)DHE secret: early = Extract(0, 0^L),
   derived = Derive-Secret(early, "derived", ""), hs = Extract(derived, ecdhe). */
static int tf_tls13_hs_secret(const tf_tls13 *t, const uint8_t *ecdhe, size_t ecdhe_len,
                              uint8_t *hs)
{
    uint8_t zeros[TF_TLS13_MAX_HASH] = { 0 };
    uint8_t early[TF_TLS13_MAX_HASH], derived[TF_TLS13_MAX_HASH], empty_hash[TF_TLS13_MAX_HASH];
    size_t L = t->hash_len;
    int rc = TF_ERR_CRYPTO;

    if (mbedtls_hkdf_extract(t->md, zeros, L, zeros, L, early) != 0) goto cleanup;
    if (mbedtls_md(t->md, zeros, 0, empty_hash) != 0) goto cleanup;
    if (tf_expand_label(t->md, early, L, "derived", empty_hash, L, derived, L) != 0) goto cleanup;
    if (mbedtls_hkdf_extract(t->md, derived, L, ecdhe, ecdhe_len, hs) != 0) goto cleanup;
    rc = 0;
cleanup:
    mbedtls_platform_zeroize(early, sizeof early);
    mbedtls_platform_zeroize(derived, sizeof derived);
    return rc;
}

/* Loads `key` into the AEAD context of the suite. */
static int tf_tls13_set_key(tf_tls13 *t, const uint8_t *key)
{
    unsigned bits = (unsigned)(t->suite->key_len * 8);
    int rc;

    switch (t->suite->aead) {
    case TF_AEAD_GCM:
        rc = mbedtls_gcm_setkey(&t->gcm, MBEDTLS_CIPHER_ID_AES, key, bits);
        break;
    case TF_AEAD_CCM:
        rc = mbedtls_ccm_setkey(&t->ccm, MBEDTLS_CIPHER_ID_AES, key, bits);
        break;
    default:
        rc = mbedtls_chachapoly_setkey(&t->chachapoly, key);
        break;
    }
    return rc == 0 ? 0 : TF_ERR_CRYPTO;
}

int tf_tls13_handshake_keys(tf_tls13 *t, const uint8_t *ecdhe, size_t ecdhe_len)
{
    uint8_t hs[TF_TLS13_MAX_HASH], th[TF_TLS13_MAX_HASH], traffic[TF_TLS13_MAX_HASH];
    uint8_t key[32];
    size_t L;
    int rc = TF_ERR_CRYPTO;

    if (!t || !ecdhe || ecdhe_len == 0) return TF_ERR_CRYPTO;
    L = t->hash_len;
    t->keyed = 0;
    if (tf_tls13_transcript_hash(t, th) != 0) goto cleanup;
    if (tf_tls13_hs_secret(t, ecdhe, ecdhe_len, hs) != 0) goto cleanup;
    if (tf_expand_label(t->md, hs, L, "s hs traffic", th, L, traffic, L) != 0) goto cleanup;
    if (tf_expand_label(t->md, traffic, L, "key", NULL, 0, key, t->suite->key_len) != 0)
        goto cleanup;
    if (tf_expand_label(t->md, traffic, L, "iv", NULL, 0, t->iv, TF_TLS13_IV_LEN) != 0)
        goto cleanup;
    if (tf_tls13_set_key(t, key) != 0) goto cleanup;
    t->seq = 0;
    t->keyed = 1;
    rc = 0;
cleanup:
    mbedtls_platform_zeroize(hs, sizeof hs);
    mbedtls_platform_zeroize(traffic, sizeof traffic);
    mbedtls_platform_zeroize(key, sizeof key);
    return rc;
}

/* Per-record nonce (RFC 8446 5.3): iv XOR the 64-bit sequence number,
   big-endian and left-padded with zeros to the iv length. */
static void tf_tls13_nonce(const tf_tls13 *t, uint8_t nonce[TF_TLS13_IV_LEN])
{
    int i;
    memcpy(nonce, t->iv, TF_TLS13_IV_LEN);
    for (i = 0; i < 8; i++)
        nonce[TF_TLS13_IV_LEN - 1 - i] ^= (uint8_t)(t->seq >> (8 * i));
}

/* Authenticates and decrypts buf[0..ct_len) in place; the tag follows it. */
static int tf_tls13_aead_open(tf_tls13 *t, const uint8_t nonce[TF_TLS13_IV_LEN],
                              const uint8_t hdr[5], uint8_t *buf, size_t ct_len)
{
    const uint8_t *tag = buf + ct_len;
    size_t tag_len = t->suite->tag_len;

    switch (t->suite->aead) {
    case TF_AEAD_GCM:
        return mbedtls_gcm_auth_decrypt(&t->gcm, ct_len, nonce, TF_TLS13_IV_LEN, hdr, 5,
                                        tag, tag_len, buf, buf);
    case TF_AEAD_CCM:
        return mbedtls_ccm_auth_decrypt(&t->ccm, ct_len, nonce, TF_TLS13_IV_LEN, hdr, 5,
                                        buf, buf, tag, tag_len);
    default:
        return mbedtls_chachapoly_auth_decrypt(&t->chachapoly, ct_len, nonce, hdr, 5,
                                               tag, buf, buf);
    }
}

int tf_tls13_open(tf_tls13 *t, const uint8_t hdr[5], uint8_t *buf, size_t len,
                  uint8_t *inner_type, size_t *plain_len)
{
    uint8_t nonce[TF_TLS13_IV_LEN];
    size_t n;

    *inner_type = 0;
    *plain_len = 0;
    if (!t || !t->keyed || !hdr || !buf) return TF_ERR_CRYPTO;
    if (len <= t->suite->tag_len || len > TF_TLS13_MAX_CIPHERTEXT) return TF_ERR_CRYPTO;
    if (tf_dec16be(hdr + 3) != len || t->seq == UINT64_MAX) return TF_ERR_CRYPTO;
    tf_tls13_nonce(t, nonce);
    n = len - t->suite->tag_len;
    if (tf_tls13_aead_open(t, nonce, hdr, buf, n) != 0) return TF_ERR_CRYPTO;
    while (n > 0 && buf[n - 1] == 0) n--;
    if (n == 0) return TF_ERR_CRYPTO; /* no content type: all padding */
    *inner_type = buf[n - 1];
    *plain_len = n - 1;
    t->seq++;
    return 0;
}

void tf_tls13_free(tf_tls13 *t)
{
    if (!t) return;
    mbedtls_chachapoly_free(&t->chachapoly);
    mbedtls_ccm_free(&t->ccm);
    mbedtls_gcm_free(&t->gcm);
    mbedtls_md_free(&t->th);
    mbedtls_platform_zeroize(t->iv, sizeof t->iv);
    free(t);
}
