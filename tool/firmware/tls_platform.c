/* Platform hooks a device supplies to mbedTLS, as the configuration under
 * test asks for them (compiled with it):
 *
 *   mbedtls_ms_time()            MBEDTLS_HAVE_TIME + MBEDTLS_PLATFORM_MS_TIME_ALT:
 *                                milliseconds from the SysTick tick counter
 *                                (tf_ticks, started by tls_client.c)
 *   mbedtls_platform_gmtime_r()  MBEDTLS_PLATFORM_GMTIME_R_ALT: newlib's gmtime_r
 *   mbedtls_platform_zeroize()   MBEDTLS_PLATFORM_ZEROIZE_ALT: volatile stores
 *
 * Calendar time (MBEDTLS_HAVE_TIME_DATE, certificate validity) is newlib's
 * time(), which librdimon answers with the host's clock through semihosting
 * SYS_TIME. */
#include <time.h>

#include "mbedtls/version.h"
#if defined(MBEDTLS_HAVE_TIME)
#include "mbedtls/platform_time.h"
#endif
#include "mbedtls/platform_util.h"

#include "tlsfit_fw.h"

#if defined(MBEDTLS_HAVE_TIME) && defined(MBEDTLS_PLATFORM_MS_TIME_ALT)
mbedtls_ms_time_t mbedtls_ms_time(void)
{
    return (mbedtls_ms_time_t)(tf_ticks() / (TF_CPU_CLOCK_HZ / 1000u));
}
#endif

#if defined(MBEDTLS_HAVE_TIME_DATE) && defined(MBEDTLS_PLATFORM_GMTIME_R_ALT)
struct tm *mbedtls_platform_gmtime_r(const mbedtls_time_t *tt, struct tm *tm_buf)
{
    time_t t = (time_t)*tt;
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

/* Keeps the translation unit non-empty when no hook is needed. */
typedef int tf_tls_platform_unused;
