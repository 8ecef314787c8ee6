/*
 * tlsfit-verify-client: one TLS handshake with certificate verification,
 * built against an mbedTLS tree (3.6 or 2.28) with the configuration header
 * under test (MBEDTLS_CONFIG_FILE).  Part of `tlsfit verify`.
 *
 *   tlsfit-verify-client --host H --port P --ca FILE [--sni NAME]
 *                        [--timeout SEC] [--min-version 1.2|1.3] [--max-version 1.2|1.3]
 *
 * Prints exactly one JSON line on stdout:
 *   {"ok": true, "version": "TLSv1.3", "ciphersuite": "TLS_AES_128_GCM_SHA256",
 *    "group": "x25519", "verify_flags": 0, ...}
 *   {"ok": false, "step": "handshake", "error": "MBEDTLS_ERR_...", "code": "-0x7200",
 *    "verify_flags": N, "verify_info": "...", ...}
 * Exit status: 0 verified, 1 failed (any step), 2 usage.
 *
 * It only uses what a trimmed configuration is likely to keep: no FS_IO (the CA
 * file is read with stdio and decoded from PEM here, so PEM_PARSE_C may be
 * off), no NET_C (own POSIX socket callbacks), no ERROR_C (own table of error
 * names; mbedtls_strerror() adds its text when available).
 *
 * mbedTLS has no public getter for the negotiated key-exchange group, so the
 * client reads it off the wire: the receive callback follows the plaintext
 * part of the server's flight (record and handshake headers only) and picks
 * the key_share group out of the TLS 1.3 ServerHello / HelloRetryRequest, or
 * the named curve out of a TLS 1.2 ECDHE ServerKeyExchange.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "mbedtls/version.h"        /* 3.x: via build_info.h; 2.x: via config */

#if MBEDTLS_VERSION_NUMBER < 0x03000000
/* 2.x: a custom MBEDTLS_CONFIG_FILE replaces config.h, which is where the
 * check normally happens; make sure the header under test is checked. */
#include "mbedtls/check_config.h"
#endif

#if !defined(MBEDTLS_SSL_TLS_C)
#error "tlsfit verify: MBEDTLS_SSL_TLS_C is not defined, there is no TLS to verify"
#endif
#if !defined(MBEDTLS_SSL_CLI_C)
#error "tlsfit verify: MBEDTLS_SSL_CLI_C is not defined, the configuration has no TLS client"
#endif
#if !defined(MBEDTLS_X509_CRT_PARSE_C)
#error "tlsfit verify: MBEDTLS_X509_CRT_PARSE_C is not defined, certificates cannot be verified"
#endif

#include "mbedtls/ssl.h"
#include "mbedtls/ssl_ciphersuites.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/net_sockets.h"   /* error codes only; NET_C itself is not used */
#include "mbedtls/pk.h"
#include "mbedtls/asn1.h"
#include "mbedtls/pem.h"
#include "mbedtls/oid.h"
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

#ifndef MBEDTLS_ERR_NET_RECV_FAILED
#define MBEDTLS_ERR_NET_RECV_FAILED -0x004C
#endif
#ifndef MBEDTLS_ERR_NET_SEND_FAILED
#define MBEDTLS_ERR_NET_SEND_FAILED -0x004E
#endif
#ifndef MBEDTLS_ERR_NET_CONN_RESET
#define MBEDTLS_ERR_NET_CONN_RESET -0x0050
#endif

/* Which random generator the TLS layer gets. */
#if defined(MBEDTLS_CTR_DRBG_C)
#define TF_RNG "ctr_drbg"
#elif defined(MBEDTLS_HMAC_DRBG_C)
#define TF_RNG "hmac_drbg"
#elif defined(MBEDTLS_PSA_CRYPTO_C) && MBEDTLS_VERSION_NUMBER >= 0x03000000
#define TF_RNG "psa"
#else
#define TF_RNG NULL
#endif

#define EXIT_VERIFIED 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2

/* ------------------------------------------------------------------ names */

struct tf_name {
    long value;
    const char *name;
};

#define TF_ERR(n) { (long) (n), #n },
#define TF_FLAG(n)
#define TF_PSA(n)
static const struct tf_name tf_err_names[] = {
#include "errnames.h"
    { 0, NULL }
};
#undef TF_ERR
#undef TF_FLAG
#undef TF_PSA

