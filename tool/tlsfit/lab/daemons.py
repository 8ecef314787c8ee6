"""Real server software from Debian, configured the way IoT back-ends are, on 127.0.0.1.

    with lighttpd(chain, log_dir=d) as srv:      # srv.hostport, srv.log(), srv.proof
        ...
    haproxy(chain, ...), stunnel(chain, connect=PORT, ...), apache(chain, ...)
    aws_iot_shaped(chain, client_ca=PEM, ...)   # drops a hello without ALPN x-amzn-mqtt-ca

Each writes its own configuration into log_dir (the packages' system configuration
and services are never used: tool/apt-ensure.sh installs them with services kept
from starting), listens on a free 127.0.0.1 port, serves the chain's leaf and
intermediate, and stops with the block.  `srv.proof` is the application proof its
protocol answers ("http" for the web servers; stunnel's depends on its back-end).
The profiles of issue 15's library and bench/real_servers.py stand on these.
"""
import contextlib
import os
import shutil
import subprocess
from pathlib import Path

from ..core.errors import SERVERS, TlsfitError
from .refservers import LOCALHOST, SERVER_LIMIT, RefServer, serving

APACHE_MODULES = Path("/usr/lib/apache2/modules")

# Mozilla's "intermediate" TLS settings (ssl-config.mozilla.org, version 5.7), the
# configuration most HTTPS back-ends deploy: TLS 1.2 + 1.3, ECDHE with AEAD only.
MOZILLA_INTERMEDIATE_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305")


class Daemon(RefServer):
    """A RefServer that also says which application proof its protocol answers."""

    def __init__(self, name, argv, port, log_path, proof, limit=SERVER_LIMIT):
        super().__init__(name, argv, port, log_path, limit)
        self.proof = proof


def _files(chain, d):
    """(leaf + intermediate PEM, leaf key, all three in one PEM) in d."""
    d.mkdir(parents=True, exist_ok=True)
    served = d / "served.pem"
    served.write_text("".join(c.pem.read_text() for c in chain.served))
    combined = d / "combined.pem"
    combined.write_text(served.read_text() + chain.leaf.key.read_text())
    return served, chain.leaf.key, combined


def _docroot(d):
    root = d / "www"
    root.mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_text("tlsfit test server\n")
    return root


def _need(exe):
    if not shutil.which(exe):
        raise TlsfitError(SERVERS, f"{exe} is not installed (bench/setup.sh installs the "
                                   "real servers)")


def lighttpd(chain, *, log_dir, tls="openssl", ciphers=MOZILLA_INTERMEDIATE_CIPHERS,
             min_version="TLSv1.2"):
    """lighttpd 1.4 with mod_openssl (Mozilla intermediate) or mod_mbedtls (tls=
    "mbedtls": mbedTLS's own defaults and cipher order); answers HTTP."""
    _need("lighttpd")
    d = Path(log_dir) / f"lighttpd-{tls}"
    served, key, _ = _files(chain, d)
    root = _docroot(d)
    module = Path("/usr/lib/lighttpd") / f"mod_{tls}.so"
    if not module.is_file():
        raise TlsfitError(SERVERS, f"{module} is missing: install lighttpd-mod-{tls} "
                                   "(bench/setup.sh does)")
    conf_cmd = (f'("MinProtocol" => "{min_version}", "CipherString" => "{ciphers}")'
                if tls == "openssl" else f'("MinProtocol" => "{min_version}")')

    def make(port):
        conf = d / f"lighttpd-{port}.conf"
        conf.write_text(f'''server.modules = ("mod_{tls}")
server.document-root = "{root}"
server.bind = "{LOCALHOST}"
server.port = {port}
server.errorlog = "{d / f"error-{port}.log"}"
ssl.engine = "enable"
ssl.pemfile = "{served}"
ssl.privkey = "{key}"
ssl.openssl.ssl-conf-cmd = {conf_cmd}
''')
        return Daemon(f"lighttpd ({tls})", ["lighttpd", "-D", "-f", str(conf)], port,
                      d / f"lighttpd-{port}.log", "http")
    return serving(make)


def haproxy(chain, *, log_dir, ciphers=MOZILLA_INTERMEDIATE_CIPHERS):
    """HAProxy 2.6 terminating TLS in front of nothing: it answers HTTP itself."""
    _need("haproxy")
    d = Path(log_dir) / "haproxy"
    _, _, combined = _files(chain, d)

    def make(port):
        conf = d / f"haproxy-{port}.cfg"
        conf.write_text(f'''global
  ssl-default-bind-ciphers {ciphers}
  ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets
defaults
  mode http
  timeout connect 5s
  timeout client 10s
  timeout server 10s
frontend tls
  bind {LOCALHOST}:{port} ssl crt {combined}
  http-request return status 200 content-type text/plain string "ok"
''')
        return Daemon("haproxy", ["haproxy", "-db", "-f", str(conf)], port,
                      d / f"haproxy-{port}.log", "http")
    return serving(make)


def stunnel(chain, *, log_dir, connect, proof="no-alert", options=()):
    """stunnel4 terminating TLS for a plain back-end on 127.0.0.1:connect (e.g. a
    broker's plain listener: MQTT over stunnel)."""
    _need("stunnel4")
    d = Path(log_dir) / "stunnel"
    served, key, _ = _files(chain, d)

    def make(port):
        conf = d / f"stunnel-{port}.conf"
        extra = "".join(f"{o}\n" for o in options)
        conf.write_text(f'''foreground = yes
pid =
output = {d / f"stunnel-{port}.out"}
[tls]
accept = {LOCALHOST}:{port}
connect = {LOCALHOST}:{connect}
cert = {served}
key = {key}
{extra}''')
        return Daemon("stunnel4", ["stunnel4", str(conf)], port, d / f"stunnel-{port}.log",
                      proof)
    return serving(make)


