/* pem.c -- the PEM armour reader declared in pem.h. */
#include "pem.h"

#include <string.h>

const char *tf_pem_find(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (; (size_t)(end - p) >= n; p++) {
        const char *hit = memchr(p, needle[0], (size_t)(end - p) - n + 1);
        if (!hit) return NULL;
        if (memcmp(hit, needle, n) == 0) return hit;
        p = hit;
    }
    return NULL;
}

void tf_pem_init(tf_pem *c, const char *text, size_t len)
{
    c->p = text;
    c->end = text + len;
}

int tf_pem_next_cert(tf_pem *c, const char **body, const char **body_end)
{
    static const size_t begin_len = sizeof(TF_PEM_BEGIN_CERT) - 1;
    static const size_t end_len = sizeof(TF_PEM_END_CERT) - 1;
    const char *begin, *stop, *again;
    while ((begin = tf_pem_find(c->p, c->end, TF_PEM_BEGIN_CERT)) != NULL) {
        const char *start = begin + begin_len;
        stop = tf_pem_find(start, c->end, TF_PEM_END_CERT);
        if (!stop) break;
        again = tf_pem_find(start, stop, TF_PEM_BEGIN_CERT);
        if (again) { c->p = again; continue; }  /* unterminated block: resync */
        c->p = stop + end_len;
        *body = start;
        *body_end = stop;
        return 1;
    }
    c->p = c->end;
    return 0;
}
