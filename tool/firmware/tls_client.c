/* tlsfit measure firmware: one verified TLS client handshake over UART0,
 * measured, then the proof that the server accepted the session
 * (../proof/proof.h: its post-handshake flight, then, by tf_run.proof_kind,
 * an MQTT CONNECT, an HTTP HEAD, given bytes, or no alert within the window).
 * Built by tool/tlsfit/target/measure.py with the configuration under test
 * (MBEDTLS_CONFIG_FILE, mbedTLS 3.6 or 2.28) and run under QEMU, whose
 * UART0 is a TCP connection to the server (through measure.py's relay).
 *
 * What it measures (all reported in one TLSFIT-RESULT line of JSON on the
 * semihosting console; the exit code is 0 for a completed handshake, 1
 * otherwise):
 *   heap    every mbedtls_calloc/free goes through alloc.c (peak bytes,
 *           allocation count, largest block; tf_run.heap_limit caps it);
 *           the handshake and the proof
 *   stack   painted at reset (startup.c), deepest use read at the end
 *   time    SysTick ticks spent inside the handshake alone minus the ticks spent
 *           waiting for UART input; with QEMU -icount shift=0 a tick is
 *           1e9 / TF_CPU_CLOCK_HZ instructions
 *   state   the handshake is driven with mbedtls_ssl_handshake_step(); the
 *           state before each step goes to the console as
 *           "tlsfit-fw: state N" and, on failure, the state whose step failed
 *           is reported (measure.py names it from the tree's ssl.h)
 *
 * The header may name the groups to offer: TLSFIT_GROUPS (3.x, a list of
 * MBEDTLS_SSL_IANA_TLS_GROUP_* ending with MBEDTLS_SSL_IANA_TLS_GROUP_NONE)
 * or TLSFIT_CURVES (2.28, MBEDTLS_ECP_DP_* ending with MBEDTLS_ECP_DP_NONE);
 * the harness applies it like TLSFIT_MAX_FRAG_LEN (../harness/harness.h: the
 * random generator, platform hooks and client configuration shared with the
 * verify client).
 *
 * The proof's waits sleep (tf_uart_wait_rx), so they do not count as
 * instructions; its reads are non-blocking (uart_recv answers WANT_READ
 * while nothing is waiting).  The server closing the TCP connection cannot
 * be seen on a UART: the result line's proof.tx_bytes (what the firmware had
 * written when the proof ended) lets measure.py tell, from the relay, whether
 * the server hung up before the firmware's close_notify.
 *
 * Copes with any consistent configuration: optional parts are behind
 * #if defined(...).  The trust anchors, server name, heap limit and the
 * test-only random seed come from run_params.c (struct tf_run_params).
 *
 * Built with TLSFIT_CLIENT_IDENTITY (measure --client-cert/--client-key), it
 * also parses the device certificate (in place, it stays in flash) and key
 * from run_params.c and presents them with mbedtls_ssl_conf_own_cert (step
 * "identity"): a server that asks for a client certificate gets it and the
 * handshake is signed with the key.  The heap the parsed key holds counts.
 *
 * Built with a PSK header (TLSFIT_PSK_IDENTITY), it reads the pre-shared key
 * from the UART before the handshake (psk_key.c: the relay sends it; it is
 * never in the image), and a header without X.509 loads no anchors.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS /* 3.x: ssl->state, for the failing state */

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
#if !defined(MBEDTLS_X509_CRT_PARSE_C) && !defined(TLSFIT_PSK_IDENTITY)
#error "tlsfit measure: MBEDTLS_X509_CRT_PARSE_C is not defined, the server cannot be verified (and the header is no PSK header: no TLSFIT_PSK_IDENTITY)"
#endif
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(TLSFIT_CURVES) && !defined(TLSFIT_GROUPS)
#error "tlsfit measure: TLSFIT_CURVES is the mbedTLS 2.28 group list; mbedTLS 3.x takes TLSFIT_GROUPS (MBEDTLS_SSL_IANA_TLS_GROUP_*)"
#endif
#if MBEDTLS_VERSION_NUMBER < 0x03000000 && defined(TLSFIT_GROUPS) && !defined(TLSFIT_CURVES)
#error "tlsfit measure: TLSFIT_GROUPS is the mbedTLS 3.x group list; mbedTLS 2.28 takes TLSFIT_CURVES (MBEDTLS_ECP_DP_*)"
#endif

