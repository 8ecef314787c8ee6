/* ca.c -- loading the trust anchors (ca.h). */
#include "ca.h"

#if defined(MBEDTLS_X509_CRT_PARSE_C)   /* a PSK-only header verifies no certificate */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/b64.h"
#include "../codec/der.h"
#include "../codec/pem.h"
#include "file.h"

static void add_der(mbedtls_x509_crt *chain, const unsigned char *der, size_t len,
                    struct tf_ca_count *c)
{
    int ret = mbedtls_x509_crt_parse_der(chain, der, len);
    if (ret == 0) {
        c->loaded++;
    } else {
        c->rejected++;
        c->last_error = ret;
    }
}

/* Every CERTIFICATE block, base64-decoded in place.  A block that is not
   base64 counts as a refused certificate (MBEDTLS_ERR_X509_INVALID_FORMAT). */
static void add_pem(mbedtls_x509_crt *chain, unsigned char *data, size_t len,
                    struct tf_ca_count *c)
{
    tf_pem pem;
    const char *body, *stop;
    tf_pem_init(&pem, (const char *) data, len);
    while (tf_pem_next_cert(&pem, &body, &stop)) {
        uint8_t *der = data + (body - (const char *) data);   /* writable */
        long n = tf_b64_decode(body, stop, der);
        if (n < 0) {
            c->rejected++;
            c->last_error = MBEDTLS_ERR_X509_INVALID_FORMAT;
            continue;
        }
        add_der(chain, der, (size_t) n, c);
    }
}

/* DER certificates back to back; trailing bytes that are no SEQUENCE end
   the walk (and count as one refusal when nothing came before them). */
static void add_der_run(mbedtls_x509_crt *chain, const unsigned char *data, size_t len,
                        struct tf_ca_count *c)
{
    size_t off = 0;
    while (off < len) {
        size_t n = tf_der_element_len(data + off, len - off, TF_DER_SEQUENCE);
        if (n == 0) {
            if (c->loaded + c->rejected == 0) {
                c->rejected++;
                c->last_error = MBEDTLS_ERR_X509_INVALID_FORMAT;
            }
            break;
        }
        add_der(chain, data + off, n, c);
        off += n;
    }
}

/* Fills *f when nothing was loaded. */
static int judge(const char *path, const struct tf_ca_count *c, struct tf_fail *f)
{
    if (c->loaded > 0) {
        return 0;
    }
    if (c->rejected == 0) {
        tf_fail_set(f, TF_ERROR_NAME(NO_CERTIFICATE), "%s holds no certificate (PEM or DER)", path);
        return -1;
    }
    /* f->error NULL: named from the mbedTLS code by the caller */
    snprintf(f->code, sizeof(f->code), "%s%#x", c->last_error < 0 ? "-" : "",
             (unsigned) (c->last_error < 0 ? -c->last_error : c->last_error));
    tf_fail_set(f, NULL, "none of the %d certificate(s) in %s can be used with this "
                "configuration", c->rejected, path);
    return -1;
}

int tf_ca_load(const char *path, mbedtls_x509_crt *chain, struct tf_ca_count *c,
               struct tf_fail *f)
{
    size_t len;
    unsigned char *data = tf_file_read(path, "the CA file", &len, f);
    if (data == NULL) {
        return -1;
    }
    const char *text = (const char *) data;
    int is_pem = len > 0 && memchr(data, '\0', len) == NULL &&
                 tf_pem_find(text, text + len, "-----BEGIN") != NULL;
    if (is_pem) {
        add_pem(chain, data, len, c);
    } else {
        add_der_run(chain, data, len, c);
    }
    tf_file_free(data, len);
    return judge(path, c, f);
}

#endif /* MBEDTLS_X509_CRT_PARSE_C */
