"""The values gen works with: the user's choices (GenOptions) apart from what tlsfit fit
forces (FitOverrides), one candidate (version, suite, group, signature scheme) a server
accepts, the plan of a header (HeaderPlan), and the Refusal raised when a server cannot
be served."""
from dataclasses import dataclass, field

from ..core.errors import REFUSED, TlsfitError

LINES = ("3.6", "2.28")
TLS_CHOICES = ("auto", "1.2", "1.3")
# GenOptions.ecc: mbedTLS's built-in ECC code, or driver-only P-256 through PSA with the
# p256-m driver (rules.toml [drivers.p256m]) -- which falls back to the built-in code, with
# the reason in the header, when a key, group or signature scheme is not on P-256.
ECC_CHOICES = ("builtin", "p256m")


class Refusal(TlsfitError):
    """The server needs something no configuration from tlsfit can give (exit 38)."""

    def __init__(self, message):
        super().__init__(REFUSED, message)


@dataclass(frozen=True)
class Candidate:
    version: str
    suite: str
    kx: str
    cipher: str
    mac: str
    prf: str
    group: str = None
    sigalg: str = None
    forward_secret: bool = True
    aead: bool = True

    def label(self):
        parts = [self.version, self.suite]
        if self.group:
            parts.append(self.group)
        if self.sigalg:
            parts.append(self.sigalg)
        return " ".join(parts)


@dataclass(frozen=True)
class HeaderPlan:
    """One header: the candidates chosen, every option it defines and every value, each
    with the server facts that need it, the application's duties, the verdict on every
    candidate considered, the flash estimate, and the rendered text."""
    line: str
    policy: str
    target: str
    chosen: list
    options: dict                    # option -> [reasons], every option the header defines
    values: dict                     # option -> (value, reason)
    ciphersuites: list               # mbedTLS macro names, in offer order
    warnings: list
    duties: list                     # what the application must supply or call
    considered: list                 # (candidate label, flash estimate or None, verdict)
    cost: int                        # flash estimate of the option set (bytes)
    text: str = ""
    facts: dict = field(default_factory=dict)
    servers: tuple = ()              # per server: target, profile, chosen, prove, ... (Server.facts)


@dataclass
class GenOptions:
    """The user's choices (tlsfit gen's flags, and the ones fit passes on from its own)."""
    line: str = "3.6"
    policy: str = "default"
    tls: str = "auto"
    time: bool = True
    pem: bool = False
    ecc: str = "builtin"         # ECC_CHOICES: "p256m" asks for driver-only P-256
    anchor: object = None        # anchor.AnchorCert: --anchor CERT ends the path (anchor.py)
    external_rng: bool = False   # the device's TRNG feeds mbedTLS: no entropy module, no DRBG
    client: object = None        # core.identity.ClientIdentity: the device's identity (public facts)
    alpn: tuple = ()             # --alpn: the application protocols every server is offered
    resume: bool = False         # --resume: session resumption as the server proved it (resume.py)
    server_alpn: tuple = ()      # per server, in order: its own protocols (() for one: alpn)
    psk: object = None           # psk.PskSpec: --psk-identity, the key's length (never the key)


@dataclass(frozen=True)
class FitOverrides:
    """What tlsfit fit forces on a header beyond the user's choices, from its measurements
    (report.json gen_options; gen --fit-report renders a fit's header again with them).
    Nothing by default: gen's own header."""
    exclude: tuple = ()          # options fit's ablation removes (must not be required)
    knob_values: dict = field(default_factory=dict)   # fit's knob overrides (None: off)
    extra: dict = field(default_factory=dict)         # fit's added options -> reason
    sizes: dict = field(default_factory=dict)         # fit's measured size values (name -> int)
    candidate: Candidate = None  # fit pins one candidate


NO_OVERRIDES = FitOverrides()
