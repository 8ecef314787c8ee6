/* identity.c -- the device's certificate and key (identity.h). */
#include "identity.h"

#if defined(MBEDTLS_X509_CRT_PARSE_C)   /* a PSK-only header verifies no certificate */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../codec/b64.h"
#include "../codec/pem.h"
#include "file.h"

#define KEY_LABEL_END "PRIVATE KEY-----"

/*
 * The DER inside the first PEM block of data[0..len) whose BEGIN line ends
 * with `label_end` ("CERTIFICATE-----", "PRIVATE KEY-----"), decoded in
 * place at *der; or the whole data when it holds no BEGIN marker (DER).
 * Returns the DER length, or -1 (a PEM file without such a block, or one
 * that is not base64).
 */
static long der_of(unsigned char *data, size_t len, const char *label_end,
                   unsigned char **der)
{
    const char *text = (const char *) data, *end = text + len;
    const char *begin = memchr(data, '\0', len) == NULL ? tf_pem_find(text, end, "-----BEGIN ")
                                                       : NULL;
    *der = data;
    if (begin == NULL) {
        return (long) len;
    }
    for (; begin != NULL; begin = tf_pem_find(begin + 1, end, "-----BEGIN ")) {
        const char *eol = memchr(begin, '\n', (size_t) (end - begin));
        const char *label = tf_pem_find(begin, eol != NULL ? eol : end, label_end);
        if (label == NULL) {
            continue;
        }
        const char *body = label + strlen(label_end);
        const char *stop = tf_pem_find(body, end, "-----END ");
        if (stop == NULL) {
            return -1;
        }
        *der = data + (body - text);
        return tf_b64_decode(body, stop, *der);
    }
    return -1;
}

/* Reads the certificate and parses it into *crt. */
static int load_cert(const char *path, mbedtls_x509_crt *crt, int *code, struct tf_fail *f)
{
    size_t len;
    unsigned char *data = tf_file_read(path, "the device certificate", &len, f), *der;
    if (data == NULL) {
        return -1;
    }
    long n = der_of(data, len, "CERTIFICATE-----", &der);
    if (n < 0) {
        tf_fail_set(f, TF_ERROR_NAME(NO_CERTIFICATE), "%s holds no certificate (PEM or DER)", path);
    } else {
        *code = mbedtls_x509_crt_parse_der(crt, der, (size_t) n);
    }
    tf_file_free(data, len);
    return n >= 0 && *code == 0 ? 0 : -1;
}

/* Reads the key and parses it into *key; the buffer is wiped. */
static int load_key(const char *path, mbedtls_pk_context *key, struct tf_rng *rng, int *code,
                    struct tf_fail *f)
{
#if defined(MBEDTLS_PK_PARSE_C)
    size_t len;
    unsigned char *data = tf_file_read(path, "the device key", &len, f), *der;
    if (data == NULL) {
        return -1;
    }
    long n = der_of(data, len, KEY_LABEL_END, &der);
    if (n < 0) {
        tf_fail_set(f, TF_ERROR_NAME(NO_PRIVATE_KEY), "%s holds no private key (PEM or DER)", path);
    } else {
        *code = tf_harness_parse_key(key, der, (size_t) n, rng);
    }
    tf_file_free(data, len);
    return n >= 0 && *code == 0 ? 0 : -1;
#else
    (void) path;
    (void) key;
    (void) rng;
    (void) code;
    tf_fail_set(f, TF_ERROR_NAME(TLSFIT_NO_PK_PARSE), "the configuration cannot parse the device key "
                "(MBEDTLS_PK_PARSE_C is not defined)");
    return -1;
#endif
}

int tf_identity_load(const char *cert_path, const char *key_path, mbedtls_x509_crt *crt,
                     mbedtls_pk_context *key, struct tf_rng *rng, int *code,
                     struct tf_fail *f)
{
    *code = 0;
    if (load_cert(cert_path, crt, code, f) != 0) {
        if (*code != 0) {
            snprintf(f->message, sizeof(f->message), "this configuration cannot parse the "
                     "device certificate %s", cert_path);
        }
        return -1;
    }
    if (load_key(key_path, key, rng, code, f) != 0) {
        if (*code != 0) {
            snprintf(f->message, sizeof(f->message), "this configuration cannot parse the "
                     "device key %s", key_path);
        }
        return -1;
    }
    return 0;
}

#endif /* MBEDTLS_X509_CRT_PARSE_C */
