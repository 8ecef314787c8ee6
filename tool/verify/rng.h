/*
 * rng.h -- the random generator the TLS layer gets, and PSA Crypto's start.
 *
 * Which generator: CTR_DRBG when configured, else HMAC_DRBG, else (3.x) PSA's
 * own, else the host's getrandom() as the application's f_rng (a header from
 * `tlsfit gen --external-rng` without PSA Crypto, TLSFIT_EXTERNAL_RNG); seeded from mbedTLS's entropy module, or straight from the OS when
 * the configuration has no entropy module.  A device configuration may
 * leave entropy, time or zeroization to the platform (ENTROPY_HARDWARE_ALT,
 * PSA_CRYPTO_EXTERNAL_RNG, PLATFORM_MS_TIME_ALT, ...): rng.c answers those
 * hooks from the host OS, so such a configuration still links and runs.
 */
#ifndef TF_VERIFY_RNG_H
#define TF_VERIFY_RNG_H

#include <stddef.h>

#include "fail.h"
#include "mbedtls/version.h"        /* 3.x: via build_info.h; 2.x: via config */
#include "mbedtls/entropy.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/hmac_drbg.h"

/* The generator's name in the result line ("rng"), or NULL for none.  A header
 * from `tlsfit gen --external-rng` (TLSFIT_EXTERNAL_RNG) has no DRBG: PSA takes
 * the host's getrandom() through mbedtls_psa_external_get_random(), or, without
 * PSA, TLS takes it as the application's f_rng. */
#if defined(MBEDTLS_CTR_DRBG_C)
#define TF_RNG "ctr_drbg"
#elif defined(MBEDTLS_HMAC_DRBG_C)
#define TF_RNG "hmac_drbg"
#elif defined(MBEDTLS_PSA_CRYPTO_C) && MBEDTLS_VERSION_NUMBER >= 0x03000000 && \
    defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
#define TF_RNG "psa-external (getrandom)"
#elif defined(MBEDTLS_PSA_CRYPTO_C) && MBEDTLS_VERSION_NUMBER >= 0x03000000
#define TF_RNG "psa"
#elif defined(TLSFIT_EXTERNAL_RNG)
#define TF_RNG "external f_rng (getrandom)"
#else
#define TF_RNG NULL
#endif

#if defined(MBEDTLS_CTR_DRBG_C) || defined(MBEDTLS_HMAC_DRBG_C)
#define TF_RNG_DRBG 1
#endif

struct tf_rng {
#if defined(MBEDTLS_ENTROPY_C) && defined(TF_RNG_DRBG)
    mbedtls_entropy_context entropy;
#endif
#if defined(MBEDTLS_CTR_DRBG_C)
    mbedtls_ctr_drbg_context drbg;
#elif defined(MBEDTLS_HMAC_DRBG_C)
    mbedtls_hmac_drbg_context drbg;
#endif
    int (*f_rng)(void *, unsigned char *, size_t);  /* for mbedtls_ssl_conf_rng */
    void *p_rng;
};

/* Initialises the contexts (safe to free from then on). */
void tf_rng_init(struct tf_rng *rng);

/* Starts PSA Crypto when configured; 0, or -1 with *f filled in. */
int tf_crypto_start(struct tf_fail *f);

/* Seeds the generator and sets f_rng / p_rng; 0, or -1 with *f filled in
   and *code the mbedTLS error (0 when the failure is not one). */
int tf_rng_seed(struct tf_rng *rng, int *code, struct tf_fail *f);

/* Frees the contexts, and PSA Crypto. */
void tf_rng_free(struct tf_rng *rng);

#endif
