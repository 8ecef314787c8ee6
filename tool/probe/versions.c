/*
 * versions.c -- the probe's first step: which TLS versions the server accepts
 * (see steps.h).
 *
 * Each version slot is tried newest first with every suite of that version in
 * one hello.  A refusal that may be the hello's fault rather than the
 * version's (a close, or an alert saying the hello was malformed or too
 * large) is retried with hellos of at most CHUNK suites, and the step's note
 * says what the retry found.  The verdict when no version is accepted names
 * the likeliest cause: the server name, the first hard error, no common
 * version, or a server that only hangs up (with what the hellos carried).
 */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "hello.h"
#include "record.h"
#include "steps.h"
#include "tables.h"

/* Errors after which no other connection can do better. */
static int fatal_kind(int err)
{
    return err == TF_ERR_TIMEOUT || err == TF_ERR_NOT_TLS || err == TF_ERR_MALFORMED || err == TF_ERR_REFUSED ||
           err == TF_ERR_CONNECT || err == TF_ERR_NOMEM;
}

/* One attempt at `slot` offering `suites`: 1 accepted, 0 refused, -1 error. */
static int try_version(tf_profile *p, int slot, const idlist *suites, tf_sess *s)
{
    idlist groups, sigs;
    tf_hello h;
    tf_sess_outcome o;

    tf_offer_groups(slot, &groups);
    tf_offer_sigalgs(slot, &sigs);
    tf_base_hello(p, slot, &h);
    h.suites = suites->v; h.nsuites = suites->n;
    h.groups = groups.v; h.ngroups = groups.n;
    h.sigalgs = sigs.v; h.nsigalgs = sigs.n;
    o = tf_probe_connect(p, &h, TF_UNTIL_HELLO, s);
    if (o == TF_SESS_ERROR) return -1;
    if (o == TF_SESS_REFUSED) return 0;
    return s->version == tf_slot_version(slot);
}

/*
 * Retries a slot with small hellos (servers intolerant of large ones): the
 * suites in chunks of CHUNK, in offer order, until one is accepted.  A
 * protocol_version alert ends the retry: that answer is about the version.
 */
static int try_version_chunked(tf_profile *p, int slot, const idlist *all, tf_sess *s)
{
    size_t off;
    for (off = 0; off < all->n; off += CHUNK) {
        idlist part;
        int r;
        part.n = all->n - off < CHUNK ? all->n - off : CHUNK;
        memcpy(part.v, all->v + off, part.n * sizeof(part.v[0]));
        tf_sess_free(s);
        r = try_version(p, slot, &part, s);
        if (r != 0) return r;
        if (s->alert == ALERT_PROTOCOL_VERSION) return 0;
    }
    return 0;
}

/*
 * Whether a refusal of the whole offer for `slot` may be the hello's fault
 * rather than the version's: a close without an answer, or an alert that
 * says the hello was malformed or too large (decode_error, illegal_parameter,
 * record_overflow).  wolfSSL, for one, answers decode_error to a hello with
 * more than 150 suites.  protocol_version is about the version,
 * unrecognized_name about the name; handshake_failure (no common parameters)
 * and internal_error (what OpenSSL says to a version it disabled) are what
 * servers say to a version they do not speak, and are not retried: each
 * retry costs up to five connections per version.
 */
static int refusal_may_be_the_hello(int slot, const idlist *suites, const tf_sess *s)
{
    if (slot == 3 || suites->n <= CHUNK) return 0;
    if (s->err == TF_ERR_CLOSED) return 1;
    return s->alert == ALERT_DECODE_ERROR || s->alert == ALERT_ILLEGAL_PARAMETER ||
           s->alert == ALERT_RECORD_OVERFLOW;
}

/* "the server closed the connection" or "alert decode_error (50)": how the full offer was refused. */
static void refusal_text(const tf_sess *s, char *out, size_t len)
{
    if (s->alert >= 0) snprintf(out, len, "alert %s (%d)", tf_alert_name((uint8_t)s->alert), s->alert);
    else snprintf(out, len, "a close without an answer");
}

/*
 * One version slot: the whole offer, then, when the refusal may be the
 * hello's fault, smaller hellos.  What the retry found goes into `note`
 * (appended, "; "-separated) so the profile says why the version was kept
 * or dropped.  Returns as try_version; `s` holds the last attempt.
 */
