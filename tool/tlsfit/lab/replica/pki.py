"""The replica's certificates: its chain, synthesized with the openssl CLI and cached,
and the device identity it offers a run that brings none.

    chain_dir(plan) -> <cache>/replay/<hash>/   fullchain.pem, leaf.key, ca.pem,
                                                client-cas.pem, sizes.json
    device_identity(replica) -> (cert, key) | None
    replica_identity(replica, client_given) -> ReplicaIdentity | None

The chain has the recorded length, key types and sizes and signature algorithms, each
certificate padded to its recorded DER size with a non-critical nsComment extension
(which mbedTLS and OpenSSL ignore), so the Certificate message and the largest record
match within a few bytes (ECDSA signatures vary by a byte or two).  Chains are cached
per chain description (RSA-4096 key generation is slow); the replica's private keys
live only there (mode 0600), never in a profile or report.
"""
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

from ...core import paths, pki, proc as proc_mod
from ...core.errors import REPLAY
from ...core.text import say
from .. import refservers
from .planning import HOST, CertSpec

CMD_TIMEOUT = 300           # seconds for one openssl CLI command (RSA-8192 keygen)
DAYS = 3650
PAD_TRIES = 6               # re-signings to hit a certificate's recorded size
SERIAL_LEN = 8              # bytes of a serial before fine-tuning a certificate's size
NSCOMMENT_MIN = 18          # bytes an nsComment extension of one character adds


# ----------------------------------------------------------- the chain, cached

def _run(args, what):
    """`openssl ARGS` (core.pki.openssl): its stdout, or exit 48 naming WHAT."""
    return pki.openssl(args, what, REPLAY, CMD_TIMEOUT)


