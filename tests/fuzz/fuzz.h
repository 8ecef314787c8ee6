/*
 * fuzz.h -- what the libFuzzer targets under tests/fuzz share.
 *
 * 1. An in-memory transport (fuzz_net.c) that replaces tool/probe/net.c at
 *    link time: every connection reads the bytes given to tf_fuzz_net_set()
 *    as the server's answer and swallows what the prober sends.  No socket,
 *    no sleep, no clock: a "timeout" is the end of the bytes.
 * 2. The hello offer of the session targets (offer.c).
 * 3. A cursor over the fuzzer's input for targets that take a few control
 *    bytes before the data proper.
 *
 * Cursor invariant: p <= end; fz_u8 / fz_u16 return 0 once the input is
 * exhausted (never read past end); fz_take returns at most what is left.
 */
#ifndef TF_FUZZ_H
#define TF_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "hello.h"
#include "net.h"

/* Server bytes for the next connection(s); the buffer must outlive them.
   Resets the read position and the connection counter. */
void tf_fuzz_net_set(const uint8_t *data, size_t len);

/* Bytes the prober sent since the last tf_fuzz_net_set (for checks). */
size_t tf_fuzz_net_sent(void);

/* What the versions step offers for `version` (0x0301..0x0304): every suite,
   group and signature scheme of the prober's tables for it (offer.c). */
typedef struct {
    uint16_t suites[256], groups[64], sigalgs[64];
    size_t nsuites, ngroups, nsigalgs;
} fz_offer;
void fz_make_offer(uint16_t version, fz_offer *o);

/* A target fuzz.example:port (5 s timeout) and the hello for `version` with
   the offer o (filled here) and its server name. */
void fz_session_start(tf_target *t, tf_hello *h, fz_offer *o, uint16_t version, uint16_t port);

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} fz_cursor;

static inline void fz_init(fz_cursor *c, const uint8_t *data, size_t len)
{
    c->p = data;
    c->end = data + len;
}

static inline size_t fz_left(const fz_cursor *c) { return (size_t)(c->end - c->p); }

static inline uint8_t fz_u8(fz_cursor *c)
{
    return c->p < c->end ? *c->p++ : 0;
}

static inline uint16_t fz_u16(fz_cursor *c)
{
    uint16_t hi = fz_u8(c);
    return (uint16_t)((hi << 8) | fz_u8(c));
}

/* Up to n bytes from the cursor: *out points at them, the count is returned. */
static inline size_t fz_take(fz_cursor *c, size_t n, const uint8_t **out)
{
    size_t k = fz_left(c) < n ? fz_left(c) : n;
    *out = c->p;
    c->p += k;
    return k;
}

#endif
