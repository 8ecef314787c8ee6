/* Hand-tuned "expert" mbedTLS configuration for bench/fit_bench.py.
 *
 * Source: RT-Thread's mbedTLS package manual, chapter 6 (RAM/ROM optimisation
 * guide), the tls_config.h it lists as the configuration its measurements were
 * taken with (section 6.5).  That file targets mbedTLS 2.x; this is the same
 * option set carried to mbedTLS 3.6 names.  The manual tuned it for a single
 * server (www.rt-thread.org: RSA-2048 root, one static-RSA AES-256-CBC suite),
 * so against servers that need anything else it is expected to fail; the
 * benchmark reports such failures instead of fixing them.
 *
 * Carried over unchanged: every option the listing enables, with its value.
 * Translated:
 *   MBEDTLS_SSL_MAX_CONTENT_LEN 3584 -> MBEDTLS_SSL_IN_CONTENT_LEN and
 *       MBEDTLS_SSL_OUT_CONTENT_LEN 3584.  Section 6.1 states the measured
 *       client used a 3584-byte frame; the listing has that line commented out
 *       (the value came from outside the file), and the heap the manual reports
 *       for the tuned build (about 23 KB) is below what two 16 KiB record
 *       buffers alone would take, so 3584 is what was measured.
 *   MBEDTLS_SHA256_C (2.x: SHA-224 and SHA-256) -> MBEDTLS_SHA224_C +
 *       MBEDTLS_SHA256_C (3.x splits them).
 * Dropped, because mbedTLS 3.x removed them:
 *   MBEDTLS_ECP_MAX_BITS 384        (3.x derives it from the enabled curves;
 *                                    with P-256 and P-384 it is 384 anyway)
 *   MBEDTLS_REMOVE_ARC4_CIPHERSUITES (RC4 is gone from 3.x)
 * Dropped, because they belong to the RT-Thread port, not to the TLS client:
 *   MBEDTLS_TIMING_C, MBEDTLS_TIMING_ALT  (need the port's timing_alt.h; only
 *       DTLS uses the timing module, so a TLS client links none of it)
 *   #include <rtthread.h> and the tls_malloc/tls_free macros (RT-Thread's
 *       allocator; the benchmark's allocator comes in through the platform
 *       layer, see below)
 * Added by the measuring harness, not here (tool/firmware/tlsfit_overlay.h):
 *   MBEDTLS_PLATFORM_MEMORY (counting allocator) and
 *   MBEDTLS_PLATFORM_MS_TIME_ALT (3.x with HAVE_TIME needs an ms clock; newlib
 *   has none).  MBEDTLS_NO_PLATFORM_ENTROPY and MBEDTLS_ENTROPY_HARDWARE_ALT
 *   are the manual's own choices and are kept here.
 *
 * Cuts the manual makes and that this file keeps on purpose:
 *   MBEDTLS_MPI_MAX_SIZE 384: RSA keys above 3072 bits are rejected when parsed,
 *       so an RSA-4096 trust anchor or certificate cannot be used at all.
 *   A single suite, TLS_RSA_WITH_AES_256_CBC_SHA256 (static RSA key exchange,
 *       no forward secrecy), TLS 1.2 only: no ECDHE, no ECDSA, no GCM, no TLS 1.3.
 *   No MBEDTLS_HAVE_TIME_DATE: certificate validity dates are not checked.
 *   No SNI, no Extended Master Secret, no Encrypt-then-MAC, no key-usage checks.
 */
#ifndef BENCH_EXPERT_RTTHREAD_TUNED_36_H
#define BENCH_EXPERT_RTTHREAD_TUNED_36_H

/* ---- system */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_ENTROPY_MAX_SOURCES 2

/* ---- building blocks */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_CTR_DRBG_C

/* ---- symmetric: AES-256-CBC, tables in flash */
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_CIPHER_MODE_CBC

/* ---- hashes */
#define MBEDTLS_MD_C
#define MBEDTLS_MD5_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA224_C            /* 2.x SHA256_C covered SHA-224 too */
#define MBEDTLS_SHA256_C

/* ---- public key: RSA PKCS#1 v1.5, and EC key parsing on two curves */
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM

/* ---- size/speed trade-offs, the manual's values */
#define MBEDTLS_MPI_MAX_SIZE          384   /* 3072-bit RSA at most */
#define MBEDTLS_MPI_WINDOW_SIZE       2
#define MBEDTLS_ECP_WINDOW_SIZE       2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0

/* ---- certificates */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C

/* ---- TLS client, 1.2 only, one suite, 3584-byte records */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_RSA_ENABLED
#define MBEDTLS_SSL_CIPHERSUITES      MBEDTLS_TLS_RSA_WITH_AES_256_CBC_SHA256
#define MBEDTLS_SSL_IN_CONTENT_LEN    3584
#define MBEDTLS_SSL_OUT_CONTENT_LEN   3584

#endif /* BENCH_EXPERT_RTTHREAD_TUNED_36_H */
