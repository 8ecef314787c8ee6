/* tlsfit measure firmware: what the TLS client's two files share --
 * tls_client.c (the flow: set-up, handshake, proof, resumption) and
 * tls_report.c (the TLSFIT-RESULT line): the client's state, how far it got
 * and what happened. */
#ifndef TLS_CLIENT_H
#define TLS_CLIENT_H

#include <stdint.h>

#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#if defined(TLSFIT_CLIENT_IDENTITY)
#include "mbedtls/pk.h"
#endif

#include "tls_harness.h"
#include "../harness/harness.h"
#include "tlsfit_fw.h"
#include "../proof/proof.h"

#include "../harness/resume.h"     /* also TF_SSL_STATE, TF_HANDSHAKE_OVER */
#include "dgram.h"                  /* DTLS: the datagram link over the UART */

/* The counting allocator is mbedTLS's (tlsfit_overlay.h makes sure it can be). */
#define TF_HEAP_COUNTED TF_HEAP_HOOKED

/* The client's state (tls_client.c defines it): static storage, so its size
 * shows in ram_static_bytes the way a device's global TLS context would. */
struct tf_client {
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
#if defined(TLSFIT_RESUME)
    struct tf_resume resume;    /* the saved session, both connections' figures */
#endif
#if defined(TLSFIT_DTLS)
    struct tf_dgram_timer timer;    /* DTLS retransmission (dgram.h) */
#endif
};
extern struct tf_client cl;

/* How far the client got (the result line's "step": tls_report.c names them). */
enum step { STEP_SETUP, STEP_CA, STEP_IDENTITY, STEP_HANDSHAKE, STEP_PROOF, STEP_DONE,
#if defined(TLSFIT_RESUME)
            STEP_RESUME
#endif
};

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

/* Writes the TLSFIT-RESULT line for *o (tls_report.c); the stack peaks are read
 * before it is written. */
void tf_client_report(const struct outcome *o, size_t setup_peak, size_t handshake_peak);

#endif
