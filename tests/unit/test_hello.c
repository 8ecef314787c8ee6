/*
 * test_hello.c -- unit tests for tool/probe/hello.c, the ClientHello builder.
 *
 * Each hello built by tf_hello_build is parsed back here with the inner.h
 * cursors, checking the record and handshake headers, legacy_version, the
 * session id, the cipher suite list and compression methods, then that every
 * extension expected for the configuration appears exactly once with the
 * exact body (written out byte by byte below) and that no other extension
 * appears.  Output buffers are exact-size heap allocations, so a write past
 * `cap` is reported by AddressSanitizer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "hello.h"
#include "inner.h"
#include "unit.h"

/* ------------------------------------------------------------------ */
/* Parsed ClientHello                                                   */
/* ------------------------------------------------------------------ */

#define MAX_EXTS 32

typedef struct {
    uint16_t type;
    const uint8_t *body;
    size_t len;
} ext_t;

typedef struct {
    int ok;                      /* every structural check passed */
    uint16_t legacy_version;
    const uint8_t *random;
    size_t sid_len;
    uint16_t suites[256];
    size_t nsuites;
    ext_t ext[MAX_EXTS];
    size_t next;
} hello_t;

/* Parses a whole record holding one ClientHello; structural checks are TF_CHECKs. */
static void parse_hello(const uint8_t *buf, size_t len, hello_t *h)
{
    tf_rd r, msg, sid, suites, comp, exts, e;
    const uint8_t *p;
    uint32_t rec_len, hs_len;

    memset(h, 0, sizeof(*h));
    tf_rd_init(&r, buf, len);
    TF_CHECK_EQ(tf_rd_u8(&r), 22);                  /* handshake record */
    TF_CHECK_EQ(tf_rd_u16(&r), 0x0301);             /* record version */
    rec_len = tf_rd_u16(&r);
    TF_CHECK_EQ(rec_len, len - 5);
    TF_CHECK_EQ(tf_rd_u8(&r), 1);                   /* client_hello */
    hs_len = tf_rd_u24(&r);
    TF_CHECK_EQ(hs_len, len - 9);
    tf_rd_init(&msg, r.buf + r.off, tf_rd_left(&r));

    h->legacy_version = (uint16_t)tf_rd_u16(&msg);
    h->random = tf_rd_bytes(&msg, 32);
    tf_rd_vec(&msg, 1, &sid);
    h->sid_len = sid.len;
    tf_rd_vec(&msg, 2, &suites);
    TF_CHECK_EQ(suites.len % 2, 0);
    while (!suites.bad && tf_rd_left(&suites) >= 2 && h->nsuites < TF_ARRAY_LEN(h->suites))
        h->suites[h->nsuites++] = (uint16_t)tf_rd_u16(&suites);
    tf_rd_vec(&msg, 1, &comp);
    TF_CHECK_EQ(comp.len, 1);
    p = tf_rd_bytes(&comp, 1);
    TF_CHECK(p && p[0] == 0);
    tf_rd_vec(&msg, 2, &exts);
    TF_CHECK(tf_rd_done(&msg));
    while (!exts.bad && !tf_rd_done(&exts)) {
        uint16_t type = (uint16_t)tf_rd_u16(&exts);
        tf_rd_vec(&exts, 2, &e);
        if (exts.bad || h->next >= MAX_EXTS) break;
        h->ext[h->next].type = type;
        h->ext[h->next].body = e.buf;
        h->ext[h->next].len = e.len;
        h->next++;
    }
    TF_CHECK(!exts.bad);
    TF_CHECK(!msg.bad);
    TF_CHECK(!r.bad);
    h->ok = !exts.bad && !msg.bad && !r.bad && rec_len == len - 5 && hs_len == len - 9 && tf_rd_done(&msg);
}

static size_t count_ext(const hello_t *h, uint16_t type)
{
    size_t i, n = 0;
    for (i = 0; i < h->next; i++) n += h->ext[i].type == type;
    return n;
}

static const ext_t *find_ext(const hello_t *h, uint16_t type)
{
    size_t i;
    for (i = 0; i < h->next; i++)
        if (h->ext[i].type == type) return &h->ext[i];
    return NULL;
}

