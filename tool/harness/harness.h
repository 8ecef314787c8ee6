/*
 * harness.h -- the one way tlsfit drives mbedTLS as a TLS client.
 *
 * Shared by the host verify client (tool/verify/) and the measure firmware
 * (tool/firmware/tls_client.c), each compiled with the configuration under
 * test (MBEDTLS_CONFIG_FILE; from 4.0 with TF_PSA_CRYPTO_CONFIG_FILE) against
 * mbedTLS 4.0, 3.6 or 2.28, on the host (gcc,
 * glibc) or for a Cortex-M (arm-none-eabi-gcc, newlib).  A change to how
 * tlsfit sets mbedTLS up is made here, once.  One concern per file:
 *
 *   rng.c     the random generator TLS gets: the DRBG and its entropy, or
 *             the `gen --external-rng` answer
 *   hooks.c   the platform hooks a device configuration leaves to the
 *             application, answered from tf_random_source(): entropy,
 *             PSA's external RNG, gmtime_r, zeroize
 *   rng4.h, rng4.c, hooks4.c   the same two concerns for mbedTLS 4.x, where
 *             PSA is the only generator and entropy comes from
 *             mbedtls_platform_get_entropy (the 3.x files compile to nothing
 *             there, and these to nothing before 4.0)
 * and, inline below (the firmware's image stays as small as with its own
 * copies): PSA's start, the client configuration (authmode, anchors, the
 * header's groups and fragment length), the context, the allocator hook and
 * the device key's parse.
 *   ../proof/proof.h  the post-handshake proof (also shared)
 *
 * What stays with each side, behind the declarations below: where random
 * bytes come from (tf_random_source: the host's getrandom(), the firmware's
 * TEST-ONLY seeded generator), the millisecond clock (mbedtls_ms_time), the
 * transport, and how a result is reported.
 *
 * Failures are numbered errors of ../errors/errors.h (TLSFIT_NO_RNG, ...)
 * and the mbedTLS code behind them.
 */
#ifndef TF_HARNESS_H
#define TF_HARNESS_H

#include <stddef.h>

#include "mbedtls/version.h"    /* 3.x: via build_info.h; 2.x: via the configuration */
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#if MBEDTLS_VERSION_MAJOR < 4
#if defined(MBEDTLS_ENTROPY_C)
#include "mbedtls/entropy.h"
#endif
#if defined(MBEDTLS_CTR_DRBG_C)
#include "mbedtls/ctr_drbg.h"
#elif defined(MBEDTLS_HMAC_DRBG_C)
#include "mbedtls/hmac_drbg.h"
#endif
#endif
#if defined(MBEDTLS_PK_PARSE_C)
#include "mbedtls/pk.h"
#endif
#include "mbedtls/platform.h"
#if defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#endif

#include "../errors/errors.h"
#include "dtls.h"

/* GCC's noipa where it has it: a function the optimiser must not see through
   (tf_rng_seed: see there). */
#if defined(__GNUC__) && !defined(__clang__)
#define TF_NOIPA __attribute__((noipa))
#else
#define TF_NOIPA
#endif

/* ---------------------------------------------------- the random source */

/*
 * Fills out[0..len) with random bytes; 0, or MBEDTLS_ERR_ENTROPY_SOURCE_FAILED
 * when the source failed (an f_rng: mbedtls_ssl_conf_rng's signature, and a
 * DRBG's seed callback's; ctx is not used).  Supplied by each side, never by
 * the harness: the host's is the kernel's CSPRNG (getrandom,
 * tool/verify/rng.c); the firmware's is a seeded pseudo-random generator, TEST
 * ONLY (tool/firmware/test_entropy.c), since QEMU's boards have none.
 * Everything random the harness hands mbedTLS (the DRBG's seed,
 * MBEDTLS_ENTROPY_HARDWARE_ALT, PSA's external RNG, the external f_rng)
 * bottoms out here.
 */
