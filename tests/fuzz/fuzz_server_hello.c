/*
 * fuzz_server_hello.c -- ServerHello / HelloRetryRequest / EncryptedExtensions
 * (parse.c).
 *
 * Input: one handshake message with its 4-byte header, as tf_conn_handshake
 * returns it.  Both decoders run on every input (a fuzzer mutating a
 * ServerHello reaches the EncryptedExtensions code through the shared
 * extension walker and the reverse).  Checks: a key share pointer, when set,
 * lies inside the message; the ALPN string is terminated.
 */
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tf_server_hello sh;
    tf_server_exts ext;
    uint8_t *msg = malloc(size ? size : 1);     /* exact-size copy: ASan catches any over-read */

    if (!msg) return 0;
    if (size) memcpy(msg, data, size);
    memset(&sh, 0, sizeof(sh));
    if (tf_parse_server_hello(msg, size, &sh) == 0) {
        if (sh.ks_key && (sh.ks_key < msg || sh.ks_key + sh.ks_len > msg + size)) abort();
        if (memchr(sh.ext.alpn, '\0', sizeof(sh.ext.alpn)) == NULL) abort();
        if (sh.ks_len) (void)sh.ks_key[sh.ks_len - 1];
    }
    memset(&ext, 0, sizeof(ext));
    if (tf_parse_encrypted_extensions(msg, size, &ext) == 0) {
        if (memchr(ext.alpn, '\0', sizeof(ext.alpn)) == NULL) abort();
    }
    free(msg);
    return 0;
}
