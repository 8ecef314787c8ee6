/* der.c -- the DER TLV reader declared in der.h. */
#include "der.h"

size_t tf_der_len(tf_rd *r)
{
    uint32_t first = tf_rd_u8(r), n;
    size_t len = 0;
    if (first < 0x80) return first;
    n = first & 0x7F;
    if (n == 0 || n > 4) { tf_rd_fail(r); return 0; }  /* indefinite, or > 4 GiB */
    while (n--) len = (len << 8) | tf_rd_u8(r);
    return len;
}

int tf_der_next(tf_rd *r, tf_rd *body)
{
    uint32_t tag = tf_rd_u8(r);
    const uint8_t *p;
    size_t n;
    if ((tag & 0x1F) == 0x1F) tf_rd_fail(r);  /* high tag numbers: not in X.509 */
    n = tf_der_len(r);
    p = tf_rd_bytes(r, n);
    tf_rd_init(body, p ? p : (const uint8_t *)"", p ? n : 0);
    if (r->bad) tf_rd_fail(body);
    return r->bad ? -1 : (int)tag;
}

int tf_der_expect(tf_rd *r, int tag, tf_rd *body)
{
    if (tf_der_next(r, body) == tag) return 0;
    tf_rd_fail(r);
    tf_rd_fail(body);
    return -1;
}

int tf_der_expect_whole(tf_rd *r, int tag, tf_rd *body, const uint8_t **p, size_t *n)
{
    tf_rd start = *r;
    if (tf_der_expect(r, tag, body)) return -1;
    *n = r->off - start.off;
    *p = tf_rd_bytes(&start, *n);
    return 0;
}

size_t tf_der_element_len(const uint8_t *p, size_t avail, int tag)
{
    tf_rd r, body;
    tf_rd_init(&r, p, avail);
    if (tf_der_expect(&r, tag, &body)) return 0;
    return r.off;
}