int tf_random_source(void *ctx, unsigned char *out, size_t len);

/* tf_random_source as an mbedTLS entropy source (mbedtls_entropy_add_source's
   signature; hooks.c). */
int tf_harness_entropy(void *ctx, unsigned char *out, size_t len, size_t *olen);

/* ----------------------------------------------- the generator (rng.c) */

/*
 * Which generator TLS gets, by the configuration: CTR_DRBG, else HMAC_DRBG
 * (TF_RNG_DRBG), else (3.x) PSA's own (from PSA's external RNG with
 * MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG), else, for a header from `tlsfit gen
 * --external-rng` without PSA (TLSFIT_EXTERNAL_RNG), tf_random_source itself;
 * else none (tf_rng_seed fails with TLSFIT_NO_RNG).  The choice is the
 * configuration's, so it is constant: TF_RNG_FUNC is the f_rng TLS gets and
 * TF_RNG_CTX(rng) its context (nothing of it is stored).
 */
#if MBEDTLS_VERSION_MAJOR >= 4
#include "rng4.h"       /* 4.x: PSA is the only generator (harness/rng4.c) */
#else
#if defined(MBEDTLS_CTR_DRBG_C) || defined(MBEDTLS_HMAC_DRBG_C)
#define TF_RNG_DRBG 1
#endif

#if defined(MBEDTLS_CTR_DRBG_C)
#define TF_RNG_FUNC mbedtls_ctr_drbg_random
#define TF_RNG_CTX(rng) ((void *) &(rng)->drbg)
#elif defined(MBEDTLS_HMAC_DRBG_C)
#define TF_RNG_FUNC mbedtls_hmac_drbg_random
#define TF_RNG_CTX(rng) ((void *) &(rng)->drbg)
#elif defined(MBEDTLS_PSA_CRYPTO_C) && MBEDTLS_VERSION_NUMBER >= 0x03000000
#include "mbedtls/psa_util.h"
#define TF_RNG_FUNC mbedtls_psa_get_random
#define TF_RNG_CTX(rng) ((void) (rng), MBEDTLS_PSA_RANDOM_STATE)
#elif defined(TLSFIT_EXTERNAL_RNG)
#define TF_RNG_FUNC tf_random_source
#define TF_RNG_CTX(rng) ((void) (rng), (void *) 0)
#else
#define TF_RNG_FUNC 0
#define TF_RNG_CTX(rng) ((void) (rng), (void *) 0)
#endif

/* 1 when tf_rng_seed can fail with TLSFIT_NO_RNG in this configuration (no
   generator at all, or HMAC_DRBG, which may find no hash), else 0. */
#if defined(MBEDTLS_CTR_DRBG_C) || (!defined(MBEDTLS_HMAC_DRBG_C) && \
    ((defined(MBEDTLS_PSA_CRYPTO_C) && MBEDTLS_VERSION_NUMBER >= 0x03000000) || \
     defined(TLSFIT_EXTERNAL_RNG)))
#define TF_RNG_MAY_BE_MISSING 0
#else
#define TF_RNG_MAY_BE_MISSING 1
#endif

struct tf_rng {
#if defined(MBEDTLS_ENTROPY_C) && defined(TF_RNG_DRBG)
    mbedtls_entropy_context entropy;
#endif
#if defined(MBEDTLS_CTR_DRBG_C)
    mbedtls_ctr_drbg_context drbg;
#elif defined(MBEDTLS_HMAC_DRBG_C)
    mbedtls_hmac_drbg_context drbg;
#else
    char none;          /* no DRBG: nothing to hold (C has no empty struct) */
#endif
};

