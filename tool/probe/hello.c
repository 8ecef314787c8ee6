/* hello.c -- ClientHello builder (see hello.h for which extensions go where). */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "errors.h"
#include "hello.h"
#include "inner.h"

enum {
    EXT_SERVER_NAME = 0, EXT_MFL = 1, EXT_GROUPS = 10, EXT_POINT_FORMATS = 11, EXT_SIGALGS = 13,
    EXT_ALPN = 16, EXT_ETM = 22, EXT_EMS = 23, EXT_RSL = 28, EXT_TICKET = 35, EXT_VERSIONS = 43,
    EXT_PSK_MODES = 45, EXT_KEY_SHARE = 51, EXT_CID = 54, EXT_RENEGO = 0xff01
};

const uint8_t tf_alpn_default[] = {
    2, 'h', '2',
    8, 'h', 't', 't', 'p', '/', '1', '.', '1',
    4, 'm', 'q', 't', 't',
    14, 'x', '-', 'a', 'm', 'z', 'n', '-', 'm', 'q', 't', 't', '-', 'c', 'a'
};
const size_t tf_alpn_default_len = sizeof(tf_alpn_default);

int tf_alpn_list_parse(const char *csv, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = 0;
    const char *name = csv;
    for (;;) {
        const char *end = strchr(name, ',');
        size_t nlen = end ? (size_t)(end - name) : strlen(name), i;
        if (nlen == 0 || nlen > 255 || n + 1 + nlen > cap) return -1;
        for (i = 0; i < nlen; i++)
            if (name[i] < 0x21 || name[i] > 0x7e) return -1;   /* printable, no space; ',' separates */
        out[n++] = (uint8_t)nlen;
        memcpy(out + n, name, nlen);
        n += nlen;
        if (!end) break;
        name = end + 1;
    }
    *len = n;
    return 0;
}

void tf_alpn_list_text(const uint8_t *list, size_t len, char *out, size_t cap)
{
    size_t at = 0, used = 0;
    if (cap == 0) return;
    out[0] = '\0';
    while (at < len && at + 1 + list[at] <= len) {
        int w = snprintf(out + used, cap - used, "%s%.*s", used ? "," : "", (int)list[at], (const char *)list + at + 1);
        if (w < 0 || (size_t)w >= cap - used) return;
        used += (size_t)w;
        at += 1 + (size_t)list[at];
    }
}

static void fill_random(uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t r = getrandom(p + off, n - off, 0);
        if (r <= 0) break;
        off += (size_t)r;
    }
    for (; off < n; off++) p[off] = (uint8_t)(off * 131 + 7); /* no entropy needed: not a secret */
}

static void put_u16_list(tf_wr *w, const uint16_t *v, size_t n)
{
    size_t at = tf_wr_open(w, 2), i;
    for (i = 0; i < n; i++) tf_wr_u16(w, v[i]);
    tf_wr_close(w, at, 2);
}

/* Starts an extension: writes its type and opens its 2-byte length. */
static size_t ext_open(tf_wr *w, uint16_t type)
{
    tf_wr_u16(w, type);
    return tf_wr_open(w, 2);
}

static void ext_sni(tf_wr *w, const char *sni)
{
    size_t at = ext_open(w, EXT_SERVER_NAME), list = tf_wr_open(w, 2), name;
    tf_wr_u8(w, 0); /* host_name */
    name = tf_wr_open(w, 2);
    tf_wr_bytes(w, sni, strlen(sni));
    tf_wr_close(w, name, 2);
    tf_wr_close(w, list, 2);
    tf_wr_close(w, at, 2);
}

static void ext_u16_list(tf_wr *w, uint16_t type, const uint16_t *v, size_t n)
{
    size_t at = ext_open(w, type);
    put_u16_list(w, v, n);
    tf_wr_close(w, at, 2);
}

static void ext_empty(tf_wr *w, uint16_t type)
{
    tf_wr_u16(w, type);
    tf_wr_u16(w, 0);
}

static void ext_alpn(tf_wr *w, const tf_hello *h)
{
    size_t at = ext_open(w, EXT_ALPN), list = tf_wr_open(w, 2);
    tf_wr_bytes(w, h->alpn, h->alpn_len);
    tf_wr_close(w, list, 2);
    tf_wr_close(w, at, 2);
}

