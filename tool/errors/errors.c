/* errors.c -- the table behind errors.h, and the command-line number parse. */
#include "errors.h"

#include <errno.h>
#include <stdlib.h>

#define TF_ERROR_ROW_(name, number, exit, tools, comment) { name, #name, exit, tools, comment },

static const tf_errinfo table[] = {
    TF_ERRORS(TF_ERROR_ROW_)
    { 0, NULL, 0, 0, NULL }
};

const tf_errinfo *tf_err_table(void) { return table; }

static const tf_errinfo *lookup(int code)
{
    const tf_errinfo *e;
    for (e = table; e->name != NULL; e++)
        if (e->code == code) return e;
    return NULL;
}

const char *tf_err_name(int code)
{
    const tf_errinfo *e = lookup(code);
    return e ? e->name : "TF_ERR_UNKNOWN";
}

const char *tf_err_comment(int code)
{
    const tf_errinfo *e = lookup(code);
    return e ? e->comment : "unknown error";
}

int tf_parse_long(const char *text, long lo, long hi, long *out)
{
    char *end;
    long n;
    errno = 0;
    n = strtol(text, &end, 10);
    if (errno || *end || end == text || n < lo || n > hi) return -1;
    *out = n;
    return 0;
}
