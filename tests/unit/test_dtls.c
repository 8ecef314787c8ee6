/*
 * test_dtls.c -- unit tests for tool/probe/dtls_frag.c (records, fragments,
 * reassembly) and dtls.c (the hello on the wire, the cookie exchange, a
 * ServerHello handed up in TLS form).
 *
 * The connection cases use a socketpair(AF_UNIX, SOCK_DGRAM): the test writes
 * the server's datagrams into one end before the prober reads the other, and
 * reads back what the prober sent.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dtls.h"
#include "dtls_conn.h"
#include "dtls_frag.h"
#include "errors.h"
#include "hello.h"
#include "net.h"
#include "record.h"
#include "unit.h"

static size_t record(uint8_t *out, uint8_t type, uint16_t epoch, uint64_t seq, const uint8_t *body,
                     size_t len)
{
    int i;
    out[0] = type;
    out[1] = 0xFE; out[2] = 0xFD;
    out[3] = (uint8_t)(epoch >> 8); out[4] = (uint8_t)epoch;
    for (i = 0; i < 6; i++) out[5 + i] = (uint8_t)(seq >> (8 * (5 - i)));
    out[11] = (uint8_t)(len >> 8); out[12] = (uint8_t)len;
    memcpy(out + 13, body, len);
    return 13 + len;
}

static size_t fragment(uint8_t *out, uint8_t type, const uint8_t *msg, size_t msg_len, uint16_t seq,
                       size_t off, size_t len)
{
    out[0] = type;
    out[1] = 0; out[2] = (uint8_t)(msg_len >> 8); out[3] = (uint8_t)msg_len;
    out[4] = (uint8_t)(seq >> 8); out[5] = (uint8_t)seq;
    out[6] = 0; out[7] = (uint8_t)(off >> 8); out[8] = (uint8_t)off;
    out[9] = 0; out[10] = (uint8_t)(len >> 8); out[11] = (uint8_t)len;
    memcpy(out + 12, msg + off, len);
    return 12 + len;
}

static void test_records(void)
{
    uint8_t dg[256], body[4] = { 1, 2, 3, 4 };
    size_t n = record(dg, 22, 0, 7, body, 4), at = 0;
    tf_drec r;
    char why[160];
    n += record(dg + n, 21, 1, 8, body, 2);
    TF_CHECK_EQ(tf_drec_next(dg, n, &at, &r, why, sizeof(why)), 0);
    TF_CHECK_EQ(r.type, 22); TF_CHECK_EQ(r.seq, 7); TF_CHECK_EQ(r.len, 4);
    TF_CHECK_EQ(tf_drec_next(dg, n, &at, &r, why, sizeof(why)), 0);
    TF_CHECK_EQ(r.type, 21); TF_CHECK_EQ(r.epoch, 1); TF_CHECK_EQ(r.len, 2);
    TF_CHECK_EQ(tf_drec_next(dg, n, &at, &r, why, sizeof(why)), 1);
    at = 0;
    TF_CHECK_EQ(tf_drec_next(dg, n - 1, &at, &r, why, sizeof(why)), 0);
    TF_CHECK_EQ(tf_drec_next(dg, n - 1, &at, &r, why, sizeof(why)), -1);   /* runs past the datagram */
    at = 0;
    TF_CHECK_EQ(tf_drec_next((const uint8_t *)"HTTP/1.1 400 Bad", 16, &at, &r, why, sizeof(why)), -2);
}

static void test_reassembly(void)
{
    uint8_t msg[400], rec[600];     /* messages of 300 bytes; the rest for a fragment that runs past */
    size_t i, at = 0, n;
    tf_dasm a;
    tf_dfrag f;
    char why[160];
    for (i = 0; i < sizeof(msg); i++) msg[i] = (uint8_t)(i * 7);
    memset(&a, 0, sizeof(a));
    /* 100..200 first: a gap, dropped; then 0..150 and 100..300 (overlapping) */
    n = fragment(rec, 11, msg, 300, 2, 100, 100);
    n += fragment(rec + n, 11, msg, 300, 2, 0, 150);
    n += fragment(rec + n, 11, msg, 300, 2, 100, 200);
    for (i = 0; i < 3; i++) {
        TF_CHECK_EQ(tf_dfrag_next(rec, n, &at, &f, why, sizeof(why)), 0);
        TF_CHECK_EQ(tf_dasm_add(&a, &f, why, sizeof(why)), 0);
        TF_CHECK_EQ(tf_dasm_complete(&a), i == 2);
    }
    TF_CHECK_EQ(a.dropped, 1);
    TF_CHECK_EQ(a.fragments, 2);
    TF_CHECK(a.msg[0] == 11 && a.msg[2] == 1 && a.msg[3] == 44);       /* TLS header: 300 bytes */
    TF_CHECK(memcmp(a.msg + 4, msg, 300) == 0);
    /* a fragment that disagrees on the length */
    tf_dasm_reset(&a);
    at = 0;
    n = fragment(rec, 11, msg, 300, 3, 0, 10);
    n += fragment(rec + n, 11, msg, 200, 3, 10, 10);
    TF_CHECK_EQ(tf_dfrag_next(rec, n, &at, &f, why, sizeof(why)), 0);
    TF_CHECK_EQ(tf_dasm_add(&a, &f, why, sizeof(why)), 0);
    TF_CHECK_EQ(tf_dfrag_next(rec, n, &at, &f, why, sizeof(why)), 0);
    TF_CHECK_EQ(tf_dasm_add(&a, &f, why, sizeof(why)), -1);
    /* a fragment past its message's end, and a message over the limit */
    at = 0;
    n = fragment(rec, 11, msg, 300, 4, 250, 60);
    rec[3] = 44;        /* still 300 bytes: 250 + 60 runs past */
    TF_CHECK_EQ(tf_dfrag_next(rec, n, &at, &f, why, sizeof(why)), -1);
    tf_dasm_reset(&a);
    a.max_len = 100;
    at = 0;
    n = fragment(rec, 11, msg, 300, 5, 0, 10);
    TF_CHECK_EQ(tf_dfrag_next(rec, n, &at, &f, why, sizeof(why)), 0);
    TF_CHECK_EQ(tf_dasm_add(&a, &f, why, sizeof(why)), -1);
    tf_dasm_free(&a);
}

