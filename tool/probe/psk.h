/*
 * psk.h -- which pre-shared-key handshakes a server completes for one
 * identity and key, proven by completing them.
 *
 * A ServerHello that names a PSK suite proves nothing about the key: the
 * key is first needed after it (TLS 1.2: the Finished messages; TLS 1.3: the
 * binder of the ClientHello and the server's Finished).  So, as the
 * resumption step, this step runs mbedTLS's own client (the prober's pinned
 * 3.6 tree, stock configuration) and counts a suite or mode only when the
 * whole handshake, the server's Finished included, went through:
 *   TLS 1.2  one handshake per PSK suite the suites step saw accepted (PSK,
 *            ECDHE-PSK, DHE-PSK, RSA-PSK) that mbedTLS implements, offering
 *            that suite alone;
 *   TLS 1.3  one handshake offering only psk_ke (RFC 8446 4.2.9: no key
 *            share), one offering only psk_dhe_ke.
 * The key never leaves the step: it is not written into the profile.
 */
#ifndef TF_PSK_H
#define TF_PSK_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"

#define TF_PSK_MAX_KEY 64          /* bytes; mbedTLS's MBEDTLS_PSK_MAX_LEN is 32 by default, 64 at most here */
#define TF_PSK_MAX_IDENTITY 128
#define TF_PSK_MAX_SUITES 64

/* The identity and key to offer. */
typedef struct {
    char identity[TF_PSK_MAX_IDENTITY + 1];
    uint8_t key[TF_PSK_MAX_KEY];
    size_t key_len;
} tf_psk_secret;

/* What the step learned; -1 = not known. */
typedef struct {
    uint16_t tls12[TF_PSK_MAX_SUITES];  /* TLS 1.2 suites whose handshake completed, in tried order */
    size_t ntls12;
    size_t tls12_tried;                 /* suites tried (accepted by ServerHello, known to mbedTLS) */
    int psk_ke;                         /* TLS 1.3 handshake with psk_ke alone completed (0/1) */
    int psk_dhe_ke;                     /* ... with psk_dhe_ke alone (0/1) */
    uint16_t tls13_suite;               /* the suite of the last TLS 1.3 PSK handshake, 0 none */
    uint16_t tls13_group;               /* the key share group of the psk_dhe_ke handshake, 0 none */
    size_t max_record_len;              /* the largest record body the server sent in them */
    size_t max_plain_len;               /* ... its plaintext, at most (a TLS 1.3 protected
                                           record: the body less the tag and the type byte) */
    int connections;
    char why[200];                      /* the first failure, for the step's note */
} tf_psk_facts;

/*
 * Reads the key from file descriptor `fd` (raw bytes, at most TF_PSK_MAX_KEY)
 * into s->key.  0, or TF_ERR_PSK_KEY (nothing read, over the limit, a read
 * error).
 */
int tf_psk_read_key(int fd, tf_psk_secret *s);

/*
 * Runs the step against `t`: TLS 1.2 over the `n12` suites `suites12` (those
 * of another key exchange are skipped), then TLS 1.3 (tried whatever the
 * versions step found: without a PSK a PSK-only server refuses every TLS 1.3
 * hello the other steps send).  Returns 0, or
 * TF_ERR_PSK_REFUSED when something was tried and nothing completed
 * (out->why says the first failure), or TF_ERR_INTERNAL.
 */
int tf_psk_probe(tf_target *t, const tf_psk_secret *s, const uint16_t *suites12, size_t n12,
                 tf_psk_facts *out);

#endif
