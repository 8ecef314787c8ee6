/* rng.c -- the random generator, PSA's start and the platform hooks (rng.h). */
#define _POSIX_C_SOURCE 200809L

#include "rng.h"
#include "names.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "mbedtls/md.h"
#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"
#if defined(MBEDTLS_HAVE_TIME)
#include "mbedtls/platform_time.h"
#endif
#if defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include "mbedtls/psa_util.h"
#endif
#endif

/* ------------------------------------------------- the OS and the hooks */

#if defined(__GNUC__)
#define TF_MAYBE_UNUSED __attribute__((unused))
#else
#define TF_MAYBE_UNUSED
#endif

/* Used by whichever of the hooks below the configuration needs: the kernel's
 * CSPRNG through getrandom(2), which blocks until it is seeded; 0 or -1. */
static TF_MAYBE_UNUSED int os_random(unsigned char *out, size_t len)
{
    while (len > 0) {
        ssize_t n = getrandom(out, len, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        out += n;
        len -= (size_t) n;
    }
    return 0;
}

#if defined(MBEDTLS_ENTROPY_HARDWARE_ALT) || (defined(MBEDTLS_NO_PLATFORM_ENTROPY) && \
    defined(MBEDTLS_ENTROPY_C) && defined(TF_RNG_DRBG))
/* The signature of an mbedTLS entropy source. */
static int os_entropy(void *ctx, unsigned char *out, size_t len, size_t *olen)
{
    (void) ctx;
    if (os_random(out, len) != 0) {
        return -1;
    }
    *olen = len;
    return 0;
}
#endif

#if (!defined(MBEDTLS_ENTROPY_C) && defined(TF_RNG_DRBG)) || defined(TLSFIT_EXTERNAL_RNG)
/* The signature of a DRBG's seed source and of mbedtls_ssl_conf_rng()'s f_rng. */
static int os_seed(void *ctx, unsigned char *out, size_t len)
{
    (void) ctx;
    return os_random(out, len) == 0 ? 0 : MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
}
#endif

/*
 * Hooks a device configuration may leave to the platform.  On the host they
 * are answered by the OS, so such a configuration still links and runs.
 */
#if defined(MBEDTLS_ENTROPY_HARDWARE_ALT)
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen);
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
    return os_entropy(data, output, len, olen);
}
#endif

#if defined(MBEDTLS_PSA_CRYPTO_C) && defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *context,
                                             uint8_t *output, size_t output_size,
                                             size_t *output_length)
{
    (void) context;
    if (os_random(output, output_size) != 0) {
        return PSA_ERROR_INSUFFICIENT_ENTROPY;
    }
    *output_length = output_size;
    return PSA_SUCCESS;
}
#endif

#if defined(MBEDTLS_HAVE_TIME) && defined(MBEDTLS_PLATFORM_MS_TIME_ALT)
mbedtls_ms_time_t mbedtls_ms_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (mbedtls_ms_time_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
    while (len--) {
        *p++ = 0;
    }
}
#endif

/* ------------------------------------------------------ the generator */

void tf_rng_init(struct tf_rng *rng)
{
    memset(rng, 0, sizeof(*rng));
#if defined(MBEDTLS_ENTROPY_C) && defined(TF_RNG_DRBG)
    mbedtls_entropy_init(&rng->entropy);
#endif
#if defined(MBEDTLS_CTR_DRBG_C)
    mbedtls_ctr_drbg_init(&rng->drbg);
#elif defined(MBEDTLS_HMAC_DRBG_C)
    mbedtls_hmac_drbg_init(&rng->drbg);
#endif
}

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

int tf_crypto_start(struct tf_fail *f)
{
#if defined(MBEDTLS_PSA_CRYPTO_C)
    psa_status_t st = psa_crypto_init();
    if (st != PSA_SUCCESS) {
        const char *n = tf_psa_status_name((long) st);
        snprintf(f->code, sizeof(f->code), "%d", (int) st);
        tf_fail_set(f, n ? n : "PSA_ERROR", "psa_crypto_init() failed%s",
                    st == PSA_ERROR_INSUFFICIENT_ENTROPY
                    ? ": the configuration gives PSA no entropy source on the host "
                      "(MBEDTLS_NO_PLATFORM_ENTROPY without MBEDTLS_ENTROPY_HARDWARE_ALT or "
                      "MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)" : "");
        return -1;
    }
#else
    (void) f;
#endif
    return 0;
}

