/* Platform hooks a device supplies to mbedTLS, as the configuration under
 * test asks for them (compiled with it):
 *
 *   mbedtls_ms_time()            MBEDTLS_HAVE_TIME + MBEDTLS_PLATFORM_MS_TIME_ALT:
 *                                milliseconds from the SysTick tick counter
 *                                (tf_ticks, started by tls_client.c)
 *
 * The other hooks (entropy, gmtime_r, zeroize) are the harness's
 * (../harness/hooks.c), shared with the verify client.
 *
 * Calendar time (MBEDTLS_HAVE_TIME_DATE, certificate validity) is newlib's
 * time(), which librdimon answers with the host's clock through semihosting
 * SYS_TIME. */
#include "mbedtls/version.h"
#if defined(MBEDTLS_HAVE_TIME)
#include "mbedtls/platform_time.h"
#endif

#include "tlsfit_fw.h"

#if defined(MBEDTLS_HAVE_TIME) && defined(MBEDTLS_PLATFORM_MS_TIME_ALT)
mbedtls_ms_time_t mbedtls_ms_time(void)
{
    return (mbedtls_ms_time_t)(tf_ticks() / (TF_CPU_CLOCK_HZ / 1000u));
}
#endif

/* Keeps the translation unit non-empty when no hook is needed. */
typedef int tf_tls_platform_unused;
