/* !!! TEST ONLY -- NOT A SOURCE OF ENTROPY -- NEVER USE IN A PRODUCT !!!
 *
 * The measuring firmware has no hardware random generator, so mbedTLS's
 * entropy source is a xoshiro128** generator seeded from tf_run.seed (which
 * measure.py writes into the image).  Anyone who knows the seed knows every
 * "random" value: client randoms, ephemeral keys, everything.  That is fine
 * for measuring sizes and instruction counts against a test server, and
 * useless for anything else.
 *
 * This file is the firmware's tf_random_source() (../harness/harness.h),
 * behind everything random the harness hands mbedTLS: the DRBG's seed,
 * mbedtls_hardware_poll() (MBEDTLS_ENTROPY_HARDWARE_ALT),
 * mbedtls_psa_external_get_random() (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG) and
 * TLS's f_rng for a `gen --external-rng` header without PSA
 * (TLSFIT_EXTERNAL_RNG).  A device answers them from its TRNG instead. */
#include <string.h>

#include "tls_harness.h"
#include "../harness/harness.h"

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

int tf_random_source(void *ctx, unsigned char *out, size_t len)
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
