/* tlsfit firmware: buffered text output to the host's console, without
 * newlib's stdio.
 *
 * printf and friends link ~5 KiB of newlib (the formatter, FILE buffers,
 * the stdio system calls) into an image that otherwise needs none of it;
 * the measure firmware only writes one line of JSON, numbers and strings,
 * which these few functions cover.
 *
 * Implementation notes: `buf` holds `len` bytes not yet written; invariant
 * 0 <= len < sizeof buf between calls (a full buffer is written out at
 * once).  tf_out_flush() writes and empties it; nothing else reaches the
 * host, so a caller that exits must flush first.
 */
#include "tlsfit_fw.h"

static struct {
    char buf[128];
    size_t len;
} out;

void tf_out_flush(void)
{
    tf_semi_write(out.buf, out.len);
    out.len = 0;
}

void tf_out_char(char c)
{
    out.buf[out.len++] = c;
    if (out.len == sizeof out.buf)
        tf_out_flush();
}

void tf_out_str(const char *s)
{
    while (*s)
        tf_out_char(*s++);
}

/* Decimal by subtracting powers of ten: no 64-bit division, which would link
 * libgcc's __aeabi_uldivmod (~0.9 KiB) for this alone. */
void tf_out_u64(uint64_t v)
{
    static const uint64_t pow10[20] = {
        1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u,
        1000000000u, 10000000000u, 100000000000u, 1000000000000u, 10000000000000u,
        100000000000000u, 1000000000000000u, 10000000000000000u, 100000000000000000u,
        1000000000000000000u, 10000000000000000000u,
    };
    int k = 19;
    while (k > 0 && v < pow10[k])
        k--;
    for (; k >= 0; k--) {
        char d = '0';
        while (v >= pow10[k]) {
            v -= pow10[k];
            d++;
        }
        tf_out_char(d);
    }
}

void tf_out_i32(int32_t v)
{
    if (v < 0) {
        tf_out_char('-');
        tf_out_u64((uint64_t)(-(int64_t)v));
    } else {
        tf_out_u64((uint64_t)v);
    }
}

void tf_out_json_str(const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (s == NULL) {
        tf_out_str("null");
        return;
    }
    tf_out_char('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            tf_out_char('\\');
            tf_out_char((char)*p);
        } else if (*p < 0x20 || *p >= 0x7f) {
            tf_out_str("\\u00");
            tf_out_char(hex[*p >> 4]);
            tf_out_char(hex[*p & 0xFu]);
        } else {
            tf_out_char((char)*p);
        }
    }
    tf_out_char('"');
}
