/* fail.c -- describing a failure (fail.h). */
#include "fail.h"
#include "names.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

void tf_fail_set(struct tf_fail *f, const char *error, const char *fmt, ...)
{
    va_list ap;
    f->error = error;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof(f->message), fmt, ap);
    va_end(ap);
}

const char *tf_errno_name(int e)
{
    switch (e) {
        case ECONNREFUSED: return "ECONNREFUSED";
        case ETIMEDOUT: return "ETIMEDOUT";
        case EHOSTUNREACH: return "EHOSTUNREACH";
        case ENETUNREACH: return "ENETUNREACH";
        case ECONNRESET: return "ECONNRESET";
        case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
        case EACCES: return "EACCES";
        case ENOENT: return "ENOENT";
        case EISDIR: return "EISDIR";
        case ENOMEM: return "ENOMEM";
        default: return "ERRNO";
    }
}

void tf_fail_proof(struct tf_fail *f, const struct tf_proof_spec *spec,
                   const struct tf_proof_result *r, int *code)
{
    const char *label = tf_proof_label(spec->kind);
    const char *alert = tf_alert_name(r->alert);
    *code = r->ret;
    switch (r->outcome) {
        case TF_PROOF_REJECTED_ALERT:
            tf_fail_set(f, NULL, "the server rejected the session after the handshake with "
                        "alert %s (%d) (proof %s)", alert ? alert : "unknown", r->alert, label);
            break;
        case TF_PROOF_REJECTED_CLOSE:
            if (r->ret == 0) {
                tf_fail_set(f, TF_ERROR_NAME(TLSFIT_PROOF_CLOSED), "the server closed the connection after "
                            "the handshake without an alert (proof %s)", label);
            } else {
                tf_fail_set(f, NULL, "the server ended the session after the handshake "
                            "(proof %s)", label);
            }
            break;
        case TF_PROOF_FAILED_TIMEOUT:
            tf_fail_set(f, TF_ERROR_NAME(TLSFIT_PROOF_TIMEOUT), "no reply to the %s proof within %u ms; "
                        "name the server's protocol with --proof", label,
                        (unsigned) spec->reply_ms);
            break;
        case TF_PROOF_FAILED_MISMATCH:
            tf_fail_set(f, TF_ERROR_NAME(TLSFIT_PROOF_MISMATCH), "the server's reply is not what the %s "
                        "proof expects; name the server's protocol with --proof", label);
            break;
        default:
            tf_fail_set(f, NULL, "the %s proof failed after the handshake", label);
            break;
    }
}
