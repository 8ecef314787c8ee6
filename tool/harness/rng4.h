/*
 * rng4.h -- the random generator TLS gets with mbedTLS 4.x (harness.h
 * includes it in place of the DRBG section when MBEDTLS_VERSION_MAJOR >= 4).
 *
 * In 4.x all crypto is PSA's: TLS draws its randomness from PSA's own
 * generator (there is no mbedtls_ssl_conf_rng, and mbedtls_pk_parse_key takes
 * no f_rng), which PSA seeds itself at psa_crypto_init() from its entropy
 * source -- the configuration's MBEDTLS_PSA_BUILTIN_GET_ENTROPY (the OS),
 * MBEDTLS_PSA_DRIVER_GET_ENTROPY (mbedtls_platform_get_entropy, answered by
 * hooks4.c from tf_random_source) or MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG
 * (hooks.c).  The CTR_DRBG / HMAC_DRBG options select PSA's internal DRBG
 * (tf-psa-crypto/include/psa/crypto_config.h, MBEDTLS_CTR_DRBG_C); their
 * contexts are private, so nothing of them is held here.
 * Declarations of tf_rng_seed/tf_rng_free: harness.h; definitions: rng4.c.
 */
#ifndef TF_HARNESS_RNG4_H
#define TF_HARNESS_RNG4_H

#include "psa/crypto.h"

/* No f_rng is handed to TLS in 4.x: these only keep the callers' code
   line-independent (tf_harness_parse_key ignores them there). */
#define TF_RNG_FUNC 0
#define TF_RNG_CTX(rng) ((void) (rng), (void *) 0)

/* PSA is mandatory in 4.x (MBEDTLS_PSA_CRYPTO_C): there is always a generator;
   psa_crypto_init() reports a missing entropy source (tf_crypto_start). */
#define TF_RNG_MAY_BE_MISSING 0

struct tf_rng {
    char none;          /* PSA holds its generator: nothing to hold (C has no empty struct) */
};

/* Nothing to initialise. */
static inline void tf_rng_init(struct tf_rng *rng)
{
    (void) rng;
}

/* Starts PSA Crypto (and seeds its generator): its psa_status_t, 0 for success. */
static inline int tf_crypto_start(void)
{
    return (int) psa_crypto_init();
}

#endif
