"""DTLS reference servers on 127.0.0.1 over UDP, for the tests and the demo (each a
context manager yielding a started refservers.RefServer, stopped after the block):

    openssl_dtls_server(chain, *args, log_dir)          OpenSSL's s_server -dtls1_2
    openssl_dtls_sessions_server(chain, *args, log_dir) the same, restarted after each session
    mbedtls_dtls_server(binary, chain, *args, log_dir)  mbedTLS's ssl_server2 dtls=1
    coap_dtls_server(chain, log_dir)                    libcoap's coap-server-openssl
    coap_psk_server(key, log_dir)                       the same with DTLS-PSK, no certificate
    openssl_dtls_psk_server(identity, key, *args, log_dir)  s_server -dtls1_2 -psk -nocert
    gnutls_dtls_server(chain, priority, log_dir, psk=(identity, key), mtu=N)
                                                        GnuTLS's gnutls-serv --udp (echo)

A UDP server is ready once its socket is bound: /proc/net/udp lists the port (a UDP
"connect" proves nothing).  Ports come from the kernel (free_udp_port).
"""
import contextlib
import socket
import subprocess
import time
from pathlib import Path

from .refservers import LOCALHOST, RefServer, serving

# The PSK servers take the key on their command line: throwaway lab servers with
# throwaway keys (as pskservers.py's).

# coap-server listens for CoAP on -p PORT and for CoAP over DTLS on PORT + 1 (its --help).
COAP_DTLS_PORT_OFFSET = 1
# libcoap's binaries are packaged per TLS library (libcoap3-bin): the OpenSSL one.
COAP_SERVER = "coap-server-openssl"
_POLL_S = 0.02


def _udp_free(port):
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((LOCALHOST, port))
        return True
    except OSError:
        return False


