/*
 * test_json.c -- unit tests for tool/codec/json.c, the streaming JSON writer.
 *
 * Documents are written to a tmpfile() (and once to an fmemopen() buffer),
 * read back, and compared with the expected text in full: layout and commas
 * of nested objects and arrays, string escaping, integers, booleans, null,
 * hex and base64 (RFC 4648 section 10 test vectors), the error flag, and
 * the one-line style of the verify client's result line.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "unit.h"

static char text[8192];

/* Starts a document on a fresh temporary file. */
static FILE *doc_begin(tf_json *j)
{
    FILE *f = tmpfile();
    if (!f) { perror("tmpfile"); abort(); }
    tf_json_init(j, f);
    return f;
}

/* Finishes it, checks tf_json_finish's result and returns the text. */
static const char *doc_end(tf_json *j, FILE *f, int want_rc)
{
    size_t n;
    TF_CHECK_EQ(tf_json_finish(j), want_rc);
    rewind(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void test_nested(void)
{
    tf_json j;
    FILE *f = doc_begin(&j);
    tf_json_obj(&j, NULL);
    tf_json_str(&j, "host", "example.com");
    tf_json_int(&j, "port", 443);
    tf_json_arr(&j, "list");
    tf_json_int(&j, NULL, 1);
    tf_json_int(&j, NULL, -2);
    tf_json_obj(&j, NULL);
    tf_json_bool(&j, "ok", 1);
    tf_json_bool(&j, "bad", 0);
    tf_json_end_obj(&j);
    tf_json_arr(&j, NULL);
    tf_json_str(&j, NULL, "x");
    tf_json_end_arr(&j);
    tf_json_end_arr(&j);
    tf_json_arr(&j, "empty_arr");
    tf_json_end_arr(&j);
    tf_json_obj(&j, "empty_obj");
    tf_json_end_obj(&j);
    tf_json_obj(&j, "inner");
    tf_json_obj(&j, "deeper");
    tf_json_null(&j, "n");
    tf_json_end_obj(&j);
    tf_json_end_obj(&j);
    tf_json_str(&j, "s", NULL);
    tf_json_int(&j, "min", LLONG_MIN);
    tf_json_int(&j, "max", LLONG_MAX);
    tf_json_end_obj(&j);
    TF_CHECK_STR(doc_end(&j, f, 0),
                 "{\n"
                 "  \"host\": \"example.com\",\n"
                 "  \"port\": 443,\n"
                 "  \"list\": [\n"
                 "    1,\n"
                 "    -2,\n"
                 "    {\n"
                 "      \"ok\": true,\n"
                 "      \"bad\": false\n"
                 "    },\n"
                 "    [\n"
                 "      \"x\"\n"
                 "    ]\n"
                 "  ],\n"
                 "  \"empty_arr\": [],\n"
                 "  \"empty_obj\": {},\n"
                 "  \"inner\": {\n"
                 "    \"deeper\": {\n"
                 "      \"n\": null\n"
                 "    }\n"
                 "  },\n"
                 "  \"s\": null,\n"
                 "  \"min\": -9223372036854775808,\n"
                 "  \"max\": 9223372036854775807\n"
                 "}\n");

    /* a top-level array and an empty top-level object */
    f = doc_begin(&j);
    tf_json_arr(&j, NULL);
    tf_json_bool(&j, NULL, 1);
    tf_json_null(&j, NULL);
    tf_json_end_arr(&j);
    TF_CHECK_STR(doc_end(&j, f, 0), "[\n  true,\n  null\n]\n");
    f = doc_begin(&j);
    tf_json_obj(&j, NULL);
    tf_json_end_obj(&j);
    TF_CHECK_STR(doc_end(&j, f, 0), "{}\n");
}

static void test_escaping(void)
{
    tf_json j;
    FILE *f = doc_begin(&j);
    tf_json_obj(&j, NULL);
    tf_json_str(&j, "quote\"key", "a\"b");
    tf_json_str(&j, "back\\slash", "c:\\dir\\");
    tf_json_str(&j, "ws", "l1\nl2\tt\rr");
    tf_json_str(&j, "ctl", "\x01\x08\x0c\x1f\x7f");
    tf_json_str(&j, "slash", "a/b");
    tf_json_str(&j, "empty", "");
    /* bytes >= 0x80 are escaped one by one (json.c: the writer treats
       strings as bytes, keeping the output ASCII and valid) */
    tf_json_str(&j, "high", "\xc3\xa9");
    tf_json_end_obj(&j);
    TF_CHECK_STR(doc_end(&j, f, 0),
                 "{\n"
                 "  \"quote\\\"key\": \"a\\\"b\",\n"
                 "  \"back\\\\slash\": \"c:\\\\dir\\\\\",\n"
                 "  \"ws\": \"l1\\nl2\\tt\\u000dr\",\n"
                 "  \"ctl\": \"\\u0001\\u0008\\u000c\\u001f\\u007f\",\n"
                 "  \"slash\": \"a/b\",\n"
                 "  \"empty\": \"\",\n"
                 "  \"high\": \"\\u00c3\\u00a9\"\n"
                 "}\n");
}

static void test_base64(void)
{
    static const struct { const char *in; const char *out; } rfc[] = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
    };
    static const uint8_t bin[] = { 0xFF, 0xFE, 0xFD, 0xFB, 0xFF };
    static const uint8_t zeros[4] = { 0, 0, 0, 0 };
    char want[64];
    size_t i;

    for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
        tf_json j;
        FILE *f = doc_begin(&j);
        tf_json_b64(&j, NULL, (const uint8_t *)rfc[i].in, strlen(rfc[i].in));
        snprintf(want, sizeof(want), "\"%s\"\n", rfc[i].out);
        TF_CHECK_STR(doc_end(&j, f, 0), want);
    }
    {
        tf_json j;
        FILE *f = doc_begin(&j);
        tf_json_arr(&j, NULL);
        tf_json_b64(&j, NULL, bin, 3);       /* 111111 111111 111011 111101 */
        tf_json_b64(&j, NULL, bin + 3, 2);   /* 111110 111111 1111(00) */
        tf_json_b64(&j, NULL, bin, 5);
        tf_json_b64(&j, NULL, zeros, 1);
        tf_json_b64(&j, NULL, zeros, 4);
        tf_json_b64(&j, NULL, NULL, 0);
        tf_json_end_arr(&j);
        TF_CHECK_STR(doc_end(&j, f, 0),
                     "[\n  \"//79\",\n  \"+/8=\",\n  \"//79+/8=\",\n  \"AA==\",\n  \"AAAAAA==\",\n  \"\"\n]\n");
    }
    /* exact-size input on the heap: no read past n */
    for (i = 0; i <= 4; i++) {
        tf_json j;
        FILE *f = doc_begin(&j);
        uint8_t *p = malloc(i ? i : 1);
        static const char *const want_heap[] = { "\"\"\n", "\"YQ==\"\n", "\"YWE=\"\n", "\"YWFh\"\n", "\"YWFhYQ==\"\n" };
        if (!p) abort();
        memset(p, 'a', i);
        tf_json_b64(&j, NULL, p, i);
        TF_CHECK_STR(doc_end(&j, f, 0), want_heap[i]);
        free(p);
    }
}