/* Reads one datagram the prober sent; its length. */
static size_t sent(int fd, uint8_t *buf, size_t cap)
{
    ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
    return n > 0 ? (size_t)n : 0;
}

/* A DTLS connection on sv[0] (sv[1]: the server's end) that has sent its hello
   (with Connection ID when cid); the hello's length as hello.c wrote it (TLS form). */
static size_t start(tf_conn *c, int sv[2], int timeout_ms, int cid)
{
    static const uint16_t suites[] = { 0xC02B };
    uint8_t hello[1024];
    size_t hello_len = 0;
    tf_hello h;
    TF_CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    memset(&h, 0, sizeof(h));
    h.version = 0x0303;
    h.suites = suites; h.nsuites = 1;
    h.cid = cid;
    TF_CHECK_EQ(tf_hello_build(&h, hello, sizeof(hello), &hello_len), 0);
    tf_conn_init(c, sv[0], timeout_ms);
    c->dtls = tf_dtls_new();
    TF_CHECK_EQ(tf_conn_send(c, hello, hello_len), 0);
    return hello_len;
}

static void test_cookie_exchange(void)
{
    uint8_t out[2048], frag[512], sh[64];
    size_t hello_len, n, k;
    const uint8_t *msg;
    tf_conn c;
    int sv[2];

    hello_len = start(&c, sv, 500, 1);
    n = sent(sv[1], out, sizeof(out));
    TF_CHECK(n == hello_len - 5 + 13 + 8 + 1);     /* record 13 and fragment 12 headers, cookie length */
    TF_CHECK(out[0] == 22 && out[1] == 0xFE && out[2] == 0xFD && out[10] == 0);   /* sequence 0 */
    TF_CHECK(out[13] == 1 && out[17] == 0 && out[18] == 0);                      /* message_seq 0 */
    TF_CHECK(memcmp(out + 14, out + 22, 3) == 0);                                /* one fragment */
    TF_CHECK(out[25] == 0xFE && out[26] == 0xFD && out[25 + 2 + 32 + 1] == 0);   /* no cookie yet */

    /* the server: a HelloVerifyRequest, then a ServerHello (message_seq 1) */
    {
        uint8_t hvr[2 + 1 + 4] = { 0xFE, 0xFF, 4, 0xC0, 0x0C, 0x1E, 0x55 };
        k = fragment(frag, 3, hvr, sizeof(hvr), 0, 0, sizeof(hvr));
        n = record(out, 22, 0, 0, frag, k);
        TF_CHECK_EQ(send(sv[1], out, n, 0), (ssize_t)n);
    }
    memset(sh, 0, sizeof(sh));
    sh[0] = 0xFE; sh[1] = 0xFD;                        /* version, random, empty session id */
    sh[35] = 0xC0; sh[36] = 0x2B;                      /* suite, null compression, no extensions */
    k = fragment(frag, 2, sh, 38, 1, 0, 38);
    n = record(out, 22, 0, 1, frag, k);
    TF_CHECK_EQ(send(sv[1], out, n, 0), (ssize_t)n);
    TF_CHECK_EQ(tf_conn_handshake(&c, &msg, &n), 0);
    TF_CHECK(n == 4 + 38 && msg[0] == 2 && msg[4] == 3 && msg[5] == 3);   /* TLS form: 0x0303 */
    TF_CHECK_EQ(tf_dtls_facts_of(c.dtls)->hello_verify, 1);
    TF_CHECK_EQ(tf_dtls_facts_of(c.dtls)->round_trips, 2);
    TF_CHECK_EQ(tf_dtls_facts_of(c.dtls)->version, 0xFEFD);

    /* the second hello: record sequence 1, message_seq 1, the cookie */
    n = sent(sv[1], out, sizeof(out));
    TF_CHECK(n == hello_len - 5 + 13 + 8 + 1 + 4);
    TF_CHECK(out[10] == 1 && out[18] == 1);
    TF_CHECK(out[25 + 2 + 32 + 1] == 4 && memcmp(out + 25 + 2 + 32 + 2, "\xC0\x0C\x1E\x55", 4) == 0);
    tf_conn_free(&c);
    close(sv[1]);
}

static void test_silence(void)
{
    size_t len;
    const uint8_t *msg;
    tf_conn c;
    int sv[2];

    start(&c, sv, 350, 0);
    TF_CHECK_EQ(tf_conn_handshake(&c, &msg, &len), TF_ERR_DTLS_SILENT);
    TF_CHECK(tf_dtls_facts_of(c.dtls)->retransmissions >= 1);    /* 100 ms, 200 ms */
    TF_CHECK(strstr(c.detail, "no datagram answered") != NULL);
    tf_conn_free(&c);
    close(sv[1]);
}

int main(void)
{
    test_records();
    test_reassembly();
    test_cookie_exchange();
    test_silence();
    return tf_unit_report("dtls");
}