/* The extension is present exactly once with exactly this body. */
static void expect_ext(const hello_t *h, uint16_t type, const uint8_t *body, size_t n, int line)
{
    const ext_t *e = find_ext(h, type);
    size_t c = count_ext(h, type);
    if (c != 1 || !e || e->len != n || (n && memcmp(e->body, body, n) != 0)) {
        fprintf(stderr, "line %d: extension %u: count %zu, length %zu (want 1, %zu)\n", line, type, c,
                e ? e->len : 0, n);
        tf_unit_fail++;
    } else {
        tf_unit_pass++;
    }
}
#define EXPECT_EXT(h, type, body) expect_ext(h, type, body, sizeof(body), __LINE__)
#define EXPECT_EMPTY_EXT(h, type) expect_ext(h, type, NULL, 0, __LINE__)
#define EXPECT_NO_EXT(h, type) TF_CHECK_EQ(count_ext(h, type), 0)

/* ------------------------------------------------------------------ */
/* Expected extension bodies                                            */
/* ------------------------------------------------------------------ */

enum {
    EXT_SNI = 0, EXT_MFL = 1, EXT_GROUPS = 10, EXT_POINTS = 11, EXT_SIGALGS = 13, EXT_ALPN = 16,
    EXT_ETM = 22, EXT_EMS = 23, EXT_RSL = 28, EXT_TICKET = 35, EXT_VERSIONS = 43, EXT_PSK_MODES = 45,
    EXT_KEY_SHARE = 51, EXT_RENEGO = 0xff01
};

static const uint16_t SUITES12[] = { 0xC02F, 0xC030, 0x009E, 0x002F, 0x00FF };
static const uint16_t SUITES13[] = { 0x1302, 0x1301, 0x1303 };
static const uint16_t SUITES10[] = { 0x0035, 0x002F, 0x000A };
static const uint16_t GROUPS[] = { 0x001d, 0x0017, 0x0100 };
static const uint16_t SIGALGS[] = { 0x0804, 0x0403, 0x0401 };

/* server_name: list length 14, host_name (0), name length 11, "example.com" */
static const uint8_t SNI_BODY[] = {
    0x00, 0x0e, 0x00, 0x00, 0x0b, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm'
};
static const uint8_t GROUPS_BODY[] = { 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x01, 0x00 };
static const uint8_t POINTS_BODY[] = { 0x01, 0x00 };
static const uint8_t SIGALGS_BODY[] = { 0x00, 0x06, 0x08, 0x04, 0x04, 0x03, 0x04, 0x01 };
static const uint8_t RENEGO_BODY[] = { 0x00 };
static const uint8_t ALPN_BODY[] = {
    0x00, 0x20,                                   /* 32 bytes of names */
    2, 'h', '2',
    8, 'h', 't', 't', 'p', '/', '1', '.', '1',
    4, 'm', 'q', 't', 't',
    14, 'x', '-', 'a', 'm', 'z', 'n', '-', 'm', 'q', 't', 't', '-', 'c', 'a'
};
static const uint8_t VERSIONS_BODY[] = { 0x02, 0x03, 0x04 };
static const uint8_t PSK_MODES_BODY[] = { 0x01, 0x01 };
static const uint8_t EMPTY_KEY_SHARE_BODY[] = { 0x00, 0x00 };

static void check_suites(const hello_t *h, const uint16_t *s, size_t n)
{
    size_t i;
    int same = h->nsuites == n;
    for (i = 0; same && i < n; i++) same = h->suites[i] == s[i];
    TF_CHECK_EQ(h->nsuites, n);
    TF_CHECK(same);
}

/* Builds h into an exact-size buffer found by building into a large one first. */
static uint8_t *build(const tf_hello *cfg, size_t *len)
{
    uint8_t big[4096];
    uint8_t *out;
    size_t n = 0, n2 = 0;
    TF_CHECK_EQ(tf_hello_build(cfg, big, sizeof(big), &n), TF_OK);
    out = malloc(n);
    if (!out) abort();
    TF_CHECK_EQ(tf_hello_build(cfg, out, n, &n2), TF_OK);     /* exact fit works */
    TF_CHECK_EQ(n2, n);
    *len = n;
    return out;
}

