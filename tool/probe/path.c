/*
 * path.c -- the path choice declared in path.h.
 *
 * Implementation notes
 * --------------------
 * A breadth-first walk from the leaf over the "issued by" edges gives every
 * certificate reachable from the leaf its depth (certificates before it on
 * the shortest path) and its parent on that path; visiting issuers in
 * ascending position makes the walk, and so every tie, deterministic.
 * Shortest paths are what rule 2 of path.h asks for, so each possible end
 * is judged on its own depth:
 *   - a sent root v ends a path with depth[v] certificates before the anchor;
 *   - a certificate v issued by an outside anchor ends one with depth[v] + 1.
 * order[] holds positions in visiting order; order[0 .. seen) are reached.
 * Invariant: depth[v] and parent[v] are meaningful only for reached v
 * (reached[v] != 0); parent[0] is the leaf's own position.
 */
#include "path.h"

#include <string.h>

typedef struct {
    size_t order[TF_PATH_MAX];
    size_t seen;
    size_t depth[TF_PATH_MAX];
    size_t parent[TF_PATH_MAX];
    uint8_t reached[TF_PATH_MAX];
} walk;

static void bfs(const tf_path_graph *g, size_t n, walk *w)
{
    size_t head, j;
    memset(w, 0, sizeof *w);
    w->order[w->seen++] = 0;
    w->reached[0] = 1;
    for (head = 0; head < w->seen; head++) {
        size_t v = w->order[head];
        for (j = 0; j < n; j++) {
            if (j == v || w->reached[j] || !(g->issuers[v] >> j & 1u)) continue;
            w->reached[j] = 1;
            w->depth[j] = w->depth[v] + 1;
            w->parent[j] = v;
            w->order[w->seen++] = j;
        }
    }
}

/* Finds the best end of the given trust; 1 when there is one (*at, *end). */
static int best_end(const tf_path_graph *g, const walk *w, tf_trust t, size_t *at, tf_path_end *end)
{
    size_t k, best = 0;
    int found = 0;
    for (k = 0; k < w->seen; k++) {
        size_t v = w->order[k];
        /* a root costs depth, an outside anchor depth + 1; at equal cost the root wins (2 * cost + 0/1) */
        size_t cost;
        if (g->root[v] == t) {
            cost = 2 * w->depth[v];
            if (!found || cost < best) { best = cost; *at = v; *end = TF_PATH_END_ROOT; found = 1; }
        }
        if (g->anchored[v] == t) {
            cost = 2 * (w->depth[v] + 1) + 1;
            if (!found || cost < best) { best = cost; *at = v; *end = TF_PATH_END_ANCHOR; found = 1; }
        }
    }
    return found;
}

/* The reached position farthest from the leaf (the first of them in visiting order). */
static size_t deepest(const walk *w)
{
    size_t k, at = 0;
    for (k = 1; k < w->seen; k++)
        if (w->depth[w->order[k]] > w->depth[at]) at = w->order[k];
    return at;
}

/* Fills out->idx with the path from the leaf to `last`, and out->unused with the rest. */
static void spell(const walk *w, size_t n, size_t last, tf_path *out)
{
    size_t v = last, i;
    uint8_t on[TF_PATH_MAX] = { 0 };
    out->len = w->depth[last] + 1;
    for (i = out->len; i > 0; i--) {
        out->idx[i - 1] = v;
        on[v] = 1;
        v = w->parent[v];
    }
    out->nunused = 0;
    for (i = 0; i < n; i++) if (!on[i]) out->unused[out->nunused++] = i;
}

void tf_path_build(const tf_path_graph *g, tf_path *out)
{
    size_t n = g->n < TF_PATH_MAX ? g->n : TF_PATH_MAX;
    size_t at = 0;
    tf_path_end end = TF_PATH_END_NONE;
    int t;
    walk w;

    memset(out, 0, sizeof *out);
    if (n == 0) return;
    bfs(g, n, &w);
    for (t = TF_TRUST_CA; t <= TF_TRUST_STORE; t++)
        if (best_end(g, &w, (tf_trust)t, &at, &end)) break;
    if (t > TF_TRUST_STORE) {
        t = TF_TRUST_NONE;
        end = TF_PATH_END_NONE;
        at = deepest(&w);
    }
    spell(&w, n, at, out);
    out->end = end;
    out->trust = (tf_trust)t;
}
