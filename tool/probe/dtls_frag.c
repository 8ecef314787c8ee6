/*
 * dtls_frag.c -- DTLS record and handshake-fragment decoding, reassembly
 * (see dtls_frag.h for the invariants).
 *
 * Every length read from the wire is checked against the bytes that remain
 * before it is used; offsets are size_t and a fragment's end is computed in
 * 64 bits, so no sum of two 24-bit fields can wrap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "dtls_frag.h"
#include "record.h"

int tf_drec_next(const uint8_t *dg, size_t dg_len, size_t *at, tf_drec *r, char *why, size_t why_len)
{
    const uint8_t *h;
    size_t len, i;

    if (*at >= dg_len) return 1;
    if (dg_len - *at < TF_DTLS_RECORD_HDR) {
        snprintf(why, why_len, "a datagram ends with %zu bytes, less than a DTLS record header", dg_len - *at);
        return -1;
    }
    h = dg + *at;
    len = tf_dec16be(h + 11);
    if (h[0] < TF_CT_CCS || h[0] > TF_DTLS_CT_CID || h[1] != 0xFE) {
        snprintf(why, why_len, "not a DTLS record header (%02x %02x %02x)", h[0], h[1], h[2]);
        return -2;
    }
    if (len == 0 || len > dg_len - *at - TF_DTLS_RECORD_HDR) {
        snprintf(why, why_len, "a DTLS record declares %zu bytes, the datagram holds %zu", len,
                 dg_len - *at - TF_DTLS_RECORD_HDR);
        return -1;
    }
    r->type = h[0];
    r->version = (uint16_t)tf_dec16be(h + 1);
    r->epoch = (uint16_t)tf_dec16be(h + 3);
    r->seq = 0;
    for (i = 5; i < 11; i++) r->seq = (r->seq << 8) | h[i];
    r->body = h + TF_DTLS_RECORD_HDR;
    r->len = len;
    *at += TF_DTLS_RECORD_HDR + len;
    return 0;
}

int tf_dfrag_next(const uint8_t *body, size_t body_len, size_t *at, tf_dfrag *f, char *why, size_t why_len)
{
    const uint8_t *h;

    if (*at >= body_len) return 1;
    if (body_len - *at < TF_DTLS_HS_HDR) {
        snprintf(why, why_len, "a handshake record ends with %zu bytes, less than a fragment header",
                 body_len - *at);
        return -1;
    }
    h = body + *at;
    f->type = h[0];
    f->length = tf_dec24be(h + 1);
    f->seq = (uint16_t)tf_dec16be(h + 4);
    f->off = tf_dec24be(h + 6);
    f->len = tf_dec24be(h + 9);
    if (f->len > body_len - *at - TF_DTLS_HS_HDR) {
        snprintf(why, why_len, "a handshake fragment declares %u bytes, its record holds %zu", (unsigned)f->len,
                 body_len - *at - TF_DTLS_HS_HDR);
        return -1;
    }
    if ((uint64_t)f->off + f->len > f->length) {
        snprintf(why, why_len, "a fragment of message %u covers bytes %u..%u of a %u-byte message", f->seq,
                 (unsigned)f->off, (unsigned)(f->off + f->len), (unsigned)f->length);
        return -1;
    }
    f->frag = h + TF_DTLS_HS_HDR;
    *at += TF_DTLS_HS_HDR + f->len;
    return 0;
}

static int dasm_start(tf_dasm *a, const tf_dfrag *f, char *why, size_t why_len)
{
    size_t max = a->max_len ? a->max_len : TF_MAX_HANDSHAKE;
    if (f->length > max) {
        snprintf(why, why_len, "handshake message %u declares %u bytes, over the %zu-byte limit", f->type,
                 (unsigned)f->length, max);
        return -1;
    }
    if (a->cap < 4 + (size_t)f->length) {
        uint8_t *n = realloc(a->msg, 4 + (size_t)f->length);
        if (!n) return -2;
        a->msg = n;
        a->cap = 4 + (size_t)f->length;
    }
    a->msg[0] = f->type;
    tf_enc24be(a->msg + 1, f->length);
    a->active = 1;
    a->seq = f->seq;
    a->length = f->length;
    a->have = 0;
    a->fragments = 0;
    return 0;
}

int tf_dasm_add(tf_dasm *a, const tf_dfrag *f, char *why, size_t why_len)
{
    uint32_t end = f->off + f->len;     /* <= length <= 2^24 - 1: checked by tf_dfrag_next */

    if (!a->active) {
        int rc = dasm_start(a, f, why, why_len);
        if (rc) return rc;
    } else if (f->type != a->msg[0] || f->length != a->length || f->seq != a->seq) {
        snprintf(why, why_len, "fragments of handshake message %u disagree on its type or length", f->seq);
        return -1;
    }
    if (f->off > a->have) {             /* a gap: keep only the contiguous prefix */
        a->dropped++;
        return 0;
    }
    if (end > a->have) {
        memcpy(a->msg + 4 + f->off, f->frag, f->len);
        a->have = end;
        a->fragments++;
    }
    return 0;
}

int tf_dasm_complete(const tf_dasm *a) { return a->active && a->have == a->length; }

void tf_dasm_reset(tf_dasm *a)
{
    a->active = 0;
    a->have = a->length = 0;
    a->fragments = 0;
}

void tf_dasm_free(tf_dasm *a)
{
    free(a->msg);
    a->msg = NULL;
    a->cap = 0;
    tf_dasm_reset(a);
}
