/*
 * anchor.c -- PEM bundles and trust-anchor lookup declared in anchor.h.
 *
 * Implementation notes
 * --------------------
 * A bundle is read whole into one malloc'd buffer (at most PEM_MAX_FILE
 * bytes; larger files count as unreadable).  Each "-----BEGIN CERTIFICATE-----"
 * ... "-----END CERTIFICATE-----" block is base64-decoded in place: the
 * decoder writes byte n only after reading at least n + 1 characters, so
 * its output never overtakes its input and the block's text is the only
 * thing overwritten.  The file buffer is therefore the only allocation.
 *
 * tf_pem_each() hands `fn` only blocks that decode as base64 AND as a
 * well-formed certificate (tf_x509_parse), so the count it returns is a
 * count of certificates.  `fn` returns 0 to go on; any other value stops the
 * walk (the certificate just handed over is counted).
 *
 * tf_anchor_find() takes, in bundle order, the first candidate whose key
 * identifier confirms the match (child AKI == candidate SKI) and stops
 * there; failing that, the first candidate matched by name only (one of the
 * two has no key identifier).  A name-only match never hides a confirmed
 * one that comes later, in the same bundle or a later one.
 */
#include "anchor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEM_MAX_FILE ((size_t)64 << 20)

static const char pem_begin[] = "-----BEGIN CERTIFICATE-----";
static const char pem_end[] = "-----END CERTIFICATE-----";

typedef int (*pem_fn)(void *ctx, const uint8_t *der, size_t len);

/* ---- reading a file ------------------------------------------------------------ */

/* Grows *buf so that at least `need` more bytes fit after *len. */
static int grow(char **buf, size_t *cap, size_t len, size_t need)
{
    size_t want = *cap ? *cap : 65536;
    char *bigger;
    while (want - len < need) want *= 2;
    if (want == *cap) return 0;
    bigger = realloc(*buf, want);
    if (!bigger) return -1;
    *buf = bigger;
    *cap = want;
    return 0;
}

/* Reads a whole file.  Returns the malloc'd bytes (*len of them) or NULL;
   *oom tells whether memory, rather than the file, was the problem. */
static char *slurp(const char *path, size_t *len, int *oom)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, got;
    *len = 0;
    *oom = 0;
    if (!f) return NULL;
    do {
        if (*len > PEM_MAX_FILE) goto fail;
        if (grow(&buf, &cap, *len, 4096)) { *oom = 1; goto fail; }
        got = fread(buf + *len, 1, cap - *len, f);
        *len += got;
    } while (got > 0);
    if (ferror(f)) goto fail;
    fclose(f);
    return buf;
fail:
    free(buf);
    fclose(f);
    *len = 0;
    return NULL;
}

/* ---- PEM and base64 --------------------------------------------------------- */

/* First occurrence of `needle` in [p, end), or NULL (the text may hold NULs). */
static const char *find(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (; (size_t)(end - p) >= n; p++) {
        const char *hit = memchr(p, needle[0], (size_t)(end - p) - n + 1);
        if (!hit) return NULL;
        if (memcmp(hit, needle, n) == 0) return hit;
        p = hit;
    }
    return NULL;
}

static int b64_value(int ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}

/* Decodes base64 text [p, end) into out, which may alias p.  Whitespace is
   ignored; '=' may only pad the end.  Returns the byte count or -1. */
static long b64_decode(const char *p, const char *end, uint8_t *out)
{
    uint32_t acc = 0;
    unsigned nbits = 0;
    size_t n = 0, symbols = 0, pad = 0;
    for (; p < end; p++) {
        int ch = (unsigned char)*p, v;
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') continue;
        if (ch == '=') { pad++; continue; }
        v = b64_value(ch);
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

/* The walk behind tf_pem_each(); *oom is set when memory ran out. */
static int pem_walk(const char *path, pem_fn fn, void *ctx, int *oom)
{
    size_t len;
    char *text = slurp(path, &len, oom);
    const char *p, *end, *begin, *body, *stop, *again;
    tf_cert scratch;
    int count = 0;
    if (!text) return -1;
    p = text;
    end = text + len;
    while ((begin = find(p, end, pem_begin)) != NULL) {
        long n;
        body = begin + strlen(pem_begin);
        stop = find(body, end, pem_end);
        if (!stop) break;
        again = find(body, stop, pem_begin);
        if (again) { p = again; continue; }  /* unterminated block: resync */
        p = stop + strlen(pem_end);
        n = b64_decode(body, stop, (uint8_t *)body);
        if (n <= 0 || tf_x509_parse(&scratch, (const uint8_t *)body, (size_t)n) != 0) continue;
        count++;
        if (fn && fn(ctx, (const uint8_t *)body, (size_t)n) != 0) break;
    }
    free(text);
    return count;
}

int tf_pem_each(const char *path, int (*fn)(void *ctx, const uint8_t *der, size_t len), void *ctx)
{
    int oom;
    return path ? pem_walk(path, fn, ctx, &oom) : -1;
}

/* ---- anchor lookup ----------------------------------------------------------- */

typedef struct {
    const tf_cert *last;
    tf_anchor *out;
    const char *path;   /* bundle being walked */
    int confirmed;      /* out holds a match confirmed by AKI == SKI */
    int oom;
} find_ctx;

/* Makes `der` (from f->path) the anchor, replacing any previous one. */
static int keep(find_ctx *f, const uint8_t *der, size_t len)
{
    uint8_t *copy = malloc(len);
    size_t n = strlen(f->path);
    if (!copy) return -1;
    memcpy(copy, der, len);
    tf_anchor_free(f->out);
    f->out->der = copy;
    f->out->der_len = len;
    (void)tf_x509_parse(&f->out->cert, copy, len);  /* pem_walk already parsed it */
    if (n >= sizeof f->out->source) n = sizeof f->out->source - 1;
    memcpy(f->out->source, f->path, n);
    f->out->source[n] = '\0';
    return 0;
}

/* pem_walk() callback: judges one candidate; non-zero stops the walk. */
static int consider(void *ctx, const uint8_t *der, size_t len)
{
    find_ctx *f = ctx;
    tf_cert cand;
    int confirmed;
    if (tf_x509_parse(&cand, der, len) != 0 || !tf_x509_issued_by(f->last, &cand)) return 0;
    confirmed = f->last->aki_len && cand.ski_len;
    if (f->out->der && !confirmed) return 0;  /* keep the first name-only match */
    if (keep(f, der, len)) { f->oom = 1; return 1; }
    f->confirmed = confirmed;
    return confirmed;
}

int tf_anchor_find(const char *const *paths, size_t npaths, const tf_cert *last, tf_anchor *out)
{
    find_ctx f;
    size_t i;
    int oom;
    memset(out, 0, sizeof *out);
    f.last = last;
    f.out = out;
    f.confirmed = 0;
    f.oom = 0;
    for (i = 0; i < npaths && !f.confirmed && !f.oom; i++) {
        if (!paths[i]) continue;
        f.path = paths[i];
        (void)pem_walk(paths[i], consider, &f, &oom);  /* unreadable: skipped */
        f.oom |= oom;
    }
    if (f.oom) {
        tf_anchor_free(out);
        return -1;
    }
    return out->der ? 1 : 0;
}

void tf_anchor_free(tf_anchor *a)
{
    if (!a) return;
    free(a->der);
    memset(a, 0, sizeof *a);
}
