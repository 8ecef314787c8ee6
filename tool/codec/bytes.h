/*
 * bytes.h -- big-endian integers and the bounded read cursor shared by every
 * parser of the prober and of the verify client (tool/codec).  Header-only,
 * C11, no allocation, no TLS library.
 *
 * Fixed-width helpers: tf_decNbe(p) reads N bits at p, tf_encNbe(p, v) writes
 * the low N bits of v at p.  The caller guarantees that the bytes exist.
 *
 * Reader invariants (tf_rd):
 *   buf   start of the bytes being parsed (never written)
 *   len   number of valid bytes at buf
 *   off   cursor: next byte to read; always 0 <= off <= len
 *   bad   sticky flag: set by the first read past len; once set every read
 *         returns 0 / NULL and off stays at len, so a parser may read a whole
 *         structure and check `bad` once at the end.
 * A bad cursor is also "done" (off == len); tf_rd_clean_end() tells the two
 * apart.
 */
#ifndef TF_BYTES_H
#define TF_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t tf_dec16be(const uint8_t *p) { return ((uint32_t)p[0] << 8) | p[1]; }
static inline uint32_t tf_dec24be(const uint8_t *p) { return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2]; }
static inline uint32_t tf_dec32be(const uint8_t *p) { return ((uint32_t)p[0] << 24) | tf_dec24be(p + 1); }
static inline void tf_enc16be(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void tf_enc24be(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 16); tf_enc16be(p + 1, v); }

typedef struct {
    const uint8_t *buf;
    size_t len;
    size_t off;
    int bad;
} tf_rd;

/* Starts a cursor over the `len` bytes at `buf` (buf may be "" when len is 0). */
static inline void tf_rd_init(tf_rd *r, const void *buf, size_t len)
{
    r->buf = (const uint8_t *)buf; r->len = len; r->off = 0; r->bad = 0;
}
static inline size_t tf_rd_left(const tf_rd *r) { return r->len - r->off; }
static inline int tf_rd_done(const tf_rd *r) { return r->off == r->len; }

/* Marks the cursor bad (and done), keeping the off == len rule. */
static inline void tf_rd_fail(tf_rd *r) { r->bad = 1; r->off = r->len; }

/* 1 when the cursor was read to its end without error. */
static inline int tf_rd_clean_end(const tf_rd *r) { return !r->bad && tf_rd_done(r); }

/* Returns a pointer to the next n bytes and advances, or NULL (and sets bad). */
static inline const uint8_t *tf_rd_bytes(tf_rd *r, size_t n)
{
    const uint8_t *p;
    if (r->bad || n > r->len - r->off) { tf_rd_fail(r); return NULL; }
    p = r->buf + r->off;
    r->off += n;
    return p;
}
static inline uint32_t tf_rd_u8(tf_rd *r) { const uint8_t *p = tf_rd_bytes(r, 1); return p ? p[0] : 0; }
static inline uint32_t tf_rd_u16(tf_rd *r) { const uint8_t *p = tf_rd_bytes(r, 2); return p ? tf_dec16be(p) : 0; }
static inline uint32_t tf_rd_u24(tf_rd *r) { const uint8_t *p = tf_rd_bytes(r, 3); return p ? tf_dec24be(p) : 0; }
static inline uint32_t tf_rd_u32(tf_rd *r) { const uint8_t *p = tf_rd_bytes(r, 4); return p ? tf_dec32be(p) : 0; }
static inline void tf_rd_skip(tf_rd *r, size_t n) { (void)tf_rd_bytes(r, n); }

/* The next byte without consuming it, or -1 at the end (or when bad). */
static inline int tf_rd_peek(const tf_rd *r)
{
    if (r->bad || tf_rd_done(r)) return -1;
    return (int)r->buf[r->off];
}

/*
 * Reads a vector with an `lenbytes`-byte (1, 2 or 3) big-endian length prefix
 * and points `sub` at its body.  On a short or lying length both r and sub are
 * marked bad and sub is empty.  Returns 0 or -1.
 */
static inline int tf_rd_vec(tf_rd *r, unsigned lenbytes, tf_rd *sub)
{
    uint32_t n = lenbytes == 1 ? tf_rd_u8(r) : lenbytes == 2 ? tf_rd_u16(r) : tf_rd_u24(r);
    const uint8_t *p = tf_rd_bytes(r, n);
    tf_rd_init(sub, p ? p : (const uint8_t *)"", p ? n : 0);
    sub->bad = r->bad;
    return r->bad ? -1 : 0;
}

#endif