def free_udp_port(pair=False):
    """A UDP port on 127.0.0.1 that was free a moment ago (the kernel picks it); with
    pair, one whose successor was free too (coap-server's DTLS port)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((LOCALHOST, 0))
            port = s.getsockname()[1]
        if not pair:
            return port
        if port < 65535 and _udp_free(port + 1):
            return port
    raise OSError("no free pair of UDP ports on 127.0.0.1")


def udp_bound(port):
    """True when some socket is bound to UDP port `port` (IPv4 or IPv6)."""
    want = f":{port:04X}"
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 1 and fields[1].endswith(want):
                    return True
    return False


class UdpServer(RefServer):
    """A RefServer whose readiness is a bound UDP port (`port`: the DTLS port)."""

    def wait_ready(self, deadline):
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if udp_bound(self.port):
                return True
            time.sleep(_POLL_S)
        return False


@contextlib.contextmanager
def _udp_serving(make, pair=False):
    with serving(lambda _tcp_port: make(free_udp_port(pair))) as srv:
        yield srv


class _OpenSslDtlsSession(UdpServer):
    # s_server -dtls1_2 with /dev/null as its stdin ends every session right after the
    # handshake (-quiet, which implies -ign_eof, notwithstanding); with an open pipe that
    # never carries a byte it keeps the session -- but then exits at the first handshake
    # that fails (a probe ends dozens of them on purpose).
    STDIN = subprocess.PIPE


@contextlib.contextmanager
def openssl_dtls_server(chain, *args, log_dir, keep_sessions=False, limit=600):
    """`openssl s_server -dtls1_2 -listen` (cookie exchange on) with chain's leaf and
    intermediate.  It serves a probe as it is; keep_sessions keeps each session open after
    the handshake, for verify's proof, and serves only until a handshake fails
    (_OpenSslDtlsSession; s_server refuses -www over DTLS)."""
    def make(port):
        argv = ["openssl", "s_server", "-dtls1_2", "-listen", "-accept", f"{LOCALHOST}:{port}",
                "-cert", str(chain.leaf.pem), "-key", str(chain.leaf.key),
                "-cert_chain", str(chain.inter.pem), "-quiet", *map(str, args)]
        kind = _OpenSslDtlsSession if keep_sessions else UdpServer
        return kind("openssl s_server -dtls1_2", argv, port,
                         Path(log_dir) / f"s_server-dtls-{port}.log", limit)
    with _udp_serving(make) as srv:
        yield srv


# Measured (bench/dtls_bench.py's openssl row, OpenSSL 3.0 s_server -dtls1_2 -listen with
# an open empty stdin, 2026-12-07): after its first session ends with close_notify it
# prints DONE and answers no other peer, though it keeps running -- a fit's second session
# heard nothing (exit 61).  So the server that serves a fit is s_server with -naccept 1
# (it exits after one session, 0 also after a failed handshake) restarted by a shell loop
# on the same port; a ClientHello that comes between two of them is retransmitted by the
# client's DTLS timer.  The loop ends when s_server exits with an error (it could not bind
# its port, or stop() killed it), so it never spins.  What it does not cure: a client that
# leaves in the middle of a session without close_notify keeps s_server on that session
# (`ss -uanp`: its socket ESTAB to the departed client's port), like gnutls-serv --udp
# (fit/dgramwatch.py), and the fit ends with exit 61 -- measured when the datagram relay
# dropped the firmware's close_notify (fixed: target/dgramrelay.FIRMWARE_DRAIN_S).
_RESTART_LOOP = 'while "$@"; do :; done'


@contextlib.contextmanager
def openssl_dtls_sessions_server(chain, *args, log_dir, limit=600):
    """openssl_dtls_server's s_server with keep_sessions, one session per process and a new
    process for the next (_RESTART_LOOP): it serves a fit's many sessions, each kept open
    for the proof.  Not a probe's: a probe's sessions end in the middle."""
    def make(port):
        argv = ["sh", "-c", _RESTART_LOOP, "s_server-loop", "openssl", "s_server",
                "-dtls1_2", "-listen", "-accept", f"{LOCALHOST}:{port}",
                "-cert", str(chain.leaf.pem), "-key", str(chain.leaf.key),
                "-cert_chain", str(chain.inter.pem), "-quiet", "-naccept", "1",
                *map(str, args)]
        return _OpenSslDtlsSession("openssl s_server -dtls1_2 (restarted)", argv, port,
                                   Path(log_dir) / f"s_server-dtls-loop-{port}.log", limit)
    with _udp_serving(make) as srv:
        yield srv


@contextlib.contextmanager
def mbedtls_dtls_server(binary, chain, *args, log_dir, limit=600):
    """mbedTLS's ssl_server2 with dtls=1 (cookie exchange on by default) and extra
    key=value args (cid=1 cid_val=HEX for a Connection ID)."""
    def make(port):
        argv = [str(binary), f"server_addr={LOCALHOST}", f"server_port={port}", "dtls=1",
                f"crt_file={chain.fullchain}", f"key_file={chain.leaf.key}", "auth_mode=none",
                *map(str, args)]
        return UdpServer("ssl_server2 dtls=1", argv, port,
                         Path(log_dir) / f"ssl_server2-dtls-{port}.log", limit)
    with _udp_serving(make) as srv:
        yield srv


@contextlib.contextmanager
def coap_dtls_server(chain, log_dir, limit=600):
    """libcoap's example server with chain's leaf certificate, CoAP over DTLS on the
    yielded server's port (coap-server's -p PORT + 1); no client certificate asked (-n)."""
    def make(port):
        argv = [COAP_SERVER, "-A", LOCALHOST, "-p", str(port), "-c", str(chain.fullchain),
                "-j", str(chain.leaf.key), "-n"]
        return UdpServer(COAP_SERVER, argv, port + COAP_DTLS_PORT_OFFSET,
                         Path(log_dir) / f"coap-server-{port}.log", limit)
    with _udp_serving(make, pair=True) as srv:
        yield srv


@contextlib.contextmanager
def coap_psk_server(key, log_dir, hint="CoAP", limit=600):
    """coap-server with DTLS-PSK only (-k KEY -h HINT, its --help): KEY is bytes passed as
    the command-line string (coap-server uses its bytes as the key), so printable only.
    It takes any identity (no -i file)."""
    text = key.decode("ascii")
    if not text.isprintable():
        raise ValueError("coap-server takes its key as a printable string")

    def make(port):
        argv = [COAP_SERVER, "-A", LOCALHOST, "-p", str(port), "-k", text, "-h", hint]
        return UdpServer(f"{COAP_SERVER} -k", argv, port + COAP_DTLS_PORT_OFFSET,
                         Path(log_dir) / f"coap-server-psk-{port}.log", limit)
    with _udp_serving(make, pair=True) as srv:
        yield srv


@contextlib.contextmanager
def openssl_dtls_psk_server(identity, key, *args, log_dir, limit=600):
    """`openssl s_server -dtls1_2 -listen -nocert` with the PSK (bytes) for identity (it
    serves a probe; its sessions end right after the handshake)."""
    def make(port):
        argv = ["openssl", "s_server", "-dtls1_2", "-listen", "-accept", f"{LOCALHOST}:{port}",
                "-nocert", "-psk", key.hex(), "-psk_identity", identity, "-quiet",
                *map(str, args)]
        return UdpServer("openssl s_server -dtls1_2 -psk", argv, port,
                         Path(log_dir) / f"s_server-dtls-psk-{port}.log", limit)
    with _udp_serving(make) as srv:
        yield srv


# gnutls-serv --udp is a DTLS echo server (GnuTLS 3.7 src/udp-serv.c): every session echoes
# what the client sends until the client closes it.  It serves ONE peer at a time, and
# between sessions takes only a ClientHello off its socket: any other datagram (an alert
# for a session already over) stays at the head of its queue and it serves no one again.
# It ends a handshake that fails without an alert.  While it serves one peer another
# peer's datagram stalls that session (it peeks it and reports a timeout), so two
# sessions at once wedge it: fit's sessions take turns (target/dgramturns.py).  Like TCP
# gnutls-serv it listens on every address of its port (refservers.py's module doc).
GNUTLS_DTLS_PRIORITY = "NORMAL:-VERS-ALL:+VERS-DTLS1.2"


@contextlib.contextmanager
def gnutls_dtls_server(chain=None, *, priority=GNUTLS_DTLS_PRIORITY, log_dir, psk=None,
                       mtu=None, limit=600):
    """`gnutls-serv --udp --echo` (cookie exchange on): chain's leaf and intermediate when
    chain is given, PSK (identity, key bytes) when psk is given (written to a
    --pskpasswd file "identity:hex" in log_dir), both when both; --mtu when mtu is given
    (GnuTLS's datagram size limit, so the Certificate message is fragmented below it)."""
    if chain is None and psk is None:
        raise ValueError("gnutls_dtls_server needs a chain, a psk or both")
    options = []
    if chain is not None:
        options += ["--x509certfile", str(chain.fullchain), "--x509keyfile", str(chain.leaf.key)]
    if psk is not None:
        identity, key = psk
        passwd = Path(log_dir) / f"gnutls-dtls-psk-{identity}.passwd"
        passwd.parent.mkdir(parents=True, exist_ok=True)
        passwd.write_text(f"{identity}:{key.hex()}\n")
        options += ["--pskpasswd", str(passwd)]
    if mtu is not None:
        options.append(f"--mtu={int(mtu)}")

    def make(port):
        argv = ["gnutls-serv", "--udp", "--echo", "--port", str(port), "--disable-client-cert",
                f"--priority={priority}", "--quiet", *options]
        return UdpServer("gnutls-serv --udp", argv, port,
                         Path(log_dir) / f"gnutls-serv-udp-{port}.log", limit)
    with _udp_serving(make) as srv:
        yield srv
