/*
 * inner.h -- byte-level helpers shared by every parser and builder of the
 * prober.  All reads of untrusted bytes go through tf_rd (the shared reader
 * of tool/codec/bytes.h, included here); all writes of wire bytes go through
 * tf_wr.  Nothing here allocates.
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

#include "bytes.h"

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
