/*
 * names.h -- names the result line gives to numbers: mbedTLS error codes,
 * X.509 verify flags and PSA status codes (the names of errnames.h, the
 * values of the mbedTLS headers compiled against), and the IANA names of
 * TLS alerts, signature schemes, named groups and protocol versions.
 */
#ifndef TF_VERIFY_NAMES_H
#define TF_VERIFY_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct tf_name {
    long value;
    const char *name;
};

/* The X.509 verify flags this mbedTLS defines, ended by { 0, NULL }. */
extern const struct tf_name tf_flag_names[];

/* Name of `value` in a table ended by { 0, NULL }, or NULL. */
const char *tf_lookup(const struct tf_name *table, long value);

/* Name of an mbedTLS error code into out; a composite code as "HIGH + LOW";
   "MBEDTLS_ERR_UNKNOWN" when it has no name. */
void tf_error_name(int code, char *out, size_t size);

/* A code as text: "-0x7200" (negative) or "0x0000". */
void tf_code_text(int code, char *out, size_t size);

/* mbedtls_strerror()'s text when MBEDTLS_ERROR_C is on, else "". */
void tf_error_message(int code, char *out, size_t size);

/* Name of a PSA status code, or NULL (also when PSA is not configured). */
const char *tf_psa_status_name(long status);

/* IANA names, or NULL when unknown. */
const char *tf_alert_name(int description);
const char *tf_sigalg_name(int scheme);
const char *tf_group_name(int group);
/* 0x0304 -> "TLSv1.3" ... 0x0300 -> "SSLv3.0", else NULL. */
const char *tf_version_name(unsigned version);

/* mbedTLS's suite name in IANA spelling:
 * "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256" -> "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
 * "TLS1-3-AES-128-GCM-SHA256" -> "TLS_AES_128_GCM_SHA256". */
void tf_iana_suite_name(const char *mbed, char *out, size_t size);

#endif
