"""Where verify and measure connect: the server named on the command line, or, with
--profile and no server, a replica of that profile for as long as the command runs.

    with server_or_replica(args.target, args.profile, ...) as t:
        t.host, t.port, t.sni, t.ca, t.proof, t.client     (t.replica: the Replica or None)
"""
import contextlib
import sys
from dataclasses import dataclass

from ..core.errors import USAGE, TlsfitError
from ..core.hostport import parse_target
from ..core.identity import ClientIdentity
from ..lab.replica import Replica, replica_identity, resolve, serving


@dataclass(frozen=True)
class Endpoint:
    """Where verify/measure connect (host, port, the name to send and check, the trust
    anchor, the proof): a server given on the command line, or a replica (`replica`);
    and the device identity to present there (core.identity.ClientIdentity or None)."""
    host: str
    port: int
    sni: str
    ca: str
    proof: object
    replica: Replica = None
    client: object = None


@contextlib.contextmanager
def server_or_replica(server, profile, sni=None, ca=None, proof=None, flag="HOST[:PORT]",
                      client=None, psk=None):
    """The Endpoint of `server` ("HOST[:PORT]", with sni, ca, proof and client as given),
    or, with no server and a `profile` (a name or a file), of a replica of it for the
    with-block: its name, trust anchor and implied proof unless --proof is given, and,
    when it requests a client certificate, replica_identity()'s; a line on stderr says
    so.  psk (a core.pskkey.Psk): the replica of a DTLS profile serves its PSK suites
    with that key.  USAGE error for neither, or both."""
    if server and profile:
        raise TlsfitError(USAGE, f"give {flag} or --profile (a replica of it), not both")
    if server:
        host, port = parse_target(server)
        yield Endpoint(host, port, sni, ca, proof, client=client)
        return
    if not profile:
        raise TlsfitError(USAGE, f"name the server ({flag}) or a profile to replay "
                                 "(--profile NAME|FILE)")
    if sni or ca:
        raise TlsfitError(USAGE, "--sni and --ca are for a server: the replica of --profile "
                                 "brings its own name and trust anchor")
    with serving(resolve(profile), psk=psk) as r:
        print(f"tlsfit: against a replica of {profile} on {r.hostport}"
              + "".join(f"\n  differs: {d}" for d in r.differences), file=sys.stderr)
        ident = replica_identity(r, client is not None)
        if ident:
            print(f"tlsfit: {ident.note}", file=sys.stderr)
            client = ClientIdentity.load(ident.cert, ident.key)
        yield Endpoint(r.host, r.port, r.sni, r.ca_file, proof or r.proof, r, client)
