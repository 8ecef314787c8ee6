/*
 * test_record.c -- unit tests for tool/probe/record.c: the record reader,
 * peer classification and handshake reassembly of tf_conn.
 *
 * Each case writes prepared bytes into one end of a socketpair(AF_UNIX,
 * SOCK_STREAM), then shuts down or closes that end (the "server" closing) or
 * leaves it open (a silent server), and reads the other end with tf_conn.
 * The reading end is non-blocking, as the prober's TCP sockets are, so the
 * tf_net_recv deadline applies.  Inputs larger than a socket buffer are
 * written by a child process.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errors.h"
#include "net.h"
#include "record.h"
#include "tls13.h"
#include "rfc8448.h"
#include "unit.h"

#include <mbedtls/gcm.h>

#define TIMEOUT_MS 200

/* ------------------------------------------------------------------ */
/* Byte builder                                                         */
/* ------------------------------------------------------------------ */

typedef struct {
    uint8_t *b;
    size_t n, cap;
} bytes;

static void by_init(bytes *x) { x->b = NULL; x->n = 0; x->cap = 0; }
static void by_free(bytes *x) { free(x->b); by_init(x); }
static void by_put(bytes *x, const void *p, size_t k)
{
    if (x->n + k > x->cap) {
        size_t cap = x->cap ? x->cap : 256;
        uint8_t *nb;
        while (cap < x->n + k) cap *= 2;
        nb = realloc(x->b, cap);
        if (!nb) abort();
        x->b = nb;
        x->cap = cap;
    }
    if (k) memcpy(x->b + x->n, p, k);
    x->n += k;
}
static void by_u8(bytes *x, unsigned v) { uint8_t b = (uint8_t)v; by_put(x, &b, 1); }
static void by_u16(bytes *x, unsigned v) { by_u8(x, v >> 8); by_u8(x, v); }
static void by_u24(bytes *x, unsigned v) { by_u8(x, v >> 16); by_u16(x, v); }
static void by_str(bytes *x, const char *s) { by_put(x, s, strlen(s)); }

/* A record header with an arbitrary length field. */
static void rec_hdr(bytes *x, unsigned type, unsigned len)
{
    by_u8(x, type);
    by_u16(x, 0x0303);
    by_u16(x, len);
}
static void record(bytes *x, unsigned type, const uint8_t *body, size_t n)
{
    rec_hdr(x, type, (unsigned)n);
    by_put(x, body, n);
}

/* A handshake message of `type` whose body is `n` pattern bytes seeded by `seed`. */
static void hs_msg(bytes *x, unsigned type, size_t n, unsigned seed)
{
    size_t i;
    by_u8(x, type);
    by_u24(x, (unsigned)n);
    for (i = 0; i < n; i++) by_u8(x, (unsigned)(seed + i * 13));
}

/* Cuts `msg` into records of the given sizes (the last takes the rest). */
static void fragment(bytes *out, unsigned type, const bytes *msg, const size_t *sizes, size_t nsizes)
{
    size_t off = 0, i;
    for (i = 0; i < nsizes && off < msg->n; i++) {
        size_t k = (i + 1 == nsizes) ? msg->n - off : sizes[i];
        if (k > msg->n - off) k = msg->n - off;
        record(out, type, msg->b + off, k);
        off += k;
    }
}

/* ------------------------------------------------------------------ */
/* Connection plumbing                                                  */
/* ------------------------------------------------------------------ */

enum { END_SHUTDOWN, END_CLOSE, END_OPEN };

typedef struct {
    tf_conn *c;
    int peer;          /* the "server" end, -1 once closed */
    pid_t writer;      /* child writing big inputs, or 0 */
} pipe_conn;

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) { perror("write"); abort(); }
        p += w;
        n -= (size_t)w;
    }
}

