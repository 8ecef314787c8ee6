/* tlsfit measure firmware: the TLSFIT-RESULT line, one line of JSON on the
 * semihosting console (target/outcome.py and target/measure.py read it): how far
 * the client got and why it stopped, the proof, the resumption (TLSFIT_RESUME),
 * the heap and its make-up at the peak, the stack, and the build's facts. */
#include "tls_client.h"

#include "mbedtls/version.h"

/* Where TLS's random bytes come from, for the result line ("rng").  Every source
 * bottoms out in test_entropy.c's seeded generator: TEST ONLY, never a product's. */
#if MBEDTLS_VERSION_MAJOR >= 4 && defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
#define TF_RNG_SOURCE "psa-external: the test-only generator (no TRNG in QEMU)"
#elif MBEDTLS_VERSION_MAJOR >= 4
#define TF_RNG_SOURCE "psa seeded by mbedtls_platform_get_entropy from the test-only generator"
#elif defined(TF_RNG_DRBG)
#define TF_RNG_SOURCE "drbg seeded from the test-only generator"
#elif defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
#define TF_RNG_SOURCE "psa-external: the test-only generator (no TRNG in QEMU)"
#elif defined(TLSFIT_EXTERNAL_RNG)
#define TF_RNG_SOURCE "external f_rng: the test-only generator (no TRNG in QEMU)"
#else
#define TF_RNG_SOURCE "none"
#endif

/* The result line's "step", by enum step. */
static const char *const step_names[] = {"setup", "ca", "identity", "handshake", "proof",
                                         "done",
#if defined(TLSFIT_RESUME)
                                         "resume",
#endif
};
#if defined(TLSFIT_RESUME)
#define TF_SHOOK_STEP(step) ((step) == STEP_PROOF || (step) == STEP_RESUME)
#else
#define TF_SHOOK_STEP(step) ((step) == STEP_PROOF)
#endif

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
    /* 4.x: tlsfit_overlay_crypto.h and tlsfit_overlay4.h ("-" for an option taken out) */
#if defined(TLSFIT_OVERLAY_NO_BUILTIN_GET_ENTROPY)
    "-MBEDTLS_PSA_BUILTIN_GET_ENTROPY",
#endif
#if defined(TLSFIT_OVERLAY_PSA_DRIVER_GET_ENTROPY)
    "MBEDTLS_PSA_DRIVER_GET_ENTROPY",
#endif
#if defined(TLSFIT_OVERLAY_NO_FS_IO)
    "-MBEDTLS_FS_IO",
#endif
#if defined(TLSFIT_OVERLAY_NO_PSA_ITS_FILE_C)
    "-MBEDTLS_PSA_ITS_FILE_C",
#endif
#if defined(TLSFIT_OVERLAY_NO_PSA_CRYPTO_STORAGE_C)
    "-MBEDTLS_PSA_CRYPTO_STORAGE_C",
#endif
#if defined(TLSFIT_OVERLAY_NO_NET_C)
    "-MBEDTLS_NET_C",
#endif
#if defined(TLSFIT_OVERLAY_NO_TIMING_C)
    "-MBEDTLS_TIMING_C",
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

#if defined(TLSFIT_RESUME)
static void put_figures(const char *key, const struct tf_conn_figures *c)
{
    put_key(key);
    tf_out_str("{\"ticks\":");
    tf_out_u64(c->handshake_ticks);
    put_uint("heap_peak", c->heap_peak);
    put_uint("sent", c->bytes_sent);
    put_uint("received", c->bytes_received);
    tf_out_char('}');
}

/* "resumption": the mode, whether the server resumed, both connections' figures
 * ("full" / "resumed" null until that connection was measured). */
static void put_resumption(void)
{
    const struct tf_resume *r = &cl.resume;
    put_key("resumption");
    tf_out_str("{\"mode\":");
    tf_out_json_str(r->mode);
    put_bool("accepted", tf_resume_accepted(r));
    put_bool("tried", r->tried);
    if (r->mode != NULL)
        put_figures("full", &r->full);
    else
        put_str("full", NULL);
    if (r->tried)
        put_figures("resumed", &r->resumed);
    else
        put_str("resumed", NULL);
    tf_out_char('}');
}
#endif

#if defined(TLSFIT_DTLS)
/* "dgram": the datagram link's counts (dgram.h). */
static void put_dgram(void)
{
    tf_out_str(",\"dgram\":{\"sent\":");
    tf_out_u64(tf_dgram.sent);
    put_uint("received", tf_dgram.received);
    put_uint("timeouts", tf_dgram.timeouts);
    put_uint("truncated", tf_dgram.truncated);
    put_bool("broken", tf_dgram.broken);
    tf_out_char('}');
}
#endif

/* The TLSFIT-RESULT line (tls_client.h). */
void tf_client_report(const struct outcome *o, size_t setup_peak, size_t handshake_peak)
{
    int ok = o->ret == 0 && o->what == NULL && o->step == STEP_DONE;
    int shook = ok || TF_SHOOK_STEP(o->step);    /* the handshake completed */
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
#if defined(TLSFIT_DTLS)
    put_dgram();
#endif
#if defined(TLSFIT_RESUME)
    put_resumption();
#endif
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

