/*
 * parse.c -- handshake message decoders (see parse.h).
 *
 * Implementation notes
 * --------------------
 * Every decoder opens a tf_rd `m` over the whole message, checks the 4-byte
 * header (type, 24-bit length == len - 4), then walks the body with nested
 * tf_rd cursors taken by tf_rd_vec() for every length-prefixed vector, so a
 * length field that lies about its vector sets the sticky `bad` flag instead
 * of reading past the message.  Each decoder checks `bad` (and that a
 * cursor that must be consumed exactly is) once, at the end.
 */
#include <string.h>

#include "errors.h"
#include "inner.h"
#include "parse.h"

/* SHA-256("HelloRetryRequest"), the ServerHello.random of an HRR (RFC 8446). */
static const uint8_t hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C
};

/* Opens the body of a message of type `type`; 0 or -1. */
static int open_body(tf_rd *body, const uint8_t *msg, size_t len, uint8_t type)
{
    tf_rd m;
    tf_rd_init(&m, msg, len);
    if (tf_rd_u8(&m) != type) return -1;
    if (tf_rd_vec(&m, 3, body) != 0 || !tf_rd_done(&m)) return -1;
    return 0;
}

static void parse_alpn(tf_rd *e, tf_server_exts *x)
{
    tf_rd list, name;
    const uint8_t *p;
    tf_rd_vec(e, 2, &list);
    tf_rd_vec(&list, 1, &name);
    p = tf_rd_bytes(&name, tf_rd_left(&name));
    if (p && name.len < sizeof(x->alpn)) {
        memcpy(x->alpn, p, name.len);
        x->alpn[name.len] = '\0';
    }
    if (list.bad || !tf_rd_done(&list)) e->bad = 1;
}

/* Applies one extension shared by ServerHello and EncryptedExtensions. */
static void common_ext(uint32_t type, tf_rd *e, tf_server_exts *x)
{
    switch (type) {
    case 1: x->mfl = (uint8_t)tf_rd_u8(e); break;
    case 16: parse_alpn(e, x); break;
    case 22: x->etm = 1; break;
    case 23: x->ems = 1; break;
    case 28: x->has_rsl = 1; x->rsl = (uint16_t)tf_rd_u16(e); break;
    case 35: x->ticket = 1; break;
    case 54: { tf_rd cid; x->cid = 1; tf_rd_vec(e, 1, &cid); x->cid_len = (uint8_t)cid.len; break; }
    case 0xff01: x->renego = 1; tf_rd_skip(e, tf_rd_left(e)); break;
    default: tf_rd_skip(e, tf_rd_left(e)); break;
    }
}

static void sh_key_share(tf_rd *e, tf_server_hello *sh)
{
    tf_rd key;
    sh->ks_group = (uint16_t)tf_rd_u16(e);
    if (sh->hrr) return;
    tf_rd_vec(e, 2, &key);
    sh->ks_key = tf_rd_bytes(&key, tf_rd_left(&key));
    sh->ks_len = key.len;
}

static int sh_extensions(tf_rd *body, tf_server_hello *sh)
{
    tf_rd exts, e;
    if (tf_rd_done(body)) return 0;          /* no extensions block */
    tf_rd_vec(body, 2, &exts);
    while (!exts.bad && !tf_rd_done(&exts)) {
        uint32_t type = tf_rd_u16(&exts);
        tf_rd_vec(&exts, 2, &e);
        if (type == 43) sh->version = (uint16_t)tf_rd_u16(&e);
        else if (type == 51) sh_key_share(&e, sh);
        else if (type == 41) { sh->psk = 1; sh->psk_identity = (uint16_t)tf_rd_u16(&e); }
        else common_ext(type, &e, &sh->ext);
        if (e.bad || !tf_rd_done(&e)) return -1;
    }
    return exts.bad ? -1 : 0;
}