/* ------------------------------------------------------------------ */
/* Cases                                                                */
/* ------------------------------------------------------------------ */

static void test_tls12_everything(void)
{
    tf_hello cfg;
    hello_t h;
    uint8_t *out;
    size_t len;
    static const uint8_t MFL_BODY[] = { 0x02 };
    static const uint8_t RSL_BODY[] = { 0x20, 0x01 };

    memset(&cfg, 0, sizeof(cfg));
    cfg.version = 0x0303;
    cfg.suites = SUITES12; cfg.nsuites = TF_ARRAY_LEN(SUITES12);
    cfg.groups = GROUPS; cfg.ngroups = TF_ARRAY_LEN(GROUPS);
    cfg.sigalgs = SIGALGS; cfg.nsigalgs = TF_ARRAY_LEN(SIGALGS);
    cfg.sni = "example.com";
    cfg.mfl = 2;
    cfg.record_size_limit = 0x2001;
    cfg.alpn = tf_alpn_default; cfg.alpn_len = tf_alpn_default_len;
    out = build(&cfg, &len);
    parse_hello(out, len, &h);
    TF_CHECK(h.ok);
    TF_CHECK_EQ(h.legacy_version, 0x0303);
    TF_CHECK_EQ(h.sid_len, 0);
    check_suites(&h, SUITES12, TF_ARRAY_LEN(SUITES12));
    EXPECT_EXT(&h, EXT_SNI, SNI_BODY);
    EXPECT_EXT(&h, EXT_GROUPS, GROUPS_BODY);
    EXPECT_EXT(&h, EXT_POINTS, POINTS_BODY);
    EXPECT_EXT(&h, EXT_SIGALGS, SIGALGS_BODY);
    EXPECT_EMPTY_EXT(&h, EXT_EMS);
    EXPECT_EMPTY_EXT(&h, EXT_ETM);
    EXPECT_EMPTY_EXT(&h, EXT_TICKET);
    EXPECT_EXT(&h, EXT_RENEGO, RENEGO_BODY);
    EXPECT_EXT(&h, EXT_MFL, MFL_BODY);
    EXPECT_EXT(&h, EXT_RSL, RSL_BODY);
    EXPECT_EXT(&h, EXT_ALPN, ALPN_BODY);
    EXPECT_NO_EXT(&h, EXT_VERSIONS);
    EXPECT_NO_EXT(&h, EXT_KEY_SHARE);
    EXPECT_NO_EXT(&h, EXT_PSK_MODES);
    TF_CHECK_EQ(h.next, 11);                         /* nothing else */

    /* too small: every cap below the size fails cleanly, output length untouched */
    {
        size_t cap;
        int wrong = 0;
        for (cap = 0; cap < len; cap++) {
            uint8_t *small = malloc(cap ? cap : 1);
            size_t got = 12345;
            if (!small) abort();
            if (tf_hello_build(&cfg, small, cap, &got) != TF_ERR_INTERNAL || got != 12345) wrong++;
            free(small);
        }
        TF_CHECK_EQ(wrong, 0);
    }

    /* the random differs between two builds */
    {
        size_t len2;
        uint8_t *out2 = build(&cfg, &len2);
        hello_t h2;
        parse_hello(out2, len2, &h2);
        TF_CHECK_EQ(len2, len);
        TF_CHECK(h.random && h2.random && memcmp(h.random, h2.random, 32) != 0);
        free(out2);
    }
    free(out);
}

