/*
 * dtls_conn.h -- the tf_conn operations over DTLS (record.c calls these when
 * c->dtls is set; see dtls.h).
 */
#ifndef TF_DTLS_CONN_H
#define TF_DTLS_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "dtls.h"
#include "record.h"

/*
 * Sends the ClientHello `rec` (a TLS handshake record as tf_hello_build
 * writes it) as a DTLS 1.2 record, and keeps it for the cookie exchange and
 * retransmissions.  0 or an errors.h code (c->detail set).
 */
int tf_dtls_send_hello(tf_conn *c, const uint8_t *rec, size_t len);

/*
 * Ends a connection whose handshake the server began (a ServerHello came, no
 * alert): a close_notify alert in epoch 0, so a server that serves one peer
 * at a time (OpenSSL's s_server, gnutls-serv --udp) drops the half-done
 * handshake now instead of at its own timeout.  Nothing after a
 * HelloVerifyRequest alone or an alert: gnutls-serv --udp, between sessions,
 * stops at any datagram that is not a ClientHello.  Best effort.
 */
void tf_dtls_close(tf_conn *c);

/*
 * tf_conn_handshake over DTLS: the next complete handshake message of the
 * server's flight, in TLS form (dtls.h).  A HelloVerifyRequest is answered
 * here (the hello goes again with the cookie) and not returned.  0,
 * TF_CONN_ALERT, or an errors.h code: TF_ERR_DTLS_SILENT when nothing ever
 * answered, TF_ERR_DTLS_COOKIE when the hello with the cookie went
 * unanswered, TF_ERR_UDP_UNREACHABLE on ICMP port unreachable.
 */
int tf_dtls_handshake(tf_conn *c, const uint8_t **msg, size_t *len);

#endif
