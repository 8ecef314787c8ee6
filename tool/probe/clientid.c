/*
 * clientid.c -- loading the device's certificate and key (see clientid.h).
 */
#include <stdio.h>
#include <string.h>

#include "mbedtls/ctr_drbg.h"

#include "clientid.h"
#include "errors.h"
#include "mbconn.h"

int tf_client_id_load(tf_client_id *id, const char *cert_path, const char *key_path,
                      char *why, size_t why_len)
{
    void *rng = tf_mbconn_rng();
    int rc;

    memset(id, 0, sizeof(*id));
    mbedtls_x509_crt_init(&id->cert);
    mbedtls_pk_init(&id->key);
    if (!rng) {
        snprintf(why, why_len, "mbedTLS's random generator could not be seeded");
        return TF_ERR_INTERNAL;
    }
    if ((rc = mbedtls_x509_crt_parse_file(&id->cert, cert_path)) != 0) {
        snprintf(why, why_len, "--client-cert %s: mbedTLS cannot read a certificate from it (-0x%04x)",
                 cert_path, (unsigned)-rc);
        return TF_ERR_USAGE;
    }
    if ((rc = mbedtls_pk_parse_keyfile(&id->key, key_path, NULL, mbedtls_ctr_drbg_random, rng)) != 0) {
        snprintf(why, why_len, "--client-key %s: mbedTLS cannot read an unencrypted private key from it "
                 "(-0x%04x)", key_path, (unsigned)-rc);
        return TF_ERR_USAGE;
    }
    if (mbedtls_pk_check_pair(&id->cert.pk, &id->key, mbedtls_ctr_drbg_random, rng) != 0) {
        snprintf(why, why_len, "--client-key %s is not the key of --client-cert %s", key_path, cert_path);
        return TF_ERR_USAGE;
    }
    id->loaded = 1;
    return TF_OK;
}

void tf_client_id_free(tf_client_id *id)
{
    mbedtls_x509_crt_free(&id->cert);
    mbedtls_pk_free(&id->key);
    id->loaded = 0;
}