def _genkey(spec, path):
    """A private key for spec ("ec:P-256", ...) in a file created 0600 before the key is
    written into it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    _run(["genpkey", *refservers.genpkey_options(spec), "-out", str(path)],
         f"generating a {spec} key")
    return path


def _sign_opts(spec):
    opts = [f"-{spec.digest}"] if spec.digest else []
    if spec.pss:
        opts += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"]
    return opts


def _make_cert(d, stem, cn, spec, issuer, sni, pad=0, serial_len=SERIAL_LEN):
    """Writes d/stem.pem (signed by issuer (pem, key), or self-signed) with `pad`
    characters of nsComment and a serial of serial_len bytes, for the key d/stem.key;
    returns its DER size."""
    padding = f"nsComment = \"{'x' * pad}\"" if pad > 0 else ""
    cfg = d / f"{stem}.cnf"
    cfg.write_text(pki.openssl_config({
        "ca": [*pki.ca_lines(), "authorityKeyIdentifier = keyid" if issuer else "", padding],
        "leaf": [*pki.leaf_lines(spec.key), f"subjectAltName = DNS:{sni}, IP:{HOST}", padding]}))
    key, pem = d / f"{stem}.key", d / f"{stem}.pem"
    # positive, no DER padding: the first byte is 0x1X
    serial = "0x1" + os.urandom(serial_len).hex()[:2 * serial_len - 1]
    section = "ca" if spec.is_ca else "leaf"
    if issuer is None:
        _run(["req", "-new", "-x509", "-key", str(key), "-subj", f"/CN={cn}",
              "-days", str(DAYS), *_sign_opts(spec), "-set_serial", serial, "-config", str(cfg),
              "-extensions", section, "-out", str(pem)], f"making the certificate {cn}")
    else:
        csr = d / f"{stem}.csr"
        _run(["req", "-new", "-key", str(key), "-subj", f"/CN={cn}",
              "-config", str(cfg), "-out", str(csr)], f"making the request for {cn}")
        _run(["x509", "-req", "-in", str(csr), "-CA", str(issuer[0]),
              "-CAkey", str(issuer[1]), "-set_serial", serial, "-days", str(DAYS),
              *_sign_opts(spec), "-extfile", str(cfg), "-extensions", section,
              "-out", str(pem)], f"signing the certificate {cn}")
        csr.unlink()
    der = _run(["x509", "-in", str(pem), "-outform", "DER"], f"reading {pem}")
    return len(der)


def _padded_cert(d, stem, cn, spec, issuer, sni):
    """The certificate re-made until its DER size is the recorded one: coarse steps by
    an nsComment extension (at least NSCOMMENT_MIN bytes), fine steps by the serial's
    length (1 to 20 bytes), re-signed when an ECDSA signature came out a byte off."""
    size = _make_cert(d, stem, cn, spec, issuer, sni)
    if spec.der_len <= 0:
        return size
    pad, serial = 0, SERIAL_LEN
    for _ in range(PAD_TRIES):
        short = spec.der_len - size
        if short == 0:
            break
        if 1 - serial <= short <= 20 - serial:
            serial += short
        elif short > 0:
            step = short - NSCOMMENT_MIN + 1 if pad == 0 else short
            pad = max(1, pad + step)
        else:
            break                               # larger than recorded even at its leanest
        size = _make_cert(d, stem, cn, spec, issuer, sni, pad, serial)
    return size


def _synthesize(p, d):
    """Makes the chain of plan p in directory d: keys, certificates, fullchain.pem (the
    certificates sent), ca.pem (the anchor), client-cas.pem, sizes.json."""
    _genkey(p.anchor.key, d / "root.key")
    sizes = {"root": _padded_cert(d, "root", "tlsfit replica", p.anchor, None, p.sni)}
    issuer = (d / "root.pem", d / "root.key")
    made = []
    for i in range(len(p.chain) - 1, -1, -1):
        spec = p.chain[i]
        stem = "leaf" if i == 0 else f"ca{i}"
        _genkey(spec.key, d / f"{stem}.key")
        cn = p.sni if i == 0 else f"tlsfit replica i{i}"
        sizes[stem] = _padded_cert(d, stem, cn, spec, issuer, p.sni)
        issuer = (d / f"{stem}.pem", d / f"{stem}.key")
        made.insert(0, d / f"{stem}.pem")
    if p.anchor_sent:
        made.append(d / "root.pem")
    (d / "fullchain.pem").write_bytes(b"".join(f.read_bytes() for f in made))
    (d / "ca.pem").write_bytes((d / "root.pem").read_bytes())
    cas = []
    if p.client_ca_names:
        _genkey("ec:P-256", d / "clientca.key")
        for k in range(p.client_ca_names):
            spec = CertSpec("ec:P-256", "sha256", False, 0, True)
            _make_cert(d, "clientca", f"tlsfit replica client CA {k + 1}", spec, None, p.sni, 0)
            cas.append((d / "clientca.pem").read_bytes())
    (d / "client-cas.pem").write_bytes(b"".join(cas))
    (d / "sizes.json").write_text(json.dumps(sizes) + "\n")
    for f in d.glob("*.cnf"):
        f.unlink()


DEVICE_CN = "tlsfit replica device"
DEVICE_KEY = "ec:P-256"     # the replica's own device key: the commonest device key


class ReplicaIdentity(NamedTuple):
    """The replica's own device identity as a run presents it: the certificate and key
    files, and the one line that says so (stderr, or fit's note)."""
    cert: Path
    key: Path
    note: str


def device_identity(r):
    """(certificate, key) files of a device identity for replica `r` (which accepts any
    client certificate, see the differences): a self-signed DEVICE_KEY certificate made
    once beside its chain (key mode 0600), for runs that have no identity of their own
    (the bench).  None when the replica requests no client certificate."""
    if not r.requires_client:
        return None
    d = Path(r.chain_dir)
    cert = d / "device.pem"
    with proc_mod.locked(d):
        if not cert.is_file():          # made under a temporary name, then moved in place
            _genkey(DEVICE_KEY, d / "device-new.key")
            _make_cert(d, "device-new", DEVICE_CN,
                       CertSpec(DEVICE_KEY, "sha256", False, 0, False), None, r.sni)
            (d / "device-new.cnf").unlink()
            os.replace(d / "device-new.key", d / "device.key")
            os.replace(d / "device-new.pem", cert)
    return cert, d / "device.key"


def chain_dir(p):
    """<cache>/replay/<hash>: the synthesized chain of plan p, made once."""
    root = paths.cache_dir() / "replay"
    d = root / p.chain_key()
    if (d / "sizes.json").is_file():
        return d
    root.mkdir(parents=True, exist_ok=True)
    say(f"making the replica's certificate chain ({len(p.chain)} certificates, "
         f"{', '.join(c.key for c in p.chain)}; once, cached in {d})...")
    tmp = Path(tempfile.mkdtemp(prefix=".make-", dir=root))
    try:
        os.chmod(tmp, 0o700)
        _synthesize(p, tmp)
        try:
            os.rename(tmp, d)
        except OSError:
            if not (d / "sizes.json").is_file():      # not another run's finished copy
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return d


def size_differences(p, d):
    sizes = json.loads((d / "sizes.json").read_text())
    out = []
    for i, spec in enumerate(p.chain):
        got = sizes["leaf" if i == 0 else f"ca{i}"]
        if spec.der_len and abs(got - spec.der_len) > 4:
            out.append(f"chain[{i}].der_len: {got} B, recorded {spec.der_len} B (the smallest "
                       "certificate the replica makes with that key is larger)"
                       if got > spec.der_len else
                       f"chain[{i}].der_len: {got} B, recorded {spec.der_len} B")
    return out


def replica_identity(r, client_given):
    """The ReplicaIdentity of replica `r` when it requests a client certificate and the
    run brings none (client_given false); else None: a given identity is presented as
    it is (the replica accepts any)."""
    ident = None if client_given else device_identity(r)
    if ident is None:
        return None
    cert, key = ident
    return ReplicaIdentity(cert, key, "the replica requests a client certificate and none "
                           f"was given: presenting the replica's own device identity "
                           f"({DEVICE_KEY}, {cert}); give --client-cert/--client-key to fit "
                           "the device's own key type")
