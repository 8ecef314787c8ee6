/*
 * psk.h -- the verify client's pre-shared key: the identity of
 * --psk-identity and the key's raw bytes read from --psk-key-fd N (the
 * driver writes them to a pipe; they never appear on the command line).
 */
#ifndef TF_VERIFY_PSK_H
#define TF_VERIFY_PSK_H

#include <stddef.h>

#include "fail.h"
#include "mbedtls/ssl.h"

#define TF_VERIFY_PSK_MAX 64    /* bytes; tlsfit's bound on a key (core/pskkey.py MAX_KEY) */

struct tf_psk {
    const char *identity;
    unsigned char key[TF_VERIFY_PSK_MAX];
    size_t len;                 /* 0: no key */
};

/* Reads the key from fd (then closed).  0, or -1 with *f filled in
   (TLSFIT_PSK_KEY: nothing read, a read error, or over the bound). */
int tf_psk_read(const char *identity, int fd, struct tf_psk *p, struct tf_fail *f);

/* Gives the key to conf (../harness/psk.h).  0, or -1 with *code the mbedTLS
   error or *f filled in (TLSFIT_NO_PSK: the configuration has no PSK key
   exchange; TLSFIT_PSK_KEY: the key is over MBEDTLS_PSK_MAX_LEN). */
int tf_psk_conf(mbedtls_ssl_config *conf, const struct tf_psk *p, int *code, struct tf_fail *f);

/* Overwrites the key. */
void tf_psk_wipe(struct tf_psk *p);

#endif
