"""One measurement as a value: what measure() is asked to do.

    req = MeasureRequest("tls_config.h", "cortex-m4", "broker.example", 8883,
                         ca="root.pem", baseline=True)
    measure.measure(req)
    req.resolved()        target, proof, client, tree and sni checked and filled in

The same value is handed to every phase (image.link_firmware, session.run_session,
measure.compose); a phase reads the fields it needs, a variant is replace(req, ...)
(the baseline: heap_limit=None).
"""
from dataclasses import KW_ONLY, dataclass, replace

from ..core import proof as proof_mod, resumption
from ..core.errors import USAGE, TlsfitError
from ..core.hostport import format_hostport
from ..header.dtls import header_is_dtls
from ..mbedtls.tree import Tree, resolve_tree
from .firmware import fw
from .params import DEFAULT_SEED

DEFAULT_TIMEOUT = 60          # s before QEMU is killed


@dataclass(frozen=True)
class MeasureRequest:
    """config_path measured on `target` against host:port.

    sni: the name sent and checked (None: host).  ca: a PEM/DER file of trust anchors
    (None: the system-store root of the server's chain).  tree: an mbedTLS tree
    (mbedtls.tree.Tree or path; None: the 3.x one, or `line`'s).  heap_limit: cap in
    bytes on what mbedTLS may hold at once.  timeout: seconds before QEMU is killed.
    baseline: also measure mbedTLS's default configuration (config.py baremetal_size)
    the same way, under "baseline", with "ratios" (measured / baseline).  progress: say
    what happens on stderr.  line: the mbedTLS line ("3.6", "2.28") when tree is None.
    proof: the proof that the server accepted the session, a core.proof.Proof or a
    --proof text (None: by port), for both images.  client: the device's
    core.identity.ClientIdentity (key included), presented by both images when the
    server asks for a client certificate (None: no identity).  lto: False, True
    (measure the LTO build) or "both" (and the plain one beside it, under
    "without_lto", with "lto_change"); see target/lto.py.  seed: the test-only RNG
    seed built into run_params.c (four 32-bit words).  anchors: the trust anchors as
    DER (None: measure() reads them from ca or the system store).  resume: after the
    proof the firmware closes and resumes the session on a second connection
    (core/resumption.py; always on for a header defining TLSFIT_RESUME), the report's
    "resumption".  psk: a core.pskkey.Psk for a PSK header; the relay sends its key
    over the UART before the handshake (target/relay.py, tool/firmware/psk_key.c),
    never into the image.  server_facts: what the server showed its probe
    (runcache.server_facts; None: every session runs); with it, an identical image's
    stored result is reused (target/runcache.py) unless live (the measured header runs
    in any case; the baseline may be reused).  dtls: the session is DTLS over UDP: the
    firmware is built with TLSFIT_DTLS (and TLSFIT_DTLS_MTU) and frames datagrams over
    its UART to target/dgramrelay.py (True for a header defining TLSFIT_DTLS;
    `measure --dtls` sets it for a header that does not, such as an mbedTLS preset)."""
    config_path: object
    target: str
    host: str
    port: int
    sni: str = None
    ca: object = None
    tree: object = None
    heap_limit: int = None
    timeout: float = DEFAULT_TIMEOUT
    baseline: bool = False
    progress: bool = True
    _: KW_ONLY
    line: str = None
    proof: object = None
    client: object = None
    lto: object = False
    seed: tuple = DEFAULT_SEED
    anchors: tuple = None
    resume: bool = False
    psk: object = None          # core.pskkey.Psk: its key reaches the firmware over the UART
    server_facts: str = None
    live: bool = False
    dtls: bool = False          # DTLS over UDP (always for a header defining TLSFIT_DTLS)

    @property
    def server(self):
        """"host:port" ("[v6]:port")."""
        return format_hostport(self.host, self.port)

    def resolved(self):
        """This request checked and filled in, in this order: target (a board
        tool/firmware knows, by its name), proof (a core.proof.Proof), the client's key
        (an identity needs one), tree (an mbedtls.tree.Tree of `line`), sni (default
        host).  TlsfitError(USAGE) naming what is wrong."""
        target = _target_name(self.target)
        proof = proof_mod.resolve(self.proof, self.port)
        client = self.client
        if client is not None and client.key is None:
            raise TlsfitError(USAGE, f"--client-cert {client.cert} needs --client-key: the "
                                     "device signs the handshake with its key")
        tree = _resolve_tree(self.tree, self.line)
        dtls = self.dtls or header_is_dtls(self.config_path)
        if self.proof is None:
            proof = proof_mod.resolve(None, self.port, dtls=dtls)    # 5684 over DTLS: CoAP
        return replace(self, target=target, proof=proof, tree=tree, sni=self.sni or self.host,
                       resume=self.resume or resumption.header_resumes(self.config_path),
                       dtls=dtls)


def _target_name(name):
    try:
        return fw.load_target(name)["name"]
    except fw.FirmwareError as e:
        raise TlsfitError(USAGE, str(e)) from None


def _resolve_tree(tree, line):
    if isinstance(tree, Tree):
        if line and tree.line != line:
            raise TlsfitError(USAGE, f"{tree.path} is mbedTLS {tree.version}, not {line}")
        return tree
    return resolve_tree(tree, line)