static void test_hex(void)
{
    static const uint8_t b[] = { 0x00, 0xAB, 0x0F, 0xFF, 0x10 };
    tf_json j;
    FILE *f = doc_begin(&j);
    tf_json_obj(&j, NULL);
    tf_json_hex(&j, "h", b, sizeof(b));
    tf_json_hex(&j, "one", b + 1, 1);
    tf_json_hex(&j, "none", NULL, 0);
    tf_json_b64(&j, "b", b, 2);
    tf_json_end_obj(&j);
    TF_CHECK_STR(doc_end(&j, f, 0),
                 "{\n  \"h\": \"00ab0fff10\",\n  \"one\": \"ab\",\n  \"none\": \"\",\n  \"b\": \"AKs=\"\n}\n");
}

static void test_errors(void)
{
    tf_json j;
    FILE *f;
    int i;

    /* unclosed */
    f = doc_begin(&j);
    tf_json_obj(&j, NULL);
    tf_json_int(&j, "a", 1);
    doc_end(&j, f, -1);

    /* closing more than was opened */
    f = doc_begin(&j);
    tf_json_arr(&j, NULL);
    tf_json_end_arr(&j);
    tf_json_end_arr(&j);
    doc_end(&j, f, -1);

    /* nesting exactly TF_JSON_MAX_DEPTH deep is fine */
    f = doc_begin(&j);
    for (i = 0; i < TF_JSON_MAX_DEPTH; i++) tf_json_arr(&j, NULL);
    for (i = 0; i < TF_JSON_MAX_DEPTH; i++) tf_json_end_arr(&j);
    doc_end(&j, f, 0);

    /* one deeper sets the error, without writing past first[] */
    f = doc_begin(&j);
    for (i = 0; i < TF_JSON_MAX_DEPTH + 3; i++) tf_json_arr(&j, NULL);
    tf_json_int(&j, NULL, 1);
    for (i = 0; i < TF_JSON_MAX_DEPTH + 3; i++) tf_json_end_arr(&j);
    doc_end(&j, f, -1);
    TF_CHECK_EQ(j.err, 1);

    /* a stream that cannot be written */
    f = fopen("/dev/null", "r");
    if (f) {
        tf_json_init(&j, f);
        tf_json_obj(&j, NULL);
        tf_json_str(&j, "k", "v");
        tf_json_end_obj(&j);
        TF_CHECK_EQ(tf_json_finish(&j), -1);
        fclose(f);
    }
}

