/*
 * tables.h -- IANA registries the prober offers from: cipher suites, named
 * groups and signature schemes.  Pure data (tables.c); the order of each
 * table is numeric and carries no preference.  The order in which suites are
 * *offered* is a separate, documented decision in enum.c.
 */
#ifndef TF_TABLES_H
#define TF_TABLES_H

#include <stddef.h>
#include <stdint.h>

/* Key exchange of a cipher suite, as named in the IANA suite name. */
typedef enum {
    TF_KX_RSA, TF_KX_DHE_RSA, TF_KX_DHE_DSS, TF_KX_DH_RSA, TF_KX_DH_DSS,
    TF_KX_ECDHE_RSA, TF_KX_ECDHE_ECDSA, TF_KX_ECDH_RSA, TF_KX_ECDH_ECDSA,
    TF_KX_PSK, TF_KX_DHE_PSK, TF_KX_ECDHE_PSK, TF_KX_RSA_PSK,
    TF_KX_DH_ANON, TF_KX_ECDH_ANON, TF_KX_SRP, TF_KX_SRP_RSA, TF_KX_SRP_DSS,
    TF_KX_ECJPAKE,
    TF_KX_TLS13 /* TLS 1.3 suite: key exchange negotiated separately */
} tf_kx;

typedef struct {
    uint16_t id;
    tf_kx kx;
    const char *name; /* IANA name */
} tf_suite;

/* All suites OpenSSL or mbedTLS can offer, by id (213 entries). */
extern const tf_suite tf_suites[];
extern const size_t tf_suites_count;

const tf_suite *tf_suite_find(uint16_t id);
/* 1 when the suite's TLS 1.2 ServerKeyExchange carries an ECDHE curve. */
int tf_kx_is_ecdhe(tf_kx kx);
/* 1 when the suite's ServerKeyExchange carries finite-field DH parameters. */
int tf_kx_is_dhe(tf_kx kx);
/* 1 when the ServerKeyExchange is signed (so it reveals a signature scheme). */
int tf_kx_is_signed(tf_kx kx);

typedef enum { TF_GROUP_EC, TF_GROUP_MONT, TF_GROUP_FFDHE, TF_GROUP_HYBRID } tf_group_kind;

typedef struct {
    uint16_t id;
    tf_group_kind kind;
    uint16_t bits;    /* security-relevant size: curve bits or prime bits */
    uint8_t tls13;    /* 1 when valid in TLS 1.3 */
    uint8_t tls12;    /* 1 when valid in TLS 1.2 */
    const char *name; /* IANA name */
} tf_group;

extern const tf_group tf_groups[];
extern const size_t tf_groups_count;
const tf_group *tf_group_find(uint16_t id);

typedef struct {
    uint16_t id;
    uint8_t tls13;    /* 1 when valid in TLS 1.3 CertificateVerify */
    const char *name; /* IANA name */
} tf_sigalg;

extern const tf_sigalg tf_sigalgs[];
extern const size_t tf_sigalgs_count;
const tf_sigalg *tf_sigalg_find(uint16_t id);

/* Name of any id in the three tables, or NULL. */
const char *tf_suite_name(uint16_t id);
const char *tf_group_name(uint16_t id);
const char *tf_sigalg_name(uint16_t id);

/* Protocol version names: 0x0301 -> "TLSv1.0" ... 0x0304 -> "TLSv1.3". */
const char *tf_version_name(uint16_t v);

#endif
