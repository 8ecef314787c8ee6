/*
 * fuzz_profile.c -- the profile writer (profile.c tf_profile_write, with the
 * chain decoding, path choice and CertificateRequest rendering it does at
 * output time, and json.c).
 *
 * Input: a tf_profile spelled out field by field from the fuzzer's bytes (see
 * fill()): target host and SNI as raw bytes, accepted versions, suite /
 * group / scheme lists with any code points, key exchange facts, the
 * Certificate and CertificateRequest messages the steps kept, record facts,
 * extension facts and steps with arbitrary names and reasons.  No trust
 * bundle is searched (nca 0, system store off): file look-ups are anchor.c's
 * concern, not the writer's.  Oracle: the output is one strict JSON value,
 * ASCII only (json_check.h), whenever tf_profile_write returns 0.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "fuzz.h"
#include "json_check.h"
#include "probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-free string of up to cap-1 bytes (length byte first). */
static void fz_str(fz_cursor *in, char *out, size_t cap)
{
    const uint8_t *s;
    size_t n = fz_take(in, fz_u8(in) % cap, &s), i, k = 0;
    for (i = 0; i < n; i++) if (s[i]) out[k++] = (char)s[i];
    out[k] = '\0';
}

/* A malloc'd copy of a message of up to 64 KiB (16-bit length first), or NULL. */
static uint8_t *fz_msg(fz_cursor *in, size_t *len)
{
    const uint8_t *s;
    uint8_t *m;
    size_t n = fz_take(in, fz_u16(in), &s);
    if (n == 0) { *len = 0; return NULL; }
    m = malloc(n);
    if (m) memcpy(m, s, n);
    *len = m ? n : 0;
    return m;
}

static void fill_lists(fz_cursor *in, tf_profile *p, int slot)
{
    size_t i;
    p->nsuites[slot] = fz_u8(in) % (TF_MAX_LIST + 1);
    for (i = 0; i < p->nsuites[slot]; i++) p->suites[slot][i] = fz_u16(in);
    p->ngroups[slot] = fz_u8(in) % (TF_MAX_LIST + 1);
    for (i = 0; i < p->ngroups[slot]; i++) p->groups[slot][i] = fz_u16(in);
    p->nsigalgs[slot] = fz_u8(in) % (TF_MAX_LIST + 1);
    for (i = 0; i < p->nsigalgs[slot]; i++) p->sigalgs[slot][i] = fz_u16(in);
    p->server_pref[slot] = (int)(fz_u8(in) % 3) - 1;
    p->group_pref[slot] = fz_u16(in);
    p->sigalg_unoffered[slot] = fz_u8(in) & 1;
    p->kx_known[slot] = fz_u8(in) & 1;
    p->kx_group[slot] = fz_u16(in);
    p->kx_dh_bits[slot] = fz_u16(in);
}

static void fill(fz_cursor *in, tf_profile *p, tf_target *t)
{
    uint8_t bits;
    int slot;
    size_t i;

    fz_str(in, t->host, sizeof(t->host));
    fz_str(in, t->sni, sizeof(t->sni));
    t->port = fz_u16(in);
    t->connections = fz_u16(in);
    bits = fz_u8(in);
    for (slot = 0; slot < TF_NV; slot++) {
        p->accepted[slot] = (bits >> slot) & 1;
        if (p->accepted[slot]) fill_lists(in, p, slot);
    }
    p->chain_slot = (int)(fz_u8(in) % 5) - 1;
    p->cert_msg = fz_msg(in, &p->cert_msg_len);
    p->certreq_slot = (int)(fz_u8(in) % 4);
    p->certreq_msg = fz_msg(in, &p->certreq_msg_len);
    p->client_cert_requested = fz_u8(in) & 1;
    p->max_record_len = fz_u16(in);
    p->max_plain_len = fz_u16(in);
    p->max_hs_len = fz_u16(in);
    bits = fz_u8(in);
    p->mfl_honoured = (int)(bits % 3) - 1;
    p->rsl_acked = (bits >> 2) & 1;
    p->rsl_honoured = (bits >> 3) & 1;
    p->ext_known = (bits >> 4) & 1;
    p->ems = (bits >> 5) & 1;
    p->ticket = (bits >> 6) & 1;
    p->renego = (bits >> 7) & 1;
    p->rsl = fz_u16(in);
    bits = fz_u8(in);
    p->etm_known = bits & 1;
    p->etm = (bits >> 1) & 1;
    fz_str(in, p->alpn, sizeof(p->alpn));
    p->nsteps = fz_u8(in) % (TF_MAX_STEPS + 1);
    for (i = 0; i < p->nsteps; i++) {
        tf_step *st = &p->steps[i];
        fz_str(in, st->name, sizeof(st->name));
        st->ran = 1;
        st->ok = fz_u8(in) & 1;
        st->code = fz_u8(in);
        fz_str(in, st->reason, sizeof(st->reason));
    }
    p->elapsed_ms = fz_u16(in);
    fz_str(in, p->probed_at, sizeof(p->probed_at));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_cursor in;
    tf_target t;
    tf_profile *p = malloc(sizeof(*p));
    char *out = NULL;
    size_t out_len = 0;
    FILE *f;
    int rc;

    if (!p) return 0;
    memset(&t, 0, sizeof(t));
    strcpy(t.addr_str, "127.0.0.1");
    tf_profile_init(p);
    p->target = &t;
    p->system_store = 0;
    fz_init(&in, data, size);
    fill(&in, p, &t);
    f = open_memstream(&out, &out_len);
    if (!f) goto cleanup;
    rc = tf_profile_write(p, f);
    if (fclose(f) != 0) goto cleanup;
    if (rc == TF_OK && tf_json_check(out, out_len) != 0) abort();
    if (rc != TF_OK && rc != TF_ERR_NOMEM && rc != TF_ERR_OUTPUT) abort();
cleanup:
    free(out);
    tf_profile_free(p);
    free(p);
    return 0;
}
