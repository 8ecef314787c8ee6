/*
 * test_tls13.c -- unit tests for tool/probe/tls13.c: ephemeral key exchange
 * on every supported group, the TLS 1.3 handshake key schedule checked
 * against RFC 8448 section 3 ("Simple 1-RTT Handshake"), record opening for
 * all five TLS 1.3 suites, tampering and sequence-number handling.
 *
 * Vector provenance:
 *   RFC8448_*       copied from RFC 8448 section 3: the ClientHello and
 *                   ServerHello handshake messages, the client's (EC)DHE
 *                   shared secret and the server's first protected record
 *                   (EncryptedExtensions..Finished, 679 bytes with header).
 *                   Its inner plaintext is 657 bytes plus content type 22.
 *   SUITE_VECTORS   computed independently with Python's hmac/hashlib (key
 *                   schedule) and the `cryptography` package (AEAD) over the
 *                   same RFC 8448 transcript and shared secret, for each
 *                   suite 0x1301..0x1305:
 *                     r0 at sequence 0: inner plaintext 08 00 00 02 00 00
 *                        (an empty EncryptedExtensions), type 22, no padding;
 *                     r1 at sequence 1: "tlsfit", type 23, 3 zero bytes of
 *                        padding.
 *                   RECORD_ALL_ZERO (suite 0x1301, sequence 0) encrypts eight
 *                   zero bytes: valid tag, but no content type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "inner.h"
#include "tls13.h"
#include "rfc8448.h"
#include "unit.h"

static const char RFC8448_SERVER_FLIGHT[] =
    "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35e"
    "df7869fcf40aa40aa2b8ea73f848a7ca07612ef9f945cb960b4068905123ea78"
    "b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13b"
    "d9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9"
    "d7477609aee6e122a4cf51427325250c7d0e509289444c9b3a648f1d71035d2e"
    "d65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd61092"
    "8d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead68694"
    "5ba246ab66e5edd8044b4c6de3fcf2a89441ac66272fd8fb330ef8190579b368"
    "4596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f"
    "4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26"
    "f59ecaba9acbbb317b66d902f4f292a36ac1b639c637ce343117b65962224531"
    "7b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e"
    "1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da"
    "8c87c843f5e56eb4c5e8280a2b48052cf93b16499a66db7cca71e4599426f7d4"
    "61e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe"
    "5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb"
    "992f2b992f67f8afe67f76913fa388cb5630c8ca01e0c65d11c66a1e2ac4c859"
    "77b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038"
    "ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b84"
    "5e275592c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5"
    "d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e"
    "750edc53370d2b";

/* Expected first bytes of each handshake message in the RFC's flight. */
#define RFC8448_PLAIN_LEN 657
#define RFC8448_CERT_AT 40  /* EncryptedExtensions is 4 + 0x24 bytes */
#define RFC8448_CV_AT 485   /* Certificate is 4 + 0x1b9 bytes */
#define RFC8448_FIN_AT 621  /* CertificateVerify is 4 + 0x84 bytes */

static const struct {
    uint16_t suite;
    const char *r0;
    const char *r1;
} SUITE_VECTORS[] = {
    { 0x1301, "1703030017d1ff336c56d7a9fc63544a32298946a249882ea1a963c7",
              "170303001a096a7a61e31826407b49abea2e3f0f2d06545ee33c84be8e1633" },
    { 0x1302, "1703030017bdee17954fdf36aff9aea717ee19016b0993d97bd135df",
              "170303001adfeef56ed7bfd6f470aaf291102c6aaf1e9d4352007c77665da4" },
    { 0x1303, "17030300175873755203cf81cd997d112a260697c0761a77884c8a5f",
              "170303001a0cfe22d3173217efb60fb4abbb94875caa67940ab024405ae4d5" },
    { 0x1304, "1703030017d0fdec6e529cfe14313c567416b894ab078db2957e134c",
              "170303001a8cdee0c37196ff5b6ccc61206590a19b7d11b60ebb200c043b6c" },
    { 0x1305, "170303000fd0fdec6e529cfec13513eec93e0bf1",
              "17030300128cdee0c37196ff5b6ccc1c64bf7b31de5a32" },
};

static const char RECORD_ALL_ZERO[] =
    "1703030018d9ff336e56d7bffcd2014edc00f7b4e5d557f7812d7a6e0a";

