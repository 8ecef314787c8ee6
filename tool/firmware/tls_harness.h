/* tlsfit measure firmware: the pieces of the TLS client image and what they
 * share.  Built by tool/tlsfit/target/measure.py against one mbedTLS configuration
 * (MBEDTLS_CONFIG_FILE) and the cross-built mbedTLS libraries:
 *
 *   tls_client.c     main(): one verified TLS handshake over UART0, stepped
 *                    state by state, the proof that the server accepted the
 *                    session (../proof/proof.c), with TLSFIT_RESUME a second
 *                    connection resuming the session (../harness/resume.h)
 *   tls_report.c     the TLSFIT-RESULT line (tls_client.h: what the two share)
 *   alloc.c          the counting allocator behind mbedtls_calloc/free
 *   test_entropy.c   the firmware's tf_random_source (../harness/harness.h): a
 *                    seeded pseudo-random generator posing as the entropy source
 *                    and as the device's TRNG (QEMU's boards have none) -- TEST
 *                    ONLY, it makes every key predictable
 *   tls_platform.c   the ms clock a device supplies (MBEDTLS_PLATFORM_MS_TIME_ALT)
 *   ../harness/      the TLS client set-up shared with the verify client: the
 *                    random generator, the platform hooks, the configuration
 *   run_params.c     generated per run: trust anchors, server name, heap
 *                    limit, seed, and with TLSFIT_CLIENT_IDENTITY the device
 *                    certificate and key (struct tf_run_params below)
 * plus the shared runtime (startup.c, uart.c, stack.c, ticks.c).
 */
#ifndef TLS_HARNESS_H
#define TLS_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* ---- run parameters (run_params.c, written by measure.py for each run) ---- */

/* One trust anchor, DER. */
struct tf_cert_der {
    const unsigned char *der;
    size_t len;
};

struct tf_run_params {
    const char *sni;                      /* server name sent in SNI and checked in the certificate */
    const struct tf_cert_der *anchors;    /* trust anchors, parsed in place (no copy) */
    size_t anchor_count;
    size_t heap_limit;                    /* cap on the bytes mbedTLS may hold; 0 = no cap */
    uint32_t seed[4];                     /* seed of the test-only random generator */
    uint32_t uart_timeout_polls;          /* UART read give-up; 0 = TF_UART_DEFAULT_POLLS */
    /* the proof after the handshake (tool/proof/proof.h) */
    uint32_t proof_kind;                  /* enum tf_proof_kind */
    const unsigned char *proof_send;      /* TF_PROOF_BYTES: the bytes sent ... */
    size_t proof_send_len;
    const unsigned char *proof_expect;    /* ... and the reply's expected start */
    size_t proof_expect_len;
    uint32_t proof_wait_ms;               /* post-handshake flight / no-alert window */
    uint32_t proof_reply_ms;              /* how long the reply may take */
#if defined(TLSFIT_CLIENT_IDENTITY)
    /* The device's identity (measure --client-cert/--client-key; the macro is set
     * only for such builds, so other images stay byte for byte as they were).
     * The key is a TEST key embedded for the measurement only: a device loads
     * its own from protected storage or keeps it in a secure element. */
    const unsigned char *own_cert;        /* the device certificate, DER */
    size_t own_cert_len;
    const unsigned char *own_key;         /* its private key, DER (PKCS#8, SEC1 or PKCS#1) */
    size_t own_key_len;
#endif
};

extern const struct tf_run_params tf_run;

/* ---- alloc.c: counting allocator ----
 * tf_calloc/tf_free have the signatures mbedtls_platform_set_calloc_free()
 * wants.  Every block carries an 8-byte header with its size, so the
 * statistics count exactly the bytes mbedTLS asked for (the underlying
 * newlib malloc adds its own overhead, see tf_heap_brk_peak()). */
struct tf_alloc_stats {
    size_t in_use;        /* bytes held now */
    size_t peak;          /* most bytes held at once */
    size_t largest;       /* largest single block granted */
    size_t limit;         /* 0 = none */
    size_t failed_size;   /* size of the first refused request (0: none) */
    uint32_t allocs;      /* granted requests */
    uint32_t frees;
    uint32_t failures;    /* refused requests: over the limit or out of memory */
    size_t peak_untracked; /* bytes of the peak held in blocks beyond the table */
#if defined(TLSFIT_RESUME)
    size_t window_peak;   /* most bytes held since tf_alloc_window_start() */
#endif
};

/* How many held blocks the allocator follows one by one (the peak's make-up). */
#define TF_ALLOC_TRACKED 64
/* How many allocation sites it charges bytes to (a handshake has a few dozen). */
#define TF_ALLOC_SITES 96

/* Caps the bytes held at once; a request that would go beyond it gets NULL
 * and is counted as a failure.  0 removes the cap. */
void tf_alloc_set_limit(size_t limit);
void *tf_calloc(size_t n, size_t size);
void tf_free(void *p);
const struct tf_alloc_stats *tf_alloc_get_stats(void);
/* The sizes of the blocks held at the peak (in allocation-table order);
 * returns their number and points *sizes at them. */
size_t tf_alloc_peak_blocks(const size_t **sizes);
/* The allocation sites holding bytes at the peak: returns their number,
 * points *pcs at each site's address (a return address into the mbedTLS
 * function that called mbedtls_calloc, Thumb bit set) and *bytes at what its
 * blocks held then. */
size_t tf_alloc_peak_sites(const uintptr_t **pcs, const size_t **bytes);

#if defined(TLSFIT_RESUME)
/* Starts a new window for stats.window_peak (the resuming connection's peak). */
void tf_alloc_window_start(void);

/* The firmware's second connection over the one UART (measure --resume): it asks
 * the relay with ASK between two records, the relay answers DONE once the new
 * server connection is open (tool/tlsfit/target/reconnect.py holds the same
 * two lines). */
#define TF_RECONNECT_ASK "~tlsfit-reconnect\n"
#define TF_RECONNECT_DONE "~tlsfit-upstream\n"
#endif

/* ---- test_entropy.c: TEST-ONLY randomness (never ship this) ----
 * Seeds the generator behind tf_random_source (../harness/harness.h). */
void tf_test_rng_seed(const uint32_t seed[4]);

#endif
