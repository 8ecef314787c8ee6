/* json.c -- the streaming JSON writer declared in json.h. */
#include "json.h"

void tf_json_init(tf_json *j, FILE *f)
{
    j->f = f; j->depth = 0; j->err = 0; j->first[0] = 1;
}

static void indent(tf_json *j)
{
    int i;
    fputc('\n', j->f);
    for (i = 0; i < j->depth; i++) fputs("  ", j->f);
}

static void put_string(tf_json *j, const char *s)
{
    const unsigned char *p;
    fputc('"', j->f);
    for (p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') { fputc('\\', j->f); fputc(*p, j->f); }
        else if (*p == '\n') fputs("\\n", j->f);
        else if (*p == '\t') fputs("\\t", j->f);
        else if (*p < 0x20 || *p == 0x7f) fprintf(j->f, "\\u%04x", *p);
        else if (*p >= 0x80) fprintf(j->f, "\\u%04x", *p); /* bytes, not UTF-8: keep output valid */
        else fputc(*p, j->f);
    }
    fputc('"', j->f);
}

/* Writes the separator, indentation and key for the next member. */
static void member(tf_json *j, const char *key)
{
    if (j->depth > 0) {
        if (!j->first[j->depth]) fputc(',', j->f);
        indent(j);
    }
    j->first[j->depth] = 0;
    if (key) { put_string(j, key); fputs(": ", j->f); }
}

static void open(tf_json *j, const char *key, char c)
{
    member(j, key);
    fputc(c, j->f);
    if (j->depth >= TF_JSON_MAX_DEPTH) { j->err = 1; return; }
    j->depth++;
    j->first[j->depth] = 1;
}

static void close_(tf_json *j, char c)
{
    int empty;
    if (j->depth == 0) { j->err = 1; return; }
    empty = j->first[j->depth];
    j->depth--;
    if (!empty) indent(j);
    fputc(c, j->f);
}

void tf_json_obj(tf_json *j, const char *key) { open(j, key, '{'); }
void tf_json_arr(tf_json *j, const char *key) { open(j, key, '['); }
void tf_json_end_obj(tf_json *j) { close_(j, '}'); }
void tf_json_end_arr(tf_json *j) { close_(j, ']'); }

void tf_json_str(tf_json *j, const char *key, const char *val)
{
    member(j, key);
    if (val) put_string(j, val); else fputs("null", j->f);
}

void tf_json_int(tf_json *j, const char *key, long long val) { member(j, key); fprintf(j->f, "%lld", val); }
void tf_json_bool(tf_json *j, const char *key, int val) { member(j, key); fputs(val ? "true" : "false", j->f); }
void tf_json_null(tf_json *j, const char *key) { member(j, key); fputs("null", j->f); }

void tf_json_hex(tf_json *j, const char *key, const uint8_t *b, size_t n)
{
    size_t i;
    member(j, key);
    fputc('"', j->f);
    for (i = 0; i < n; i++) fprintf(j->f, "%02x", b[i]);
    fputc('"', j->f);
}

void tf_json_b64(tf_json *j, const char *key, const uint8_t *b, size_t n)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    member(j, key);
    fputc('"', j->f);
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = ((uint32_t)b[i] << 16) | ((uint32_t)b[i + 1] << 8) | b[i + 2];
        fputc(al[v >> 18], j->f); fputc(al[(v >> 12) & 63], j->f);
        fputc(al[(v >> 6) & 63], j->f); fputc(al[v & 63], j->f);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)b[i] << 16;
        fputc(al[v >> 18], j->f); fputc(al[(v >> 12) & 63], j->f); fputs("==", j->f);
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)b[i] << 16) | ((uint32_t)b[i + 1] << 8);
        fputc(al[v >> 18], j->f); fputc(al[(v >> 12) & 63], j->f); fputc(al[(v >> 6) & 63], j->f); fputc('=', j->f);
    }
    fputc('"', j->f);
}

int tf_json_finish(tf_json *j)
{
    fputc('\n', j->f);
    if (j->depth != 0) j->err = 1;
    if (fflush(j->f) != 0 || ferror(j->f)) j->err = 1;
    return j->err ? -1 : 0;
}
