/*
 * test_parse.c -- unit tests for tool/probe/parse.c, the decoders of the
 * server's handshake messages.
 *
 * Every vector is built field by field in this file (vb_* helpers below), so
 * each byte's meaning is visible where it is written.  For each decoder the
 * tests check one or more valid messages field by field, then hostile
 * variants:
 *   - every truncation of every valid vector, both with the 4-byte header's
 *     length left as it was and fixed up to the shorter length, decoded from
 *     an exact-size malloc'd copy so that AddressSanitizer reports any read
 *     past the message;
 *   - inner length fields that lie (session_id, extensions, ALPN, DH values,
 *     signatures, certificates, CA names ...);
 *   - wrong handshake type and trailing bytes.
 * Pointers the decoders hand back (key share, certificates, CA names) are
 * read in full by the tests, so a pointer outside the message is caught too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "inner.h"
#include "parse.h"
#include "tables.h"
#include "unit.h"

/* ------------------------------------------------------------------ */
/* Vector builder                                                      */
/* ------------------------------------------------------------------ */

typedef struct {
    uint8_t b[8192];
    size_t n;
    size_t at[8];       /* open length-prefixed vectors: offset of the prefix */
    unsigned lb[8];     /* ... and its size in bytes */
    int depth;
} vb;

static void vb_init(vb *v) { v->n = 0; v->depth = 0; }

static void vb_room(const vb *v, size_t k)
{
    if (v->n + k > sizeof(v->b)) {
        fprintf(stderr, "test vector builder overflow\n");
        abort();
    }
}
static void put8(vb *v, unsigned x) { vb_room(v, 1); v->b[v->n++] = (uint8_t)x; }
static void put16(vb *v, unsigned x) { put8(v, x >> 8); put8(v, x); }
static void put24(vb *v, unsigned x) { put8(v, x >> 16); put16(v, x); }
static void putn(vb *v, const void *p, size_t k) { vb_room(v, k); memcpy(v->b + v->n, p, k); v->n += k; }
/* k bytes of a recognisable pattern starting with `seed`. */
static void fill(vb *v, size_t k, unsigned seed)
{
    size_t i;
    for (i = 0; i < k; i++) put8(v, (unsigned)(seed + i * 7));
}

static void set16(uint8_t *p, unsigned x) { p[0] = (uint8_t)(x >> 8); p[1] = (uint8_t)x; }
static void set24(uint8_t *p, unsigned x) { p[0] = (uint8_t)(x >> 16); set16(p + 1, x); }
static unsigned get16(const uint8_t *p) { return ((unsigned)p[0] << 8) | p[1]; }
static unsigned get24(const uint8_t *p) { return ((unsigned)p[0] << 16) | get16(p + 1); }

/* Opens a vector with a `lb`-byte length prefix; vclose() fills it in. */
static void vopen(vb *v, unsigned lb)
{
    v->at[v->depth] = v->n;
    v->lb[v->depth++] = lb;
    if (lb == 1) put8(v, 0); else if (lb == 2) put16(v, 0); else put24(v, 0);
}
static void vclose(vb *v)
{
    size_t at, len;
    unsigned lb;
    v->depth--;
    at = v->at[v->depth];
    lb = v->lb[v->depth];
    len = v->n - at - lb;
    if (lb == 1) v->b[at] = (uint8_t)len;
    else if (lb == 2) set16(v->b + at, (unsigned)len);
    else set24(v->b + at, (unsigned)len);
}

static void hs_begin(vb *v, unsigned type) { put8(v, type); vopen(v, 3); }
static void hs_end(vb *v) { vclose(v); }
static void ext_begin(vb *v, unsigned type) { put16(v, type); vopen(v, 2); }
static void ext_end(vb *v) { vclose(v); }

/* A mutable copy of a vector, for the lies. */
typedef struct {
    uint8_t b[8192];
    size_t n;
} copy_t;
static void copy_of(copy_t *c, const vb *v) { memcpy(c->b, v->b, v->n); c->n = v->n; }

/* Reads every byte of [p, p+n): under ASan a bad pointer shows up here. */
static unsigned long touch(const uint8_t *p, size_t n)
{
    unsigned long s = 0;
    size_t i;
    for (i = 0; i < n; i++) s += p[i];
    return s;
}

/* ------------------------------------------------------------------ */
/* Decoder dispatch, used by the generic hostile-input loops           */
/* ------------------------------------------------------------------ */

enum { D_SH, D_EE, D_SKE, D_CERT, D_CREQ, D_CV };

typedef struct {
    const char *name;
    int which;
    tf_kx kx;          /* D_SKE */
    uint16_t version;  /* D_SKE, D_CREQ */
    int tls13;         /* D_CERT, D_CREQ */
} dec_spec;

typedef struct {
    size_t n;
    size_t lens[8];
    uint8_t second[8];  /* der[1] of each certificate: identifies it */
    unsigned long sum;
    size_t stop_after;  /* return non-zero after this many (0 = never) */
} cert_seen;

