"""The configuration files a header is, per mbedTLS line.

Up to 3.6 a tlsfit header is one file, passed as MBEDTLS_CONFIG_FILE (or
MBEDTLS_USER_CONFIG_FILE on a platform).  From 4.0 the configuration is two
files: the TLS and X.509 options in MBEDTLS_CONFIG_FILE and the crypto,
platform, ASN.1 and PEM options (PSA_WANT_*, MBEDTLS_PSA_*) in
TF_PSA_CRYPTO_CONFIG_FILE.  tlsfit keeps the two side by side: the crypto file
of `tls_config.h` is `tls_config_crypto.h` in the same directory.  gen writes
both, verify/measure/fit read both; this module is the one place that knows the
pairing.
"""
from pathlib import Path

CRYPTO_SUFFIX = "_crypto"


def two_files(line):
    """True when the mbedTLS line ("2.28", "3.6", "4.0") takes two config files."""
    return int(str(line).split(".")[0]) >= 4


def crypto_config_path(tls_config):
    """The TF_PSA_CRYPTO_CONFIG_FILE that belongs to the TLS config file `tls_config`
    (a path): same directory, "<stem>_crypto<suffix>"."""
    p = Path(tls_config)
    return p.with_name(p.stem + CRYPTO_SUFFIX + p.suffix)
