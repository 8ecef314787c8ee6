/*
 * fuzz_pem.c -- PEM armour and base64 (codec/pem.c, codec/b64.c): the
 * parsers of the --ca bundles and the system store.
 *
 * Input: PEM text.  Every CERTIFICATE block is found and its body decoded in
 * place as anchor.c does, and into a separate buffer.  Checks: a body lies
 * inside the text and after the previous one; decoding writes at most 3/4
 * of what it read; in place and separate decoding agree (b64.h's aliasing
 * promise).
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "pem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0 when both decodings agree and stay within bounds. */
static int decode_both(const char *body, const char *body_end)
{
    size_t n = (size_t)(body_end - body);
    uint8_t *sep = malloc(n ? n : 1);
    long a, b;
    int bad;
    if (!sep) return 0;
    a = tf_b64_decode(body, body_end, sep);
    b = tf_b64_decode(body, body_end, (uint8_t *)body);   /* in place, as anchor.c */
    bad = a != b || (a > 0 && (size_t)a > n * 3 / 4) || (a > 0 && memcmp(sep, body, (size_t)a) != 0);
    free(sep);
    return bad;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    const char *body, *body_end, *last = NULL;
    tf_pem c;

    if (!text) return 0;
    if (size) memcpy(text, data, size);
    last = text;
    tf_pem_init(&c, text, size);
    while (tf_pem_next_cert(&c, &body, &body_end)) {
        if (body < last || body_end < body || body_end > text + size) abort();
        last = body_end;
        if (decode_both(body, body_end)) abort();
    }
    free(text);
    return 0;
}