static void test_tls12_minimal(void)
{
    tf_hello cfg;
    hello_t h;
    uint8_t *out;
    size_t len;

    /* no groups, no sigalgs, no SNI (""), nothing optional */
    memset(&cfg, 0, sizeof(cfg));
    cfg.version = 0x0303;
    cfg.suites = SUITES12; cfg.nsuites = 1;
    cfg.sni = "";
    out = build(&cfg, &len);
    parse_hello(out, len, &h);
    TF_CHECK(h.ok);
    TF_CHECK_EQ(h.legacy_version, 0x0303);
    check_suites(&h, SUITES12, 1);
    EXPECT_NO_EXT(&h, EXT_SNI);
    EXPECT_NO_EXT(&h, EXT_GROUPS);
    EXPECT_NO_EXT(&h, EXT_POINTS);
    EXPECT_NO_EXT(&h, EXT_SIGALGS);
    EXPECT_NO_EXT(&h, EXT_MFL);
    EXPECT_NO_EXT(&h, EXT_RSL);
    EXPECT_NO_EXT(&h, EXT_ALPN);
    EXPECT_EMPTY_EXT(&h, EXT_EMS);
    EXPECT_EMPTY_EXT(&h, EXT_ETM);
    EXPECT_EMPTY_EXT(&h, EXT_TICKET);
    EXPECT_EXT(&h, EXT_RENEGO, RENEGO_BODY);
    TF_CHECK_EQ(h.next, 4);
    /* record 5, handshake 4, version 2, random 32, session id 1, one suite
       2 + 2, compression 2, extensions 2 + three empty ones 3 * 4 + renego 5 */
    TF_CHECK_EQ(len, 5 + 4 + 2 + 32 + 1 + 4 + 2 + 2 + 12 + 5);
    free(out);

    /* sni NULL behaves like "" */
    cfg.sni = NULL;
    out = build(&cfg, &len);
    parse_hello(out, len, &h);
    EXPECT_NO_EXT(&h, EXT_SNI);
    TF_CHECK_EQ(h.next, 4);
    free(out);
}

static void test_tls10_11(void)
{
    tf_hello cfg;
    hello_t h;
    uint8_t *out;
    size_t len;
    uint16_t v;

    for (v = 0x0301; v <= 0x0302; v++) {
        memset(&cfg, 0, sizeof(cfg));
        cfg.version = v;
        cfg.suites = SUITES10; cfg.nsuites = TF_ARRAY_LEN(SUITES10);
        cfg.groups = GROUPS; cfg.ngroups = 2;
        cfg.sigalgs = SIGALGS; cfg.nsigalgs = TF_ARRAY_LEN(SIGALGS);  /* ignored below 1.2 */
        cfg.sni = "";
        cfg.mfl = 1;
        out = build(&cfg, &len);
        parse_hello(out, len, &h);
        TF_CHECK(h.ok);
        TF_CHECK_EQ(h.legacy_version, v);
        TF_CHECK_EQ(h.sid_len, 0);
        check_suites(&h, SUITES10, TF_ARRAY_LEN(SUITES10));
        EXPECT_NO_EXT(&h, EXT_SNI);
        EXPECT_NO_EXT(&h, EXT_SIGALGS);
        EXPECT_NO_EXT(&h, EXT_VERSIONS);
        EXPECT_NO_EXT(&h, EXT_KEY_SHARE);
        EXPECT_EMPTY_EXT(&h, EXT_EMS);
        EXPECT_EMPTY_EXT(&h, EXT_ETM);
        EXPECT_EMPTY_EXT(&h, EXT_TICKET);
        {
            static const uint8_t G2[] = { 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17 };
            static const uint8_t M1[] = { 0x01 };
            EXPECT_EXT(&h, EXT_GROUPS, G2);
            EXPECT_EXT(&h, EXT_MFL, M1);
        }
        EXPECT_EXT(&h, EXT_POINTS, POINTS_BODY);
        EXPECT_EXT(&h, EXT_RENEGO, RENEGO_BODY);
        TF_CHECK_EQ(h.next, 7);
        free(out);
    }
}

