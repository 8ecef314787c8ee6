/*
 * errors.h -- the prober's numbered error codes.
 *
 * Every code is also the process exit status of `tlsfit-probe` (and of
 * `tlsfit probe`), so each failure class is distinguishable by scripts.  The
 * table behind tf_err_table() is what `tlsfit-probe --list-errors` prints; the
 * README links to it.  Codes are stable: never renumber, only append.
 */
#ifndef TF_ERRORS_H
#define TF_ERRORS_H

#include <stddef.h>

enum {
    TF_OK = 0,
    TF_ERR_USAGE = 2,        /* bad command line */
    TF_ERR_RESOLVE = 10,     /* host name did not resolve */
    TF_ERR_REFUSED = 11,     /* TCP connection refused */
    TF_ERR_TIMEOUT = 12,     /* peer silent past --timeout */
    TF_ERR_NOT_TLS = 13,     /* peer speaks another protocol */
    TF_ERR_CLOSED = 14,      /* peer closed mid-handshake */
    TF_ERR_MALFORMED = 15,   /* record or handshake bytes violate TLS */
    TF_ERR_NO_VERSION = 16,  /* peer speaks TLS but accepted no version offered */
    TF_ERR_CONNECT = 17,     /* other connection failure (unreachable, reset) */
    TF_ERR_OUTPUT = 18,      /* could not write the profile */
    TF_ERR_NOMEM = 19,       /* out of memory */
    TF_ERR_CA_FILE = 20,     /* --ca file unreadable or holds no certificate */
    TF_ERR_CRYPTO = 21,      /* key exchange / decryption of TLS 1.3 failed */
    TF_ERR_INTERNAL = 22,    /* a bug in the prober */
    TF_ERR_SNI = 23          /* refused every version with unrecognized_name: wants (another) --sni */
};

typedef struct {
    int code;
    const char *name;
    const char *comment;
} tf_errinfo;

/* Returns the table of all codes, terminated by an entry with name NULL. */
const tf_errinfo *tf_err_table(void);

/* Symbolic name of `code` ("TF_ERR_TIMEOUT"), or "TF_ERR_UNKNOWN". */
const char *tf_err_name(int code);

/* One-sentence description of `code`. */
const char *tf_err_comment(int code);

#endif
