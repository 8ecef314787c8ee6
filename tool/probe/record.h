/*
 * record.h -- reading a server's records and handshake messages.
 *
 * tf_conn wraps one TCP connection.  tf_conn_record() reads one record;
 * tf_conn_handshake() returns the next complete handshake message,
 * reassembling messages split over records and splitting records that carry
 * several, and -- once tf_conn_protect() installed TLS 1.3 keys -- decrypting
 * protected records first.  Alerts surface as TF_CONN_ALERT, not errors.
 *
 * Everything the server sends is measured on the way (largest record body as
 * on the wire, largest plaintext, largest handshake message), because those
 * are the facts embedded buffer sizing needs.
 */
#ifndef TF_RECORD_H
#define TF_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "dtls.h"
#include "tls13.h"

/* Largest record body accepted: 2^14 + 2048 (RFC 5246 TLSCiphertext). */
#define TF_MAX_RECORD 18432
/* Largest handshake message accepted (a certificate chain over 256 KiB is
   treated as hostile). */
#define TF_MAX_HANDSHAKE (256u * 1024u)
/* Most records read on one connection: a server flight within TF_MAX_HANDSHAKE
   needs 4096 records only when every record carries 64 bytes; more is a peer
   trickling records (ChangeCipherSpec floods) to hold the probe. */
#define TF_MAX_RECORDS 4096
/* Most handshake messages returned on one connection: a server flight has at
   most a dozen; more is a peer looping on messages the prober skips. */
#define TF_MAX_MESSAGES 64
/* A probe connection ends TF_CONN_DEADLINE_FACTOR x the per-read timeout after it
   started, however the peer paces its records (session.c sets deadline_ms). */
#define TF_CONN_DEADLINE_FACTOR 2

enum { TF_CT_CCS = 20, TF_CT_ALERT = 21, TF_CT_HANDSHAKE = 22, TF_CT_APPDATA = 23 };

/* Outcome of a read besides the errors.h codes (which are all > 0 but < 100). */
#define TF_CONN_ALERT 100

typedef struct {
    int fd;
    int timeout_ms;        /* per read */
    long long deadline_ms; /* tf_now_ms() value the whole connection ends at; 0: none */

    /* current record */
    uint8_t hdr[5];
    uint8_t body[TF_MAX_RECORD];
    size_t body_len;
    uint8_t type;          /* content type (inner type once decrypted) */

    /* handshake reassembly: hs[0..hs_len) holds bytes of type-22 content not
       yet returned; the first hs_used bytes of it belong to the message returned
       by the previous tf_conn_handshake call and are dropped by the next. */
    uint8_t *hs;
    size_t hs_len, hs_cap, hs_used;

    tf_tls13 *prot;        /* non-NULL once handshake keys are installed */
    tf_dtls *dtls;         /* non-NULL: the connection is DTLS over UDP (dtls_conn.h does the reading) */

    /* facts */
    unsigned records;      /* records read */
    unsigned messages;     /* handshake messages returned */
    int saw_tls;           /* at least one well-formed record arrived */
    size_t max_record_len; /* largest record body, wire bytes */
    size_t max_plain_len;  /* largest (decrypted) record content */
    size_t max_hs_len;     /* largest handshake message incl. 4-byte header */
    uint8_t alert_level, alert_desc;

    char detail[160];      /* what went wrong, for the one-line error */
} tf_conn;

/* deadline_ms starts at 0 (no per-connection deadline); the caller may set it. */
void tf_conn_init(tf_conn *c, int fd, int timeout_ms);
void tf_conn_free(tf_conn *c); /* frees buffers and closes fd */

/* Reads one record (decrypting it if protected).  0, TF_CONN_ALERT, or an
   errors.h code with c->detail set: TF_ERR_TIMEOUT also when deadline_ms has
   passed, TF_ERR_MALFORMED after TF_MAX_RECORDS records. */
int tf_conn_record(tf_conn *c);

/*
 * Returns the next handshake message: *msg points at its 4-byte header, *len
 * is 4 + body length; valid until the next call.  ChangeCipherSpec records are
 * skipped.  0, TF_CONN_ALERT, or an errors.h code (TF_ERR_MALFORMED once
 * TF_MAX_MESSAGES messages were returned).
 */
int tf_conn_handshake(tf_conn *c, const uint8_t **msg, size_t *len);

/* Installs TLS 1.3 handshake keys: every later application_data record is
   decrypted.  Takes ownership of t. */
void tf_conn_protect(tf_conn *c, tf_tls13 *t);

/* Sends bytes on the connection (over DTLS: the ClientHello record, dtls_conn.h).  0 or an errors.h code. */
int tf_conn_send(tf_conn *c, const uint8_t *buf, size_t len);

/* Name of a TLS alert description ("handshake_failure"), or "unknown". */
const char *tf_alert_name(uint8_t desc);

#endif
