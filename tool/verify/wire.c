/* wire.c -- the observer of the server's bytes (wire.h). */
#include "wire.h"

#include <string.h>

#include "../codec/bytes.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_ciphersuites.h"

/* Handshake message and record types followed. */
#define HS_SERVER_HELLO 2
#define HS_SERVER_KEY_EXCHANGE 12
#define HS_CERTIFICATE_REQUEST 13
#define REC_CHANGE_CIPHER_SPEC 20
#define REC_ALERT 21
#define REC_HANDSHAKE 22
#define REC_APPLICATION_DATA 23
#define EXT_SUPPORTED_VERSIONS 43
#define EXT_KEY_SHARE 51

void tf_wire_init(struct tf_wire *w)
{
    memset(w, 0, sizeof(*w));
    w->active = 1;
    w->sh_group = -1;
    w->ske_group = -1;
    w->ske_sigalg = -1;
}

/* The extensions of a ServerHello / HelloRetryRequest: the version and the
   key_share group (first in both forms). */
static void parse_hello_extensions(struct tf_wire *w, tf_rd *r)
{
    size_t total = tf_rd_u16(r);
    tf_rd ext;
    if (r->bad) {
        return;
    }
    tf_rd_init(&ext, r->buf + r->off, total < tf_rd_left(r) ? total : tf_rd_left(r));
    while (tf_rd_left(&ext) >= 4) {
        unsigned type = tf_rd_u16(&ext), len = tf_rd_u16(&ext);
        const uint8_t *data = tf_rd_bytes(&ext, len);
        if (data == NULL) {
            break;
        }
        if (type == EXT_SUPPORTED_VERSIONS && len == 2) {
            w->sh_version = tf_dec16be(data);
        } else if (type == EXT_KEY_SHARE && len >= 2) {
            w->sh_group = (int) tf_dec16be(data);
        }
    }
}

/* version(2) random(32) session_id<1> suite(2) compression(1) extensions<2> */
static void parse_server_hello(struct tf_wire *w)
{
    tf_rd r, sid;
    tf_rd_init(&r, w->body, w->body_len);
    unsigned version = tf_rd_u16(&r);
    tf_rd_skip(&r, 32);
    tf_rd_vec(&r, 1, &sid);
    unsigned suite = tf_rd_u16(&r);
    tf_rd_skip(&r, 1);
    if (r.bad) {
        return;
    }
    w->sh_seen = 1;
    w->sh_suite = suite;
    w->sh_version = version;
    parse_hello_extensions(w, &r);
}

/* The ServerKeyExchange of TLS 1.2 (EC)DHE suites with a signature:
 *   ECDHE: curve_type(3) named_curve(2) point<1..255> signature_scheme(2) signature
 *   DHE:   dh_p<2> dh_g<2> dh_Ys<2> signature_scheme(2) signature
 * and of ECDHE-PSK suites: psk_identity_hint<2> curve_type(3) named_curve(2) point */
static void parse_server_key_exchange(struct tf_wire *w)
{
    const char *suite = w->sh_seen ? mbedtls_ssl_get_ciphersuite_name((int) w->sh_suite) : NULL;
    tf_rd r, skip;
    tf_rd_init(&r, w->ske, w->ske_len);
    if (suite == NULL) {
        return;
    }
    if (strncmp(suite, "TLS-ECDHE-ECDSA-", 16) == 0 || strncmp(suite, "TLS-ECDHE-RSA-", 14) == 0) {
        if (tf_rd_left(&r) < 4 || tf_rd_u8(&r) != 3) {
            return;
        }
        w->ske_group = (int) tf_rd_u16(&r);
        tf_rd_vec(&r, 1, &skip);
    } else if (strncmp(suite, "TLS-ECDHE-PSK-", 14) == 0) {
        tf_rd_vec(&r, 2, &skip);    /* psk_identity_hint (RFC 5489 2), then no signature */
        if (tf_rd_left(&r) >= 3 && tf_rd_u8(&r) == 3) {
            w->ske_group = (int) tf_rd_u16(&r);
        }
        return;
    } else if (strncmp(suite, "TLS-DHE-RSA-", 12) == 0) {
        for (int i = 0; i < 3; i++) {
            tf_rd_vec(&r, 2, &skip);
        }
    } else {
        return;
    }
    if (tf_rd_left(&r) >= 2) {
        w->ske_sigalg = (int) tf_rd_u16(&r);
    }
}

