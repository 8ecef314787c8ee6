"""The servers one header serves (several servers: one device, one header): each one's
profile, chain and chosen candidates, and how the header's reasons name them."""
from dataclasses import dataclass

from ..profile.types import Profile
from .chain import ChainNeeds
from .commands import prove_command


@dataclass(frozen=True)
class Server:
    """One server the header serves: its profile, the name the profile was given by,
    what its chain needs, the candidates chosen for it, its place among `count`."""
    doc: Profile
    name: str
    chain: ChainNeeds
    chosen: tuple
    index: int = 1
    count: int = 1
    placement: object = None         # anchor.Placement: --anchor CERT ended its path

    @property
    def who(self):
        return f"server {self.index} ({self.doc.target.hostport})"

    def facts(self, line, client=None, psk=None):
        return {"index": self.index, "target": self.doc.target.hostport, "profile": self.name,
                "probed_at": self.doc.probed_at, "sni": self.doc.target.sni,
                "anchor": self.chain.anchor["subject"] if self.chain.anchor else None,
                "prove": prove_command(self.doc, line, client, psk),
                "chosen": [c.label() for c in self.chosen]}


def whose(servers, count):
    """"every server", "server 2 (host:port)" or "servers 1 and 3"."""
    if len(servers) == count and count > 1:
        return "every server"
    if len(servers) == 1:
        return servers[0].who
    nums = [str(s.index) for s in servers]
    return f"servers {', '.join(nums[:-1])} and {nums[-1]}"


def listing(items):
    """"a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def tagged(servers, wants):
    """The union of the servers' wants; with several servers each reason names the
    servers it holds for ("every server: suite X", "server 2 (host:port): ...")."""
    if len(servers) == 1:
        return wants[0]
    holders = {}                               # option -> reason -> [Server]
    for s, w in zip(servers, wants):
        for name, reasons in w.items():
            for r in reasons:
                holders.setdefault(name, {}).setdefault(r, []).append(s)
    return {name: [f"{whose(ss, len(servers))}: {r}" for r, ss in by_reason.items()]
            for name, by_reason in holders.items()}


def mfl_blocked(servers):
    """Why max_fragment_length must stay out of a header that also serves TLS 1.3 (None
    when it may go in).  Only with several servers can one header hold both versions:
    mbedTLS 3.6 then sends one ClientHello with the TLS 1.2 extensions, max_fragment_length
    among them, to every server, and fails a TLS 1.3 handshake in which the server
    acknowledges it in EncryptedExtensions (MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION; OpenSSL
    does), so it is left out unless every TLS 1.3 server was seen to ignore it."""
    acks = [s for s in servers if any(c.version == "TLSv1.3" for c in s.chosen) and
            s.doc.records.get("mfl_honoured") is not False]
    if not acks:
        return None
    return (f"the ClientHello also offers TLS 1.3 (for {whose(acks, len(servers))}), and "
            "mbedTLS 3.6 fails a TLS 1.3 handshake whose server acknowledges "
            "max_fragment_length (UNSUPPORTED_EXTENSION)")
