"""Reference servers that authenticate with a pre-shared key and send no certificate,
for the tests and demos of `--psk-identity` (its own module: refservers.py holds the
certificate servers).

    with openssl_psk_server(identity, key, log_dir=...) as srv:    # TLS 1.2 PSK + TLS 1.3
    with gnutls_psk_server(identity, key, log_dir=...) as srv:     # PSK, ECDHE-PSK, DHE-PSK

`openssl s_server -psk HEX -psk_identity ID -nocert` takes the key on its command line
(and its log's first line repeats it): these are throwaway lab servers with throwaway
keys.  gnutls-serv reads the key from a --pskpasswd file ("identity:hex" per line).
"""
import contextlib
from pathlib import Path

from .refservers import RefServer, SERVER_LIMIT, LOCALHOST, serving

# gnutls-serv: every PSK key exchange and TLS 1.3 (whose PSK modes need no kx entry).
GNUTLS_PSK_PRIORITY = "NORMAL:-KX-ALL:+PSK:+ECDHE-PSK:+DHE-PSK"


@contextlib.contextmanager
def openssl_psk_server(identity, key, *args, log_dir, limit=SERVER_LIMIT):
    """`openssl s_server -nocert` with the PSK (bytes) for identity, answering HTTP."""
    def make(port):
        argv = ["openssl", "s_server", "-accept", f"{LOCALHOST}:{port}", "-nocert",
                "-psk", key.hex(), "-psk_identity", identity, "-quiet", "-www",
                *map(str, args)]
        return RefServer("openssl s_server -psk", argv, port,
                         Path(log_dir) / f"openssl-psk-{port}.log", limit)
    with serving(make) as srv:
        yield srv


@contextlib.contextmanager
def gnutls_psk_server(identity, key, *, log_dir, priority=GNUTLS_PSK_PRIORITY,
                      limit=SERVER_LIMIT):
    """`gnutls-serv --pskpasswd FILE` without a certificate; FILE written to log_dir."""
    passwd = Path(log_dir) / f"gnutls-psk-{identity}.passwd"
    passwd.parent.mkdir(parents=True, exist_ok=True)
    passwd.write_text(f"{identity}:{key.hex()}\n")

    def make(port):
        argv = ["gnutls-serv", "--port", str(port), "--pskpasswd", str(passwd),
                f"--priority={priority}", "--quiet"]
        return RefServer("gnutls-serv --pskpasswd", argv, port,
                         Path(log_dir) / f"gnutls-psk-{port}.log", limit)
    with serving(make) as srv:
        yield srv
