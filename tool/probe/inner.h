/*
 * inner.h -- byte-level helpers shared by every parser and builder of the
 * prober.  All reads of untrusted bytes go through tf_rd; all writes of wire
 * bytes go through tf_wr.  Nothing here allocates.
 *
 * Reader invariants (tf_rd):
 *   buf   start of the bytes being parsed (never written)
 *   len   number of valid bytes at buf
 *   off   cursor: next byte to read; always 0 <= off <= len
 *   bad   sticky flag: set by the first read past len; once set every read
 *         returns 0 / NULL and off stays at len, so a parser may read a whole
 *         structure and check `bad` once at the end.
 *
 * Writer invariants (tf_wr):
 *   buf/cap  output buffer and its size
 *   len      bytes written so far; always len <= cap
 *   bad      sticky overflow flag, same semantics as the reader's
 */
#ifndef TF_INNER_H
#define TF_INNER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

static inline void tf_rd_init(tf_rd *r, const void *buf, size_t len)
{
    r->buf = (const uint8_t *)buf; r->len = len; r->off = 0; r->bad = 0;
}
static inline size_t tf_rd_left(const tf_rd *r) { return r->len - r->off; }
static inline int tf_rd_done(const tf_rd *r) { return r->off == r->len; }

/* Returns a pointer to the next n bytes and advances, or NULL (and sets bad). */
static inline const uint8_t *tf_rd_bytes(tf_rd *r, size_t n)
{
    const uint8_t *p;
    if (r->bad || n > r->len - r->off) { r->bad = 1; r->off = r->len; return NULL; }
    p = r->buf + r->off;
    r->off += n;
    return p;
}
static inline uint32_t tf_rd_u8(tf_rd *r) { const uint8_t *p = tf_rd_bytes(r, 1); return p ? p[0] : 0; }
static inline uint32_t tf_rd_u16(tf_rd *r) { const uint8_t *p = tf_rd_bytes(r, 2); return p ? tf_dec16be(p) : 0; }
static inline uint32_t tf_rd_u24(tf_rd *r) { const uint8_t *p = tf_rd_bytes(r, 3); return p ? tf_dec24be(p) : 0; }
static inline uint32_t tf_rd_u32(tf_rd *r) { const uint8_t *p = tf_rd_bytes(r, 4); return p ? tf_dec32be(p) : 0; }
static inline void tf_rd_skip(tf_rd *r, size_t n) { (void)tf_rd_bytes(r, n); }

/*
 * Reads a vector with an `lenbytes`-byte (1, 2 or 3) big-endian length prefix
 * and points `sub` at its body.  On a short or lying length both r and sub are
 * marked bad and sub is empty.
 */
static inline int tf_rd_vec(tf_rd *r, unsigned lenbytes, tf_rd *sub)
{
    uint32_t n = lenbytes == 1 ? tf_rd_u8(r) : lenbytes == 2 ? tf_rd_u16(r) : tf_rd_u24(r);
    const uint8_t *p = tf_rd_bytes(r, n);
    tf_rd_init(sub, p ? p : (const uint8_t *)"", p ? n : 0);
    sub->bad = r->bad;
    return r->bad ? -1 : 0;
}

typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int bad;
} tf_wr;

static inline void tf_wr_init(tf_wr *w, void *buf, size_t cap)
{
    w->buf = (uint8_t *)buf; w->cap = cap; w->len = 0; w->bad = 0;
}
/* Reserves n bytes and returns where to write them, or NULL (sets bad). */
static inline uint8_t *tf_wr_reserve(tf_wr *w, size_t n)
{
    uint8_t *p;
    if (w->bad || n > w->cap - w->len) { w->bad = 1; return NULL; }
    p = w->buf + w->len;
    w->len += n;
    return p;
}
static inline void tf_wr_bytes(tf_wr *w, const void *src, size_t n)
{
    uint8_t *p = tf_wr_reserve(w, n);
    if (p && n) memcpy(p, src, n);
}
static inline void tf_wr_u8(tf_wr *w, uint32_t v) { uint8_t *p = tf_wr_reserve(w, 1); if (p) p[0] = (uint8_t)v; }
static inline void tf_wr_u16(tf_wr *w, uint32_t v) { uint8_t *p = tf_wr_reserve(w, 2); if (p) tf_enc16be(p, v); }
static inline void tf_wr_u24(tf_wr *w, uint32_t v) { uint8_t *p = tf_wr_reserve(w, 3); if (p) tf_enc24be(p, v); }

/*
 * Opens a length-prefixed vector: reserves `lenbytes` bytes and returns their
 * offset, to be passed to tf_wr_close() once the body is written.
 */
static inline size_t tf_wr_open(tf_wr *w, unsigned lenbytes)
{
    size_t at = w->len;
    (void)tf_wr_reserve(w, lenbytes);
    return at;
}
static inline void tf_wr_close(tf_wr *w, size_t at, unsigned lenbytes)
{
    size_t n;
    if (w->bad) return;
    n = w->len - at - lenbytes;
    if (lenbytes == 1) { if (n > 0xFF) { w->bad = 1; return; } w->buf[at] = (uint8_t)n; }
    else if (lenbytes == 2) { if (n > 0xFFFF) { w->bad = 1; return; } tf_enc16be(w->buf + at, (uint32_t)n); }
    else { if (n > 0xFFFFFF) { w->bad = 1; return; } tf_enc24be(w->buf + at, (uint32_t)n); }
}

#define TF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