/* A key schedule for `suite` keyed with the RFC 8448 transcript and secret. */
static tf_tls13 *rfc8448_schedule(uint16_t suite)
{
    uint8_t msg[512], ecdhe[32];
    size_t n;
    tf_tls13 *t = NULL;

    if (tf_tls13_new(&t, suite) != 0) return NULL;
    n = tf_unit_unhex(RFC8448_CLIENT_HELLO, msg, sizeof msg);
    TF_CHECK_EQ(n, 4 + 0xc0);
    tf_tls13_transcript(t, msg, n);
    n = tf_unit_unhex(RFC8448_SERVER_HELLO, msg, sizeof msg);
    TF_CHECK_EQ(n, 4 + 0x56);
    tf_tls13_transcript(t, msg, n);
    n = tf_unit_unhex(RFC8448_ECDHE, ecdhe, sizeof ecdhe);
    TF_CHECK_EQ(n, 32);
    if (tf_tls13_handshake_keys(t, ecdhe, n) != 0) {
        tf_tls13_free(t);
        return NULL;
    }
    return t;
}

/* Opens record `rec` (header + body, rec_len bytes) from a private copy. */
static int open_copy(tf_tls13 *t, const uint8_t *rec, size_t rec_len,
                     uint8_t *plain, uint8_t *type, size_t *plain_len)
{
    if (rec_len < 5) return -1;
    memcpy(plain, rec + 5, rec_len - 5);
    return tf_tls13_open(t, rec, plain, rec_len - 5, type, plain_len);
}

/* ---- (1) key exchange ------------------------------------------------- */

static const struct {
    uint16_t group;
    size_t pub_len;
    size_t secret_len;
    int mont;
} GROUPS[] = {
    { 0x0017, 65, 32, 0 },  { 0x0018, 97, 48, 0 },  { 0x0019, 133, 66, 0 },
    { 0x001D, 32, 32, 1 },  { 0x001E, 56, 56, 1 },  { 0x001F, 65, 32, 0 },
    { 0x0020, 97, 48, 0 },  { 0x0021, 129, 64, 0 },
};

/* Every malformed share must give TF_ERR_CRYPTO and no secret. */
static void check_bad_peer(tf_kex *k, const uint8_t *peer, size_t len)
{
    uint8_t secret[80];
    size_t slen = 99;
    TF_CHECK_EQ(tf_kex_compute(k, peer, len, secret, sizeof secret, &slen), TF_ERR_CRYPTO);
    TF_CHECK_EQ(slen, 0);
}

static void test_bad_peers(size_t gi, tf_kex *k, const uint8_t *good, size_t len)
{
    uint8_t bad[200];
    size_t plen = GROUPS[gi].secret_len;

    check_bad_peer(k, good, 0);
    check_bad_peer(k, NULL, 0);
    check_bad_peer(k, good, len - 1);            /* short */
    check_bad_peer(k, good, 1);
    memcpy(bad, good, len);
    bad[len] = 0;
    check_bad_peer(k, bad, len + 1);             /* long */
    memset(bad, 0, sizeof bad);
    check_bad_peer(k, bad, len);                 /* all zero: low order / not a point */
    if (GROUPS[gi].mont) {
        bad[0] = 1;                              /* u = 1: low order */
        check_bad_peer(k, bad, len);
        return;
    }
    check_bad_peer(k, bad, 1);                   /* point at infinity */
    memset(bad, 0xA5, len);
    bad[0] = 0x04;
    check_bad_peer(k, bad, len);                 /* garbage, off the curve */
    memcpy(bad, good, len);
    bad[len - 1] ^= 0x01;
    check_bad_peer(k, bad, len);                 /* Y nudged off the curve */
    bad[len - 1] ^= 0x01;
    bad[0] = 0x05;
    check_bad_peer(k, bad, len);                 /* unknown point form */
    bad[0] = (uint8_t)(0x02 | (good[len - 1] & 1));
    check_bad_peer(k, bad, 1 + plen);            /* compressed: not allowed in 1.3 */
}

static void test_group(size_t gi)
{
    uint16_t group = GROUPS[gi].group;
    uint8_t pa[200], pb[200], sa[80], sb[80];
    size_t la = 0, lb = 0, lsa = 0, lsb = 0;
    tf_kex *a = NULL, *b = NULL;

    TF_CHECK(tf_kex_supported(group));
    TF_CHECK_EQ(tf_kex_generate(&a, group, pa, sizeof pa, &la), 0);
    TF_CHECK_EQ(tf_kex_generate(&b, group, pb, sizeof pb, &lb), 0);
    if (!a || !b) goto done;
    TF_CHECK_EQ(la, GROUPS[gi].pub_len);
    TF_CHECK_EQ(lb, GROUPS[gi].pub_len);
    if (!GROUPS[gi].mont) TF_CHECK_EQ(pa[0], 0x04);
    TF_CHECK(la != lb || memcmp(pa, pb, la) != 0);
    TF_CHECK_EQ(tf_kex_compute(a, pb, lb, sa, sizeof sa, &lsa), 0);
    TF_CHECK_EQ(tf_kex_compute(b, pa, la, sb, sizeof sb, &lsb), 0);
    TF_CHECK_EQ(lsa, GROUPS[gi].secret_len);
    TF_CHECK(lsa == lsb && memcmp(sa, sb, lsa) == 0);
    TF_CHECK_EQ(tf_kex_compute(a, pb, lb, sa, lsa - 1, &lsa), TF_ERR_CRYPTO); /* no room */
    test_bad_peers(gi, a, pb, lb);
    /* the key pair still works after all the rejected shares */
    TF_CHECK_EQ(tf_kex_compute(a, pb, lb, sa, sizeof sa, &lsa), 0);
    TF_CHECK(lsa == lsb && memcmp(sa, sb, lsa) == 0);
done:
    tf_kex_free(a);
    tf_kex_free(b);
}

