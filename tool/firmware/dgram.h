/*
 * dgram.h -- the measure firmware's datagram link for DTLS (a header from
 * `tlsfit gen` for a DTLS server defines TLSFIT_DTLS; `measure --dtls` adds it
 * for a header that does not, such as mbedTLS's own presets).
 *
 * UART0 is one TCP byte stream to the relay (tool/tlsfit/target/dgramrelay.py),
 * which talks UDP to the server on the host.  The stream carries datagrams as
 * frames, in both directions:
 *
 *     frame = length (2 bytes, big-endian, 1..65535) || that many bytes
 *
 * Invariants (the relay keeps the same, see DatagramRelay there):
 *   - one frame is exactly one UDP datagram, never split or merged: the relay
 *     sends each frame the firmware writes as one datagram and frames each
 *     datagram it receives whole;
 *   - no empty frame: length 0 never appears (mbedTLS sends no empty datagram;
 *     the relay drops an empty one it receives) -- the firmware reports a 0
 *     length as TLSFIT_DGRAM_FRAME;
 *   - frames follow each other back to back; the only unframed bytes are the
 *     pre-shared key's frame (psk_key.c), which the relay sends before the first
 *     datagram frame;
 *   - a frame longer than the buffer mbedTLS reads into is truncated to it and
 *     the rest discarded, as recv() does with a UDP datagram.
 *
 * The receive waits with a timeout (mbedtls_ssl_recv_timeout_t) on the
 * target's clock (SysTick, tf_ticks) and sleeps while it waits (WFI,
 * tf_uart_wait_rx), so the waits are time, not instructions; their ticks are
 * added to tf_uart_wait_ticks, which the handshake's instruction count leaves
 * out.  The retransmission timer (mbedtls_ssl_set_timer_cb) runs on the same
 * clock.
 */
#ifndef TF_FW_DGRAM_H
#define TF_FW_DGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/ssl.h"

#if defined(TLSFIT_DTLS)

/* The handshake's retransmission timeouts (mbedtls_ssl_conf_handshake_timeout):
 * 1 s doubling up to 8 s, so a server that never answers ends the handshake
 * after 1 + 2 + 4 + 8 = 15 s of the target's time (TLSFIT_DTLS_SILENT). */
#define TF_DGRAM_RETRANSMIT_MIN_MS 1000u
#define TF_DGRAM_RETRANSMIT_MAX_MS 8000u
/* A read with no timeout (0: after the handshake, mbedTLS's read_timeout)
 * gives up after this long. */
#define TF_DGRAM_IDLE_MS 20000u

/* The retransmission timer's state (mbedtls_ssl_set_timer_cb's context). */
struct tf_dgram_timer {
    uint64_t start;         /* tf_ticks() when set */
    uint32_t int_ms;        /* intermediate delay */
    uint32_t fin_ms;        /* final delay; 0: cancelled */
};

/* What went over the link (the result line's "dgram"). */
struct tf_dgram_stats {
    uint32_t sent;          /* datagrams written */
    uint32_t received;      /* datagrams read */
    uint32_t timeouts;      /* receives that ended by their timeout */
    uint32_t truncated;     /* datagrams longer than the buffer */
    int broken;             /* a frame was cut short or empty: TLSFIT_DGRAM_FRAME */
};
extern struct tf_dgram_stats tf_dgram;

/* The retransmission timeouts on conf (before mbedtls_ssl_setup(), which
 * starts the handshake's timeout from them). */
void tf_dgram_conf(mbedtls_ssl_config *conf);
/* The BIO (send, recv-with-timeout) and the timer on ssl. */
void tf_dgram_bio(mbedtls_ssl_context *ssl, struct tf_dgram_timer *timer);

#endif
#endif
