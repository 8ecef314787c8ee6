"""Pre-shared keys: --psk-identity ID --psk-key-file FILE, read once, handed to the C
tools on an inherited pipe.

    parse_key(data)            -> the key's bytes (ValueError: why not)
    load(identity, key_file)   -> Psk, or None when neither option was given
                                  (TlsfitError PSK_KEY: one line naming the file)
    key_pipe(psk)              -> context manager: a readable, inheritable fd holding
                                  the key, closed on exit (the C tools' --psk-key-fd N)

The key never goes on a command line (`ps` shows argv), into a profile, report,
header, cache or log: only the identity and the key's length leave this module.
A Psk's repr shows neither key bytes nor their hex.  uart_frame(psk) is what the
measure relay sends the firmware over its UART (never built into an image).
"""
import contextlib
import os
import re

from .errors import PSK_KEY, TlsfitError

MAX_KEY = 64             # bytes; the prober's TF_PSK_MAX_KEY and MBEDTLS_PSK_MAX_LEN's ceiling here
MAX_IDENTITY = 128       # bytes of UTF-8; the prober's TF_PSK_MAX_IDENTITY
MAX_FILE = 4096          # a key file larger than this is not a key file
_WHITESPACE = re.compile(rb"\s+")
_HEX = re.compile(rb"[0-9A-Fa-f]+\Z")


class Psk:
    """An identity (str) and its key (bytes); the key stays out of repr and str."""
    __slots__ = ("identity", "key")

    def __init__(self, identity, key):
        self.identity = identity
        self.key = key

    def __repr__(self):
        return f"Psk(identity={self.identity!r}, key=<{len(self.key)} bytes>)"

    __str__ = __repr__


def parse_key(data):
    """The key a key file holds: hex digits (whitespace anywhere ignored, an even
    number of digits), else the raw bytes as they are.  ValueError when empty, an odd
    number of hex digits or over MAX_KEY bytes."""
    digits = _WHITESPACE.sub(b"", data)
    if not digits:
        raise ValueError("it is empty (give the key as hex digits or raw bytes)")
    if _HEX.match(digits):
        if len(digits) % 2:
            raise ValueError(f"it holds an odd number of hex digits ({len(digits)}); "
                             "a key is whole bytes")
        key = bytes.fromhex(digits.decode("ascii"))
    else:
        key = bytes(data)
    if len(key) > MAX_KEY:
        raise ValueError(f"the key is {len(key)} bytes, over the {MAX_KEY} bytes tlsfit takes")
    return key


def check_identity(identity):
    """identity when it is 1..MAX_IDENTITY bytes of UTF-8, else ValueError."""
    n = len(identity.encode("utf-8", "surrogateescape"))
    if not 0 < n <= MAX_IDENTITY:
        raise ValueError(f"--psk-identity must be 1 to {MAX_IDENTITY} bytes, not {n}")
    return identity


def load(identity, key_file):
    """The Psk the two options name; None when neither is given.  Raises
    TlsfitError(PSK_KEY) when only one is, the identity is empty or too long, or
    the file cannot be read or holds no usable key."""
    if identity is None and key_file is None:
        return None
    if identity is None or key_file is None:
        raise TlsfitError(PSK_KEY, "--psk-identity and --psk-key-file go together: give both "
                                   "(the identity the server knows and the file holding its key)")
    try:
        check_identity(identity)
    except ValueError as e:
        raise TlsfitError(PSK_KEY, str(e)) from None
    try:
        with open(key_file, "rb") as f:
            data = f.read(MAX_FILE + 1)
    except OSError as e:
        raise TlsfitError(PSK_KEY, f"--psk-key-file {key_file}: cannot read it: "
                                   f"{e.strerror or e}") from None
    try:
        if len(data) > MAX_FILE:
            raise ValueError(f"it is over {MAX_FILE} bytes, not a key file")
        key = parse_key(data)
    except ValueError as e:
        raise TlsfitError(PSK_KEY, f"--psk-key-file {key_file}: {e}") from None
    return Psk(identity, key)


@contextlib.contextmanager
def key_pipe(psk):
    """Yields the read end of a pipe holding psk.key, inheritable, so a child started
    meanwhile reads it from its --psk-key-fd; both ends closed on exit."""
    r, w = os.pipe()
    try:
        os.write(w, psk.key)         # at most MAX_KEY bytes: well within a pipe's buffer
        os.close(w)
        w = -1
        os.set_inheritable(r, True)
        yield r
    finally:
        if w >= 0:
            os.close(w)
        os.close(r)


def uart_frame(psk):
    """What the relay sends the measure firmware before any TLS byte (tool/firmware/
    psk_key.c): the key's length (one byte) and the key; b"" without a key."""
    return b"" if psk is None else bytes([len(psk.key)]) + psk.key


def fd_args(psk, fd):
    """The C tools' options for psk whose key is on fd."""
    return ["--psk-identity", psk.identity, "--psk-key-fd", str(fd)]