static void test_tls13(void)
{
    tf_hello cfg;
    hello_t h;
    uint8_t *out, key[32];
    size_t len, i;
    int with_key;

    for (i = 0; i < 32; i++) key[i] = (uint8_t)(0x80 + i);
    for (with_key = 0; with_key <= 1; with_key++) {
        memset(&cfg, 0, sizeof(cfg));
        cfg.version = 0x0304;
        cfg.suites = SUITES13; cfg.nsuites = TF_ARRAY_LEN(SUITES13);
        cfg.groups = GROUPS; cfg.ngroups = TF_ARRAY_LEN(GROUPS);
        cfg.sigalgs = SIGALGS; cfg.nsigalgs = TF_ARRAY_LEN(SIGALGS);
        cfg.sni = "example.com";
        cfg.record_size_limit = 0x4001;
        cfg.alpn = tf_alpn_default; cfg.alpn_len = tf_alpn_default_len;
        if (with_key) {
            cfg.key_share_group = 0x001d;
            cfg.key_share = key;
            cfg.key_share_len = 32;
        }
        out = build(&cfg, &len);
        parse_hello(out, len, &h);
        TF_CHECK(h.ok);
        TF_CHECK_EQ(h.legacy_version, 0x0303);
        TF_CHECK_EQ(h.sid_len, 32);                      /* middlebox compatibility */
        check_suites(&h, SUITES13, TF_ARRAY_LEN(SUITES13));
        EXPECT_EXT(&h, EXT_SNI, SNI_BODY);
        EXPECT_EXT(&h, EXT_GROUPS, GROUPS_BODY);
        EXPECT_EXT(&h, EXT_POINTS, POINTS_BODY);
        EXPECT_EXT(&h, EXT_SIGALGS, SIGALGS_BODY);
        EXPECT_EXT(&h, EXT_RENEGO, RENEGO_BODY);
        {
            static const uint8_t RSL13[] = { 0x40, 0x01 };
            EXPECT_EXT(&h, EXT_RSL, RSL13);
        }
        EXPECT_EXT(&h, EXT_ALPN, ALPN_BODY);
        EXPECT_EXT(&h, EXT_VERSIONS, VERSIONS_BODY);
        EXPECT_EXT(&h, EXT_PSK_MODES, PSK_MODES_BODY);
        if (with_key) {
            uint8_t ks[2 + 2 + 2 + 32];
            ks[0] = 0x00; ks[1] = 0x24;                  /* client_shares: 36 bytes */
            ks[2] = 0x00; ks[3] = 0x1d;                  /* x25519 */
            ks[4] = 0x00; ks[5] = 0x20;                  /* key_exchange: 32 bytes */
            memcpy(ks + 6, key, 32);
            EXPECT_EXT(&h, EXT_KEY_SHARE, ks);
        } else {
            EXPECT_EXT(&h, EXT_KEY_SHARE, EMPTY_KEY_SHARE_BODY);
        }
        EXPECT_NO_EXT(&h, EXT_EMS);
        EXPECT_NO_EXT(&h, EXT_ETM);
        EXPECT_NO_EXT(&h, EXT_TICKET);
        EXPECT_NO_EXT(&h, EXT_MFL);
        TF_CHECK_EQ(h.next, 10);

        /* too small */
        {
            size_t cap;
            int wrong = 0;
            for (cap = 0; cap < len; cap++) {
                uint8_t *small = malloc(cap ? cap : 1);
                size_t got = 777;
                if (!small) abort();
                if (tf_hello_build(&cfg, small, cap, &got) != TF_ERR_INTERNAL || got != 777) wrong++;
                free(small);
            }
            TF_CHECK_EQ(wrong, 0);
        }
        free(out);
    }

    /* a larger key share (secp256r1 uncompressed point, 65 bytes) */
    {
        uint8_t point[65];
        const ext_t *e;
        memset(point, 0x42, sizeof(point));
        point[0] = 4;
        memset(&cfg, 0, sizeof(cfg));
        cfg.version = 0x0304;
        cfg.suites = SUITES13; cfg.nsuites = 1;
        cfg.key_share_group = 0x0017;
        cfg.key_share = point;
        cfg.key_share_len = sizeof(point);
        out = build(&cfg, &len);
        parse_hello(out, len, &h);
        TF_CHECK(h.ok);
        e = find_ext(&h, EXT_KEY_SHARE);
        TF_CHECK(e != NULL);
        if (e) {
            TF_CHECK_EQ(e->len, 2 + 2 + 2 + 65);
            TF_CHECK_EQ(((unsigned)e->body[0] << 8) | e->body[1], 69);
            TF_CHECK_EQ(((unsigned)e->body[2] << 8) | e->body[3], 0x0017);
            TF_CHECK_EQ(((unsigned)e->body[4] << 8) | e->body[5], 65);
            TF_CHECK(e->len == 71 && memcmp(e->body + 6, point, 65) == 0);
        }
        EXPECT_NO_EXT(&h, EXT_SNI);
        EXPECT_NO_EXT(&h, EXT_GROUPS);
        EXPECT_NO_EXT(&h, EXT_SIGALGS);
        TF_CHECK_EQ(h.next, 4);                          /* renego, versions, psk modes, key_share */
        free(out);
    }
}

