/*
 * tls13.h -- just enough TLS 1.3 to read a server's encrypted flight.
 *
 * The prober is a passive client: it sends a ClientHello with one key share,
 * derives the server handshake traffic keys (RFC 8446 section 7) and decrypts
 * EncryptedExtensions, CertificateRequest, Certificate and CertificateVerify.
 * It never sends a Finished.  Crypto primitives come from the host build of
 * mbedTLS 3.6 (ECDH/X25519/X448, HKDF, SHA-256/384, AES-GCM, AES-CCM,
 * ChaCha20-Poly1305) so the chain is captured even when mbedTLS's own TLS
 * stack could not complete that handshake.
 */
#ifndef TF_TLS13_H
#define TF_TLS13_H

#include <stddef.h>
#include <stdint.h>

/* ---- ephemeral key exchange ------------------------------------------- */

typedef struct tf_kex tf_kex;

/* 1 when a key share for IANA group `group` can be generated here
   (secp256r1, secp384r1, secp521r1, x25519, x448, brainpool*tls13). */
int tf_kex_supported(uint16_t group);

/*
 * Generates an ephemeral key pair for `group`; writes the key_share
 * key_exchange bytes (uncompressed point 0x04||X||Y, or the raw X25519/X448
 * u-coordinate) to pub.  Returns 0, or TF_ERR_CRYPTO / TF_ERR_NOMEM.
 */
int tf_kex_generate(tf_kex **out, uint16_t group, uint8_t *pub, size_t pub_cap, size_t *pub_len);

/* Computes the shared secret with the server's key_exchange bytes.
   Returns 0, or TF_ERR_CRYPTO when `peer` is not a valid share. */
int tf_kex_compute(tf_kex *k, const uint8_t *peer, size_t peer_len,
                   uint8_t *secret, size_t secret_cap, size_t *secret_len);

void tf_kex_free(tf_kex *k);

/* ---- key schedule and record protection -------------------------------- */

typedef struct tf_tls13 tf_tls13;

/* 1 when the TLS 1.3 suite `suite` (0x1301..0x1305) can be decrypted here. */
int tf_tls13_suite_supported(uint16_t suite);

/* Starts a key schedule for `suite`.  Returns 0 or TF_ERR_CRYPTO/NOMEM. */
int tf_tls13_new(tf_tls13 **out, uint16_t suite);

/* Adds one handshake message (with its 4-byte header) to the transcript.
   Call with ClientHello then ServerHello before tf_tls13_handshake_keys. */
void tf_tls13_transcript(tf_tls13 *t, const uint8_t *msg, size_t len);

/* Derives the server handshake traffic key/iv from the (EC)DHE secret and the
   transcript so far (RFC 8446 7.1, no PSK).  Returns 0 or TF_ERR_CRYPTO. */
int tf_tls13_handshake_keys(tf_tls13 *t, const uint8_t *ecdhe, size_t ecdhe_len);

/*
 * Decrypts one protected record in place.  `hdr` is the 5-byte record header
 * (type 23, legacy version, length), `buf`/`len` the record body.  On success
 * sets *inner_type to the real content type, *plain_len to the plaintext length
 * (padding stripped) and advances the read sequence number.  Returns 0, or
 * TF_ERR_CRYPTO when authentication fails.
 */
int tf_tls13_open(tf_tls13 *t, const uint8_t hdr[5], uint8_t *buf, size_t len,
                  uint8_t *inner_type, size_t *plain_len);

void tf_tls13_free(tf_tls13 *t);

#endif
