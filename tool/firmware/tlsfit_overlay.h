/* tlsfit measure: the overlay every cross build of mbedTLS gets, as
 * MBEDTLS_USER_CONFIG_FILE.  mbedTLS includes it right after the
 * configuration under test (3.x: build_info.h; 2.x: at the end of the
 * configuration file), before check_config.h.
 *
 * It only adds what a bare-metal measuring build cannot do without, and
 * only when the configuration lacks it; each addition defines a
 * TLSFIT_OVERLAY_* marker that the firmware reports ("overlay" in the
 * result), so a measurement always says what was added:
 *
 *   MBEDTLS_NO_PLATFORM_ENTROPY    there is no OS entropy on the target
 *   MBEDTLS_ENTROPY_HARDWARE_ALT   when the configuration has no entropy
 *                                  source at all (test_entropy.c is it)
 *   MBEDTLS_PLATFORM_C/_MEMORY     so the counting allocator (alloc.c) can be
 *                                  installed with mbedtls_platform_set_calloc_free
 *   MBEDTLS_PLATFORM_MS_TIME_ALT   3.x with MBEDTLS_HAVE_TIME: newlib has no
 *                                  clock_gettime, tls_platform.c has the clock
 */
#ifndef TLSFIT_OVERLAY_H
#define TLSFIT_OVERLAY_H

#if defined(MBEDTLS_ENTROPY_C) && !defined(MBEDTLS_NO_PLATFORM_ENTROPY)
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define TLSFIT_OVERLAY_NO_PLATFORM_ENTROPY
#endif

#if defined(MBEDTLS_ENTROPY_C) && !defined(MBEDTLS_ENTROPY_HARDWARE_ALT) && \
    !defined(MBEDTLS_ENTROPY_NV_SEED) && !defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
#define MBEDTLS_ENTROPY_HARDWARE_ALT
#define TLSFIT_OVERLAY_ENTROPY_HARDWARE_ALT
#endif

#if !defined(MBEDTLS_PLATFORM_MEMORY) && !defined(MBEDTLS_PLATFORM_CALLOC_MACRO) && \
    !defined(MBEDTLS_PLATFORM_FREE_MACRO)
#if !defined(MBEDTLS_PLATFORM_C)
#define MBEDTLS_PLATFORM_C
#define TLSFIT_OVERLAY_PLATFORM_C
#endif
#define MBEDTLS_PLATFORM_MEMORY
#define TLSFIT_OVERLAY_PLATFORM_MEMORY
#endif

#if defined(MBEDTLS_VERSION_NUMBER) && MBEDTLS_VERSION_NUMBER >= 0x03000000 && \
    defined(MBEDTLS_HAVE_TIME) && !defined(MBEDTLS_PLATFORM_MS_TIME_ALT)
#define MBEDTLS_PLATFORM_MS_TIME_ALT
#define TLSFIT_OVERLAY_PLATFORM_MS_TIME_ALT
#endif

#endif