#if defined(TF_RNG_DRBG)
typedef int (*tf_seed_fn)(void *, unsigned char *, size_t);

/* Where the DRBG's seed comes from: the entropy module, else the OS.
   Returns the mbedTLS error of adding the host's entropy source, or 0. */
static int seed_source(struct tf_rng *rng, tf_seed_fn *f_seed, void **p_seed)
{
    int code = 0;
#if defined(MBEDTLS_ENTROPY_C)
#if defined(MBEDTLS_NO_PLATFORM_ENTROPY)
    /* The configuration has no OS entropy (a device build); the host provides it. */
    code = mbedtls_entropy_add_source(&rng->entropy, os_entropy, NULL, 32,
                                      MBEDTLS_ENTROPY_SOURCE_STRONG);
#endif
    *f_seed = mbedtls_entropy_func;
    *p_seed = &rng->entropy;
#else
    (void) rng;
    *f_seed = os_seed;
    *p_seed = NULL;
#endif
    return code;
}

/* Seeds the DRBG; 0, or -1 with *code the mbedTLS error (or 0 and *f filled
   in when HMAC_DRBG has no hash). */
static int seed_drbg(struct tf_rng *rng, tf_seed_fn f_seed, void *p_seed, int *code,
                     struct tf_fail *f)
{
    static const unsigned char pers[] = "tlsfit-verify-client";
#if defined(MBEDTLS_CTR_DRBG_C)
    (void) f;
    rng->f_rng = mbedtls_ctr_drbg_random;
    *code = mbedtls_ctr_drbg_seed(&rng->drbg, f_seed, p_seed, pers, sizeof(pers) - 1);
#else
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (md == NULL) {
        md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA512);
    }
    if (md == NULL) {
        md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
    }
    if (md == NULL) {
        tf_fail_set(f, "TLSFIT_NO_RNG", "HMAC_DRBG has no hash to run on");
        return -1;
    }
    rng->f_rng = mbedtls_hmac_drbg_random;
    *code = mbedtls_hmac_drbg_seed(&rng->drbg, md, f_seed, p_seed, pers, sizeof(pers) - 1);
#endif
    rng->p_rng = &rng->drbg;
    return *code == 0 ? 0 : -1;
}

int tf_rng_seed(struct tf_rng *rng, int *code, struct tf_fail *f)
{
    tf_seed_fn f_seed;
    void *p_seed;
    *code = seed_source(rng, &f_seed, &p_seed);
    if (*code != 0) {
        return -1;
    }
    if (seed_drbg(rng, f_seed, p_seed, code, f) != 0) {
        if (*code != 0) {
            snprintf(f->message, sizeof(f->message), "seeding the random generator (%s) failed",
                     TF_RNG);
        }
        return -1;
    }
    return 0;
}
#elif defined(MBEDTLS_PSA_CRYPTO_C) && MBEDTLS_VERSION_NUMBER >= 0x03000000
int tf_rng_seed(struct tf_rng *rng, int *code, struct tf_fail *f)
{
    (void) f;
    *code = 0;
    rng->f_rng = mbedtls_psa_get_random;
    rng->p_rng = MBEDTLS_PSA_RANDOM_STATE;
    return 0;
}
#elif defined(TLSFIT_EXTERNAL_RNG)
/* gen --external-rng without PSA Crypto: the application's TRNG goes to TLS as its
   f_rng; on the host that is the kernel's (getrandom), failing rather than falling back. */
int tf_rng_seed(struct tf_rng *rng, int *code, struct tf_fail *f)
{
    (void) f;
    *code = 0;
    rng->f_rng = os_seed;
    rng->p_rng = NULL;
    return 0;
}
#else
int tf_rng_seed(struct tf_rng *rng, int *code, struct tf_fail *f)
{
    (void) rng;
    *code = 0;
    tf_fail_set(f, "TLSFIT_NO_RNG", "the configuration has no random generator "
                "for TLS (neither MBEDTLS_CTR_DRBG_C nor MBEDTLS_HMAC_DRBG_C%s)",
                MBEDTLS_VERSION_NUMBER >= 0x03000000 ? " nor MBEDTLS_PSA_CRYPTO_C" : "");
    return -1;
}
#endif
