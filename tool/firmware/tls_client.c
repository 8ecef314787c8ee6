/* tlsfit measure firmware: one verified TLS client handshake over UART0,
 * measured.  Built by tool/tlsfit/measure.py with the configuration under
 * test (MBEDTLS_CONFIG_FILE, mbedTLS 3.6 or 2.28) and run under QEMU, whose
 * UART0 is a TCP connection to the server (through measure.py's relay).
 *
 * What it measures (all reported in one TLSFIT-RESULT line of JSON on the
 * semihosting console; the exit code is 0 for a completed handshake, 1
 * otherwise):
 *   heap    every mbedtls_calloc/free goes through alloc.c (peak bytes,
 *           allocation count, largest block; tf_run.heap_limit caps it)
 *   stack   painted at reset (startup.c), deepest use read at the end
 *   time    SysTick ticks spent inside the handshake minus the ticks spent
 *           waiting for UART input; with QEMU -icount shift=0 a tick is
 *           1e9 / TF_CPU_CLOCK_HZ instructions
 *   state   the handshake is driven with mbedtls_ssl_handshake_step(); the
 *           state before each step goes to the console as
 *           "tlsfit-fw: state N" and, on failure, the state whose step failed
 *           is reported (measure.py names it from the tree's ssl.h)
 *
 * Copes with any consistent configuration: optional parts are behind
 * #if defined(...).  The trust anchors, server name, heap limit and the
 * test-only random seed come from run_params.c (struct tf_run_params).
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS /* 3.x: ssl->state, for the failing state */

#include <stdio.h>
#include <string.h>

#include "mbedtls/version.h"    /* 3.x: via build_info.h; 2.x: via the configuration */

#if MBEDTLS_VERSION_NUMBER < 0x03000000
/* 2.x: the configuration under test replaces config.h, which is what
 * normally includes check_config.h; make sure it is checked. */
#include "mbedtls/check_config.h"
#endif

#if !defined(MBEDTLS_SSL_TLS_C) || !defined(MBEDTLS_SSL_CLI_C)
#error "tlsfit measure: the configuration has no TLS client (MBEDTLS_SSL_TLS_C and MBEDTLS_SSL_CLI_C)"
#endif
#if !defined(MBEDTLS_X509_CRT_PARSE_C)
#error "tlsfit measure: MBEDTLS_X509_CRT_PARSE_C is not defined, the server cannot be verified"
#endif

#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/platform.h"
#if defined(MBEDTLS_ENTROPY_C)
#include "mbedtls/entropy.h"
#endif
#if defined(MBEDTLS_CTR_DRBG_C)
#include "mbedtls/ctr_drbg.h"
#elif defined(MBEDTLS_HMAC_DRBG_C)
#include "mbedtls/hmac_drbg.h"
#include "mbedtls/md.h"
#endif
#if defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include "mbedtls/psa_util.h"
#endif
#endif

#include "tls_harness.h"
#include "tlsfit_fw.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define TF_SSL_STATE(ssl) ((ssl)->MBEDTLS_PRIVATE(state))
#define TF_HANDSHAKE_OVER(ssl) mbedtls_ssl_is_handshake_over(ssl)
#else
#define TF_SSL_STATE(ssl) ((ssl)->state)
#define TF_HANDSHAKE_OVER(ssl) ((ssl)->state == MBEDTLS_SSL_HANDSHAKE_OVER)
#endif

#if defined(MBEDTLS_PLATFORM_MEMORY) && !defined(MBEDTLS_PLATFORM_CALLOC_MACRO) && \
    !defined(MBEDTLS_PLATFORM_FREE_MACRO)
#define TF_HEAP_COUNTED 1
#else
#define TF_HEAP_COUNTED 0
#endif

#if defined(MBEDTLS_CTR_DRBG_C) || defined(MBEDTLS_HMAC_DRBG_C)
#define TF_DRBG 1
#else
#define TF_DRBG 0
#endif

/* The client's state: static, so its size shows in ram_static_bytes the way
 * a device's global TLS context would. */
static struct {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt anchors;
#if defined(MBEDTLS_ENTROPY_C) && TF_DRBG
    mbedtls_entropy_context entropy;
#endif
#if defined(MBEDTLS_CTR_DRBG_C)
    mbedtls_ctr_drbg_context drbg;
#elif defined(MBEDTLS_HMAC_DRBG_C)
    mbedtls_hmac_drbg_context drbg;
#endif
    int uart_timed_out;
} cl;

