/*
 * resume.h -- the verify client's second connection (--resume, or a header
 * defining TLSFIT_RESUME): after the full handshake and its proof, the session
 * is saved, the connection closed, a new one opened and the session resumed
 * on it, then proven again (the sequence and how acceptance is told:
 * ../harness/resume.h).  A resumption the server did not accept fails with
 * TLSFIT_RESUME_REFUSED, a server that gave nothing to resume with with
 * TLSFIT_RESUME_NO_SESSION (../errors/errors.h); the driver exits 55 on
 * either.
 *
 * The result line's "resumption" (null without --resume):
 *   {"mode": "tls12-session-id" | "tls12-ticket" | "tls13-ticket" | null,
 *    "accepted": bool,
 *    "full": {"bytes_sent": N, "bytes_received": N},
 *    "resumed": {"bytes_sent": N, "bytes_received": N} | null (not tried)}
 * Bytes are TCP payload per connection: the handshake and the proof.
 */
#ifndef TF_VERIFY_RESUME_H
#define TF_VERIFY_RESUME_H

#include "../codec/json.h"
#include "args.h"
#include "fail.h"
#include "session.h"

/* Runs the second connection (s holds the proven first one); 0 resumed and
   proven, else -1 with *f filled in and *code the mbedTLS error (0: none). */
int tf_verify_resume(const struct tf_opts *o, struct tf_session *s, struct tf_fail *f,
                     int *code);

/* Adds "resumption" to the result line j. */
void tf_verify_resume_report(tf_json *j, const struct tf_opts *o, const struct tf_session *s);

#endif
