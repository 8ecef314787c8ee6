"""The driver's exit codes and the exception that carries them.

Codes 2 and 10-29 belong to the C prober (tool/errors/errors.h); `tlsfit probe`
passes the prober's code through unchanged.  The driver's own codes live in
DRIVER_CODES below -- the one table that `tlsfit errors` prints and every
module raises from.  Codes are stable: never renumber, only append.

New codes here, then `./tlsfit regenerate exit-codes`: docs/exit-codes.md is
rendered from DRIVER_CODES and the prober's table, and tests/test_generated.py
fails while the page is stale.  The driver's own codes are 30-128 (129, 130 and
143 are signals: 128 + SIGHUP, SIGINT, SIGTERM).
"""

OK = 0
INTERNAL = 1
USAGE = 2
BUILD = 30
SETUP = 31
PROFILE = 32
SERVERS = 33
TESTS = 34
FILE = 35
CONFIG = 36
VERIFY = 37
REFUSED = 38
RULES = 39
XBUILD = 40
TARGET = 41
FIT = 42
DEVICE = 43
IDENTITY = 44
KILLED = 45
DEADLINE = 46
REGRESSION = 47
REPLAY = 48
PLATFORM = 49
ANCHOR = 50
STALE = 51
GENERATOR = 52
PLATFORM_LINE = 53
RESUME = 54
NOT_RESUMED = 55
MBEDTLS4_MISSING = 57
MBEDTLS_ARCHIVE = 58
MBED4_OUTPUT = 59
PSK_KEY = 62
PSK_PROFILE = 63
DTLS_ON_TARGET = 64
DTLS_SILENT = 60
DTLS_SERVER_STOPPED = 61
HANGUP = 129
INTERRUPTED = 130
TERMINATED = 143

