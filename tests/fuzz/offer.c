/* offer.c -- the hello offer the session targets share (fuzz.h). */
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
