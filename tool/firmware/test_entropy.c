/* !!! TEST ONLY -- NOT A SOURCE OF ENTROPY -- NEVER USE IN A PRODUCT !!!
 *
 * The measuring firmware has no hardware random generator, so mbedTLS's
 * entropy source is a xoshiro128** generator seeded from tf_run.seed (which
 * measure.py writes into the image).  Anyone who knows the seed knows every
 * "random" value: client randoms, ephemeral keys, everything.  That is fine
 * for measuring sizes and instruction counts against a test server, and
 * useless for anything else.
 *
 * Provides, as the configuration under test requires:
 *   mbedtls_hardware_poll()            (MBEDTLS_ENTROPY_HARDWARE_ALT)
 *   mbedtls_psa_external_get_random()  (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
 * and tf_test_entropy / tf_test_random for tls_client.c to register itself
 * (tf_test_random is TLS's f_rng for a `gen --external-rng` header without PSA,
 * TLSFIT_EXTERNAL_RNG).  A device answers those hooks from its TRNG instead. */
#include <string.h>

#include "mbedtls/version.h"     /* 3.x: build_info.h; 2.x: the configuration */
#if defined(MBEDTLS_PSA_CRYPTO_C) && defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
#include "psa/crypto.h"
#endif

#include "tls_harness.h"

static uint32_t s[4];

static uint32_t rotl(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

static uint32_t next(void)
{
    uint32_t result = rotl(s[1] * 5u, 7) * 9u;
    uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
}

void tf_test_rng_seed(const uint32_t seed[4])
{
    memcpy(s, seed, sizeof s);
    if ((s[0] | s[1] | s[2] | s[3]) == 0)
        s[0] = 1; /* the all-zero state is a fixed point */
}

int tf_test_random(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    while (len > 0) {
        uint32_t v = next();
        size_t n = len < 4 ? len : 4;
        memcpy(out, &v, n);
        out += n;
        len -= n;
    }
    return 0;
}

int tf_test_entropy(void *ctx, unsigned char *out, size_t len, size_t *olen)
{
    tf_test_random(ctx, out, len);
    *olen = len;
    return 0;
}

#if defined(MBEDTLS_ENTROPY_HARDWARE_ALT)
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen);
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
    return tf_test_entropy(data, output, len, olen);
}
#endif

#if defined(MBEDTLS_PSA_CRYPTO_C) && defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *context,
                                             uint8_t *output, size_t output_size,
                                             size_t *output_length)
{
    (void)context;
    tf_test_random(NULL, output, output_size);
    *output_length = output_size;
    return PSA_SUCCESS;
}
#endif