#define TF_ERR(n)
#define TF_FLAG(n) { (long) (n), #n },
#define TF_PSA(n)
static const struct tf_name tf_flag_names[] = {
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
static const struct tf_name tf_psa_names[] = {
#include "errnames.h"
    { 0, NULL }
};
#undef TF_ERR
#undef TF_FLAG
#undef TF_PSA
#endif

static const char *tf_lookup(const struct tf_name *table, long value)
{
    for (; table->name != NULL; table++) {
        if (table->value == value) {
            return table->name;
        }
    }
    return NULL;
}

/* TLS alert descriptions (RFC 8446 section 6, RFC 5246 section 7.2). */
static const struct tf_name tf_alerts[] = {
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
static const struct tf_name tf_sigalgs[] = {
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
static const struct tf_name tf_groups[] = {
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

/* -------------------------------------------------------------- JSON out */

struct tf_json {
    char buf[16384];
    size_t len;
    int fields;
};

static void js_raw(struct tf_json *j, const char *s)
{
    size_t n = strlen(s);
    if (j->len + n >= sizeof(j->buf)) {
        n = sizeof(j->buf) - 1 - j->len;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void js_key(struct tf_json *j, const char *key)
{
    js_raw(j, j->fields++ ? ", \"" : "{\"");
    js_raw(j, key);
    js_raw(j, "\": ");
}

static void js_quoted(struct tf_json *j, const char *s)
{
    char tmp[8];
    js_raw(j, "\"");
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char) *p;
            tmp[2] = '\0';
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(tmp, sizeof(tmp), "\\u%04x", *p);
        } else {
            tmp[0] = (char) *p;
            tmp[1] = '\0';
        }
        js_raw(j, tmp);
    }
    js_raw(j, "\"");
}

static void js_str(struct tf_json *j, const char *key, const char *value)
{
    js_key(j, key);
    if (value == NULL) {
        js_raw(j, "null");
    } else {
        js_quoted(j, value);
    }
}

static void js_int(struct tf_json *j, const char *key, long long value)
{
    char tmp[32];
    js_key(j, key);
    snprintf(tmp, sizeof(tmp), "%lld", value);
    js_raw(j, tmp);
}

static void js_bool(struct tf_json *j, const char *key, int value)
{
    js_key(j, key);
    js_raw(j, value ? "true" : "false");
}

static void js_null(struct tf_json *j, const char *key)
{
    js_key(j, key);
    js_raw(j, "null");
}

static void js_print(struct tf_json *j)
{
    js_raw(j, "}");
    fputs(j->buf, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

/* --------------------------------------------------------------- options */

struct tf_opts {
    const char *host;
    const char *port;
    const char *sni;
    const char *ca;
    int timeout_ms;
    int min_version;    /* 0: the configuration's default; else 12 or 13 */
    int max_version;
};

static void usage(const char *why)
{
    fprintf(stderr,
            "tlsfit-verify-client: %s\n"
            "usage: tlsfit-verify-client --host H --port P --ca FILE [--sni NAME]\n"
            "       [--timeout SEC] [--min-version 1.2|1.3] [--max-version 1.2|1.3]\n",
            why);
    exit(EXIT_USAGE);
}

static int parse_version(const char *s)
{
    if (strcmp(s, "1.2") == 0) {
        return 12;
    }
    if (strcmp(s, "1.3") == 0) {
        return 13;
    }
    usage("--min-version / --max-version take 1.2 or 1.3");
    return 0;
}

static void parse_args(int argc, char **argv, struct tf_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->timeout_ms = 10000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage("one verified TLS handshake; prints one JSON line");
        }
        if (i + 1 >= argc) {
            char msg[128];
            snprintf(msg, sizeof(msg), "%.60s: missing value or unknown option", a);
            usage(msg);
        }
        const char *v = argv[++i];
        if (strcmp(a, "--host") == 0) {
            o->host = v;
        } else if (strcmp(a, "--port") == 0) {
            char *end;
            long p = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || p < 1 || p > 65535) {
                usage("--port takes a number from 1 to 65535");
            }
            o->port = v;
        } else if (strcmp(a, "--sni") == 0) {
            o->sni = v;
        } else if (strcmp(a, "--ca") == 0) {
            o->ca = v;
        } else if (strcmp(a, "--timeout") == 0) {
            char *end;
            double t = strtod(v, &end);
            if (*v == '\0' || *end != '\0' || !(t > 0 && t <= 600)) {
                usage("--timeout takes seconds, more than 0 and at most 600");
            }
            o->timeout_ms = (int) (t * 1000.0);
            if (o->timeout_ms < 1) {
                o->timeout_ms = 1;
            }
        } else if (strcmp(a, "--min-version") == 0) {
            o->min_version = parse_version(v);
        } else if (strcmp(a, "--max-version") == 0) {
            o->max_version = parse_version(v);
        } else {
            char msg[128];
            snprintf(msg, sizeof(msg), "unknown option %.60s", a);
            usage(msg);
        }
    }
    if (o->host == NULL || o->port == NULL || o->ca == NULL) {
        usage("--host, --port and --ca are required");
    }
    if (o->min_version && o->max_version && o->min_version > o->max_version) {
        usage("--min-version is above --max-version");
    }
}

/* ------------------------------------------------------------ randomness */

#if defined(__GNUC__)
#define TF_MAYBE_UNUSED __attribute__((unused))
#else
#define TF_MAYBE_UNUSED
#endif

/* Used by whichever of the hooks below the configuration needs. */
static TF_MAYBE_UNUSED int os_random(unsigned char *out, size_t len)
{
    static int fd = -1;
    if (fd < 0) {
        fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            return -1;
        }
    }
    while (len > 0) {
        ssize_t n = read(fd, out, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        out += n;
        len -= (size_t) n;
    }
    return 0;
}

#if defined(MBEDTLS_ENTROPY_HARDWARE_ALT) || (defined(MBEDTLS_NO_PLATFORM_ENTROPY) && \
    defined(MBEDTLS_ENTROPY_C) && (defined(MBEDTLS_CTR_DRBG_C) || defined(MBEDTLS_HMAC_DRBG_C)))
/* The signature of an mbedTLS entropy source. */
static int os_entropy(void *ctx, unsigned char *out, size_t len, size_t *olen)
{
    (void) ctx;
    if (os_random(out, len) != 0) {
        return -1;
    }
    *olen = len;
    return 0;
}
#endif

#if !defined(MBEDTLS_ENTROPY_C) && (defined(MBEDTLS_CTR_DRBG_C) || defined(MBEDTLS_HMAC_DRBG_C))
static int os_seed(void *ctx, unsigned char *out, size_t len)
{
    (void) ctx;
    return os_random(out, len) == 0 ? 0 : -1;
}
#endif

/*
 * Hooks a device configuration may leave to the platform.  On the host they
 * are answered by the OS, so such a configuration still links and runs.
 */
#if defined(MBEDTLS_ENTROPY_HARDWARE_ALT)
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen);
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
    return os_entropy(data, output, len, olen);
}
#endif

#if defined(MBEDTLS_PSA_CRYPTO_C) && defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *context,
                                             uint8_t *output, size_t output_size,
                                             size_t *output_length)
{
    (void) context;
    if (os_random(output, output_size) != 0) {
        return PSA_ERROR_INSUFFICIENT_ENTROPY;
    }
    *output_length = output_size;
    return PSA_SUCCESS;
}
#endif

