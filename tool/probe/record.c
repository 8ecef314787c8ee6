/*
 * record.c -- record layer reader and handshake reassembly (see record.h).
 *
 * Implementation notes
 * --------------------
 * tf_conn_record():  reads exactly 5 header bytes into hdr, validates them
 *   (content type 20..23, major version 3, 0 < length <= TF_MAX_RECORD), then
 *   exactly `length` bytes into body; body_len = length.  A first record
 *   whose header is not TLS is classified: printable ASCII (an HTTP response,
 *   an SSH banner) -> TF_ERR_NOT_TLS, anything else -> TF_ERR_MALFORMED.
 *   Once `prot` is set, type-23 records are decrypted in place and body_len /
 *   type become the inner plaintext length and type.
 * tf_conn_handshake(): hs holds handshake bytes in arrival order.  Invariant
 *   on entry: hs_used <= hs_len; hs_used bytes at the front were handed out by
 *   the previous call and are dropped first (memmove).  A message is complete
 *   when hs_len >= 4 + its 24-bit length; until then more type-22 records
 *   are appended.  A record of another type arriving while a message is
 *   incomplete is a protocol violation (TF_ERR_MALFORMED).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_conn.h"
#include "errors.h"
#include "inner.h"
#include "net.h"
#include "record.h"

void tf_conn_init(tf_conn *c, int fd, int timeout_ms)
{
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->timeout_ms = timeout_ms;
}

void tf_conn_free(tf_conn *c)
{
    free(c->hs);
    c->hs = NULL;
    if (c->prot) tf_tls13_free(c->prot);
    c->prot = NULL;
    tf_dtls_close(c);
    tf_dtls_free(c->dtls);
    c->dtls = NULL;
    tf_net_close(c->fd);
    c->fd = -1;
}

void tf_conn_protect(tf_conn *c, tf_tls13 *t)
{
    if (c->prot) tf_tls13_free(c->prot);
    c->prot = t;
}

int tf_conn_send(tf_conn *c, const uint8_t *buf, size_t len)
{
    int rc;
    if (c->dtls) return tf_dtls_send_hello(c, buf, len);
    rc = tf_net_send(c->fd, buf, len, c->timeout_ms);
    if (rc) snprintf(c->detail, sizeof(c->detail), "could not send: %s", tf_err_comment(rc));
    return rc;
}

static int all_printable(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if ((p[i] < 0x20 || p[i] > 0x7e) && p[i] != '\r' && p[i] != '\n' && p[i] != '\t') return 0;
    return 1;
}

/* The timeout of the next read: timeout_ms, cut to what is left before deadline_ms
   (*by_deadline set when the deadline is the nearer bound); 0 when it has passed. */
static int read_timeout(const tf_conn *c, int *by_deadline)
{
    long long left;
    *by_deadline = 0;
    if (!c->deadline_ms) return c->timeout_ms;
    left = c->deadline_ms - tf_now_ms();
    if (left >= c->timeout_ms) return c->timeout_ms;
    *by_deadline = 1;
    return left > 0 ? (int)left : 0;
}

static int recv_exact(tf_conn *c, uint8_t *buf, size_t n, const char *what)
{
    size_t got = 0;
    int by_deadline, rc;
    int timeout = read_timeout(c, &by_deadline);
    rc = timeout > 0 ? tf_net_recv(c->fd, buf, n, timeout, &got) : TF_ERR_TIMEOUT;
    if (rc == TF_OK) return TF_OK;
    if (rc == TF_ERR_TIMEOUT && by_deadline) {
        snprintf(c->detail, sizeof(c->detail), "the connection passed its deadline (%d ms: %d x --timeout) "
                 "after %u records (waiting for a %s)", TF_CONN_DEADLINE_FACTOR * c->timeout_ms,
                 TF_CONN_DEADLINE_FACTOR, c->records, what);
        return rc;
    }
    if (rc == TF_ERR_CLOSED && got == 0 && strcmp(what, "record header") == 0)
        snprintf(c->detail, sizeof(c->detail), "the server closed the connection%s",
                 c->records ? " in the middle of the handshake" : " without answering the ClientHello");
    else if (rc == TF_ERR_CLOSED)
        snprintf(c->detail, sizeof(c->detail), "the server closed the connection after %zu of %zu bytes of a %s",
                 got, n, what);
    else if (rc == TF_ERR_TIMEOUT)
        snprintf(c->detail, sizeof(c->detail), "no answer within %d ms (waiting for a %s)", c->timeout_ms, what);
    else
        snprintf(c->detail, sizeof(c->detail), "connection reset while reading a %s", what);
    return rc;
}

