/*
 * sigcheck.c -- certificate signature checks declared in sigcheck.h.
 *
 * Implementation notes
 * --------------------
 * The spans checked (tbs_der, sig_der, spki_der) were delimited by
 * tf_x509_parse, so nothing here walks DER: the hash is taken over the whole
 * TBSCertificate TLV, mbedtls_pk_parse_public_key() reads the parent's
 * SubjectPublicKeyInfo and mbedtls_pk_verify[_ext]() the signature value
 * (PKCS#1 v1.5 block, PSS block or ECDSA-Sig-Value), each within its span.
 *
 * The algorithm comes from the signature OID (the family) and sig_hash (the
 * hash; for rsassaPss, the one in its parameters).  mbedTLS's verdicts split
 * in two: a refused signature or a key of the wrong type means "not signed
 * by this key" (0); running out of memory means "cannot tell" (-1).
 */
#include "sigcheck.h"

#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>

typedef enum { FAMILY_NONE, FAMILY_RSA, FAMILY_PSS, FAMILY_ECDSA } family;

/* The signature family of a dotted signature OID. */
static family sig_family(const char *oid)
{
    static const char rsa[] = "1.2.840.113549.1.1.", ecdsa[] = "1.2.840.10045.4.";
    if (strcmp(oid, "1.2.840.113549.1.1.10") == 0) return FAMILY_PSS;
    if (strncmp(oid, rsa, sizeof rsa - 1) == 0) {
        const char *n = oid + sizeof rsa - 1;
        /* md5, sha1, sha256, sha384, sha512, sha224 WithRSAEncryption */
        return strcmp(n, "4") == 0 || strcmp(n, "5") == 0 || strcmp(n, "11") == 0 || strcmp(n, "12") == 0 ||
               strcmp(n, "13") == 0 || strcmp(n, "14") == 0 ? FAMILY_RSA : FAMILY_NONE;
    }
    /* ecdsa-with-SHA1 (4.1) and ecdsa-with-SHA2 (4.3.x) */
    if (strncmp(oid, ecdsa, sizeof ecdsa - 1) == 0) return FAMILY_ECDSA;
    return FAMILY_NONE;
}

static mbedtls_md_type_t md_of(const char *hash)
{
    static const struct { const char *name; mbedtls_md_type_t md; } t[] = {
        { "md5", MBEDTLS_MD_MD5 }, { "sha1", MBEDTLS_MD_SHA1 }, { "sha224", MBEDTLS_MD_SHA224 },
        { "sha256", MBEDTLS_MD_SHA256 }, { "sha384", MBEDTLS_MD_SHA384 }, { "sha512", MBEDTLS_MD_SHA512 },
    };
    size_t i;
    for (i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(hash, t[i].name) == 0) return t[i].md;
    return MBEDTLS_MD_NONE;
}

/* mbedTLS's verdict on a verification as sigcheck.h's 1 / 0 / -1. */
static int verdict(int rc)
{
    if (rc == 0) return 1;
    if (rc == MBEDTLS_ERR_PK_ALLOC_FAILED || rc == MBEDTLS_ERR_MPI_ALLOC_FAILED || rc == MBEDTLS_ERR_ECP_ALLOC_FAILED)
        return -1;
    return 0;
}

int tf_sig_check(const tf_cert *child, const tf_cert *parent)
{
    mbedtls_pk_context pk;
    mbedtls_pk_rsassa_pss_options pss;
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];
    const mbedtls_md_info_t *md;
    mbedtls_md_type_t md_type = md_of(child->sig_hash);
    family fam = sig_family(child->sig_oid);
    int rc = -1;

    mbedtls_pk_init(&pk);
    md = mbedtls_md_info_from_type(md_type);
    if (fam == FAMILY_NONE || !md || !child->tbs_der || !child->sig_der || !parent->spki_der) goto cleanup;
    if (mbedtls_md(md, child->tbs_der, child->tbs_der_len, hash) != 0) goto cleanup;
    if (mbedtls_pk_parse_public_key(&pk, parent->spki_der, parent->spki_der_len) != 0) goto cleanup;
    if ((fam == FAMILY_ECDSA) != mbedtls_pk_can_do(&pk, MBEDTLS_PK_ECDSA)) { rc = 0; goto cleanup; }
    if (fam == FAMILY_PSS) {
        pss.mgf1_hash_id = md_type;
        pss.expected_salt_len = MBEDTLS_RSA_SALT_LEN_ANY;
        rc = verdict(mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &pss, &pk, md_type, hash,
                                           mbedtls_md_get_size(md), child->sig_der, child->sig_der_len));
    } else {
        rc = verdict(mbedtls_pk_verify(&pk, md_type, hash, mbedtls_md_get_size(md), child->sig_der,
                                       child->sig_der_len));
    }
cleanup:
    mbedtls_pk_free(&pk);
    return rc;
}
