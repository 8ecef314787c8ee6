/*
 * unit.h -- a tiny test harness for the C unit tests (one file per module).
 *
 *   TF_CHECK(cond)            records a failure with file:line, goes on
 *   TF_CHECK_EQ(a, b)         same, printing both integers
 *   TF_CHECK_STR(a, b)        same, for strings
 *   return tf_unit_report("name");   from main: prints "N passed, M failed"
 */
#ifndef TF_UNIT_H
#define TF_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tf_unit_pass, tf_unit_fail;

#define TF_CHECK(cond) do { if (cond) tf_unit_pass++; else { tf_unit_fail++; \
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define TF_CHECK_EQ(a, b) do { long long va_ = (long long)(a), vb_ = (long long)(b); \
    if (va_ == vb_) tf_unit_pass++; else { tf_unit_fail++; \
    fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, va_, vb_); } } while (0)
#define TF_CHECK_STR(a, b) do { const char *sa_ = (a), *sb_ = (b); \
    if (sa_ && sb_ && strcmp(sa_, sb_) == 0) tf_unit_pass++; else { tf_unit_fail++; \
    fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b, \
            sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)"); } } while (0)

/* Decodes hex `s` into out; returns the byte count (0 on bad input or when it
   does not fit in `cap`). */
static inline size_t tf_unit_unhex(const char *s, unsigned char *out, size_t cap)
{
    size_t n = 0;
    while (s[0] && s[1] && n < cap) {
        char b[3] = { s[0], s[1], 0 };
        char *end;
        out[n++] = (unsigned char)strtoul(b, &end, 16);
        if (*end) return 0;
        s += 2;
    }
    return *s ? 0 : n;
}

/* Reads tests/unit/data/<name> (tests run from tests/unit) into buf; returns
   its length, 0 when it cannot be read. */
static inline size_t tf_unit_load(const char *name, unsigned char *buf, size_t cap)
{
    char path[256];
    FILE *f;
    size_t n;
    snprintf(path, sizeof path, "data/%s", name);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s (run from tests/unit)\n", path);
        return 0;
    }
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static inline int tf_unit_report(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, tf_unit_pass, tf_unit_fail);
    return tf_unit_fail ? 1 : 0;
}

#endif
