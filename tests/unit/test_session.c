/*
 * test_session.c -- unit tests for tool/probe/session.c: the TLS 1.3 group
 * rules (tf_sess_check_group).  read_13 once compared the ServerHello's
 * key-share group with a copy of itself, so a server answering with a share
 * in a group the client never sent one for went unnoticed.
 */
#include <stdint.h>
#include <string.h>

#include "errors.h"
#include "session.h"
#include "unit.h"

static const uint16_t offered[] = { 0x001D, 0x0017, 0x0018 };   /* x25519, P-256, P-384 */

static tf_hello hello(uint16_t share)
{
    tf_hello h;
    memset(&h, 0, sizeof h);
    h.version = 0x0304;
    h.groups = offered;
    h.ngroups = sizeof offered / sizeof offered[0];
    h.key_share_group = share;
    return h;
}

static tf_server_hello server(int hrr, uint16_t group)
{
    tf_server_hello sh;
    memset(&sh, 0, sizeof sh);
    sh.hrr = hrr;
    sh.version = 0x0304;
    sh.ks_group = group;
    return sh;
}

int main(void)
{
    char detail[256];
    tf_hello h = hello(0x001D);
    tf_server_hello sh;

    /* a ServerHello in the group of the client's share */
    sh = server(0, 0x001D);
    TF_CHECK_EQ(tf_sess_check_group(&h, &sh, detail, sizeof detail), 0);

    /* offered in supported_groups but no share sent for it: refused */
    sh = server(0, 0x0017);
    detail[0] = 0;
    TF_CHECK_EQ(tf_sess_check_group(&h, &sh, detail, sizeof detail), TF_ERR_MALFORMED);
    TF_CHECK_STR(detail, "the server's key share is for group 0x0017, not 0x001D, the group of the "
                         "client's share");

    /* never offered at all */
    sh = server(0, 0x0100);
    TF_CHECK_EQ(tf_sess_check_group(&h, &sh, detail, sizeof detail), TF_ERR_MALFORMED);

    /* a key share answering an empty key_share */
    h = hello(0);
    sh = server(0, 0x001D);
    TF_CHECK_EQ(tf_sess_check_group(&h, &sh, detail, sizeof detail), TF_ERR_MALFORMED);

    /* HelloRetryRequest: any offered group (empty key_share), a cookie-only HRR */
    sh = server(1, 0x0018);
    TF_CHECK_EQ(tf_sess_check_group(&h, &sh, detail, sizeof detail), 0);
    sh = server(1, 0);
    TF_CHECK_EQ(tf_sess_check_group(&h, &sh, detail, sizeof detail), 0);
    /* ... but not one the client did not offer */
    sh = server(1, 0x001E);
    TF_CHECK_EQ(tf_sess_check_group(&h, &sh, detail, sizeof detail), TF_ERR_MALFORMED);
    TF_CHECK_STR(detail, "the HelloRetryRequest selects group 0x001E, which the client did not offer");
    /* ... nor the one the client already shared */
    h = hello(0x0017);
    sh = server(1, 0x0017);
    TF_CHECK_EQ(tf_sess_check_group(&h, &sh, detail, sizeof detail), TF_ERR_MALFORMED);
    sh = server(1, 0x001D);
    TF_CHECK_EQ(tf_sess_check_group(&h, &sh, detail, sizeof detail), 0);

    return tf_unit_report("session");
}