#if defined(MBEDTLS_HAVE_TIME) && defined(MBEDTLS_PLATFORM_MS_TIME_ALT)
mbedtls_ms_time_t mbedtls_ms_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (mbedtls_ms_time_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
#endif

#if defined(MBEDTLS_HAVE_TIME_DATE) && defined(MBEDTLS_PLATFORM_GMTIME_R_ALT)
struct tm *mbedtls_platform_gmtime_r(const mbedtls_time_t *tt, struct tm *tm_buf)
{
    time_t t = (time_t) *tt;
    return gmtime_r(&t, tm_buf);
}
#endif

#if defined(MBEDTLS_PLATFORM_ZEROIZE_ALT)
void mbedtls_platform_zeroize(void *buf, size_t len)
{
    volatile unsigned char *p = buf;
    while (len--) {
        *p++ = 0;
    }
}
#endif

struct tf_rng {
#if defined(MBEDTLS_ENTROPY_C) && (defined(MBEDTLS_CTR_DRBG_C) || defined(MBEDTLS_HMAC_DRBG_C))
    mbedtls_entropy_context entropy;
#endif
#if defined(MBEDTLS_CTR_DRBG_C)
    mbedtls_ctr_drbg_context drbg;
#elif defined(MBEDTLS_HMAC_DRBG_C)
    mbedtls_hmac_drbg_context drbg;
#endif
    int dummy;
};

/* ------------------------------------------------------------ the result */

struct tf_wire {
    /* record layer */
    int active;             /* still in the plaintext part of the server's flight */
    int broken;             /* the bytes stopped looking like TLS records */
    unsigned long records;
    size_t largest_record;  /* largest record length field seen (payload bytes) */
    unsigned char rhdr[5];
    size_t rhdr_len;
    size_t rleft;
    int rtype;
    unsigned char alert[2];
    size_t alert_len;
    /* handshake layer (inside type-22 records) */
    unsigned char hhdr[4];
    size_t hhdr_len;
    size_t hleft;
    int htype;
    unsigned char body[4096];   /* ServerHello (truncated if larger) */
    size_t body_len;
    unsigned char ske[4096];    /* TLS 1.2 ServerKeyExchange (truncated if larger) */
    size_t ske_len;
    /* findings */
    int sh_seen;
    unsigned sh_version;        /* 0x0303, 0x0304 */
    unsigned sh_suite;
    int sh_group;               /* key_share group; -1 none */
    int ske_group;              /* ECDHE named curve; -1 none */
    int ske_sigalg;             /* its signature scheme; -1 none */
    int alert_seen;
    int alert_level, alert_desc;
};

struct tf_io {
    int fd;
    int timeout_ms;
    struct timespec deadline;   /* whole handshake: 3 x timeout */
    int timed_out;
    int sys_errno;
    struct tf_wire wire;
};

/* ------------------------------------------------------- wire observation */

static unsigned get16(const unsigned char *p)
{
    return ((unsigned) p[0] << 8) | p[1];
}

static void parse_server_hello(struct tf_wire *w)
{
    const unsigned char *p = w->body, *end = w->body + w->body_len;
    if (end - p < 35) {
        return;
    }
    unsigned version = get16(p);
    p += 34;
    size_t sid = *p++;
    if ((size_t) (end - p) < sid + 3) {
        return;
    }
    p += sid;
    w->sh_seen = 1;
    w->sh_suite = get16(p);
    p += 3;   /* suite, compression */
    w->sh_version = version;
    if (end - p < 2) {
        return;
    }
    size_t ext_total = get16(p);
    p += 2;
    if ((size_t) (end - p) > ext_total) {
        end = p + ext_total;
    }
    while (end - p >= 4) {
        unsigned type = get16(p), len = get16(p + 2);
        p += 4;
        if ((size_t) (end - p) < len) {
            break;
        }
        if (type == 43 && len == 2) {           /* supported_versions */
            w->sh_version = get16(p);
        } else if (type == 51 && len >= 2) {    /* key_share: group first (SH and HRR) */
            w->sh_group = (int) get16(p);
        }
        p += len;
    }
}

/* The ServerKeyExchange of TLS 1.2 (EC)DHE suites with a signature:
 *   ECDHE: curve_type(3) named_curve(2) point<1..255> signature_scheme(2) signature
 *   DHE:   dh_p<2> dh_g<2> dh_Ys<2> signature_scheme(2) signature */
static void parse_server_key_exchange(struct tf_wire *w)
{
    const char *suite = w->sh_seen ? mbedtls_ssl_get_ciphersuite_name((int) w->sh_suite) : NULL;
    const unsigned char *p = w->ske, *end = w->ske + w->ske_len;
    if (suite == NULL) {
        return;
    }
    if (strncmp(suite, "TLS-ECDHE-ECDSA-", 16) == 0 || strncmp(suite, "TLS-ECDHE-RSA-", 14) == 0) {
        if (end - p < 4 || p[0] != 3) {
            return;
        }
        w->ske_group = (int) get16(p + 1);
        p += 4 + p[3];
    } else if (strncmp(suite, "TLS-DHE-RSA-", 12) == 0) {
        for (int i = 0; i < 3; i++) {
            if (end - p < 2) {
                return;
            }
            size_t len = get16(p);
            p += 2 + len;
            if (p > end) {
                return;
            }
        }
    } else {
        return;
    }
    if (end - p >= 2) {
        w->ske_sigalg = (int) get16(p);
    }
}

static void feed_handshake(struct tf_wire *w, const unsigned char *p, size_t n)
{
    while (n > 0) {
        if (w->hhdr_len < 4) {
            w->hhdr[w->hhdr_len++] = *p++;
            n--;
            if (w->hhdr_len == 4) {
                w->htype = w->hhdr[0];
                w->hleft = ((size_t) w->hhdr[1] << 16) | ((size_t) w->hhdr[2] << 8) | w->hhdr[3];
                w->body_len = 0;
                w->ske_len = 0;
                if (w->hleft == 0) {
                    w->hhdr_len = 0;
                }
            }
            continue;
        }
        size_t take = n < w->hleft ? n : w->hleft;
        if (w->htype == 2) {            /* ServerHello / HelloRetryRequest */
            size_t room = sizeof(w->body) - w->body_len;
            size_t c = take < room ? take : room;
            memcpy(w->body + w->body_len, p, c);
            w->body_len += c;
        } else if (w->htype == 12) {    /* ServerKeyExchange (TLS 1.2) */
            size_t room = sizeof(w->ske) - w->ske_len;
            size_t c = take < room ? take : room;
            memcpy(w->ske + w->ske_len, p, c);
            w->ske_len += c;
        }
        p += take;
        n -= take;
        w->hleft -= take;
        if (w->hleft == 0) {
            if (w->htype == 2) {
                parse_server_hello(w);
            } else if (w->htype == 12) {
                parse_server_key_exchange(w);
            }
            w->hhdr_len = 0;
        }
    }
}

/*
 * Follows the record framing of everything the server sends (to know the
 * largest record), and the contents of the plaintext records before the first
 * ChangeCipherSpec or application-data record (ServerHello, ServerKeyExchange,
 * alerts).
 */
static void observe(struct tf_wire *w, const unsigned char *p, size_t n)
{
    while (!w->broken && n > 0) {
        if (w->rhdr_len < 5) {
            w->rhdr[w->rhdr_len++] = *p++;
            n--;
            if (w->rhdr_len == 5) {
                w->rtype = w->rhdr[0];
                w->rleft = get16(w->rhdr + 3);
                if (w->rtype < 20 || w->rtype > 23) {
                    w->broken = 1;      /* not TLS records (any more) */
                    break;
                }
                w->records++;
                if (w->rleft > w->largest_record) {
                    w->largest_record = w->rleft;
                }
                if (w->rtype == 20 || w->rtype == 23) {
                    w->active = 0;      /* from here on the contents are encrypted */
                }
                if (w->rleft == 0) {
                    w->rhdr_len = 0;
                }
                w->alert_len = 0;
            }
            continue;
        }
        size_t take = n < w->rleft ? n : w->rleft;
        if (w->active && w->rtype == 22) {
            feed_handshake(w, p, take);
        } else if (w->active && w->rtype == 21) {
            for (size_t i = 0; i < take && w->alert_len < 2; i++) {
                w->alert[w->alert_len++] = p[i];
            }
            if (w->alert_len == 2) {
                w->alert_seen = 1;
                w->alert_level = w->alert[0];
                w->alert_desc = w->alert[1];
            }
        }
        p += take;
        n -= take;
        w->rleft -= take;
        if (w->rleft == 0) {
            w->rhdr_len = 0;
        }
    }
}

/* ------------------------------------------------------------ socket I/O */

static long ms_until(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long) (deadline->tv_sec - now.tv_sec) * 1000 +
           (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Waits for `events`; 1 ready, 0 timed out, -1 error (errno set). */
static int wait_fd(struct tf_io *io, short events)
{
    for (;;) {
        long left = ms_until(&io->deadline);
        int wait = io->timeout_ms;
        if (left < wait) {
            wait = left > 0 ? (int) left : 0;
        }
        struct pollfd pfd = { .fd = io->fd, .events = events, .revents = 0 };
        int r = poll(&pfd, 1, wait);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r == 0) {
            io->timed_out = 1;
        }
        return r;
    }
}

static int tf_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct tf_io *io = ctx;
    for (;;) {
        ssize_t n = send(io->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) {
            return (int) n;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int r = wait_fd(io, POLLOUT);
            if (r == 0) {
                return MBEDTLS_ERR_SSL_TIMEOUT;
            }
            if (r < 0) {
                io->sys_errno = errno;
                return MBEDTLS_ERR_NET_SEND_FAILED;
            }
            continue;
        }
        io->sys_errno = errno;
        return (errno == EPIPE || errno == ECONNRESET) ? MBEDTLS_ERR_NET_CONN_RESET
                                                        : MBEDTLS_ERR_NET_SEND_FAILED;
    }
}