static int cert_cb(void *ctx, const uint8_t *der, size_t len)
{
    cert_seen *s = ctx;
    s->sum += touch(der, len);
    if (s->n < 8) {
        s->lens[s->n] = len;
        s->second[s->n] = len > 1 ? der[1] : 0;
    }
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static int run_decoder(const dec_spec *d, const uint8_t *m, size_t n)
{
    int rc = TF_ERR_INTERNAL;
    switch (d->which) {
    case D_SH: {
        tf_server_hello sh;
        rc = tf_parse_server_hello(m, n, &sh);
        if (rc == TF_OK && sh.ks_key) (void)touch(sh.ks_key, sh.ks_len);
        break;
    }
    case D_EE: {
        tf_server_exts x;
        memset(&x, 0, sizeof(x));
        rc = tf_parse_encrypted_extensions(m, n, &x);
        break;
    }
    case D_SKE: {
        tf_ske ske;
        rc = tf_parse_ske(m, n, d->kx, d->version, &ske);
        break;
    }
    case D_CERT: {
        cert_seen s;
        memset(&s, 0, sizeof(s));
        rc = tf_parse_certificate(m, n, d->tls13, cert_cb, &s);
        break;
    }
    case D_CREQ: {
        static tf_certreq cr;
        size_t i;
        rc = tf_parse_cert_request(m, n, d->tls13, d->version, &cr);
        if (rc == TF_OK)
            for (i = 0; i < cr.nca; i++) (void)touch(cr.ca_der[i], cr.ca_len[i]);
        break;
    }
    case D_CV: {
        uint16_t sig;
        rc = tf_parse_cert_verify(m, n, &sig);
        break;
    }
    }
    return rc;
}

/* Decodes an exact-size heap copy of msg[0..n). */
static int run_exact(const dec_spec *d, const uint8_t *msg, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    int rc;
    if (!p) abort();
    if (n) memcpy(p, msg, n);
    rc = run_decoder(d, p, n);
    free(p);
    return rc;
}

/*
 * Every truncation msg[0..cut), cut < len: with the header left alone the
 * result must be TF_ERR_MALFORMED; with the header's length fixed up it must
 * be TF_ERR_MALFORMED or TF_OK.  Returns how many fixed-up truncations were
 * accepted (callers know which are legitimately complete messages).
 */
static int truncations(const dec_spec *d, const uint8_t *msg, size_t len)
{
    size_t cut;
    int unexpected = 0, accepted = 0;
    for (cut = 0; cut < len; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        int rc;
        if (!p) abort();
        memcpy(p, msg, cut);
        rc = run_decoder(d, cut ? p : p + 1, cut); /* cut 0: a pointer with nothing readable */
        if (rc != TF_ERR_MALFORMED) {
            if (!unexpected) fprintf(stderr, "%s: unfixed truncation to %zu bytes gave %d\n", d->name, cut, rc);
            unexpected++;
        }
        if (cut >= 4) {
            memcpy(p, msg, cut);
            set24(p + 1, (unsigned)(cut - 4));
            rc = run_decoder(d, p, cut);
            if (rc == TF_OK) accepted++;
            else if (rc != TF_ERR_MALFORMED) {
                if (!unexpected) fprintf(stderr, "%s: fixed truncation to %zu bytes gave %d\n", d->name, cut, rc);
                unexpected++;
            }
        }
        free(p);
    }
    TF_CHECK_EQ(unexpected, 0);
    return accepted;
}

/* Wrong handshake type in the header -> malformed. */
static void wrong_types(const dec_spec *d, const uint8_t *msg, size_t len)
{
    static const uint8_t types[] = { 0, 1, 2, 4, 8, 11, 12, 13, 14, 15, 20, 22, 255 };
    uint8_t *p = malloc(len);
    size_t i;
    int bad = 0;
    if (!p) abort();
    for (i = 0; i < sizeof(types); i++) {
        if (types[i] == msg[0]) continue;
        memcpy(p, msg, len);
        p[0] = types[i];
        if (run_decoder(d, p, len) != TF_ERR_MALFORMED) {
            fprintf(stderr, "%s: accepted as type %u\n", d->name, types[i]);
            bad++;
        }
    }
    free(p);
    TF_CHECK_EQ(bad, 0);
}

/* One trailing byte, inside the declared length and outside it -> malformed. */
static void trailing(const dec_spec *d, const uint8_t *msg, size_t len)
{
    uint8_t *p = malloc(len + 2);
    if (!p) abort();
    memcpy(p, msg, len);
    p[len] = 0;
    p[len + 1] = 0;
    set24(p + 1, (unsigned)(len + 1 - 4));
    TF_CHECK_EQ(run_exact(d, p, len + 1), TF_ERR_MALFORMED);
    memcpy(p, msg, len);
    p[len] = 0;
    TF_CHECK_EQ(run_exact(d, p, len + 1), TF_ERR_MALFORMED);  /* header unchanged */
    /* two bytes 00 01: for an extension-less ServerHello they read as an
       extensions block that claims 1 byte and has none (00 00 would be a
       valid empty block, so it is not "trailing") */
    set24(p + 1, (unsigned)(len + 2 - 4));
    p[len + 1] = 1;
    TF_CHECK_EQ(run_exact(d, p, len + 2), TF_ERR_MALFORMED);
    free(p);
}

/* All the generic hostile checks; `accepted` = expected fixed-truncation successes. */
static void hostile(const dec_spec *d, const vb *v, int accepted)
{
    TF_CHECK_EQ(v->depth, 0);
    TF_CHECK_EQ(get24(v->b + 1), v->n - 4);          /* the builder's own header is right */
    TF_CHECK_EQ(run_exact(d, v->b, v->n), TF_OK);    /* and the vector is valid */
    TF_CHECK_EQ(truncations(d, v->b, v->n), accepted);
    wrong_types(d, v->b, v->n);
    trailing(d, v->b, v->n);
}

/* ------------------------------------------------------------------ */
/* ServerHello                                                          */
/* ------------------------------------------------------------------ */

/* SHA-256("HelloRetryRequest"), RFC 8446 section 4.1.3. */
static const uint8_t HRR_RANDOM[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C
};

static void random_bytes(uint8_t r[32])
{
    int i;
    for (i = 0; i < 32; i++) r[i] = (uint8_t)(0x10 + i);
}

/* Writes the fields up to compression_method; the message stays open. */
static void sh_head(vb *v, unsigned legacy, const uint8_t random[32], size_t sid_len, unsigned suite)
{
    hs_begin(v, TF_HS_SERVER_HELLO);
    put16(v, legacy);
    putn(v, random, 32);
    put8(v, (unsigned)sid_len);
    fill(v, sid_len, 0xA0);
    put16(v, suite);
    put8(v, 0);
}

typedef struct {
    size_t sid_len_at;       /* session_id length byte */
    size_t exts_len_at;      /* extensions block length */
    size_t alpn_ext_len_at;  /* ALPN extension's length field */
    size_t alpn_list_at;     /* ALPN protocol_name_list length */
    size_t alpn_name_at;     /* length byte of the one protocol name */
    size_t exts_start;       /* first byte of the extensions block (its length) */
} sh_marks;

static void build_sh12(vb *v, sh_marks *m)
{
    uint8_t r[32];
    random_bytes(r);
    vb_init(v);
    sh_head(v, 0x0303, r, 32, 0xC02F);
    m->sid_len_at = 4 + 2 + 32;
    m->exts_start = m->exts_len_at = v->n;
    vopen(v, 2);
    ext_begin(v, 23); ext_end(v);                      /* extended_master_secret */
    ext_begin(v, 22); ext_end(v);                      /* encrypt_then_mac */
    ext_begin(v, 35); ext_end(v);                      /* session_ticket */
    ext_begin(v, 0xff01); put8(v, 0); ext_end(v);      /* renegotiation_info, empty */
    ext_begin(v, 1); put8(v, 3); ext_end(v);           /* max_fragment_length 2^11 */
    ext_begin(v, 28); put16(v, 0x2001); ext_end(v);    /* record_size_limit */
    ext_begin(v, 16);                                  /* ALPN "h2" */
    m->alpn_ext_len_at = v->n - 2;
    m->alpn_list_at = v->n;
    vopen(v, 2);
    m->alpn_name_at = v->n;
    put8(v, 2);
    putn(v, "h2", 2);
    vclose(v);
    ext_end(v);
    vclose(v);
    hs_end(v);
}

static void build_sh13(vb *v, const uint8_t key[32])
{
    uint8_t r[32];
    random_bytes(r);
    vb_init(v);
    sh_head(v, 0x0303, r, 32, 0x1301);
    vopen(v, 2);
    ext_begin(v, 43); put16(v, 0x0304); ext_end(v);    /* supported_versions */
    ext_begin(v, 51);                                   /* key_share */
    put16(v, 0x001d);
    vopen(v, 2); putn(v, key, 32); vclose(v);
    ext_end(v);
    vclose(v);
    hs_end(v);
}

static void build_hrr(vb *v)
{
    vb_init(v);
    sh_head(v, 0x0303, HRR_RANDOM, 32, 0x1302);
    vopen(v, 2);
    ext_begin(v, 43); put16(v, 0x0304); ext_end(v);
    ext_begin(v, 51); put16(v, 0x0017); ext_end(v);    /* group only */
    ext_begin(v, 44); vopen(v, 2); fill(v, 8, 1); vclose(v); ext_end(v); /* cookie */
    vclose(v);
    hs_end(v);
}

static void build_sh_noext(vb *v)
{
    uint8_t r[32];
    random_bytes(r);
    vb_init(v);
    sh_head(v, 0x0301, r, 0, 0x002F);
    hs_end(v);
}

/* A TLS 1.2 ServerHello carrying exactly one extension with the given body. */
static void build_sh_one_ext(vb *v, unsigned type, const uint8_t *body, size_t n, int hrr)
{
    uint8_t r[32];
    random_bytes(r);
    vb_init(v);
    sh_head(v, 0x0303, hrr ? HRR_RANDOM : r, 0, 0xC02F);
    vopen(v, 2);
    ext_begin(v, type);
    putn(v, body, n);
    ext_end(v);
    vclose(v);
    hs_end(v);
}

static void test_server_hello(void)
{
    static const dec_spec D = { "ServerHello", D_SH, TF_KX_RSA, 0, 0 };
    vb v;
    sh_marks m;
    tf_server_hello sh;
    uint8_t key[32];
    size_t i;

    /* TLS 1.2 with every shared extension */
    build_sh12(&v, &m);
    TF_CHECK_EQ(tf_parse_server_hello(v.b, v.n, &sh), TF_OK);
    TF_CHECK_EQ(sh.hrr, 0);
    TF_CHECK_EQ(sh.legacy_version, 0x0303);
    TF_CHECK_EQ(sh.version, 0x0303);
    TF_CHECK_EQ(sh.suite, 0xC02F);
    TF_CHECK_EQ(sh.ks_group, 0);
    TF_CHECK(sh.ks_key == NULL);
    TF_CHECK_EQ(sh.ks_len, 0);
    TF_CHECK_EQ(sh.ext.ems, 1);
    TF_CHECK_EQ(sh.ext.etm, 1);
    TF_CHECK_EQ(sh.ext.ticket, 1);
    TF_CHECK_EQ(sh.ext.renego, 1);
    TF_CHECK_EQ(sh.ext.mfl, 3);
    TF_CHECK_EQ(sh.ext.has_rsl, 1);
    TF_CHECK_EQ(sh.ext.rsl, 0x2001);
    TF_CHECK_STR(sh.ext.alpn, "h2");
    /* one accepted truncation: right before the extensions block */
    hostile(&D, &v, 1);
    {
        /* that truncation is an extension-less ServerHello */
        copy_t c;
        copy_of(&c, &v);
        set24(c.b + 1, (unsigned)(m.exts_start - 4));
        TF_CHECK_EQ(tf_parse_server_hello(c.b, m.exts_start, &sh), TF_OK);
        TF_CHECK_EQ(sh.ext.ems, 0);
        TF_CHECK_STR(sh.ext.alpn, "");
    }

    /* lies inside the TLS 1.2 vector */
    {
        copy_t c;
        copy_of(&c, &v);
        c.b[m.sid_len_at] = 200;                                   /* session_id length 200 */
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);
        c.b[m.sid_len_at] = 33;                                    /* shifted by one byte */
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);

        copy_of(&c, &v);
        set16(c.b + m.alpn_ext_len_at, get16(c.b + m.alpn_ext_len_at) + 1); /* 1 byte beyond end */
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);
        set16(c.b + m.alpn_ext_len_at, 0xFFFF);
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);

        copy_of(&c, &v);
        set16(c.b + m.exts_len_at, get16(c.b + m.exts_len_at) + 1); /* block beyond end */
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);
        copy_of(&c, &v);
        set16(c.b + m.exts_len_at, get16(c.b + m.exts_len_at) - 1); /* block cuts last ext */
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);
        copy_of(&c, &v);
        set16(c.b + m.exts_len_at, 3);                              /* block ends inside an ext header */
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);

        copy_of(&c, &v);
        set16(c.b + m.alpn_list_at, 4);                             /* ALPN list longer than ext */
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);
        set16(c.b + m.alpn_list_at, 2);                             /* list shorter than its name */
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);
        set16(c.b + m.alpn_list_at, 0);
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);
        copy_of(&c, &v);
        c.b[m.alpn_name_at] = 1;                                    /* name shorter than list */
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);
        c.b[m.alpn_name_at] = 3;                                    /* name longer than list */
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);
    }

    /* session_id of 200 bytes that really are there, and of 33 */
    {
        uint8_t r[32];
        random_bytes(r);
        vb_init(&v);
        sh_head(&v, 0x0303, r, 200, 0xC02F);
        hs_end(&v);
        TF_CHECK_EQ(run_exact(&D, v.b, v.n), TF_ERR_MALFORMED);
        vb_init(&v);
        sh_head(&v, 0x0303, r, 33, 0xC02F);
        hs_end(&v);
        TF_CHECK_EQ(run_exact(&D, v.b, v.n), TF_ERR_MALFORMED);
        vb_init(&v);
        sh_head(&v, 0x0303, r, 32, 0xC02F);                        /* 32 is the maximum */
        hs_end(&v);
        TF_CHECK_EQ(run_exact(&D, v.b, v.n), TF_OK);
    }

    /* TLS 1.3 */
    for (i = 0; i < 32; i++) key[i] = (uint8_t)(0xE0 ^ i);
    build_sh13(&v, key);
    TF_CHECK_EQ(tf_parse_server_hello(v.b, v.n, &sh), TF_OK);
    TF_CHECK_EQ(sh.hrr, 0);
    TF_CHECK_EQ(sh.legacy_version, 0x0303);
    TF_CHECK_EQ(sh.version, 0x0304);
    TF_CHECK_EQ(sh.suite, 0x1301);
    TF_CHECK_EQ(sh.ks_group, 0x001d);
    TF_CHECK_EQ(sh.ks_len, 32);
    TF_CHECK(sh.ks_key != NULL && sh.ks_key > v.b && sh.ks_key + 32 == v.b + v.n);
    TF_CHECK(sh.ks_key && memcmp(sh.ks_key, key, 32) == 0);
    TF_CHECK_EQ(sh.ext.ems + sh.ext.etm + sh.ext.ticket + sh.ext.renego + sh.ext.mfl + sh.ext.has_rsl, 0);
    TF_CHECK_STR(sh.ext.alpn, "");
    hostile(&D, &v, 1);

    /* HelloRetryRequest */
    build_hrr(&v);
    TF_CHECK_EQ(tf_parse_server_hello(v.b, v.n, &sh), TF_OK);
    TF_CHECK_EQ(sh.hrr, 1);
    TF_CHECK_EQ(sh.version, 0x0304);
    TF_CHECK_EQ(sh.suite, 0x1302);
    TF_CHECK_EQ(sh.ks_group, 0x0017);
    TF_CHECK(sh.ks_key == NULL);
    TF_CHECK_EQ(sh.ks_len, 0);
    hostile(&D, &v, 1);
    {
        /* the same bytes with one bit of the random changed: not an HRR, so
           the group-only key_share is short */
        copy_t c;
        copy_of(&c, &v);
        c.b[4 + 2 + 31] ^= 1;
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);
    }

    /* no extensions block at all */
    build_sh_noext(&v);
    TF_CHECK_EQ(tf_parse_server_hello(v.b, v.n, &sh), TF_OK);
    TF_CHECK_EQ(sh.legacy_version, 0x0301);
    TF_CHECK_EQ(sh.version, 0x0301);
    TF_CHECK_EQ(sh.suite, 0x002F);
    TF_CHECK_EQ(sh.hrr, 0);
    TF_CHECK_EQ(sh.ext.ems + sh.ext.etm + sh.ext.ticket + sh.ext.renego + sh.ext.mfl + sh.ext.has_rsl, 0);
    hostile(&D, &v, 0);
    {
        /* an empty extensions block (2 zero bytes) is fine */
        copy_t c;
        copy_of(&c, &v);
        c.b[c.n++] = 0;
        c.b[c.n++] = 0;
        set24(c.b + 1, (unsigned)(c.n - 4));
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_OK);
    }

    /* extension bodies of the wrong size */
    {
        static const struct { unsigned type; uint8_t body[8]; size_t n; int hrr; int ok; } cases[] = {
            { 22, { 0 }, 1, 0, 0 },                  /* encrypt_then_mac with a body */
            { 23, { 0 }, 1, 0, 0 },                  /* extended_master_secret with a body */
            { 35, { 0, 0 }, 2, 0, 0 },               /* session_ticket with a body */
            { 1, { 0 }, 0, 0, 0 },                   /* max_fragment_length empty */
            { 1, { 1, 2 }, 2, 0, 0 },                /* max_fragment_length of 2 bytes */
            { 28, { 0x40 }, 1, 0, 0 },               /* record_size_limit of 1 byte */
            { 28, { 0x40, 0, 0 }, 3, 0, 0 },         /* ... of 3 bytes */
            { 43, { 3 }, 1, 0, 0 },                  /* supported_versions of 1 byte */
            { 43, { 3, 4, 0 }, 3, 0, 0 },            /* ... of 3 bytes */
            { 16, { 0 }, 0, 0, 0 },                  /* ALPN empty */
            { 16, { 0, 3, 2, 'h', '2', 'x' }, 6, 0, 0 }, /* ALPN with a byte after the list */
            { 51, { 0, 0x1d, 0, 4, 1, 2, 3 }, 7, 0, 0 }, /* key_share key shorter than said */
            { 51, { 0, 0x1d, 0, 1, 9, 9 }, 6, 0, 0 },    /* key_share with trailing byte */
            { 51, { 0, 0x1d, 0, 2, 1, 2 }, 6, 1, 0 },    /* HRR key_share with a key */
            { 51, { 0x1d }, 1, 1, 0 },               /* HRR key_share of 1 byte */
            { 51, { 0, 0x1d, 0, 2, 1, 2 }, 6, 0, 1 },    /* 2-byte key: allowed (not checked) */
            { 0xff01, { 1, 0 }, 2, 0, 1 },           /* renegotiation_info with data */
            { 0x1234, { 1, 2, 3 }, 3, 0, 1 },        /* unknown extension: skipped */
        };
        for (i = 0; i < TF_ARRAY_LEN(cases); i++) {
            int rc;
            build_sh_one_ext(&v, cases[i].type, cases[i].body, cases[i].n, cases[i].hrr);
            rc = run_exact(&D, v.b, v.n);
            if (rc != (cases[i].ok ? TF_OK : TF_ERR_MALFORMED))
                fprintf(stderr, "one-extension case %zu (type %u) gave %d\n", i, cases[i].type, rc);
            TF_CHECK_EQ(rc, cases[i].ok ? TF_OK : TF_ERR_MALFORMED);
        }
    }

    /* an ALPN name too long for tf_server_exts.alpn is not copied */
    {
        uint8_t body[2 + 1 + 100];
        set16(body, 101);
        body[2] = 100;
        memset(body + 3, 'a', 100);
        build_sh_one_ext(&v, 16, body, sizeof(body), 0);
        TF_CHECK_EQ(tf_parse_server_hello(v.b, v.n, &sh), TF_OK);
        TF_CHECK(memchr(sh.ext.alpn, '\0', sizeof(sh.ext.alpn)) != NULL);
        TF_CHECK_STR(sh.ext.alpn, "");
        body[2] = 63;                                  /* 63 + NUL fits exactly */
        set16(body, 64);
        build_sh_one_ext(&v, 16, body, 2 + 64, 0);
        TF_CHECK_EQ(tf_parse_server_hello(v.b, v.n, &sh), TF_OK);
        TF_CHECK_EQ(strlen(sh.ext.alpn), 63);
    }
}