/* What happened, for the result line. */
struct outcome {
    const char *step;       /* "setup", "ca", "handshake", "done" */
    const char *what;       /* set when the failure is not an mbedTLS code */
    int ret;                /* mbedTLS error code (or PSA status), 0 = none */
    int psa_status;         /* 1: ret is a psa_status_t */
    int state;              /* handshake state whose step failed; -1: none */
    int last_state;
    uint64_t ticks;         /* in the handshake, UART waits excluded */
    uint64_t wait_ticks;    /* waiting for UART input during the handshake */
    int ca_loaded, ca_rejected;
};

/* ---------------------------------------------------------------- UART BIO */

static int uart_send(void *ctx, const unsigned char *buf, size_t len)
{
    (void)ctx;
    size_t n = tf_uart_write(buf, len, tf_run.uart_timeout_polls);
    return n > 0 ? (int)n : MBEDTLS_ERR_SSL_TIMEOUT;
}

/* Blocks for all `len` bytes (mbedTLS asks for what it needs); a timeout is
 * sticky, so a short read is not followed by a second full wait. */
static int uart_recv(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    if (cl.uart_timed_out)
        return MBEDTLS_ERR_SSL_TIMEOUT;
    size_t n = tf_uart_read(buf, len, tf_run.uart_timeout_polls);
    if (n < len)
        cl.uart_timed_out = 1;
    return n > 0 ? (int)n : MBEDTLS_ERR_SSL_TIMEOUT;
}

/* ------------------------------------------------------------------ setup */

static void install_allocator(void)
{
#if TF_HEAP_COUNTED
    tf_alloc_set_limit(tf_run.heap_limit);
    mbedtls_platform_set_calloc_free(tf_calloc, tf_free);
#endif
}

/* Seeds the random generator TLS uses; sets *f_rng / *p_rng. */
static int rng_setup(struct outcome *o, int (**f_rng)(void *, unsigned char *, size_t),
                     void **p_rng)
{
    static const unsigned char pers[] = "tlsfit measure (test-only entropy)";
#if TF_DRBG
    int (*f_seed)(void *, unsigned char *, size_t) = tf_test_random;
    void *p_seed = NULL;
#if defined(MBEDTLS_ENTROPY_C)
    mbedtls_entropy_init(&cl.entropy);
#if !defined(MBEDTLS_ENTROPY_HARDWARE_ALT)
    /* No hardware source in the configuration: register the test source. */
    o->ret = mbedtls_entropy_add_source(&cl.entropy, tf_test_entropy, NULL, 32,
                                        MBEDTLS_ENTROPY_SOURCE_STRONG);
    if (o->ret != 0)
        return -1;
#endif
    f_seed = mbedtls_entropy_func;
    p_seed = &cl.entropy;
#endif
#if defined(MBEDTLS_CTR_DRBG_C)
    mbedtls_ctr_drbg_init(&cl.drbg);
    o->ret = mbedtls_ctr_drbg_seed(&cl.drbg, f_seed, p_seed, pers, sizeof pers - 1);
    *f_rng = mbedtls_ctr_drbg_random;
#else
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (md == NULL)
        md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA512);
    if (md == NULL)
        md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
    mbedtls_hmac_drbg_init(&cl.drbg);
    if (md == NULL) {
        o->what = "TLSFIT_NO_RNG";
        return -1;
    }
    o->ret = mbedtls_hmac_drbg_seed(&cl.drbg, md, f_seed, p_seed, pers, sizeof pers - 1);
    *f_rng = mbedtls_hmac_drbg_random;
#endif
    *p_rng = &cl.drbg;
    return o->ret == 0 ? 0 : -1;
#elif defined(MBEDTLS_PSA_CRYPTO_C) && MBEDTLS_VERSION_NUMBER >= 0x03000000
    (void)o;
    (void)pers;
    *f_rng = mbedtls_psa_get_random;
    *p_rng = MBEDTLS_PSA_RANDOM_STATE;
    return 0;
#else
    (void)pers;
    (void)f_rng;
    (void)p_rng;
    o->what = "TLSFIT_NO_RNG";
    return -1;
#endif
}

/* Parses the trust anchors in place (they stay in flash). */
static int anchors_load(struct outcome *o)
{
    mbedtls_x509_crt_init(&cl.anchors);
    for (size_t i = 0; i < tf_run.anchor_count; i++) {
        int ret = mbedtls_x509_crt_parse_der_nocopy(&cl.anchors, tf_run.anchors[i].der,
                                                    tf_run.anchors[i].len);
        if (ret == 0) {
            o->ca_loaded++;
        } else {
            o->ca_rejected++;
            o->ret = ret;
        }
    }
    if (o->ca_loaded > 0) {
        o->ret = 0;
        return 0;
    }
    if (o->ret == 0)
        o->what = "TLSFIT_NO_ANCHOR";
    return -1;
}

