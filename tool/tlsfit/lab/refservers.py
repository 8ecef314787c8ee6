"""Reference TLS servers and a throwaway test PKI, for `tlsfit demo` and the tests.

PKI (openssl CLI):
    make_chain(dir, "rsa", root="rsa:2048", inter="rsa:2048", leaf="rsa:2048")
        root (self-signed CA) -> intermediate (CA, pathlen 0) -> leaf CN=localhost
        with SAN DNS:localhost, IP:127.0.0.1 (+ extra_sans).  Key specs:
        "rsa:BITS" or "ec:P-256" / "ec:P-384".
    make_ca(dir, "clientca")   a lone self-signed CA (for client-auth requests)
    make_client_cert(ca, dir, "p256", "ec:P-256")   a device certificate issued by ca
    standard_pki(dir)          the set the tests and the demo use (Pki)
    openssl(["x509", ...], "what")   one checked openssl command (core/pki.py's runner)

Servers (each its own process group, on 127.0.0.1, stopped on exit of the
`with` block, and killed by `timeout` after `limit` seconds whatever happens):
    with openssl_server(chain, "-tls1_2", "-cipher", "...") as srv:
        srv.port, srv.hostport
    with gnutls_server(chain, priority="NORMAL:...") as srv: ...
    with mosquitto_server(chain, require_certificate=True, log_dir=...) as broker:
        broker.rejections()      # what the broker's log says it refused
    with nginx_server(chain, log_dir=...) as srv: ...     # answers HTTP (HEAD too)

gnutls-serv has no option to choose its bind address: it listens on every
address (0.0.0.0 and ::) of the port.  Tests only ever connect to 127.0.0.1.
"""
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..core import pki
from ..core.errors import SERVERS, TlsfitError

LOCALHOST = "127.0.0.1"
CMD_TIMEOUT = 120        # seconds for any one openssl CLI command
SERVER_LIMIT = 900       # seconds a reference server may live, at most
READY_TIMEOUT = 15       # seconds for a server to accept connections
DAYS = 3650


# --------------------------------------------------------------------------- PKI

def openssl(args, what):
    """`openssl ARGS` for the test PKI (core.pki.openssl, checked): its stdout (bytes);
    TlsfitError(SERVERS) beginning with `what` when it fails or runs past CMD_TIMEOUT."""
    return pki.openssl(args, what, SERVERS, CMD_TIMEOUT)


def genpkey_options(spec):
    """`openssl genpkey` options for a key spec: "rsa:2048", "rsa-pss:2048", "ec:P-256",
    "ed25519", "ed448" (ValueError for anything else)."""
    kind, _, param = spec.partition(":")
    if kind in ("ed25519", "ed448"):
        return ["-algorithm", kind.upper()]
    if kind in ("rsa", "rsa-pss"):
        return ["-algorithm", "RSA" if kind == "rsa" else "RSA-PSS",
                "-pkeyopt", f"rsa_keygen_bits:{int(param)}"]
    if kind == "ec":
        return ["-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{param}",
                "-pkeyopt", "ec_param_enc:named_curve"]
    raise ValueError(f"unknown key spec {spec!r}")


def generate_key(spec, path):
    """Writes a private key (PEM, PKCS#8) for spec "rsa:2048", "ec:P-256" or "ed25519"."""
    opts = genpkey_options(spec)
    openssl(["genpkey", *opts, "-out", str(path)], f"generating a {spec} key")
    os.chmod(path, 0o600)
    return Path(path)


def _digest_opts(spec, digest=None):
    """The digest option for signing with a key of `spec` (none for EdDSA): `digest`
    ("sha256", ...) when given, else SHA-384 under P-384 and RSA-4096 keys, SHA-256
    otherwise."""
    if spec in ("ed25519", "ed448"):
        return []
    if digest:
        return [f"-{digest}"]
    return ["-sha384" if spec in ("ec:P-384", "rsa:4096") else "-sha256"]


def _serial():
    # 64 bits, top nibble 1: positive, no DER padding, 16 hex digits.
    return (1 << 60) | secrets.randbits(60)


def _ext_file(path, sans, leaf_spec):
    """The extensions of the test PKI's root, intermediate and leaf (the leaf named
    localhost, `sans` and 127.0.0.1)."""
    dns = ["localhost"] + list(sans)
    san = [f"DNS.{i} = {name}" for i, name in enumerate(dns, 1)] + [f"IP.1 = {LOCALHOST}"]
    path.write_text(pki.openssl_config({
        "root": pki.ca_lines(),
        "inter": [*pki.ca_lines(pathlen=0), "authorityKeyIdentifier = keyid"],
        "leaf": [*pki.leaf_lines(leaf_spec), "subjectAltName = @san"],
        "san": san}))
    return path


