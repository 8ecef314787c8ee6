"""The crypto half of a configuration, for the builds that take two files (4.x).

    crypto_half(config_path, tree) -> bytes of the crypto file, or None before 4.0
    CRYPTO_COPY                    the name builds give their copy ("tls_config_crypto.h")
    crypto_defines(tree)           the compiler's -D for the copy (empty before 4.0)

An mbedTLS 4.x build reads MBEDTLS_CONFIG_FILE (TLS, X.509) and
TF_PSA_CRYPTO_CONFIG_FILE (crypto, platform, PSA).  A build copies the TLS file
as tls_config.h and, for a 4.x tree, its crypto file (found by configfiles.py:
X.h -> X_crypto.h) as tls_config_crypto.h beside it; both copies are part of the
build's cache key, as their code (code_of: the comments gen writes, which name the
server, its port and the probe's time, do not change what is built).
"""
import re
from pathlib import Path

from ..core.errors import FILE, TlsfitError
from .configfiles import crypto_config_path, two_files

CRYPTO_COPY = "tls_config_crypto.h"
# a string or character literal (kept), or a comment (dropped)
_LITERAL_OR_COMMENT = re.compile(rb'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|//[^\n]*|/\*.*?\*/',
                                 re.S)


def crypto_half(config_path, tree):
    """The bytes of config_path's crypto file when `tree` takes two files, else None.
    Raises TlsfitError(FILE) naming the file when it is missing or unreadable."""
    if not two_files(tree.line):
        return None
    crypto = crypto_config_path(config_path)
    try:
        return Path(crypto).read_bytes()
    except OSError as e:
        name = Path(config_path).name
        raise TlsfitError(FILE, f"{crypto}: cannot read the crypto half of {name} "
                                f"({e.strerror}); mbedTLS {tree.version} takes two files, "
                                f"{name} and {crypto.name} beside it") from None


def crypto_defines(tree):
    """The -D that names the crypto copy to the compiler (a list; empty before 4.0)."""
    return [f'-DTF_PSA_CRYPTO_CONFIG_FILE="{CRYPTO_COPY}"'] if two_files(tree.line) else []


def code_of(data):
    """A configuration file's bytes without its comments, blank lines and trailing
    blanks: two files with the same code build the same library (the 4.x builds' cache
    key; gen's comments hold the server's port and the probe's time)."""
    text = _LITERAL_OR_COMMENT.sub(lambda m: m.group(0) if m.group(0)[:1] in b"\"'" else b" ",
                                   data)
    lines = (line.rstrip() for line in text.split(b"\n"))
    return b"\n".join(line for line in lines if line)
