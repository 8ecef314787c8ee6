/*
 * test_path.c -- unit tests of the path choice (path.c): graphs written by
 * hand, one per shape a server sends.
 */
#include "unit.h"
#include "path.h"

#include <string.h>

#define BIT(j) ((uint32_t)1 << (j))

/* "a b c" -> checks that the n positions of got are the listed ones. */
static int same(const size_t *got, size_t n, const size_t *want, size_t nwant)
{
    size_t i;
    if (n != nwant) return 0;
    for (i = 0; i < n; i++) if (got[i] != want[i]) return 0;
    return 1;
}

#define CHECK_PATH(p, ...) do { static const size_t w_[] = { __VA_ARGS__ }; \
    TF_CHECK(same((p).idx, (p).len, w_, sizeof w_ / sizeof w_[0])); } while (0)
#define CHECK_UNUSED(p, ...) do { static const size_t w_[] = { __VA_ARGS__ }; \
    TF_CHECK(same((p).unused, (p).nunused, w_, sizeof w_ / sizeof w_[0])); } while (0)

static tf_path_graph graph(size_t n)
{
    tf_path_graph g;
    memset(&g, 0, sizeof g);
    g.n = n;
    return g;
}

static void test_plain(void)
{
    tf_path_graph g = graph(2);
    tf_path p;
    /* leaf <- intermediate, the root in --ca */
    g.issuers[0] = BIT(1);
    g.anchored[1] = TF_TRUST_CA;
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0, 1);
    TF_CHECK_EQ(p.nunused, 0);
    TF_CHECK_EQ(p.end, TF_PATH_END_ANCHOR);
    TF_CHECK_EQ(p.trust, TF_TRUST_CA);

    /* ... no anchor anywhere: as far as issuers go, ending nowhere */
    g.anchored[1] = TF_TRUST_NONE;
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0, 1);
    TF_CHECK_EQ(p.end, TF_PATH_END_NONE);
    TF_CHECK_EQ(p.trust, TF_TRUST_NONE);

    /* an empty chain; a lone self-signed leaf */
    g = graph(0);
    tf_path_build(&g, &p);
    TF_CHECK_EQ(p.len, 0);
    TF_CHECK_EQ(p.nunused, 0);
    TF_CHECK_EQ(p.end, TF_PATH_END_NONE);
    g = graph(1);
    g.root[0] = TF_TRUST_SENT;
    g.issuers[0] = BIT(0);   /* ignored */
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0);
    TF_CHECK_EQ(p.end, TF_PATH_END_ROOT);
    TF_CHECK_EQ(p.trust, TF_TRUST_SENT);
}

/* leaf <- inter <- new root, new root cross-signed by an old root (sent). */
static void test_cross_signed(void)
{
    tf_path_graph g = graph(3);
    tf_path p;
    g.issuers[0] = BIT(1);
    g.issuers[1] = BIT(2);        /* the cross-signed cert has the new root's name and key */
    g.anchored[1] = TF_TRUST_CA;  /* --ca names the new root */
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0, 1);
    CHECK_UNUSED(p, 2);
    TF_CHECK_EQ(p.end, TF_PATH_END_ANCHOR);
    TF_CHECK_EQ(p.trust, TF_TRUST_CA);

    /* only the old root is known (system store): through the cross-signed one */
    g.anchored[1] = TF_TRUST_NONE;
    g.anchored[2] = TF_TRUST_STORE;
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0, 1, 2);
    TF_CHECK_EQ(p.nunused, 0);
    TF_CHECK_EQ(p.trust, TF_TRUST_STORE);

    /* both: the --ca anchor wins even though the store one is also reachable */
    g.anchored[1] = TF_TRUST_CA;
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0, 1);
    TF_CHECK_EQ(p.trust, TF_TRUST_CA);

    /* a store anchor closer to the leaf does not beat a --ca one farther away */
    g.anchored[1] = TF_TRUST_STORE;
    g.anchored[2] = TF_TRUST_CA;
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0, 1, 2);
    TF_CHECK_EQ(p.trust, TF_TRUST_CA);
}

