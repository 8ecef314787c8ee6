/* report.c -- the result line (report.h). */
#include "report.h"
#include "names.h"
#include "resume.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_ciphersuites.h"
#include "mbedtls/version.h"

static void begin(tf_json *j)
{
    /* RAW_HIGH: text (hosts, paths, messages) is passed on as it is */
    tf_json_start(j, stdout, TF_JSON_ONE_LINE | TF_JSON_RAW_HIGH);
    tf_json_obj(j, NULL);
}

static void end(tf_json *j)
{
    tf_json_end_obj(j);
    (void) tf_json_finish(j);
}

/* One line, the flags' texts joined by "; " (mbedTLS's info lines, else the
   flag names when this build has no info strings). */
static void verify_info(uint32_t flags, char *info, size_t size)
{
    info[0] = '\0';
#if !defined(MBEDTLS_X509_REMOVE_INFO) && defined(MBEDTLS_X509_CRT_PARSE_C)
    if (mbedtls_x509_crt_verify_info(info, size, "", flags) < 0) {
        info[0] = '\0';
    }
    /* one line: "a\nb\n" -> "a;b" */
    size_t len = strlen(info);
    while (len > 0 && info[len - 1] == '\n') {
        info[--len] = '\0';
    }
    for (char *p = info; *p; p++) {
        if (*p == '\n') {
            *p = ';';
        }
    }
#endif
    if (info[0] != '\0') {
        return;
    }
    size_t off = 0;         /* no info strings in this build: the flag names */
    for (const struct tf_name *t = tf_flag_names; t->name != NULL; t++) {
        if ((flags & (uint32_t) t->value) && off < size) {
            int w = snprintf(info + off, size - off, "%s%s", off ? "; " : "", t->name);
            off += w > 0 ? (size_t) w : 0;
        }
    }
}

static void add_flags(tf_json *j, uint32_t flags, int available)
{
    if (!available) {
        tf_json_null(j, "verify_flags");
        tf_json_null(j, "verify_flag_names");
        tf_json_null(j, "verify_info");
        return;
    }
    tf_json_int(j, "verify_flags", (long long) flags);
    tf_json_arr(j, "verify_flag_names");
    for (const struct tf_name *t = tf_flag_names; t->name != NULL; t++) {
        if (flags & (uint32_t) t->value) {
            tf_json_str(j, NULL, t->name);
        }
    }
    tf_json_end_arr(j);
    if (flags == 0) {
        tf_json_null(j, "verify_info");
        return;
    }
    char info[1024];
    verify_info(flags, info, sizeof(info));
    tf_json_str(j, "verify_info", info);
}

static void add_group(tf_json *j, const char *key, int group)
{
    if (group < 0) {
        tf_json_null(j, key);
        return;
    }
    const char *n = tf_group_name(group);
    char tmp[16];
    if (n == NULL) {
        snprintf(tmp, sizeof(tmp), "0x%04X", (unsigned) group);
        n = tmp;
    }
    tf_json_str(j, key, n);
}

static void add_server_hello(tf_json *j, const struct tf_wire *w)
{
    if (!w->sh_seen) {
        tf_json_null(j, "server_hello");
        return;
    }
    char tmp[96];
    tf_json_obj(j, "server_hello");
    tf_json_str(j, "version", tf_version_name(w->sh_version));
    const char *mbed = mbedtls_ssl_get_ciphersuite_name((int) w->sh_suite);
    if (mbed != NULL && strcmp(mbed, "unknown") != 0) {
        tf_iana_suite_name(mbed, tmp, sizeof(tmp));
        tf_json_str(j, "ciphersuite", tmp);
    } else {
        tf_json_null(j, "ciphersuite");
    }
    snprintf(tmp, sizeof(tmp), "0x%04X", w->sh_suite);
    tf_json_str(j, "ciphersuite_id", tmp);
    add_group(j, "group", w->sh_version == 0x0304 ? w->sh_group : w->ske_group);
    if (w->ske_sigalg >= 0) {
        const char *n = tf_sigalg_name(w->ske_sigalg);
        snprintf(tmp, sizeof(tmp), "0x%04X", (unsigned) w->ske_sigalg);
        tf_json_str(j, "ske_signature", n ? n : tmp);
    }
    tf_json_end_obj(j);
}

/* key: "name (N)" for alert description N. */
static void add_alert_desc(tf_json *j, const char *key, int desc)
{
    const char *n = tf_alert_name(desc);
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%s (%d)", n ? n : "unknown", desc);
    tf_json_str(j, key, tmp);
}

/* "alert": the server's fatal alert -- from the plaintext records the wire
   observer saw, else (encrypted: TLS 1.3, or after the handshake) the one
   mbedTLS just reported. */