/* A long suite list and a long host name still fit the length prefixes. */
static void test_sizes(void)
{
    static uint16_t many[200];
    char host[254];
    tf_hello cfg;
    hello_t h;
    uint8_t *out;
    size_t len, i;
    const ext_t *e;

    for (i = 0; i < TF_ARRAY_LEN(many); i++) many[i] = (uint16_t)(0xC000 + i);
    memset(host, 'a', sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    memset(&cfg, 0, sizeof(cfg));
    cfg.version = 0x0303;
    cfg.suites = many; cfg.nsuites = TF_ARRAY_LEN(many);
    cfg.sni = host;
    out = build(&cfg, &len);
    parse_hello(out, len, &h);
    TF_CHECK(h.ok);
    check_suites(&h, many, TF_ARRAY_LEN(many));
    e = find_ext(&h, EXT_SNI);
    TF_CHECK(e != NULL);
    if (e) {
        TF_CHECK_EQ(e->len, 2 + 1 + 2 + 253);
        TF_CHECK_EQ(((unsigned)e->body[0] << 8) | e->body[1], 256);
        TF_CHECK_EQ(e->body[2], 0);
        TF_CHECK_EQ(((unsigned)e->body[3] << 8) | e->body[4], 253);
        TF_CHECK(e->len == 258 && memcmp(e->body + 5, host, 253) == 0);
    }
    free(out);
}

/* --alpn's list: parsed into a protocol_name_list, written back as text; bad lists refused. */
static void test_alpn_list(void)
{
    static const uint8_t two[] = { 2, 'h', '2', 14, 'x', '-', 'a', 'm', 'z', 'n', '-', 'm', 'q', 't', 't', '-', 'c', 'a' };
    uint8_t list[256], small[17];
    char text[64], name300[301];
    size_t len = 0;

    TF_CHECK_EQ(tf_alpn_list_parse("h2,x-amzn-mqtt-ca", list, sizeof(list), &len), 0);
    TF_CHECK_EQ(len, sizeof(two));
    TF_CHECK(memcmp(list, two, sizeof(two)) == 0);
    tf_alpn_list_text(list, len, text, sizeof(text));
    TF_CHECK_STR(text, "h2,x-amzn-mqtt-ca");
    tf_alpn_list_text(tf_alpn_default, tf_alpn_default_len, text, sizeof(text));
    TF_CHECK_STR(text, "h2,http/1.1,mqtt,x-amzn-mqtt-ca");

    TF_CHECK_EQ(tf_alpn_list_parse("", list, sizeof(list), &len), -1);
    TF_CHECK_EQ(tf_alpn_list_parse("a,,b", list, sizeof(list), &len), -1);
    TF_CHECK_EQ(tf_alpn_list_parse("a,", list, sizeof(list), &len), -1);
    TF_CHECK_EQ(tf_alpn_list_parse("has space", list, sizeof(list), &len), -1);
    TF_CHECK_EQ(tf_alpn_list_parse("h2,x-amzn-mqtt-ca", small, sizeof(small), &len), -1);   /* 18 > 17 */
    memset(name300, 'a', 300);
    name300[300] = '\0';
    TF_CHECK_EQ(tf_alpn_list_parse(name300, list, sizeof(list), &len), -1);                /* a name over 255 */

    tf_alpn_list_text(list, 0, text, sizeof(text));
    TF_CHECK_STR(text, "");
    tf_alpn_list_text(two, sizeof(two) - 1, text, sizeof(text));                          /* cut: the whole names only */
    TF_CHECK_STR(text, "h2");
}

int main(void)
{
    test_alpn_list();
    test_tls12_everything();
    test_tls12_minimal();
    test_tls10_11();
    test_tls13();
    test_sizes();
    return tf_unit_report("test_hello");
}