/* Opens a connection whose peer has sent `data` and then ends as `how`. */
static void pc_open(pipe_conn *pc, const bytes *data, int how)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) { perror("socketpair"); abort(); }
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    pc->c = calloc(1, sizeof(*pc->c));
    if (!pc->c) abort();
    tf_conn_init(pc->c, sv[0], TIMEOUT_MS);
    pc->peer = sv[1];
    pc->writer = 0;
    if (data && data->n > 65536) {
        /* more than a socket buffer holds: a child writes while we read */
        pid_t pid;
        fflush(NULL);
        pid = fork();
        if (pid < 0) { perror("fork"); abort(); }
        if (pid == 0) {
            close(sv[0]);
            write_all(sv[1], data->b, data->n);
            if (how == END_SHUTDOWN) shutdown(sv[1], SHUT_WR);
            _exit(0);
        }
        pc->writer = pid;
        if (how != END_OPEN) { close(sv[1]); pc->peer = -1; }
        return;
    }
    if (data && data->n) write_all(sv[1], data->b, data->n);
    if (how == END_SHUTDOWN) shutdown(sv[1], SHUT_WR);
    else if (how == END_CLOSE) { close(sv[1]); pc->peer = -1; }
}

static void pc_close(pipe_conn *pc)
{
    tf_conn_free(pc->c);
    TF_CHECK_EQ(pc->c->fd, -1);
    free(pc->c);
    if (pc->peer >= 0) close(pc->peer);
    if (pc->writer > 0) {
        int st;
        kill(pc->writer, SIGKILL);   /* it may be blocked on a full buffer */
        waitpid(pc->writer, &st, 0);
    }
}

/* One-shot: the result of tf_conn_record on a peer that sent `data`. */
static int record_rc(const bytes *data, int how, tf_conn *copy_out)
{
    pipe_conn pc;
    int rc;
    pc_open(&pc, data, how);
    rc = tf_conn_record(pc.c);
    if (copy_out) memcpy(copy_out, pc.c, sizeof(*copy_out));
    pc_close(&pc);
    return rc;
}

