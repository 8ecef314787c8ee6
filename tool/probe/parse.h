/*
 * parse.h -- decoders for the server's handshake messages.
 *
 * Pure functions over bytes: each takes a complete handshake message (its
 * 4-byte header included, as tf_conn_handshake returns it), never reads
 * outside it, and returns 0 or TF_ERR_MALFORMED.  Pointers in the results
 * point into the message and live as long as it does.
 */
#ifndef TF_PARSE_H
#define TF_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "tables.h"

enum {
    TF_HS_SERVER_HELLO = 2, TF_HS_NEW_SESSION_TICKET = 4, TF_HS_ENCRYPTED_EXTENSIONS = 8,
    TF_HS_CERTIFICATE = 11, TF_HS_SERVER_KEY_EXCHANGE = 12, TF_HS_CERTIFICATE_REQUEST = 13,
    TF_HS_SERVER_HELLO_DONE = 14, TF_HS_CERTIFICATE_VERIFY = 15, TF_HS_FINISHED = 20,
    TF_HS_CERTIFICATE_STATUS = 22
};

/* Extensions a server may acknowledge (ServerHello or EncryptedExtensions). */
typedef struct {
    int ems, etm, ticket, renego;  /* 1 when echoed */
    uint8_t mfl;                   /* echoed max_fragment_length code, 0 if none */
    int has_rsl;
    uint16_t rsl;                  /* server's record_size_limit */
    char alpn[64];                 /* selected protocol, "" if none */
    int cid;                       /* DTLS connection_id (RFC 9146, type 54) echoed */
    uint8_t cid_len;               /* ... the length of the CID the server chose to receive */
} tf_server_exts;

typedef struct {
    int hrr;                       /* HelloRetryRequest (special random) */
    uint16_t legacy_version;
    uint16_t version;              /* supported_versions if present, else legacy_version */
    uint16_t suite;
    uint16_t ks_group;             /* key_share group (TLS 1.3), 0 if none */
    const uint8_t *ks_key;         /* server share (not in HRR) */
    size_t ks_len;
    int psk;                       /* TLS 1.3: pre_shared_key present (a PSK/ticket was accepted) */
    uint16_t psk_identity;         /* ... the index of the identity it selected */
    tf_server_exts ext;
} tf_server_hello;

int tf_parse_server_hello(const uint8_t *msg, size_t len, tf_server_hello *sh);

/* EncryptedExtensions (TLS 1.3): fills the fields of ext it carries. */
int tf_parse_encrypted_extensions(const uint8_t *msg, size_t len, tf_server_exts *ext);

/* TLS <= 1.2 ServerKeyExchange for key exchange `kx`. */
typedef struct {
    uint16_t curve;                /* named curve (ECDHE), 0 otherwise */
    unsigned dh_bits;              /* DHE prime size in bits, 0 otherwise */
    uint16_t sigalg;               /* TLS 1.2 signature scheme, 0 if unsigned or < 1.2 */
} tf_ske;

int tf_parse_ske(const uint8_t *msg, size_t len, tf_kx kx, uint16_t version, tf_ske *out);

/* Certificate: calls fn(ctx, der, der_len) for each certificate in order;
   stops early when fn returns non-zero.  tls13 selects the 1.3 layout. */
int tf_parse_certificate(const uint8_t *msg, size_t len, int tls13,
                         int (*fn)(void *ctx, const uint8_t *der, size_t der_len), void *ctx);

#define TF_MAX_CERTREQ_ITEMS 64
typedef struct {
    uint16_t sigalgs[TF_MAX_CERTREQ_ITEMS];
    size_t nsigalgs;
    const uint8_t *ca_der[TF_MAX_CERTREQ_ITEMS]; /* DER of each DistinguishedName */
    size_t ca_len[TF_MAX_CERTREQ_ITEMS];
    size_t nca;
    uint8_t cert_types[16];        /* TLS <= 1.2 */
    size_t ntypes;
} tf_certreq;

int tf_parse_cert_request(const uint8_t *msg, size_t len, int tls13, uint16_t version, tf_certreq *out);

/* CertificateVerify (TLS 1.3): the signature scheme. */
int tf_parse_cert_verify(const uint8_t *msg, size_t len, uint16_t *sigalg);

#endif