static void ext_tls13(tf_wr *w, const tf_hello *h)
{
    size_t at, list;

    at = ext_open(w, EXT_VERSIONS);
    tf_wr_u8(w, 2);
    tf_wr_u16(w, 0x0304);
    tf_wr_close(w, at, 2);

    at = ext_open(w, EXT_PSK_MODES);
    tf_wr_u8(w, 1);
    tf_wr_u8(w, 1); /* psk_dhe_ke */
    tf_wr_close(w, at, 2);

    at = ext_open(w, EXT_KEY_SHARE);
    list = tf_wr_open(w, 2);
    if (h->key_share_group) {
        size_t key;
        tf_wr_u16(w, h->key_share_group);
        key = tf_wr_open(w, 2);
        tf_wr_bytes(w, h->key_share, h->key_share_len);
        tf_wr_close(w, key, 2);
    }
    tf_wr_close(w, list, 2);
    tf_wr_close(w, at, 2);
}

static void extensions(tf_wr *w, const tf_hello *h)
{
    size_t at = tf_wr_open(w, 2);

    if (h->sni && h->sni[0]) ext_sni(w, h->sni);
    if (h->ngroups) ext_u16_list(w, EXT_GROUPS, h->groups, h->ngroups);
    if (h->ngroups) {
        size_t pf = ext_open(w, EXT_POINT_FORMATS);
        tf_wr_u8(w, 1);
        tf_wr_u8(w, 0); /* uncompressed */
        tf_wr_close(w, pf, 2);
    }
    if (h->version >= 0x0303 && h->nsigalgs) ext_u16_list(w, EXT_SIGALGS, h->sigalgs, h->nsigalgs);
    if (h->version <= 0x0303) {
        ext_empty(w, EXT_EMS);
        ext_empty(w, EXT_ETM);
        ext_empty(w, EXT_TICKET);
    }
    {
        size_t rn = ext_open(w, EXT_RENEGO);
        tf_wr_u8(w, 0);
        tf_wr_close(w, rn, 2);
    }
    if (h->mfl) {
        size_t m = ext_open(w, EXT_MFL);
        tf_wr_u8(w, h->mfl);
        tf_wr_close(w, m, 2);
    }
    if (h->record_size_limit) {
        size_t r = ext_open(w, EXT_RSL);
        tf_wr_u16(w, h->record_size_limit);
        tf_wr_close(w, r, 2);
    }
    if (h->alpn) ext_alpn(w, h);
    if (h->cid) {
        size_t cid = ext_open(w, EXT_CID);
        tf_wr_u8(w, 0);                     /* the client asks for no CID on what it receives */
        tf_wr_close(w, cid, 2);
    }
    if (h->version == 0x0304) ext_tls13(w, h);
    tf_wr_close(w, at, 2);
}

int tf_hello_build(const tf_hello *h, uint8_t *out, size_t cap, size_t *len)
{
    tf_wr w;
    size_t rec, msg, sid;
    uint8_t random[32];

    tf_wr_init(&w, out, cap);
    tf_wr_u8(&w, 22);                      /* handshake record */
    tf_wr_u16(&w, 0x0301);                 /* record version: most tolerant value */
    rec = tf_wr_open(&w, 2);
    tf_wr_u8(&w, 1);                       /* client_hello */
    msg = tf_wr_open(&w, 3);
    tf_wr_u16(&w, h->version >= 0x0303 ? 0x0303 : h->version);
    fill_random(random, sizeof(random));
    tf_wr_bytes(&w, random, sizeof(random));
    sid = tf_wr_open(&w, 1);
    if (h->version == 0x0304) {            /* middlebox compatibility mode */
        uint8_t id[32];
        fill_random(id, sizeof(id));
        tf_wr_bytes(&w, id, sizeof(id));
    }
    tf_wr_close(&w, sid, 1);
    put_u16_list(&w, h->suites, h->nsuites);
    tf_wr_u8(&w, 1);
    tf_wr_u8(&w, 0);                       /* null compression */
    extensions(&w, h);
    tf_wr_close(&w, msg, 3);
    tf_wr_close(&w, rec, 2);
    if (w.bad) return TF_ERR_INTERNAL;
    *len = w.len;
    return TF_OK;
}
