/* offer.c -- the target and hello the session targets share (fuzz.h). */
#include <string.h>

#include "fuzz.h"
#include "tables.h"

void fz_make_offer(uint16_t version, fz_offer *o)
{
    size_t i;
    memset(o, 0, sizeof(*o));
    for (i = 0; i < tf_suites_count && o->nsuites < 256; i++)
        if ((tf_suites[i].kx == TF_KX_TLS13) == (version == 0x0304)) o->suites[o->nsuites++] = tf_suites[i].id;
    for (i = 0; i < tf_groups_count && o->ngroups < 64; i++)
        if (version == 0x0304 ? tf_groups[i].tls13 : tf_groups[i].tls12) o->groups[o->ngroups++] = tf_groups[i].id;
    for (i = 0; i < tf_sigalgs_count && o->nsigalgs < 64; i++)
        if (version < 0x0304 || tf_sigalgs[i].tls13) o->sigalgs[o->nsigalgs++] = tf_sigalgs[i].id;
}

void fz_session_start(tf_target *t, tf_hello *h, fz_offer *o, uint16_t version, uint16_t port)
{
    memset(t, 0, sizeof(*t));
    strcpy(t->host, "fuzz.example");
    strcpy(t->sni, "fuzz.example");
    t->port = port;
    t->timeout_ms = 5000;
    fz_make_offer(version, o);
    memset(h, 0, sizeof(*h));
    h->version = version;
    h->suites = o->suites; h->nsuites = o->nsuites;
    h->groups = o->groups; h->ngroups = o->ngroups;
    h->sigalgs = o->sigalgs; h->nsigalgs = o->nsigalgs;
    h->sni = t->sni;
}
