"""The device file of `tlsfit fit --device device.toml`: the servers one device talks to
and the identity it presents, validated field by field.

    target = "cortex-m4"            # optional, as --target
    [client]                        # optional: the device's identity
    cert = "device.pem"
    key  = "device.key"
    [[server]]
    host = "broker.example.com"     # port (443), sni, ca and proof optional per server
    port = 8883
    ca   = "broker-root.pem"        # a file or a list of files: that server's trust anchors
    proof = "mqtt"                  # as --proof; default by the port
    alpn = ["x-amzn-mqtt-ca"]       # as --alpn (a list, or "h2,http/1.1"); default --alpn's
    psk_identity = "dev-7"          # optional: a pre-shared key, as --psk-identity ...
    psk_key_file = "device.key"     # ... and --psk-key-file (the file's path, never the key)
    dtls = true                     # optional: DTLS 1.2 over UDP, as fit --dtls (port 5684)
    [[server]]
    host = "ota.example.com"

    load(path) -> Device                                  the file, or TlsfitError(DEVICE)
    from_hosts(hosts, sni, cas, proof, client, dtls) -> Device  `tlsfit fit HOST1 HOST2 ...`

Paths are relative to the device file.  Servers are numbered from 1, as in gen's
messages: an error names the file and the field, "device.toml: server[2].port:
expected a whole number 1-65535, got 'x'" (exit 43).
"""
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..core import alpn as alpn_mod, proof as proof_mod
from ..core.errors import DEVICE, USAGE, TlsfitError
from ..core.hostport import format_hostport, parse_target

TOP_KEYS = ("target", "client", "server")
SERVER_KEYS = ("host", "port", "sni", "ca", "proof", "alpn", "psk_identity", "psk_key_file",
               "dtls")
CLIENT_KEYS = ("cert", "key")
DEFAULT_PORT = 443
DTLS_PORT = 5684                 # a DTLS server's without a port: coaps (RFC 7252 section 6.2)


@dataclass(frozen=True)
class ClientFiles:
    """The device's identity: its certificate (chain) and private key files."""
    cert: Path
    key: Path


@dataclass(frozen=True)
class ServerSpec:
    """One server of the device: where, the name to send and check (None: the host),
    the trust-anchor files (empty: the system store), the proof (None: by port) and the
    application protocols offered to it (empty: fit's --alpn)."""
    host: str
    port: int = DEFAULT_PORT
    sni: str = None
    ca: tuple = ()
    proof: object = None         # core.proof.Proof or None
    alpn: tuple = ()             # ALPN names, as --alpn
    psk_identity: str = None     # a pre-shared key's identity (with psk_key_file)
    psk_key_file: Path = None    # the file holding it (core.pskkey reads it)
    dtls: bool = False           # DTLS 1.2 over UDP (probe --dtls; measured over the datagram relay)

    @property
    def hostport(self):
        return format_hostport(self.host, self.port)


@dataclass(frozen=True)
class Device:
    servers: tuple               # ServerSpec, in file order
    target: str = None
    client: ClientFiles = None
    source: str = None           # the device file, when read from one


class _Fields:
    """Raises the one-line error naming the file and the field."""

    def __init__(self, name):
        self.name = name

    def fail(self, field, what):
        raise TlsfitError(DEVICE, f"{self.name}: {field}: {what}")

    def string(self, table, key, field):
        v = table.get(key)
        if v is None:
            return None
        if not isinstance(v, str) or not v.strip():
            self.fail(field, f"expected a non-empty string, got {v!r}")
        return v.strip()

    def keys(self, table, allowed, field):
        for k in table:
            if k not in allowed:
                self.fail(f"{field}.{k}" if field else k,
                          f"unknown key (expected one of {', '.join(allowed)})")

    def file(self, base, value, field):
        p = Path(value)
        p = p if p.is_absolute() else base / p
        if not p.is_file():
            self.fail(field, f"no such file {value} (paths are relative to the device file)")
        return p


def _port(f, table, field, host_port):
    v = table.get("port")
    if v is None:
        return host_port
    if host_port is not None:
        f.fail(field, "the port is given twice (in host and as port): keep one")
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 65535:
        f.fail(field, f"expected a whole number 1-65535, got {v!r}")
    return v


