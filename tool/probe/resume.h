/*
 * resume.h -- whether and how a server resumes sessions, proven by resuming.
 *
 * Unlike the enumeration steps, which build their own hellos, this step runs
 * mbedTLS's own client (the prober's tree, stock configuration, peer not
 * authenticated: no application data is sent): a full handshake, then a
 * second connection that offers what the first one left.  A resumption
 * counts only when the server's ServerHello says it accepted it:
 *   TLS 1.2  the ServerHello echoes the non-empty session ID of the
 *            ClientHello (RFC 5246 7.4.1.3 for a cached session, RFC 5077
 *            3.4 for a ticket);
 *   TLS 1.3  the ServerHello carries pre_shared_key (RFC 8446 4.2.11),
 *            with a key_share (psk_dhe_ke) or without (psk_ke).
 */
#ifndef TF_RESUME_H
#define TF_RESUME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net.h"

struct tf_client_id;           /* clientid.h */

/* What one version's resumption step learned; -1 everywhere = not known. */
typedef struct {
    int session_id;          /* TLS 1.2: resumed by session ID (0/1) */
    int ticket;              /* TLS 1.2: issued a ticket (NewSessionTicket) and resumed with it (0/1) */
    int tickets;             /* TLS 1.3: NewSessionTickets received after one full handshake */
    long ticket_lifetime;    /* seconds the server said its (last) ticket lives */
    long ticket_len;         /* bytes of the largest ticket seen */
    int psk_dhe_ke;          /* TLS 1.3: resumed with a ticket and a fresh key exchange (0/1) */
    int psk_ke;              /* TLS 1.3: resumed with a ticket alone (0/1) */
    int connections;         /* connections the step opened */
    char why[200];           /* when something stayed unknown: the first reason */
} tf_resume_facts;

/*
 * Runs the step for `version` (0x0303 or 0x0304) against `t`, offering
 * `alpn` (a protocol_name_list, or NULL) in every hello and presenting `id`
 * (loaded, or NULL: none) when the server asks for a certificate.  Fills `out`;
 * returns 0, or the errors.h code of a failure that left everything unknown
 * (out->why says what happened).
 */
/* Sets every fact of `out` to unknown. */
static inline void tf_resume_unknown(tf_resume_facts *out)
{
    memset(out, 0, sizeof(*out));
    out->session_id = out->ticket = out->tickets = out->psk_dhe_ke = out->psk_ke = -1;
    out->ticket_lifetime = out->ticket_len = -1;
}

int tf_resume_probe(tf_target *t, uint16_t version, const uint8_t *alpn, size_t alpn_len,
                    struct tf_client_id *id, tf_resume_facts *out);

#endif
