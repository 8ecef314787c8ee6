/*
 * json.h -- a streaming JSON writer (UTF-8 output, 2-space indentation).
 *
 * Invariants: `depth` is the nesting level; `first[d]` is 1 until the first
 * member at level d is written (decides the comma).  Members of objects take
 * a key; elements of arrays pass key NULL.  Errors (write failure, nesting
 * deeper than TF_JSON_MAX_DEPTH) set the sticky `err` flag.
 */
#ifndef TF_JSON_H
#define TF_JSON_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

#define TF_JSON_MAX_DEPTH 16

typedef struct {
    FILE *f;
    int depth;
    int first[TF_JSON_MAX_DEPTH + 1];
    int err;
} tf_json;

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
/* Finishes the document (newline) and returns 0, or -1 if any write failed. */
int tf_json_finish(tf_json *j);

#endif
