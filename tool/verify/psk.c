/* psk.c -- the pre-shared key (psk.h). */
#define _POSIX_C_SOURCE 200809L
#include "psk.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../harness/psk.h"

int tf_psk_read(const char *identity, int fd, struct tf_psk *p, struct tf_fail *f)
{
    unsigned char extra;
    size_t n = 0;
    p->identity = identity;
    for (;;) {
        ssize_t r = read(fd, p->key + n, sizeof(p->key) - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        n += (size_t) r;
        if (n == sizeof(p->key)) {
            break;
        }
    }
    int over = n == sizeof(p->key) && read(fd, &extra, 1) == 1;
    (void) close(fd);
    if (n == 0 || over) {
        tf_psk_wipe(p);
        tf_fail_set(f, TF_ERROR_NAME(TLSFIT_PSK_KEY), "no pre-shared key could be read from file "
                    "descriptor %d (nothing, or over %d bytes)", fd, TF_VERIFY_PSK_MAX);
        return -1;
    }
    p->len = n;
    return 0;
}

int tf_psk_conf(mbedtls_ssl_config *conf, const struct tf_psk *p, int *code, struct tf_fail *f)
{
#if TF_HARNESS_PSK
    if (p->len > MBEDTLS_PSK_MAX_LEN) {
        tf_fail_set(f, TF_ERROR_NAME(TLSFIT_PSK_KEY), "the pre-shared key is %u bytes, over "
                    "MBEDTLS_PSK_MAX_LEN (%d)", (unsigned) p->len, MBEDTLS_PSK_MAX_LEN);
        return -1;
    }
#endif
    int ret = tf_harness_psk(conf, p->key, p->len, p->identity);
    if (ret == -1) {
        tf_fail_set(f, TF_ERROR_NAME(TLSFIT_NO_PSK), "a pre-shared key was given but the "
                    "configuration has no PSK key exchange");
        return -1;
    }
    *code = ret;
    return ret == 0 ? 0 : -1;
}

void tf_psk_wipe(struct tf_psk *p)
{
    volatile unsigned char *k = p->key;
    for (size_t i = 0; i < sizeof(p->key); i++) {
        k[i] = 0;
    }
    p->len = 0;
}
