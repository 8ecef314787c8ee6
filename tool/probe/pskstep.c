/*
 * pskstep.c -- the psk step (psk.h does the handshakes): after the others, or
 * alone for a server that answers nothing without the key.
 */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "probe.h"
#include "psk.h"
#include "steps.h"

/*
 * Which PSK suites (TLS 1.2) and modes (TLS 1.3) complete a handshake with
 * the identity and key given (psk.h).  Fatal when none does: the user gave a
 * key to prove, and a wrong one must not pass as a server without PSK facts.
 */
int tf_step_psk(tf_profile *p)
{
    tf_step *st = tf_step_begin(p, "psk", -1);
    int rc = tf_psk_probe(p->target, p->psk, p->suites[2], p->accepted[2] ? p->nsuites[2] : 0, &p->psk_facts);
    p->psk_ran = rc == TF_OK;
    if (rc == TF_OK) {
        if (p->psk_facts.why[0]) snprintf(st->note, sizeof(st->note), "%s", p->psk_facts.why);
        return TF_OK;
    }
    tf_step_fail_msg(st, rc, p->psk_facts.why);
    p->fatal = rc;
    snprintf(p->fatal_detail, sizeof(p->fatal_detail), "no pre-shared-key handshake completed for identity "
             "\"%s\" (%s); check the key file and the identity", p->psk->identity,
             p->psk_facts.why[0] ? p->psk_facts.why : "nothing to try");
    return rc;
}

/*
 * A server that answers nothing without the key (TLS 1.3 with an external PSK
 * only): the versions step found no version, so the psk step runs alone.  When
 * it completes a TLS 1.3 handshake, the profile lists TLSv1.3 with the suite and
 * group of that handshake and the record sizes it saw; the enumeration steps do
 * not run (without the key every hello of theirs is refused).
 */
int tf_step_psk_alone(tf_profile *p)
{
    tf_step *versions = &p->steps[0];
    const tf_psk_facts *f = &p->psk_facts;
    int rc = tf_step_psk(p);
    if (rc != TF_OK) return rc;
    if (!f->tls13_suite) return TF_ERR_NO_VERSION;
    p->accepted[3] = 1;
    p->suites[3][0] = f->tls13_suite;
    p->nsuites[3] = 1;
    if (f->tls13_group) {
        p->groups[3][0] = f->tls13_group;
        p->ngroups[3] = 1;
    }
    p->max_record_len = f->max_record_len;
    p->max_plain_len = p->max_hs_len = f->max_plain_len;
    p->fatal = 0;
    p->fatal_detail[0] = '\0';
    versions->ok = 1;
    versions->code = 0;
    versions->reason[0] = '\0';
    snprintf(versions->note, sizeof(versions->note), "no version without the pre-shared key; "
             "TLSv1.3 with it (step psk; the other steps need a version without the key)");
    return TF_OK;
}
