/*
 * fuzz_dtls.c -- the DTLS record and handshake-fragment decoders and the
 * reassembly (dtls_frag.c).
 *
 * Input: datagrams, each preceded by its 2-byte big-endian length (the last
 * one takes whatever bytes remain).  Every datagram is split into records
 * (tf_drec_next), every epoch-0 handshake record into fragments
 * (tf_dfrag_next), and each fragment goes to one reassembly, which takes the
 * fragments of the message it holds and starts over with the next message
 * once one completes -- dtls.c's order.  Checked: every record and fragment
 * lies within its datagram and record, the held bytes never pass the
 * message's length, a complete message carries the TLS header its fragments
 * declared, and a rejected input says why.
 */
#include <stdlib.h>
#include <string.h>

#include "dtls_frag.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t dec24(const uint8_t *p) { return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2]; }

static void check_held(const tf_dasm *a)
{
    if (!a->active) return;
    if (a->have > a->length || a->cap < 4 + (size_t)a->length) abort();
    if (dec24(a->msg + 1) != a->length) abort();
}

static void fragments(tf_dasm *a, const tf_drec *r)
{
    size_t at = 0;
    tf_dfrag f;
    char why[160];
    int rc;
    while ((rc = tf_dfrag_next(r->body, r->len, &at, &f, why, sizeof(why))) == 0) {
        if (f.frag < r->body || f.frag + f.len > r->body + r->len || at > r->len) abort();
        if (a->active && f.seq != a->seq) continue;          /* another message: dtls.c drops it */
        why[0] = '\0';
        rc = tf_dasm_add(a, &f, why, sizeof(why));
        if (rc == -1 && why[0] == '\0') abort();
        if (rc) { tf_dasm_reset(a); continue; }
        check_held(a);
        if (tf_dasm_complete(a)) {
            if (a->msg[0] != f.type || dec24(a->msg + 1) != f.length) abort();
            tf_dasm_reset(a);
        }
    }
    if (rc < 0 && why[0] == '\0') abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tf_dasm a;
    size_t off = 0;

    memset(&a, 0, sizeof(a));
    a.max_len = 1u << 16;          /* keep allocations small */
    while (off < size) {
        size_t n = size - off, at = 0;
        const uint8_t *dg;
        tf_drec r;
        char why[160];
        int rc;
        if (n >= 2) {
            size_t want = ((size_t)data[off] << 8) | data[off + 1];
            off += 2;
            n = want < size - off ? want : size - off;
        } else {
            off += n;
            n = 0;
        }
        dg = data + off;
        off += n;
        why[0] = '\0';
        while ((rc = tf_drec_next(dg, n, &at, &r, why, sizeof(why))) == 0) {
            if (r.body < dg || r.body + r.len > dg + n || at > n) abort();
            if (r.type == 22 && r.epoch == 0) fragments(&a, &r);
        }
        if (rc < 0 && why[0] == '\0') abort();
    }
    tf_dasm_free(&a);
    return 0;
}