/* ------------------------------------------------------------------ */
/* EncryptedExtensions                                                  */
/* ------------------------------------------------------------------ */

static void test_encrypted_extensions(void)
{
    static const dec_spec D = { "EncryptedExtensions", D_EE, TF_KX_TLS13, 0, 1 };
    vb v;
    tf_server_exts x;
    size_t exts_at, alpn_len_at;

    vb_init(&v);
    hs_begin(&v, TF_HS_ENCRYPTED_EXTENSIONS);
    exts_at = v.n;
    vopen(&v, 2);
    ext_begin(&v, 0); ext_end(&v);                               /* server_name ack */
    ext_begin(&v, 10); vopen(&v, 2); put16(&v, 0x1d); put16(&v, 0x17); vclose(&v); ext_end(&v); /* groups */
    ext_begin(&v, 28); put16(&v, 0x4001); ext_end(&v);
    ext_begin(&v, 1); put8(&v, 4); ext_end(&v);
    ext_begin(&v, 16);
    alpn_len_at = v.n;
    vopen(&v, 2); put8(&v, 8); putn(&v, "http/1.1", 8); vclose(&v);
    ext_end(&v);
    vclose(&v);
    hs_end(&v);

    memset(&x, 0, sizeof(x));
    TF_CHECK_EQ(tf_parse_encrypted_extensions(v.b, v.n, &x), TF_OK);
    TF_CHECK_EQ(x.has_rsl, 1);
    TF_CHECK_EQ(x.rsl, 0x4001);
    TF_CHECK_EQ(x.mfl, 4);
    TF_CHECK_STR(x.alpn, "http/1.1");
    TF_CHECK_EQ(x.ems + x.etm + x.ticket + x.renego, 0);
    hostile(&D, &v, 0);
    {
        copy_t c;
        copy_of(&c, &v);
        set16(c.b + exts_at, get16(c.b + exts_at) + 5);
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);
        copy_of(&c, &v);
        set16(c.b + alpn_len_at, 10);
        TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);
    }

    /* empty block */
    vb_init(&v);
    hs_begin(&v, TF_HS_ENCRYPTED_EXTENSIONS);
    vopen(&v, 2); vclose(&v);
    hs_end(&v);
    memset(&x, 0, sizeof(x));
    TF_CHECK_EQ(tf_parse_encrypted_extensions(v.b, v.n, &x), TF_OK);
    TF_CHECK_STR(x.alpn, "");
    hostile(&D, &v, 0);
}