static void test_kex(void)
{
    static const uint16_t unsupported[] = { 0x0000, 0x0016, 0x001A, 0x0100, 0x11EC, 0xFFFF };
    uint8_t pub[200];
    size_t i, len = 7;
    tf_kex *k = (tf_kex *)&len;

    for (i = 0; i < TF_ARRAY_LEN(GROUPS); i++) test_group(i);
    for (i = 0; i < TF_ARRAY_LEN(unsupported); i++) {
        TF_CHECK(!tf_kex_supported(unsupported[i]));
        TF_CHECK_EQ(tf_kex_generate(&k, unsupported[i], pub, sizeof pub, &len), TF_ERR_CRYPTO);
        TF_CHECK(k == NULL);
    }
    k = (tf_kex *)&len;
    TF_CHECK_EQ(tf_kex_generate(&k, 0x0017, pub, 64, &len), TF_ERR_CRYPTO); /* no room */
    TF_CHECK(k == NULL);
    TF_CHECK_EQ(len, 0);
    tf_kex_free(NULL);
}

/* ---- (2) RFC 8448 key schedule and first protected record ------------- */

static void test_rfc8448(void)
{
    static uint8_t rec[1024], plain[1024];
    size_t rec_len = tf_unit_unhex(RFC8448_SERVER_FLIGHT, rec, sizeof rec), plen = 0;
    uint8_t type = 0;
    tf_tls13 *t = rfc8448_schedule(0x1301);

    TF_CHECK(t != NULL);
    TF_CHECK_EQ(rec_len, 679);
    if (!t) return;
    TF_CHECK_EQ(open_copy(t, rec, rec_len, plain, &type, &plen), 0);
    TF_CHECK_EQ(type, 22);
    TF_CHECK_EQ(plen, RFC8448_PLAIN_LEN);
    TF_CHECK(memcmp(plain, "\x08\x00\x00\x24\x00\x22\x00\x0a", 8) == 0);
    TF_CHECK(memcmp(plain + RFC8448_CERT_AT, "\x0b\x00\x01\xb9", 4) == 0);
    TF_CHECK(memcmp(plain + RFC8448_CV_AT, "\x0f\x00\x00\x84\x08\x04", 6) == 0);
    TF_CHECK(memcmp(plain + RFC8448_FIN_AT, "\x14\x00\x00\x20\x9b\x9b\x14\x1d", 8) == 0);
    /* the same record again is at sequence 1 now: must not open */
    TF_CHECK_EQ(open_copy(t, rec, rec_len, plain, &type, &plen), TF_ERR_CRYPTO);
    TF_CHECK_EQ(type, 0);
    TF_CHECK_EQ(plen, 0);
    tf_tls13_free(t);
}

/* ---- (3) tampering, short records, sequence numbers -------------------- */

