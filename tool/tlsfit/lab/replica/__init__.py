"""A local replica of a profiled server: `tlsfit replay`, and fit/verify/measure
offline (issue 15, item 2).

    with serving("profiles/nginx-intermediate.json") as r:     # or a Profile, port=N
        r.host, r.port, r.ca_file, r.sni, r.proof, r.differences
    plan(profile) -> ReplicaPlan     what the replica will be (pure: no files, no process)

One concern per module:

    planning.py   what the replica of a profile must serve: the ReplicaPlan (pure)
    dgram.py      ... and of a DTLS profile: --dtls, cookie, MTU, PSK suites (pure)
    pki.py        its certificate chain (synthesized with the openssl CLI, cached under
                  <cache>/replay/<hash>/) and the device identity it offers
    engine.py     the server tool/replay/ (tlsfit-replay): built, started, stopped

(planning.py, not plan.py: `replica.plan` is the function.)  verify's and measure's
choice between a server and a replica of --profile is the CLI's: cli/endpoint.py.

What the replica cannot reproduce is one line each in `differences`; a profile it
cannot serve at all is a REPLAY error (48) naming why.  This package is the public
API callers use (`from tlsfit.lab import replica`).
"""
from .engine import BINARY, Replica, ensure_engine, resolve, serving
from .pki import (DEVICE_CN, DEVICE_KEY, ReplicaIdentity, chain_dir, device_identity,
                  replica_identity)
from .planning import HOST, CertSpec, ReplicaPlan, implied_proof, plan

__all__ = ["BINARY", "DEVICE_CN", "DEVICE_KEY", "HOST", "CertSpec", "Replica",
           "ReplicaIdentity", "ReplicaPlan", "chain_dir", "device_identity", "ensure_engine",
           "implied_proof", "plan", "replica_identity", "resolve", "serving"]
