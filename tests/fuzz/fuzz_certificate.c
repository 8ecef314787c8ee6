/*
 * fuzz_certificate.c -- the Certificate message, TLS 1.2 and 1.3 forms
 * (parse.c tf_parse_certificate).
 *
 * Input: one control byte (bit 0: the TLS 1.3 layout with its request
 * context and per-entry extensions; bit 1: the callback stops after the first
 * certificate), then the message with its 4-byte header.  Every span handed
 * to the callback must lie inside the message and the spans must not overlap
 * or go backwards.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const uint8_t *msg, *end, *last_end;
    int stop_first;
    size_t count;
} walk;

static int each(void *ctx, const uint8_t *der, size_t len)
{
    walk *w = ctx;
    if (der < w->last_end || der > w->end || len > (size_t)(w->end - der)) abort();
    if (len) (void)der[len - 1];
    w->last_end = der + len;
    w->count++;
    return w->stop_first;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_cursor in;
    walk w;
    uint8_t ctl, *msg;
    size_t n;

    fz_init(&in, data, size);
    ctl = fz_u8(&in);
    n = fz_left(&in);
    msg = malloc(n ? n : 1);
    if (!msg) return 0;
    if (n) memcpy(msg, in.p, n);
    memset(&w, 0, sizeof(w));
    w.msg = w.last_end = msg;
    w.end = msg + n;
    w.stop_first = (ctl & 2) != 0;
    if (tf_parse_certificate(msg, n, ctl & 1, each, &w) == 0 && w.stop_first && w.count > 1) abort();
    free(msg);
    return 0;
}
