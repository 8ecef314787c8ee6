/*
 * test_sigcheck.c -- unit tests of certificate signature checks (sigcheck.c)
 * on the fixtures of data/ (see data/README.md); the working directory is
 * tests/unit.
 */
#include "unit.h"
#include "sigcheck.h"

#include <stdint.h>
#include <string.h>

#define MAX_DER 8192

typedef struct {
    uint8_t der[MAX_DER];
    size_t len;
    tf_cert cert;
} fixture;

static fixture fx[8];  /* large: off the stack */

/* Loads data/<name> into fixture slot i and returns its certificate. */
static tf_cert *load(int i, const char *name)
{
    fx[i].len = tf_unit_load(name, fx[i].der, sizeof fx[i].der);
    TF_CHECK(fx[i].len > 0);
    TF_CHECK_EQ(tf_x509_parse(&fx[i].cert, fx[i].der, fx[i].len), 0);
    return &fx[i].cert;
}

/* Every self-signed fixture against its own key. */
static void test_self_signed(void)
{
    static const struct { const char *name; int want; } t[] = {
        { "rsa2048.der", 1 }, { "rsa4096.der", 1 }, { "sha1.der", 1 },
        { "ec256.der", 1 }, { "ec384.der", 1 }, { "ec521.der", 1 }, { "brainpool.der", 1 },
        { "root.der", 1 },
        { "ed25519.der", -1 }, { "ed448.der", -1 }, { "dsa.der", -1 },
        { "rsapss.der", -1 },   /* an id-RSASSA-PSS key: mbedTLS does not parse it */
    };
    size_t i;
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        tf_cert *c = load(0, t[i].name);
        int got = tf_sig_check(c, c);
        if (got != t[i].want) fprintf(stderr, "  %s: %d, want %d\n", t[i].name, got, t[i].want);
        TF_CHECK_EQ(got, t[i].want);
    }
}

/* The test chain: who verifies whom, and who does not. */
static void test_chain(void)
{
    tf_cert *root = load(0, "root.der"), *inter = load(1, "inter.der"), *leaf = load(2, "leaf.der");
    tf_cert *decoy = load(3, "decoy_nokid.der"), *rsa = load(4, "rsa2048.der"), *x = load(5, "x25519.der");
    TF_CHECK_EQ(tf_sig_check(inter, root), 1);      /* ecdsa-with-SHA384 by P-384 */
    TF_CHECK_EQ(tf_sig_check(leaf, inter), 1);      /* by P-256 */
    TF_CHECK_EQ(tf_sig_check(x, root), 1);          /* an X25519 key, certified by the root */
    TF_CHECK_EQ(tf_sig_check(leaf, root), 0);       /* the wrong EC key */
    TF_CHECK_EQ(tf_sig_check(inter, decoy), 0);     /* the root's name, another key */
    TF_CHECK_EQ(tf_sig_check(inter, rsa), 0);       /* an ECDSA signature, an RSA key */
    TF_CHECK_EQ(tf_sig_check(rsa, root), 0);        /* an RSA signature, an EC key */
    TF_CHECK_EQ(tf_sig_check(inter, x), 0);         /* an X25519 key (mbedTLS parses it) verifies no ECDSA signature */
}

/* Flips one byte of fixture i at offset `at` from the start of `span` and re-parses it. */
static tf_cert *tampered(int i, const char *name, int in_tbs)
{
    tf_cert *c = load(i, name);
    size_t at = in_tbs ? (size_t)(c->subject_der - fx[i].der) + c->subject_der_len - 1
                       : (size_t)(c->sig_der - fx[i].der) + c->sig_der_len / 2;
    fx[i].der[at] ^= 0x01;
    TF_CHECK_EQ(tf_x509_parse(&fx[i].cert, fx[i].der, fx[i].len), 0);
    return &fx[i].cert;
}

static void test_tampered(void)
{
    tf_cert *root = load(0, "root.der");
    tf_cert *rsa;
    TF_CHECK_EQ(tf_sig_check(tampered(1, "inter.der", 1), root), 0);   /* a changed subject */
    TF_CHECK_EQ(tf_sig_check(tampered(1, "inter.der", 0), root), 0);   /* a changed signature */
    rsa = tampered(2, "rsa2048.der", 0);
    TF_CHECK_EQ(tf_sig_check(rsa, rsa), 0);
    rsa = tampered(2, "rsa4096.der", 1);
    TF_CHECK_EQ(tf_sig_check(rsa, rsa), 0);
}

/* Spans kept by tf_x509_parse: inside the DER, TBS first, then the signature. */
static void test_spans(void)
{
    tf_cert *c = load(0, "leaf.der"), bad;
    TF_CHECK(c->tbs_der > fx[0].der && c->tbs_der + c->tbs_der_len < c->sig_der);
    TF_CHECK(c->sig_der + c->sig_der_len == fx[0].der + fx[0].len);
    TF_CHECK(c->spki_der > c->tbs_der && c->spki_der + c->spki_der_len <= c->tbs_der + c->tbs_der_len);
    TF_CHECK_EQ(c->tbs_der[0], 0x30);
    TF_CHECK_EQ(c->spki_der[0], 0x30);
    TF_CHECK_EQ(tf_x509_parse(&bad, fx[0].der, fx[0].len - 1), -1);
    TF_CHECK(bad.tbs_der == NULL && bad.sig_der == NULL && bad.spki_der == NULL);
    TF_CHECK_EQ(tf_sig_check(&bad, c), -1);
    TF_CHECK_EQ(tf_sig_check(c, &bad), -1);
}

int main(void)
{
    test_self_signed();
    test_chain();
    test_tampered();
    test_spans();
    return tf_unit_report("test_sigcheck");
}