int tf_parse_server_hello(const uint8_t *msg, size_t len, tf_server_hello *sh)
{
    tf_rd body, sid;
    const uint8_t *random;

    memset(sh, 0, sizeof(*sh));
    if (open_body(&body, msg, len, TF_HS_SERVER_HELLO) != 0) return TF_ERR_MALFORMED;
    sh->legacy_version = (uint16_t)tf_rd_u16(&body);
    random = tf_rd_bytes(&body, 32);
    sh->hrr = random && memcmp(random, hrr_random, 32) == 0;
    tf_rd_vec(&body, 1, &sid);
    sh->suite = (uint16_t)tf_rd_u16(&body);
    (void)tf_rd_u8(&body);                   /* compression */
    sh->version = sh->legacy_version;
    if (body.bad || sid.len > 32) return TF_ERR_MALFORMED;
    if (sh_extensions(&body, sh) != 0 || body.bad || !tf_rd_done(&body)) return TF_ERR_MALFORMED;
    return TF_OK;
}

int tf_parse_encrypted_extensions(const uint8_t *msg, size_t len, tf_server_exts *ext)
{
    tf_rd body, exts, e;
    if (open_body(&body, msg, len, TF_HS_ENCRYPTED_EXTENSIONS) != 0) return TF_ERR_MALFORMED;
    tf_rd_vec(&body, 2, &exts);
    while (!exts.bad && !tf_rd_done(&exts)) {
        uint32_t type = tf_rd_u16(&exts);
        tf_rd_vec(&exts, 2, &e);
        common_ext(type, &e, ext);
        if (e.bad || !tf_rd_done(&e)) return TF_ERR_MALFORMED;
    }
    return (exts.bad || !tf_rd_done(&body)) ? TF_ERR_MALFORMED : TF_OK;
}

/* Bits of a big-endian unsigned integer with leading zero bytes. */
static unsigned int_bits(const uint8_t *p, size_t n)
{
    unsigned bits;
    uint8_t top;
    while (n && *p == 0) { p++; n--; }
    if (!n) return 0;
    bits = (unsigned)(n - 1) * 8;
    for (top = *p; top; top >>= 1) bits++;
    return bits;
}

static void ske_signature(tf_rd *body, uint16_t version, tf_ske *out)
{
    tf_rd sig;
    if (version >= 0x0303) out->sigalg = (uint16_t)tf_rd_u16(body);
    tf_rd_vec(body, 2, &sig);
}

int tf_parse_ske(const uint8_t *msg, size_t len, tf_kx kx, uint16_t version, tf_ske *out)
{
    tf_rd body, v;

    memset(out, 0, sizeof(*out));
    if (open_body(&body, msg, len, TF_HS_SERVER_KEY_EXCHANGE) != 0) return TF_ERR_MALFORMED;
    if (kx == TF_KX_DHE_PSK || kx == TF_KX_ECDHE_PSK) tf_rd_vec(&body, 2, &v); /* identity hint */
    if (tf_kx_is_ecdhe(kx)) {
        if (tf_rd_u8(&body) != 3) return TF_ERR_MALFORMED; /* named_curve */
        out->curve = (uint16_t)tf_rd_u16(&body);
        tf_rd_vec(&body, 1, &v);
    } else if (tf_kx_is_dhe(kx)) {
        tf_rd_vec(&body, 2, &v);                            /* p */
        out->dh_bits = int_bits(v.buf, v.len);
        tf_rd_vec(&body, 2, &v);                            /* g */
        tf_rd_vec(&body, 2, &v);                            /* Ys */
    } else {
        tf_rd_skip(&body, tf_rd_left(&body));               /* PSK hint only, SRP, ...: not decoded */
    }
    if (tf_kx_is_signed(kx)) ske_signature(&body, version, out);
    return (body.bad || !tf_rd_done(&body)) ? TF_ERR_MALFORMED : TF_OK;
}