def apache(chain, *, log_dir, ciphers=MOZILLA_INTERMEDIATE_CIPHERS):
    """Apache httpd 2.4 with mod_ssl, one process (-X), Mozilla intermediate."""
    _need("apache2")
    d = Path(log_dir) / "apache"
    served, key, _ = _files(chain, d)
    root = _docroot(d)
    modules = ("mpm_event", "authz_core", "ssl", "socache_shmcb", "dir")

    def make(port):
        conf = d / f"apache-{port}.conf"
        loads = "".join(f"LoadModule {m}_module {APACHE_MODULES / f'mod_{m}.so'}\n"
                        for m in modules)
        conf.write_text(f'''ServerRoot "{d}"
{loads}PidFile "{d / f"apache-{port}.pid"}"
Mutex posixsem
Listen {LOCALHOST}:{port}
ServerName localhost
ErrorLog "{d / f"apache-{port}.error.log"}"
LogLevel warn
DocumentRoot "{root}"
<Directory "{root}">
  Require all granted
</Directory>
SSLSessionCache "shmcb:{d / f"ssl-cache-{port}"}(512000)"
SSLEngine on
SSLProtocol -all +TLSv1.2 +TLSv1.3
SSLCipherSuite {ciphers}
SSLCertificateFile "{served}"
SSLCertificateKeyFile "{key}"
''')
        return Daemon("apache2", ["apache2", "-X", "-f", str(conf)], port,
                      d / f"apache-{port}.log", "http")
    return serving(make)


def versions():
    """{program: version line} of the installed daemons (for the bench's header)."""
    out = {}
    for exe, args in (("lighttpd", ["-v"]), ("haproxy", ["-v"]), ("stunnel4", ["-version"]),
                      ("apache2", ["-v"])):
        if shutil.which(exe):
            try:
                p = subprocess.run([exe, *args], capture_output=True, text=True, timeout=10)
                text = (p.stdout or p.stderr).strip().splitlines()
                out[exe] = text[0] if text else "?"
            except (OSError, subprocess.TimeoutExpired):
                out[exe] = "?"
    return out


PLAIN_MQTT_CONF = """\
# tlsfit daemons: a plain MQTT listener on 127.0.0.1 behind a TLS front
per_listener_settings false
listener {port} {host}
allow_anonymous true
persistence false
log_dest stderr
log_type error
log_type warning
{user_line}
"""

# AWS IoT Core's MQTT on port 443: the endpoint routes by ALPN and drops a ClientHello
# that does not offer x-amzn-mqtt-ca (its developer guide, "Protocols, port mappings,
# and authentication"); a device authenticates with its X.509 certificate.
AWS_MQTT_ALPN = "x-amzn-mqtt-ca"


def _plain_mosquitto(log_dir):
    """mosquitto with one plain listener on 127.0.0.1 (the broker behind a TLS front)."""
    _need("mosquitto")
    d = Path(log_dir) / "mosquitto-plain"

    def make(port):
        d.mkdir(parents=True, exist_ok=True)
        conf = d / f"mosquitto-{port}.conf"
        conf.write_text(PLAIN_MQTT_CONF.format(
            port=port, host=LOCALHOST, user_line="user root" if os.geteuid() == 0 else ""))
        return RefServer("mosquitto (plain)", ["mosquitto", "-c", str(conf)], port,
                         d / f"mosquitto-{port}.log")
    return serving(make)


@contextlib.contextmanager
def aws_iot_shaped(chain, *, client_ca, log_dir, alpn=AWS_MQTT_ALPN, max_version=None):
    """An endpoint shaped like AWS IoT Core's MQTT on 443, on 127.0.0.1: HAProxy drops
    any connection whose ClientHello does not offer ALPN `alpn` (before answering it),
    terminates TLS with that protocol selected and a client certificate issued by
    `client_ca` required, and forwards MQTT to a plain mosquitto.  srv.proof is "mqtt".
    max_version "TLSv1.2": it accepts TLS 1.2 only (default: 1.2 and 1.3).
    Idle timeouts of 60 s, as measure's session timeout: a device under QEMU on a loaded
    machine is silent for more than 10 s while it parses and verifies the chain (with
    10 s, test_alpn's fit ended server_closed in MBEDTLS_SSL_SERVER_CERTIFICATE for every
    candidate at load average 20, exit 42)."""
    _need("haproxy")
    d = Path(log_dir) / "aws-iot-shaped"
    _, _, combined = _files(chain, d)
    with _plain_mosquitto(log_dir) as broker:
        def make(port):
            conf = d / f"haproxy-{port}.cfg"
            inner = f"abns@tlsfit-aws-{os.getpid()}-{port}"
            top = f" ssl-max-ver {max_version}" if max_version else ""
            conf.write_text(f'''global
  ssl-default-bind-options ssl-min-ver TLSv1.2{top}
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend alpn_gate
  bind {LOCALHOST}:{port}
  tcp-request inspect-delay 5s
  tcp-request content accept if {{ req.ssl_hello_type 1 }} {{ req.ssl_alpn -m str {alpn} }}
  tcp-request content reject
  default_backend tls_front
backend tls_front
  server tls {inner}
frontend tls
  bind {inner} ssl crt {combined} alpn {alpn} ca-file {client_ca} verify required
  default_backend broker
backend broker
  server broker {broker.hostport}
''')
            return Daemon("haproxy (AWS-IoT-shaped)", ["haproxy", "-db", "-f", str(conf)], port,
                          d / f"haproxy-{port}.log", "mqtt")
        with serving(make) as srv:
            yield srv
