/*
 * test_codec.c -- unit tests for the shared codecs of tool/codec that the
 * other tests do not reach directly: base64 decoding (RFC 4648 section 10
 * vectors, white space, padding rules, in-place decoding), the PEM block
 * finder (several blocks, an unterminated block, NUL bytes in the text) and
 * the DER element length used to walk concatenated certificates.
 * (json.c has test_json.c; x509.c, which reads through der.c, test_x509.c.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "der.h"
#include "pem.h"
#include "unit.h"

/* Decodes a NUL-terminated string; returns the length or -1. */
static long decode(const char *text, uint8_t *out)
{
    return tf_b64_decode(text, text + strlen(text), out);
}

static void test_b64_decode(void)
{
    static const struct { const char *in; const char *out; } rfc[] = {
        { "", "" }, { "Zg==", "f" }, { "Zm8=", "fo" }, { "Zm9v", "foo" },
        { "Zm9vYg==", "foob" }, { "Zm9vYmE=", "fooba" }, { "Zm9vYmFy", "foobar" },
    };
    static const char *const bad[] = {
        "Zg=", "Zg", "Z===", "Zm9v!", "Zg==Zg==", "Zm9vY", "Zm-v", "====",
    };
    uint8_t out[64];
    char text[64];
    size_t i;
    for (i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
        long n = decode(rfc[i].in, out);
        TF_CHECK_EQ(n, (long)strlen(rfc[i].out));
        TF_CHECK(n >= 0 && memcmp(out, rfc[i].out, (size_t)n) == 0);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) TF_CHECK_EQ(decode(bad[i], out), -1);
    /* white space anywhere, padding followed by white space */
    TF_CHECK_EQ(decode(" Zm9v\r\nYm\tE= \n", out), 5);
    TF_CHECK(memcmp(out, "fooba", 5) == 0);
    TF_CHECK_EQ(decode("//79+/8=", out), 5);
    TF_CHECK(out[0] == 0xFF && out[1] == 0xFE && out[2] == 0xFD && out[3] == 0xFB && out[4] == 0xFF);
    /* in place */
    strcpy(text, "Zm9v\nYmFy\n");
    TF_CHECK_EQ(tf_b64_decode(text, text + strlen(text), (uint8_t *)text), 6);
    TF_CHECK(memcmp(text, "foobar", 6) == 0);
    TF_CHECK_EQ(tf_b64_value('A'), 0);
    TF_CHECK_EQ(tf_b64_value('/'), 63);
    TF_CHECK_EQ(tf_b64_value('='), -1);
}

static void test_b64_encode(void)
{
    char quad[5] = { 0 };
    tf_b64_encode_block((const uint8_t *)"f", 1, quad);
    TF_CHECK_STR(quad, "Zg==");
    tf_b64_encode_block((const uint8_t *)"fo", 2, quad);
    TF_CHECK_STR(quad, "Zm8=");
    tf_b64_encode_block((const uint8_t *)"foo", 3, quad);
    TF_CHECK_STR(quad, "Zm9v");
}

/* Collects the bodies tf_pem_next_cert finds in `text` (len bytes), joined by '|'. */
static const char *blocks(const char *text, size_t len)
{
    static char out[256];
    const char *body, *stop;
    tf_pem pem;
    size_t n = 0;
    out[0] = '\0';
    tf_pem_init(&pem, text, len);
    while (tf_pem_next_cert(&pem, &body, &stop)) {
        size_t k = (size_t)(stop - body);
        if (n + k + 2 > sizeof out) break;
        if (n) out[n++] = '|';
        memcpy(out + n, body, k);
        n += k;
        out[n] = '\0';
    }
    TF_CHECK(pem.p == pem.end);
    return out;
}

#define B TF_PEM_BEGIN_CERT
#define E TF_PEM_END_CERT

static void test_pem(void)
{
    static const char two[] = "junk\n" B "\nAAAA\n" E "\ntext\n" B "BBBB" E "\n";
    static const char unterminated[] = B "\nAAAA\n" B "\nCCCC\n" E "\n" B "\nDDDD\n";
    static const char with_nul[] = "a\0b" B "\nEEEE\n" E;
    TF_CHECK_STR(blocks(two, sizeof two - 1), "\nAAAA\n|BBBB");
    TF_CHECK_STR(blocks(unterminated, sizeof unterminated - 1), "\nCCCC\n");
    TF_CHECK_STR(blocks(with_nul, sizeof with_nul - 1), "\nEEEE\n");
    TF_CHECK_STR(blocks("", 0), "");
    TF_CHECK_STR(blocks(E B, strlen(E B)), "");
    TF_CHECK(tf_pem_find(two, two + sizeof two - 1, "text") == two + 5 + strlen(B) + 6 + strlen(E) + 1);
    TF_CHECK(tf_pem_find(two, two + 3, "junk") == NULL);
    TF_CHECK(tf_pem_find(with_nul, with_nul + 3, "b") == with_nul + 2);
}

static void test_der(void)
{
    static const uint8_t shortform[] = { 0x30, 0x03, 1, 2, 3, 0x30 };
    static const uint8_t longform[] = { 0x30, 0x81, 0x02, 9, 9 };
    static const uint8_t two_bytes[] = { 0x30, 0x82, 0x00, 0x01, 7 };
    static const uint8_t indefinite[] = { 0x30, 0x80, 0, 0 };
    static const uint8_t too_long[] = { 0x30, 0x85, 0, 0, 0, 0, 1, 0 };
    static const uint8_t high_tag[] = { 0x1F, 0x01, 0 };
    tf_rd r, body;
    TF_CHECK_EQ(tf_der_element_len(shortform, sizeof shortform, TF_DER_SEQUENCE), 5);
    TF_CHECK_EQ(tf_der_element_len(shortform, 4, TF_DER_SEQUENCE), 0);      /* cut */
    TF_CHECK_EQ(tf_der_element_len(shortform, sizeof shortform, 0x31), 0);  /* tag */
    TF_CHECK_EQ(tf_der_element_len(shortform + 5, 1, TF_DER_SEQUENCE), 0);
    TF_CHECK_EQ(tf_der_element_len(longform, sizeof longform, TF_DER_SEQUENCE), 5);
    TF_CHECK_EQ(tf_der_element_len(two_bytes, sizeof two_bytes, TF_DER_SEQUENCE), 5);
    TF_CHECK_EQ(tf_der_element_len(indefinite, sizeof indefinite, TF_DER_SEQUENCE), 0);
    TF_CHECK_EQ(tf_der_element_len(too_long, sizeof too_long, TF_DER_SEQUENCE), 0);
    TF_CHECK_EQ(tf_der_element_len(shortform, 0, TF_DER_SEQUENCE), 0);
    /* tf_der_next: body bounded to the element; high tags refused */
    tf_rd_init(&r, shortform, sizeof shortform);
    TF_CHECK_EQ(tf_der_next(&r, &body), 0x30);
    TF_CHECK_EQ(tf_rd_left(&body), 3);
    TF_CHECK_EQ(tf_der_peek(&r), 0x30);
    TF_CHECK_EQ(tf_der_next(&r, &body), -1);   /* 0x30 with no length */
    TF_CHECK(r.bad && body.bad && tf_rd_done(&r) && !tf_rd_clean_end(&r));
    tf_rd_init(&r, high_tag, sizeof high_tag);
    TF_CHECK_EQ(tf_der_next(&r, &body), -1);
}

int main(void)
{
    test_b64_decode();
    test_b64_encode();
    test_pem();
    test_der();
    return tf_unit_report("test_codec");
}
