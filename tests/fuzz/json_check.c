/*
 * json_check.c -- see json_check.h.
 *
 * Cursor invariant: text <= p <= end; every function consumes one grammar
 * element starting at p and returns 0, or -1 with p at the offending byte.
 * Nesting is bounded (DEPTH) so a hostile input cannot exhaust the stack.
 */
#include "json_check.h"

#include <string.h>

#define DEPTH 64

typedef struct {
    const char *p, *end, *text;
} jc;

static int value(jc *c, int depth);

static void ws(jc *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t')) c->p++;
}

static int is_hex(char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'); }

static int string(jc *c)
{
    if (c->p >= c->end || *c->p != '"') return -1;
    c->p++;
    while (c->p < c->end && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p;
        if (ch < 0x20 || ch >= 0x80) return -1;
        if (ch == '\\') {
            c->p++;
            if (c->p >= c->end) return -1;
            if (*c->p == 'u') {
                int i;
                for (i = 1; i <= 4; i++) if (c->p + i >= c->end || !is_hex(c->p[i])) return -1;
                c->p += 4;
            } else if (!strchr("\"\\/bfnrt", *c->p) || *c->p == '\0') {
                return -1;
            }
        }
        c->p++;
    }
    if (c->p >= c->end) return -1;
    c->p++;
    return 0;
}

static int digits(jc *c)
{
    const char *start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
    return c->p > start ? 0 : -1;
}

static int number(jc *c)
{
    if (c->p < c->end && *c->p == '-') c->p++;
    if (c->p < c->end && *c->p == '0') c->p++;
    else if (digits(c)) return -1;
    if (c->p < c->end && *c->p == '.') { c->p++; if (digits(c)) return -1; }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-')) c->p++;
        if (digits(c)) return -1;
    }
    return 0;
}

static int word(jc *c, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return -1;
    c->p += n;
    return 0;
}

/* '{' or '[' already seen at p: members until the closing bracket. */
static int container(jc *c, int depth, char close)
{
    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == close) { c->p++; return 0; }
    for (;;) {
        ws(c);
        if (close == '}') {
            if (string(c)) return -1;
            ws(c);
            if (c->p >= c->end || *c->p != ':') return -1;
            c->p++;
        }
        if (value(c, depth + 1)) return -1;
        ws(c);
        if (c->p >= c->end) return -1;
        if (*c->p == close) { c->p++; return 0; }
        if (*c->p != ',') return -1;
        c->p++;
    }
}

static int value(jc *c, int depth)
{
    ws(c);
    if (c->p >= c->end || depth > DEPTH) return -1;
    switch (*c->p) {
    case '{': return container(c, depth, '}');
    case '[': return container(c, depth, ']');
    case '"': return string(c);
    case 't': return word(c, "true");
    case 'f': return word(c, "false");
    case 'n': return word(c, "null");
    default: return number(c);
    }
}

size_t tf_json_check(const char *text, size_t len)
{
    jc c;
    c.text = c.p = text;
    c.end = text + len;
    if (value(&c, 0) == 0) {
        ws(&c);
        if (c.p == c.end) return 0;
    }
    return (size_t)(c.p - c.text) + 1;
}
