/* rng4.c -- the random generator TLS gets with mbedTLS 4.x (rng4.h): PSA's,
 * seeded by psa_crypto_init() (tf_crypto_start); rng.c is the 3.x/2.x one. */
#include "harness.h"

#if MBEDTLS_VERSION_MAJOR >= 4

TF_NOIPA int tf_rng_seed(struct tf_rng *rng, const unsigned char *pers, size_t pers_len,
                         int *ret)
{
    /* PSA seeded its generator when it started; there is no personalisation
       string to give it. */
    (void) rng;
    (void) pers;
    (void) pers_len;
    (void) ret;
    return TF_OK;
}

void tf_rng_free(struct tf_rng *rng)
{
    (void) rng;
    mbedtls_psa_crypto_free();
}

#endif