#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#if defined(TLSFIT_CLIENT_IDENTITY)
#include "mbedtls/pk.h"
#endif

#include "psk_key.h"
#include "tls_harness.h"
#include "../harness/harness.h"
#include "tlsfit_fw.h"
#include "../proof/proof.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define TF_SSL_STATE(ssl) ((ssl)->MBEDTLS_PRIVATE(state))
#define TF_HANDSHAKE_OVER(ssl) mbedtls_ssl_is_handshake_over(ssl)
#else
#define TF_SSL_STATE(ssl) ((ssl)->state)
#define TF_HANDSHAKE_OVER(ssl) ((ssl)->state == MBEDTLS_SSL_HANDSHAKE_OVER)
#endif

/* The counting allocator is mbedTLS's (tlsfit_overlay.h makes sure it can be). */
#define TF_HEAP_COUNTED TF_HEAP_HOOKED

/* Where TLS's random bytes come from, for the result line ("rng").  Every source
 * bottoms out in test_entropy.c's seeded generator: TEST ONLY, never a product's. */
#if defined(TF_RNG_DRBG)
#define TF_RNG_SOURCE "drbg seeded from the test-only generator"
#elif defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
#define TF_RNG_SOURCE "psa-external: the test-only generator (no TRNG in QEMU)"
#elif defined(TLSFIT_EXTERNAL_RNG)
#define TF_RNG_SOURCE "external f_rng: the test-only generator (no TRNG in QEMU)"
#else
#define TF_RNG_SOURCE "none"
#endif

/* The client's state: static, so its size shows in ram_static_bytes the way
 * a device's global TLS context would. */
static struct {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt anchors;
#if defined(TLSFIT_CLIENT_IDENTITY)
    mbedtls_x509_crt own_cert;
    mbedtls_pk_context own_key;
#endif
    struct tf_rng rng;
    int uart_timed_out;
    int nonblock;               /* the proof: uart_recv answers WANT_READ when idle */
    unsigned long received;     /* bytes read from the UART */
    unsigned long sent;         /* bytes written to the UART */
    int proof_ran;
    struct tf_proof_result proof;
    unsigned long proof_tx;     /* bytes written when the proof ended */
} cl;

/* How far the client got (the result line's "step"). */
enum step { STEP_SETUP, STEP_CA, STEP_IDENTITY, STEP_HANDSHAKE, STEP_PROOF, STEP_DONE };
static const char *const step_names[] = {"setup", "ca", "identity", "handshake", "proof",
                                         "done"};

/* What happened, for the result line. */
struct outcome {
    enum step step;
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
    cl.sent += n;
    return n > 0 ? (int)n : MBEDTLS_ERR_SSL_TIMEOUT;
}

/* Blocks for all `len` bytes (mbedTLS asks for what it needs); a timeout is
 * sticky, so a short read is not followed by a second full wait. */
static int uart_recv(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    if (cl.uart_timed_out)
        return MBEDTLS_ERR_SSL_TIMEOUT;
    if (cl.nonblock && !tf_uart_rx_ready())
        return MBEDTLS_ERR_SSL_WANT_READ;
    size_t n = tf_uart_read(buf, len, tf_run.uart_timeout_polls);
    cl.received += n;
    if (n < len)
        cl.uart_timed_out = 1;
    return n > 0 ? (int)n : MBEDTLS_ERR_SSL_TIMEOUT;
}

/* ------------------------------------------------------------------ setup */

static void install_allocator(void)
{
#if TF_HEAP_COUNTED
    tf_alloc_set_limit(tf_run.heap_limit);
#endif
    tf_harness_allocator(tf_calloc, tf_free);
}

