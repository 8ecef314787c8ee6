/*
 * errors.h -- the one error convention of tlsfit's C tools: the prober
 * (tool/probe), the verify client (tool/verify), the measure firmware
 * (tool/firmware) and the replica server (tool/replay).
 *
 * Every failure a tool reports is one numbered error of TF_ERRORS below:
 *
 *   name     the identifier itself, and the string a tool prints for it
 *            (TF_ERROR_NAME(TLSFIT_NO_RNG) is "TLSFIT_NO_RNG", a literal at
 *            compile time: the firmware pays no table for it).  A name seen
 *            in a tool's output is found here by grep.
 *   number   unique across the tools; stable: never renumber, only append.
 *   exit     the process exit status when the error ends the tool
 *            (TF_ERROR_EXIT(id), a compile-time constant).  The statuses are
 *            the ones the Python driver has always seen: the prober's exit
 *            status is the number itself (2 and 10-29 are the prober's,
 *            tool/tlsfit/core/errors.py); the verify client and the firmware
 *            exit TF_ERR_FAILED (1) whatever step failed and name the error
 *            in their result line; a few older statuses below 10 stay each
 *            tool's own (the firmware's 2 and 3, the replica's 3 and 4).
 *   tools    which tools report it (TF_TOOL_*): `tlsfit-probe --list-errors`
 *            prints the prober's rows.
 *   comment  one sentence: what went wrong.
 *
 * Numbers 24-29 are kept for the prober, 30-59 for the driver's own exit
 * codes (tool/tlsfit/core/errors.py); the numbers from 60 on are never exit
 * statuses themselves (TF_ERROR_EXIT maps them), so the driver never sees them.
 *
 * Result lines (the verify client's JSON, the firmware's TLSFIT-RESULT) also
 * carry names that are not tlsfit's own: mbedTLS and PSA error names (from
 * the code), errno names (ECONNREFUSED, ...) and, from the driver, signal
 * names.  A tlsfit name always comes from this table.
 *
 * errors.c holds the table for the host tools (tf_err_table); the firmware
 * includes this header only (names and exit statuses are constants).
 */
#ifndef TF_ERRORS_H
#define TF_ERRORS_H

#include <stddef.h>

/* Which tools report an error (the tools column). */
#define TF_TOOL_PROBE 1
#define TF_TOOL_VERIFY 2
#define TF_TOOL_FIRMWARE 4
#define TF_TOOL_REPLAY 8
#define TF_TOOL_ALL 15
#define TF_TOOL_CLIENTS (TF_TOOL_VERIFY | TF_TOOL_FIRMWARE)

