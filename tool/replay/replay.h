/*
 * replay.h -- tlsfit-replay: a local replica of a profiled TLS server.
 *
 * The driver (tool/tlsfit/lab/replica/planning.py) turns a profile into the options
 * below and a synthesized certificate chain; this server applies them to an
 * OpenSSL SSL_CTX, listens on 127.0.0.1 and answers each connection in its own
 * child process: the handshake, then the application proof the profile implies
 * (an MQTT CONNACK, an HTTP status line, a CoAP 2.05, or nothing).  With --dtls it
 * serves DTLS 1.2 over UDP instead (dtls.c).
 *
 * What OpenSSL cannot reproduce is printed on stdout before the server
 * listens, one line each, "differs: FIELD: ..." (FIELD: the profile key it
 * concerns).  Then "listening 127.0.0.1 PORT".
 * Nothing else is written to stdout; errors go to stderr, one line each.
 */
#ifndef TF_REPLAY_H
#define TF_REPLAY_H

#include <openssl/ssl.h>

#define TF_REPLAY_MAX_LIST 2048     /* the longest colon list of names or ids */

enum tf_replay_proof {
    TF_REPLAY_PROOF_NONE = 0,       /* read until the client closes */
    TF_REPLAY_PROOF_MQTT = 1,       /* a CONNECT gets CONNACK 20 02 00 00 */
    TF_REPLAY_PROOF_HTTP = 2,       /* a request gets "HTTP/1.1 200 OK" */
    TF_REPLAY_PROOF_COAP = 3,       /* (DTLS) a confirmable request gets ACK 2.05 Content */
};

enum tf_replay_verify {
    TF_REPLAY_VERIFY_NONE = 0,      /* no CertificateRequest */
    TF_REPLAY_VERIFY_REQUEST = 1,   /* CertificateRequest; no certificate is accepted too */
    TF_REPLAY_VERIFY_REQUIRE = 2,   /* CertificateRequest; no certificate fails the handshake */
};

/* Everything the replica is told.  Strings point into argv; NULL: not given. */
typedef struct {
    long port;                      /* 0: the kernel picks one */
    const char *cert;               /* PEM chain: leaf first, then the certificates sent */
    const char *key;                /* the leaf's private key (PEM) */
    int min_version, max_version;   /* TLS1_VERSION .. TLS1_3_VERSION */
    const char *suites12;           /* "C030:C02F": IANA ids, in order */
    const char *suites13;           /* "TLS_AES_256_GCM_SHA384:..." */
    int server_pref;                /* 1: the server's suite order, 0: the client's (TLS <= 1.2) */
    const char *groups;             /* "x25519:secp256r1" */
    const char *sigalgs;            /* "rsa_pss_rsae_sha256:..." */
    const char *client_sigalgs;     /* CertificateRequest's schemes */
    const char *client_ca;          /* PEM file whose subjects CertificateRequest names */
    enum tf_replay_verify verify;
    long send_frag;                 /* 0: OpenSSL's default (16384) */
    long dh_bits;                   /* 0: sized to the key (OpenSSL's auto) */
    long seclevel;                  /* -1: OpenSSL's default */
    int no_ems, no_etm, no_ticket;
    const char *alpn;               /* the protocol chosen when the client offers it */
    /* TLS 1.3's own facts, where they differ from the lists above (which then hold
     * TLS <= 1.2's): applied per connection when the client will get TLS 1.3. */
    const char *groups13;
    const char *sigalgs13;
    int server_pref13;              /* TLS 1.3's suite order; -1: as server_pref */
    int client_groups12;            /* TLS <= 1.2: groups and schemes in the client's order */
    enum tf_replay_proof proof;
    /* DTLS 1.2 over UDP (dtls.c): --dtls; the versions above are then TLS 1.2's twin */
    int dtls;
    long cookie_len;                /* HelloVerifyRequest cookie length (1..255; 0: 20) */
    long mtu;                       /* largest datagram sent (0: OpenSSL's default) */
    const char *psk_identity;       /* TLS 1.2 PSK: the one identity accepted ... */
    long psk_key_fd;                /* ... and the inherited fd its key is read from (-1 none) */
} tf_replay_opts;

/*
 * Builds the SSL_CTX for o.  Every recorded item OpenSSL lacks is left out and
 * printed as a "differs:" line on stdout.  NULL (after one line on stderr)
 * when nothing usable is left (no suite, no certificate).
 */
SSL_CTX *tf_replay_context(const tf_replay_opts *o);

/*
 * Serves one accepted connection: handshake, then the proof responder.
 * Returns 0 when the session ended cleanly, 1 otherwise (the child's status).
 */
int tf_replay_serve(SSL_CTX *ctx, int fd, enum tf_replay_proof proof);

/* The handshake and the proof responder on an SSL whose BIO is set; closes fd. */
int tf_replay_serve_ssl(SSL *ssl, int fd, enum tf_replay_proof proof);

/* ---- DTLS (dtls.c) ---- */

/*
 * The DTLS parts of ctx: the cookie callbacks (a cookie of o->cookie_len bytes,
 * an HMAC of the client's address under a key made at start-up) and, with
 * o->psk_identity, the PSK callback and the key read from o->psk_key_fd.
 * 0, or -1 after one line on stderr.
 */
int tf_replay_dtls_setup(SSL_CTX *ctx, const tf_replay_opts *o);

/* A non-blocking UDP socket on 127.0.0.1:port (SO_REUSEPORT: each session's
   connected socket shares the port); -1 after one line on stderr. */
int tf_replay_udp_listen(long port, unsigned *bound);

/*
 * One round of DTLSv1_listen on lfd: an SSL (and the client in peer) once a
 * ClientHello came back with a valid cookie, else NULL (a HelloVerifyRequest
 * was sent, or nothing was waiting).
 */
SSL *tf_replay_dtls_listen(SSL_CTX *ctx, int lfd, BIO_ADDR *peer);

/* In the session's child: a socket on the port connected to peer, then
   tf_replay_serve_ssl.  Returns the child's status. */
int tf_replay_dtls_session(SSL *ssl, unsigned port, const BIO_ADDR *peer, long mtu,
                           enum tf_replay_proof proof);

#endif
