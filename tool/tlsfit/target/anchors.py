"""The trust anchors built into the measured firmware, as DER.

    read_anchors(path) -> [DER, ...]       the certificates of --ca (PEM bundle or DER)
    system_anchors(host, port, sni, store=SYSTEM_STORE_DIR)
                                        -> ([DER, ...], [store file, ...])
                                           no --ca: the system-store root of the
                                           server's chain

Only the anchors that verify the server go into run_params.c (params.py): the
system store is never copied whole into the image.  PEM and DER: core/pki.py.
"""
from pathlib import Path

from ..core import pki
from ..core.errors import FILE, TARGET, USAGE, TlsfitError
from ..core.hostport import format_hostport

SYSTEM_STORE_DIR = Path("/etc/ssl/certs")


def read_anchors(path):
    """The certificates of a PEM bundle or DER file, as DER."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise TlsfitError(FILE, f"{p}: cannot read the CA file: {e.strerror}") from None
    pems = pki.pem_certificates(data)
    if pems:
        return pems
    try:
        certs = pki.der_sequences(data)
    except ValueError:
        certs = []
    if not certs:
        raise TlsfitError(FILE, f"{p}: holds no certificate (PEM or DER)")
    return certs


def _openssl(args, what, stdin=b""):
    """`openssl ARGS` run to the end whatever its exit status (core.pki.openssl)."""
    return pki.openssl(args, what, TARGET, stdin=stdin, check=False,
                       hint="name the root with --ca", missing_code=USAGE)


def system_anchors(host, port, sni, store=SYSTEM_STORE_DIR):
    """The system-store root(s) that issued the server's last certificate:
    one `openssl s_client -showcerts` connection, then the hashed names in
    `store` (OpenSSL's hashed directory, /etc/ssl/certs).  Only those go into the
    firmware."""
    what = "finding the server's root in the system store (no --ca given)"
    proc = _openssl(["s_client", "-connect", format_hostport(host, port), "-servername", sni,
                     "-showcerts"], what)
    chain = pki.pem_certificate_blocks(proc.stdout)
    if not chain:
        raise TlsfitError(TARGET, f"{what}: the server at {format_hostport(host, port)} sent no "
                                  "certificate; name the root with --ca FILE")
    h = _openssl(["x509", "-noout", "-issuer_hash"], what, stdin=chain[-1]).stdout.strip()
    found = sorted(Path(store).glob(f"{h.decode()}.[0-9]*")) if h else []
    if not found:
        raise TlsfitError(USAGE, f"no --ca given and the root that issued the server's "
                                 f"certificates is not in {store}; name it "
                                 "with --ca FILE")
    certs = []
    for f in found:
        certs.extend(read_anchors(f))
    return certs, [str(f) for f in found]

