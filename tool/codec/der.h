/*
 * der.h -- DER TLV reading (ITU-T X.690) on a tf_rd cursor (bytes.h), shared
 * by the prober's certificate decoder and the verify client's CA loader.
 * C11, no allocation, no TLS library.
 *
 * Cursor rules, on top of tf_rd's:
 *   - tf_der_next() consumes exactly one TLV from its cursor and points `body`
 *     at the TLV's contents.  `body` is a fresh cursor over a sub-range of
 *     the parent's bytes, so a parser can never read past the end of the
 *     element it is decoding, whatever the lengths inside it claim.
 *   - A failed read (short buffer, lying length, indefinite or over-long
 *     length, high tag number, unexpected tag) marks the cursor bad
 *     (tf_rd_fail).  A bad cursor is also "done", so loops test tf_rd_done
 *     and end checks use tf_rd_clean_end.
 *   - Tags are returned as the whole identifier byte (0x30 SEQUENCE, 0xA0
 *     [0] constructed, ...); high tag numbers (low bits 0x1F) are refused.
 *   - Lengths: short form, or long form of 1 to 4 bytes.  Non-minimal
 *     encodings are accepted.
 */
#ifndef TF_DER_H
#define TF_DER_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

#define TF_DER_SEQUENCE 0x30

/* Reads a DER length; on an indefinite or over-long length marks r bad and
   returns 0. */
size_t tf_der_len(tf_rd *r);

/* Consumes one TLV and points `body` at its contents; returns the tag, or -1
   with both cursors bad. */
int tf_der_next(tf_rd *r, tf_rd *body);

/* Consumes one TLV that must carry `tag`; returns 0, or -1 with both cursors
   bad (also when the tag differs). */
int tf_der_expect(tf_rd *r, int tag, tf_rd *body);

/* tf_der_expect() that also returns the whole TLV, header included, in
   *p / *n (pointing into r's bytes). */
int tf_der_expect_whole(tf_rd *r, int tag, tf_rd *body, const uint8_t **p, size_t *n);

/* The tag of the next TLV without consuming it, or -1 at the end. */
static inline int tf_der_peek(const tf_rd *r) { return tf_rd_peek(r); }

/*
 * Size of the whole TLV (header and contents) at the start of the `avail`
 * bytes at p when it carries `tag` and fits in them; 0 otherwise.  Used to
 * walk a file of concatenated DER certificates.
 */
size_t tf_der_element_len(const uint8_t *p, size_t avail, int tag);

#endif
