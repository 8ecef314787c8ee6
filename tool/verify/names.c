/*
 * names.c -- the names of names.h.
 *
 * errnames.h lists names only, each under #ifdef; it is included three
 * times below with TF_ERR / TF_FLAG / TF_PSA defined to pick one kind, so a
 * name exists here exactly when the mbedTLS headers compiled against define
 * it, with their value.  Every module header that defines codes is included
 * for that reason, whether or not the configuration enables the module.
 */
#include "names.h"
#include "net.h"            /* MBEDTLS_ERR_NET_*, also without NET_C */

#include <stdio.h>
#include <string.h>

#include "mbedtls/version.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_ciphersuites.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/pk.h"
#include "mbedtls/asn1.h"
#include "mbedtls/pem.h"
#include "mbedtls/oid.h"
#if MBEDTLS_VERSION_MAJOR < 4     /* 4.x: these modules' headers are TF-PSA-Crypto's private ones */
#include "mbedtls/bignum.h"
#include "mbedtls/ecp.h"
#include "mbedtls/rsa.h"
#include "mbedtls/dhm.h"
#include "mbedtls/md.h"
#include "mbedtls/cipher.h"
#include "mbedtls/gcm.h"
#include "mbedtls/ccm.h"
#include "mbedtls/chachapoly.h"
#include "mbedtls/chacha20.h"
#include "mbedtls/poly1305.h"
#include "mbedtls/aes.h"
#include "mbedtls/entropy.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/hmac_drbg.h"
#include "mbedtls/hkdf.h"
#include "mbedtls/base64.h"
#include "mbedtls/sha1.h"
#include "mbedtls/sha256.h"
#include "mbedtls/sha512.h"
#include "mbedtls/md5.h"
#include "mbedtls/camellia.h"
#include "mbedtls/aria.h"
#include "mbedtls/des.h"
#else
#include "mbedtls/md.h"
#include "mbedtls/base64.h"
#endif
#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"
#if defined(MBEDTLS_HAVE_TIME)
#include "mbedtls/platform_time.h"
#endif
#if defined(MBEDTLS_ERROR_C)
#include "mbedtls/error.h"
#endif
#if defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include "mbedtls/psa_util.h"
#endif
#endif


#define TF_ERR(n) { (long) (n), #n },
#define TF_FLAG(n)
#define TF_PSA(n)
static const struct tf_name err_names[] = {
#include "errnames.h"
    { 0, NULL }
};
#undef TF_ERR
#undef TF_FLAG
#undef TF_PSA

#define TF_ERR(n)
#define TF_FLAG(n) { (long) (n), #n },
#define TF_PSA(n)
const struct tf_name tf_flag_names[] = {
#include "errnames.h"
    { 0, NULL }
};
#undef TF_ERR
#undef TF_FLAG
#undef TF_PSA

#if defined(MBEDTLS_PSA_CRYPTO_C)
#define TF_ERR(n)
#define TF_FLAG(n)
#define TF_PSA(n) { (long) (n), #n },
static const struct tf_name psa_names[] = {
#include "errnames.h"
    { 0, NULL }
};
#undef TF_ERR
#undef TF_FLAG
#undef TF_PSA
#endif

const char *tf_lookup(const struct tf_name *table, long value)
{
    for (; table->name != NULL; table++) {
        if (table->value == value) {
            return table->name;
        }
    }
    return NULL;
}

/* TLS alert descriptions (RFC 8446 section 6, RFC 5246 section 7.2). */
static const struct tf_name alerts[] = {
    { 0, "close_notify" }, { 10, "unexpected_message" }, { 20, "bad_record_mac" },
    { 21, "decryption_failed" }, { 22, "record_overflow" }, { 30, "decompression_failure" },
    { 40, "handshake_failure" }, { 41, "no_certificate" }, { 42, "bad_certificate" },
    { 43, "unsupported_certificate" }, { 44, "certificate_revoked" },
    { 45, "certificate_expired" }, { 46, "certificate_unknown" },
    { 47, "illegal_parameter" }, { 48, "unknown_ca" }, { 49, "access_denied" },
    { 50, "decode_error" }, { 51, "decrypt_error" }, { 60, "export_restriction" },
    { 70, "protocol_version" }, { 71, "insufficient_security" }, { 80, "internal_error" },
    { 86, "inappropriate_fallback" }, { 90, "user_canceled" },
    { 100, "no_renegotiation" }, { 109, "missing_extension" },
    { 110, "unsupported_extension" }, { 111, "certificate_unobtainable" },
    { 112, "unrecognized_name" }, { 113, "bad_certificate_status_response" },
    { 114, "bad_certificate_hash_value" }, { 115, "unknown_psk_identity" },
    { 116, "certificate_required" }, { 120, "no_application_protocol" },
    { 0, NULL }
};

