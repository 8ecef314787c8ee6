/*
 * steps.h -- what the probe's steps share (probe.c, versions.c); internal to
 * the prober.
 *
 * A step begins with tf_step_begin(), opens its connections through
 * tf_probe_connect() (which notes the facts every connection teaches and
 * stops connecting once the server stalls, see probe.c STALL_LIMIT) and
 * fails with tf_step_fail_msg() or by leaving the step's `ok` at 0.
 */
#ifndef TF_STEPS_H
#define TF_STEPS_H

#include <stddef.h>
#include <stdint.h>

#include "probe.h"
#include "session.h"

/* TLS <= 1.2 suite lists go out in chunks of CHUNK suites, so no hello grows
   past what fragile servers accept (wolfSSL refuses more than 150). */
#define CHUNK 48

/* Alert descriptions the steps act on (RFC 8446 section 6). */
#define ALERT_RECORD_OVERFLOW 22
#define ALERT_ILLEGAL_PARAMETER 47
#define ALERT_DECODE_ERROR 50
#define ALERT_PROTOCOL_VERSION 70
#define ALERT_UNRECOGNIZED_NAME 112

/* A list of 16-bit identifiers (suites, groups, schemes); n <= the capacity. */
typedef struct {
    uint16_t v[TF_MAX_LIST * 3];
    size_t n;
} idlist;

/* What the prober offers for a version slot, in offer order (probe.c says why). */
void tf_offer_suites(int slot, idlist *out);
void tf_offer_groups(int slot, idlist *out);
void tf_offer_sigalgs(int slot, idlist *out);

/* Starts step `name` (".TLSv1.x" appended when slot >= 0), marked ran and ok. */
tf_step *tf_step_begin(tf_profile *p, const char *name, int slot);

/* Marks `st` failed with `code` and `msg`. */
void tf_step_fail_msg(tf_step *st, int code, const char *msg);

/* A hello for `slot` with the target's SNI and the user's ALPN, nothing offered yet. */
void tf_base_hello(tf_profile *p, int slot, tf_hello *h);

/*
 * One connection with the profile's target, facts noted.  After STALL_LIMIT
 * connections in a row ended at a timeout it connects no more and fails at
 * once (TF_ERR_TIMEOUT, detail "skipped: ...").
 */
tf_sess_outcome tf_probe_connect(tf_profile *p, const tf_hello *h, tf_until until, tf_sess *s);

/* The versions step: every version, newest first.  0, or the fatal code
   (p->fatal, p->fatal_detail set). */
int tf_step_versions(tf_profile *p);

/* The psk step (with --psk-identity): which PSK suites and TLS 1.3 modes
   complete a handshake (psk.h).  0, or the fatal code (none did). */
int tf_step_psk(tf_profile *p);

/* The psk step for a server whose versions step found nothing: TLSv1.3 listed
   when it completes a TLS 1.3 handshake.  0, TF_ERR_NO_VERSION, or its code. */
int tf_step_psk_alone(tf_profile *p);

#endif
