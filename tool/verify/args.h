/*
 * args.h -- the client's command line:
 *
 *   tlsfit-verify-client --host H --port P --ca FILE [--sni NAME]
 *                        [--timeout SEC] [--min-version 1.2|1.3] [--max-version 1.2|1.3]
 *                        [--proof mqtt|http|no-alert|send:HEX,expect:HEX]
 *                        [--client-cert FILE --client-key FILE] [--resume]
 *                        [--psk-identity ID --psk-key-fd N]
 *
 * --psk-identity / --psk-key-fd: a pre-shared key (psk.h), its raw bytes read
 * from inherited file descriptor N (never on the command line); --ca is then
 * optional, and a header without X.509 (a PSK-only header) takes no --ca.
 * --client-cert / --client-key: the device's certificate and private key (PEM
 * or DER; both or neither), presented when the server asks for a client
 * certificate (identity.h).
 * --resume: after the proof, a second connection resumes the session
 * (../harness/resume.h; always on for a header defining TLSFIT_RESUME).
 * --proof: the exchange after the handshake that shows the server accepted
 * the session (tool/proof/proof.h); by default it follows the port: 8883
 * mqtt, 443 and 8443 http, any other no-alert.
 */
#ifndef TF_VERIFY_ARGS_H
#define TF_VERIFY_ARGS_H

#include "../errors/errors.h"
#include "../proof/proof.h"

#define EXIT_USAGE TF_ERROR_EXIT(TF_ERR_USAGE)

struct tf_opts {
    const char *host;
    const char *port;   /* digits, 1 to 65535 */
    const char *sni;    /* --sni, else the host */
    const char *ca;
    const char *client_cert;    /* --client-cert, or NULL: no identity */
    const char *client_key;     /* --client-key (given with --client-cert) */
    const char *psk_identity;   /* --psk-identity, or NULL: no pre-shared key */
    int psk_key_fd;             /* --psk-key-fd: the key's raw bytes are read from it (-1 none) */
    int timeout_ms;     /* per wait; the whole handshake gets tf_handshake_limit_s() */
    int min_version;    /* 0: the configuration's default; else 12 or 13 */
    int max_version;
    struct tf_proof_spec proof;     /* send / expect point into the buffers below */
    int proof_given;                /* --proof was given (else: by port) */
    int resume;                     /* --resume, or the header's TLSFIT_RESUME */
    unsigned char proof_send[1024];
    unsigned char proof_expect[TF_PROOF_EXPECT_MAX];
};

/* Fills *o from argv.  On a usage error (or --help) prints the reason and
   the usage to stderr and exits with EXIT_USAGE. */
void tf_parse_args(int argc, char **argv, struct tf_opts *o);

/* The deadline of the whole handshake, in seconds: 3 x the timeout + 1. */
int tf_handshake_limit_s(const struct tf_opts *o);

#endif
