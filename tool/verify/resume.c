/* resume.c -- the second, resuming connection (resume.h). */
#include "resume.h"

#include <stdio.h>
#include <string.h>

#include "net.h"

/* Saves the proven first connection's session and its figures, then closes it. */
static int save_first(const struct tf_opts *o, struct tf_session *s, struct tf_fail *f,
                      int *code)
{
    struct tf_proof_io pio;
    tf_io_proof(&s->io, &pio);
    (void) tf_resume_await_ticket(&s->ssl, &pio, o->proof.wait_ms);
    int rc = tf_resume_save(&s->ssl, &s->resume, code);
    if (rc == TLSFIT_RESUME_NO_SESSION) {
        tf_fail_set(f, TF_ERROR_NAME(TLSFIT_RESUME_NO_SESSION), "the server gave nothing "
                    "to resume with: no session ticket within %u ms and no session ID",
                    (unsigned) o->proof.wait_ms);
        return -1;
    }
    s->resume.full.bytes_sent = s->io.sent;
    s->resume.full.bytes_received = s->io.received;
    (void) mbedtls_ssl_close_notify(&s->ssl);
    tf_io_close(&s->io);
    return rc == TF_OK ? 0 : -1;
}

/* The resuming handshake, stepped so that its states can be seen. */
static int resumed_handshake(const struct tf_opts *o, struct tf_session *s, struct tf_fail *f)
{
    int ret = 0;
    mbedtls_ssl_set_bio(&s->ssl, &s->io, tf_send, tf_recv, NULL);
    tf_io_set_deadline(&s->io, tf_handshake_limit_s(o));
    while (ret == 0 && !TF_HANDSHAKE_OVER(&s->ssl)) {
        tf_resume_note_state(&s->resume, TF_SSL_STATE(&s->ssl));
        ret = mbedtls_ssl_handshake_step(&s->ssl);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
            ret = 0;
        }
    }
    if (ret == MBEDTLS_ERR_SSL_TIMEOUT && s->io.timed_out) {
        snprintf(f->message, sizeof(f->message), "the server sent nothing for %d ms "
                 "during the resuming handshake", o->timeout_ms);
    }
    return ret;
}

/* A new connection with the saved session, and the resuming handshake. */
static int resume_second(const struct tf_opts *o, struct tf_session *s, struct tf_fail *f,
                         int *code)
{
    tf_io_init(&s->io, o->timeout_ms);
    s->proof_ran = 0;
    if ((*code = mbedtls_ssl_session_reset(&s->ssl)) != 0 ||
        (*code = tf_harness_hostname(&s->ssl, o->sni)) != 0 ||
        (*code = mbedtls_ssl_set_session(&s->ssl, &s->resume.saved)) != 0) {
        return -1;
    }
    if (tf_tcp_connect(&s->io, o, f) != 0) {
        return -1;
    }
    if ((*code = resumed_handshake(o, s, f)) != 0) {
        return -1;
    }
    s->resume.tried = 1;
    return 0;
}

int tf_verify_resume(const struct tf_opts *o, struct tf_session *s, struct tf_fail *f,
                     int *code)
{
    f->step = "resume";
    *code = 0;
    if (save_first(o, s, f, code) != 0 || resume_second(o, s, f, code) != 0) {
        return -1;
    }
    int proven = tf_session_proof(s, o) == 0;
    s->resume.resumed.bytes_sent = s->io.sent;
    s->resume.resumed.bytes_received = s->io.received;
    if (!proven) {
        tf_fail_proof(f, &o->proof, &s->proof, code);
        return -1;
    }
    if (!tf_resume_accepted(&s->resume)) {
        tf_fail_set(f, TF_ERROR_NAME(TLSFIT_RESUME_REFUSED), "the server did not resume "
                    "the %s session: the second connection ran a full handshake (the server "
                    "sent its certificate again)", s->resume.mode);
        return -1;
    }
    return 0;
}

static void add_figures(tf_json *j, const char *key, const struct tf_conn_figures *c)
{
    tf_json_obj(j, key);
    tf_json_int(j, "bytes_sent", (long long) c->bytes_sent);
    tf_json_int(j, "bytes_received", (long long) c->bytes_received);
    tf_json_end_obj(j);
}

void tf_verify_resume_report(tf_json *j, const struct tf_opts *o, const struct tf_session *s)
{
    const struct tf_resume *r = &s->resume;
    if (!o->resume) {
        tf_json_null(j, "resumption");
        return;
    }
    tf_json_obj(j, "resumption");
    tf_json_str(j, "mode", r->mode);
    tf_json_bool(j, "accepted", tf_resume_accepted(r));
    if (r->mode != NULL) {
        add_figures(j, "full", &r->full);
    } else {
        tf_json_null(j, "full");
    }
    if (r->tried) {
        add_figures(j, "resumed", &r->resumed);
    } else {
        tf_json_null(j, "resumed");
    }
    tf_json_end_obj(j);
}