@dataclass
class Cert:
    """One certificate of the test PKI and its key."""
    pem: Path
    key: Path
    key_spec: str
    cn: str

    @property
    def subject(self):
        return f"CN={self.cn}"

    @property
    def der(self):
        return pem_to_der(self.pem)

    @property
    def serial(self):
        out = openssl(["x509", "-in", str(self.pem), "-noout", "-serial"],
                   "reading a serial").decode()
        return out.strip().split("=", 1)[1].lower()


@dataclass
class Chain:
    """root -> intermediate -> leaf, plus the files servers are given."""
    name: str
    dir: Path
    root: Cert
    inter: Cert
    leaf: Cert
    sans: list = field(default_factory=list)

    @property
    def served(self):
        """The certificates a server sends: leaf, intermediate (never the root)."""
        return [self.leaf, self.inter]

    @property
    def fullchain(self):
        """leaf + intermediate in one PEM file (gnutls-serv's --x509certfile)."""
        return self.dir / "fullchain.pem"


def pem_to_der(pem):
    return openssl(["x509", "-in", str(pem), "-outform", "DER"], f"reading {pem}")


def _self_signed(d, stem, cn, spec, ext, section, digest=None):
    key = generate_key(spec, d / f"{stem}.key")
    pem = d / f"{stem}.pem"
    openssl(["req", "-new", "-x509", "-key", str(key), "-out", str(pem),
          "-subj", f"/CN={cn}", "-days", str(DAYS), *_digest_opts(spec, digest),
          "-set_serial", str(_serial()), "-config", str(ext), "-extensions", section],
         f"creating the certificate {cn}")
    return Cert(pem, key, spec, cn)


def _issued(d, stem, cn, spec, issuer, ext, section, digest=None):
    key = generate_key(spec, d / f"{stem}.key")
    csr, pem = d / f"{stem}.csr", d / f"{stem}.pem"
    openssl(["req", "-new", "-key", str(key), "-subj", f"/CN={cn}",
          "-config", str(ext), "-out", str(csr)], f"creating the request for {cn}")
    openssl(["x509", "-req", "-in", str(csr), "-CA", str(issuer.pem),
          "-CAkey", str(issuer.key), "-set_serial", str(_serial()), "-days", str(DAYS),
          *_digest_opts(issuer.key_spec, digest), "-extfile", str(ext), "-extensions", section,
          "-out", str(pem)], f"signing the certificate {cn}")
    csr.unlink()
    return Cert(pem, key, spec, cn)


def make_chain(directory, name, root="rsa:2048", inter="rsa:2048", leaf="rsa:2048",
               extra_sans=(), label=None, digest=None, root_digest=None):
    """Creates directory/<name>/{root,inter,leaf}.{pem,key}, fullchain.pem; returns a Chain.
    digest: the hash every signature of the chain uses ("sha256", ...); by default it
    follows the signing key (_digest_opts).  root_digest: the root's own (self-)signature's
    hash, when it differs (DigiCert Global Root G2: SHA-256 above a SHA-384 chain)."""
    d = Path(directory) / name
    d.mkdir(parents=True, exist_ok=True)
    label = label or name
    ext = _ext_file(d / "extensions.cnf", extra_sans, leaf)
    r = _self_signed(d, "root", f"tlsfit {label} root", root, ext, "root", root_digest or digest)
    i = _issued(d, "inter", f"tlsfit {label} intermediate", inter, r, ext, "inter", digest)
    lf = _issued(d, "leaf", "localhost", leaf, i, ext, "leaf", digest)
    (d / "fullchain.pem").write_bytes(lf.pem.read_bytes() + i.pem.read_bytes())
    return Chain(name, d, r, i, lf, list(extra_sans))


def make_ca(directory, name, cn, spec="rsa:2048"):
    d = Path(directory) / name
    d.mkdir(parents=True, exist_ok=True)
    ext = _ext_file(d / "extensions.cnf", (), spec)
    return _self_signed(d, "ca", cn, spec, ext, "root")