static int tf_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct tf_io *io = ctx;
    if (len > INT_MAX) {
        len = INT_MAX;
    }
    for (;;) {
        ssize_t n = recv(io->fd, buf, len, 0);
        if (n > 0) {
            observe(&io->wire, buf, (size_t) n);
            return (int) n;
        }
        if (n == 0) {
            return 0;   /* EOF: mbedTLS reports MBEDTLS_ERR_SSL_CONN_EOF */
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int r = wait_fd(io, POLLIN);
            if (r == 0) {
                return MBEDTLS_ERR_SSL_TIMEOUT;
            }
            if (r < 0) {
                io->sys_errno = errno;
                return MBEDTLS_ERR_NET_RECV_FAILED;
            }
            continue;
        }
        io->sys_errno = errno;
        return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
    }
}

static const char *errno_name(int e)
{
    switch (e) {
        case ECONNREFUSED: return "ECONNREFUSED";
        case ETIMEDOUT: return "ETIMEDOUT";
        case EHOSTUNREACH: return "EHOSTUNREACH";
        case ENETUNREACH: return "ENETUNREACH";
        case ECONNRESET: return "ECONNRESET";
        case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
        case EACCES: return "EACCES";
        case ENOENT: return "ENOENT";
        case EISDIR: return "EISDIR";
        case ENOMEM: return "ENOMEM";
        default: return "ERRNO";
    }
}

static const char *gai_name(int e)
{
    switch (e) {
        case EAI_NONAME: return "EAI_NONAME";
        case EAI_AGAIN: return "EAI_AGAIN";
        case EAI_FAIL: return "EAI_FAIL";
        case EAI_SERVICE: return "EAI_SERVICE";
        case EAI_FAMILY: return "EAI_FAMILY";
        default: return "EAI_ERROR";
    }
}

struct tf_fail {
    const char *step;
    const char *error;      /* a name */
    char code[24];          /* "-0x7200", or empty */
    char message[512];
};

/* Connects with a timeout; returns the fd (blocking mode off) or -1 with *f filled in. */
static int tcp_connect(const struct tf_opts *o, struct tf_fail *f)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
    int g = getaddrinfo(o->host, o->port, &hints, &res);
    if (g != 0) {
        f->error = gai_name(g);
        snprintf(f->message, sizeof(f->message), "cannot resolve %s: %s", o->host,
                 gai_strerror(g));
        return -1;
    }
    int last_errno = ECONNREFUSED;
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        if (errno == EINPROGRESS) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT, .revents = 0 };
            int r;
            do {
                r = poll(&pfd, 1, o->timeout_ms);
            } while (r < 0 && errno == EINTR);
            if (r > 0) {
                int err = 0;
                socklen_t elen = sizeof(err);
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
                if (err == 0) {
                    break;
                }
                last_errno = err;
            } else {
                last_errno = r == 0 ? ETIMEDOUT : errno;
            }
        } else {
            last_errno = errno;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        f->error = errno_name(last_errno);
        if (last_errno == ETIMEDOUT) {
            snprintf(f->message, sizeof(f->message), "no answer from %s port %s within %d ms",
                     o->host, o->port, o->timeout_ms);
        } else {
            snprintf(f->message, sizeof(f->message), "cannot connect to %s port %s: %s",
                     o->host, o->port, strerror(last_errno));
        }
    }
    return fd;
}

/* ------------------------------------------------------------ CA loading */

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

/* Decodes base64 text [p, end) into out (at least 3/4 of its size); returns the length. */
static size_t b64_decode(const char *p, const char *end, unsigned char *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (; p < end; p++) {
        if (*p == '=') {
            break;
        }
        int v = b64_value((unsigned char) *p);
        if (v < 0) {
            continue;   /* line breaks, spaces */
        }
        acc = (acc << 6) | (uint32_t) v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char) (acc >> bits);
        }
    }
    return n;
}

