/*
 * anchor.h -- looking up a chain's trust anchor in PEM bundles.
 *
 * When a server does not send its root, the profile still needs it (the
 * generated configuration embeds it and must be sized for its key), so the
 * prober looks for the certificates that issued those of the chain in the
 * bundles given with --ca and in the system store (Debian's
 * ca-certificates: /etc/ssl/certs/ca-certificates.crt); path.h then picks
 * the path that ends at one of them.
 */
#ifndef TF_ANCHOR_H
#define TF_ANCHOR_H

#include <stddef.h>
#include <stdint.h>
#include "x509.h"

#define TF_SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

typedef struct {
    uint8_t *der;       /* malloc'd DER of the anchor; NULL when not found */
    size_t der_len;
    tf_cert cert;       /* decoded der (its *_der pointers point into der) */
    char source[512];   /* path of the bundle it came from */
} tf_anchor;

/*
 * Loads every CERTIFICATE block of the PEM file at `path`, calling `fn` with
 * each DER.  Returns the number of certificates seen, or -1 when the file
 * cannot be read.  Blocks that do not decode are skipped.
 */
int tf_pem_each(const char *path, int (*fn)(void *ctx, const uint8_t *der, size_t len), void *ctx);

/*
 * Searches `paths` (in order) for the issuer of `last`: a certificate named
 * as its issuer (tf_x509_issued_by) whose key does not refuse its signature
 * (tf_sig_check).  A match confirmed by the signature or by the key
 * identifiers beats one by name only, wherever it comes (anchor.c).  On
 * success fills `out` (free with tf_anchor_free) and returns 1; returns 0
 * when no bundle holds it, and -1 on out-of-memory.  Unreadable paths and
 * NULL entries are skipped (the caller validates --ca files up front with
 * tf_pem_each).
 */
int tf_anchor_find(const char *const *paths, size_t npaths, const tf_cert *last, tf_anchor *out);

/*
 * tf_anchor_find() for the n certificates children[0 .. n) at once, reading
 * each bundle once: out[i] (n of them, each freed with tf_anchor_free) gets
 * the issuer of children[i], or der NULL.  Returns how many were found, or
 * -1 on out-of-memory (every out[i] then empty).
 */
int tf_anchor_find_each(const char *const *paths, size_t npaths, const tf_cert *children, size_t n,
                        tf_anchor *out);

void tf_anchor_free(tf_anchor *a);

#endif