static void test_tamper(void)
{
    static uint8_t rec[1024], bad[1024], plain[1024];
    size_t rec_len = tf_unit_unhex(RFC8448_SERVER_FLIGHT, rec, sizeof rec), plen = 0;
    uint8_t type = 0, hdr[5];
    tf_tls13 *t = NULL;

    TF_CHECK_EQ(tf_tls13_new(&t, 0x1301), 0);
    if (!t) return;
    /* no keys yet */
    TF_CHECK_EQ(open_copy(t, rec, rec_len, plain, &type, &plen), TF_ERR_CRYPTO);
    tf_tls13_free(t);
    t = rfc8448_schedule(0x1301);
    if (!t) { TF_CHECK(t != NULL); return; }

    memcpy(bad, rec, rec_len);
    bad[100] ^= 0x01;                                  /* ciphertext byte */
    TF_CHECK_EQ(open_copy(t, bad, rec_len, plain, &type, &plen), TF_ERR_CRYPTO);
    memcpy(bad, rec, rec_len);
    bad[rec_len - 1] ^= 0x80;                          /* tag byte */
    TF_CHECK_EQ(open_copy(t, bad, rec_len, plain, &type, &plen), TF_ERR_CRYPTO);
    memcpy(bad, rec, rec_len);
    bad[2] = 0x01;                                     /* header is the AAD */
    TF_CHECK_EQ(open_copy(t, bad, rec_len, plain, &type, &plen), TF_ERR_CRYPTO);

    /* shorter than the tag, exactly the tag, empty; header agrees with len */
    memcpy(hdr, rec, 5);
    hdr[3] = 0; hdr[4] = 10;
    memcpy(plain, rec + 5, 10);
    TF_CHECK_EQ(tf_tls13_open(t, hdr, plain, 10, &type, &plen), TF_ERR_CRYPTO);
    hdr[4] = 16;
    memcpy(plain, rec + 5, 16);
    TF_CHECK_EQ(tf_tls13_open(t, hdr, plain, 16, &type, &plen), TF_ERR_CRYPTO);
    hdr[4] = 0;
    TF_CHECK_EQ(tf_tls13_open(t, hdr, plain, 0, &type, &plen), TF_ERR_CRYPTO);
    /* header length disagreeing with the body */
    TF_CHECK_EQ(tf_tls13_open(t, rec, plain, rec_len - 6, &type, &plen), TF_ERR_CRYPTO);

    /* failures did not advance the sequence: the real record opens at 0 */
    TF_CHECK_EQ(open_copy(t, rec, rec_len, plain, &type, &plen), 0);
    TF_CHECK_EQ(plen, RFC8448_PLAIN_LEN);
    TF_CHECK_EQ(open_copy(t, rec, rec_len, plain, &type, &plen), TF_ERR_CRYPTO);
    tf_tls13_free(t);

    /* authentic record whose plaintext is all padding: no content type */
    t = rfc8448_schedule(0x1301);
    if (!t) { TF_CHECK(t != NULL); return; }
    rec_len = tf_unit_unhex(RECORD_ALL_ZERO, rec, sizeof rec);
    TF_CHECK_EQ(open_copy(t, rec, rec_len, plain, &type, &plen), TF_ERR_CRYPTO);
    tf_tls13_free(t);
}

/* ---- every suite, two records each (sequence 0 and 1) ------------------ */

static void test_suite_records(size_t si)
{
    uint8_t r0[64], r1[64], plain[64], type = 0;
    size_t l0 = tf_unit_unhex(SUITE_VECTORS[si].r0, r0, sizeof r0);
    size_t l1 = tf_unit_unhex(SUITE_VECTORS[si].r1, r1, sizeof r1), plen = 0;
    tf_tls13 *t = rfc8448_schedule(SUITE_VECTORS[si].suite);

    TF_CHECK(t != NULL);
    if (!t) return;
    TF_CHECK_EQ(open_copy(t, r1, l1, plain, &type, &plen), TF_ERR_CRYPTO); /* wrong seq */
    TF_CHECK_EQ(open_copy(t, r0, l0, plain, &type, &plen), 0);
    TF_CHECK_EQ(type, 22);
    TF_CHECK_EQ(plen, 6);
    TF_CHECK(memcmp(plain, "\x08\x00\x00\x02\x00\x00", 6) == 0);
    TF_CHECK_EQ(open_copy(t, r1, l1, plain, &type, &plen), 0);
    TF_CHECK_EQ(type, 23);
    TF_CHECK_EQ(plen, 6);
    TF_CHECK(memcmp(plain, "tlsfit", 6) == 0);
    TF_CHECK_EQ(open_copy(t, r0, l0, plain, &type, &plen), TF_ERR_CRYPTO); /* seq 2 */
    tf_tls13_free(t);
}

/* ---- (4) suites ------------------------------------------------------- */

static void test_suites(void)
{
    static const uint16_t no[] = { 0x0000, 0x1300, 0x1306, 0x13FF, 0xC02B, 0xCCA8, 0x009C };
    tf_tls13 *t = (tf_tls13 *)&t;
    uint16_t s;
    size_t i;

    for (s = 0x1301; s <= 0x1305; s++) TF_CHECK(tf_tls13_suite_supported(s));
    for (i = 0; i < TF_ARRAY_LEN(no); i++) {
        TF_CHECK(!tf_tls13_suite_supported(no[i]));
        TF_CHECK_EQ(tf_tls13_new(&t, no[i]), TF_ERR_CRYPTO);
        TF_CHECK(t == NULL);
    }
    for (i = 0; i < TF_ARRAY_LEN(SUITE_VECTORS); i++) test_suite_records(i);
    tf_tls13_free(NULL);
}

int main(void)
{
    test_kex();
    test_rfc8448();
    test_tamper();
    test_suites();
    return tf_unit_report("test_tls13");
}
