/*
 * path.h -- choosing the certification path through the certificates a
 * server sent.
 *
 * Servers send more than a path: cross-signed roots next to the root they
 * duplicate (Let's Encrypt's ISRG Root X1 signed by DST Root CA X3), old
 * intermediates, certificates in any order.  The prober describes every
 * certificate sent (`chain`), and separately the path a client would build:
 * from the leaf, through certificates of the chain, to a trust anchor.
 *
 * This module is the pure part: the caller has decided who issued whom
 * (names, key identifiers, signatures: profile.c) and where each
 * certificate may end a path; tf_path_build() picks the path.  Which path:
 *   1. the best trust first: an anchor from --ca, then a self-signed root the
 *      server sent, then an anchor from the system store (tf_trust order);
 *   2. then the fewest certificates before the anchor;
 *   3. then a sent root over an equal anchor from a bundle (the path then
 *      includes the root, as the server sent it), then the lowest positions
 *      in the chain (breadth-first order from the leaf).
 * Without any anchor, the path goes as far from the leaf as issuers were
 * found, and ends nowhere.
 */
#ifndef TF_PATH_H
#define TF_PATH_H

#include <stddef.h>
#include <stdint.h>

#define TF_PATH_MAX 16   /* certificates of a chain considered (profile.c keeps as many) */

/* How far an anchor is trusted; lower is preferred.  0: not an anchor. */
typedef enum {
    TF_TRUST_NONE = 0,
    TF_TRUST_CA = 1,      /* a certificate of a --ca bundle */
    TF_TRUST_SENT = 2,    /* a self-signed root the server sent, found in no bundle */
    TF_TRUST_STORE = 3    /* a certificate of the system store */
} tf_trust;

typedef struct {
    size_t n;                       /* certificates in the chain, leaf (0) first; at most TF_PATH_MAX */
    uint32_t issuers[TF_PATH_MAX];  /* bit j of issuers[i] set: chain[j] issued chain[i]; bit i is ignored */
    uint8_t root[TF_PATH_MAX];      /* chain[i] is self-signed: the tf_trust it has as an anchor
                                       (TF_TRUST_CA when a --ca bundle holds it too), else TF_TRUST_NONE */
    uint8_t anchored[TF_PATH_MAX];  /* the best tf_trust of an anchor outside the chain that issued
                                       chain[i], TF_TRUST_NONE when none did */
} tf_path_graph;

typedef enum {
    TF_PATH_END_NONE,     /* no anchor: idx[] goes as far as issuers were found */
    TF_PATH_END_ROOT,     /* idx[len - 1] is a sent self-signed root, the anchor */
    TF_PATH_END_ANCHOR    /* an anchor outside the chain issued idx[len - 1] */
} tf_path_end;

typedef struct {
    size_t idx[TF_PATH_MAX];     /* positions in the chain, from the leaf (idx[0] == 0 when len > 0) */
    size_t len;                  /* 0 only for an empty chain */
    size_t unused[TF_PATH_MAX];  /* the other positions, ascending */
    size_t nunused;
    tf_path_end end;
    tf_trust trust;              /* the anchor's trust (TF_TRUST_NONE with TF_PATH_END_NONE) */
} tf_path;

/* Picks the path as described above.  g->n larger than TF_PATH_MAX counts as
   TF_PATH_MAX.  Every position appears once, in idx or in unused. */
void tf_path_build(const tf_path_graph *g, tf_path *out);

#endif