/* Seeds the random generator TLS uses (the harness's, from the test-only source). */
static int rng_setup(struct outcome *o)
{
    static const unsigned char pers[] = "tlsfit measure (test-only entropy)";
    tf_rng_init(&cl.rng);
    int err = tf_rng_seed(&cl.rng, pers, sizeof pers - 1, &o->ret);
#if TF_RNG_MAY_BE_MISSING
    if (err == TLSFIT_NO_RNG)
        o->what = TF_ERROR_NAME(TLSFIT_NO_RNG);
#endif
    return err == TF_OK ? 0 : -1;
}

/* Parses the trust anchors in place (they stay in flash); none for a header
 * without X.509 (PSK only: the key authenticates the server). */
static int anchors_load(struct outcome *o)
{
#if !defined(MBEDTLS_X509_CRT_PARSE_C)
    (void)o;
    return 0;
#else
    mbedtls_x509_crt_init(&cl.anchors);
#if defined(TLSFIT_PSK_IDENTITY)
    if (tf_run.anchor_count == 0)
        return 0;               /* the pre-shared key alone authenticates the server */
#endif
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
        o->what = TF_ERROR_NAME(TLSFIT_NO_ANCHOR);
    return -1;
#endif
}

#if defined(TLSFIT_CLIENT_IDENTITY)
/* Parses the device certificate (in place) and key; presented in tls_setup(). */
static int identity_load(struct outcome *o)
{
    mbedtls_x509_crt_init(&cl.own_cert);
    mbedtls_pk_init(&cl.own_key);
    o->ret = mbedtls_x509_crt_parse_der_nocopy(&cl.own_cert, tf_run.own_cert,
                                               tf_run.own_cert_len);
    if (o->ret != 0)
        return -1;
#if !defined(MBEDTLS_PK_PARSE_C)
    o->what = TF_ERROR_NAME(TLSFIT_NO_PK_PARSE);
    return -1;
#else
    o->ret = tf_harness_parse_key(&cl.own_key, tf_run.own_key, tf_run.own_key_len, &cl.rng);
    return o->ret == 0 ? 0 : -1;
#endif
}
#endif

static int tls_setup(struct outcome *o)
{
    mbedtls_ssl_init(&cl.ssl);
    mbedtls_ssl_config_init(&cl.conf);
    if ((o->ret = tf_harness_conf(&cl.conf, &cl.anchors, &cl.rng)) != 0)
        return -1;
#if defined(TLSFIT_CLIENT_IDENTITY)
    if ((o->ret = mbedtls_ssl_conf_own_cert(&cl.conf, &cl.own_cert, &cl.own_key)) != 0)
        return -1;
#endif
#if defined(TLSFIT_PSK_IDENTITY)
    if ((o->ret = tf_fw_psk(&cl.conf, &o->what)) != 0)
        return -1;
#endif
    if ((o->ret = tf_harness_ssl(&cl.ssl, &cl.conf, tf_run.sni)) != 0)
        return -1;
    mbedtls_ssl_set_bio(&cl.ssl, NULL, uart_send, uart_recv, NULL);
    return 0;
}

/* Everything before the handshake: PSA, random generator, anchors, the
 * device's identity (TLSFIT_CLIENT_IDENTITY), TLS. */
static int setup(struct outcome *o)
{
    o->step = STEP_SETUP;
    int st = tf_crypto_start();
    if (st != 0) {
        o->ret = st;
        o->psa_status = 1;
        return -1;
    }
    if (rng_setup(o) != 0)
        return -1;
    o->step = STEP_CA;
    if (anchors_load(o) != 0)
        return -1;
#if defined(TLSFIT_CLIENT_IDENTITY)
    o->step = STEP_IDENTITY;
    if (identity_load(o) != 0)
        return -1;
#endif
    o->step = STEP_SETUP;
    return tls_setup(o);
}

/* -------------------------------------------------------------- handshake */

/* One console line per state, unbuffered: if QEMU has to be killed, the
 * host still knows how far the handshake got. */
