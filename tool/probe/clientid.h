/*
 * clientid.h -- the device's own certificate and key, for the one step that
 * completes handshakes with a server asking for a client certificate (the
 * resumption step, resume.h).
 *
 * The prober reads both files itself (--client-cert FILE --client-key FILE);
 * the key stays in this process's memory, is used only to sign the
 * CertificateVerify of those handshakes, and is never written anywhere (the
 * profile says only that a client certificate was presented).
 */
#ifndef TF_CLIENTID_H
#define TF_CLIENTID_H

#include <stddef.h>

#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

typedef struct tf_client_id {
    mbedtls_x509_crt cert;     /* the device's certificate (the first of the file) */
    mbedtls_pk_context key;    /* its private key */
    int loaded;                /* 1 once both parsed */
} tf_client_id;

/*
 * Parses `cert_path` (PEM or DER) and `key_path` (PEM or DER, unencrypted)
 * into `id`, and checks that the key is the certificate's.  Returns 0, or
 * TF_ERR_USAGE with `why` naming the file and what is wrong with it.
 * Needs the random generator (mbconn.h: tf_mbconn_rng) for the key check.
 */
int tf_client_id_load(tf_client_id *id, const char *cert_path, const char *key_path,
                      char *why, size_t why_len);

/* Frees what tf_client_id_load parsed (safe on a zeroed or failed `id`). */
void tf_client_id_free(tf_client_id *id);

#endif
