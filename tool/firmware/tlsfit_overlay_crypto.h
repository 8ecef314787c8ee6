/* tlsfit measure: the crypto-side overlay every cross build of an mbedTLS 4.x
 * tree gets, as TF_PSA_CRYPTO_USER_CONFIG_FILE: TF-PSA-Crypto includes it
 * right after the configuration's crypto file
 * (tf-psa-crypto/include/tf-psa-crypto/build_info.h), where crypto and
 * platform options must be set in 4.x.
 *
 * Like tlsfit_overlay.h it only adds what a bare-metal measuring build cannot
 * do without, and only when the configuration lacks it; each change defines a
 * TLSFIT_OVERLAY_* marker that the firmware reports ("overlay" in the result):
 *
 *   MBEDTLS_PSA_DRIVER_GET_ENTROPY   for MBEDTLS_PSA_BUILTIN_GET_ENTROPY, which
 *        #errors off Unix and Windows (tf-psa-crypto/drivers/builtin/src/
 *        platform_util.c:271); the harness answers mbedtls_platform_get_entropy
 *        from test_entropy.c (TEST ONLY)
 *   MBEDTLS_PLATFORM_C/_MEMORY       so the counting allocator (alloc.c) can be
 *        installed with mbedtls_platform_set_calloc_free
 *   MBEDTLS_PLATFORM_MS_TIME_ALT     with MBEDTLS_HAVE_TIME: newlib has no
 *        clock_gettime (platform_util.c:262 "No mbedtls_ms_time available");
 *        tls_platform.c has the clock
 *   no MBEDTLS_FS_IO                 <dirent.h> is not newlib's (x509_crt.c)
 *   no MBEDTLS_PSA_ITS_FILE_C        needs FS_IO (tf_psa_crypto_check_config.h:538)
 *   no MBEDTLS_PSA_CRYPTO_STORAGE_C  needs a platform's ITS (psa/error.h)
 *
 * (shared/upstream's README, "Cross, Cortex-M4": the obstacles of the default
 * configuration, in the order found, and the smallest change that builds.) */
#ifndef TLSFIT_OVERLAY_CRYPTO_H
#define TLSFIT_OVERLAY_CRYPTO_H

#if defined(MBEDTLS_PSA_BUILTIN_GET_ENTROPY)
#undef MBEDTLS_PSA_BUILTIN_GET_ENTROPY
#define TLSFIT_OVERLAY_NO_BUILTIN_GET_ENTROPY
#if !defined(MBEDTLS_PSA_DRIVER_GET_ENTROPY) && !defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
#define MBEDTLS_PSA_DRIVER_GET_ENTROPY
#define TLSFIT_OVERLAY_PSA_DRIVER_GET_ENTROPY
#endif
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

#if defined(MBEDTLS_HAVE_TIME) && !defined(MBEDTLS_PLATFORM_MS_TIME_ALT)
#define MBEDTLS_PLATFORM_MS_TIME_ALT
#define TLSFIT_OVERLAY_PLATFORM_MS_TIME_ALT
#endif

#if defined(MBEDTLS_FS_IO)
#undef MBEDTLS_FS_IO
#define TLSFIT_OVERLAY_NO_FS_IO
#endif

#if defined(MBEDTLS_PSA_ITS_FILE_C)
#undef MBEDTLS_PSA_ITS_FILE_C
#define TLSFIT_OVERLAY_NO_PSA_ITS_FILE_C
#endif

#if defined(MBEDTLS_PSA_CRYPTO_STORAGE_C)
#undef MBEDTLS_PSA_CRYPTO_STORAGE_C
#define TLSFIT_OVERLAY_NO_PSA_CRYPTO_STORAGE_C
#endif

#endif
