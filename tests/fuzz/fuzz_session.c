/*
 * fuzz_session.c -- one whole probe connection (session.c over record.c and
 * parse.c) on the in-memory transport of fuzz_net.c.
 *
 * Input: one control byte, then the bytes the server sends.  Control bits
 * 0-1: the version offered (TLS 1.0 .. 1.3); 2-3: how far to read (hello,
 * ServerKeyExchange, whole flight; 3 reads the flight too); 4: the TLS 1.3
 * key share group (x25519 or secp256r1; a real share is generated, so a
 * ServerHello with a valid share gets as far as decrypting); 5-7: ask for
 * max_fragment_length, record_size_limit, ALPN.  The hello offers every
 * suite, group and signature scheme of the version, as the versions step
 * does.  Checks: the outcome is one of the four, an error or a refusal says
 * why, and the facts stay within the record limits.
 */
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "fuzz.h"
#include "record.h"
#include "session.h"
#include "tables.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const tf_until untils[] = { TF_UNTIL_HELLO, TF_UNTIL_SKE, TF_UNTIL_FLIGHT, TF_UNTIL_FLIGHT };
    fz_cursor in;
    tf_target target;
    tf_hello h;
    tf_sess s;
    fz_offer *o = malloc(sizeof(*o));
    uint8_t ctl;

    if (!o) return 0;
    fz_init(&in, data, size);
    ctl = fz_u8(&in);
    fz_session_start(&target, &h, o, (uint16_t)(0x0301 + (ctl & 3)), 443);
    h.key_share_group = (ctl & 16) ? 0x0017 : 0x001d;
    h.mfl = (ctl & 32) ? 1 : 0;
    h.record_size_limit = (ctl & 64) ? 512 : 0;
    h.alpn = (ctl & 128) != 0;
    tf_fuzz_net_set(in.p, fz_left(&in));

    tf_session_run(&target, &h, untils[(ctl >> 2) & 3], &s);
    if (s.outcome != TF_SESS_HELLO && s.outcome != TF_SESS_HRR && s.outcome != TF_SESS_REFUSED &&
        s.outcome != TF_SESS_ERROR) abort();
    if (s.outcome == TF_SESS_ERROR && (s.err == TF_OK || s.detail[0] == '\0')) abort();
    if (s.max_record_len > TF_MAX_RECORD || s.max_hs_len > 4 + TF_MAX_HANDSHAKE) abort();
    if (s.cert_msg && s.cert_msg_len < 4) abort();
    if (tf_fuzz_net_sent() == 0) abort();              /* the ClientHello went out */
    tf_sess_free(&s);
    free(o);
    return 0;
}
