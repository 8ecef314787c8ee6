"""Certificates and keys as bytes: PEM blocks, DER elements, and the openssl CLI.

    pem_certificates(data) -> [DER, ...]        every CERTIFICATE block, in order
    pem_certificate(data) -> DER or None        the first one alone (only it decoded)
    pem_certificate_blocks(data) -> [PEM, ...]  the same blocks, armour included
    pem_private_key(data) -> DER or None        the first (RSA |EC )PRIVATE KEY block
    pem_block(data, label) -> DER or None       the first block with that label
    pem_text(der, label="CERTIFICATE") -> str   DER written as PEM (64 columns)
    der_element(data, off) -> (tag, body, end)  one DER element's header
    der_children(data, start, end) -> [(tag, element bytes), ...]
    der_sequences(data) -> [DER, ...]           concatenated SEQUENCEs (a DER bundle)
    openssl(args, what, code, ...)              `openssl ARGS` run with a time limit

The one home of this logic for the tool: trust anchors (target/anchors.py,
header/anchor.py), the device identity (core/identity.py), fit's trust store and the
test PKI (lab/refservers.py) read and write certificates through it.

Decoding is byte-exact: a PEM body is its base64 with every whitespace byte dropped
(lines may be CRLF or indented), and DER is returned as it is -- never strip()ped,
since a DER value may end in a byte that is whitespace to bytes.strip()
(0x09-0x0d, 0x20).  Parsers raise ValueError for malformed DER; the callers turn
it into their own one-line TlsfitError.
"""
import base64
import re

from . import proc

OPENSSL_TIMEOUT = 30          # s for one openssl CLI command unless told otherwise

# A CERTIFICATE block; group 1 is the base64 body (with its line breaks).
PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)
# A private key block: PKCS#8 "PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY" or SEC1 "EC PRIVATE
# KEY"; group 1 is the label, group 2 the body.  ENCRYPTED PRIVATE KEY is not one.
PEM_KEY = re.compile(rb"-----BEGIN ((?:RSA |EC )?PRIVATE KEY)-----(.*?)-----END \1-----", re.S)
PEM_LINE = 64                 # base64 characters per line written (RFC 7468)


def _body_der(body, validate=False):
    """The DER of a PEM body: its base64 with all whitespace removed.  validate: a
    byte outside the base64 alphabet raises ValueError (binascii.Error) instead of
    being skipped."""
    return base64.b64decode(b"".join(body.split()), validate=validate)


def pem_certificates(data, validate=False):
    """The DER of every CERTIFICATE block in data (bytes), in file order; [] when data
    holds none (it may then be DER).  validate: see _body_der."""
    return [_body_der(body, validate) for body in PEM_CERT.findall(data)]


def pem_certificate(data, validate=False):
    """The DER of the first CERTIFICATE block in data (bytes), or None (only that block
    is decoded).  validate: see _body_der."""
    m = PEM_CERT.search(data)
    return _body_der(m.group(1), validate) if m else None


def pem_certificate_blocks(data):
    """Every CERTIFICATE block in data (bytes) as it stands, BEGIN and END lines
    included (what `openssl x509` reads on stdin)."""
    return [m.group(0) for m in PEM_CERT.finditer(data)]


def pem_private_key(data):
    """The DER (PKCS#8, SEC1 or PKCS#1, as the block holds it) of the first private key
    block in data (bytes), or None when there is none."""
    m = PEM_KEY.search(data)
    return _body_der(m.group(2)) if m else None


def pem_block(data, label):
    """The DER of the first block labelled `label` (str, e.g. "PUBLIC KEY") in data
    (bytes), or None when there is none."""
    tag = re.escape(label.encode())
    m = re.search(rb"-----BEGIN " + tag + rb"-----(.*?)-----END " + tag + rb"-----", data, re.S)
    return _body_der(m.group(1)) if m else None


