/*
 * hello.h -- building the prober's own ClientHello.
 *
 * Because the prober builds its hellos byte by byte, it can offer any suite,
 * group or signature scheme in any order, including ones no TLS library on
 * this machine implements.  Which extensions go into a hello depends on the
 * version offered:
 *   all:      server_name (when sni != ""), supported_groups (when groups),
 *             ec_point_formats, renegotiation_info, max_fragment_length and
 *             record_size_limit (when asked), ALPN (when `alpn` is set)
 *   <= 1.2:   extended_master_secret, encrypt_then_mac, session_ticket
 *   >= 1.2:   signature_algorithms (when sigalgs)
 *   DTLS:     connection_id with an empty CID (when cid)
 *   1.3:      supported_versions [1.3], key_share (possibly empty),
 *             psk_key_exchange_modes, a 32-byte legacy_session_id
 */
#ifndef TF_HELLO_H
#define TF_HELLO_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint16_t version;               /* 0x0301 .. 0x0304 */
    const uint16_t *suites;
    size_t nsuites;
    const uint16_t *groups;
    size_t ngroups;
    const uint16_t *sigalgs;
    size_t nsigalgs;
    uint16_t key_share_group;       /* TLS 1.3: group of key_share, 0 = empty key_share */
    const uint8_t *key_share;
    size_t key_share_len;
    const char *sni;                /* NULL or "" = no server_name */
    uint8_t mfl;                    /* max_fragment_length code 1..4, 0 = not offered */
    uint16_t record_size_limit;     /* 0 = not offered */
    const uint8_t *alpn;            /* ALPN's protocol_name_list (length-prefixed names); NULL = no ALPN */
    size_t alpn_len;
    int cid;                        /* DTLS: offer connection_id (RFC 9146) with an empty CID of the client's own */
} tf_hello;

/* The list the alpn step offers when the user gave none: h2, http/1.1, mqtt, x-amzn-mqtt-ca. */
extern const uint8_t tf_alpn_default[];
extern const size_t tf_alpn_default_len;

/*
 * Parses "P1,P2,..." (--alpn) into ALPN's protocol_name_list: each name
 * 1..255 bytes of printable ASCII, at most `cap` bytes in all.  Returns 0, or
 * -1 for an empty name, a non-printable byte or a list over `cap`.
 */
int tf_alpn_list_parse(const char *csv, uint8_t *out, size_t cap, size_t *len);

/*
 * Writes the names of a protocol_name_list as "P1,P2" into out (always
 * terminated; cut at cap).
 */
void tf_alpn_list_text(const uint8_t *list, size_t len, char *out, size_t cap);

/*
 * Writes a complete handshake record holding the ClientHello into out.  The
 * handshake message itself starts at out + 5 (needed for the TLS 1.3
 * transcript).  Returns 0, or TF_ERR_INTERNAL when cap is too small.
 */
int tf_hello_build(const tf_hello *h, uint8_t *out, size_t cap, size_t *len);

#endif
