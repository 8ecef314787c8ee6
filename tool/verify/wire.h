/*
 * wire.h -- what the client learns by watching the server's bytes.
 *
 * mbedTLS has no public getter for the negotiated key-exchange group, so the
 * receive callback (net.c) hands every byte the server sends to
 * tf_wire_observe(), which follows the record framing of all of them (to
 * know the largest record) and the contents of the plaintext records before
 * the first ChangeCipherSpec or application-data record: the TLS 1.3
 * ServerHello / HelloRetryRequest (version, suite, key_share group), the TLS
 * 1.2 ServerHello and (EC)DHE ServerKeyExchange (named curve, signature
 * scheme), whether a TLS 1.2 CertificateRequest came, and alerts.
 *
 * Invariants of the observer's state (two nested byte-at-a-time framers, so
 * a header or body may arrive split across any number of recv() calls):
 *   record layer:    rhdr_len < 5 while a record header is being collected;
 *                    once it is complete, rleft payload bytes of a record of
 *                    type rtype remain (rhdr_len goes back to 0 at rleft 0).
 *   handshake layer: the same with hhdr_len < 4, hleft and htype, over the
 *                    payload of type-22 records while `active`.
 *   body / ske hold the first sizeof bytes of the current ServerHello /
 *   ServerKeyExchange; they are parsed when the message is complete, with a
 *   bounded cursor (a truncated copy parses as far as it goes).
 *   broken: a record type outside 20..23 was seen; nothing more is followed.
 */
#ifndef TF_VERIFY_WIRE_H
#define TF_VERIFY_WIRE_H

#include <stddef.h>

struct tf_wire {
    /* record layer */
    int active;             /* still in the plaintext part of the server's flight */
    int broken;             /* the bytes stopped looking like TLS records */
    unsigned long records;
    size_t largest_record;  /* largest record length field seen (payload bytes) */
    unsigned char rhdr[5];
    size_t rhdr_len;
    size_t rleft;
    int rtype;
    unsigned char alert[2];
    size_t alert_len;
    /* handshake layer (inside type-22 records) */
    unsigned char hhdr[4];
    size_t hhdr_len;
    size_t hleft;
    int htype;
    unsigned char body[4096];   /* ServerHello (truncated if larger) */
    size_t body_len;
    unsigned char ske[4096];    /* TLS 1.2 ServerKeyExchange (truncated if larger) */
    size_t ske_len;
    /* findings */
    int sh_seen;
    unsigned sh_version;        /* 0x0303, 0x0304 */
    unsigned sh_suite;
    int sh_group;               /* key_share group; -1 none */
    int ske_group;              /* ECDHE named curve; -1 none */
    int ske_sigalg;             /* its signature scheme; -1 none */
    int certreq_seen;           /* a TLS 1.2 CertificateRequest (plaintext) */
    int alert_seen;
    int alert_level, alert_desc;
};

/* Starts observing: nothing seen, groups and scheme -1. */
void tf_wire_init(struct tf_wire *w);

/* Follows the next n bytes the server sent. */
void tf_wire_observe(struct tf_wire *w, const unsigned char *p, size_t n);

#endif