/* The same writer over an fmemopen() buffer. */
static void test_fmemopen(void)
{
    char buf[256];
    tf_json j;
    FILE *f;

    memset(buf, 0, sizeof(buf));
    f = fmemopen(buf, sizeof(buf), "w");
    TF_CHECK(f != NULL);
    if (!f) return;
    tf_json_init(&j, f);
    tf_json_obj(&j, NULL);
    tf_json_arr(&j, "v");
    tf_json_str(&j, NULL, "TLSv1.3");
    tf_json_end_arr(&j);
    tf_json_end_obj(&j);
    TF_CHECK_EQ(tf_json_finish(&j), 0);
    fclose(f);
    TF_CHECK_STR(buf, "{\n  \"v\": [\n    \"TLSv1.3\"\n  ]\n}\n");
}

/* TF_JSON_ONE_LINE (| TF_JSON_RAW_HIGH): the verify client's result line. */
static void test_one_line(void)
{
    tf_json j;
    FILE *f = tmpfile();
    if (!f) { perror("tmpfile"); abort(); }
    tf_json_start(&j, f, TF_JSON_ONE_LINE | TF_JSON_RAW_HIGH);
    tf_json_obj(&j, NULL);
    tf_json_bool(&j, "ok", 0);
    tf_json_str(&j, "step", "handshake");
    tf_json_null(&j, "code");
    tf_json_arr(&j, "names");
    tf_json_str(&j, NULL, "A");
    tf_json_str(&j, NULL, "B");
    tf_json_end_arr(&j);
    tf_json_arr(&j, "none");
    tf_json_end_arr(&j);
    tf_json_obj(&j, "server_hello");
    tf_json_str(&j, "version", "TLSv1.2");
    tf_json_int(&j, "n", -7);
    tf_json_end_obj(&j);
    tf_json_str(&j, "high", "caf\xc3\xa9 \"q\"\x01");
    tf_json_end_obj(&j);
    TF_CHECK_STR(doc_end(&j, f, 0),
                 "{\"ok\": false, \"step\": \"handshake\", \"code\": null, "
                 "\"names\": [\"A\", \"B\"], \"none\": [], "
                 "\"server_hello\": {\"version\": \"TLSv1.2\", \"n\": -7}, "
                 "\"high\": \"caf\xc3\xa9 \\\"q\\\"\\u0001\"}\n");
}

int main(void)
{
    test_nested();
    test_escaping();
    test_base64();
    test_hex();
    test_errors();
    test_fmemopen();
    test_one_line();
    return tf_unit_report("test_json");
}