/* Copies what fits of the n bytes at p into buf (cap bytes, *len used). */
static void keep(unsigned char *buf, size_t cap, size_t *len, const unsigned char *p, size_t n)
{
    size_t c = n < cap - *len ? n : cap - *len;
    memcpy(buf + *len, p, c);
    *len += c;
}

/* Collects one byte of a handshake header; starts the message when complete. */
static void handshake_header_byte(struct tf_wire *w, unsigned char b)
{
    w->hhdr[w->hhdr_len++] = b;
    if (w->hhdr_len < 4) {
        return;
    }
    w->htype = w->hhdr[0];
    if (w->htype == HS_CERTIFICATE_REQUEST) {
        w->certreq_seen = 1;
    }
    w->hleft = tf_dec24be(w->hhdr + 1);
    w->body_len = 0;
    w->ske_len = 0;
    if (w->hleft == 0) {
        w->hhdr_len = 0;
    }
}

/* Takes the n bytes of handshake payload in a plaintext record. */
static void feed_handshake(struct tf_wire *w, const unsigned char *p, size_t n)
{
    while (n > 0) {
        if (w->hhdr_len < 4) {
            handshake_header_byte(w, *p++);
            n--;
            continue;
        }
        size_t take = n < w->hleft ? n : w->hleft;
        if (w->htype == HS_SERVER_HELLO) {          /* also HelloRetryRequest */
            keep(w->body, sizeof(w->body), &w->body_len, p, take);
        } else if (w->htype == HS_SERVER_KEY_EXCHANGE) {
            keep(w->ske, sizeof(w->ske), &w->ske_len, p, take);
        }
        p += take;
        n -= take;
        w->hleft -= take;
        if (w->hleft == 0) {
            if (w->htype == HS_SERVER_HELLO) {
                parse_server_hello(w);
            } else if (w->htype == HS_SERVER_KEY_EXCHANGE) {
                parse_server_key_exchange(w);
            }
            w->hhdr_len = 0;
        }
    }
}

/* Takes the n bytes of alert payload in a plaintext record. */
static void feed_alert(struct tf_wire *w, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n && w->alert_len < 2; i++) {
        w->alert[w->alert_len++] = p[i];
    }
    if (w->alert_len == 2) {
        w->alert_seen = 1;
        w->alert_level = w->alert[0];
        w->alert_desc = w->alert[1];
    }
}

/* Collects one byte of a record header; starts the record when complete. */
static void record_header_byte(struct tf_wire *w, unsigned char b)
{
    w->rhdr[w->rhdr_len++] = b;
    if (w->rhdr_len < 5) {
        return;
    }
    w->rtype = w->rhdr[0];
    w->rleft = tf_dec16be(w->rhdr + 3);
    if (w->rtype < REC_CHANGE_CIPHER_SPEC || w->rtype > REC_APPLICATION_DATA) {
        w->broken = 1;      /* not TLS records (any more) */
        return;
    }
    w->records++;
    if (w->rleft > w->largest_record) {
        w->largest_record = w->rleft;
    }
    if (w->rtype == REC_CHANGE_CIPHER_SPEC || w->rtype == REC_APPLICATION_DATA) {
        w->active = 0;      /* from here on the contents are encrypted */
    }
    if (w->rleft == 0) {
        w->rhdr_len = 0;
    }
    w->alert_len = 0;
}

void tf_wire_observe(struct tf_wire *w, const unsigned char *p, size_t n)
{
    while (!w->broken && n > 0) {
        if (w->rhdr_len < 5) {
            record_header_byte(w, *p++);
            n--;
            continue;
        }
        size_t take = n < w->rleft ? n : w->rleft;
        if (w->active && w->rtype == REC_HANDSHAKE) {
            feed_handshake(w, p, take);
        } else if (w->active && w->rtype == REC_ALERT) {
            feed_alert(w, p, take);
        }
        p += take;
        n -= take;
        w->rleft -= take;
        if (w->rleft == 0) {
            w->rhdr_len = 0;
        }
    }
}
