"""The device's own identity for mutual TLS: its certificate and private key.

    ident = ClientIdentity.load("device.pem", "device.key")   # checked, or IDENTITY (44)
    ident.key_type, ident.bits, ident.curve, ident.subject, ident.issuer
    ident.signature_algorithm, ident.signature_hash, ident.cert_der()
    ident.facts()                 # the public facts, for reports and gen

A broker with `require_certificate true`, AWS IoT Core or Azure IoT Hub make the
client present a certificate and sign the handshake with its key.  `gen` needs only
the certificate's public facts (key type and size or curve, the certificate's own
signature algorithm, which mbedTLS must know to parse it); `verify` and `measure`
also take the key and hand its PATH to the verify client or the firmware build.

The key's bytes are never kept here: load() only checks, with the openssl CLI reading
the file itself, that the key is a readable, unencrypted private key whose public half
is the certificate's.  key_der() reads them when the firmware's run parameters are
written (measure, test builds only) and returns them to that caller alone.
Every error is one line naming the file and the next step.
"""
import re
from dataclasses import dataclass, replace
from pathlib import Path

from . import pki
from .errors import IDENTITY, TlsfitError

# openssl's curve names -> the names profiles and rules use
CURVES = {"prime256v1": "secp256r1", "secp256r1": "secp256r1", "secp384r1": "secp384r1",
          "secp521r1": "secp521r1", "brainpoolP256r1": "brainpoolP256r1",
          "brainpoolP384r1": "brainpoolP384r1", "brainpoolP512r1": "brainpoolP512r1"}
KEY_TYPES = {"rsaEncryption": "rsa", "id-ecPublicKey": "ec", "ED25519": "ed25519",
             "ED448": "ed448", "rsassaPss": "rsa-pss", "dsaEncryption": "dsa"}


def _fail(message):
    raise TlsfitError(IDENTITY, message)


def _openssl(args, what):
    """`openssl ARGS` run to the end (core.pki.openssl), whatever its exit status."""
    return pki.openssl(args, what, IDENTITY, check=False)


def _read(path, what):
    p = Path(path)
    try:
        return p.read_bytes()
    except IsADirectoryError:
        _fail(f"{p}: is a directory, not the device {what}")
    except OSError as e:
        _fail(f"{p}: cannot read the device {what}: {e.strerror}")


def _cert_text(path):
    """(openssl x509 -text output, the certificate's DER) of the first certificate."""
    data = _read(path, "certificate (--client-cert)")
    pem = pki.PEM_CERT.search(data) is not None
    form = "PEM" if pem else "DER"
    if not pem and b"-----BEGIN" in data:
        _fail(f"{path}: holds no CERTIFICATE block; --client-cert takes the device's "
              "certificate (PEM or DER), the key goes to --client-key")
    proc = _openssl(["x509", "-in", str(path), "-inform", form, "-noout", "-text",
                     "-nameopt", "RFC2253", "-certopt", "no_sigdump,no_extensions"],
                    f"reading {path}")
    if proc.returncode != 0:
        _fail(f"{path}: not a certificate (openssl cannot parse it as {form} X.509); "
              "--client-cert takes the device's certificate")
    return proc.stdout.decode(errors="replace"), pki.pem_certificate(data) if pem else None


def _field(text, label):
    m = re.search(rf"^\s*{re.escape(label)}:\s*(.*)$", text, re.M)
    return m.group(1).strip() if m else None


def _public_key(args, what):
    """openssl's output (bytes, as it is: a DER public key may end in a byte that
    strip() would take for whitespace), or None when openssl failed."""
    proc = _openssl(args, what)
    return proc.stdout if proc.returncode == 0 else None