/* Signature schemes (IANA "TLS SignatureScheme" registry). */
static const struct tf_name sigalgs[] = {
    { 0x0201, "rsa_pkcs1_sha1" }, { 0x0203, "ecdsa_sha1" },
    { 0x0401, "rsa_pkcs1_sha256" }, { 0x0501, "rsa_pkcs1_sha384" },
    { 0x0601, "rsa_pkcs1_sha512" }, { 0x0403, "ecdsa_secp256r1_sha256" },
    { 0x0503, "ecdsa_secp384r1_sha384" }, { 0x0603, "ecdsa_secp521r1_sha512" },
    { 0x0804, "rsa_pss_rsae_sha256" }, { 0x0805, "rsa_pss_rsae_sha384" },
    { 0x0806, "rsa_pss_rsae_sha512" }, { 0x0807, "ed25519" }, { 0x0808, "ed448" },
    { 0x0809, "rsa_pss_pss_sha256" }, { 0x080A, "rsa_pss_pss_sha384" },
    { 0x080B, "rsa_pss_pss_sha512" }, { 0x081A, "ecdsa_brainpoolP256r1tls13_sha256" },
    { 0x081B, "ecdsa_brainpoolP384r1tls13_sha384" },
    { 0x081C, "ecdsa_brainpoolP512r1tls13_sha512" },
    { 0, NULL }
};

/* Named groups (IANA "TLS Supported Groups" registry). */
static const struct tf_name groups[] = {
    { 0x0017, "secp256r1" }, { 0x0018, "secp384r1" }, { 0x0019, "secp521r1" },
    { 0x001A, "brainpoolP256r1" }, { 0x001B, "brainpoolP384r1" },
    { 0x001C, "brainpoolP512r1" }, { 0x001D, "x25519" }, { 0x001E, "x448" },
    { 0x001F, "brainpoolP256r1tls13" }, { 0x0020, "brainpoolP384r1tls13" },
    { 0x0021, "brainpoolP512r1tls13" }, { 0x0100, "ffdhe2048" }, { 0x0101, "ffdhe3072" },
    { 0x0102, "ffdhe4096" }, { 0x0103, "ffdhe6144" }, { 0x0104, "ffdhe8192" },
    { 0x11EB, "SecP256r1MLKEM768" }, { 0x11EC, "X25519MLKEM768" },
    { 0x11ED, "SecP384r1MLKEM1024" },
    { 0, NULL }
};

#if defined(MBEDTLS_PSA_CRYPTO_C)
const char *tf_psa_status_name(long status)
{
    return tf_lookup(psa_names, status);
}
#else
const char *tf_psa_status_name(long status)
{
    (void) status;
    return NULL;
}
#endif

const char *tf_alert_name(int description)
{
    return tf_lookup(alerts, description);
}

const char *tf_sigalg_name(int scheme)
{
    return tf_lookup(sigalgs, scheme);
}

const char *tf_group_name(int group)
{
    return tf_lookup(groups, group);
}

void tf_code_text(int code, char *out, size_t size)
{
    if (code < 0) {
        snprintf(out, size, "-0x%04X", (unsigned) -code);
    } else {
        snprintf(out, size, "0x%04X", (unsigned) code);
    }
}

void tf_error_name(int code, char *out, size_t size)
{
    const char *n = tf_lookup(err_names, code);
    if (n != NULL) {
        snprintf(out, size, "%s", n);
        return;
    }
    if (code < 0) {
        int high = -((-code) & 0xFF80), low = -((-code) & 0x007F);
        const char *hn = high ? tf_lookup(err_names, high) : NULL;
        const char *ln = low ? tf_lookup(err_names, low) : NULL;
        if (hn && ln) {
            snprintf(out, size, "%s + %s", hn, ln);
            return;
        }
        if (hn && !low) {
            snprintf(out, size, "%s", hn);
            return;
        }
    }
    snprintf(out, size, "MBEDTLS_ERR_UNKNOWN");
}

void tf_error_message(int code, char *out, size_t size)
{
#if defined(MBEDTLS_ERROR_C)
    mbedtls_strerror(code, out, size);
#else
    (void) code;
    if (size > 0) {
        out[0] = '\0';
    }
#endif
}

const char *tf_version_name(unsigned v)
{
    switch (v) {
        case 0x0304: return "TLSv1.3";
        case 0x0303: return "TLSv1.2";
        case 0x0302: return "TLSv1.1";
        case 0x0301: return "TLSv1.0";
        case 0x0300: return "SSLv3.0";
        default: return NULL;
    }
}

void tf_iana_suite_name(const char *mbed, char *out, size_t size)
{
    if (strncmp(mbed, "TLS1-3-", 7) == 0) {
        snprintf(out, size, "TLS_%s", mbed + 7);
    } else {
        snprintf(out, size, "%s", mbed);
    }
    for (char *p = out; *p; p++) {
        if (*p == '-') {
            *p = '_';
        }
    }
}