def _server(f, base, i, s):
    where = f"server[{i}]"
    if not isinstance(s, dict):
        f.fail(where, f"expected a table ([[server]]), got {s!r}")
    f.keys(s, SERVER_KEYS, where)
    host = f.string(s, "host", f"{where}.host")
    if host is None:
        f.fail(f"{where}.host", "missing: every [[server]] names its host")
    try:
        h, p = parse_target(host)
    except (TlsfitError, ValueError) as e:
        f.fail(f"{where}.host", str(e))
    has_port = ":" in host.rsplit("]", 1)[-1]
    dtls = s.get("dtls", False)
    if not isinstance(dtls, bool):
        f.fail(f"{where}.dtls", f"expected true or false, got {dtls!r}")
    port = _port(f, s, f"{where}.port", p if has_port else None) or \
        (DTLS_PORT if dtls else DEFAULT_PORT)
    ca = s.get("ca", ())
    cas = [ca] if isinstance(ca, str) else ca
    if not isinstance(cas, (list, tuple)) or not all(isinstance(c, str) and c for c in cas):
        f.fail(f"{where}.ca", f"expected a file name or a list of file names, got {ca!r}")
    files = tuple(f.file(base, c, f"{where}.ca") for c in cas)
    proof = None
    text = f.string(s, "proof", f"{where}.proof")
    if text is not None:
        try:
            proof = proof_mod.parse_proof(text)
        except ValueError as e:
            f.fail(f"{where}.proof", str(e).removeprefix("--proof "))
    ident = f.string(s, "psk_identity", f"{where}.psk_identity")
    key = f.string(s, "psk_key_file", f"{where}.psk_key_file")
    if (ident is None) != (key is None):
        f.fail(f"{where}.psk_identity", "psk_identity and psk_key_file go together")
    return ServerSpec(h, port, f.string(s, "sni", f"{where}.sni"), files, proof,
                      _alpn(f, s, f"{where}.alpn"), ident,
                      f.file(base, key, f"{where}.psk_key_file") if key else None, dtls)


def _alpn(f, table, field):
    """The server's `alpn`: a list of protocol names or one "P1,P2" string, as --alpn."""
    v = table.get("alpn")
    if v is None:
        return ()
    if not isinstance(v, (str, list)):
        f.fail(field, f"expected a list of protocol names or \"P1,P2\", got {v!r}")
    try:
        return alpn_mod.protocol_names(v) if isinstance(v, str) else alpn_mod.checked_names(v)
    except ValueError as e:
        f.fail(field, str(e))


def _client(f, base, c):
    if c is None:
        return None
    if not isinstance(c, dict):
        f.fail("client", f"expected a table ([client]), got {c!r}")
    f.keys(c, CLIENT_KEYS, "client")
    paths = {}
    for k in CLIENT_KEYS:
        v = f.string(c, k, f"client.{k}")
        if v is None:
            f.fail(f"client.{k}", "missing: the identity needs both cert and key")
        paths[k] = f.file(base, v, f"client.{k}")
    return ClientFiles(paths["cert"], paths["key"])


def parse(doc, name, base):
    """A Device from a parsed TOML document; name is the file as the user wrote it,
    base the directory paths are relative to."""
    f = _Fields(name)
    f.keys(doc, TOP_KEYS, "")
    target = f.string(doc, "target", "target")
    servers = doc.get("server")
    if servers is None:
        f.fail("server", "missing: list each server as a [[server]] table with its host")
    if not isinstance(servers, list) or not servers:
        f.fail("server", "expected one or more [[server]] tables")
    specs = [_server(f, Path(base), i, s) for i, s in enumerate(servers, 1)]
    psk = [(i, s) for i, s in enumerate(specs, 1) if s.psk_identity]
    for i, s in psk[1:]:
        if (s.psk_identity, s.psk_key_file) != (psk[0][1].psk_identity, psk[0][1].psk_key_file):
            f.fail(f"server[{i}].psk_identity", f"differs from server[{psk[0][0]}]'s: one header "
                   "holds one identity (TLSFIT_PSK_IDENTITY), so a device has one pre-shared key")
    for i, s in enumerate(specs, 1):
        for j, o in enumerate(specs[:i - 1], 1):
            if (s.host, s.port, s.sni) == (o.host, o.port, o.sni):
                f.fail(f"server[{i}]", f"the same server as server[{j}] ({s.hostport})")
    return Device(tuple(specs), target, _client(f, Path(base), doc.get("client")), name)


def load(path):
    """The device file at path, validated; TlsfitError(DEVICE) names the field."""
    name = str(path)
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise TlsfitError(DEVICE, f"{name}: cannot read the device file: {e.strerror}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TlsfitError(DEVICE, f"{name}: not valid TOML: {e}") from None
    return parse(doc, name, Path(path).resolve().parent)


def from_hosts(hosts, sni=None, cas=(), proof=None, client=None, dtls=False):
    """The shorthand `tlsfit fit HOST1 HOST2 ...`: --sni, --ca (one trust store), --proof
    and the identity apply to every server; dtls (fit --dtls): every one speaks DTLS, and
    a HOST without a port gets DTLS_PORT."""
    specs = []
    for text in hosts:
        try:
            h, p = parse_target(text, DTLS_PORT if dtls else DEFAULT_PORT)
        except (TlsfitError, ValueError) as e:
            raise TlsfitError(USAGE, f"{text}: {e}") from None
        spec = ServerSpec(h, p, sni, tuple(Path(c) for c in cas or ()), proof, dtls=dtls)
        if any((spec.host, spec.port) == (o.host, o.port) for o in specs):
            raise TlsfitError(USAGE, f"{spec.hostport} is given twice: name each server once")
        specs.append(spec)
    if not specs:
        raise TlsfitError(USAGE, "name a server (HOST[:PORT] ...) or a device file (--device FILE)")
    return Device(tuple(specs), None, client)