/* Initialises the contexts (safe to tf_rng_free from then on). */
static inline void tf_rng_init(struct tf_rng *rng)
{
#if defined(MBEDTLS_ENTROPY_C) && defined(TF_RNG_DRBG)
    mbedtls_entropy_init(&rng->entropy);
#endif
#if defined(MBEDTLS_CTR_DRBG_C)
    mbedtls_ctr_drbg_init(&rng->drbg);
#elif defined(MBEDTLS_HMAC_DRBG_C)
    mbedtls_hmac_drbg_init(&rng->drbg);
#endif
    (void) rng;
}

/* Starts PSA Crypto when the configuration has it: its psa_status_t, 0 for
   success (and without PSA). */
static inline int tf_crypto_start(void)
{
#if defined(MBEDTLS_PSA_CRYPTO_C)
    return (int) psa_crypto_init();
#else
    return 0;
#endif
}
#endif

/*
 * Seeds the generator.  The DRBG's seed is the entropy module (given
 * tf_harness_entropy as its strong source when the configuration has neither
 * the platform's nor a hardware source: MBEDTLS_NO_PLATFORM_ENTROPY without
 * MBEDTLS_ENTROPY_HARDWARE_ALT), or tf_random_source without one; pers
 * personalises it.  Returns TF_OK; TF_ERR_FAILED with *ret the mbedTLS
 * error; or TLSFIT_NO_RNG (*ret untouched): no generator at all, or HMAC_DRBG
 * without a hash (only when TF_RNG_MAY_BE_MISSING).  TF_NOIPA: in a configuration without a generator it always fails,
 * and the compiler, seeing that, would drop the whole handshake from the
 * firmware image -- whose flash figure must stay comparable with the
 * configuration's neighbours (fit prices an option as the image with it minus
 * without it).
 */
TF_NOIPA int tf_rng_seed(struct tf_rng *rng, const unsigned char *pers, size_t pers_len,
                         int *ret);

/* Frees the contexts, and PSA Crypto. */
void tf_rng_free(struct tf_rng *rng);

/* ----------------------------------- TLS and the platform (inline) */

/* The allocator mbedTLS gets can be replaced (mbedtls_platform_set_calloc_free):
   1 when the configuration allows it, else 0 (tf_harness_allocator is a no-op). */
#if defined(MBEDTLS_PLATFORM_C) && defined(MBEDTLS_PLATFORM_MEMORY) && \
    !defined(MBEDTLS_PLATFORM_CALLOC_MACRO) && !defined(MBEDTLS_PLATFORM_FREE_MACRO)
#define TF_HEAP_HOOKED 1
#else
#define TF_HEAP_HOOKED 0
#endif

/* Installs calloc_fn / free_fn as mbedTLS's allocator when TF_HEAP_HOOKED (the
   firmware's counting allocator for the peak heap; the host's calloc/free). */
static inline void tf_harness_allocator(void *(*calloc_fn)(size_t, size_t),
                                        void (*free_fn)(void *))
{
#if TF_HEAP_HOOKED
    mbedtls_platform_set_calloc_free(calloc_fn, free_fn);
#else
    (void) calloc_fn;
    (void) free_fn;
#endif
}

/*
 * Sets conf up as tlsfit's client: the defaults for a stream client (a
 * datagram one for a DTLS header, dtls.h),
 * authmode REQUIRED, the trust anchors, rng's generator, the header's group
 * list (TLSFIT_GROUPS for 3.x, MBEDTLS_SSL_IANA_TLS_GROUP_* ending with
 * _NONE; TLSFIT_CURVES for 2.28, MBEDTLS_ECP_DP_* ending with _NONE -- each
 * side #errors on the other line's), its max_fragment_length
 * (TLSFIT_MAX_FRAG_LEN, refused beyond MBEDTLS_SSL_OUT_CONTENT_LEN) and the
 * application protocols it offers (TLSFIT_ALPN, string literals).  The
 * caller adds versions and its own certificate.  Returns 0 or the mbedTLS
 * error.  (Inline: the firmware's image stays as small as with its own copy.)
 */
