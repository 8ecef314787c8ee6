/* fail.c -- describing a failure (fail.h). */
#include "fail.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

void tf_fail_set(struct tf_fail *f, const char *error, const char *fmt, ...)
{
    va_list ap;
    f->error = error;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof(f->message), fmt, ap);
    va_end(ap);
}

const char *tf_errno_name(int e)
{
    switch (e) {
        case ECONNREFUSED: return "ECONNREFUSED";
        case ETIMEDOUT: return "ETIMEDOUT";
        case EHOSTUNREACH: return "EHOSTUNREACH";
        case ENETUNREACH: return "ENETUNREACH";
        case ECONNRESET: return "ECONNRESET";
        case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
        case EACCES: return "EACCES";
        case ENOENT: return "ENOENT";
        case EISDIR: return "EISDIR";
        case ENOMEM: return "ENOMEM";
        default: return "ERRNO";
    }
}