struct tf_ca_count {
    int loaded;
    int rejected;
    int last_error;
};

static void add_der(mbedtls_x509_crt *chain, const unsigned char *der, size_t len,
                    struct tf_ca_count *c)
{
    int ret = mbedtls_x509_crt_parse_der(chain, der, len);
    if (ret == 0) {
        c->loaded++;
    } else {
        c->rejected++;
        c->last_error = ret;
    }
}

/* Length of the DER element at p (tag, length, contents), or 0. */
static size_t der_element_len(const unsigned char *p, size_t avail)
{
    if (avail < 2 || p[0] != 0x30) {
        return 0;
    }
    size_t len = p[1], hdr = 2;
    if (len & 0x80) {
        size_t nb = len & 0x7f;
        if (nb == 0 || nb > 4 || avail < 2 + nb) {
            return 0;
        }
        len = 0;
        for (size_t i = 0; i < nb; i++) {
            len = (len << 8) | p[2 + i];
        }
        hdr += nb;
    }
    return hdr + len <= avail ? hdr + len : 0;
}

static int load_ca(const char *path, mbedtls_x509_crt *chain, struct tf_ca_count *c,
                   struct tf_fail *f)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        f->error = errno_name(errno);
        snprintf(f->message, sizeof(f->message), "cannot open the CA file %s: %s", path,
                 strerror(errno));
        return -1;
    }
    size_t cap = 65536, len = 0;
    unsigned char *data = malloc(cap);
    for (;;) {
        if (data == NULL) {
            fclose(fp);
            f->error = "ENOMEM";
            snprintf(f->message, sizeof(f->message), "out of memory reading %s", path);
            return -1;
        }
        len += fread(data + len, 1, cap - len - 1, fp);
        if (len < cap - 1) {
            break;
        }
        cap *= 2;
        unsigned char *bigger = realloc(data, cap);
        if (bigger == NULL) {
            free(data);
        }
        data = bigger;
    }
    int read_error = ferror(fp);
    fclose(fp);
    if (read_error) {
        free(data);
        f->error = "EIO";
        snprintf(f->message, sizeof(f->message), "cannot read the CA file %s", path);
        return -1;
    }
    data[len] = '\0';

    static const char begin[] = "-----BEGIN CERTIFICATE-----";
    static const char end_mark[] = "-----END CERTIFICATE-----";
    const char *text = (const char *) data;
    int is_pem = len > 0 && memchr(data, '\0', len) == NULL && strstr(text, "-----BEGIN") != NULL;
    if (is_pem) {
        unsigned char *der = malloc(len);
        const char *p = text;
        while (der != NULL && (p = strstr(p, begin)) != NULL) {
            p += sizeof(begin) - 1;
            const char *e = strstr(p, end_mark);
            if (e == NULL) {
                break;
            }
            size_t n = b64_decode(p, e, der);
            add_der(chain, der, n, c);
            p = e + sizeof(end_mark) - 1;
        }
        free(der);
    } else {
        size_t off = 0;
        while (off < len) {
            size_t n = der_element_len(data + off, len - off);
            if (n == 0) {
                if (c->loaded + c->rejected == 0) {
                    c->rejected++;
                    c->last_error = MBEDTLS_ERR_X509_INVALID_FORMAT;
                }
                break;
            }
            add_der(chain, data + off, n, c);
            off += n;
        }
    }
    free(data);
    if (c->loaded == 0) {
        if (c->rejected == 0) {
            f->error = "NO_CERTIFICATE";
            snprintf(f->message, sizeof(f->message), "%s holds no certificate (PEM or DER)",
                     path);
        } else {
            f->error = NULL;    /* named from the mbedTLS code by the caller */
            snprintf(f->code, sizeof(f->code), "%s%#x", c->last_error < 0 ? "-" : "",
                     (unsigned) (c->last_error < 0 ? -c->last_error : c->last_error));
            snprintf(f->message, sizeof(f->message),
                     "none of the %d certificate(s) in %s can be used with this "
                     "configuration", c->rejected, path);
        }
        return -1;
    }
    return 0;
}

/* --------------------------------------------------------- error naming */

static void code_text(int code, char *out, size_t size)
{
    if (code < 0) {
        snprintf(out, size, "-0x%04X", (unsigned) -code);
    } else {
        snprintf(out, size, "0x%04X", (unsigned) code);
    }
}