/* ------------------------------------------------------------------ */
/* ServerKeyExchange                                                    */
/* ------------------------------------------------------------------ */

typedef struct {
    size_t point_len_at;   /* ECDHE point length byte */
    size_t p_len_at, g_len_at, ys_len_at;
    size_t sig_len_at;
    size_t curve_type_at;
} ske_marks;

static void build_ske_ecdhe(vb *v, ske_marks *m, int with_sigalg)
{
    vb_init(v);
    hs_begin(v, TF_HS_SERVER_KEY_EXCHANGE);
    m->curve_type_at = v->n;
    put8(v, 3);                               /* named_curve */
    put16(v, 0x0017);                         /* secp256r1 */
    m->point_len_at = v->n;
    vopen(v, 1); put8(v, 4); fill(v, 64, 0x31); vclose(v);
    if (with_sigalg) put16(v, 0x0804);        /* rsa_pss_rsae_sha256 */
    m->sig_len_at = v->n;
    vopen(v, 2); fill(v, 256, 0x55); vclose(v);
    hs_end(v);
}

/* p is `plen` bytes (leading zero byte included when lead0), top byte `top`. */
static void build_ske_dhe(vb *v, ske_marks *m, int with_sigalg, size_t plen, int lead0, unsigned top)
{
    vb_init(v);
    hs_begin(v, TF_HS_SERVER_KEY_EXCHANGE);
    m->p_len_at = v->n;
    vopen(v, 2);
    if (lead0) put8(v, 0);
    put8(v, top);
    fill(v, plen - 1 - (lead0 ? 1 : 0), 0x11);
    vclose(v);
    m->g_len_at = v->n;
    vopen(v, 2); put8(v, 2); vclose(v);       /* g = 2 */
    m->ys_len_at = v->n;
    vopen(v, 2); fill(v, 256, 0x77); vclose(v);
    if (with_sigalg) put16(v, 0x0401);        /* rsa_pkcs1_sha256 */
    m->sig_len_at = v->n;
    vopen(v, 2); fill(v, 256, 0x99); vclose(v);
    hs_end(v);
}