# (code, name, comment) -- printed by `tlsfit errors` after the prober's table.
DRIVER_CODES = (
    (OK, "OK", "success"),
    (INTERNAL, "TLSFIT_INTERNAL", "a bug in the driver (a traceback is printed; please report it)"),
    (USAGE, "TLSFIT_USAGE", "bad command line (same code as the prober's TF_ERR_USAGE)"),
    (BUILD, "TLSFIT_BUILD", "building the prober with cmake failed; the message names the build log"),
    (SETUP, "TLSFIT_SETUP", "set-up failed: tool/setup.sh failed or no usable mbedTLS source tree"),
    (PROFILE, "TLSFIT_PROFILE", "a profile is not JSON or does not match schema v1 (docs/profile-schema.md)"),
    (SERVERS, "TLSFIT_SERVERS", "the demo's test PKI or reference server could not be created or started"),
    (TESTS, "TLSFIT_TESTS", "`tlsfit test`: the C unit tests or the pytest suite failed"),
    (FILE, "TLSFIT_FILE", "a file of the driver could not be read or written (state dir, --save)"),
    (CONFIG, "TLSFIT_CONFIG", "`tlsfit verify`: mbedTLS rejects the configuration header (check_config.h) or cannot be built with it"),
    (VERIFY, "TLSFIT_VERIFY", "`tlsfit verify`: the verified handshake with the configuration failed"),
    (REFUSED, "TLSFIT_REFUSED", "`tlsfit gen`/`fit`: mbedTLS (the chosen line, under the chosen policy) cannot talk to this server; the message names what is missing"),
    (RULES, "TLSFIT_RULES", "`tlsfit gen`: the rules data file or a template is invalid (a bug in tlsfit's data; the message names the entry)"),
    (XBUILD, "TLSFIT_XBUILD", "`tlsfit measure`: cross-building mbedTLS or the firmware for the target failed; the message names the log"),
    (TARGET, "TLSFIT_TARGET", "`tlsfit measure`: the handshake on the emulated target failed, faulted or timed out"),
    (FIT, "TLSFIT_FIT", "`tlsfit fit`: no candidate configuration completed a verified handshake on the target"),
    (DEVICE, "TLSFIT_DEVICE", "`tlsfit fit --device`: the device file is not TOML or a field is wrong; the message names the file and the field (server[N] counts from 1)"),
    (IDENTITY, "TLSFIT_IDENTITY", "--client-cert/--client-key: the device certificate or key cannot be read, is not a certificate or an unencrypted private key, is of a type mbedTLS cannot sign with, or the key is not the certificate's; the message names the file"),
    (KILLED, "TLSFIT_KILLED", "a child tlsfit runs (compiler, QEMU, the verify client, ...) was killed by a signal tlsfit did not send; the command stops (no verdict on the configuration); the message names the child and the signal"),
    (DEADLINE, "TLSFIT_DEADLINE", "`tlsfit probe`: the whole probe did not finish within --deadline SEC (default 120 s, more with --delay); the prober was stopped and no profile was written"),
    (REGRESSION, "TLSFIT_REGRESSION", "`tlsfit bench --check`/`tlsfit size --diff`: a figure grew beyond --tolerance or a cell that verified in the baseline fails; `tlsfit fit --max-rom/--max-heap`: the fitted header is over budget; the table names profile, target, figure or module and by how much"),
    (REPLAY, "TLSFIT_REPLAY", "`tlsfit replay` (and fit/verify/measure --profile without a server): the profile cannot be replicated at all (no version, no chain, a leaf key or every suite the replica cannot serve) or the replica did not start; the message says why"),
    (PLATFORM, "TLSFIT_PLATFORM", "`tlsfit gen`/`fit --for`: the platform output cannot be written as asked (two files need -o DIR, --port-lines without --for rt-thread or unreadable); the message says what to give"),
    (ANCHOR, "TLSFIT_ANCHOR", "`tlsfit gen`/`fit --anchor CERT`: CERT cannot be read, is not one certificate, or is not a CA certificate on the path from the server's leaf to its anchor (off the path, the leaf itself, another certificate with that subject); the message names what was found and what to give"),
    (STALE, "TLSFIT_STALE", "`tlsfit regenerate --check`: a generated file is not what its generator makes now, or a measured table no longer covers its inputs; the message lists each file and the command that regenerates it"),
    (GENERATOR, "TLSFIT_GENERATOR", "`tlsfit regenerate`: a generator failed (a bench script exited non-zero, or a code table is outside its range); the message names it"),
    (PLATFORM_LINE, "TLSFIT_PLATFORM_LINE", "`tlsfit gen`/`fit --for esp-idf`: the header's mbedTLS line is not the one the checked platform releases ship (ESP-IDF v5.x: 3.6; v6.x: 4.x, --mbedtls 4.0); the message names the mismatch and the --mbedtls to give"),
    (RESUME, "TLSFIT_RESUME", "`tlsfit gen --resume`: the profile cannot tell how the server resumes sessions (it predates the probe's resumption step, or the step could not find out for the version the header negotiates); the message names what is missing: re-probe the server, or drop --resume"),
    (NOT_RESUMED, "TLSFIT_NOT_RESUMED", "`tlsfit verify`/`measure`/`fit --resume`: the server did not resume the saved session (the second connection ran a full handshake) or gave nothing to resume with (no session ticket, no session ID); the message says which"),
    (MBEDTLS4_MISSING, "TLSFIT_MBEDTLS4_MISSING", "--mbedtls 4.0: the set-up cache holds no mbedTLS 4.x tree; the message names the command that unpacks one (./tlsfit setup --mbedtls-archive FILE)"),
    (MBEDTLS_ARCHIVE, "TLSFIT_MBEDTLS_ARCHIVE", "`tlsfit setup --mbedtls-archive FILE`: FILE cannot be read or unpacked, or is not an mbedTLS 4.x release (no include/mbedtls/build_info.h with a 4.x version, or no tf-psa-crypto/); the message names the file and what is missing"),
    (MBED4_OUTPUT, "TLSFIT_MBED4_OUTPUT", "`tlsfit gen --mbedtls 4.0`: an output tlsfit does not make for the Mbed TLS 4.x line (--for zephyr/zephyr-cfg-file: no coherent Zephyr 4.x reference tree; --for rt-thread: no checked 4.x port; the same for `tlsfit fit --mbedtls 4.0 --for`, refused before anything is probed); the message names it and what to give instead"),
    (PSK_KEY, "TLSFIT_PSK_KEY", "--psk-key-file FILE cannot be read, is empty or holds more than 64 bytes of key, or --psk-identity and --psk-key-file were not given together (or the identity is empty or over 128 bytes); the message names the file"),
    (PSK_PROFILE, "TLSFIT_PSK_PROFILE", "`tlsfit gen`/`fit` with --psk-identity: the profile holds no PSK facts for that identity (probe with --psk-identity and --psk-key-file) or names another identity"),
    (DTLS_ON_TARGET, "TLSFIT_DTLS_ON_TARGET", "`tlsfit measure`/`fit` with a DTLS header or profile and --resume (or a header from gen --resume): the firmware's datagram relay carries one DTLS association and a resuming second one is not measured; measure or fit without --resume"),
    (DTLS_SILENT, "TLSFIT_DTLS_SILENT", "`tlsfit measure` over DTLS: the server sent no datagram at all before the firmware's ClientHello retransmissions (1+2+4+8 s of the target's time) or --timeout ran out: nothing listens on that UDP port (ICMP port unreachable), or the server drops the ClientHello"),
    (DTLS_SERVER_STOPPED, "TLSFIT_DTLS_SERVER_STOPPED", "`tlsfit fit` over DTLS: a server that answered earlier sessions of the fit sent no datagram at all in answer to a later one: it stopped serving (a server that serves one peer at a time, such as gnutls-serv --udp, stays on a client that left without close_notify); restart the server and fit again (fit/dgramwatch.py)"),
    (HANGUP, "TLSFIT_HANGUP", "stopped by SIGHUP (as by Ctrl-C: children stopped, nothing half-written)"),
    (INTERRUPTED, "TLSFIT_INTERRUPTED", "interrupted (Ctrl-C, SIGINT)"),
    (TERMINATED, "TLSFIT_TERMINATED", "stopped by SIGTERM (as by Ctrl-C: children stopped, nothing half-written)"),
)


class TlsfitError(Exception):
    """An expected failure: main() prints `tlsfit: MESSAGE` and exits with CODE.

    quiet=True means the message was already shown (e.g. the prober printed its
    own one-line error), so main() only exits with the code.
    """

    def __init__(self, code, message, quiet=False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.quiet = quiet

    def __str__(self):
        return self.message
