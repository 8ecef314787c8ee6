/* b64.c -- the base64 codec declared in b64.h. */
#include "b64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int tf_b64_value(int ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}

long tf_b64_decode(const char *p, const char *end, uint8_t *out)
{
    uint32_t acc = 0;
    unsigned nbits = 0;
    size_t n = 0, symbols = 0, pad = 0;
    for (; p < end; p++) {
        int ch = (unsigned char)*p, v;
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') continue;
        if (ch == '=') { pad++; continue; }
        v = tf_b64_value(ch);
        if (v < 0 || pad) return -1;
        symbols++;
        acc = (acc << 6) | (uint32_t)v;
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out[n++] = (uint8_t)(acc >> nbits);
        }
    }
    if (pad > 2 || (symbols + pad) % 4 != 0 || symbols % 4 == 1 || n > 0x7FFFFFFF) return -1;
    return (long)n;
}

void tf_b64_encode_block(const uint8_t *in, size_t n, char out[4])
{
    uint32_t v = (uint32_t)in[0] << 16;
    if (n > 1) v |= (uint32_t)in[1] << 8;
    if (n > 2) v |= in[2];
    out[0] = alphabet[v >> 18];
    out[1] = alphabet[(v >> 12) & 63];
    out[2] = n > 1 ? alphabet[(v >> 6) & 63] : '=';
    out[3] = n > 2 ? alphabet[v & 63] : '=';
}