/* Name of an mbedTLS error code; composite codes as "HIGH + LOW". */
static void error_name(int code, char *out, size_t size)
{
    const char *n = tf_lookup(tf_err_names, code);
    if (n != NULL) {
        snprintf(out, size, "%s", n);
        return;
    }
    if (code < 0) {
        int high = -((-code) & 0xFF80), low = -((-code) & 0x007F);
        const char *hn = high ? tf_lookup(tf_err_names, high) : NULL;
        const char *ln = low ? tf_lookup(tf_err_names, low) : NULL;
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

static void error_message(int code, char *out, size_t size)
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

static void add_flags(struct tf_json *j, uint32_t flags, int available)
{
    if (!available) {
        js_null(j, "verify_flags");
        js_null(j, "verify_flag_names");
        js_null(j, "verify_info");
        return;
    }
    js_int(j, "verify_flags", (long long) flags);
    js_key(j, "verify_flag_names");
    js_raw(j, "[");
    int first = 1;
    for (const struct tf_name *t = tf_flag_names; t->name != NULL; t++) {
        if (flags & (uint32_t) t->value) {
            js_raw(j, first ? "" : ", ");
            js_quoted(j, t->name);
            first = 0;
        }
    }
    js_raw(j, "]");
    if (flags == 0) {
        js_null(j, "verify_info");
        return;
    }
    char info[1024] = "";
#if !defined(MBEDTLS_X509_REMOVE_INFO)
    int n = mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
    if (n < 0) {
        info[0] = '\0';
    }
    /* one line: "a\nb\n" -> "a; b" */
    size_t len = strlen(info);
    while (len > 0 && info[len - 1] == '\n') {
        info[--len] = '\0';
    }
    for (char *p = info; *p; p++) {
        if (*p == '\n') {
            *p = ';';
        }
    }
#endif
    if (info[0] == '\0') {      /* no info strings in this build: the flag names */
        size_t off = 0;
        for (const struct tf_name *t = tf_flag_names; t->name != NULL; t++) {
            if ((flags & (uint32_t) t->value) && off < sizeof(info)) {
                int w = snprintf(info + off, sizeof(info) - off, "%s%s", off ? "; " : "",
                                 t->name);
                off += w > 0 ? (size_t) w : 0;
            }
        }
    }
    js_str(j, "verify_info", info);
}

static const char *version_name(unsigned v)
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

/* "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256" -> "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
 * "TLS1-3-AES-128-GCM-SHA256" -> "TLS_AES_128_GCM_SHA256" (the IANA spelling). */
static void iana_suite_name(const char *mbed, char *out, size_t size)
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

static void add_group(struct tf_json *j, const char *key, int group)
{
    if (group < 0) {
        js_null(j, key);
        return;
    }
    const char *n = tf_lookup(tf_groups, group);
    char tmp[16];
    if (n == NULL) {
        snprintf(tmp, sizeof(tmp), "0x%04X", (unsigned) group);
        n = tmp;
    }
    js_str(j, key, n);
}

static void add_server_hello(struct tf_json *j, const struct tf_wire *w)
{
    js_key(j, "server_hello");
    if (!w->sh_seen) {
        js_raw(j, "null");
        return;
    }
    struct tf_json sub;
    memset(&sub, 0, sizeof(sub));
    char tmp[96];
    js_str(&sub, "version", version_name(w->sh_version));
    const char *mbed = mbedtls_ssl_get_ciphersuite_name((int) w->sh_suite);
    if (mbed != NULL && strcmp(mbed, "unknown") != 0) {
        iana_suite_name(mbed, tmp, sizeof(tmp));
        js_str(&sub, "ciphersuite", tmp);
    } else {
        js_null(&sub, "ciphersuite");
    }
    snprintf(tmp, sizeof(tmp), "0x%04X", w->sh_suite);
    js_str(&sub, "ciphersuite_id", tmp);
    add_group(&sub, "group", w->sh_version == 0x0304 ? w->sh_group : w->ske_group);
    if (w->ske_sigalg >= 0) {
        const char *n = tf_lookup(tf_sigalgs, w->ske_sigalg);
        snprintf(tmp, sizeof(tmp), "0x%04X", (unsigned) w->ske_sigalg);
        js_str(&sub, "ske_signature", n ? n : tmp);
    }
    js_raw(&sub, "}");
    js_raw(j, sub.buf);
}

static void add_alert(struct tf_json *j, const struct tf_wire *w)
{
    if (!w->alert_seen) {
        js_null(j, "alert");
        return;
    }
    const char *n = tf_lookup(tf_alerts, w->alert_desc);
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%s (%d)", n ? n : "unknown", w->alert_desc);
    js_str(j, "alert", tmp);
}

static void add_common(struct tf_json *j, const struct tf_opts *o, const char *sni,
                       const struct tf_ca_count *ca)
{
    js_str(j, "mbedtls", MBEDTLS_VERSION_STRING);
    js_int(j, "in_content_len", (long long) MBEDTLS_SSL_IN_CONTENT_LEN);
    js_int(j, "out_content_len", (long long) MBEDTLS_SSL_OUT_CONTENT_LEN);
    js_str(j, "host", o->host);
    js_int(j, "port", atol(o->port));
    js_str(j, "sni", sni);
    js_int(j, "ca_loaded", ca->loaded);
    js_int(j, "ca_skipped", ca->rejected);
}

/* Prints the failure line; `code` != 0 names an mbedTLS error. */
static int fail(const struct tf_opts *o, const char *sni, const struct tf_ca_count *ca,
                struct tf_fail *f, int code, const struct tf_io *io,
                const mbedtls_ssl_context *ssl)
{
    struct tf_json j;
    memset(&j, 0, sizeof(j));
    char name[200], codebuf[24], msg[512];
    js_bool(&j, "ok", 0);
    js_str(&j, "step", f->step);
    if (code != 0) {
        error_name(code, name, sizeof(name));
        code_text(code, codebuf, sizeof(codebuf));
        js_str(&j, "error", name);
        js_str(&j, "code", codebuf);
        error_message(code, msg, sizeof(msg));
        if (f->message[0] != '\0') {
            js_str(&j, "message", f->message);
        } else {
            js_str(&j, "message", msg[0] ? msg : NULL);
        }
    } else {
        js_str(&j, "error", f->error);
        js_str(&j, "code", f->code[0] ? f->code : NULL);
        js_str(&j, "message", f->message[0] ? f->message : NULL);
    }
    if (ssl != NULL) {
        uint32_t flags = mbedtls_ssl_get_verify_result(ssl);
        add_flags(&j, flags, flags != (uint32_t) -1);
    } else {
        add_flags(&j, 0, 0);
    }
    if (io != NULL) {
        if ((code == MBEDTLS_ERR_SSL_BAD_INPUT_DATA || code == MBEDTLS_ERR_SSL_INVALID_RECORD) &&
            io->wire.largest_record > MBEDTLS_SSL_IN_CONTENT_LEN) {
            char hint[200];
            snprintf(hint, sizeof(hint), "the server sent a %zu-byte record; "
                     "MBEDTLS_SSL_IN_CONTENT_LEN is %d", io->wire.largest_record,
                     (int) MBEDTLS_SSL_IN_CONTENT_LEN);
            js_str(&j, "hint", hint);
        }
#if defined(MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER)     /* 3.x */
        if (code == MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER && io->wire.sh_version == 0x0303 &&
            io->wire.ske_sigalg >= 0x0804 && io->wire.ske_sigalg <= 0x0806) {
            js_str(&j, "hint", "the server signed its TLS 1.2 ServerKeyExchange with "
                   "RSA-PSS, which this mbedTLS 3.x rejects in TLS 1.2 (a known regression, "
                   "Mbed-TLS/mbedtls pull request 10674)");
        }
#endif
        js_int(&j, "largest_record", (long long) io->wire.largest_record);
        add_alert(&j, &io->wire);
        add_server_hello(&j, &io->wire);
        if (io->sys_errno != 0) {
            js_str(&j, "os_error", strerror(io->sys_errno));
        }
    }
    add_common(&j, o, sni, ca);
    js_str(&j, "rng", TF_RNG);
    js_print(&j);
    return EXIT_FAILED;
}

/* ----------------------------------------------------------------- main */

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
static int set_versions(mbedtls_ssl_config *conf, const struct tf_opts *o, struct tf_fail *f)
{
    int want[2] = { o->min_version, o->max_version };
    (void) f;
    for (int i = 0; i < 2; i++) {
        if (want[i] == 0) {
            continue;
        }
#if !defined(MBEDTLS_SSL_PROTO_TLS1_3)
        if (want[i] == 13) {
            f->error = "TLSFIT_VERSION_NOT_ENABLED";
            snprintf(f->message, sizeof(f->message), "TLS 1.3 is not enabled "
                     "(MBEDTLS_SSL_PROTO_TLS1_3 is not defined)");
            return -1;
        }
#endif
#if !defined(MBEDTLS_SSL_PROTO_TLS1_2)
        if (want[i] == 12) {
            f->error = "TLSFIT_VERSION_NOT_ENABLED";
            snprintf(f->message, sizeof(f->message), "TLS 1.2 is not enabled "
                     "(MBEDTLS_SSL_PROTO_TLS1_2 is not defined)");
            return -1;
        }
#endif
        mbedtls_ssl_protocol_version v = want[i] == 13 ? MBEDTLS_SSL_VERSION_TLS1_3
                                                       : MBEDTLS_SSL_VERSION_TLS1_2;
        if (i == 0) {
            mbedtls_ssl_conf_min_tls_version(conf, v);
        } else {
            mbedtls_ssl_conf_max_tls_version(conf, v);
        }
    }
    return 0;
}
#else
static int set_versions(mbedtls_ssl_config *conf, const struct tf_opts *o, struct tf_fail *f)
{
    int want[2] = { o->min_version, o->max_version };
    for (int i = 0; i < 2; i++) {
        int minor;
        if (want[i] == 0) {
            continue;
        }
        if (want[i] == 12) {
            minor = MBEDTLS_SSL_MINOR_VERSION_3;
        } else {
#if defined(MBEDTLS_SSL_PROTO_TLS1_3_EXPERIMENTAL) && defined(MBEDTLS_SSL_MINOR_VERSION_4)
            minor = MBEDTLS_SSL_MINOR_VERSION_4;
#else
            f->error = "TLSFIT_VERSION_NOT_ENABLED";
            snprintf(f->message, sizeof(f->message), "TLS 1.3 is not available in mbedTLS %s "
                     "with this configuration", MBEDTLS_VERSION_STRING);
            return -1;
#endif
        }
        if (i == 0) {
            mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, minor);
        } else {
            mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, minor);
        }
    }
    return 0;
}
#endif

