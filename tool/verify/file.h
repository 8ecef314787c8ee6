/*
 * file.h -- reading a whole file with stdio (no MBEDTLS_FS_IO needed), for the
 * trust anchors (ca.c) and the device's certificate and key (identity.c).
 */
#ifndef TF_VERIFY_FILE_H
#define TF_VERIFY_FILE_H

#include <stddef.h>

#include "fail.h"

/*
 * Reads the file at `path` into a malloc'd buffer with a NUL after its *len
 * bytes.  `what` names the file in the failure message ("the CA file").
 * Returns the buffer, or NULL with *f filled in (errno name, message).  A
 * buffer that held a key should be wiped (tf_file_free) before it is freed.
 */
unsigned char *tf_file_read(const char *path, const char *what, size_t *len,
                            struct tf_fail *f);

/* Zeroes the `len` bytes at p (and the NUL after them), then frees p. */
void tf_file_free(unsigned char *p, size_t len);

#endif