static void test_ske(void)
{
    static const dec_spec ECDHE12 = { "SKE ECDHE_RSA 1.2", D_SKE, TF_KX_ECDHE_RSA, 0x0303, 0 };
    static const dec_spec DHE12 = { "SKE DHE_RSA 1.2", D_SKE, TF_KX_DHE_RSA, 0x0303, 0 };
    static const dec_spec DHE11 = { "SKE DHE_RSA 1.1", D_SKE, TF_KX_DHE_RSA, 0x0302, 0 };
    static const dec_spec ECDHE11 = { "SKE ECDHE_ECDSA 1.1", D_SKE, TF_KX_ECDHE_ECDSA, 0x0302, 0 };
    vb v;
    ske_marks m;
    tf_ske s;
    copy_t c;

    /* ECDHE_RSA, TLS 1.2 */
    build_ske_ecdhe(&v, &m, 1);
    TF_CHECK_EQ(tf_parse_ske(v.b, v.n, TF_KX_ECDHE_RSA, 0x0303, &s), TF_OK);
    TF_CHECK_EQ(s.curve, 0x0017);
    TF_CHECK_EQ(s.sigalg, 0x0804);
    TF_CHECK_EQ(s.dh_bits, 0);
    hostile(&ECDHE12, &v, 0);
    copy_of(&c, &v);
    c.b[m.curve_type_at] = 1;                                     /* explicit_prime: not decoded */
    TF_CHECK_EQ(run_exact(&ECDHE12, c.b, c.n), TF_ERR_MALFORMED);
    copy_of(&c, &v);
    c.b[m.point_len_at] = 66;                                     /* point one byte longer */
    TF_CHECK_EQ(run_exact(&ECDHE12, c.b, c.n), TF_ERR_MALFORMED);
    c.b[m.point_len_at] = 255;
    TF_CHECK_EQ(run_exact(&ECDHE12, c.b, c.n), TF_ERR_MALFORMED);
    copy_of(&c, &v);
    set16(c.b + m.sig_len_at, 257);                               /* signature beyond end */
    TF_CHECK_EQ(run_exact(&ECDHE12, c.b, c.n), TF_ERR_MALFORMED);
    set16(c.b + m.sig_len_at, 255);                               /* signature short of end */
    TF_CHECK_EQ(run_exact(&ECDHE12, c.b, c.n), TF_ERR_MALFORMED);
    /* a TLS 1.2 layout read as TLS 1.1 (no sigalg field) does not fit */
    TF_CHECK_EQ(run_exact(&ECDHE11, v.b, v.n), TF_ERR_MALFORMED);
    /* unsigned ECDH_anon over the same params + signature: leftover bytes */
    TF_CHECK_EQ(tf_parse_ske(v.b, v.n, TF_KX_ECDH_ANON, 0x0303, &s), TF_ERR_MALFORMED);

    /* ECDHE_ECDSA, TLS 1.1 layout */
    build_ske_ecdhe(&v, &m, 0);
    TF_CHECK_EQ(tf_parse_ske(v.b, v.n, TF_KX_ECDHE_ECDSA, 0x0302, &s), TF_OK);
    TF_CHECK_EQ(s.curve, 0x0017);
    TF_CHECK_EQ(s.sigalg, 0);
    hostile(&ECDHE11, &v, 0);

    /* DHE_RSA, TLS 1.2, 2048-bit p with a leading zero byte */
    build_ske_dhe(&v, &m, 1, 257, 1, 0xC3);
    TF_CHECK_EQ(get16(v.b + m.p_len_at), 257);
    TF_CHECK_EQ(tf_parse_ske(v.b, v.n, TF_KX_DHE_RSA, 0x0303, &s), TF_OK);
    TF_CHECK_EQ(s.dh_bits, 2048);
    TF_CHECK_EQ(s.sigalg, 0x0401);
    TF_CHECK_EQ(s.curve, 0);
    hostile(&DHE12, &v, 0);
    copy_of(&c, &v);
    set16(c.b + m.p_len_at, 0xFFFF);
    TF_CHECK_EQ(run_exact(&DHE12, c.b, c.n), TF_ERR_MALFORMED);
    copy_of(&c, &v);
    set16(c.b + m.g_len_at, 2);                                   /* g swallows a byte of Ys' length */
    TF_CHECK_EQ(run_exact(&DHE12, c.b, c.n), TF_ERR_MALFORMED);
    copy_of(&c, &v);
    set16(c.b + m.ys_len_at, 0x1000);
    TF_CHECK_EQ(run_exact(&DHE12, c.b, c.n), TF_ERR_MALFORMED);
    copy_of(&c, &v);
    set16(c.b + m.sig_len_at, 0);                                 /* leaves 256 bytes over */
    TF_CHECK_EQ(run_exact(&DHE12, c.b, c.n), TF_ERR_MALFORMED);
    TF_CHECK_EQ(run_exact(&DHE11, v.b, v.n), TF_ERR_MALFORMED);   /* 1.2 layout as 1.1 */
    /* the DHE message read as ECDHE: first byte is not named_curve (3) */
    TF_CHECK_EQ(run_exact(&ECDHE12, v.b, v.n), TF_ERR_MALFORMED);

    /* bit counting: 2047-bit (top byte 0x7F, no zero byte), 1024-bit, 1-byte p */
    build_ske_dhe(&v, &m, 1, 256, 0, 0x7F);
    TF_CHECK_EQ(tf_parse_ske(v.b, v.n, TF_KX_DHE_RSA, 0x0303, &s), TF_OK);
    TF_CHECK_EQ(s.dh_bits, 2047);
    build_ske_dhe(&v, &m, 1, 128, 0, 0x80);
    TF_CHECK_EQ(tf_parse_ske(v.b, v.n, TF_KX_DHE_RSA, 0x0303, &s), TF_OK);
    TF_CHECK_EQ(s.dh_bits, 1024);
    build_ske_dhe(&v, &m, 1, 3, 1, 0x00);                         /* p = 00 00 11: 5 bits */
    TF_CHECK_EQ(tf_parse_ske(v.b, v.n, TF_KX_DHE_RSA, 0x0303, &s), TF_OK);
    TF_CHECK_EQ(s.dh_bits, 5);

    /* DHE_RSA, TLS 1.1: no sigalg field */
    build_ske_dhe(&v, &m, 0, 257, 1, 0xFF);
    TF_CHECK_EQ(tf_parse_ske(v.b, v.n, TF_KX_DHE_RSA, 0x0302, &s), TF_OK);
    TF_CHECK_EQ(s.dh_bits, 2048);
    TF_CHECK_EQ(s.sigalg, 0);
    hostile(&DHE11, &v, 0);
    TF_CHECK_EQ(run_exact(&DHE12, v.b, v.n), TF_ERR_MALFORMED);   /* 1.1 layout as 1.2 */

    /* ECDHE_PSK: identity hint first, unsigned */
    {
        static const dec_spec EPSK = { "SKE ECDHE_PSK", D_SKE, TF_KX_ECDHE_PSK, 0x0303, 0 };
        vb_init(&v);
        hs_begin(&v, TF_HS_SERVER_KEY_EXCHANGE);
        vopen(&v, 2); putn(&v, "hint", 4); vclose(&v);
        put8(&v, 3); put16(&v, 0x001d);
        vopen(&v, 1); fill(&v, 32, 3); vclose(&v);
        hs_end(&v);
        TF_CHECK_EQ(tf_parse_ske(v.b, v.n, TF_KX_ECDHE_PSK, 0x0303, &s), TF_OK);
        TF_CHECK_EQ(s.curve, 0x001d);
        TF_CHECK_EQ(s.sigalg, 0);
        hostile(&EPSK, &v, 0);
    }
}

