/*
 * test_anchor.c -- unit tests of PEM bundle reading and trust-anchor lookup
 * (anchor.c, with the signature checks of sigcheck.c).  Fixtures are in data/ (see data/README.md); the working
 * directory is tests/unit.
 */
#include "unit.h"
#include "anchor.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DER 8192
#define MAX_SEEN 16
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))


/* What a tf_pem_each callback saw. */
typedef struct {
    int calls;
    int stop_after;             /* return 1 on this call (1-based); 0: never */
    uint8_t der[MAX_SEEN][MAX_DER];
    size_t len[MAX_SEEN];
} seen;

static int record(void *ctx, const uint8_t *der, size_t len)
{
    seen *s = ctx;
    if (s->calls < MAX_SEEN && len <= MAX_DER) {
        memcpy(s->der[s->calls], der, len);
        s->len[s->calls] = len;
    }
    s->calls++;
    return s->calls == s->stop_after;
}

/* 1 when call i of s handed over exactly data/<name>. */
static int saw(const seen *s, int i, const char *name)
{
    static uint8_t want[MAX_DER];
    size_t n = tf_unit_load(name, want, sizeof want);
    return n > 0 && i < s->calls && s->len[i] == n && memcmp(s->der[i], want, n) == 0;
}

static seen s;  /* large: off the stack */

static void reset_seen(int stop_after)
{
    memset(&s, 0, sizeof s);
    s.stop_after = stop_after;
}

static void test_pem_each(void)
{
    reset_seen(0);
    TF_CHECK_EQ(tf_pem_each("data/does-not-exist.pem", record, &s), -1);
    TF_CHECK_EQ(s.calls, 0);
    TF_CHECK_EQ(tf_pem_each("data", record, &s), -1);  /* a directory */
    TF_CHECK_EQ(tf_pem_each("data/empty.pem", record, &s), 0);
    TF_CHECK_EQ(s.calls, 0);
    TF_CHECK_EQ(tf_pem_each("data/ec256.der", record, &s), 0);  /* DER, not PEM */

    /* bundle.pem: comment lines and text between blocks */
    reset_seen(0);
    TF_CHECK_EQ(tf_pem_each("data/bundle.pem", record, &s), 5);
    TF_CHECK_EQ(s.calls, 5);
    TF_CHECK(saw(&s, 0, "decoy_nokid.der"));
    TF_CHECK(saw(&s, 1, "rsa2048.der"));
    TF_CHECK(saw(&s, 2, "ec256.der"));
    TF_CHECK(saw(&s, 3, "decoy_kid.der"));
    TF_CHECK(saw(&s, 4, "root.der"));

    /* garbage.pem: binary junk, a block that is not base64, one that is base64
       but not a certificate, an unterminated block, a truncated last block */
    reset_seen(0);
    TF_CHECK_EQ(tf_pem_each("data/garbage.pem", record, &s), 2);
    TF_CHECK_EQ(s.calls, 2);
    TF_CHECK(saw(&s, 0, "ec256.der"));
    TF_CHECK(saw(&s, 1, "ed25519.der"));

    /* the callback stops the walk; no callback at all */
    reset_seen(2);
    TF_CHECK_EQ(tf_pem_each("data/bundle.pem", record, &s), 2);
    TF_CHECK_EQ(s.calls, 2);
    TF_CHECK_EQ(tf_pem_each("data/chain.pem", NULL, NULL), 3);
}

/* The system store, when this machine has one. */
static void test_system_bundle(void)
{
    FILE *f = fopen(TF_SYSTEM_BUNDLE, "rb");
    if (!f) return;
    fclose(f);
    TF_CHECK(tf_pem_each(TF_SYSTEM_BUNDLE, NULL, NULL) > 10);
}

/* Parses data/<name> into c (DER kept in buf). */
static void load_cert(const char *name, tf_cert *c, uint8_t *buf)
{
    size_t n = tf_unit_load(name, buf, MAX_DER);
    TF_CHECK(n > 0);
    TF_CHECK_EQ(tf_x509_parse(c, buf, n), 0);
}

