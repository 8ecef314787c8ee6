/*
 * identity.h -- the device's own certificate and private key (--client-cert,
 * --client-key), presented to a server that asks for a client certificate
 * (mbedtls_ssl_conf_own_cert; mutual TLS, e.g. a broker with
 * `require_certificate true`).
 *
 * Both files are read with stdio and, when PEM, decoded here with the shared
 * codecs (the first CERTIFICATE block; the first "... PRIVATE KEY" block:
 * PKCS#8, SEC1 or PKCS#1), so a configuration without FS_IO or PEM_PARSE_C
 * can sign: the certificate goes to mbedtls_x509_crt_parse_der(), the key
 * to mbedtls_pk_parse_key() as DER.  The key's bytes are wiped from the
 * buffers once parsed.
 */
#ifndef TF_VERIFY_IDENTITY_H
#define TF_VERIFY_IDENTITY_H

#include "fail.h"
#include "rng.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

/*
 * Parses the certificate at cert_path into *crt and the key at key_path into
 * *key (the random generator is ready: mbedTLS 3.x checks an EC key with it).
 * Returns 0; else -1 with *code the mbedTLS error (0 when *f names the
 * failure: unreadable file, no block, no PK_PARSE_C).
 */
int tf_identity_load(const char *cert_path, const char *key_path, mbedtls_x509_crt *crt,
                     mbedtls_pk_context *key, struct tf_rng *rng, int *code,
                     struct tf_fail *f);

#endif
