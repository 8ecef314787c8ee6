/*
 * ca.h -- loading the trust anchors of --ca.
 *
 * The file is read with stdio and decoded here (PEM armour and base64 by the
 * shared codecs of tool/codec, or a run of concatenated DER certificates),
 * so a configuration without FS_IO or PEM_PARSE_C can still be verified;
 * each certificate is then handed to mbedtls_x509_crt_parse_der(), which
 * keeps the ones this configuration can use.
 */
#ifndef TF_VERIFY_CA_H
#define TF_VERIFY_CA_H

#include "fail.h"
#include "mbedtls/x509_crt.h"

struct tf_ca_count {
    int loaded;         /* certificates mbedTLS took */
    int rejected;       /* certificates (or blocks) it refused */
    int last_error;     /* the mbedTLS error of the last refusal */
};

/*
 * Adds the certificates of the file at `path` (PEM: every CERTIFICATE block;
 * otherwise DER SEQUENCEs back to back) to `chain`, counting them in *c.
 * Returns 0 when at least one was loaded; else -1 with *f filled in: an
 * error name (unreadable file, no certificate at all), or f->error NULL and
 * f->code set when mbedTLS refused them all (c->last_error names why).
 */
int tf_ca_load(const char *path, mbedtls_x509_crt *chain, struct tf_ca_count *c,
               struct tf_fail *f);

#endif
