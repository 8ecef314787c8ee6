/*
 * tlsfit-verify-client: one TLS handshake with certificate verification,
 * built against an mbedTLS tree (3.6 or 2.28) with the configuration header
 * under test (MBEDTLS_CONFIG_FILE), then the proof that the server accepted
 * the session (tool/proof/proof.h).  Part of `tlsfit verify`.
 *
 *   tlsfit-verify-client --host H --port P --ca FILE [--sni NAME]
 *                        [--timeout SEC] [--min-version 1.2|1.3] [--max-version 1.2|1.3]
 *                        [--proof mqtt|http|no-alert|send:HEX,expect:HEX]
 *                        [--client-cert FILE --client-key FILE] [--resume]
 *
 * Prints exactly one JSON line on stdout:
 *   {"ok": true, "version": "TLSv1.3", "ciphersuite": "TLS_AES_128_GCM_SHA256",
 *    "group": "x25519", "verify_flags": 0, ...}
 *   {"ok": false, "step": "handshake", "error": "MBEDTLS_ERR_...", "code": "-0x7200",
 *    "verify_flags": N, "verify_info": "...", ...}
 *   {"ok": false, "step": "proof", "error": "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE",
 *    "alert": "certificate_required (116)", "proof": "mqtt-connack", ...}
 * Exit status (../errors/errors.h): 0 verified (TF_OK), 1 failed, any step
 * (TF_ERR_FAILED), 2 usage (TF_ERR_USAGE).
 *
 * It only uses what a trimmed configuration is likely to keep: no FS_IO (the CA
 * file is read with stdio and decoded from PEM here, so PEM_PARSE_C may be
 * off), no NET_C (own POSIX socket callbacks), no ERROR_C (own table of error
 * names; mbedtls_strerror() adds its text when available).
 *
 * mbedTLS has no public getter for the negotiated key-exchange group, so the
 * client reads it off the wire: the receive callback follows the plaintext
 * part of the server's flight (record and handshake headers only) and picks
 * the key_share group out of the TLS 1.3 ServerHello / HelloRetryRequest, or
 * the named curve out of a TLS 1.2 ECDHE ServerKeyExchange.
 *
 * The header may name the groups to offer: TLSFIT_GROUPS (3.x, a list of
 * MBEDTLS_SSL_IANA_TLS_GROUP_* ending with MBEDTLS_SSL_IANA_TLS_GROUP_NONE)
 * or TLSFIT_CURVES (2.28, MBEDTLS_ECP_DP_* ending with MBEDTLS_ECP_DP_NONE);
 * the harness applies it, as it applies TLSFIT_MAX_FRAG_LEN.
 *
 * This file: the configuration requirements (the #error checks below, which
 * tool/tlsfit reports from a syntax-only compile of this file) and the
 * top-level flow.  The parts, one concern each:
 *   args.c     the command line             fail.c     failure descriptions
 *   rng.c      the host's random source and clock, the generator's failures
 *   ca.c       the trust anchors            net.c      TCP and socket callbacks
 *   identity.c the device's cert and key    file.c     reading a whole file
 *   psk.c      the pre-shared key (--psk-identity, --psk-key-fd)
 *   wire.c     watching the server's bytes  session.c  TLS set-up, handshake
 *   dtls.c     UDP, the DTLS receive and timer (a header defining TLSFIT_DTLS)
 *   names.c    names of codes and IANA ids  report.c   the JSON result line
 *   resume.c   --resume: the second, resuming connection
 *   ../harness/     the TLS client set-up shared with the measure firmware:
 *              PSA start, the random generator, the platform hooks, the group
 *              list, the client configuration (../harness/harness.h)
 *   ../proof/proof.c  the post-handshake proof (shared with the firmware)
 * Errors are named and exit statuses numbered by ../errors/errors.h.
 * PEM/base64, DER and JSON come from the shared codecs in tool/codec.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <string.h>

#include "mbedtls/version.h"        /* 3.x: via build_info.h; 2.x: via config */

#if MBEDTLS_VERSION_NUMBER < 0x03000000
/* 2.x: a custom MBEDTLS_CONFIG_FILE replaces config.h, which is where the
 * check normally happens; make sure the header under test is checked. */
#include "mbedtls/check_config.h"
#endif

#if !defined(MBEDTLS_SSL_TLS_C)
#error "tlsfit verify: MBEDTLS_SSL_TLS_C is not defined, there is no TLS to verify"
#endif
#if !defined(MBEDTLS_SSL_CLI_C)
#error "tlsfit verify: MBEDTLS_SSL_CLI_C is not defined, the configuration has no TLS client"
#endif
#if !defined(MBEDTLS_X509_CRT_PARSE_C) && !defined(TLSFIT_PSK_IDENTITY)
#error "tlsfit verify: MBEDTLS_X509_CRT_PARSE_C is not defined, certificates cannot be verified (and the header is no PSK header: no TLSFIT_PSK_IDENTITY)"
#endif

