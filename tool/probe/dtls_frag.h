/*
 * dtls_frag.h -- DTLS 1.2 wire format, pure functions over bytes (RFC 6347
 * sections 4.1 and 4.2.2): splitting a datagram into records, a record body
 * into handshake fragments, and reassembling fragments into one handshake
 * message in TLS form (4-byte header), so the TLS decoders of parse.h read
 * it unchanged.
 *
 * Nothing here does I/O; dtls.c drives it.  The fuzz target
 * tests/fuzz/fuzz_dtls.c feeds it arbitrary datagrams.
 */
#ifndef TF_DTLS_FRAG_H
#define TF_DTLS_FRAG_H

#include <stddef.h>
#include <stdint.h>

#define TF_DTLS_RECORD_HDR 13   /* type, version, epoch, 48-bit sequence number, length */
#define TF_DTLS_HS_HDR 12       /* msg_type, length, message_seq, fragment_offset, fragment_length */
#define TF_DTLS_CT_CID 25       /* tls12_cid records (RFC 9146), only after the handshake */

#define TF_DTLS_V12 0xFEFD
#define TF_DTLS_V10 0xFEFF

/* One record of a datagram; body points into the datagram. */
typedef struct {
    uint8_t type;
    uint16_t version;
    uint16_t epoch;
    uint64_t seq;
    const uint8_t *body;
    size_t len;
} tf_drec;

/*
 * The record at dg[*at..]: fills r and advances *at past it.  Returns 0, 1
 * when *at == dg_len (no more records), -2 for bytes that are no DTLS record
 * header (version major not 0xFE, content type outside 20..25), or -1 for a
 * record that does not fit the datagram or is empty; `why` then says which.
 */
int tf_drec_next(const uint8_t *dg, size_t dg_len, size_t *at, tf_drec *r, char *why, size_t why_len);

/* One handshake fragment of a record body; frag points into the body. */
typedef struct {
    uint8_t type;
    uint32_t length;        /* the whole message's body length */
    uint16_t seq;           /* message_seq */
    uint32_t off, len;      /* fragment_offset, fragment_length */
    const uint8_t *frag;
} tf_dfrag;

/* The fragment at body[*at..], as tf_drec_next (-1: a fragment header or
   fragment that does not fit the record, or off + len > length). */
int tf_dfrag_next(const uint8_t *body, size_t body_len, size_t *at, tf_dfrag *f, char *why, size_t why_len);

/*
 * Reassembly of one handshake message.
 *
 * Invariants (between calls):
 *   active == 0: nothing held; msg may be NULL.
 *   active == 1: msg[0..4) is the TLS header (type, 24-bit length) of message
 *     `seq`; msg[4..4 + have) holds its first `have` body bytes, received;
 *     have <= length <= max_len; cap >= 4 + length.
 * A fragment that starts past `have` (a gap, after a lost or reordered
 * datagram) is dropped (`dropped` counts it): the server's retransmission of
 * its flight brings it again.  The message is complete when have == length.
 */
typedef struct {
    uint8_t *msg;
    size_t cap;
    int active;
    uint16_t seq;
    uint32_t length, have;
    size_t max_len;         /* largest body accepted (caller sets; 0 = 256 KiB) */
    unsigned fragments;     /* fragments that added bytes to this message */
    unsigned dropped;
} tf_dasm;

/* Adds fragment f (of message f->seq, which the caller chose to take).
   0, -1 (inconsistent with the fragments before it or over max_len; `why`
   says which) or -2 (out of memory). */
int tf_dasm_add(tf_dasm *a, const tf_dfrag *f, char *why, size_t why_len);

/* 1 when the message held is complete. */
int tf_dasm_complete(const tf_dasm *a);

/* Forgets the message held (keeps the buffer). */
void tf_dasm_reset(tf_dasm *a);

void tf_dasm_free(tf_dasm *a);

#endif