/* ------------------------------------------------------------------ */
/* Certificate                                                          */
/* ------------------------------------------------------------------ */

static const size_t CERT_LENS[3] = { 300, 5, 1200 };

typedef struct {
    size_t list_len_at;
    size_t cert_len_at[3];
    size_t ext_len_at[3];
} cert_marks;

static void build_cert(vb *v, cert_marks *m, int tls13, size_t ncerts)
{
    size_t k;
    vb_init(v);
    hs_begin(v, TF_HS_CERTIFICATE);
    if (tls13) { vopen(v, 1); vclose(v); }    /* certificate_request_context: empty */
    m->list_len_at = v->n;
    vopen(v, 3);
    for (k = 0; k < ncerts; k++) {
        m->cert_len_at[k] = v->n;
        vopen(v, 3);
        put8(v, 0x30);
        put8(v, (unsigned)(0xC0 + k));        /* identifies the certificate */
        fill(v, CERT_LENS[k] - 2, (unsigned)k);
        vclose(v);
        if (tls13) {
            m->ext_len_at[k] = v->n;
            vopen(v, 2);
            if (k == 1) { ext_begin(v, 5); fill(v, 6, 0); ext_end(v); } /* status_request */
            vclose(v);
        }
    }
    vclose(v);
    hs_end(v);
}

static void check_three(const cert_seen *s)
{
    size_t k;
    TF_CHECK_EQ(s->n, 3);
    for (k = 0; k < 3; k++) {
        TF_CHECK_EQ(s->lens[k], CERT_LENS[k]);
        TF_CHECK_EQ(s->second[k], 0xC0 + k);
    }
}