static void note_state(int state)
{
    tf_out_str("tlsfit-fw: state ");
    tf_out_i32(state);
    tf_out_char('\n');
    tf_out_flush();
}

static int handshake(struct outcome *o)
{
    o->step = STEP_HANDSHAKE;
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
    return o->ret != 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ proof */

static uint64_t proof_now(void *ctx)
{
    (void)ctx;
    return tf_ticks();
}

static int proof_wait_input(void *ctx, uint64_t deadline)
{
    (void)ctx;
    return tf_uart_wait_rx(deadline);
}

static unsigned long proof_received(void *ctx)
{
    (void)ctx;
    return cl.received;
}

/* The proof that the server accepted the session (tf_run.proof_*). */
static int proof(struct outcome *o)
{
    const struct tf_proof_spec spec = {
        .kind = (enum tf_proof_kind)tf_run.proof_kind,
        .send = tf_run.proof_send,
        .send_len = tf_run.proof_send_len,
        .expect = tf_run.proof_expect,
        .expect_len = tf_run.proof_expect_len,
        .host = tf_run.sni,
        .wait_ms = tf_run.proof_wait_ms,
        .reply_ms = tf_run.proof_reply_ms,
    };
    const struct tf_proof_io io = {
        .ctx = NULL,
        .per_ms = tf_ticks_per_ms(),
        .now = proof_now,
        .wait_input = proof_wait_input,
        .received = proof_received,
    };
    o->step = STEP_PROOF;
    cl.nonblock = 1;
    cl.proof_ran = 1;
    int rc = tf_proof_run(&cl.ssl, &spec, &io, &cl.proof);
    cl.nonblock = 0;
    cl.proof_tx = cl.sent;
    if (rc != 0) {
        o->ret = cl.proof.ret;
        return -1;
    }
    o->step = STEP_DONE;
    return 0;
}

/* ----------------------------------------------------------------- report */

/* ,"key": */
static void put_key(const char *key)
{
    tf_out_str(",\"");
    tf_out_str(key);
    tf_out_str("\":");
}

static void put_str(const char *key, const char *value)
{
    put_key(key);
    tf_out_json_str(value);
}

static void put_uint(const char *key, uint64_t value)
{
    put_key(key);
    tf_out_u64(value);
}

static void put_int(const char *key, int value)
{
    put_key(key);
    tf_out_i32(value);
}

static void put_bool(const char *key, int value)
{
    put_key(key);
    tf_out_str(value ? "true" : "false");
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
    tf_out_str(",\"overlay\":[");
    for (size_t k = 0; overlay_added[k] != NULL; k++) {
        if (k)
            tf_out_char(',');
        tf_out_json_str(overlay_added[k]);
    }
    tf_out_char(']');
}

static void put_heap(void)
{
    const struct tf_alloc_stats *h = tf_alloc_get_stats();
    put_bool("heap_counted", TF_HEAP_COUNTED);
    tf_out_str(",\"heap\":{\"peak\":");
    tf_out_u64(h->peak);
    put_uint("allocs", h->allocs);
    put_uint("frees", h->frees);
    put_uint("largest", h->largest);
    put_uint("failures", h->failures);
    put_uint("failed_size", h->failed_size);
    put_uint("limit", h->limit);
    put_uint("in_use", h->in_use);
    put_uint("brk_peak", tf_heap_brk_peak());
    put_uint("size", tf_heap_size());
    tf_out_str("},\"heap_at_peak\":{\"untracked\":");
    tf_out_u64(h->peak_untracked);
    tf_out_str(",\"blocks\":[");
    const size_t *sizes;
    size_t n = tf_alloc_peak_blocks(&sizes);
    for (size_t k = 0; k < n; k++) {
        if (k)
            tf_out_char(',');
        tf_out_u64(sizes[k]);
    }
    /* "sites": [[address, bytes], ...] */
    const uintptr_t *pcs;
    const size_t *bytes;
    n = tf_alloc_peak_sites(&pcs, &bytes);
    tf_out_str("],\"sites\":[");
    for (size_t k = 0; k < n; k++) {
        if (k)
            tf_out_char(',');
        tf_out_char('[');
        tf_out_u64(pcs[k]);
        tf_out_char(',');
        tf_out_u64(bytes[k]);
        tf_out_char(']');
    }
    tf_out_str("]}");
}

/* "proof": what ran after the handshake and how it ended (null before). */
static void put_proof(void)
{
    static const char hex[] = "0123456789abcdef";
    const struct tf_proof_result *r = &cl.proof;
    put_str("proof_kind", tf_proof_label((enum tf_proof_kind)tf_run.proof_kind));
    put_key("proof");
    if (!cl.proof_ran) {
        tf_out_str("null");
        return;
    }
    tf_out_str("{\"outcome\":");
    tf_out_json_str(tf_proof_outcome_name(r->outcome));
    put_int("ret", r->ret);
    put_int("alert", r->alert);
    put_bool("flight", r->flight);
    put_int("mqtt_code", r->mqtt_code);
    put_uint("sent", r->sent);
    put_uint("elapsed_ticks", r->elapsed);
    put_uint("tx_bytes", cl.proof_tx);
    put_key("reply_hex");
    tf_out_char('"');
    for (size_t k = 0; k < r->reply_len; k++) {
        tf_out_char(hex[r->reply[k] >> 4]);
        tf_out_char(hex[r->reply[k] & 0xFu]);
    }
    tf_out_str("\"}");
}

/* The TLSFIT-RESULT line.  The stack peaks are read before it is written. */
static void report(const struct outcome *o, size_t setup_peak, size_t handshake_peak)
{
    int ok = o->ret == 0 && o->what == NULL && o->step == STEP_DONE;
    int shook = ok || o->step == STEP_PROOF;    /* the handshake completed */
    tf_out_str("TLSFIT-RESULT {\"ok\":");
    tf_out_str(ok ? "true" : "false");
    put_str("step", step_names[o->step]);
    put_str("what", o->what);
    put_int("ret", o->ret);
    put_bool("psa_status", o->psa_status);
    put_int("state", o->state);
    put_int("last_state", o->last_state);
    put_str("version", shook ? mbedtls_ssl_get_version(&cl.ssl) : NULL);
    put_str("ciphersuite", shook ? mbedtls_ssl_get_ciphersuite(&cl.ssl) : NULL);
    if (o->step == STEP_HANDSHAKE || shook)
        put_uint("verify_flags", mbedtls_ssl_get_verify_result(&cl.ssl));
    else
        put_str("verify_flags", NULL);
    put_uint("ticks", o->ticks);
    put_uint("wait_ticks", o->wait_ticks);
    put_bool("uart_timeout", cl.uart_timed_out);
    put_proof();
    put_heap();
    put_uint("stack_peak", setup_peak > handshake_peak ? setup_peak : handshake_peak);
    put_uint("stack_peak_handshake", handshake_peak);
    put_uint("stack_size", tf_stack_size());
    put_int("ca_loaded", o->ca_loaded);
    put_int("ca_rejected", o->ca_rejected);
    put_int("in_content_len", MBEDTLS_SSL_IN_CONTENT_LEN);
    put_int("out_content_len", MBEDTLS_SSL_OUT_CONTENT_LEN);
    put_str("mbedtls", MBEDTLS_VERSION_STRING);
    put_str("rng", TF_RNG_SOURCE);
    put_overlay();
    tf_out_str("}\n");
    tf_out_flush();
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
     * its own peak (with the proof's) is known too. */
    size_t setup_peak = 0, handshake_peak = 0;
    if (setup(&o) == 0) {
        setup_peak = tf_stack_peak();
        tf_stack_paint();
        if (handshake(&o) == 0 && proof(&o) == 0)
            (void)mbedtls_ssl_close_notify(&cl.ssl);
        handshake_peak = tf_stack_peak();
    } else {
        setup_peak = tf_stack_peak();
    }
    report(&o, setup_peak, handshake_peak);
    return o.step == STEP_DONE ? TF_EXIT_OK : TF_EXIT_FAIL;
}
