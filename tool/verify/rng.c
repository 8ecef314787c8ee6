/* rng.c -- the host's random source and clock, and the generator's failures
 * described (rng.h). */
#define _POSIX_C_SOURCE 200809L

#include "rng.h"
#include "names.h"

#include <errno.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

#if MBEDTLS_VERSION_MAJOR >= 4    /* no public entropy module: PSA's code */
#include "psa/crypto.h"
#define TF_ENTROPY_FAILED PSA_ERROR_INSUFFICIENT_ENTROPY
#else
#include "mbedtls/entropy.h"
#define TF_ENTROPY_FAILED MBEDTLS_ERR_ENTROPY_SOURCE_FAILED
#endif
#if defined(MBEDTLS_HAVE_TIME)
#include "mbedtls/platform_time.h"
#endif
#if defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#endif

/* The kernel's CSPRNG through getrandom(2), which blocks until it is seeded;
   never a fallback. */
int tf_random_source(void *ctx, unsigned char *out, size_t len)
{
    (void) ctx;
    while (len > 0) {
        ssize_t n = getrandom(out, len, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return TF_ENTROPY_FAILED;
        }
        out += n;
        len -= (size_t) n;
    }
    return 0;
}

#if defined(MBEDTLS_HAVE_TIME) && defined(MBEDTLS_PLATFORM_MS_TIME_ALT)
mbedtls_ms_time_t mbedtls_ms_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (mbedtls_ms_time_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
#endif

int tf_host_crypto_start(struct tf_fail *f)
{
    int st = tf_crypto_start();
    if (st == 0) {
        return 0;
    }
#if defined(MBEDTLS_PSA_CRYPTO_C)
    const char *n = tf_psa_status_name((long) st);
    snprintf(f->code, sizeof(f->code), "%d", st);
    tf_fail_set(f, n ? n : "PSA_ERROR", "psa_crypto_init() failed%s",
                st == PSA_ERROR_INSUFFICIENT_ENTROPY
                ? ": the configuration gives PSA no entropy source on the host "
                  "(MBEDTLS_NO_PLATFORM_ENTROPY without MBEDTLS_ENTROPY_HARDWARE_ALT or "
                  "MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)" : "");
#else
    (void) f;
#endif
    return -1;
}

int tf_host_rng_seed(struct tf_rng *rng, int *code, struct tf_fail *f)
{
    static const unsigned char pers[] = "tlsfit-verify-client";
    int err = tf_rng_seed(rng, pers, sizeof(pers) - 1, code);
    if (err == TF_OK) {
        return 0;
    }
#if defined(TF_RNG_DRBG)
    if (err != TLSFIT_NO_RNG) {
        tf_fail_set(f, NULL, "seeding the random generator (%s) failed", TF_RNG);
    } else {
        tf_fail_set(f, TF_ERROR_NAME(TLSFIT_NO_RNG), "HMAC_DRBG has no hash to run on");
    }
#else
    tf_fail_set(f, TF_ERROR_NAME(TLSFIT_NO_RNG), "the configuration has no random "
                "generator for TLS (neither MBEDTLS_CTR_DRBG_C nor MBEDTLS_HMAC_DRBG_C%s)",
                MBEDTLS_VERSION_NUMBER >= 0x03000000 ? " nor MBEDTLS_PSA_CRYPTO_C" : "");
#endif
    return -1;
}