static int tls_setup(struct outcome *o, int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
    mbedtls_ssl_init(&cl.ssl);
    mbedtls_ssl_config_init(&cl.conf);
    o->ret = mbedtls_ssl_config_defaults(&cl.conf, MBEDTLS_SSL_IS_CLIENT,
                                         MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (o->ret != 0)
        return -1;
    mbedtls_ssl_conf_authmode(&cl.conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&cl.conf, &cl.anchors, NULL);
    mbedtls_ssl_conf_rng(&cl.conf, f_rng, p_rng);
#if defined(TLSFIT_MAX_FRAG_LEN) && defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
    /* The header asks for it (tlsfit gen): the server's records stay within the input
     * buffer.  Refused when the length exceeds MBEDTLS_SSL_OUT_CONTENT_LEN. */
    if ((o->ret = mbedtls_ssl_conf_max_frag_len(&cl.conf, TLSFIT_MAX_FRAG_LEN)) != 0)
        return -1;
#endif
    if ((o->ret = mbedtls_ssl_setup(&cl.ssl, &cl.conf)) != 0)
        return -1;
    if ((o->ret = mbedtls_ssl_set_hostname(&cl.ssl, tf_run.sni)) != 0)
        return -1;
    mbedtls_ssl_set_bio(&cl.ssl, NULL, uart_send, uart_recv, NULL);
    return 0;
}

/* Everything before the handshake: PSA, random generator, anchors, TLS. */
static int setup(struct outcome *o)
{
    int (*f_rng)(void *, unsigned char *, size_t) = NULL;
    void *p_rng = NULL;
    o->step = "setup";
#if defined(MBEDTLS_PSA_CRYPTO_C)
    psa_status_t st = psa_crypto_init();
    if (st != PSA_SUCCESS) {
        o->ret = (int)st;
        o->psa_status = 1;
        return -1;
    }
#endif
    if (rng_setup(o, &f_rng, &p_rng) != 0)
        return -1;
    o->step = "ca";
    if (anchors_load(o) != 0)
        return -1;
    o->step = "setup";
    return tls_setup(o, f_rng, p_rng);
}

/* -------------------------------------------------------------- handshake */

static void put_uint(uint32_t v)
{
    char buf[11];
    int i = sizeof buf - 1;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0 && i > 0);
    tf_semi_puts(&buf[i]);
}

/* One console line per state, unbuffered: if QEMU has to be killed, the
 * host still knows how far the handshake got. */
static void note_state(int state)
{
    tf_semi_puts("tlsfit-fw: state ");
    put_uint((uint32_t)state);
    tf_semi_puts("\n");
}

static int handshake(struct outcome *o)
{
    o->step = "handshake";
    uint64_t wait0 = tf_uart_wait_ticks;
    uint64_t t0 = tf_ticks();
    while (!TF_HANDSHAKE_OVER(&cl.ssl)) {
        int state = TF_SSL_STATE(&cl.ssl);
        if (state != o->last_state) {
            uint64_t t = tf_ticks(); /* the console line is not the handshake's work */
            note_state(state);
            t0 += tf_ticks() - t;
            o->last_state = state;
        }
        int ret = mbedtls_ssl_handshake_step(&cl.ssl);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (ret != 0) {
            o->ret = ret;
            o->state = state;
            break;
        }
    }
    uint64_t t1 = tf_ticks();
    o->wait_ticks = tf_uart_wait_ticks - wait0;
    o->ticks = (t1 - t0) - o->wait_ticks;
    if (o->ret != 0)
        return -1;
    o->step = "done";
    return 0;
}

/* ----------------------------------------------------------------- report */

static void put_u64(uint64_t v)
{
    char buf[21];
    int i = sizeof buf - 1;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + (unsigned)(v % 10u));
        v /= 10u;
    } while (v != 0 && i > 0);
    fputs(&buf[i], stdout);
}