static void test_certificate(void)
{
    static const dec_spec C12 = { "Certificate 1.2", D_CERT, TF_KX_RSA, 0x0303, 0 };
    static const dec_spec C13 = { "Certificate 1.3", D_CERT, TF_KX_TLS13, 0x0304, 1 };
    vb v;
    cert_marks m;
    cert_seen s;
    copy_t c;
    int tls13;

    for (tls13 = 0; tls13 <= 1; tls13++) {
        const dec_spec *d = tls13 ? &C13 : &C12;
        const dec_spec *other = tls13 ? &C12 : &C13;

        build_cert(&v, &m, tls13, 3);
        memset(&s, 0, sizeof(s));
        TF_CHECK_EQ(tf_parse_certificate(v.b, v.n, tls13, cert_cb, &s), TF_OK);
        check_three(&s);
        hostile(d, &v, 0);
        TF_CHECK_EQ(run_exact(other, v.b, v.n), TF_ERR_MALFORMED);  /* other layout */

        /* the callback stops the walk */
        memset(&s, 0, sizeof(s));
        s.stop_after = 2;
        TF_CHECK_EQ(tf_parse_certificate(v.b, v.n, tls13, cert_cb, &s), TF_OK);
        TF_CHECK_EQ(s.n, 2);

        /* last certificate's length beyond the list */
        copy_of(&c, &v);
        set24(c.b + m.cert_len_at[2], (unsigned)CERT_LENS[2] + 1);
        TF_CHECK_EQ(run_exact(d, c.b, c.n), TF_ERR_MALFORMED);
        set24(c.b + m.cert_len_at[2], 0xFFFFFF);
        TF_CHECK_EQ(run_exact(d, c.b, c.n), TF_ERR_MALFORMED);
        copy_of(&c, &v);
        set24(c.b + m.cert_len_at[0], 0xFFFFFF);                   /* first one */
        TF_CHECK_EQ(run_exact(d, c.b, c.n), TF_ERR_MALFORMED);
        /* list length beyond / short of the body */
        copy_of(&c, &v);
        set24(c.b + m.list_len_at, get24(c.b + m.list_len_at) + 1);
        TF_CHECK_EQ(run_exact(d, c.b, c.n), TF_ERR_MALFORMED);
        copy_of(&c, &v);
        set24(c.b + m.list_len_at, get24(c.b + m.list_len_at) - 1);
        TF_CHECK_EQ(run_exact(d, c.b, c.n), TF_ERR_MALFORMED);
        if (tls13) {
            copy_of(&c, &v);
            set16(c.b + m.ext_len_at[2], 1);                       /* extensions beyond list */
            TF_CHECK_EQ(run_exact(d, c.b, c.n), TF_ERR_MALFORMED);
            copy_of(&c, &v);
            c.b[4] = 1;                                            /* context beyond its bytes */
            TF_CHECK_EQ(run_exact(d, c.b, c.n), TF_ERR_MALFORMED);
        }

        /* empty list */
        build_cert(&v, &m, tls13, 0);
        TF_CHECK_EQ(v.n, tls13 ? 8u : 7u);
        memset(&s, 0, sizeof(s));
        TF_CHECK_EQ(tf_parse_certificate(v.b, v.n, tls13, cert_cb, &s), TF_OK);
        TF_CHECK_EQ(s.n, 0);
        hostile(d, &v, 0);

        /* a zero-length certificate entry */
        vb_init(&v);
        hs_begin(&v, TF_HS_CERTIFICATE);
        if (tls13) put8(&v, 0);
        vopen(&v, 3);
        put24(&v, 0);
        if (tls13) put16(&v, 0);
        vclose(&v);
        hs_end(&v);
        memset(&s, 0, sizeof(s));
        TF_CHECK_EQ(tf_parse_certificate(v.b, v.n, tls13, cert_cb, &s), TF_ERR_MALFORMED);
        TF_CHECK_EQ(s.n, 0);
    }

    /* TLS 1.3 with a non-empty context is accepted (post-handshake auth) */
    vb_init(&v);
    hs_begin(&v, TF_HS_CERTIFICATE);
    vopen(&v, 1); fill(&v, 4, 9); vclose(&v);
    vopen(&v, 3);
    vopen(&v, 3); fill(&v, 10, 1); vclose(&v);
    vopen(&v, 2); vclose(&v);
    vclose(&v);
    hs_end(&v);
    memset(&s, 0, sizeof(s));
    TF_CHECK_EQ(tf_parse_certificate(v.b, v.n, 1, cert_cb, &s), TF_OK);
    TF_CHECK_EQ(s.n, 1);
    TF_CHECK_EQ(s.lens[0], 10);
}

/* ------------------------------------------------------------------ */
/* CertificateRequest                                                   */
/* ------------------------------------------------------------------ */

static const uint16_t CR_SIGALGS[3] = { 0x0401, 0x0403, 0x0804 };
static const size_t DN_LENS[2] = { 20, 35 };

typedef struct {
    size_t types_len_at, sigalgs_len_at, cas_len_at, dn_len_at[2];
    size_t sig_ext_len_at, ca_ext_len_at, exts_len_at;
} creq_marks;

static void put_dn(vb *v, creq_marks *m, size_t k)
{
    m->dn_len_at[k] = v->n;
    vopen(v, 2);
    put8(v, 0x30);
    put8(v, (unsigned)(0xD0 + k));
    fill(v, DN_LENS[k] - 2, (unsigned)(0x40 + k));
    vclose(v);
}

static void build_creq12(vb *v, creq_marks *m, int with_sigalgs)
{
    size_t k;
    vb_init(v);
    hs_begin(v, TF_HS_CERTIFICATE_REQUEST);
    m->types_len_at = v->n;
    vopen(v, 1); put8(v, 1); put8(v, 64); vclose(v);   /* rsa_sign, ecdsa_sign */
    if (with_sigalgs) {
        m->sigalgs_len_at = v->n;
        vopen(v, 2);
        for (k = 0; k < 3; k++) put16(v, CR_SIGALGS[k]);
        vclose(v);
    }
    m->cas_len_at = v->n;
    vopen(v, 2);
    put_dn(v, m, 0);
    put_dn(v, m, 1);
    vclose(v);
    hs_end(v);
}

static void build_creq13(vb *v, creq_marks *m)
{
    size_t k;
    vb_init(v);
    hs_begin(v, TF_HS_CERTIFICATE_REQUEST);
    vopen(v, 1); vclose(v);                              /* context: empty */
    m->exts_len_at = v->n;
    vopen(v, 2);
    ext_begin(v, 5); ext_end(v);                         /* status_request: skipped */
    ext_begin(v, 13);
    m->sig_ext_len_at = v->n - 2;
    m->sigalgs_len_at = v->n;
    vopen(v, 2);
    for (k = 0; k < 3; k++) put16(v, CR_SIGALGS[k]);
    vclose(v);
    ext_end(v);
    ext_begin(v, 47);
    m->ca_ext_len_at = v->n - 2;
    m->cas_len_at = v->n;
    vopen(v, 2);
    put_dn(v, m, 0);
    put_dn(v, m, 1);
    vclose(v);
    ext_end(v);
    vclose(v);
    hs_end(v);
}

static void check_cas(const tf_certreq *cr, const vb *v)
{
    size_t k;
    TF_CHECK_EQ(cr->nca, 2);
    for (k = 0; k < 2 && k < cr->nca; k++) {
        TF_CHECK_EQ(cr->ca_len[k], DN_LENS[k]);
        TF_CHECK(cr->ca_der[k] >= v->b && cr->ca_der[k] + cr->ca_len[k] <= v->b + v->n);
        TF_CHECK_EQ(cr->ca_der[k][0], 0x30);
        TF_CHECK_EQ(cr->ca_der[k][1], 0xD0 + k);
    }
}