static int seed_rng(struct tf_rng *rng, int (**f_rng)(void *, unsigned char *, size_t),
                    void **p_rng, int *code, struct tf_fail *f)
{
    static const unsigned char pers[] = "tlsfit-verify-client";
    (void) f;
    *code = 0;
    *f_rng = NULL;
    *p_rng = NULL;
#if defined(MBEDTLS_CTR_DRBG_C) || defined(MBEDTLS_HMAC_DRBG_C)
    int (*f_seed)(void *, unsigned char *, size_t);
    void *p_seed;
#if defined(MBEDTLS_ENTROPY_C)
    mbedtls_entropy_init(&rng->entropy);
#if defined(MBEDTLS_NO_PLATFORM_ENTROPY)
    /* The configuration has no OS entropy (a device build); the host provides it. */
    *code = mbedtls_entropy_add_source(&rng->entropy, os_entropy, NULL, 32,
                                       MBEDTLS_ENTROPY_SOURCE_STRONG);
    if (*code != 0) {
        return -1;
    }
#endif
    f_seed = mbedtls_entropy_func;
    p_seed = &rng->entropy;
#else
    f_seed = os_seed;
    p_seed = NULL;
#endif
#if defined(MBEDTLS_CTR_DRBG_C)
    mbedtls_ctr_drbg_init(&rng->drbg);
    *code = mbedtls_ctr_drbg_seed(&rng->drbg, f_seed, p_seed, pers, sizeof(pers) - 1);
    *f_rng = mbedtls_ctr_drbg_random;
#else
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (md == NULL) {
        md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA512);
    }
    if (md == NULL) {
        md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
    }
    mbedtls_hmac_drbg_init(&rng->drbg);
    if (md == NULL) {
        f->error = "TLSFIT_NO_RNG";
        snprintf(f->message, sizeof(f->message), "HMAC_DRBG has no hash to run on");
        return -1;
    }
    *code = mbedtls_hmac_drbg_seed(&rng->drbg, md, f_seed, p_seed, pers, sizeof(pers) - 1);
    *f_rng = mbedtls_hmac_drbg_random;
#endif
    *p_rng = &rng->drbg;
    if (*code != 0) {
        snprintf(f->message, sizeof(f->message), "seeding the random generator (%s) failed",
                 TF_RNG);
    }
    return *code == 0 ? 0 : -1;
#elif defined(MBEDTLS_PSA_CRYPTO_C) && MBEDTLS_VERSION_NUMBER >= 0x03000000
    (void) rng;
    *f_rng = mbedtls_psa_get_random;
    *p_rng = MBEDTLS_PSA_RANDOM_STATE;
    return 0;
#else
    (void) rng;
    f->error = "TLSFIT_NO_RNG";
    snprintf(f->message, sizeof(f->message), "the configuration has no random generator "
             "for TLS (neither MBEDTLS_CTR_DRBG_C nor MBEDTLS_HMAC_DRBG_C%s)",
             MBEDTLS_VERSION_NUMBER >= 0x03000000 ? " nor MBEDTLS_PSA_CRYPTO_C" : "");
    return -1;
#endif
}

int main(int argc, char **argv)
{
    struct tf_opts o;
    parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    const char *sni = o.sni ? o.sni : o.host;

    struct tf_fail f;
    memset(&f, 0, sizeof(f));
    struct tf_ca_count ca = { 0, 0, 0 };
    static struct tf_io io;
    memset(&io, 0, sizeof(io));
    io.fd = -1;
    io.timeout_ms = o.timeout_ms;
    io.wire.active = 1;
    io.wire.sh_group = -1;
    io.wire.ske_group = -1;
    io.wire.ske_sigalg = -1;

    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt cacert;
    static struct tf_rng rng;
    int ret, rc = EXIT_FAILED;
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&cacert);

