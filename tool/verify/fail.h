/*
 * fail.h -- what went wrong, as the failure line reports it (report.h).
 *
 * A step that fails fills a tf_fail and returns non-zero; the caller prints
 * it.  `error` names the failure when it is not an mbedTLS error code (those
 * are named by report.c from the code): a tlsfit error of ../errors/errors.h
 * (TF_ERROR_NAME(TLSFIT_NO_RNG), ...) or an errno name ("ECONNREFUSED");
 * `code` and `message` are empty strings when there is nothing to say.
 */
#ifndef TF_VERIFY_FAIL_H
#define TF_VERIFY_FAIL_H

struct tf_fail {
    const char *step;       /* "setup", "ca", "connect", "handshake", "proof" */
    const char *error;      /* a name, or NULL */
    char code[24];          /* "-0x7200", or empty */
    char message[512];
};

#include "../errors/errors.h"
#include "../proof/proof.h"

#if defined(__GNUC__)
#define TF_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TF_PRINTF(fmt, args)
#endif

/* Sets f->error to `error` (may be NULL) and f->message from the printf-style
   format, truncated to fit. */
void tf_fail_set(struct tf_fail *f, const char *error, const char *fmt, ...) TF_PRINTF(3, 4);

/* Describes a proof that did not show acceptance (r, for spec): sets *code to
   the mbedTLS error to name (0 for TLSFIT_PROOF_TIMEOUT, _MISMATCH, _CLOSED)
   and f's error and message, the server's alert named. */
void tf_fail_proof(struct tf_fail *f, const struct tf_proof_spec *spec,
                   const struct tf_proof_result *r, int *code);

/* Name of an errno value for the "error" field ("ENOENT", ...; "ERRNO" for
   the ones not listed). */
const char *tf_errno_name(int e);

#endif
