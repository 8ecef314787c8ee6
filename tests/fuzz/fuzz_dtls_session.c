/*
 * fuzz_dtls_session.c -- one whole DTLS probe connection (session.c over
 * dtls.c, dtls_frag.c and parse.c) on the in-memory transport of fuzz_net.c,
 * whose bytes are read as datagrams (each after a 2-byte length).
 *
 * Input: one control byte, then the server's datagrams.  Control bits 0-1:
 * how far to read (hello, ServerKeyExchange, whole flight; 3 reads the flight
 * too); 2: ask for max_fragment_length; 3: offer ALPN.  The hello is the
 * DTLS 1.2 one the versions step sends (every TLS 1.2 suite, group and
 * scheme, Connection ID).  A HelloVerifyRequest gets the hello again with
 * its cookie, silence gets retransmissions, until the fake clock passes the
 * deadline.  Checks: the outcome is one of the four, an error or a refusal
 * says why, the facts stay within the limits (records, handshake messages,
 * datagrams, at most TF_DTLS_MAX_HVR cookie exchanges), and a hello went out.
 */
#include <stdlib.h>
#include <string.h>

#include "dtls.h"
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
    fz_session_start(&target, &h, o, 0x0303, TF_DTLS_DEFAULT_PORT);
    target.dtls = 1;
    h.cid = 1;
    h.mfl = (ctl & 4) ? 1 : 0;
    if (ctl & 8) {
        h.alpn = tf_alpn_default;
        h.alpn_len = tf_alpn_default_len;
    }
    tf_fuzz_net_set(in.p, fz_left(&in));

    tf_session_run(&target, &h, untils[ctl & 3], &s);
    if (s.outcome != TF_SESS_HELLO && s.outcome != TF_SESS_HRR && s.outcome != TF_SESS_REFUSED &&
        s.outcome != TF_SESS_ERROR) abort();
    if (s.outcome == TF_SESS_ERROR && (s.err == TF_OK || s.detail[0] == '\0')) abort();
    if (s.max_record_len > 0xFFFF || s.max_hs_len > 4 + TF_MAX_HANDSHAKE) abort();
    if (s.cert_msg && s.cert_msg_len < 4) abort();
    if (!s.dtls.used || s.dtls.hello_verify > TF_DTLS_MAX_HVR + 1 || s.dtls.max_datagram > TF_DTLS_MAX_DATAGRAM) abort();
    if (tf_fuzz_net_sent() == 0) abort();              /* the ClientHello went out */
    tf_sess_free(&s);
    free(o);
    return 0;
}
