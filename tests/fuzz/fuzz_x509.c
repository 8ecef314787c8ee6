/*
 * fuzz_x509.c -- X.509 decoding and name formatting (x509.c), and the
 * signature check the chain builder runs on a decoded certificate
 * (sigcheck.c).
 *
 * Input: DER bytes.  They are decoded as a certificate, then (whatever that
 * gave) rendered as a Name, as a CertificateRequest CA name would be.  For a
 * certificate that decodes: every string field is terminated, every span
 * (subject, issuer, TBS, signature, key) lies inside the input, and the
 * certificate is checked against itself as issuer (self-signed roots).
 */
#include <stdlib.h>
#include <string.h>

#include "sigcheck.h"
#include "x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void in_input(const uint8_t *p, size_t n, const uint8_t *der, size_t len)
{
    if (!p) { if (n) abort(); return; }
    if (p < der || n > len || p > der + len - n) abort();
}

static void terminated(const char *s, size_t cap)
{
    if (memchr(s, '\0', cap) == NULL) abort();
}

static void check_cert(const tf_cert *c, const uint8_t *der, size_t len)
{
    size_t i;
    terminated(c->subject, sizeof(c->subject));
    terminated(c->issuer, sizeof(c->issuer));
    terminated(c->key_type, sizeof(c->key_type));
    terminated(c->key_oid, sizeof(c->key_oid));
    terminated(c->curve, sizeof(c->curve));
    terminated(c->sig_alg, sizeof(c->sig_alg));
    terminated(c->sig_oid, sizeof(c->sig_oid));
    terminated(c->sig_hash, sizeof(c->sig_hash));
    terminated(c->not_before, sizeof(c->not_before));
    terminated(c->not_after, sizeof(c->not_after));
    terminated(c->serial_hex, sizeof(c->serial_hex));
    if (c->san_count > TF_X509_MAX_SAN || c->san_count > c->san_total) abort();
    for (i = 0; i < c->san_count; i++) terminated(c->san_dns[i], sizeof(c->san_dns[i]));
    if (c->ski_len > sizeof(c->ski) || c->aki_len > sizeof(c->aki)) abort();
    in_input(c->subject_der, c->subject_der_len, der, len);
    in_input(c->issuer_der, c->issuer_der_len, der, len);
    in_input(c->tbs_der, c->tbs_der_len, der, len);
    in_input(c->sig_der, c->sig_der_len, der, len);
    in_input(c->spki_der, c->spki_der_len, der, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tf_cert *c = malloc(sizeof(*c));
    uint8_t *der = malloc(size ? size : 1);
    char name[512];

    if (!c || !der) goto cleanup;
    if (size) memcpy(der, data, size);
    if (tf_x509_parse(c, der, size) == 0) {
        check_cert(c, der, size);
        (void)tf_x509_issued_by(c, c);
        (void)tf_sig_check(c, c);
    } else if (strcmp(c->key_type, "unknown") != 0) {
        abort();                                  /* x509.h: zeroed but for key_type "unknown" */
    }
    if (tf_x509_name_string(der, size, name, sizeof(name)) == 0) terminated(name, sizeof(name));
    if (tf_x509_name_string(der, size, name, 8) == 0) terminated(name, 8);   /* truncation path */
cleanup:
    free(der);
    free(c);
    return 0;
}
