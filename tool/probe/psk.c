/*
 * psk.c -- the pre-shared-key step (see psk.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/error.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_ciphersuites.h"

#include "dtls.h"
#include "errors.h"
#include "mbconn.h"
#include "mbdgram.h"
#include "psk.h"
#include "tables.h"

int tf_psk_read_key(int fd, tf_psk_secret *s)
{
    uint8_t buf[TF_PSK_MAX_KEY + 1];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return TF_ERR_PSK_KEY;
        if (r == 0 || (n += (size_t)r) == sizeof(buf)) break;
    }
    if (n == 0 || n > TF_PSK_MAX_KEY) {
        memset(buf, 0, sizeof(buf));
        return TF_ERR_PSK_KEY;
    }
    memcpy(s->key, buf, n);
    s->key_len = n;
    memset(buf, 0, sizeof(buf));
    return TF_OK;
}

#define TLS13_RECORD_OVERHEAD 17      /* AEAD tag (16) and the inner content type (1) */
#define DTLS_RECORD_HEADER 13         /* RFC 6347 4.1 */

/* The record sizes of the server's bytes `c` captured, into the facts. */
static void note_records(const tf_mbconn *c, tf_psk_facts *f)
{
    size_t at = 0;
    while (at + 5 <= c->ngot) {
        size_t len = (size_t)c->got[at + 3] << 8 | c->got[at + 4];
        size_t plain = c->got[at] == 23 && len > TLS13_RECORD_OVERHEAD ? len - TLS13_RECORD_OVERHEAD : len;
        if (at + 5 + len > c->ngot) break;
        if (len > f->max_record_len) f->max_record_len = len;
        if (plain > f->max_plain_len) f->max_plain_len = plain;
        at += 5 + len;
    }
}

static int is_psk_kx(tf_kx kx)
{
    return kx == TF_KX_PSK || kx == TF_KX_ECDHE_PSK || kx == TF_KX_DHE_PSK || kx == TF_KX_RSA_PSK;
}

/*
 * One handshake at `version` with the PSK: TLS 1.2 offering suite `suite`
 * alone, TLS 1.3 with key exchange modes `modes`.  1 when it completed (the
 * negotiated suite in *got), 0 when not (the first failure noted in f->why).
 */
