"""The servers a fit serves: a Site per server (where, the name sent and checked, the
trust store measure builds in, the proof, its profile), made from fit's target (a
"HOST[:PORT]", a list of them, or a device file's Device) by probing each server or
reading --profile, and the trust anchor --anchor CERT puts in place of each one's."""
from dataclasses import dataclass, replace
from pathlib import Path

from ..core import paths, pki
from ..core.errors import USAGE, TlsfitError
from ..core.hostport import format_hostport
from ..header import anchor as anchor_mod, gen, refit
from ..header.types import GenOptions
from ..profile import model as profile_mod, probing
from ..profile.types import Profile
from ..target import measure as measure_mod
from . import device as device_mod


@dataclass(frozen=True)
class Site:
    """One server the fit serves, probed: where, the name sent and checked, the CA file
    measure builds in (None: the system store's root), the proof, its profile, and the
    application protocols offered to it (the device file's or --alpn; empty: none asked)."""
    index: int
    host: str
    port: int
    sni: str
    ca: str
    proof: object
    profile: Profile
    count: int = 1
    alpn: tuple = ()

    @property
    def hostport(self):
        return format_hostport(self.host, self.port)

    @property
    def who(self):
        return f"server {self.index} ({self.hostport})"

    def tag(self, text):
        """text, prefixed with the server it is about when there are several."""
        return text if self.count == 1 or text is None else f"{self.who}: {text}"


def ca_files(ca):
    return [str(ca)] if isinstance(ca, (str, Path)) else [str(c) for c in ca or ()]


def trust_store(cas, work, index):
    """The one CA file measure reads for these files (PEM or DER): the file itself, or a
    PEM bundle of every certificate in them written under work (None: the system store)."""
    if not cas:
        return None
    if len(cas) == 1:
        return cas[0]
    pems = []
    for c in cas:
        pems.extend(pki.pem_text(der) for der in measure_mod.read_anchors(c))
    return str(paths.write_atomic(Path(work) / f"trust-store-{index}.pem", "".join(pems)))


def as_device(target, opts):
    """A device_mod.Device from fit's target: "HOST[:PORT]" (opts' --sni, --ca, --proof,
    --alpn and identity), a list of them, or a Device (opts' --proof and --alpn where a
    server has none)."""
    if isinstance(target, device_mod.Device):
        servers = tuple(replace(s, proof=s.proof if s.proof is not None else opts.proof,
                                alpn=s.alpn or tuple(opts.alpn), dtls=s.dtls or opts.dtls)
                        for s in target.servers)
        return replace(target, servers=servers, client=target.client or opts.client)
    hosts = [target] if isinstance(target, str) else list(target)
    dev = device_mod.from_hosts(hosts, opts.sni, ca_files(opts.ca), opts.proof, opts.client,
                                dtls=opts.dtls)
    dev = replace(dev, servers=tuple(replace(s, alpn=tuple(opts.alpn)) for s in dev.servers))
    if opts.psk is not None:
        dev = replace(dev, servers=tuple(replace(s, psk_identity=opts.psk.identity,
                                                 psk_key_file=Path(opts.psk_key_file))
                                         for s in dev.servers))
    return dev


def with_device_psk(dev, opts):
    """opts with the device file's pre-shared key (read here: core.pskkey.load) when a
    server names one and --psk-identity was not given."""
    named = [s for s in dev.servers if s.psk_identity]
    if not named or opts.psk is not None:
        return opts
    from ..core import pskkey
    return replace(opts, psk=pskkey.load(named[0].psk_identity, named[0].psk_key_file),
                   psk_key_file=str(named[0].psk_key_file))


def probe_sites(dev, opts, work, progress):
    """[Site] for every server of the device, probed (or, for one server, --profile)."""
    if opts.profile and len(dev.servers) > 1:
        raise TlsfitError(USAGE, "--profile reuses one server's profile: fit several servers "
                                 "without it (each is probed)")
    sites, n = [], len(dev.servers)
    for i, spec in enumerate(dev.servers, 1):
        cas = [str(c) for c in spec.ca]
        who = f"server {i} ({spec.hostport})"
        if opts.profile:
            prof = profile_mod.read(opts.profile)
        else:
            progress.say(f"[probe] probing {spec.hostport}")
            popts = probing.Options(sni=spec.sni, cas=cas, timeout=5, alpn=spec.alpn,
                                    psk=opts.psk if spec.psk_identity else None,
                                    dtls=opts.dtls or spec.dtls, client=dev.client)
            try:
                prof = Profile.of(probing.run(spec.hostport, popts))
            except TlsfitError as e:
                if n == 1:
                    raise
                raise TlsfitError(e.code, f"{who} could not be probed (exit {e.code}"
                                  + (f": {e.message}" if e.message else ", the prober's message "
                                     "above") + "): check it is reachable, or leave it out") \
                    from None
        sni = spec.sni or prof.target.sni or spec.host
        sites.append(Site(i, spec.host, spec.port, sni, trust_store(cas, work, i), spec.proof,
                          prof, n, spec.alpn))
    return sites


def load_anchor(opts, out_dir):
    """--anchor CERT: opts with CERT loaded (exit 50 when it is not one certificate),
    before anything is probed; named as the fit's copy, DIR/anchor.pem, as the header's
    Regenerate line names it."""
    if opts.anchor is None or isinstance(opts.anchor, anchor_mod.AnchorCert):
        return opts
    name = refit.repo_name(Path(out_dir) / refit.ANCHOR_FILE)
    return replace(opts, anchor=anchor_mod.AnchorCert.load(opts.anchor, name))


def anchor_sites(sites, opts, out_dir):
    """(sites, opts) for --anchor: CERT copied to DIR/anchor.pem (a certificate, no key)
    and that copy the only CA of every server whose path holds CERT (exit 50 when none
    does); opts without the anchor when CERT already is every such server's anchor."""
    if opts.anchor is None:
        return sites, opts
    _, placements, gopts = gen.anchored([s.profile for s in sites],
                                        GenOptions(anchor=opts.anchor))
    copy = paths.write_atomic(Path(out_dir) / refit.ANCHOR_FILE, opts.anchor.pem())
    sites = [replace(s, ca=str(copy)) if p is not None else s
             for s, p in zip(sites, placements)]
    return sites, replace(opts, anchor=gopts.anchor)
