/*
 * x509.h -- a read-only X.509 certificate decoder for reporting.
 *
 * The prober must describe every certificate a server sends, including ones a
 * given TLS library cannot use (Ed25519/Ed448 keys, brainpool curves, unknown
 * algorithms), so this is its own small DER walker rather than a TLS
 * library's parser.  It never verifies signatures; it only reports (and
 * keeps the spans sigcheck.h verifies).
 *
 * Unknown algorithms are reported by dotted OID.  Every string field is
 * NUL-terminated and truncated (never overflowed) when too long.
 */
#ifndef TF_X509_H
#define TF_X509_H

#include <stddef.h>
#include <stdint.h>

#define TF_X509_MAX_SAN 256

typedef struct {
    /* RFC 4514-style distinguished names, e.g. "CN=leaf,O=Example,C=FR". */
    char subject[512];
    char issuer[512];

    /* Subject public key. */
    char key_type[16];  /* "rsa", "ec", "ed25519", "ed448", "dsa", "rsa-pss", "x25519", "x448", "unknown" */
    char key_oid[64];   /* dotted algorithm OID, always set */
    unsigned key_bits;  /* RSA/DSA modulus bits, EC field bits (256, 384, 521, 255 for ed25519, 448 for ed448) */
    char curve[32];     /* named curve for "ec": "secp256r1", "secp384r1", "secp521r1", "brainpoolP256r1", ...;
                           the dotted OID when unknown; "" for non-EC keys */

    /* Signature the issuer put on this certificate. */
    char sig_alg[48];   /* "sha256WithRSAEncryption", "ecdsa-with-SHA384", "rsassaPss", "ED25519", ...
                           or the dotted OID when unknown */
    char sig_oid[64];   /* dotted OID, always set */
    char sig_hash[16];  /* hash of that signature: "sha1", "sha224", "sha256", "sha384", "sha512", "" (Ed*) or
                           "unknown"; for rsassaPss the hash from its parameters */

    char not_before[24]; /* "2026-01-31T12:00:00Z" */
    char not_after[24];
    char serial_hex[72];  /* lower-case hex, no separators, truncated to 64 digits */

    char san_dns[TF_X509_MAX_SAN][256]; /* dNSName entries of subjectAltName */
    size_t san_count;                   /* entries kept in san_dns */
    size_t san_total;                   /* dNSName entries in the certificate (> san_count: list cut) */

    uint8_t ski[64];     /* subjectKeyIdentifier, if present */
    size_t ski_len;
    uint8_t aki[64];     /* authorityKeyIdentifier keyIdentifier, if present */
    size_t aki_len;
    int is_ca;           /* basicConstraints cA = TRUE */
    int self_issued;     /* subject DER == issuer DER */

    /* Raw DER of the subject and issuer Names, pointing into the buffer given to
       tf_x509_parse (valid as long as that buffer is). Used for chain matching. */
    const uint8_t *subject_der;
    size_t subject_der_len;
    const uint8_t *issuer_der;
    size_t issuer_der_len;

    /* Also pointing into that buffer, for signature checks (sigcheck.h): the
       whole TBSCertificate TLV (what the issuer signed), the signature value
       (the BIT STRING's bytes after its unused-bits octet) and the whole
       SubjectPublicKeyInfo TLV (the key this certificate's subject signs with). */
    const uint8_t *tbs_der;
    size_t tbs_der_len;
    const uint8_t *sig_der;
    size_t sig_der_len;
    const uint8_t *spki_der;
    size_t spki_der_len;
} tf_cert;

/*
 * Decodes one DER certificate.  Returns 0, or -1 when the bytes are not a
 * well-formed certificate (c is then zeroed but for key_type "unknown").
 * Never reads outside [der, der+len).
 */
int tf_x509_parse(tf_cert *c, const uint8_t *der, size_t len);

/* 1 when `child` names `parent` as issuer: issuer DER equal to subject DER and,
   if both carry them, AKI equal to SKI. */
int tf_x509_issued_by(const tf_cert *child, const tf_cert *parent);

/* Renders a DER-encoded Name (e.g. a CertificateRequest CA name) the way
   subject/issuer are rendered.  Returns 0, or -1 when it is not a Name. */
int tf_x509_name_string(const uint8_t *der, size_t len, char *out, size_t cap);

#endif
