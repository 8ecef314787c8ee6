/*
 * report.h -- the one JSON line the client prints on stdout (the Python
 * driver, tool/tlsfit, parses it; keys and their order are part of its
 * contract):
 *
 *   {"ok": true, "version": "TLSv1.3", "ciphersuite": "TLS_AES_128_GCM_SHA256",
 *    "ciphersuite_id": "0x1301", "group": "x25519", "group_from": "key_share",
 *    "verify_flags": 0, "verify_flag_names": [], "verify_info": null,
 *    "largest_record": N, <proof>, <common>}
 *   {"ok": false, "step": "handshake", "error": "MBEDTLS_ERR_...", "code": "-0x7200",
 *    "message": "...", "verify_flags": N, "verify_flag_names": [...],
 *    "verify_info": "...", ["hint": "...",] and, once the handshake started,
 *    "largest_record": N, "certificate_requested": bool (a TLS 1.2
 *    CertificateRequest was seen; null in TLS 1.3, where it is encrypted), "alert": "name (N)", "server_hello": {...}
 *    [, "os_error": "..."], <proof>, <common>}
 *   ("step": "proof" when the handshake completed but the proof did not show
 *   the server's acceptance; then "alert" is the alert it sent after the
 *   handshake, and "error" TLSFIT_PROOF_TIMEOUT / _MISMATCH / _CLOSED when
 *   no mbedTLS error names the failure.)
 *
 * <proof>: "proof": "mqtt-connack" | "http" | "no-alert" | "send-expect",
 * "proof_result": null before the proof ran, else {"ok", "outcome"
 * (tf_proof_outcome_name), "reply_hex", "mqtt_return_code" (or null),
 * "http_status" (the status line, or null), "server_flight" (a post-handshake
 * record that was not an alert arrived), "sent_bytes", "waited_ms", "alert"
 * ("name (N)" or null)}.
 *
 * <common>: "mbedtls", "in_content_len", "out_content_len", "host", "port",
 * "sni", "ca_loaded", "ca_skipped", "rng", "client_cert" (the --client-cert
 * path, or null).  Written with the shared JSON
 * writer (tool/codec/json.h) in its one-line style.
 */
#ifndef TF_VERIFY_REPORT_H
#define TF_VERIFY_REPORT_H

#include "args.h"
#include "fail.h"
#include "session.h"

#define EXIT_VERIFIED TF_ERROR_EXIT(TF_OK)
#define EXIT_FAILED TF_ERROR_EXIT(TF_ERR_FAILED)

/* Prints the success line of a verified handshake; returns EXIT_VERIFIED. */
int tf_report_ok(const struct tf_opts *o, const struct tf_session *s);

/* Prints the failure line for *f; `code` != 0 names an mbedTLS error (then
   f->error is not used).  Returns EXIT_FAILED. */
int tf_report_fail(const struct tf_opts *o, const struct tf_session *s,
                   const struct tf_fail *f, int code);

#endif
