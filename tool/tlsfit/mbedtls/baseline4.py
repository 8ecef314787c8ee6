"""The baseline for an mbedTLS 4.x tree: its DEFAULT configuration, both files, as they are.

    baseline_pair(tree) -> path of the TLS file (its crypto file beside it, configfiles.py)
    PRESET               the report's name for it ("default")
    PLATFORM_CHANGE      what a bare-metal build changes, each with why (the report's)

3.x's baseline is the default put through scripts/config.py's bare-metal preset
(baseline.py).  For 4.x the baseline is the tree's own include/mbedtls/mbedtls_config.h
and tf-psa-crypto/include/psa/crypto_config.h, copied unchanged into the cache as a
pair.  That default does not cross-compile for a Cortex-M as it is (shared/upstream's
README, "Cross, Cortex-M4": the obstacles found, in order); the smallest change that
builds it is what the 4.x overlays do for every 4.x cross build
(tool/firmware/tlsfit_overlay_crypto.h and tlsfit_overlay4.h), which the firmware
reports in "overlay".  PLATFORM_CHANGE is that change as data, for the report's
baseline "config".
"""
import hashlib
import os

from ..core import paths
from ..core.proc import locked
from .configfiles import crypto_config_path

FORMAT = "tlsfit-baseline4-1"
PRESET = "default"
TLS_NAME = "mbedtls_default.h"

# (option, change, why it cannot stay on a Cortex-M: the file and line that say so)
PLATFORM_CHANGE = (
    ("MBEDTLS_PSA_BUILTIN_GET_ENTROPY", "off; MBEDTLS_PSA_DRIVER_GET_ENTROPY on",
     "tf-psa-crypto/drivers/builtin/src/platform_util.c:271 #error: the built-in entropy "
     "sources only work on Unix and Windows; the device answers "
     "mbedtls_platform_get_entropy()"),
    ("MBEDTLS_PLATFORM_MS_TIME_ALT", "on",
     "tf-psa-crypto/drivers/builtin/src/platform_util.c:262 #error \"No mbedtls_ms_time "
     "available\" with MBEDTLS_HAVE_TIME off Unix; the device supplies mbedtls_ms_time()"),
    ("MBEDTLS_FS_IO", "off", "library/x509_crt.c includes <dirent.h>, which newlib has not"),
    ("MBEDTLS_PSA_ITS_FILE_C", "off",
     "tf-psa-crypto/core/tf_psa_crypto_check_config.h:538: needs MBEDTLS_FS_IO"),
    ("MBEDTLS_PSA_CRYPTO_STORAGE_C", "off",
     "tf-psa-crypto/core/psa_crypto_storage.c needs a platform's ITS (psa/error.h)"),
    ("MBEDTLS_PLATFORM_MEMORY", "on",
     "not needed to build: the measurement's counting allocator is installed with "
     "mbedtls_platform_set_calloc_free (the heap figure)"),
    ("MBEDTLS_NET_C", "off",
     "library/net_sockets.c #error: this module only works on Unix and Windows"),
    ("MBEDTLS_TIMING_C", "off",
     "library/timing.c #error: this module only works on Unix and Windows"),
)


def platform_change():
    """PLATFORM_CHANGE as the report's list of {option, change, why}."""
    return [{"option": o, "change": c, "why": w} for o, c, w in PLATFORM_CHANGE]


def baseline_pair(tree, progress=False):
    """The default configuration of `tree` as a pair in the cache (made once): returns
    the TLS file's path; its crypto file is configfiles.crypto_config_path of it."""
    sources = (tree.path / "include" / "mbedtls" / "mbedtls_config.h",
               tree.crypto / "include" / "psa" / "crypto_config.h")
    h = hashlib.sha256(f"{FORMAT}\0{tree.path}\0{tree.version}".encode())
    for s in sources:
        h.update(s.read_bytes())
    d = paths.xbuild_dir() / f"baseline-{tree.line}-{h.hexdigest()[:16]}"
    tls = d / TLS_NAME
    crypto = crypto_config_path(tls)
    if tls.is_file() and crypto.is_file():
        return tls
    with locked(d):
        for source, dest in zip(sources, (tls, crypto)):
            rel = source.relative_to(tree.path)
            banner = (f"/* tlsfit baseline: mbedTLS {tree.version}'s {rel}, unchanged (its "
                      "default configuration).  Generated; do not edit. */\n")
            tmp = dest.with_name(dest.name + ".tmp")
            tmp.write_text(banner + source.read_text())
            os.replace(tmp, dest)
    return tls
