/*
 * fuzz_kx.c -- ServerKeyExchange, CertificateRequest and CertificateVerify
 * (parse.c).
 *
 * Input: two control bytes, then one handshake message with its header.
 * ctl[0] bits 0-1 pick the decoder (0 SKE, 1 CertificateRequest, 2
 * CertificateVerify, 3 all three), bits 2-3 the version (TLS 1.0 .. 1.3),
 * bit 4 the TLS 1.3 CertificateRequest layout; ctl[1] modulo the number of
 * tf_kx values is the key exchange of the SKE.  Checks: counts stay within
 * their arrays, CA name spans inside the message.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "parse.h"
#include "tables.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void certreq(const uint8_t *msg, size_t n, int tls13, uint16_t version)
{
    tf_certreq cr;
    size_t i;
    memset(&cr, 0, sizeof(cr));
    if (tf_parse_cert_request(msg, n, tls13, version, &cr) != 0) return;
    if (cr.nsigalgs > TF_MAX_CERTREQ_ITEMS || cr.nca > TF_MAX_CERTREQ_ITEMS ||
        cr.ntypes > sizeof(cr.cert_types)) abort();
    for (i = 0; i < cr.nca; i++) {
        if (cr.ca_der[i] < msg || cr.ca_len[i] > n || cr.ca_der[i] > msg + n - cr.ca_len[i]) abort();
        if (cr.ca_len[i]) (void)cr.ca_der[i][cr.ca_len[i] - 1];
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_cursor in;
    uint8_t which, sel, *msg;
    uint16_t version, sigalg;
    tf_ske ske;
    size_t n;
    int tls13;

    fz_init(&in, data, size);
    which = fz_u8(&in);
    sel = fz_u8(&in);
    version = (uint16_t)(0x0301 + ((which >> 2) & 3));
    tls13 = (which & 16) != 0;
    which &= 3;
    n = fz_left(&in);
    msg = malloc(n ? n : 1);
    if (!msg) return 0;
    if (n) memcpy(msg, in.p, n);
    if (which == 0 || which == 3) {
        memset(&ske, 0, sizeof(ske));
        (void)tf_parse_ske(msg, n, (tf_kx)(sel % (TF_KX_TLS13 + 1)), version, &ske);
    }
    if (which == 1 || which == 3) certreq(msg, n, tls13, version);
    if (which == 2 || which == 3) (void)tf_parse_cert_verify(msg, n, &sigalg);
    free(msg);
    return 0;
}