/* 1 when a holds exactly data/<name>. */
static int anchor_is(const tf_anchor *a, const char *name)
{
    static uint8_t want[MAX_DER];
    size_t n = tf_unit_load(name, want, sizeof want);
    return n > 0 && a->der && a->der_len == n && memcmp(a->der, want, n) == 0;
}

static void test_anchor_find(void)
{
    static uint8_t inter_der[MAX_DER], leaf_der[MAX_DER], root_der[MAX_DER], x_der[MAX_DER], ed_der[MAX_DER];
    static tf_cert inter, leaf, root, x25519, ed;
    static const char *garbage[] = { "data/garbage.pem" };
    static const char *bundle[] = { "data/bundle.pem" };
    static const char *weak_then_bundle[] = { "data/weak.pem", "data/bundle.pem" };
    static const char *none[] = { "data/does-not-exist.pem", "data/others.pem", "data/empty.pem" };
    static const char *late[] = { "data/does-not-exist.pem", "data/others.pem", NULL, "data/bundle.pem" };
    static const char *weak[] = { "data/weak.pem" };
    static const char *chain[] = { "data/chain.pem" };
    tf_anchor a;

    load_cert("inter.der", &inter, inter_der);
    load_cert("leaf.der", &leaf, leaf_der);
    load_cert("root.der", &root, root_der);
    load_cert("x25519.der", &x25519, x_der);
    load_cert("ed25519.der", &ed, ed_der);

    /* The decoys come first in bundle.pem: one has no SKI (name-only match),
       one has another SKI (no match).  The real root is confirmed by its SKI. */
    TF_CHECK_EQ(tf_anchor_find(bundle, ARRAY_LEN(bundle), &inter, &a), 1);
    TF_CHECK(anchor_is(&a, "root.der"));
    TF_CHECK_STR(a.source, "data/bundle.pem");
    TF_CHECK_STR(a.cert.subject, "CN=tlsfit Test Root,O=tlsfit,C=FR");
    TF_CHECK_STR(a.cert.curve, "secp384r1");
    TF_CHECK(a.cert.ski_len == inter.aki_len && memcmp(a.cert.ski, inter.aki, inter.aki_len) == 0);
    TF_CHECK(a.cert.subject_der >= a.der && a.cert.subject_der + a.cert.subject_der_len <= a.der + a.der_len);
    TF_CHECK_EQ(tf_x509_issued_by(&inter, &a.cert), 1);
    tf_anchor_free(&a);
    TF_CHECK(a.der == NULL);
    tf_anchor_free(&a);  /* twice: harmless */

    /* A candidate of the right name whose key refuses the signature is not
       the issuer, even when nothing else is found. */
    TF_CHECK_EQ(tf_anchor_find(weak, ARRAY_LEN(weak), &inter, &a), 0);
    TF_CHECK(a.der == NULL);

    /* A signature the prober cannot check (Ed25519) and no AKI: the name
       match is taken. */
    TF_CHECK_EQ(ed.aki_len, 0);
    TF_CHECK_EQ(tf_anchor_find(garbage, ARRAY_LEN(garbage), &ed, &a), 1);
    TF_CHECK(anchor_is(&a, "ed25519.der"));
    TF_CHECK_STR(a.source, "data/garbage.pem");
    tf_anchor_free(&a);

    /* A name-only match in an earlier bundle gives way to a confirmed one later. */
    TF_CHECK_EQ(tf_anchor_find(weak_then_bundle, ARRAY_LEN(weak_then_bundle), &inter, &a), 1);
    TF_CHECK(anchor_is(&a, "root.der"));
    TF_CHECK_STR(a.source, "data/bundle.pem");
    tf_anchor_free(&a);

    /* A child without AKI: the signature decides (decoy_nokid comes first). */
    TF_CHECK_EQ(x25519.aki_len, 0);
    TF_CHECK_EQ(tf_anchor_find(bundle, ARRAY_LEN(bundle), &x25519, &a), 1);
    TF_CHECK(anchor_is(&a, "root.der"));
    tf_anchor_free(&a);

    /* Missing and unreadable paths are skipped; NULL entries too. */
    TF_CHECK_EQ(tf_anchor_find(none, ARRAY_LEN(none), &inter, &a), 0);
    TF_CHECK(a.der == NULL);
    TF_CHECK_EQ(tf_anchor_find(late, ARRAY_LEN(late), &inter, &a), 1);
    TF_CHECK(anchor_is(&a, "root.der"));
    TF_CHECK_STR(a.source, "data/bundle.pem");
    tf_anchor_free(&a);
    TF_CHECK_EQ(tf_anchor_find(late, 0, &inter, &a), 0);

    /* The leaf's issuer is the intermediate: in chain.pem, not in bundle.pem. */
    TF_CHECK_EQ(tf_anchor_find(bundle, ARRAY_LEN(bundle), &leaf, &a), 0);
    TF_CHECK_EQ(tf_anchor_find(chain, ARRAY_LEN(chain), &leaf, &a), 1);
    TF_CHECK(anchor_is(&a, "inter.der"));
    TF_CHECK_EQ(a.cert.is_ca, 1);
    tf_anchor_free(&a);

    /* A self-signed root (no AKI) finds itself, in bundle.pem too: the
       decoy of the same name that comes first does not verify it. */
    TF_CHECK_EQ(tf_anchor_find(chain, ARRAY_LEN(chain), &root, &a), 1);
    TF_CHECK(anchor_is(&a, "root.der"));
    tf_anchor_free(&a);
    TF_CHECK_EQ(tf_anchor_find(bundle, ARRAY_LEN(bundle), &root, &a), 1);
    TF_CHECK(anchor_is(&a, "root.der"));
    tf_anchor_free(&a);
}

