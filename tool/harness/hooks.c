/* hooks.c -- the platform hooks a device configuration leaves to the
 * application (harness.h), compiled with the configuration under test:
 *
 *   mbedtls_hardware_poll()            MBEDTLS_ENTROPY_HARDWARE_ALT
 *   mbedtls_psa_external_get_random()  MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG
 *   mbedtls_platform_gmtime_r()        MBEDTLS_PLATFORM_GMTIME_R_ALT
 *   mbedtls_platform_zeroize()         MBEDTLS_PLATFORM_ZEROIZE_ALT
 *
 * The random ones answer from tf_random_source() (the host's getrandom, the
 * firmware's TEST-ONLY generator); a device answers them from its TRNG.  The
 * millisecond clock (MBEDTLS_PLATFORM_MS_TIME_ALT) is each side's own. */
#define _POSIX_C_SOURCE 200809L     /* gmtime_r on the host */

#include "harness.h"

#include <stdint.h>
#include <time.h>

#include "mbedtls/platform_util.h"
#if defined(MBEDTLS_HAVE_TIME)
#include "mbedtls/platform_time.h"
#endif
#if defined(MBEDTLS_PSA_CRYPTO_C) && defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
#include "psa/crypto.h"
#endif

int tf_harness_entropy(void *ctx, unsigned char *out, size_t len, size_t *olen)
{
    *olen = len;
    return tf_random_source(ctx, out, len);
}

#if defined(MBEDTLS_ENTROPY_HARDWARE_ALT)
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen);
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
    *olen = len;
    return tf_random_source(data, output, len);
}
#endif

#if defined(MBEDTLS_PSA_CRYPTO_C) && defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *context,
                                             uint8_t *output, size_t output_size,
                                             size_t *output_length)
{
    (void) context;
    *output_length = output_size;
    return tf_random_source(NULL, output, output_size) == 0 ? PSA_SUCCESS
                                                            : PSA_ERROR_INSUFFICIENT_ENTROPY;
}
#endif

#if defined(MBEDTLS_HAVE_TIME_DATE) && defined(MBEDTLS_PLATFORM_GMTIME_R_ALT)
struct tm *mbedtls_platform_gmtime_r(const mbedtls_time_t *tt, struct tm *tm_buf)
{
    time_t t = (time_t) *tt;
    return gmtime_r(&t, tm_buf);
}
#endif

#if defined(MBEDTLS_PLATFORM_ZEROIZE_ALT)
void mbedtls_platform_zeroize(void *buf, size_t len)
{
    volatile unsigned char *p = buf;
    while (len--)
        *p++ = 0;
}
#endif