static int check_header(tf_conn *c)
{
    uint32_t len = tf_dec16be(c->hdr + 3);
    uint8_t type = c->hdr[0];

    if (type < TF_CT_CCS || type > TF_CT_APPDATA || c->hdr[1] != 3 || c->hdr[2] > 4) {
        if (!c->saw_tls && all_printable(c->hdr, 5)) {
            char text[6];
            size_t i;
            for (i = 0; i < 5; i++) text[i] = (c->hdr[i] >= 0x20 && c->hdr[i] <= 0x7e) ? (char)c->hdr[i] : '.';
            text[5] = '\0';
            snprintf(c->detail, sizeof(c->detail), "the peer does not speak TLS (it answered \"%s...\")", text);
            return TF_ERR_NOT_TLS;
        }
        snprintf(c->detail, sizeof(c->detail), "not a TLS record header (%02x %02x %02x %02x %02x)",
                 c->hdr[0], c->hdr[1], c->hdr[2], c->hdr[3], c->hdr[4]);
        return TF_ERR_MALFORMED;
    }
    if (len == 0 || len > TF_MAX_RECORD) {
        snprintf(c->detail, sizeof(c->detail), "record length %u is %s", (unsigned)len,
                 len == 0 ? "zero" : "over the 2^14+2048 limit");
        return TF_ERR_MALFORMED;
    }
    return TF_OK;
}

static int unprotect(tf_conn *c)
{
    uint8_t inner;
    size_t plain;
    int rc = tf_tls13_open(c->prot, c->hdr, c->body, c->body_len, &inner, &plain);
    if (rc) {
        snprintf(c->detail, sizeof(c->detail), "could not decrypt a TLS 1.3 record of %zu bytes", c->body_len);
        return TF_ERR_CRYPTO;
    }
    c->type = inner;
    c->body_len = plain;
    return TF_OK;
}

static int handle_alert(tf_conn *c)
{
    if (c->body_len < 2) {
        snprintf(c->detail, sizeof(c->detail), "alert record of %zu bytes", c->body_len);
        return TF_ERR_MALFORMED;
    }
    c->alert_level = c->body[0];
    c->alert_desc = c->body[1];
    snprintf(c->detail, sizeof(c->detail), "the server sent alert %s (%u)", tf_alert_name(c->alert_desc),
             c->alert_desc);
    return TF_CONN_ALERT;
}

int tf_conn_record(tf_conn *c)
{
    int rc;
    size_t wire;

    if (c->records >= TF_MAX_RECORDS) {
        snprintf(c->detail, sizeof(c->detail), "the server sent more than %u records on one connection",
                 TF_MAX_RECORDS);
        return TF_ERR_MALFORMED;
    }
    rc = recv_exact(c, c->hdr, 5, "record header");
    if (rc) return rc;
    rc = check_header(c);
    if (rc) return rc;
    wire = tf_dec16be(c->hdr + 3);
    rc = recv_exact(c, c->body, wire, "record");
    if (rc) return rc;
    c->records++;
    c->saw_tls = 1;
    c->body_len = wire;
    c->type = c->hdr[0];
    if (wire > c->max_record_len) c->max_record_len = wire;
    if (c->prot && c->type == TF_CT_APPDATA) {
        rc = unprotect(c);
        if (rc) return rc;
    }
    if (c->body_len > c->max_plain_len) c->max_plain_len = c->body_len;
    if (c->type == TF_CT_ALERT) return handle_alert(c);
    return TF_OK;
}

/*
 * Most handshake bytes ever buffered: hs_append runs only while the message
 * at the front is incomplete and declares at most TF_MAX_HANDSHAKE body
 * bytes, so hs holds under 4 + TF_MAX_HANDSHAKE bytes plus one record.
 * (The limit is checked on the bytes needed, not on the doubled capacity:
 * doubling from 32 KiB jumps from 256 KiB to 512 KiB, which used to reject
 * messages within the limit once the buffer had to pass 256 KiB.)
 */
#define TF_HS_BUF_MAX (4 + TF_MAX_HANDSHAKE + TF_MAX_RECORD)