/* X(name, number, exit, tools, comment) */
#define TF_ERRORS(X) \
    X(TF_OK, 0, 0, TF_TOOL_ALL, "success: the profile was written, the session verified or measured, the replica stopped by a signal") \
    X(TF_ERR_FAILED, 1, 1, TF_TOOL_CLIENTS, "the handshake or a step before it failed; the result line names the step and the error") \
    X(TF_ERR_USAGE, 2, 2, TF_TOOL_PROBE | TF_TOOL_VERIFY | TF_TOOL_REPLAY, "bad command line") \
    X(TF_ERR_RESOLVE, 10, 10, TF_TOOL_PROBE, "the host name did not resolve") \
    X(TF_ERR_REFUSED, 11, 11, TF_TOOL_PROBE, "the TCP connection was refused (nothing listens on that port)") \
    X(TF_ERR_TIMEOUT, 12, 12, TF_TOOL_PROBE, "the peer stayed silent past --timeout") \
    X(TF_ERR_NOT_TLS, 13, 13, TF_TOOL_PROBE, "the peer answered with something that is not TLS (HTTP, SSH banner, ...)") \
    X(TF_ERR_CLOSED, 14, 14, TF_TOOL_PROBE, "the peer closed the connection in the middle of a handshake") \
    X(TF_ERR_MALFORMED, 15, 15, TF_TOOL_PROBE, "the peer sent malformed TLS (bad record, lying length field, truncated message)") \
    X(TF_ERR_NO_VERSION, 16, 16, TF_TOOL_PROBE, "the peer speaks TLS but accepted none of TLS 1.0 to 1.3 with any suite offered") \
    X(TF_ERR_CONNECT, 17, 17, TF_TOOL_PROBE, "the connection failed (host unreachable, reset, ...)") \
    X(TF_ERR_OUTPUT, 18, 18, TF_TOOL_PROBE, "the profile could not be written") \
    X(TF_ERR_NOMEM, 19, 19, TF_TOOL_PROBE, "out of memory") \
    X(TF_ERR_CA_FILE, 20, 20, TF_TOOL_PROBE, "a --ca file could not be read or holds no certificate") \
    X(TF_ERR_CRYPTO, 21, 21, TF_TOOL_PROBE, "the TLS 1.3 key exchange or record decryption failed") \
    X(TF_ERR_INTERNAL, 22, 22, TF_TOOL_PROBE, "internal error in the prober (please report it)") \
    X(TF_ERR_SNI, 23, 23, TF_TOOL_PROBE, "the server refused the hello for its server name (unrecognized_name): pass --sni NAME") \
    X(TF_ERR_PSK_KEY, 24, 24, TF_TOOL_PROBE, "the pre-shared key given on --psk-key-fd could not be read, is empty or is over 64 bytes") \
    X(TF_ERR_PSK_REFUSED, 25, 25, TF_TOOL_PROBE, "the server completed no PSK handshake, TLS 1.2 or 1.3, with the identity and key given (a wrong key or identity, or no PSK at all)") \
    X(TF_ERR_UDP_UNREACHABLE, 26, 26, TF_TOOL_PROBE, "the UDP port is unreachable (ICMP port unreachable: nothing listens there for DTLS)") \
    X(TF_ERR_DTLS_COOKIE, 27, 27, TF_TOOL_PROBE, "the DTLS server sent a HelloVerifyRequest, then stayed silent past --timeout when the hello came back with its cookie") \
    X(TF_ERR_DTLS_SILENT, 28, 28, TF_TOOL_PROBE, "no datagram answered the DTLS ClientHello or its retransmissions within --timeout (no DTLS server on that UDP port, or it drops the probe)") \
    X(TF_ERR_UART_TIMEOUT, 60, 2, TF_TOOL_FIRMWARE, "nothing arrived on the UART in time") \
    X(TF_ERR_FAULT, 61, 3, TF_TOOL_FIRMWARE, "a CPU fault or an unexpected exception") \
    X(TF_ERR_LISTEN, 62, 3, TF_TOOL_REPLAY, "the replica cannot listen on 127.0.0.1 (the port is taken?)") \
    X(TF_ERR_TLS_SETUP, 63, 4, TF_TOOL_REPLAY, "OpenSSL cannot serve what the replica was given (no suite, no certificate)") \
    X(TLSFIT_NO_RNG, 70, 1, TF_TOOL_CLIENTS, "the configuration has no random generator for TLS, or HMAC_DRBG has no hash") \
    X(TLSFIT_NO_ANCHOR, 71, 1, TF_TOOL_FIRMWARE, "no trust anchor was given to load") \
    X(TLSFIT_NO_PK_PARSE, 72, 1, TF_TOOL_CLIENTS, "a device key was given but the configuration cannot parse keys (no MBEDTLS_PK_PARSE_C)") \
    X(TLSFIT_VERSION_NOT_ENABLED, 73, 1, TF_TOOL_VERIFY, "--min-version/--max-version asks for a TLS version the configuration does not have") \
    X(TLSFIT_PROOF_TIMEOUT, 74, 1, TF_TOOL_VERIFY, "no reply to the proof after the handshake within its wait") \
    X(TLSFIT_PROOF_MISMATCH, 75, 1, TF_TOOL_VERIFY, "the server's reply to the proof is not what the proof expects") \
    X(TLSFIT_PROOF_CLOSED, 76, 1, TF_TOOL_VERIFY, "the server closed the connection after the handshake without an alert") \
    X(NO_CERTIFICATE, 77, 1, TF_TOOL_VERIFY, "a --ca or --client-cert file holds no certificate (PEM or DER)") \
    X(NO_PRIVATE_KEY, 78, 1, TF_TOOL_VERIFY, "the --client-key file holds no private key (PEM or DER)") \
    X(TLSFIT_RESUME_REFUSED, 79, 1, TF_TOOL_CLIENTS, "the server did not resume the saved session: the second connection ran a full handshake") \
    X(TLSFIT_RESUME_NO_SESSION, 80, 1, TF_TOOL_CLIENTS, "the server gave nothing to resume with: no session ticket and no session ID after the full handshake") \
    X(TLSFIT_PSK_KEY, 81, 1, TF_TOOL_CLIENTS, "the pre-shared key could not be read (no bytes, or over MBEDTLS_PSK_MAX_LEN)") \
    X(TLSFIT_NO_PSK, 82, 1, TF_TOOL_CLIENTS, "a pre-shared key was given but the configuration has no PSK key exchange") \
    X(TLSFIT_DGRAM_FRAME, 83, 1, TF_TOOL_FIRMWARE, "a datagram frame from the relay was cut short or empty: the UART lost the framing of tool/firmware/dgram.h") \
    X(TLSFIT_DTLS_SILENT, 84, 1, TF_TOOL_FIRMWARE, "the DTLS server sent no datagram before the firmware's ClientHello retransmissions ran out") \
    X(TLSFIT_UDP_UNREACHABLE, 85, 1, TF_TOOL_VERIFY, "DTLS: the server's UDP port is unreachable (ICMP port unreachable: nothing listens there)")

#define TF_ERROR_ENUM_(name, number, exit, tools, comment) name = number,
#define TF_ERROR_EXIT_ENUM_(name, number, exit, tools, comment) name##_EXIT_ = exit,

/* The numbers (TF_ERR_TIMEOUT, TLSFIT_NO_RNG, ...). */
enum tf_error { TF_ERRORS(TF_ERROR_ENUM_) };
/* Their exit statuses, for TF_ERROR_EXIT. */
enum tf_error_exit { TF_ERRORS(TF_ERROR_EXIT_ENUM_) };

/* The name of error `id` as a string literal (id must be one of the table's). */
#define TF_ERROR_NAME(id) (sizeof(id) ? #id : "")
/* The exit status of error `id`, a constant. */
#define TF_ERROR_EXIT(id) ((int) id##_EXIT_)

typedef struct {
    int code;           /* the number */
    const char *name;
    int exit;
    int tools;          /* TF_TOOL_* */
    const char *comment;
} tf_errinfo;

/* Returns the table of all errors in number order, ended by an entry with name
   NULL (errors.c: host tools only). */
const tf_errinfo *tf_err_table(void);

/* Name of error `code` ("TF_ERR_TIMEOUT"), or "TF_ERR_UNKNOWN". */
const char *tf_err_name(int code);

/* One-sentence description of `code`. */
const char *tf_err_comment(int code);

/* Parses a decimal command-line value in [lo, hi] into *out; 0, or -1 (the
   caller reports TF_ERR_USAGE). */
int tf_parse_long(const char *text, long lo, long hi, long *out);

#endif