static int handshake_rc(const bytes *data, int how, tf_conn *copy_out)
{
    pipe_conn pc;
    const uint8_t *m = NULL;
    size_t n = 0;
    int rc;
    pc_open(&pc, data, how);
    rc = tf_conn_handshake(pc.c, &m, &n);
    if (copy_out) memcpy(copy_out, pc.c, sizeof(*copy_out));
    pc_close(&pc);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Cases                                                                */
/* ------------------------------------------------------------------ */

static void test_two_messages_one_record(void)
{
    bytes a, b, body, wire;
    pipe_conn pc;
    const uint8_t *m;
    size_t n;

    by_init(&a); by_init(&b); by_init(&body); by_init(&wire);
    hs_msg(&a, 2, 70, 1);        /* "ServerHello" */
    hs_msg(&b, 14, 0, 0);        /* ServerHelloDone, empty body */
    by_put(&body, a.b, a.n);
    by_put(&body, b.b, b.n);
    record(&wire, 22, body.b, body.n);

    pc_open(&pc, &wire, END_SHUTDOWN);
    TF_CHECK_EQ(tf_conn_handshake(pc.c, &m, &n), TF_OK);
    TF_CHECK_EQ(n, a.n);
    TF_CHECK(n == a.n && memcmp(m, a.b, n) == 0);
    TF_CHECK_EQ(tf_conn_handshake(pc.c, &m, &n), TF_OK);
    TF_CHECK_EQ(n, 4);
    TF_CHECK(n == 4 && memcmp(m, b.b, 4) == 0);
    TF_CHECK_EQ(pc.c->records, 1);
    TF_CHECK_EQ(pc.c->max_record_len, body.n);
    TF_CHECK_EQ(pc.c->max_plain_len, body.n);
    TF_CHECK_EQ(pc.c->max_hs_len, a.n);
    TF_CHECK_EQ(pc.c->saw_tls, 1);
    /* nothing more: the peer's shutdown shows as a close */
    TF_CHECK_EQ(tf_conn_handshake(pc.c, &m, &n), TF_ERR_CLOSED);
    TF_CHECK(strstr(pc.c->detail, "in the middle of the handshake") != NULL);
    pc_close(&pc);
    by_free(&a); by_free(&b); by_free(&body); by_free(&wire);
}

static void test_one_message_three_records(void)
{
    static const size_t sizes[] = { 300, 600, 0 };
    bytes msg, wire, next;
    pipe_conn pc;
    const uint8_t *m;
    size_t n;

    by_init(&msg); by_init(&wire); by_init(&next);
    hs_msg(&msg, 11, 1000, 7);                         /* 1004 bytes: 300 + 600 + 104 */
    fragment(&wire, 22, &msg, sizes, 3);
    TF_CHECK_EQ(wire.n, 1004 + 3 * 5);
    hs_msg(&next, 14, 0, 0);
    record(&wire, 22, next.b, next.n);

    pc_open(&pc, &wire, END_CLOSE);
    TF_CHECK_EQ(tf_conn_handshake(pc.c, &m, &n), TF_OK);
    TF_CHECK_EQ(n, 1004);
    TF_CHECK(n == 1004 && memcmp(m, msg.b, n) == 0);
    TF_CHECK_EQ(pc.c->records, 3);
    TF_CHECK_EQ(pc.c->max_record_len, 600);
    TF_CHECK_EQ(pc.c->max_plain_len, 600);
    TF_CHECK_EQ(pc.c->max_hs_len, 1004);
    TF_CHECK_EQ(tf_conn_handshake(pc.c, &m, &n), TF_OK);
    TF_CHECK_EQ(n, 4);
    TF_CHECK_EQ(m[0], 14);
    TF_CHECK_EQ(pc.c->max_hs_len, 1004);               /* a smaller one does not lower it */
    TF_CHECK_EQ(pc.c->records, 4);
    pc_close(&pc);
    by_free(&msg); by_free(&wire); by_free(&next);
}

/* The 4-byte handshake header itself split over records. */
static void test_header_split(void)
{
    static const size_t sizes[] = { 1, 2, 1, 0 };
    bytes msg, wire;
    pipe_conn pc;
    const uint8_t *m;
    size_t n;

    by_init(&msg); by_init(&wire);
    hs_msg(&msg, 12, 9, 3);
    fragment(&wire, 22, &msg, sizes, 4);
    pc_open(&pc, &wire, END_SHUTDOWN);
    TF_CHECK_EQ(tf_conn_handshake(pc.c, &m, &n), TF_OK);
    TF_CHECK_EQ(n, 13);
    TF_CHECK(n == 13 && memcmp(m, msg.b, n) == 0);
    TF_CHECK_EQ(pc.c->records, 4);
    TF_CHECK_EQ(pc.c->max_record_len, 9);
    pc_close(&pc);
    by_free(&msg); by_free(&wire);
}

static void test_alert(void)
{
    static const uint8_t alert[2] = { 2, 40 };
    bytes wire, msg;
    tf_conn *c = malloc(sizeof(*c));

    if (!c) abort();
    by_init(&wire); by_init(&msg);
    record(&wire, 21, alert, 2);
    TF_CHECK_EQ(record_rc(&wire, END_SHUTDOWN, c), TF_CONN_ALERT);
    TF_CHECK_EQ(c->alert_level, 2);
    TF_CHECK_EQ(c->alert_desc, 40);
    TF_CHECK(strstr(c->detail, "handshake_failure") != NULL);
    TF_CHECK_EQ(handshake_rc(&wire, END_OPEN, c), TF_CONN_ALERT);
    TF_CHECK_EQ(c->alert_desc, 40);

    /* alert after the first fragment of a message */
    hs_msg(&msg, 11, 40, 1);
    by_free(&wire);
    record(&wire, 22, msg.b, 20);
    record(&wire, 21, alert, 2);
    TF_CHECK_EQ(handshake_rc(&wire, END_OPEN, c), TF_CONN_ALERT);
    TF_CHECK_EQ(c->alert_desc, 40);

    /* an alert record too short to hold level and description */
    by_free(&wire);
    record(&wire, 21, alert, 1);
    TF_CHECK_EQ(record_rc(&wire, END_SHUTDOWN, c), TF_ERR_MALFORMED);

    by_free(&wire); by_free(&msg);
    free(c);
}

static void test_not_tls(void)
{
    bytes x;
    tf_conn *c = malloc(sizeof(*c));
    if (!c) abort();

    by_init(&x);
    by_str(&x, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    TF_CHECK_EQ(record_rc(&x, END_CLOSE, c), TF_ERR_NOT_TLS);
    TF_CHECK(strstr(c->detail, "HTTP/") != NULL);
    TF_CHECK_EQ(handshake_rc(&x, END_CLOSE, NULL), TF_ERR_NOT_TLS);

    by_free(&x);
    by_str(&x, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
    TF_CHECK_EQ(record_rc(&x, END_OPEN, c), TF_ERR_NOT_TLS);
    TF_CHECK(strstr(c->detail, "SSH-2") != NULL);

    /* five printable bytes and then a close: classified from the header alone */
    by_free(&x);
    by_str(&x, "220 s");
    TF_CHECK_EQ(record_rc(&x, END_CLOSE, NULL), TF_ERR_NOT_TLS);

    /* binary garbage */
    by_free(&x);
    by_u8(&x, 0x00); by_u8(&x, 0xFF); by_u8(&x, 0x13); by_u8(&x, 0x80); by_u8(&x, 0x01);
    by_u8(&x, 0x02);
    TF_CHECK_EQ(record_rc(&x, END_CLOSE, c), TF_ERR_MALFORMED);
    TF_CHECK(strstr(c->detail, "00 ff 13 80 01") != NULL);

    /* a header that looks like TLS but with major version 2 / minor 5 / type 24 */
    by_free(&x);
    by_u8(&x, 22); by_u16(&x, 0x0203); by_u16(&x, 1); by_u8(&x, 0);
    TF_CHECK_EQ(record_rc(&x, END_CLOSE, NULL), TF_ERR_MALFORMED);
    by_free(&x);
    by_u8(&x, 22); by_u16(&x, 0x0305); by_u16(&x, 1); by_u8(&x, 0);
    TF_CHECK_EQ(record_rc(&x, END_CLOSE, NULL), TF_ERR_MALFORMED);
    by_free(&x);
    by_u8(&x, 24); by_u16(&x, 0x0303); by_u16(&x, 1); by_u8(&x, 0);
    TF_CHECK_EQ(record_rc(&x, END_CLOSE, NULL), TF_ERR_MALFORMED);
    /* TLS 1.0 and SSL 3.0 record versions are fine */
    by_free(&x);
    by_u8(&x, 22); by_u16(&x, 0x0300); by_u16(&x, 1); by_u8(&x, 0);
    TF_CHECK_EQ(record_rc(&x, END_CLOSE, NULL), TF_OK);

    /* text after a valid record is a broken TLS peer, not another protocol */
    {
        pipe_conn pc;
        static const uint8_t ccs = 1;
        by_free(&x);
        record(&x, 20, &ccs, 1);
        by_str(&x, "HTTP/1.1 400 Bad Request\r\n\r\n");
        pc_open(&pc, &x, END_CLOSE);
        TF_CHECK_EQ(tf_conn_record(pc.c), TF_OK);
        TF_CHECK_EQ(pc.c->type, 20);
        TF_CHECK_EQ(tf_conn_record(pc.c), TF_ERR_MALFORMED);
        pc_close(&pc);
    }
    by_free(&x);
    free(c);
}

static void test_record_lengths(void)
{
    bytes x;
    uint8_t *big;
    tf_conn *c = malloc(sizeof(*c));
    size_t i;
    if (!c) abort();

    by_init(&x);
    rec_hdr(&x, 22, 0);
    TF_CHECK_EQ(record_rc(&x, END_SHUTDOWN, c), TF_ERR_MALFORMED);
    TF_CHECK(strstr(c->detail, "zero") != NULL);

    by_free(&x);
    rec_hdr(&x, 23, TF_MAX_RECORD + 1);                 /* 18433 */
    TF_CHECK_EQ(TF_MAX_RECORD + 1, 18433);
    TF_CHECK_EQ(record_rc(&x, END_SHUTDOWN, c), TF_ERR_MALFORMED);
    by_free(&x);
    rec_hdr(&x, 23, 0xFFFF);
    TF_CHECK_EQ(record_rc(&x, END_SHUTDOWN, NULL), TF_ERR_MALFORMED);

    /* exactly 18432: accepted, measured */
    big = malloc(TF_MAX_RECORD);
    if (!big) abort();
    for (i = 0; i < TF_MAX_RECORD; i++) big[i] = (uint8_t)i;
    by_free(&x);
    record(&x, 23, big, TF_MAX_RECORD);
    {
        pipe_conn pc;
        pc_open(&pc, &x, END_SHUTDOWN);
        TF_CHECK_EQ(tf_conn_record(pc.c), TF_OK);
        TF_CHECK_EQ(pc.c->body_len, TF_MAX_RECORD);
        TF_CHECK_EQ(pc.c->type, 23);
        TF_CHECK_EQ(pc.c->max_record_len, TF_MAX_RECORD);
        TF_CHECK(memcmp(pc.c->body, big, TF_MAX_RECORD) == 0);
        TF_CHECK_EQ(tf_conn_record(pc.c), TF_ERR_CLOSED);
        pc_close(&pc);
    }
    free(big);

    /* header, then 10 of 100 body bytes, then close */
    by_free(&x);
    rec_hdr(&x, 22, 100);
    for (i = 0; i < 10; i++) by_u8(&x, (unsigned)i);
    TF_CHECK_EQ(record_rc(&x, END_CLOSE, c), TF_ERR_CLOSED);
    TF_CHECK(strstr(c->detail, "10 of 100") != NULL);
    TF_CHECK_EQ(record_rc(&x, END_SHUTDOWN, NULL), TF_ERR_CLOSED);
    /* ... and the same with the peer silent instead: a timeout */
    TF_CHECK_EQ(record_rc(&x, END_OPEN, NULL), TF_ERR_TIMEOUT);

    /* 3 header bytes, then close */
    by_free(&x);
    by_u8(&x, 22); by_u16(&x, 0x0303);
    TF_CHECK_EQ(record_rc(&x, END_CLOSE, c), TF_ERR_CLOSED);
    by_free(&x);
    free(c);
}

static void test_close_and_timeout(void)
{
    tf_conn *c = malloc(sizeof(*c));
    long long t0, dt;
    int rc;
    if (!c) abort();

    TF_CHECK_EQ(record_rc(NULL, END_CLOSE, c), TF_ERR_CLOSED);
    TF_CHECK(strstr(c->detail, "without answering") != NULL);
    TF_CHECK_EQ(record_rc(NULL, END_SHUTDOWN, NULL), TF_ERR_CLOSED);
    TF_CHECK_EQ(handshake_rc(NULL, END_CLOSE, NULL), TF_ERR_CLOSED);

    t0 = tf_now_ms();
    rc = record_rc(NULL, END_OPEN, c);
    dt = tf_now_ms() - t0;
    TF_CHECK_EQ(rc, TF_ERR_TIMEOUT);
    TF_CHECK(dt >= TIMEOUT_MS - 20);
    TF_CHECK(dt < TIMEOUT_MS + 1000);
    TF_CHECK(strstr(c->detail, "200 ms") != NULL);

    t0 = tf_now_ms();
    rc = handshake_rc(NULL, END_OPEN, NULL);
    dt = tf_now_ms() - t0;
    TF_CHECK_EQ(rc, TF_ERR_TIMEOUT);
    TF_CHECK(dt < TIMEOUT_MS + 1000);
    free(c);
}

static void test_handshake_limits(void)
{
    bytes x, msg;
    tf_conn *c = malloc(sizeof(*c));
    if (!c) abort();
    by_init(&x); by_init(&msg);

    /* a message declaring 300 KiB, its header alone in a record */
    by_u8(&msg, 11);
    by_u24(&msg, 300 * 1024);
    record(&x, 22, msg.b, msg.n);
    TF_CHECK_EQ(handshake_rc(&x, END_OPEN, c), TF_ERR_MALFORMED);
    TF_CHECK(strstr(c->detail, "handshake message 11 declares 307200 bytes, over the 262144-byte limit") != NULL);
    /* ... and just over the limit */
    by_free(&x); by_free(&msg);
    by_u8(&msg, 11);
    by_u24(&msg, TF_MAX_HANDSHAKE + 1);
    record(&x, 22, msg.b, msg.n);
    TF_CHECK_EQ(handshake_rc(&x, END_OPEN, NULL), TF_ERR_MALFORMED);

    /* application_data in the middle of a fragmented message */
    by_free(&x); by_free(&msg);
    hs_msg(&msg, 11, 500, 2);
    record(&x, 22, msg.b, 200);
    record(&x, 23, (const uint8_t *)"data", 4);
    record(&x, 22, msg.b + 200, msg.n - 200);
    TF_CHECK_EQ(handshake_rc(&x, END_SHUTDOWN, c), TF_ERR_MALFORMED);
    TF_CHECK(strstr(c->detail, "type 23") != NULL);

    /* application_data where a message should start is as wrong */
    by_free(&x);
    record(&x, 23, (const uint8_t *)"data", 4);
    TF_CHECK_EQ(handshake_rc(&x, END_SHUTDOWN, NULL), TF_ERR_MALFORMED);

    /* a ChangeCipherSpec in the middle of a fragmented message */
    by_free(&x);
    record(&x, 22, msg.b, 200);
    record(&x, 20, (const uint8_t *)"\1", 1);
    record(&x, 22, msg.b + 200, msg.n - 200);
    TF_CHECK_EQ(handshake_rc(&x, END_SHUTDOWN, NULL), TF_ERR_MALFORMED);

    /* the peer closes with a message incomplete */
    by_free(&x);
    record(&x, 22, msg.b, 200);
    TF_CHECK_EQ(handshake_rc(&x, END_CLOSE, c), TF_ERR_CLOSED);
    TF_CHECK(strstr(c->detail, "200 of 504") != NULL);

    by_free(&x); by_free(&msg);
    free(c);
}

static void test_ccs_skipped(void)
{
    bytes a, b, x;
    pipe_conn pc;
    const uint8_t *m;
    size_t n;
    static const uint8_t ccs = 1;

    by_init(&a); by_init(&b); by_init(&x);
    hs_msg(&a, 2, 50, 4);
    hs_msg(&b, 11, 60, 5);
    record(&x, 20, &ccs, 1);          /* before everything (TLS 1.3 middlebox mode) */
    record(&x, 22, a.b, a.n);
    record(&x, 20, &ccs, 1);          /* between messages */
    record(&x, 20, &ccs, 1);
    record(&x, 22, b.b, b.n);
    pc_open(&pc, &x, END_SHUTDOWN);
    TF_CHECK_EQ(tf_conn_handshake(pc.c, &m, &n), TF_OK);
    TF_CHECK(n == a.n && memcmp(m, a.b, n) == 0);
    TF_CHECK_EQ(tf_conn_handshake(pc.c, &m, &n), TF_OK);
    TF_CHECK(n == b.n && memcmp(m, b.b, n) == 0);
    TF_CHECK_EQ(pc.c->records, 5);
    TF_CHECK_EQ(pc.c->max_hs_len, b.n);
    TF_CHECK_EQ(tf_conn_handshake(pc.c, &m, &n), TF_ERR_CLOSED);
    pc_close(&pc);
    by_free(&a); by_free(&b); by_free(&x);
}

/*
 * Messages near TF_MAX_HANDSHAKE, delivered in full-size records, each
 * followed in its last record by the next message (as a server sends a
 * large Certificate and then ServerHelloDone).  Every message whose declared
 * length is within the limit must come through.
 */
static void big_message(size_t body, size_t next_body, int expect_ok)
{
    bytes msg, stream, wire;
    pipe_conn pc;
    const uint8_t *m = NULL;
    size_t n = 0, off;
    int rc;

    by_init(&msg); by_init(&stream); by_init(&wire);
    hs_msg(&msg, 11, body, 9);
    by_put(&stream, msg.b, msg.n);
    hs_msg(&stream, 14, next_body, 1);
    for (off = 0; off < stream.n; ) {
        size_t k = stream.n - off < TF_MAX_RECORD ? stream.n - off : TF_MAX_RECORD;
        record(&wire, 22, stream.b + off, k);
        off += k;
    }
    pc_open(&pc, &wire, END_SHUTDOWN);
    rc = tf_conn_handshake(pc.c, &m, &n);
    if (expect_ok) {
        if (rc != TF_OK) fprintf(stderr, "message of %zu body bytes: %d (%s)\n", body, rc, pc.c->detail);
        TF_CHECK_EQ(rc, TF_OK);
        TF_CHECK_EQ(n, msg.n);
        TF_CHECK(rc == TF_OK && n == msg.n && memcmp(m, msg.b, n) == 0);
        TF_CHECK_EQ(pc.c->max_hs_len, msg.n);
        TF_CHECK_EQ(pc.c->max_record_len, TF_MAX_RECORD);
        rc = tf_conn_handshake(pc.c, &m, &n);
        TF_CHECK_EQ(rc, TF_OK);
        TF_CHECK(rc == TF_OK && n == 4 + next_body && m[0] == 14);
    } else {
        TF_CHECK_EQ(rc, TF_ERR_MALFORMED);
    }
    pc_close(&pc);
    by_free(&msg); by_free(&stream); by_free(&wire);
}

static void test_big_messages(void)
{
    big_message(100000, 0, 1);
    big_message(250000, 0, 1);
    /* ends at 260004, in a record that ends at 276480 (15 * 18432): the
       buffer must hold the message plus the rest of that record */
    big_message(260000, 20000, 1);
    big_message(TF_MAX_HANDSHAKE - 1, 0, 1);
    big_message(TF_MAX_HANDSHAKE, 0, 1);
    big_message(TF_MAX_HANDSHAKE, 30000, 1);
    big_message(TF_MAX_HANDSHAKE + 1, 0, 0);
}

static void test_alert_names(void)
{
    TF_CHECK_STR(tf_alert_name(0), "close_notify");
    TF_CHECK_STR(tf_alert_name(10), "unexpected_message");
    TF_CHECK_STR(tf_alert_name(40), "handshake_failure");
    TF_CHECK_STR(tf_alert_name(70), "protocol_version");
    TF_CHECK_STR(tf_alert_name(112), "unrecognized_name");
    TF_CHECK_STR(tf_alert_name(120), "no_application_protocol");
    TF_CHECK_STR(tf_alert_name(1), "unknown");
    TF_CHECK_STR(tf_alert_name(255), "unknown");
}

/*
 * An empty TLS 1.3 handshake fragment first (a protected record whose inner
 * plaintext is only the content type): hs_append ran memcpy(NULL, body, 0)
 * on the still unallocated buffer, undefined behaviour UBSan reports.  The
 * empty fragment adds nothing; the message of the next record is read.
 * Keys: RFC 8448 section 3 (its transcript and secret, as test_tls13.c).
 */

static void test_empty_protected_fragment(void)
{
    /* server_handshake_traffic_secret's key and iv (RFC 8448, TLS_AES_128_GCM_SHA256) */
    static const uint8_t key[16] = { 0x3f, 0xce, 0x51, 0x60, 0x09, 0xc2, 0x17, 0x27,
                                     0xd0, 0xf2, 0xe4, 0xe8, 0x6e, 0xe4, 0x03, 0xbc };
    static const uint8_t iv[12] = { 0x5d, 0x31, 0x3e, 0xb2, 0x67, 0x12, 0x76, 0xee,
                                    0x13, 0x00, 0x0b, 0x30 };
    uint8_t hdr[5] = { 23, 3, 3, 0, 17 }, inner = 22, ct[1], tag[16], buf[512];
    mbedtls_gcm_context gcm;
    tf_tls13 *t = NULL;
    const uint8_t *m = NULL;
    size_t n = 0;
    bytes data, msg;
    pipe_conn pc;

    mbedtls_gcm_init(&gcm);
    TF_CHECK_EQ(mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 128), 0);
    TF_CHECK_EQ(mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, 1, iv, sizeof iv, hdr, 5,
                                          &inner, ct, sizeof tag, tag), 0);
    mbedtls_gcm_free(&gcm);
    by_init(&data);
    by_init(&msg);
    by_put(&data, hdr, 5);                    /* the empty handshake fragment, sequence 0 */
    by_put(&data, ct, 1);
    by_put(&data, tag, sizeof tag);
    hs_msg(&msg, 14, 0, 0);                   /* then a whole ServerHelloDone, in the clear */
    record(&data, 22, msg.b, msg.n);

    TF_CHECK_EQ(tf_tls13_new(&t, 0x1301), 0);
    if (!t) { by_free(&data); by_free(&msg); return; }
    n = tf_unit_unhex(RFC8448_CLIENT_HELLO, buf, sizeof buf);
    tf_tls13_transcript(t, buf, n);
    n = tf_unit_unhex(RFC8448_SERVER_HELLO, buf, sizeof buf);
    tf_tls13_transcript(t, buf, n);
    n = tf_unit_unhex(RFC8448_ECDHE, buf, sizeof buf);
    TF_CHECK_EQ(tf_tls13_handshake_keys(t, buf, n), 0);

    pc_open(&pc, &data, END_SHUTDOWN);
    tf_conn_protect(pc.c, t);                 /* the connection owns it now */
    n = 0;
    TF_CHECK_EQ(tf_conn_handshake(pc.c, &m, &n), TF_OK);
    TF_CHECK_EQ(n, 4);
    TF_CHECK(m != NULL && m[0] == 14);
    TF_CHECK_EQ(pc.c->records, 2);
    pc_close(&pc);
    by_free(&data);
    by_free(&msg);
}

/* TF_MAX_RECORDS records on one connection are read; the next one is refused. */
static void test_record_cap(void)
{
    bytes x, shd;
    const uint8_t ccs = 1;
    tf_conn *c = malloc(sizeof(*c));
    size_t i;
    if (!c) abort();
    by_init(&x); by_init(&shd);
    hs_msg(&shd, 14, 0, 0);
    for (i = 0; i + 1 < TF_MAX_RECORDS; i++) record(&x, 20, &ccs, 1);
    record(&x, 22, shd.b, shd.n);
    TF_CHECK_EQ(handshake_rc(&x, END_SHUTDOWN, c), TF_OK);
    TF_CHECK_EQ(c->records, TF_MAX_RECORDS);
    by_free(&x);
    for (i = 0; i < TF_MAX_RECORDS; i++) record(&x, 20, &ccs, 1);
    record(&x, 22, shd.b, shd.n);
    TF_CHECK_EQ(handshake_rc(&x, END_SHUTDOWN, c), TF_ERR_MALFORMED);
    TF_CHECK(strstr(c->detail, "more than 4096 records on one connection") != NULL);
    by_free(&x); by_free(&shd);
    free(c);
}

/* TF_MAX_MESSAGES handshake messages on one connection are returned; the next is refused. */
static void test_message_cap(void)
{
    bytes x, msgs;
    pipe_conn pc;
    const uint8_t *m = NULL;
    size_t n = 0, i;
    by_init(&x); by_init(&msgs);
    for (i = 0; i <= TF_MAX_MESSAGES; i++) hs_msg(&msgs, 22, 0, 0);   /* CertificateStatus, empty */
    record(&x, 22, msgs.b, msgs.n);
    pc_open(&pc, &x, END_SHUTDOWN);
    for (i = 0; i < TF_MAX_MESSAGES; i++) TF_CHECK_EQ(tf_conn_handshake(pc.c, &m, &n), TF_OK);
    TF_CHECK_EQ(tf_conn_handshake(pc.c, &m, &n), TF_ERR_MALFORMED);
    TF_CHECK(strstr(pc.c->detail, "more than 64 handshake messages on one connection") != NULL);
    pc_close(&pc);
    by_free(&x); by_free(&msgs);
}

/* A connection past deadline_ms reads nothing more, whatever is waiting. */
static void test_conn_deadline(void)
{
    bytes x, shd;
    pipe_conn pc;
    const uint8_t *m = NULL;
    size_t n = 0;
    by_init(&x); by_init(&shd);
    hs_msg(&shd, 14, 0, 0);
    record(&x, 22, shd.b, shd.n);
    pc_open(&pc, &x, END_OPEN);
    pc.c->deadline_ms = tf_now_ms() - 1;
    TF_CHECK_EQ(tf_conn_handshake(pc.c, &m, &n), TF_ERR_TIMEOUT);
    TF_CHECK(strstr(pc.c->detail, "the connection passed its deadline (400 ms: 2 x --timeout) after 0 records")
             != NULL);
    pc_close(&pc);
    /* a deadline still ahead leaves the read alone */
    pc_open(&pc, &x, END_OPEN);
    pc.c->deadline_ms = tf_now_ms() + 60000;
    TF_CHECK_EQ(tf_conn_handshake(pc.c, &m, &n), TF_OK);
    TF_CHECK_EQ(n, 4);
    pc_close(&pc);
    by_free(&x); by_free(&shd);
}

int main(void)
{
    test_two_messages_one_record();
    test_one_message_three_records();
    test_header_split();
    test_alert();
    test_not_tls();
    test_record_lengths();
    test_close_and_timeout();
    test_handshake_limits();
    test_ccs_skipped();
    test_big_messages();
    test_alert_names();
    test_empty_protected_fragment();
    test_record_cap();
    test_conn_deadline();
    test_message_cap();
    return tf_unit_report("test_record");
}
