/* file.c -- reading a whole file (file.h). */
#include "file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/platform_util.h"

unsigned char *tf_file_read(const char *path, const char *what, size_t *len,
                            struct tf_fail *f)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        int e = errno;
        tf_fail_set(f, tf_errno_name(e), "cannot open %s %s: %s", what, path, strerror(e));
        return NULL;
    }
    size_t cap = 65536;
    unsigned char *data = malloc(cap);
    *len = 0;
    while (data != NULL) {
        *len += fread(data + *len, 1, cap - *len - 1, fp);
        if (*len < cap - 1) {
            break;
        }
        cap *= 2;
        unsigned char *bigger = realloc(data, cap);
        if (bigger == NULL) {
            tf_file_free(data, *len);
        }
        data = bigger;
    }
    int read_error = data != NULL && ferror(fp);
    fclose(fp);
    if (data == NULL) {
        tf_fail_set(f, "ENOMEM", "out of memory reading %s", path);
    } else if (read_error) {
        tf_file_free(data, *len);
        data = NULL;
        tf_fail_set(f, "EIO", "cannot read %s %s", what, path);
    } else {
        data[*len] = '\0';
    }
    return data;
}

void tf_file_free(unsigned char *p, size_t len)
{
    if (p != NULL) {
        mbedtls_platform_zeroize(p, len + 1);
        free(p);
    }
}