static inline int tf_harness_conf(mbedtls_ssl_config *conf, mbedtls_x509_crt *anchors,
                                  struct tf_rng *rng)
{
    int ret = mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_CLIENT,
                                          TF_HARNESS_TRANSPORT,
                                          MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0)
        return ret;
    mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_REQUIRED);
#if defined(MBEDTLS_X509_CRT_PARSE_C)
    mbedtls_ssl_conf_ca_chain(conf, anchors, NULL);
#else
    (void) anchors;     /* a PSK-only header: the key authenticates the server */
#endif
#if MBEDTLS_VERSION_MAJOR < 4
    mbedtls_ssl_conf_rng(conf, TF_RNG_FUNC, TF_RNG_CTX(rng));
#else
    (void) rng;         /* 4.x: TLS draws from PSA's generator itself */
#endif
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(TLSFIT_GROUPS)
    static const uint16_t groups[] = { TLSFIT_GROUPS };
    mbedtls_ssl_conf_groups(conf, groups);
#elif MBEDTLS_VERSION_NUMBER < 0x03000000 && defined(TLSFIT_CURVES) && defined(MBEDTLS_ECP_C)
    static const mbedtls_ecp_group_id curves[] = { TLSFIT_CURVES };
    mbedtls_ssl_conf_curves(conf, curves);
#endif
#if defined(TLSFIT_MAX_FRAG_LEN) && defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
    /* the server's records stay within the input buffer (tlsfit gen) */
    ret = mbedtls_ssl_conf_max_frag_len(conf, TLSFIT_MAX_FRAG_LEN);
#endif
#if defined(TLSFIT_ALPN) && defined(MBEDTLS_SSL_ALPN)
    /* a server that routes by protocol (AWS IoT Core's MQTT on 443) drops a hello
       without it (tlsfit gen --alpn, or probe --alpn found it required) */
    static const char *alpn[] = { TLSFIT_ALPN, NULL };
    if (ret == 0)
        ret = mbedtls_ssl_conf_alpn_protocols(conf, alpn);
#endif
    return ret;
}

/* Sets the server name sni on ssl (SNI and the certificate's name check), again
   for every connection (a session reset clears it); 0 or the mbedTLS error. */
static inline int tf_harness_hostname(mbedtls_ssl_context *ssl, const char *sni)
{
#if defined(MBEDTLS_X509_CRT_PARSE_C)
    return mbedtls_ssl_set_hostname(ssl, sni);
#else
    (void) ssl;         /* a PSK-only header: mbedTLS has no host name without X.509 */
    (void) sni;
    return 0;
#endif
}

/* Sets ssl up with conf for server name sni; 0 or the mbedTLS error. */
static inline int tf_harness_ssl(mbedtls_ssl_context *ssl, const mbedtls_ssl_config *conf,
                                 const char *sni)
{
    int ret = mbedtls_ssl_setup(ssl, conf);
    if (ret == 0)
        ret = tf_harness_dtls_ssl(ssl);     /* DTLS only: MTU, Connection ID (dtls.h) */
    return ret != 0 ? ret : tf_harness_hostname(ssl, sni);
}

#if defined(MBEDTLS_PK_PARSE_C)
/* Parses the device's private key (DER or, with PEM_PARSE_C, PEM with its NUL)
   into key, unencrypted; 0 or the mbedTLS error. */
static inline int tf_harness_parse_key(mbedtls_pk_context *key, const unsigned char *der,
                                       size_t len, struct tf_rng *rng)
{
#if MBEDTLS_VERSION_MAJOR >= 4
    (void) rng;
    return mbedtls_pk_parse_key(key, der, len, NULL, 0);
#elif MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_parse_key(key, der, len, NULL, 0, TF_RNG_FUNC, TF_RNG_CTX(rng));
#else
    (void) rng;
    return mbedtls_pk_parse_key(key, der, len, NULL, 0);
#endif
}
#endif

#endif