static int handshake(tf_target *t, const tf_psk_secret *s, uint16_t version, uint16_t suite, int modes,
                     uint16_t *got, uint16_t *group, tf_psk_facts *f)
{
    static tf_mbconn c;
    tf_mbdgram_timer timer;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    int one[2] = { suite, 0 };
    char detail[140];
    int rc, ok = 0;

    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    f->connections++;
    if ((rc = t->dtls ? tf_mbdgram_open(&c, t) : tf_mbconn_open(&c, t)) != TF_OK) {
        if (!f->why[0]) snprintf(f->why, sizeof(f->why), "could not connect (%s)", tf_err_name(rc));
        goto done;
    }
    mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT,
                                t->dtls ? MBEDTLS_SSL_TRANSPORT_DATAGRAM : MBEDTLS_SSL_TRANSPORT_STREAM,
                                MBEDTLS_SSL_PRESET_DEFAULT);
    if (t->dtls) mbedtls_ssl_conf_handshake_timeout(&conf, TF_DTLS_RETRANSMIT_MS, (uint32_t)t->timeout_ms);
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);   /* the key authenticates; no data is sent */
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, tf_mbconn_rng());
    mbedtls_ssl_conf_min_tls_version(&conf, (mbedtls_ssl_protocol_version)version);
    mbedtls_ssl_conf_max_tls_version(&conf, (mbedtls_ssl_protocol_version)version);
    mbedtls_ssl_conf_session_tickets(&conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
    mbedtls_ssl_conf_read_timeout(&conf, (uint32_t)t->timeout_ms);
    if (version == 0x0303) mbedtls_ssl_conf_ciphersuites(&conf, one);
    else mbedtls_ssl_conf_tls13_key_exchange_modes(&conf, modes);
    if (mbedtls_ssl_conf_psk(&conf, s->key, s->key_len, (const unsigned char *)s->identity,
                             strlen(s->identity)) != 0 ||
        mbedtls_ssl_setup(&ssl, &conf) != 0 ||
        mbedtls_ssl_set_hostname(&ssl, t->sni[0] ? t->sni : NULL) != 0) {
        if (!f->why[0]) snprintf(f->why, sizeof(f->why), "mbedTLS could not set up a PSK client");
        goto done;
    }
    if ((t->dtls ? tf_mbdgram_handshake(&c, &ssl, &timer, detail, sizeof(detail))
                 : tf_mbconn_handshake(&c, &ssl, detail, sizeof(detail))) != 0) {
        if (!f->why[0]) snprintf(f->why, sizeof(f->why), "%s %s: %s",
                                 t->dtls ? "DTLSv1.2" : version == 0x0303 ? "TLSv1.2" : "TLSv1.3",
                                 version == 0x0303 ? tf_suite_name(suite)
                                 : modes == MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK ? "psk_ke" : "psk_dhe_ke",
                                 detail);
        goto done;
    }
    ok = 1;
    *got = (uint16_t)mbedtls_ssl_get_ciphersuite_id_from_ssl(&ssl);
    if (t->dtls) {
        int expansion = mbedtls_ssl_get_record_expansion(&ssl);   /* header, nonce, tag */
        size_t overhead = expansion > DTLS_RECORD_HEADER ? (size_t)expansion - DTLS_RECORD_HEADER : 0;
        tf_mbdgram_record_sizes(&c, overhead, &f->max_record_len, &f->max_plain_len);
    } else {
        tf_server_hello sh;
        const uint8_t *sid;
        size_t sid_len;
        *group = tf_mbconn_server_hello(&c, &sh, &sid, &sid_len) == 0 ? sh.ks_group : 0;
        note_records(&c, f);
    }
    mbedtls_ssl_close_notify(&ssl);
done:
    if (t->dtls && c.ngot) t->udp_answered = 1;     /* mbdgram.h's rule for the next one */
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    tf_mbconn_close(&c);
    return ok;
}

int tf_psk_probe(tf_target *t, const tf_psk_secret *s, const uint16_t *suites12, size_t n12,
                 tf_psk_facts *out)
{
    size_t i;
    uint16_t got = 0, group = 0;
    memset(out, 0, sizeof(*out));
    out->psk_ke = out->psk_dhe_ke = -1;
    if (!tf_mbconn_rng()) {
        snprintf(out->why, sizeof(out->why), "mbedTLS's random generator could not be seeded");
        return TF_ERR_INTERNAL;
    }
    for (i = 0; i < n12 && out->ntls12 < TF_PSK_MAX_SUITES; i++) {
        const tf_suite *su = tf_suite_find(suites12[i]);
        if (!su || !is_psk_kx(su->kx) || !mbedtls_ssl_ciphersuite_from_id(suites12[i])) continue;
        out->tls12_tried++;
        if (handshake(t, s, 0x0303, suites12[i], 0, &got, &group, out)) out->tls12[out->ntls12++] = suites12[i];
    }
    if (t->dtls) {                      /* DTLS 1.2 only: mbedTLS 3.6 has no DTLS 1.3 */
        if (out->ntls12 == 0) return TF_ERR_PSK_REFUSED;
        return TF_OK;
    }
    out->psk_ke = handshake(t, s, 0x0304, 0, MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK, &got, &group, out);
    if (out->psk_ke) out->tls13_suite = got;
    out->psk_dhe_ke = handshake(t, s, 0x0304, 0, MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL, &got,
                                &group, out);
    if (out->psk_dhe_ke) {
        out->tls13_suite = got;
        out->tls13_group = group;
    }
    if (out->ntls12 == 0 && !out->psk_ke && !out->psk_dhe_ke) return TF_ERR_PSK_REFUSED;
    return TF_OK;
}