static void add_alert(tf_json *j, const struct tf_session *s, int code)
{
    const struct tf_wire *w = &s->io.wire;
    int desc = -1;
    if (s->proof_ran && s->proof.alert >= 0) {
        desc = s->proof.alert;
    } else if (w->alert_seen) {
        desc = w->alert_desc;
    } else if (code == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        desc = tf_proof_alert_description(&s->ssl);
    }
    if (desc < 0) {
        tf_json_null(j, "alert");
        return;
    }
    add_alert_desc(j, "alert", desc);
}

static void add_common(tf_json *j, const struct tf_opts *o, const struct tf_session *s)
{
    tf_json_str(j, "mbedtls", MBEDTLS_VERSION_STRING);
    tf_json_int(j, "in_content_len", (long long) MBEDTLS_SSL_IN_CONTENT_LEN);
    tf_json_int(j, "out_content_len", (long long) MBEDTLS_SSL_OUT_CONTENT_LEN);
    tf_json_str(j, "host", o->host);
    tf_json_int(j, "port", atol(o->port));
    tf_json_str(j, "sni", o->sni);
    tf_json_int(j, "ca_loaded", s->ca.loaded);
    tf_json_int(j, "ca_skipped", s->ca.rejected);
    tf_json_str(j, "rng", TF_RNG);
    tf_json_str(j, "client_cert", o->client_cert);
}

/* The group as seen on the wire: TLS 1.3 key_share, else TLS 1.2 ECDHE curve. */
static void add_negotiated_group(tf_json *j, const struct tf_wire *w)
{
    int group = -1;
    const char *group_from = NULL;
    if (w->sh_version == 0x0304 && w->sh_group >= 0) {
        group = w->sh_group;
        group_from = "key_share";
    } else if (w->sh_version != 0x0304 && w->ske_group >= 0) {
        group = w->ske_group;
        group_from = "server_key_exchange";
    }
    add_group(j, "group", group);
    tf_json_str(j, "group_from", group_from);
}

/* The reply's first line as printable ASCII (an HTTP status line). */
static void first_line(const struct tf_proof_result *r, char *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < r->reply_len && n + 1 < size; i++) {
        unsigned char c = r->reply[i];
        if (c == '\r' || c == '\n') {
            break;
        }
        out[n++] = (c >= 0x20 && c < 0x7f) ? (char) c : '?';
    }
    out[n] = '\0';
}

/* "proof" (its name) and "proof_result" (null until the proof ran). */
static void add_proof(tf_json *j, const struct tf_opts *o, const struct tf_session *s)
{
    const struct tf_proof_result *r = &s->proof;
    tf_json_str(j, "proof", tf_proof_label(o->proof.kind));
    if (!s->proof_ran) {
        tf_json_null(j, "proof_result");
        return;
    }
    tf_json_obj(j, "proof_result");
    tf_json_bool(j, "ok", r->outcome <= TF_PROOF_ACCEPTED_DATA);
    tf_json_str(j, "outcome", tf_proof_outcome_name(r->outcome));
    tf_json_hex(j, "reply_hex", r->reply, r->reply_len);
    if (r->mqtt_code >= 0) {
        tf_json_int(j, "mqtt_return_code", r->mqtt_code);
    } else {
        tf_json_null(j, "mqtt_return_code");
    }
    if (o->proof.kind == TF_PROOF_HTTP && r->outcome == TF_PROOF_ACCEPTED_REPLY) {
        char line[TF_PROOF_REPLY_MAX + 1];
        first_line(r, line, sizeof(line));
        tf_json_str(j, "http_status", line);
    } else {
        tf_json_null(j, "http_status");
    }
    tf_json_bool(j, "server_flight", r->flight);
    tf_json_int(j, "sent_bytes", (long long) r->sent);
    tf_json_int(j, "waited_ms", (long long) r->elapsed);
    if (r->alert >= 0) {
        add_alert_desc(j, "alert", r->alert);
    } else {
        tf_json_null(j, "alert");
    }
    tf_json_end_obj(j);
}