static void put_str(const char *key, const char *value)
{
    printf(",\"%s\":", key);
    if (value == NULL) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* What tlsfit_overlay.h added to the header under test (it defines TLSFIT_OVERLAY_x). */
static const char *const overlay_added[] = {
#if defined(TLSFIT_OVERLAY_NO_PLATFORM_ENTROPY)
    "MBEDTLS_NO_PLATFORM_ENTROPY",
#endif
#if defined(TLSFIT_OVERLAY_ENTROPY_HARDWARE_ALT)
    "MBEDTLS_ENTROPY_HARDWARE_ALT",
#endif
#if defined(TLSFIT_OVERLAY_PLATFORM_C)
    "MBEDTLS_PLATFORM_C",
#endif
#if defined(TLSFIT_OVERLAY_PLATFORM_MEMORY)
    "MBEDTLS_PLATFORM_MEMORY",
#endif
#if defined(TLSFIT_OVERLAY_PLATFORM_MS_TIME_ALT)
    "MBEDTLS_PLATFORM_MS_TIME_ALT",
#endif
    NULL
};

static void put_overlay(void)
{
    fputs(",\"overlay\":[", stdout);
    for (size_t k = 0; overlay_added[k] != NULL; k++) {
        printf("%s\"%s\"", k ? "," : "", overlay_added[k]);
    }
    putchar(']');
}

static void put_heap(void)
{
    const struct tf_alloc_stats *h = tf_alloc_get_stats();
    printf(",\"heap_counted\":%s", TF_HEAP_COUNTED ? "true" : "false");
    printf(",\"heap\":{\"peak\":%lu,\"allocs\":%lu,\"frees\":%lu,\"largest\":%lu,"
           "\"failures\":%lu,\"failed_size\":%lu,\"limit\":%lu,\"in_use\":%lu,"
           "\"brk_peak\":%lu,\"size\":%lu}",
           (unsigned long)h->peak, (unsigned long)h->allocs, (unsigned long)h->frees,
           (unsigned long)h->largest, (unsigned long)h->failures,
           (unsigned long)h->failed_size, (unsigned long)h->limit, (unsigned long)h->in_use,
           (unsigned long)tf_heap_brk_peak(), (unsigned long)tf_heap_size());
    const size_t *sizes;
    size_t n = tf_alloc_peak_blocks(&sizes);
    printf(",\"heap_at_peak\":{\"untracked\":%lu,\"blocks\":[",
           (unsigned long)h->peak_untracked);
    for (size_t k = 0; k < n; k++)
        printf("%s%lu", k ? "," : "", (unsigned long)sizes[k]);
    fputs("]}", stdout);
}

/* The TLSFIT-RESULT line.  The stack peaks are read before any printf. */
static void report(const struct outcome *o, size_t setup_peak, size_t handshake_peak)
{
    int ok = o->ret == 0 && o->what == NULL && strcmp(o->step, "done") == 0;
    printf("TLSFIT-RESULT {\"ok\":%s", ok ? "true" : "false");
    put_str("step", o->step);
    put_str("what", o->what);
    printf(",\"ret\":%d,\"psa_status\":%s,\"state\":%d,\"last_state\":%d", o->ret,
           o->psa_status ? "true" : "false", o->state, o->last_state);
    put_str("version", ok ? mbedtls_ssl_get_version(&cl.ssl) : NULL);
    put_str("ciphersuite", ok ? mbedtls_ssl_get_ciphersuite(&cl.ssl) : NULL);
    if (strcmp(o->step, "handshake") == 0 || ok)
        printf(",\"verify_flags\":%lu", (unsigned long)mbedtls_ssl_get_verify_result(&cl.ssl));
    else
        fputs(",\"verify_flags\":null", stdout);
    fputs(",\"ticks\":", stdout);
    put_u64(o->ticks);
    fputs(",\"wait_ticks\":", stdout);
    put_u64(o->wait_ticks);
    printf(",\"uart_timeout\":%s", cl.uart_timed_out ? "true" : "false");
    put_heap();
    printf(",\"stack_peak\":%lu,\"stack_peak_handshake\":%lu,\"stack_size\":%lu",
           (unsigned long)(setup_peak > handshake_peak ? setup_peak : handshake_peak),
           (unsigned long)handshake_peak, (unsigned long)tf_stack_size());
    printf(",\"ca_loaded\":%d,\"ca_rejected\":%d", o->ca_loaded, o->ca_rejected);
    printf(",\"in_content_len\":%d,\"out_content_len\":%d", (int)MBEDTLS_SSL_IN_CONTENT_LEN,
           (int)MBEDTLS_SSL_OUT_CONTENT_LEN);
    put_str("mbedtls", MBEDTLS_VERSION_STRING);
    put_overlay();
    fputs("}\n", stdout);
    fflush(stdout);
}

int main(void)
{
    struct outcome o;
    memset(&o, 0, sizeof o);
    o.state = -1;
    o.last_state = -1;

    tf_ticks_start();
    tf_uart_init();
    tf_test_rng_seed(tf_run.seed);
    install_allocator();

    /* The stack is painted at reset; repainted before the handshake so that
     * its own peak is known too. */
    size_t setup_peak = 0, handshake_peak = 0;
    if (setup(&o) == 0) {
        setup_peak = tf_stack_peak();
        tf_stack_paint();
        if (handshake(&o) == 0)
            (void)mbedtls_ssl_close_notify(&cl.ssl);
        handshake_peak = tf_stack_peak();
    } else {
        setup_peak = tf_stack_peak();
    }
    report(&o, setup_peak, handshake_peak);
    return strcmp(o.step, "done") == 0 ? TF_EXIT_OK : TF_EXIT_FAIL;
}