static void test_cert_request(void)
{
    static const dec_spec R12 = { "CertificateRequest 1.2", D_CREQ, TF_KX_RSA, 0x0303, 0 };
    static const dec_spec R11 = { "CertificateRequest 1.1", D_CREQ, TF_KX_RSA, 0x0302, 0 };
    static const dec_spec R13 = { "CertificateRequest 1.3", D_CREQ, TF_KX_TLS13, 0x0304, 1 };
    static tf_certreq cr;
    vb v;
    creq_marks m;
    copy_t c;
    size_t k;

    /* TLS 1.2 */
    build_creq12(&v, &m, 1);
    TF_CHECK_EQ(tf_parse_cert_request(v.b, v.n, 0, 0x0303, &cr), TF_OK);
    TF_CHECK_EQ(cr.ntypes, 2);
    TF_CHECK_EQ(cr.cert_types[0], 1);
    TF_CHECK_EQ(cr.cert_types[1], 64);
    TF_CHECK_EQ(cr.nsigalgs, 3);
    for (k = 0; k < 3; k++) TF_CHECK_EQ(cr.sigalgs[k], CR_SIGALGS[k]);
    check_cas(&cr, &v);
    hostile(&R12, &v, 0);
    TF_CHECK_EQ(run_exact(&R11, v.b, v.n), TF_ERR_MALFORMED);     /* 1.2 layout as 1.1 */
    copy_of(&c, &v);
    set16(c.b + m.sigalgs_len_at, 5);                              /* odd sigalgs length */
    TF_CHECK_EQ(run_exact(&R12, c.b, c.n), TF_ERR_MALFORMED);
    set16(c.b + m.sigalgs_len_at, 0x0100);                         /* beyond end */
    TF_CHECK_EQ(run_exact(&R12, c.b, c.n), TF_ERR_MALFORMED);
    copy_of(&c, &v);
    set16(c.b + m.dn_len_at[1], (unsigned)DN_LENS[1] + 1);         /* DN beyond CA list */
    TF_CHECK_EQ(run_exact(&R12, c.b, c.n), TF_ERR_MALFORMED);
    copy_of(&c, &v);
    set16(c.b + m.cas_len_at, get16(c.b + m.cas_len_at) - 1);      /* CA list cuts a DN */
    TF_CHECK_EQ(run_exact(&R12, c.b, c.n), TF_ERR_MALFORMED);
    copy_of(&c, &v);
    c.b[m.types_len_at] = 0xFF;                                     /* types beyond end */
    TF_CHECK_EQ(run_exact(&R12, c.b, c.n), TF_ERR_MALFORMED);

    /* TLS 1.1: no sigalgs */
    build_creq12(&v, &m, 0);
    TF_CHECK_EQ(tf_parse_cert_request(v.b, v.n, 0, 0x0302, &cr), TF_OK);
    TF_CHECK_EQ(cr.nsigalgs, 0);
    TF_CHECK_EQ(cr.ntypes, 2);
    check_cas(&cr, &v);
    hostile(&R11, &v, 0);

    /* TLS 1.3 */
    build_creq13(&v, &m);
    TF_CHECK_EQ(tf_parse_cert_request(v.b, v.n, 1, 0x0304, &cr), TF_OK);
    TF_CHECK_EQ(cr.ntypes, 0);
    TF_CHECK_EQ(cr.nsigalgs, 3);
    for (k = 0; k < 3; k++) TF_CHECK_EQ(cr.sigalgs[k], CR_SIGALGS[k]);
    check_cas(&cr, &v);
    hostile(&R13, &v, 0);
    TF_CHECK_EQ(run_exact(&R12, v.b, v.n), TF_ERR_MALFORMED);     /* 1.3 layout as 1.2 */
    copy_of(&c, &v);
    set16(c.b + m.sigalgs_len_at, 5);
    TF_CHECK_EQ(run_exact(&R13, c.b, c.n), TF_ERR_MALFORMED);
    copy_of(&c, &v);
    set16(c.b + m.sigalgs_len_at, 4);                              /* list shorter than extension */
    TF_CHECK_EQ(run_exact(&R13, c.b, c.n), TF_ERR_MALFORMED);
    copy_of(&c, &v);
    set16(c.b + m.sig_ext_len_at, 0x7FFF);
    TF_CHECK_EQ(run_exact(&R13, c.b, c.n), TF_ERR_MALFORMED);
    copy_of(&c, &v);
    set16(c.b + m.dn_len_at[0], 0x1000);
    TF_CHECK_EQ(run_exact(&R13, c.b, c.n), TF_ERR_MALFORMED);
    copy_of(&c, &v);
    set16(c.b + m.cas_len_at, get16(c.b + m.cas_len_at) + 1);
    TF_CHECK_EQ(run_exact(&R13, c.b, c.n), TF_ERR_MALFORMED);
    copy_of(&c, &v);
    set16(c.b + m.exts_len_at, get16(c.b + m.exts_len_at) - 1);
    TF_CHECK_EQ(run_exact(&R13, c.b, c.n), TF_ERR_MALFORMED);

    /* more items than the fixed arrays hold: capped, no overflow */
    vb_init(&v);
    hs_begin(&v, TF_HS_CERTIFICATE_REQUEST);
    vopen(&v, 1); fill(&v, 20, 1); vclose(&v);                    /* 20 cert types > 16 */
    vopen(&v, 2);
    for (k = 0; k < 100; k++) put16(&v, (unsigned)(0x0400 + k));  /* 100 sigalgs > 64 */
    vclose(&v);
    vopen(&v, 2);
    for (k = 0; k < 70; k++) { vopen(&v, 2); put8(&v, (unsigned)k); vclose(&v); } /* 70 DNs */
    vclose(&v);
    hs_end(&v);
    TF_CHECK_EQ(run_exact(&R12, v.b, v.n), TF_OK);
    TF_CHECK_EQ(tf_parse_cert_request(v.b, v.n, 0, 0x0303, &cr), TF_OK);
    TF_CHECK_EQ(cr.ntypes, 16);
    TF_CHECK_EQ(cr.nsigalgs, TF_MAX_CERTREQ_ITEMS);
    TF_CHECK_EQ(cr.sigalgs[TF_MAX_CERTREQ_ITEMS - 1], 0x0400 + TF_MAX_CERTREQ_ITEMS - 1);
    TF_CHECK_EQ(cr.nca, TF_MAX_CERTREQ_ITEMS);
    TF_CHECK_EQ(cr.ca_len[TF_MAX_CERTREQ_ITEMS - 1], 1);
    TF_CHECK_EQ(cr.ca_der[TF_MAX_CERTREQ_ITEMS - 1][0], TF_MAX_CERTREQ_ITEMS - 1);
}

/* ------------------------------------------------------------------ */
/* CertificateVerify                                                    */
/* ------------------------------------------------------------------ */

static void test_cert_verify(void)
{
    static const dec_spec D = { "CertificateVerify", D_CV, TF_KX_TLS13, 0x0304, 1 };
    vb v;
    copy_t c;
    uint16_t sig = 0;
    size_t sig_len_at;

    vb_init(&v);
    hs_begin(&v, TF_HS_CERTIFICATE_VERIFY);
    put16(&v, 0x0804);
    sig_len_at = v.n;
    vopen(&v, 2); fill(&v, 256, 0x21); vclose(&v);
    hs_end(&v);
    TF_CHECK_EQ(tf_parse_cert_verify(v.b, v.n, &sig), TF_OK);
    TF_CHECK_EQ(sig, 0x0804);
    hostile(&D, &v, 0);
    copy_of(&c, &v);
    set16(c.b + sig_len_at, 257);
    TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);
    set16(c.b + sig_len_at, 255);
    TF_CHECK_EQ(run_exact(&D, c.b, c.n), TF_ERR_MALFORMED);

    /* ECDSA-sized signature */
    vb_init(&v);
    hs_begin(&v, TF_HS_CERTIFICATE_VERIFY);
    put16(&v, 0x0403);
    vopen(&v, 2); fill(&v, 71, 0x30); vclose(&v);
    hs_end(&v);
    TF_CHECK_EQ(tf_parse_cert_verify(v.b, v.n, &sig), TF_OK);
    TF_CHECK_EQ(sig, 0x0403);
    hostile(&D, &v, 0);
}

int main(void)
{
    test_server_hello();
    test_encrypted_extensions();
    test_ske();
    test_certificate();
    test_cert_request();
    test_cert_verify();
    return tf_unit_report("test_parse");
}
