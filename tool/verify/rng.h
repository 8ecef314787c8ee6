/*
 * rng.h -- the verify client's side of the harness's random generator
 * (../harness/harness.h, which picks the generator and seeds it): the host's
 * random source, the failure descriptions, and the generator's name.
 *
 * The host's tf_random_source() is the kernel's CSPRNG through getrandom(2),
 * so a device configuration that leaves entropy to the platform
 * (ENTROPY_HARDWARE_ALT, PSA_CRYPTO_EXTERNAL_RNG, NO_PLATFORM_ENTROPY) or a
 * `gen --external-rng` header (TLSFIT_EXTERNAL_RNG) still links and runs;
 * rng.c also has the host's millisecond clock (PLATFORM_MS_TIME_ALT).
 */
#ifndef TF_VERIFY_RNG_H
#define TF_VERIFY_RNG_H

#include "fail.h"
#include "../harness/harness.h"

/* The generator's name in the result line ("rng"), or NULL for none.  4.x: always
   PSA's, seeded from the named source (rng4.h). */
#if MBEDTLS_VERSION_MAJOR >= 4 && defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
#define TF_RNG "psa-external (getrandom)"
#elif MBEDTLS_VERSION_MAJOR >= 4 && defined(MBEDTLS_PSA_DRIVER_GET_ENTROPY)
#define TF_RNG "psa (mbedtls_platform_get_entropy: getrandom)"
#elif MBEDTLS_VERSION_MAJOR >= 4
#define TF_RNG "psa"
#elif defined(MBEDTLS_CTR_DRBG_C)
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

/* Starts PSA Crypto when configured (tf_crypto_start); 0, or -1 with *f
   filled in. */
int tf_host_crypto_start(struct tf_fail *f);

/* Seeds the generator (tf_rng_seed); 0, or -1 with *f filled in and *code the
   mbedTLS error (0 when the failure is not one). */
int tf_host_rng_seed(struct tf_rng *rng, int *code, struct tf_fail *f);

#endif