@dataclass(frozen=True)
class ClientIdentity:
    """The device's certificate (and the path of its key): public facts only."""
    cert: Path
    key: Path = None
    key_type: str = None           # "ec" or "rsa"
    bits: int = None               # RSA modulus or EC field size
    curve: str = None              # "secp256r1", ... (EC keys)
    subject: str = None
    issuer: str = None
    signature_algorithm: str = None   # the certificate's own, e.g. "sha256WithRSAEncryption"
    der_len: int = None            # the certificate's DER size (the client's Certificate message)

    @classmethod
    def load(cls, cert, key=None):
        """Checks the certificate (PEM or DER) and, when given, that the key is a
        readable unencrypted private key of that certificate.  Raises
        TlsfitError(IDENTITY) with one line naming the file otherwise."""
        cert = Path(cert)
        text, _ = _cert_text(cert)
        algo = _field(text, "Public Key Algorithm") or "unknown"
        key_type = KEY_TYPES.get(algo, algo)
        m = re.search(r"Public-Key:\s*\((\d+) bit\)", text)
        bits = int(m.group(1)) if m else None
        curve = None
        if key_type == "ec":
            oid = _field(text, "ASN1 OID")
            curve = CURVES.get(oid or "")
            if curve is None:
                _fail(f"{cert}: the device key is on curve {oid or 'unknown'}, which mbedTLS "
                      "cannot sign with (use P-256, P-384, P-521 or a brainpool curve)")
        elif key_type != "rsa":
            _fail(f"{cert}: the device certificate has a {key_type} key; mbedTLS signs the "
                  "handshake only with ECDSA or RSA keys")
        ident = cls(cert, Path(key) if key is not None else None, key_type, bits, curve,
                    _field(text, "Subject"), _field(text, "Issuer"),
                    _field(text, "Signature Algorithm"))
        ident = replace(ident, der_len=len(ident.cert_der()))
        if key is not None:
            ident._check_key(cert, Path(key))
        return ident

    def _check_key(self, cert, key):
        data = _read(key, "key (--client-key)")
        if b"ENCRYPTED" in data:
            _fail(f"{key}: the key is encrypted; the test needs it in the clear: "
                  f"openssl pkey -in {key} -out plain.key")
        form = "PEM" if b"-----BEGIN" in data else "DER"
        if form == "PEM" and pki.pem_private_key(data) is None:
            _fail(f"{key}: holds no PRIVATE KEY block; --client-key takes the device's "
                  "private key (PEM or DER)")
        mine = _public_key(["pkey", "-in", str(key), "-inform", form, "-passin", "pass:",
                            "-pubout", "-outform", "DER"], f"reading {key}")
        if not mine:
            _fail(f"{key}: not a private key (openssl cannot parse it as {form}); "
                  "--client-key takes the device's private key")
        cform = "PEM" if pki.PEM_CERT.search(_read(cert, "certificate")) else "DER"
        theirs = _public_key(["x509", "-in", str(cert), "-inform", cform, "-noout", "-pubkey"],
                             f"reading {cert}")
        theirs_der = pki.pem_block(theirs, "PUBLIC KEY") if theirs else None
        if theirs_der != mine:
            _fail(f"{key}: this key does not belong to the certificate {cert} "
                  f"({self.subject}); pass the key the certificate was issued for")

    @property
    def signature_hash(self):
        """The hash of the certificate's own signature ("sha256", ...), or None."""
        m = re.search(r"(sha\d+)", (self.signature_algorithm or "").lower())
        return m.group(1) if m else None

    @property
    def certificate_msg_len(self):
        """The client's Certificate message with this certificate alone, header included
        (TLS 1.2: 4 + 3 + 3 + DER)."""
        return (self.der_len or 0) + 10

    def label(self):
        """"P-256 key" / "RSA-2048 key"."""
        if self.key_type == "rsa":
            return f"RSA-{self.bits} key"
        return f"{self.curve} key"

    def cert_der(self):
        """The certificate as DER (the first one of a PEM file)."""
        data = _read(self.cert, "certificate (--client-cert)")
        der = pki.pem_certificate(data)
        return data if der is None else der

    def key_der(self):
        """The private key as DER (PKCS#8, SEC1 or PKCS#1, as the file holds it), read
        now and returned to the caller only (the firmware's run parameters)."""
        if self.key is None:
            _fail(f"{self.cert}: no --client-key was given for this certificate")
        data = _read(self.key, "key (--client-key)")
        der = pki.pem_private_key(data)
        return data if der is None else der

    def facts(self):
        """The public facts, for reports and --json (paths, never key material)."""
        return {"cert": str(self.cert), "key": None if self.key is None else str(self.key),
                "key_type": self.key_type, "bits": self.bits, "curve": self.curve,
                "subject": self.subject, "issuer": self.issuer,
                "signature_algorithm": self.signature_algorithm, "der_len": self.der_len}


MISSING_HINT = "the server requires a client certificate: pass --client-cert and --client-key"
# Alerts a server sends when it does not accept the certificate it was given.
_REJECTED_CERT = {42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
                  45: "certificate_expired", 46: "certificate_unknown", 48: "unknown_ca",
                  49: "access_denied", 51: "decrypt_error"}


def client_cert_hint(alert, certificate_requested, client):
    """The hint for a handshake or proof that the server ended with `alert` (its
    description number, or None): without a client identity, alert certificate_required
    (116), or handshake_failure (40) after a CertificateRequest (TLS 1.2), means the
    server wants one; with one, a certificate alert means it refused it.  None otherwise."""
    if alert is None:
        return None
    if client is None:
        if alert == 116 or (alert == 40 and certificate_requested):
            return MISSING_HINT
        return None
    if alert in _REJECTED_CERT or alert == 116:
        return (f"the server refused the device certificate {client.cert} ({client.subject}, "
                f"issued by {client.issuer}) with alert {_REJECTED_CERT.get(alert, 'certificate_required')} "
                f"({alert}): it must be issued by a CA the server trusts for clients")
    return None