int tf_parse_certificate(const uint8_t *msg, size_t len, int tls13,
                         int (*fn)(void *ctx, const uint8_t *der, size_t der_len), void *ctx)
{
    tf_rd body, ctxv, list, cert, exts;
    if (open_body(&body, msg, len, TF_HS_CERTIFICATE) != 0) return TF_ERR_MALFORMED;
    if (tls13) tf_rd_vec(&body, 1, &ctxv);
    tf_rd_vec(&body, 3, &list);
    if (body.bad || !tf_rd_done(&body)) return TF_ERR_MALFORMED;
    while (!tf_rd_done(&list)) {
        tf_rd_vec(&list, 3, &cert);
        if (tls13) tf_rd_vec(&list, 2, &exts);
        if (list.bad || cert.len == 0) return TF_ERR_MALFORMED;
        if (fn(ctx, cert.buf, cert.len) != 0) break;
    }
    return TF_OK;
}

static void read_sigalgs(tf_rd *v, tf_certreq *out)
{
    while (!v->bad && tf_rd_left(v) >= 2) {
        uint16_t s = (uint16_t)tf_rd_u16(v);
        if (out->nsigalgs < TF_MAX_CERTREQ_ITEMS) out->sigalgs[out->nsigalgs++] = s;
    }
    if (!tf_rd_done(v)) v->bad = 1;
}

static void read_ca_names(tf_rd *v, tf_certreq *out)
{
    tf_rd dn;
    while (!v->bad && !tf_rd_done(v)) {
        tf_rd_vec(v, 2, &dn);
        if (!v->bad && out->nca < TF_MAX_CERTREQ_ITEMS) {
            out->ca_der[out->nca] = dn.buf;
            out->ca_len[out->nca++] = dn.len;
        }
    }
}

static int certreq_13(tf_rd *body, tf_certreq *out)
{
    tf_rd ctxv, exts, e, v;
    tf_rd_vec(body, 1, &ctxv);
    tf_rd_vec(body, 2, &exts);
    while (!exts.bad && !tf_rd_done(&exts)) {
        uint32_t type = tf_rd_u16(&exts);
        tf_rd_vec(&exts, 2, &e);
        if (type == 13) { tf_rd_vec(&e, 2, &v); read_sigalgs(&v, out); if (v.bad) return TF_ERR_MALFORMED; }
        else if (type == 47) { tf_rd_vec(&e, 2, &v); read_ca_names(&v, out); if (v.bad) return TF_ERR_MALFORMED; }
        else tf_rd_skip(&e, tf_rd_left(&e));
        if (e.bad || !tf_rd_done(&e)) return TF_ERR_MALFORMED;
    }
    return (exts.bad || !tf_rd_done(body)) ? TF_ERR_MALFORMED : TF_OK;
}

int tf_parse_cert_request(const uint8_t *msg, size_t len, int tls13, uint16_t version, tf_certreq *out)
{
    tf_rd body, types, v;
    const uint8_t *p;

    memset(out, 0, sizeof(*out));
    if (open_body(&body, msg, len, TF_HS_CERTIFICATE_REQUEST) != 0) return TF_ERR_MALFORMED;
    if (tls13) return certreq_13(&body, out);
    tf_rd_vec(&body, 1, &types);
    out->ntypes = types.len < sizeof(out->cert_types) ? types.len : sizeof(out->cert_types);
    p = tf_rd_bytes(&types, types.len);
    if (p) memcpy(out->cert_types, p, out->ntypes);
    if (version >= 0x0303) { tf_rd_vec(&body, 2, &v); read_sigalgs(&v, out); if (v.bad) return TF_ERR_MALFORMED; }
    tf_rd_vec(&body, 2, &v);
    read_ca_names(&v, out);
    return (v.bad || body.bad || !tf_rd_done(&body)) ? TF_ERR_MALFORMED : TF_OK;
}

int tf_parse_cert_verify(const uint8_t *msg, size_t len, uint16_t *sigalg)
{
    tf_rd body, sig;
    if (open_body(&body, msg, len, TF_HS_CERTIFICATE_VERIFY) != 0) return TF_ERR_MALFORMED;
    *sigalg = (uint16_t)tf_rd_u16(&body);
    tf_rd_vec(&body, 2, &sig);
    return (body.bad || !tf_rd_done(&body)) ? TF_ERR_MALFORMED : TF_OK;
}
