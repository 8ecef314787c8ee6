/*
 * fuzz_record.c -- the record layer and handshake reassembly (record.c).
 *
 * Input: the bytes a server sends on one connection.  The harness takes
 * handshake messages with tf_conn_handshake() until it reports an error, an
 * alert or the end of the bytes, and checks what record.h promises of every
 * message returned: at least the 4-byte header, its 24-bit length matches,
 * within TF_MAX_HANDSHAKE, and the facts (largest record, plaintext,
 * message) bound what was seen.
 */
#include <stdlib.h>

#include "errors.h"
#include "fuzz.h"
#include "record.h"

#define MAX_MESSAGES 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t dec24(const uint8_t *p) { return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2]; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tf_conn *c = malloc(sizeof(*c));
    const uint8_t *msg;
    size_t len, i, total = 0;
    int rc = TF_OK;

    if (!c) return 0;
    tf_fuzz_net_set(data, size);
    tf_conn_init(c, 1000, 5000);
    for (i = 0; i < MAX_MESSAGES; i++) {
        rc = tf_conn_handshake(c, &msg, &len);
        if (rc) break;
        if (len < 4 || len != 4 + (size_t)dec24(msg + 1) || len > 4 + TF_MAX_HANDSHAKE) abort();
        if (len > c->max_hs_len) abort();
        total += len;
        if (total > size) abort();                 /* more handshake bytes than arrived */
        (void)msg[len - 1];
    }
    if (rc && c->detail[0] == '\0' && rc != TF_CONN_ALERT && rc != TF_ERR_NOMEM) abort(); /* an error says why */
    if (c->max_plain_len > TF_MAX_RECORD || c->max_record_len > TF_MAX_RECORD) abort();
    tf_conn_free(c);
    free(c);
    return 0;
}
