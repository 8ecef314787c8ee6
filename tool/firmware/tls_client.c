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
 * Built with a DTLS header (TLSFIT_DTLS; measure --dtls adds it), the UART
 * carries datagrams in frames (dgram.h) and the relay talks UDP to the server;
 * the receive waits with a timeout and the retransmission timer runs on
 * SysTick.
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

#include "tls_client.h"

#include "psk_key.h"

/* The client's state (tls_client.h). */
struct tf_client cl;

/* ---------------------------------------------------------------- UART BIO */

#if !defined(TLSFIT_DTLS)      /* (DTLS: dgram.c's datagram BIO) */

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
#endif

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
#if defined(TLSFIT_RESUME)
    tf_resume_conf(&cl.conf);
#endif
#if defined(TLSFIT_PSK_IDENTITY)
    if ((o->ret = tf_fw_psk(&cl.conf, &o->what)) != 0)
        return -1;
#endif
#if defined(TLSFIT_DTLS)
    tf_dgram_conf(&cl.conf);
#endif
    if ((o->ret = tf_harness_ssl(&cl.ssl, &cl.conf, tf_run.sni)) != 0)
        return -1;
#if defined(TLSFIT_DTLS)
    tf_dgram_bio(&cl.ssl, &cl.timer);     /* datagrams framed over the UART (dgram.h) */
#else
    mbedtls_ssl_set_bio(&cl.ssl, NULL, uart_send, uart_recv, NULL);
#endif
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
#if defined(TLSFIT_RESUME)
        tf_resume_note_state(&cl.resume, state);
#endif
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
#if defined(TLSFIT_DTLS)
    if (tf_dgram.broken)
        o->what = TF_ERROR_NAME(TLSFIT_DGRAM_FRAME);
    else if (o->ret == MBEDTLS_ERR_SSL_TIMEOUT && tf_dgram.received == 0)
        o->what = TF_ERROR_NAME(TLSFIT_DTLS_SILENT);
#endif
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

/* The proof's clock and waits: SysTick ticks, the UART. */
static struct tf_proof_io proof_io(void)
{
    const struct tf_proof_io io = {
        .ctx = NULL,
        .per_ms = tf_ticks_per_ms(),
        .now = proof_now,
        .wait_input = proof_wait_input,
        .received = proof_received,
    };
    return io;
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
    o->step = STEP_PROOF;
    cl.nonblock = 1;
    cl.proof_ran = 1;
    const struct tf_proof_io io = proof_io();
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

/* ------------------------------------------------------------ resumption */

#if defined(TLSFIT_RESUME)
/* One connection's figures (the handshake's ticks, the heap's peak, the bytes). */
static void note_figures(struct tf_conn_figures *c, const struct outcome *o, size_t heap_peak)
{
    c->handshake_ticks = o->ticks;
    c->heap_peak = heap_peak;
    c->bytes_sent = cl.sent;
    c->bytes_received = cl.received;
}

/* Asks the relay for a new server connection (TF_RECONNECT_ASK) and drops what
 * arrives until its answer (TF_RECONNECT_DONE): the old server's last words. */
static int reconnect(void)
{
    static const char ask[] = TF_RECONNECT_ASK, done[] = TF_RECONNECT_DONE;
    if (tf_uart_write(ask, sizeof ask - 1, tf_run.uart_timeout_polls) != sizeof ask - 1)
        return -1;
    size_t matched = 0;
    while (done[matched] != '\0') {
        char c;
        if (tf_uart_read(&c, 1, tf_run.uart_timeout_polls) != 1)
            return -1;
        matched = c == done[matched] ? matched + 1 : (size_t)(c == done[0]);
    }
    cl.sent = cl.received = 0;
    cl.uart_timed_out = 0;
    return 0;
}

/* Saves the proven session, closes, and resumes it on a second connection: the
 * resuming handshake measured like the first, then the proof again
 * (../harness/resume.h).  The first handshake's ticks stay the report's. */
static int resume_session(struct outcome *o)
{
    const struct tf_proof_io io = proof_io();
    struct outcome first = *o;
    o->step = STEP_RESUME;
    cl.nonblock = 1;
    (void)tf_resume_await_ticket(&cl.ssl, &io, tf_run.proof_wait_ms);
    cl.nonblock = 0;
    int rc = tf_resume_save(&cl.ssl, &cl.resume, &o->ret);
    if (rc == TLSFIT_RESUME_NO_SESSION)
        o->what = TF_ERROR_NAME(TLSFIT_RESUME_NO_SESSION);
    if (rc != TF_OK)
        return -1;
    note_figures(&cl.resume.full, o, tf_alloc_get_stats()->peak);
    (void)mbedtls_ssl_close_notify(&cl.ssl);
    if (reconnect() != 0) {
        o->ret = MBEDTLS_ERR_SSL_TIMEOUT;
        return -1;
    }
    tf_alloc_window_start();
    cl.resume.cert_state_seen = 0;
    if ((o->ret = mbedtls_ssl_session_reset(&cl.ssl)) != 0 ||
        (o->ret = tf_harness_hostname(&cl.ssl, tf_run.sni)) != 0 ||
        (o->ret = mbedtls_ssl_set_session(&cl.ssl, &cl.resume.saved)) != 0)
        return -1;
    int ok = handshake(o) == 0;
    cl.resume.tried = ok;
    ok = ok && proof(o) == 0;
    note_figures(&cl.resume.resumed, o, tf_alloc_get_stats()->window_peak);
    o->ticks = first.ticks;
    o->wait_ticks = first.wait_ticks;
    if (ok && !tf_resume_accepted(&cl.resume)) {
        o->step = STEP_RESUME;
        o->what = TF_ERROR_NAME(TLSFIT_RESUME_REFUSED);
    }
    return ok && o->what == NULL ? 0 : -1;
}
#endif

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
        if (handshake(&o) == 0 && proof(&o) == 0
#if defined(TLSFIT_RESUME)
            && resume_session(&o) == 0
#endif
            )
            (void)mbedtls_ssl_close_notify(&cl.ssl);
        handshake_peak = tf_stack_peak();
    } else {
        setup_peak = tf_stack_peak();
    }
    tf_client_report(&o, setup_peak, handshake_peak);
    return o.step == STEP_DONE ? TF_EXIT_OK : TF_EXIT_FAIL;
}