_DEVICE_EXTENSIONS = """\
[req]
distinguished_name = dn
[dn]
[device]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def make_client_cert(ca, directory, name, spec="ec:P-256", cn=None):
    """A device (client) certificate issued by `ca` (a Cert, e.g. from make_ca):
    directory/<name>/device.{pem,key}, key `spec` ("ec:P-256", "rsa:2048", ...),
    CN `cn` (default "tlsfit device <name>"), extendedKeyUsage clientAuth."""
    d = Path(directory) / name
    d.mkdir(parents=True, exist_ok=True)
    ext = d / "device.cnf"
    ext.write_text(_DEVICE_EXTENSIONS)
    return _issued(d, "device", cn or f"tlsfit device {name}", spec, ca, ext, "device")


@dataclass
class Pki:
    dir: Path
    rsa: Chain          # RSA-2048 all the way
    ec: Chain           # root P-384 -> intermediate P-256 -> leaf P-256
    big: Chain          # RSA-4096 all the way, 150 SANs: Certificate message > 4 KiB
    client_ca: Cert     # a lone CA named in CertificateRequest


BIG_SANS = tuple(f"host-{i:03d}.devices.tlsfit.test" for i in range(150))


def standard_pki(directory):
    """The PKI the tests and the demo share (~5-15 s, RSA-4096 key generation dominates)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    return Pki(
        dir=d,
        rsa=make_chain(d, "rsa", "rsa:2048", "rsa:2048", "rsa:2048", label="RSA"),
        ec=make_chain(d, "ec", "ec:P-384", "ec:P-256", "ec:P-256", label="ECDSA"),
        big=make_chain(d, "big", "rsa:4096", "rsa:4096", "rsa:4096", BIG_SANS, label="big"),
        client_ca=make_ca(d, "clientca", "tlsfit client CA"),
    )


# ------------------------------------------------------------------------ servers

def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]