#if defined(MBEDTLS_PLATFORM_C) && defined(MBEDTLS_PLATFORM_MEMORY) && \
    !defined(MBEDTLS_PLATFORM_CALLOC_MACRO) && !defined(MBEDTLS_PLATFORM_FREE_MACRO)
    mbedtls_platform_set_calloc_free(calloc, free);
#endif

    /* setup: PSA, random generator */
    f.step = "setup";
#if defined(MBEDTLS_PSA_CRYPTO_C)
    psa_status_t st = psa_crypto_init();
    if (st != PSA_SUCCESS) {
        const char *n = tf_lookup(tf_psa_names, (long) st);
        f.error = n ? n : "PSA_ERROR";
        snprintf(f.code, sizeof(f.code), "%d", (int) st);
        snprintf(f.message, sizeof(f.message), "psa_crypto_init() failed%s",
                 st == PSA_ERROR_INSUFFICIENT_ENTROPY
                 ? ": the configuration gives PSA no entropy source on the host "
                   "(MBEDTLS_NO_PLATFORM_ENTROPY without MBEDTLS_ENTROPY_HARDWARE_ALT or "
                   "MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)" : "");
        return fail(&o, sni, &ca, &f, 0, NULL, NULL);
    }
#endif
    int (*f_rng)(void *, unsigned char *, size_t);
    void *p_rng;
    if (seed_rng(&rng, &f_rng, &p_rng, &ret, &f) != 0) {
        rc = fail(&o, sni, &ca, &f, ret, NULL, NULL);
        goto out;
    }

    /* ca */
    f.step = "ca";
    if (load_ca(o.ca, &cacert, &ca, &f) != 0) {
        rc = fail(&o, sni, &ca, &f, f.error == NULL ? ca.last_error : 0, NULL, NULL);
        goto out;
    }

    /* setup: TLS configuration */
    f.step = "setup";
    ret = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                      MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        rc = fail(&o, sni, &ca, &f, ret, NULL, NULL);
        goto out;
    }
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf, &cacert, NULL);
    mbedtls_ssl_conf_rng(&conf, f_rng, p_rng);
    if (set_versions(&conf, &o, &f) != 0) {
        rc = fail(&o, sni, &ca, &f, 0, NULL, NULL);
        goto out;
    }
#if defined(TLSFIT_MAX_FRAG_LEN) && defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
    /* the header asks for a max_fragment_length (tlsfit gen) */
    if ((ret = mbedtls_ssl_conf_max_frag_len(&conf, TLSFIT_MAX_FRAG_LEN)) != 0) {
        rc = fail(&o, sni, &ca, &f, ret, NULL, NULL);
        goto out;
    }
#endif
    if ((ret = mbedtls_ssl_setup(&ssl, &conf)) != 0 ||
        (ret = mbedtls_ssl_set_hostname(&ssl, sni)) != 0) {
        rc = fail(&o, sni, &ca, &f, ret, NULL, NULL);
        goto out;
    }

    /* connect */
    f.step = "connect";
    io.fd = tcp_connect(&o, &f);
    if (io.fd < 0) {
        rc = fail(&o, sni, &ca, &f, 0, NULL, NULL);
        goto out;
    }
    mbedtls_ssl_set_bio(&ssl, &io, tf_send, tf_recv, NULL);

    /* handshake */
    f.step = "handshake";
    clock_gettime(CLOCK_MONOTONIC, &io.deadline);
    io.deadline.tv_sec += 3 * (o.timeout_ms / 1000) + 1;
    do {
        ret = mbedtls_ssl_handshake(&ssl);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    if (ret != 0) {
        if (ret == MBEDTLS_ERR_SSL_TIMEOUT && io.timed_out) {
            snprintf(f.message, sizeof(f.message), "the server sent nothing for %d ms "
                     "(or the handshake took longer than %d s)", o.timeout_ms,
                     3 * (o.timeout_ms / 1000) + 1);
        }
        rc = fail(&o, sni, &ca, &f, ret, &io, &ssl);
        goto out;
    }

    /* verified (authmode REQUIRED: the handshake fails otherwise) */
    {
        struct tf_json j;
        memset(&j, 0, sizeof(j));
        char tmp[128];
        const char *mbed = mbedtls_ssl_get_ciphersuite(&ssl);
        js_bool(&j, "ok", 1);
        js_str(&j, "version", mbedtls_ssl_get_version(&ssl));
        if (mbed != NULL) {
            iana_suite_name(mbed, tmp, sizeof(tmp));
            js_str(&j, "ciphersuite", tmp);
            snprintf(tmp, sizeof(tmp), "0x%04X", (unsigned) mbedtls_ssl_get_ciphersuite_id(mbed));
            js_str(&j, "ciphersuite_id", tmp);
        } else {
            js_null(&j, "ciphersuite");
            js_null(&j, "ciphersuite_id");
        }
        /* The group as seen on the wire: TLS 1.3 key_share, else TLS 1.2 ECDHE curve. */
        int group = -1;
        const char *group_from = NULL;
        if (io.wire.sh_version == 0x0304 && io.wire.sh_group >= 0) {
            group = io.wire.sh_group;
            group_from = "key_share";
        } else if (io.wire.sh_version != 0x0304 && io.wire.ske_group >= 0) {
            group = io.wire.ske_group;
            group_from = "server_key_exchange";
        }
        add_group(&j, "group", group);
        js_str(&j, "group_from", group_from);
        add_flags(&j, mbedtls_ssl_get_verify_result(&ssl), 1);
        js_int(&j, "largest_record", (long long) io.wire.largest_record);
        add_common(&j, &o, sni, &ca);
        js_str(&j, "rng", TF_RNG);
        js_print(&j);
        rc = EXIT_VERIFIED;
    }
    (void) mbedtls_ssl_close_notify(&ssl);

out:
    if (io.fd >= 0) {
        close(io.fd);
    }
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&cacert);
#if defined(MBEDTLS_CTR_DRBG_C)
    mbedtls_ctr_drbg_free(&rng.drbg);
#elif defined(MBEDTLS_HMAC_DRBG_C)
    mbedtls_hmac_drbg_free(&rng.drbg);
#endif
#if defined(MBEDTLS_ENTROPY_C) && (defined(MBEDTLS_CTR_DRBG_C) || defined(MBEDTLS_HMAC_DRBG_C))
    mbedtls_entropy_free(&rng.entropy);
#endif
#if defined(MBEDTLS_PSA_CRYPTO_C)
    mbedtls_psa_crypto_free();
#endif
    return rc;
}
