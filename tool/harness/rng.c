/* rng.c -- the random generator TLS gets (harness.h). */
#include "harness.h"

#if MBEDTLS_VERSION_MAJOR < 4       /* 4.x: rng4.c */

#if defined(MBEDTLS_HMAC_DRBG_C) && !defined(MBEDTLS_CTR_DRBG_C)
#include "mbedtls/md.h"
#endif

void tf_rng_free(struct tf_rng *rng)
{
#if defined(MBEDTLS_CTR_DRBG_C)
    mbedtls_ctr_drbg_free(&rng->drbg);
#elif defined(MBEDTLS_HMAC_DRBG_C)
    mbedtls_hmac_drbg_free(&rng->drbg);
#endif
#if defined(MBEDTLS_ENTROPY_C) && defined(TF_RNG_DRBG)
    mbedtls_entropy_free(&rng->entropy);
#endif
#if defined(MBEDTLS_PSA_CRYPTO_C)
    mbedtls_psa_crypto_free();
#endif
    (void) rng;
}

#if defined(TF_RNG_DRBG)
/* Seeds the DRBG from the entropy module, else straight from the source. */
static int seed_drbg(struct tf_rng *rng, const unsigned char *pers, size_t pers_len, int *ret)
{
    int (*f_seed)(void *, unsigned char *, size_t) = tf_random_source;
    void *p_seed = NULL;
#if defined(MBEDTLS_ENTROPY_C)
#if defined(MBEDTLS_NO_PLATFORM_ENTROPY) && !defined(MBEDTLS_ENTROPY_HARDWARE_ALT)
    /* Neither the OS's nor a hardware source in the configuration: ours. */
    *ret = mbedtls_entropy_add_source(&rng->entropy, tf_harness_entropy, NULL, 32,
                                      MBEDTLS_ENTROPY_SOURCE_STRONG);
    if (*ret != 0)
        return TF_ERR_FAILED;
#endif
    f_seed = mbedtls_entropy_func;
    p_seed = &rng->entropy;
#endif
#if defined(MBEDTLS_CTR_DRBG_C)
    *ret = mbedtls_ctr_drbg_seed(&rng->drbg, f_seed, p_seed, pers, pers_len);
#else
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (md == NULL)
        md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA512);
    if (md == NULL)
        md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
    if (md == NULL)
        return TLSFIT_NO_RNG;
    *ret = mbedtls_hmac_drbg_seed(&rng->drbg, md, f_seed, p_seed, pers, pers_len);
#endif
    return *ret == 0 ? TF_OK : TF_ERR_FAILED;
}
#endif

TF_NOIPA int tf_rng_seed(struct tf_rng *rng, const unsigned char *pers, size_t pers_len,
                         int *ret)
{
#if defined(TF_RNG_DRBG)
    return seed_drbg(rng, pers, pers_len, ret);
#else
    /* PSA's generator (seeded by PSA: hooks.c answers its external RNG), or
       tf_random_source as it is (TLSFIT_EXTERNAL_RNG): nothing to seed. */
    (void) rng;
    (void) pers;
    (void) pers_len;
    (void) ret;
#if (defined(MBEDTLS_PSA_CRYPTO_C) && MBEDTLS_VERSION_NUMBER >= 0x03000000) || \
    defined(TLSFIT_EXTERNAL_RNG)
    return TF_OK;
#else
    return TLSFIT_NO_RNG;
#endif
#endif
}

#endif  /* MBEDTLS_VERSION_MAJOR < 4 */
