/*
 * json.h -- a streaming JSON writer to a stdio stream, shared by the prober
 * (its profile document, indented) and the verify client (its one result
 * line).  C11, no allocation, no TLS library.
 *
 * Layout, chosen when the document starts:
 *   TF_JSON_INDENT    one member per line, 2-space indentation, "," at line
 *                     ends (the prober's profile);
 *   TF_JSON_ONE_LINE  the whole document on one line, members separated by
 *                     ", " (the verify client's result line).
 * Both write ": " after a key and end the document with a newline.
 *
 * Strings are written byte by byte: '"' and '\\' are backslash-escaped, LF
 * and TAB as \n and \t, other control characters (and DEL) as \u00XX.
 * Bytes >= 0x80 are escaped as \u00XX too (the output stays ASCII and valid
 * JSON whatever the bytes), unless TF_JSON_RAW_HIGH is given: then they are
 * copied as they are (for text the caller knows to be UTF-8).
 *
 * Invariants: `depth` is the nesting level (0 before the top-level value);
 * `first[d]` is 1 until the first member at level d is written (decides the
 * separator).  Members of objects take a key; elements of arrays and the
 * top-level value pass key NULL.  Errors (write failure, nesting deeper than
 * TF_JSON_MAX_DEPTH, closing at depth 0, finishing with a container open)
 * set the sticky `err` flag, reported by tf_json_finish().
 */
#ifndef TF_JSON_H
#define TF_JSON_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

#define TF_JSON_MAX_DEPTH 16

#define TF_JSON_INDENT 0u
#define TF_JSON_ONE_LINE 1u
#define TF_JSON_RAW_HIGH 2u

typedef struct {
    FILE *f;
    unsigned style;     /* TF_JSON_INDENT or TF_JSON_ONE_LINE, | TF_JSON_RAW_HIGH */
    int depth;
    int first[TF_JSON_MAX_DEPTH + 1];
    int err;
} tf_json;

/* Starts a document written to f with the given style flags. */
void tf_json_start(tf_json *j, FILE *f, unsigned style);
/* tf_json_start(j, f, TF_JSON_INDENT). */
void tf_json_init(tf_json *j, FILE *f);
void tf_json_obj(tf_json *j, const char *key);   /* opens an object */
void tf_json_arr(tf_json *j, const char *key);   /* opens an array */
void tf_json_end_obj(tf_json *j);
void tf_json_end_arr(tf_json *j);
void tf_json_str(tf_json *j, const char *key, const char *val); /* NULL val -> null */
void tf_json_int(tf_json *j, const char *key, long long val);
void tf_json_bool(tf_json *j, const char *key, int val);
void tf_json_null(tf_json *j, const char *key);
void tf_json_hex(tf_json *j, const char *key, const uint8_t *b, size_t n);    /* lower-case hex string */
void tf_json_b64(tf_json *j, const char *key, const uint8_t *b, size_t n);    /* standard base64 string */
/* Finishes the document (newline, flush) and returns 0, or -1 if any write
   failed or the document was not well-nested. */
int tf_json_finish(tf_json *j);

#endif
