/*
 * session.h -- the TLS side of the client: everything one verified
 * handshake holds, the configuration set-up (authmode REQUIRED, the CA
 * chain, the random generator, the versions asked for, the header's group
 * list, the device's own certificate and key when given), the handshake and
 * the proof that the server accepted the session.  The set-up shared with the
 * measure firmware (generator, authmode, anchors, groups, fragment length,
 * the context) is the harness's (../harness/harness.h).
 */
#ifndef TF_VERIFY_SESSION_H
#define TF_VERIFY_SESSION_H

#include "args.h"
#include "ca.h"
#include "fail.h"
#include "identity.h"
#include "net.h"
#include "psk.h"
#if defined(TLSFIT_DTLS)
#include "dtls.h"
#endif
#include "rng.h"
#include "../proof/proof.h"
#include "../harness/resume.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

struct tf_session {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt cacert;
    struct tf_ca_count ca;
    mbedtls_x509_crt own_cert;  /* --client-cert (empty without it) */
    mbedtls_pk_context own_key; /* --client-key */
    struct tf_psk psk;          /* --psk-identity / --psk-key-fd (empty without) */
    struct tf_rng rng;
    struct tf_io io;
#if defined(TLSFIT_DTLS)
    struct tf_dtls_timer timer; /* DTLS retransmission (dtls.h) */
#endif
    int handshaking;    /* the handshake started: ssl and io describe it */
    int proof_ran;      /* the proof ran: `proof` holds its result */
    struct tf_proof_result proof;
    struct tf_resume resume;    /* --resume: the saved session, both connections' figures */
};

/* Initialises every part (safe to tf_session_free from then on). */
void tf_session_init(struct tf_session *s, const struct tf_opts *o);

/* Frees every part, closing the socket. */
void tf_session_free(struct tf_session *s);

/*
 * Sets up the client configuration and context for o->sni (the random
 * generator, the CA chain and, with --client-cert, the identity must be
 * ready; the identity is presented with mbedtls_ssl_conf_own_cert).  Returns 0, or -1 with *code
 * the mbedTLS error, or 0 and *f filled in (a version this configuration
 * does not have).
 */
int tf_session_setup(struct tf_session *s, const struct tf_opts *o, int *code,
                     struct tf_fail *f);

/* Runs the handshake on the connected socket; returns 0 or the mbedTLS error
   (f->message explains a timeout). */
int tf_session_handshake(struct tf_session *s, const struct tf_opts *o, struct tf_fail *f);

/* Runs o->proof on the completed handshake (tool/proof/proof.h): 0 the server
   accepted the session, -1 not (s->proof says how). */
int tf_session_proof(struct tf_session *s, const struct tf_opts *o);

#endif
