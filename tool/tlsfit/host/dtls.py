"""Whether a configuration header is for a DTLS server: `tlsfit gen` defines TLSFIT_DTLS
in the header of a profile from `tlsfit probe --dtls` (header/dtls.py), and the verify
client built with it speaks DTLS over UDP (tool/verify/dtls.c).  `tlsfit verify` reads
it to choose the proof by port (5684: CoAP over DTLS); measure and fit refuse a DTLS
header or profile (the firmware's relay carries TCP only)."""
import re
from pathlib import Path

from ..core.errors import DTLS_ON_TARGET, TlsfitError
from ..profile import dtlsfacts

_DTLS_DEFINE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+TLSFIT_DTLS\b(?!_)", re.M)


def header_is_dtls(config_path):
    """True when the header defines TLSFIT_DTLS (False when it cannot be read: the
    build reports that)."""
    try:
        return bool(_DTLS_DEFINE.search(Path(config_path).read_bytes()))
    except OSError:
        return False


_ON_TARGET = ("the firmware under QEMU reaches the server through a TCP relay, so a DTLS "
              "session cannot be measured yet; prove the header on this machine with "
              "`tlsfit verify --config HEADER HOST:PORT` (it speaks DTLS over UDP)")


def refuse_on_target(config_path=None, profile=None):
    """TlsfitError(DTLS_ON_TARGET) when the header or the profile is DTLS."""
    if config_path is not None and header_is_dtls(config_path):
        raise TlsfitError(DTLS_ON_TARGET, f"{config_path} is a DTLS header: {_ON_TARGET}")
    if profile is not None and dtlsfacts.is_dtls(profile):
        raise TlsfitError(DTLS_ON_TARGET, f"the profile of {profile['target']['host']}:"
                                          f"{profile['target']['port']} is of a DTLS server: "
                                          f"{_ON_TARGET}")