static int try_version_slot(tf_profile *p, int slot, tf_sess *s, char *note, size_t note_len)
{
    idlist suites;
    char why[96];
    size_t used = strlen(note);
    int r;

    tf_offer_suites(slot, &suites);
    r = try_version(p, slot, &suites, s);
    if (r != 0 || !refusal_may_be_the_hello(slot, &suites, s)) return r;
    refusal_text(s, why, sizeof(why));
    r = try_version_chunked(p, slot, &suites, s);
    if (used >= note_len - 1) return r;
    snprintf(note + used, note_len - used, "%s%s: the hello offering %zu suites was refused (%s); hellos of "
             "at most %d suites were %s", used ? "; " : "", tf_version_name(tf_slot_version(slot)), suites.n,
             why, CHUNK, r == 1 ? "accepted" : "refused too");
    return r;
}

/* The message for a server that refused every version with unrecognized_name. */
static void needs_sni(tf_profile *p)
{
    if (p->target->sni[0])
        snprintf(p->fatal_detail, sizeof(p->fatal_detail), "the server does not serve the name %.120s (alert "
                 "unrecognized_name): pass --sni with a name it serves", p->target->sni);
    else
        snprintf(p->fatal_detail, sizeof(p->fatal_detail), "the server wants a server name: pass --sni NAME");
}

/*
 * The message for a server that only ever hung up: what the hellos carried
 * (SNI, ALPN) and the options that change it -- servers that route by name
 * or by protocol (AWS IoT Core on 443 wants ALPN x-amzn-mqtt-ca) drop a
 * hello without the one they expect.
 */
static void closed_unanswered(tf_profile *p, const char *detail)
{
    char alpn[300] = "";
    if (p->alpn_list_len) tf_alpn_list_text(p->alpn_list, p->alpn_list_len, alpn, sizeof(alpn));
    snprintf(p->fatal_detail, sizeof(p->fatal_detail), "%s (the hellos offered %s%.120s and %s%.60s): a server "
             "that routes by name or by protocol drops a hello without the one it expects; try --sni NAME "
             "and --alpn PROTO", detail, p->target->sni[0] ? "SNI " : "no SNI", p->target->sni,
             alpn[0] ? "ALPN " : "no ALPN", alpn);
}

/*
 * Tries every version, newest first.  The verdict when none is accepted:
 * TF_ERR_SNI when a refusal was the alert unrecognized_name (the name sent,
 * or its absence, is the cause: a server with `ssl_reject_handshake` in its
 * default server); else the first hard error (timeout, garbage, a close in
 * the middle of a message, ...) if there was one; else TF_ERR_NO_VERSION
 * when the server answered in TLS (alerts); else TF_ERR_CLOSED (it only ever
 * hung up).
 */
int tf_step_versions(tf_profile *p)
{
    tf_step *st = tf_step_begin(p, "versions", -1);
    int slot, any = 0, saw_tls = 0, hard = 0, sni = 0;
    char detail[160] = "";

    for (slot = 3; slot >= 0 && !(hard && fatal_kind(hard)); slot--) {
        tf_sess s;
        int r;
        if (p->target->dtls && slot != TF_DTLS_SLOT) continue;
        r = try_version_slot(p, slot, &s, st->note, sizeof(st->note));
        saw_tls |= s.saw_tls;
        sni |= r == 0 && s.alert == ALERT_UNRECOGNIZED_NAME;
        if (r == 1) any = p->accepted[slot] = 1;
        if (r == -1 && !hard) hard = s.err;
        if ((r == -1 && hard == s.err) || (!hard && !detail[0] && s.detail[0]))
            snprintf(detail, sizeof(detail), "%s", s.detail);
        tf_sess_free(&s);
        if (any) hard = 0;
    }
    if (any) return TF_OK;
    p->fatal = sni ? TF_ERR_SNI : hard ? hard : saw_tls ? TF_ERR_NO_VERSION : TF_ERR_CLOSED;
    if (p->fatal == TF_ERR_SNI)
        needs_sni(p);
    else if (p->fatal == TF_ERR_NO_VERSION)
        snprintf(p->fatal_detail, sizeof(p->fatal_detail), "the server accepted none of TLS 1.0-1.3 with any "
                 "suite offered (%s)", detail);
    else if (p->fatal == TF_ERR_CLOSED)
        closed_unanswered(p, detail[0] ? detail : tf_err_comment(p->fatal));
    else
        snprintf(p->fatal_detail, sizeof(p->fatal_detail), "%s", detail[0] ? detail : tf_err_comment(p->fatal));
    tf_step_fail_msg(st, p->fatal, p->fatal_detail);
    return p->fatal;
}