static int hs_append(tf_conn *c)
{
    size_t need = c->hs_len + c->body_len;
    if (c->body_len == 0) return TF_OK;     /* an empty fragment (hs may still be NULL) */
    if (need > c->hs_cap) {
        size_t cap = c->hs_cap ? c->hs_cap : 32768;
        uint8_t *n;
        if (need > TF_HS_BUF_MAX) {
            snprintf(c->detail, sizeof(c->detail), "handshake data over %u bytes", TF_MAX_HANDSHAKE);
            return TF_ERR_MALFORMED;
        }
        while (cap < need) cap *= 2;
        if (cap > TF_HS_BUF_MAX) cap = TF_HS_BUF_MAX;
        n = realloc(c->hs, cap);
        if (!n) return TF_ERR_NOMEM;
        c->hs = n;
        c->hs_cap = cap;
    }
    memcpy(c->hs + c->hs_len, c->body, c->body_len);
    c->hs_len += c->body_len;
    return TF_OK;
}

/* Length of the complete message at the front of hs, 0 if incomplete, or
   (size_t)-1 when its declared length is over the limit. */
static size_t hs_complete(const tf_conn *c)
{
    uint32_t body;
    if (c->hs_len < 4) return 0;
    body = tf_dec24be(c->hs + 1);
    if (body > TF_MAX_HANDSHAKE) return (size_t)-1;
    return c->hs_len >= 4 + (size_t)body ? 4 + (size_t)body : 0;
}

int tf_conn_handshake(tf_conn *c, const uint8_t **msg, size_t *len)
{
    size_t n;
    int rc;

    if (c->dtls) return tf_dtls_handshake(c, msg, len);
    if (c->messages >= TF_MAX_MESSAGES) {
        snprintf(c->detail, sizeof(c->detail), "the server sent more than %u handshake messages on one "
                 "connection", TF_MAX_MESSAGES);
        return TF_ERR_MALFORMED;
    }
    if (c->hs_used) {
        memmove(c->hs, c->hs + c->hs_used, c->hs_len - c->hs_used);
        c->hs_len -= c->hs_used;
        c->hs_used = 0;
    }
    while ((n = hs_complete(c)) == 0) {
        rc = tf_conn_record(c);
        if (rc) {
            if (rc == TF_ERR_CLOSED && c->hs_len > 0)
                snprintf(c->detail, sizeof(c->detail),
                         "the server closed the connection with a handshake message incomplete "
                         "(%zu of %u bytes)", c->hs_len, 4u + (c->hs_len >= 4 ? tf_dec24be(c->hs + 1) : 0u));
            return rc;
        }
        if (c->type == TF_CT_CCS) {
            if (c->hs_len) break;
            continue;
        }
        if (c->type != TF_CT_HANDSHAKE) {
            snprintf(c->detail, sizeof(c->detail), "unexpected record of type %u during the handshake", c->type);
            return TF_ERR_MALFORMED;
        }
        rc = hs_append(c);
        if (rc) return rc;
    }
    if (n == 0) {
        snprintf(c->detail, sizeof(c->detail), "handshake message interrupted by another record type");
        return TF_ERR_MALFORMED;
    }
    if (n == (size_t)-1) {
        snprintf(c->detail, sizeof(c->detail), "handshake message %u declares %u bytes, over the %u-byte limit",
                 c->hs[0], (unsigned)tf_dec24be(c->hs + 1), TF_MAX_HANDSHAKE);
        return TF_ERR_MALFORMED;
    }
    if (n > c->max_hs_len) c->max_hs_len = n;
    *msg = c->hs;
    *len = n;
    c->hs_used = n;
    c->messages++;
    return TF_OK;
}

const char *tf_alert_name(uint8_t desc)
{
    static const struct { uint8_t d; const char *n; } names[] = {
        { 0, "close_notify" }, { 10, "unexpected_message" }, { 20, "bad_record_mac" },
        { 22, "record_overflow" }, { 40, "handshake_failure" }, { 42, "bad_certificate" },
        { 43, "unsupported_certificate" }, { 47, "illegal_parameter" }, { 48, "unknown_ca" },
        { 50, "decode_error" }, { 51, "decrypt_error" }, { 70, "protocol_version" },
        { 71, "insufficient_security" }, { 80, "internal_error" }, { 86, "inappropriate_fallback" },
        { 90, "user_canceled" }, { 109, "missing_extension" }, { 110, "unsupported_extension" },
        { 112, "unrecognized_name" }, { 116, "certificate_required" }, { 120, "no_application_protocol" },
    };
    size_t i;
    for (i = 0; i < TF_ARRAY_LEN(names); i++)
        if (names[i].d == desc) return names[i].n;
    return "unknown";
}