def pem_text(der, label="CERTIFICATE"):
    """der written as one PEM block (str): BEGIN line, base64 in lines of PEM_LINE
    characters, END line, each ending in a newline."""
    body = base64.b64encode(der).decode()
    lines = [body[i:i + PEM_LINE] for i in range(0, len(body), PEM_LINE)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def der_element(data, off):
    """(tag, start of the body, end of the element) of the DER element at off: one tag
    byte, then a short length or a long one of 1 to 4 bytes.  Invariant: off <
    len(data).  ValueError for a header or length that runs past the data."""
    if off + 2 > len(data):
        raise ValueError("truncated")
    tag, n = data[off], data[off + 1]
    body = off + 2
    if n & 0x80:
        count = n & 0x7F
        if count == 0 or count > 4 or body + count > len(data):
            raise ValueError("bad length")
        n = int.from_bytes(data[body:body + count], "big")
        body += count
    if body + n > len(data):
        raise ValueError("past the end")
    return tag, body, body + n


def der_children(data, start, end):
    """[(tag, element bytes)] of the DER elements one after another from start to end
    (the body of a constructed element).  ValueError as der_element."""
    out = []
    while start < end:
        tag, _, stop = der_element(data, start)
        out.append((tag, data[start:stop]))
        start = stop
    return out


def der_sequences(data):
    """Splits concatenated DER SEQUENCEs (a DER certificate file, one or several
    certificates back to back); ValueError when anything else is in data."""
    out, off = [], 0
    while off < len(data):
        tag, _, end = der_element(data, off)
        if tag != 0x30:
            raise ValueError("not a DER SEQUENCE")
        out.append(data[off:end])
        off = end
    return out


def openssl(args, what, code, timeout=OPENSSL_TIMEOUT, stdin=None, check=True,
            hint="run ./tlsfit setup", missing_code=None):
    """Runs `openssl ARGS` (found on PATH) with its output captured.  stdin: bytes fed
    to it (None: closed).  check: returns its stdout (bytes) and raises TlsfitError(code)
    "WHAT failed: <its last stderr line>" when it exits non-zero; check=False returns
    the subprocess.CompletedProcess whatever the exit status.  Raises TlsfitError(code)
    when openssl is not installed (TlsfitError(missing_code) when given; the message
    ends in `hint`), cannot run, or runs past `timeout` seconds ("WHAT: timed out after
    N s")."""
    cmd = [proc.tool_path("openssl", code if missing_code is None else missing_code, hint),
           *args]
    if check:
        return proc.run_tool(cmd, what, code, timeout, stdin=stdin)
    return proc.run_captured(cmd, what, code, timeout, stdin=stdin)


# ------------------------------------------------------------ openssl configuration

def ca_lines(pathlen=None, key_ids=True):
    """The extension lines of a CA certificate in tlsfit's test PKIs and replicas:
    basicConstraints (with pathlen when given), keyUsage, and a subject key identifier
    (none with key_ids=False)."""
    basic = "basicConstraints = critical, CA:true" + (f", pathlen:{pathlen}"
                                                      if pathlen is not None else "")
    return (basic, "keyUsage = critical, keyCertSign, cRLSign",
            "subjectKeyIdentifier = " + ("hash" if key_ids else "none"))


def leaf_lines(key_spec):
    """The extension lines of a server (and client) leaf for a key of key_spec
    ("rsa:2048", "ec:P-256", ...): keyEncipherment only for RSA keys, both extended
    key usages, key identifiers."""
    usage = "digitalSignature, keyEncipherment" if key_spec.startswith("rsa") \
        else "digitalSignature"
    return ("basicConstraints = critical, CA:false", f"keyUsage = critical, {usage}",
            "extendedKeyUsage = serverAuth, clientAuth", "subjectKeyIdentifier = hash",
            "authorityKeyIdentifier = keyid")


def openssl_config(sections):
    """The text of an openssl configuration for `req` and `x509 -req`: the empty
    distinguished-name section they need, then {name: lines} as [name] sections (empty
    lines are left out)."""
    out = ["[req]", "distinguished_name = dn", "[dn]"]
    for name, lines in sections.items():
        out.append(f"[{name}]")
        out.extend(line for line in lines if line)
    return "\n".join(out) + "\n"
