/*
 * anchor.c -- PEM bundles and trust-anchor lookup declared in anchor.h.
 *
 * Implementation notes
 * --------------------
 * A bundle is read whole into one malloc'd buffer (at most PEM_MAX_FILE
 * bytes; larger files count as unreadable).  Each CERTIFICATE block found
 * by tf_pem_next_cert() (tool/codec/pem.h) is base64-decoded in place by
 * tf_b64_decode() (tool/codec/b64.h), whose output never overtakes its
 * input, so the block's text is the only thing overwritten.  The file
 * buffer is therefore the only allocation.
 *
 * tf_pem_each() hands `fn` only blocks that decode as base64 AND as a
 * well-formed certificate (tf_x509_parse), so the count it returns is a
 * count of certificates.  `fn` returns 0 to go on; any other value stops the
 * walk (the certificate just handed over is counted).
 *
 * tf_anchor_find_each() walks each bundle once for all the children.  For
 * each child it takes, in bundle order, the first candidate that confirms
 * the match -- its key verifies the child's signature (tf_sig_check), or
 * the key identifiers agree (child AKI == candidate SKI) -- and stops
 * looking for that child; failing that, the first candidate matched by name
 * only (the signature cannot be checked here and one of the two has no key
 * identifier).  A candidate whose key refuses the signature is never taken.
 * A name-only match never hides a confirmed one that comes later, in the
 * same bundle or a later one.  The walk stops when every child is confirmed.
 */
#include "anchor.h"
#include "b64.h"
#include "pem.h"
#include "sigcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEM_MAX_FILE ((size_t)64 << 20)

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

/* The walk behind tf_pem_each(); *oom is set when memory ran out. */
static int pem_walk(const char *path, pem_fn fn, void *ctx, int *oom)
{
    size_t len;
    char *text = slurp(path, &len, oom);
    const char *body, *stop;
    tf_pem pem;
    tf_cert scratch;
    int count = 0;
    if (!text) return -1;
    tf_pem_init(&pem, text, len);
    while (tf_pem_next_cert(&pem, &body, &stop)) {
        long n = tf_b64_decode(body, stop, (uint8_t *)body);
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
    const tf_cert *children;    /* n certificates whose issuers are looked for */
    size_t n;
    tf_anchor *out;             /* n results */
    uint8_t *confirmed;         /* n flags: out[i] holds a confirmed match */
    size_t nconfirmed;
    const char *path;           /* bundle being walked */
    int oom;
} find_ctx;

/* Makes `der` (from f->path) the anchor out, replacing any previous one. */
static int keep(find_ctx *f, tf_anchor *out, const uint8_t *der, size_t len)
{
    uint8_t *copy = malloc(len);
    size_t n = strlen(f->path);
    if (!copy) return -1;
    memcpy(copy, der, len);
    tf_anchor_free(out);
    out->der = copy;
    out->der_len = len;
    (void)tf_x509_parse(&out->cert, copy, len);  /* pem_walk already parsed it */
    if (n >= sizeof out->source) n = sizeof out->source - 1;
    memcpy(out->source, f->path, n);
    out->source[n] = '\0';
    return 0;
}

/* Judges `cand` as the issuer of child i: 1 confirmed, 0 name-only, -1 not its issuer. */
static int judge(const tf_cert *child, const tf_cert *cand)
{
    int sig;
    if (!tf_x509_issued_by(child, cand)) return -1;
    sig = tf_sig_check(child, cand);
    if (sig == 0) return -1;
    return sig == 1 || (child->aki_len && cand->ski_len);
}

/* pem_walk() callback: judges one candidate for every child; non-zero stops the walk. */
static int consider(void *ctx, const uint8_t *der, size_t len)
{
    find_ctx *f = ctx;
    tf_cert *cand = malloc(sizeof *cand);  /* large (the SAN table): not on the stack */
    size_t i;
    if (!cand) { f->oom = 1; return 1; }
    if (tf_x509_parse(cand, der, len) != 0) { free(cand); return 0; }
    for (i = 0; i < f->n && !f->oom; i++) {
        int verdict;
        if (f->confirmed[i]) continue;
        verdict = judge(&f->children[i], cand);
        if (verdict < 0 || (f->out[i].der && !verdict)) continue;  /* keep the first name-only match */
        if (keep(f, &f->out[i], der, len)) { f->oom = 1; break; }
        f->confirmed[i] = (uint8_t)verdict;
        f->nconfirmed += (size_t)verdict;
    }
    free(cand);
    return f->oom || f->nconfirmed == f->n;
}

int tf_anchor_find_each(const char *const *paths, size_t npaths, const tf_cert *children, size_t n, tf_anchor *out)
{
    find_ctx f;
    size_t i, found = 0;
    int oom;
    memset(out, 0, n * sizeof *out);
    memset(&f, 0, sizeof f);
    f.children = children;
    f.n = n;
    f.out = out;
    f.confirmed = calloc(n ? n : 1, 1);
    if (!f.confirmed) return -1;
    for (i = 0; i < npaths && f.nconfirmed < n && !f.oom; i++) {
        if (!paths[i]) continue;
        f.path = paths[i];
        (void)pem_walk(paths[i], consider, &f, &oom);  /* unreadable: skipped */
        f.oom |= oom;
    }
    free(f.confirmed);
    for (i = 0; i < n; i++) {
        if (f.oom) tf_anchor_free(&out[i]);
        found += out[i].der != NULL;
    }
    return f.oom ? -1 : (int)found;
}

int tf_anchor_find(const char *const *paths, size_t npaths, const tf_cert *last, tf_anchor *out)
{
    int rc = tf_anchor_find_each(paths, npaths, last, 1, out);
    return rc < 0 ? -1 : rc;
}

void tf_anchor_free(tf_anchor *a)
{
    if (!a) return;
    free(a->der);
    memset(a, 0, sizeof *a);
}
