/* hooks4.c -- the entropy hook an mbedTLS 4.x configuration leaves to the
 * application (harness.h):
 *
 *   mbedtls_platform_get_entropy()     MBEDTLS_PSA_DRIVER_GET_ENTROPY
 *
 * It replaced 3.x's mbedtls_hardware_poll (MBEDTLS_ENTROPY_HARDWARE_ALT, hooks.c):
 * tf-psa-crypto/docs/1.0-migration-guide.md, "Entropy configuration"; prototype
 * in tf-psa-crypto/include/mbedtls/platform.h.  mbedTLS wants full entropy
 * (*estimate_bits = 8 bits per byte) and PSA_ERROR_INSUFFICIENT_ENTROPY on a
 * failure; it is answered from tf_random_source() (the host's getrandom, the
 * firmware's TEST-ONLY generator).  The other hooks (external RNG, gmtime_r,
 * zeroize) kept their 3.x names and are hooks.c's. */
#include "harness.h"

#if MBEDTLS_VERSION_MAJOR >= 4 && defined(MBEDTLS_PSA_DRIVER_GET_ENTROPY)

#include "mbedtls/platform.h"

int mbedtls_platform_get_entropy(psa_driver_get_entropy_flags_t flags, size_t *estimate_bits,
                                 unsigned char *output, size_t output_size)
{
    (void) flags;
    if (tf_random_source(NULL, output, output_size) != 0)
        return PSA_ERROR_INSUFFICIENT_ENTROPY;
    *estimate_bits = 8 * output_size;
    return 0;
}

#endif
