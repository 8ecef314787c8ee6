"""Whether a configuration header is for a DTLS server: `tlsfit gen` defines TLSFIT_DTLS
in the header of a profile from `tlsfit probe --dtls` (header/dtls.py), and the verify
client built with it speaks DTLS over UDP (tool/verify/dtls.c).  `tlsfit verify` reads
it to choose the proof by port (5684: CoAP over DTLS)."""
import re
from pathlib import Path

_DTLS_DEFINE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+TLSFIT_DTLS\b(?!_)", re.M)


def header_is_dtls(config_path):
    """True when the header defines TLSFIT_DTLS (False when it cannot be read: the
    build reports that)."""
    try:
        return bool(_DTLS_DEFINE.search(Path(config_path).read_bytes()))
    except OSError:
        return False
