/* json.c -- the streaming JSON writer declared in json.h. */
#include "json.h"
#include "b64.h"

void tf_json_start(tf_json *j, FILE *f, unsigned style)
{
    j->f = f; j->style = style; j->depth = 0; j->err = 0; j->first[0] = 1;
}

void tf_json_init(tf_json *j, FILE *f) { tf_json_start(j, f, TF_JSON_INDENT); }

/* Line break and indentation before a member (TF_JSON_INDENT only). */
static void indent(tf_json *j)
{
    int i;
    if (j->style & TF_JSON_ONE_LINE) return;
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
        else if (*p >= 0x80 && !(j->style & TF_JSON_RAW_HIGH))
            fprintf(j->f, "\\u%04x", *p); /* bytes, not UTF-8: keep output valid */
        else fputc(*p, j->f);
    }
    fputc('"', j->f);
}

/* Writes the separator, indentation and key for the next member. */
static void member(tf_json *j, const char *key)
{
    if (j->depth > 0) {
        if (!j->first[j->depth]) fputs(j->style & TF_JSON_ONE_LINE ? ", " : ",", j->f);
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
    size_t i;
    char quad[4];
    member(j, key);
    fputc('"', j->f);
    for (i = 0; i < n; i += 3) {
        tf_b64_encode_block(b + i, n - i < 3 ? n - i : 3, quad);
        fwrite(quad, 1, sizeof quad, j->f);
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