/* Any order: leaf, cross-signed root, intermediate, an unrelated certificate. */
static void test_any_order(void)
{
    tf_path_graph g = graph(4);
    tf_path p;
    g.issuers[0] = BIT(2);
    g.issuers[2] = BIT(1);
    g.anchored[2] = TF_TRUST_CA;
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0, 2);
    CHECK_UNUSED(p, 1, 3);
    TF_CHECK_EQ(p.end, TF_PATH_END_ANCHOR);

    /* nothing anchored: the longest reach, 0 <- 2 <- 1 */
    g.anchored[2] = TF_TRUST_NONE;
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0, 2, 1);
    CHECK_UNUSED(p, 3);
    TF_CHECK_EQ(p.end, TF_PATH_END_NONE);
}

/* The server sends its root too. */
static void test_sent_root(void)
{
    tf_path_graph g = graph(3);
    tf_path p;
    g.issuers[0] = BIT(1);
    g.issuers[1] = BIT(2);
    g.root[2] = TF_TRUST_SENT;
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0, 1, 2);
    TF_CHECK_EQ(p.end, TF_PATH_END_ROOT);
    TF_CHECK_EQ(p.trust, TF_TRUST_SENT);

    /* the store also holds the root: the sent one is preferred */
    g.anchored[1] = TF_TRUST_STORE;
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0, 1, 2);
    TF_CHECK_EQ(p.end, TF_PATH_END_ROOT);

    /* --ca holds it too (profile.c then marks the root TF_TRUST_CA, and the
       intermediate as issued by a --ca anchor): the sent root, at equal length */
    g.root[2] = TF_TRUST_CA;
    g.anchored[1] = TF_TRUST_CA;
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0, 1, 2);
    TF_CHECK_EQ(p.end, TF_PATH_END_ROOT);
    TF_CHECK_EQ(p.trust, TF_TRUST_CA);

    /* a --ca anchor beats a sent root that is in no bundle */
    g.root[2] = TF_TRUST_SENT;
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0, 1);
    CHECK_UNUSED(p, 2);
    TF_CHECK_EQ(p.end, TF_PATH_END_ANCHOR);
    TF_CHECK_EQ(p.trust, TF_TRUST_CA);
}

/* Two ways up: the shorter wins; loops do not trap the walk. */
static void test_shortest_and_loops(void)
{
    tf_path_graph g = graph(4);
    tf_path p;
    g.issuers[0] = BIT(1) | BIT(2);
    g.issuers[1] = BIT(3);
    g.issuers[2] = BIT(1);
    g.issuers[3] = BIT(1) | BIT(2) | BIT(0);   /* loops back */
    g.anchored[3] = TF_TRUST_CA;
    g.anchored[2] = TF_TRUST_CA;
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0, 2);                       /* [0, 1, 3] is longer */
    CHECK_UNUSED(p, 1, 3);

    /* equal lengths: the lower position first */
    g.anchored[1] = TF_TRUST_CA;
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0, 1);

    /* the leaf's issuer is missing: the path is the leaf alone */
    g = graph(3);
    g.issuers[1] = BIT(2);
    g.anchored[2] = TF_TRUST_CA;
    tf_path_build(&g, &p);
    CHECK_PATH(p, 0);
    CHECK_UNUSED(p, 1, 2);
    TF_CHECK_EQ(p.end, TF_PATH_END_NONE);
}

/* More certificates than TF_PATH_MAX: the rest are ignored. */
static void test_bounds(void)
{
    tf_path_graph g = graph(TF_PATH_MAX + 5);
    tf_path p;
    size_t i;
    for (i = 0; i + 1 < TF_PATH_MAX; i++) g.issuers[i] = BIT(i + 1);
    g.issuers[TF_PATH_MAX - 1] = 0xFFFFFFFFu;   /* bits past n are not followed */
    g.anchored[TF_PATH_MAX - 1] = TF_TRUST_STORE;
    tf_path_build(&g, &p);
    TF_CHECK_EQ(p.len, TF_PATH_MAX);
    TF_CHECK_EQ(p.nunused, 0);
    for (i = 0; i < p.len; i++) TF_CHECK_EQ(p.idx[i], i);
    TF_CHECK_EQ(p.trust, TF_TRUST_STORE);
}

int main(void)
{
    test_plain();
    test_cross_signed();
    test_any_order();
    test_sent_root();
    test_shortest_and_loops();
    test_bounds();
    return tf_unit_report("test_path");
}