def wait_listening(port, deadline, alive=lambda: True):
    """Polls connect() to 127.0.0.1:port until it succeeds; False at the deadline or
    as soon as alive() says the server process is gone."""
    while time.monotonic() < deadline:
        if not alive():
            return False
        try:
            with socket.create_connection((LOCALHOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class RefServer:
    """A server process on 127.0.0.1:port; `with` starts it and always stops it.  Its
    stdin is /dev/null (STDIN: subprocess.PIPE keeps it open and empty instead)."""

    STDIN = subprocess.DEVNULL

    def __init__(self, name, argv, port, log_path, limit=SERVER_LIMIT):
        self.name = name
        self.argv = list(argv)
        self.port = port
        self.log_path = Path(log_path)
        self.limit = limit
        self.proc = None

    @property
    def hostport(self):
        return f"{LOCALHOST}:{self.port}"

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def start(self):
        exe = shutil.which(self.argv[0])
        if not exe:
            raise TlsfitError(SERVERS, f"{self.argv[0]} is not installed (run ./tlsfit setup)")
        # `timeout` is the hard limit: the server dies even if this process is killed.
        argv = ["timeout", "-k", "5", str(self.limit), exe, *self.argv[1:]]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            log.write(("$ " + " ".join(self.argv) + "\n").encode())
            log.flush()
            self.proc = subprocess.Popen(argv, stdin=self.STDIN, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + READY_TIMEOUT
        if not self.wait_ready(deadline):
            self.stop()
            tail = self.log().strip().splitlines()
            why = tail[-1] if len(tail) > 1 else "no output"
            raise TlsfitError(SERVERS, f"{self.name} did not start listening on "
                                       f"{self.hostport} (log {self.log_path}: {why})")
        return self

    def wait_ready(self, deadline):
        """True once the server listens (a TCP connect succeeds); False at the deadline or
        when the process is gone.  UDP servers (lab/udpservers.py) override it."""
        return wait_listening(self.port, deadline, lambda: self.proc.poll() is None)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        # The group may still hold the server if `timeout` died first.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


@contextlib.contextmanager
def serving(make):
    """A started server from make(port) for the with-block; stopped after it."""
    srv = _start_with_retries(make)
    try:
        yield srv
    finally:
        srv.stop()


def _start_with_retries(make, attempts=3):
    """Starts make(port) on a free port; retries when another process grabbed the port."""
    last = None
    for _ in range(attempts):
        srv = make(free_port())
        try:
            return srv.start()
        except TlsfitError as e:
            last = e
            log = srv.log()
            if "in use" not in log.lower() and "mbedtls_net_bind" not in log:
                raise
    raise last


def openssl_argv(chain, port, *args, www=True, chain_file=None):
    argv = ["openssl", "s_server", "-accept", f"{LOCALHOST}:{port}",
            "-cert", str(chain.leaf.pem), "-key", str(chain.leaf.key),
            "-cert_chain", str(chain_file or chain.inter.pem), "-quiet"]
    if www:
        argv.append("-www")   # answers HTTP and never reads stdin
    return argv + [str(a) for a in args]


@contextlib.contextmanager
def openssl_server(chain, *args, log_dir, www=True, chain_file=None, limit=SERVER_LIMIT):
    """`openssl s_server` on 127.0.0.1 with chain and extra args.  The server sends the
    leaf and the intermediate, or the leaf and the certificates of chain_file."""
    def make(port):
        argv = openssl_argv(chain, port, *args, www=www, chain_file=chain_file)
        return RefServer("openssl s_server", argv, port,
                         Path(log_dir) / f"openssl-s_server-{port}.log", limit)
    with serving(make) as srv:
        yield srv


def gnutls_argv(chain, port, priority=None, *args, request_client_cert=False):
    argv = ["gnutls-serv", "--port", str(port), "--x509certfile", str(chain.fullchain),
            "--x509keyfile", str(chain.leaf.key), "--quiet"]
    if priority:
        argv.append(f"--priority={priority}")
    if not request_client_cert:
        argv.append("--disable-client-cert")   # gnutls-serv asks for one by default
    return argv + [str(a) for a in args]


@contextlib.contextmanager
def gnutls_server(chain, *args, priority=None, log_dir, request_client_cert=False,
                  limit=SERVER_LIMIT):
    """`gnutls-serv` (listens on all addresses; see the module doc) with chain and priority."""
    def make(port):
        argv = gnutls_argv(chain, port, priority, *args, request_client_cert=request_client_cert)
        return RefServer("gnutls-serv", argv, port, Path(log_dir) / f"gnutls-serv-{port}.log",
                         limit)
    with serving(make) as srv:
        yield srv


@contextlib.contextmanager
def mbedtls_server(binary, chain, *args, log_dir, limit=600):
    """mbedTLS's own ssl_server2 (binary: tlsfit.verify.ssl_server2_path()) on 127.0.0.1
    with chain, no client authentication, and extra key=value args."""
    def make(port):
        argv = [str(binary), f"server_addr={LOCALHOST}", f"server_port={port}",
                f"crt_file={chain.fullchain}", f"key_file={chain.leaf.key}", "auth_mode=none",
                *map(str, args)]
        return RefServer("ssl_server2", argv, port, Path(log_dir) / f"ssl_server2-{port}.log",
                         limit)
    with serving(make) as srv:
        yield srv


def iana_suites(cipher_list=None, ciphersuites=""):
    """Expands an OpenSSL TLS <= 1.2 cipher string and/or a TLS 1.3 ciphersuites
    string (as given to s_server -cipher / -ciphersuites) to [(id, IANA name)]
    in the server's order, e.g. [("0xC030", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")]."""
    if cipher_list:
        args = ["ciphers", "-ciphersuites", ciphersuites, "-stdname", "-V", cipher_list]
    else:   # TLS 1.3 only: -s -tls1_3 leaves out every TLS <= 1.2 suite
        args = ["ciphers", "-s", "-tls1_3", "-ciphersuites", ciphersuites, "-stdname", "-V"]
    out = openssl(args, f"expanding the cipher list {cipher_list!r}/{ciphersuites!r}").decode()
    suites = []
    for line in out.splitlines():
        # "0xC0,0x30 - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 - ECDHE-RSA-AES256-GCM-SHA384 ..."
        parts = line.split(" - ")
        if len(parts) < 2:
            continue
        hi, lo = parts[0].strip().split(",")
        suites.append((f"0x{int(hi, 16):02X}{int(lo, 16):02X}", parts[1].strip()))
    return suites


# ----------------------------------------------------------------- mosquitto

MOSQUITTO_CONF = """\
# tlsfit refservers: one TLS listener on 127.0.0.1, nothing kept on disk
per_listener_settings false
listener {port} {host}
certfile {certfile}
keyfile {keyfile}
{cafile_line}
require_certificate {require}
{tls_version_line}
allow_anonymous {anonymous}
persistence false
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
log_timestamp false
{user_line}
"""


class MosquittoServer(RefServer):
    """A mosquitto broker; its log (stderr, one message per line) tells what it did."""

    def events(self):
        """The broker's log lines after the command line."""
        return [ln.strip() for ln in self.log().splitlines()[1:] if ln.strip()]

    def rejections(self):
        """The lines in which the broker refused a TLS client (OpenSSL's reason, e.g.
        "OpenSSL Error[0]: error:0A0000C7:SSL routines::peer did not return a
        certificate").  A connection closed before any TLS ("unexpected eof while
        reading": the readiness check of start(), logged whenever the broker gets to
        it) is not a refusal of a client."""
        return [ln for ln in self.events() if "OpenSSL Error" in ln and
                "unexpected eof while reading" not in ln]

    def connected_clients(self):
        """The "New client connected from ... as tlsfit ..." lines (MQTT CONNECTs the
        broker accepted)."""
        return [ln for ln in self.events() if ln.startswith("New client connected")]


def mosquitto_conf(chain, port, require_certificate=False, cafile=None, tls_version=None,
                   allow_anonymous=True):
    """The mosquitto.conf of mosquitto_server (mosquitto 2.0)."""
    ca = cafile or (chain.root.pem if require_certificate else None)
    return MOSQUITTO_CONF.format(
        port=port, host=LOCALHOST, certfile=chain.fullchain, keyfile=chain.leaf.key,
        cafile_line=f"cafile {ca}" if ca else "",
        require="true" if require_certificate else "false",
        tls_version_line=f"tls_version {tls_version}" if tls_version else "",
        anonymous="true" if allow_anonymous else "false",
        # As root, mosquitto would become the "mosquitto" user, which cannot read
        # the test PKI in the test's private directories.
        user_line="user root" if os.geteuid() == 0 else "")


@contextlib.contextmanager
def mosquitto_server(chain, *, log_dir, require_certificate=False, cafile=None,
                     tls_version=None, allow_anonymous=True, limit=SERVER_LIMIT):
    """A mosquitto broker with one TLS listener on 127.0.0.1 serving chain (leaf and
    intermediate).  require_certificate: clients must present a certificate issued
    by cafile (default the chain's root).  tls_version: "tlsv1.3", "tlsv1.2" (the
    lowest version it accepts: mosquitto 2.0's "tlsv1.2" still accepts TLS 1.3, as a
    probe of it shows; default any).  allow_anonymous False: a CONNECT without
    credentials gets CONNACK return code 5 (not authorized)."""
    def make(port):
        d = Path(log_dir) / f"mosquitto-{port}"
        d.mkdir(parents=True, exist_ok=True)
        conf = d / "mosquitto.conf"
        conf.write_text(mosquitto_conf(chain, port, require_certificate, cafile, tls_version,
                                       allow_anonymous))
        return MosquittoServer("mosquitto", ["mosquitto", "-c", str(conf)], port,
                               d / "mosquitto.log", limit)
    with serving(make) as srv:
        yield srv


# --------------------------------------------------------------------- nginx

NGINX_CONF = """\
daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
    uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
    server {{
        listen {host}:{port} ssl;
        ssl_certificate {fullchain};
        ssl_certificate_key {key};
        {tls}
        location / {{ return 200 "tlsfit\n"; }}
    }}
}}
"""


class NginxServer(RefServer):
    """nginx; it writes its errors (e.g. "Address already in use") to error.log."""

    def log(self):
        try:
            errors = (self.log_path.parent / "error.log").read_text(errors="replace")
        except OSError:
            errors = ""
        return super().log() + errors

    def access_log(self):
        """The lines of nginx's access log (one per request it answered)."""
        try:
            return (self.log_path.parent / "access.log").read_text().splitlines()
        except OSError:
            return []


@contextlib.contextmanager
def nginx_server(chain, *, log_dir, protocols="TLSv1.2 TLSv1.3", tls=None,
                 limit=SERVER_LIMIT):
    """nginx (one process, no daemon) on 127.0.0.1 serving chain; every request gets
    "200 OK" (HEAD included), logged in access.log next to the server's log.  tls: the
    server block's TLS directives (default: ssl_protocols PROTOCOLS;)."""
    def make(port):
        d = Path(log_dir) / f"nginx-{port}"
        (d / "tmp").mkdir(parents=True, exist_ok=True)
        conf = d / "nginx.conf"
        conf.write_text(NGINX_CONF.format(d=d, host=LOCALHOST, port=port,
                                          fullchain=chain.fullchain, key=chain.leaf.key,
                                          tls=tls or f"ssl_protocols {protocols};"))
        argv = ["nginx", "-p", str(d), "-c", str(conf), "-e", str(d / "error.log")]
        return NginxServer("nginx", argv, port, d / "nginx.log", limit)
    with serving(make) as srv:
        yield srv