/* Several children looked up in one walk of each bundle. */
static void test_anchor_find_each(void)
{
    static uint8_t der[3][MAX_DER];
    static tf_cert certs[3];  /* leaf, intermediate, root */
    static tf_anchor out[3];
    static const char *chain[] = { "data/chain.pem" };
    static const char *bundle[] = { "data/others.pem", "data/bundle.pem" };
    static const char *none[] = { "data/others.pem" };
    size_t i;

    load_cert("leaf.der", &certs[0], der[0]);
    load_cert("inter.der", &certs[1], der[1]);
    load_cert("root.der", &certs[2], der[2]);

    TF_CHECK_EQ(tf_anchor_find_each(chain, ARRAY_LEN(chain), certs, 3, out), 3);
    TF_CHECK(anchor_is(&out[0], "inter.der"));
    TF_CHECK(anchor_is(&out[1], "root.der"));
    TF_CHECK(anchor_is(&out[2], "root.der"));
    for (i = 0; i < 3; i++) tf_anchor_free(&out[i]);

    TF_CHECK_EQ(tf_anchor_find_each(bundle, ARRAY_LEN(bundle), certs, 3, out), 2);
    TF_CHECK(out[0].der == NULL);
    TF_CHECK(anchor_is(&out[1], "root.der"));
    TF_CHECK_STR(out[1].source, "data/bundle.pem");
    TF_CHECK(anchor_is(&out[2], "root.der"));
    for (i = 0; i < 3; i++) tf_anchor_free(&out[i]);

    TF_CHECK_EQ(tf_anchor_find_each(none, ARRAY_LEN(none), certs, 3, out), 0);
    for (i = 0; i < 3; i++) TF_CHECK(out[i].der == NULL);
    TF_CHECK_EQ(tf_anchor_find_each(chain, ARRAY_LEN(chain), certs, 0, out), 0);
}

int main(void)
{
    test_pem_each();
    test_system_bundle();
    test_anchor_find();
    test_anchor_find_each();
    return tf_unit_report("test_anchor");
}