int tf_report_ok(const struct tf_opts *o, const struct tf_session *s)
{
    tf_json j;
    char tmp[128];
    const char *mbed = mbedtls_ssl_get_ciphersuite(&s->ssl);
    begin(&j);
    tf_json_bool(&j, "ok", 1);
    tf_json_str(&j, "version", mbedtls_ssl_get_version(&s->ssl));
    if (mbed != NULL) {
        tf_iana_suite_name(mbed, tmp, sizeof(tmp));
        tf_json_str(&j, "ciphersuite", tmp);
        snprintf(tmp, sizeof(tmp), "0x%04X", (unsigned) mbedtls_ssl_get_ciphersuite_id(mbed));
        tf_json_str(&j, "ciphersuite_id", tmp);
    } else {
        tf_json_null(&j, "ciphersuite");
        tf_json_null(&j, "ciphersuite_id");
    }
    add_negotiated_group(&j, &s->io.wire);
#if defined(MBEDTLS_SSL_ALPN)
    /* the application protocol the server selected from TLSFIT_ALPN (null: none) */
    tf_json_str(&j, "alpn", mbedtls_ssl_get_alpn_protocol(&s->ssl));
#endif
#if defined(TLSFIT_DTLS) && defined(TLSFIT_DTLS_CID) && defined(MBEDTLS_SSL_DTLS_CONNECTION_ID)
    /* DTLS: the length of the server's Connection ID in use (null: none negotiated) */
    {
        unsigned char peer[MBEDTLS_SSL_CID_OUT_LEN_MAX];
        size_t peer_len = 0;
        int enabled = 0;
        if (mbedtls_ssl_get_peer_cid(&s->ssl, &enabled, peer, &peer_len) == 0 &&
            enabled == MBEDTLS_SSL_CID_ENABLED) {
            tf_json_int(&j, "connection_id_len", (long long) peer_len);
        } else {
            tf_json_null(&j, "connection_id_len");
        }
    }
#endif
    {
        uint32_t flags = mbedtls_ssl_get_verify_result(&s->ssl);    /* -1: no certificate (PSK) */
        add_flags(&j, flags, flags != (uint32_t) -1);
    }
    tf_json_int(&j, "largest_record", (long long) s->io.wire.largest_record);
    add_proof(&j, o, s);
    tf_verify_resume_report(&j, o, s);
    add_common(&j, o, s);
    end(&j);
    return EXIT_VERIFIED;
}

/* "error", "code", "message": from the mbedTLS code, else from *f. */
static void add_error(tf_json *j, const struct tf_fail *f, int code)
{
    if (code == 0) {
        tf_json_str(j, "error", f->error);
        tf_json_str(j, "code", f->code[0] ? f->code : NULL);
        tf_json_str(j, "message", f->message[0] ? f->message : NULL);
        return;
    }
    char name[200], codebuf[24], msg[512];
    tf_error_name(code, name, sizeof(name));
    tf_code_text(code, codebuf, sizeof(codebuf));
    tf_error_message(code, msg, sizeof(msg));
    tf_json_str(j, "error", f->error ? f->error : name);   /* tlsfit's name when it has one */
    tf_json_str(j, "code", codebuf);
    tf_json_str(j, "message", f->message[0] ? f->message : msg[0] ? msg : NULL);
}

/* Explanations of failures whose mbedTLS error says little. */
static void add_hints(tf_json *j, const struct tf_wire *w, int code)
{
    if ((code == MBEDTLS_ERR_SSL_BAD_INPUT_DATA || code == MBEDTLS_ERR_SSL_INVALID_RECORD) &&
        w->largest_record > MBEDTLS_SSL_IN_CONTENT_LEN) {
        char hint[200];
        snprintf(hint, sizeof(hint), "the server sent a %zu-byte record; "
                 "MBEDTLS_SSL_IN_CONTENT_LEN is %d", w->largest_record,
                 (int) MBEDTLS_SSL_IN_CONTENT_LEN);
        tf_json_str(j, "hint", hint);
    }
#if defined(MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER)     /* 3.x */
    if (code == MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER && w->sh_version == 0x0303 &&
        w->ske_sigalg >= 0x0804 && w->ske_sigalg <= 0x0806) {
        tf_json_str(j, "hint", "the server signed its TLS 1.2 ServerKeyExchange with "
                    "RSA-PSS, which this mbedTLS 3.x rejects in TLS 1.2 (a known regression, "
                    "Mbed-TLS/mbedtls pull request 10674)");
    }
#endif
}

/* What the handshake left: the verify result, hints, what the wire showed. */
static void add_handshake(tf_json *j, const struct tf_session *s, int code)
{
    uint32_t flags = mbedtls_ssl_get_verify_result(&s->ssl);
    add_flags(j, flags, flags != (uint32_t) -1);
    add_hints(j, &s->io.wire, code);
    tf_json_int(j, "largest_record", (long long) s->io.wire.largest_record);
    if (s->io.wire.sh_version == 0x0304) {
        tf_json_null(j, "certificate_requested");  /* encrypted in TLS 1.3 */
    } else {
        tf_json_bool(j, "certificate_requested", s->io.wire.certreq_seen);
    }
    add_alert(j, s, code);
    add_server_hello(j, &s->io.wire);
    if (s->io.sys_errno != 0) {
        tf_json_str(j, "os_error", strerror(s->io.sys_errno));
    }
}

int tf_report_fail(const struct tf_opts *o, const struct tf_session *s,
                   const struct tf_fail *f, int code)
{
    tf_json j;
    begin(&j);
    tf_json_bool(&j, "ok", 0);
    tf_json_str(&j, "step", f->step);
    add_error(&j, f, code);
    if (s->handshaking) {
        add_handshake(&j, s, code);
    } else {
        add_flags(&j, 0, 0);
    }
    add_proof(&j, o, s);
    tf_verify_resume_report(&j, o, s);
    add_common(&j, o, s);
    end(&j);
    return EXIT_FAILED;
}