#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(TLSFIT_CURVES) && !defined(TLSFIT_GROUPS)
#error "tlsfit verify: TLSFIT_CURVES is the mbedTLS 2.28 group list; mbedTLS 3.x takes TLSFIT_GROUPS (MBEDTLS_SSL_IANA_TLS_GROUP_*)"
#endif
#if MBEDTLS_VERSION_NUMBER < 0x03000000 && defined(TLSFIT_GROUPS) && !defined(TLSFIT_CURVES)
#error "tlsfit verify: TLSFIT_GROUPS is the mbedTLS 3.x group list; mbedTLS 2.28 takes TLSFIT_CURVES (MBEDTLS_ECP_DP_*)"
#endif

#include "args.h"
#include "ca.h"
#include "fail.h"
#include "net.h"
#include "report.h"
#include "rng.h"
#include "resume.h"
#include "session.h"

/* setup: PSA Crypto and the random generator. */
static int step_crypto(struct tf_session *s, struct tf_fail *f, int *code)
{
    f->step = "setup";
    *code = 0;
    if (tf_host_crypto_start(f) != 0) {
        return -1;
    }
    return tf_host_rng_seed(&s->rng, code, f);
}

/* ca: the trust anchors (none for a pre-shared key without --ca, or a header
   without X.509). */
static int step_ca(const struct tf_opts *o, struct tf_session *s, struct tf_fail *f, int *code)
{
    f->step = "ca";
    *code = 0;
#if defined(MBEDTLS_X509_CRT_PARSE_C)
    if (o->ca != NULL && tf_ca_load(o->ca, &s->cacert, &s->ca, f) != 0) {
        *code = f->error == NULL ? s->ca.last_error : 0;
        return -1;
    }
#else
    (void) o;
    (void) s;
    (void) f;
#endif
    return 0;
}

/* psk: the pre-shared key from its file descriptor, when given. */
static int step_psk(const struct tf_opts *o, struct tf_session *s, struct tf_fail *f, int *code)
{
    f->step = "psk";
    *code = 0;
    return o->psk_identity == NULL ? 0 : tf_psk_read(o->psk_identity, o->psk_key_fd, &s->psk, f);
}

/* identity: the device's certificate and key, when given. */
static int step_identity(const struct tf_opts *o, struct tf_session *s, struct tf_fail *f,
                         int *code)
{
    f->step = "identity";
    *code = 0;
    if (o->client_cert == NULL) {
        return 0;
    }
#if !defined(MBEDTLS_X509_CRT_PARSE_C)
    (void) s;
    tf_fail_set(f, TF_ERROR_NAME(TLSFIT_NO_PK_PARSE), "a device certificate was given but the "
                "configuration has no X.509 (MBEDTLS_X509_CRT_PARSE_C)");
    return -1;
#else
    return tf_identity_load(o->client_cert, o->client_key, &s->own_cert, &s->own_key,
                            &s->rng, code, f);
#endif
}

/* setup: the TLS configuration and context. */
static int step_tls(const struct tf_opts *o, struct tf_session *s, struct tf_fail *f,
                    int *code)
{
    f->step = "setup";
    return tf_session_setup(s, o, code, f);
}

/* connect: TCP, or UDP for a DTLS header (dtls.h). */
static int step_connect(const struct tf_opts *o, struct tf_session *s, struct tf_fail *f,
                        int *code)
{
    f->step = "connect";
    *code = 0;
#if defined(TLSFIT_DTLS)
    return tf_udp_connect(&s->io, o, f);
#else
    return tf_tcp_connect(&s->io, o, f);
#endif
}

/* handshake, certificate verification included (authmode REQUIRED: the
   handshake fails when the chain does not verify). */
static int step_handshake(const struct tf_opts *o, struct tf_session *s, struct tf_fail *f,
                          int *code)
{
    f->step = "handshake";
    *code = tf_session_handshake(s, o, f);
    return *code == 0 ? 0 : -1;
}

/* proof: one exchange after the handshake shows the server accepted the session. */
static int step_proof(const struct tf_opts *o, struct tf_session *s, struct tf_fail *f,
                      int *code)
{
    f->step = "proof";
    *code = 0;
    if (tf_session_proof(s, o) == 0) {
        return 0;
    }
    tf_fail_proof(f, &o->proof, &s->proof, code);
    return -1;
}

/* Runs the steps in order and prints the result line; returns the exit status. */
static int run(const struct tf_opts *o, struct tf_session *s)
{
    struct tf_fail f;
    int code = 0;
    memset(&f, 0, sizeof(f));
    if (step_crypto(s, &f, &code) != 0 ||
        step_ca(o, s, &f, &code) != 0 ||
        step_psk(o, s, &f, &code) != 0 ||
        step_identity(o, s, &f, &code) != 0 ||
        step_tls(o, s, &f, &code) != 0 ||
        step_connect(o, s, &f, &code) != 0 ||
        step_handshake(o, s, &f, &code) != 0 ||
        step_proof(o, s, &f, &code) != 0 ||
        (o->resume && tf_verify_resume(o, s, &f, &code) != 0)) {
        return tf_report_fail(o, s, &f, code);
    }
    int rc = tf_report_ok(o, s);
    (void) mbedtls_ssl_close_notify(&s->ssl);
    return rc;
}

int main(int argc, char **argv)
{
    static struct tf_session s;     /* large (the wire observer's buffers, DRBG) */
    struct tf_opts o;
    tf_parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    tf_session_init(&s, &o);
    int rc = run(&o, &s);
    tf_session_free(&s);
    return rc;
}
