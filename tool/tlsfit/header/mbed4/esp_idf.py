"""gen --mbedtls 4.0 --for esp-idf: the file pair said as ESP-IDF v6's sdkconfig.defaults
and tlsfit_user_config.h (platforms/esp_idf_v6.toml, the same model and outputs as v5).

The platform model sees the pair as one decision: every option and value of both files
(ESP-IDF v6 reads one header, esp_config.h, for both halves, on top of 4.x's default
crypto configuration).  The base is that default configuration, read from a 4.x tree."""
import re
from dataclasses import dataclass, field
from pathlib import Path

from ...core import paths
from ...core.errors import SETUP, TlsfitError
from ..platforms import outputs
from . import LINE

TABLE = "esp-idf-v6"
CRYPTO_CONFIG = "tf-psa-crypto/include/psa/crypto_config.h"
_VERSION = re.compile(r'^\s*#\s*define\s+MBEDTLS_VERSION_STRING\s+"(4[0-9.]*)"', re.M)
_GUARDS = ("TLSFIT_TLS_CONFIG_H", "TLSFIT_TLS_CONFIG_CRYPTO_H")


@dataclass(frozen=True)
class PairDecision:
    """The pair as the platform model reads a plan: text (both files, without their
    include guards), options, values, and the facts and duties its files name."""
    line: str
    target: str
    text: str
    options: dict
    values: dict
    facts: dict
    duties: list
    ciphersuites: list = field(default_factory=list)


def _unguarded(text):
    return "\n".join(line for line in text.splitlines()
                     if not re.match(rf"^#\s*(define|ifndef|endif)\b.*\b({'|'.join(_GUARDS)})\b",
                                     line))


def decision(plan):
    """The PairDecision of a mbed4 PairPlan."""
    from .render import duties
    p36, f = plan.plan36, plan.files
    facts = dict(p36.facts, prove=p36.facts["prove"] + f" --mbedtls {LINE}")
    values = {**f.tls_values, **f.crypto_values,
              "MBEDTLS_SSL_CIPHERSUITES": (", ".join(p36.ciphersuites), "the chosen suites")}
    return PairDecision(LINE, p36.target, _unguarded(plan.tls_text + plan.crypto_text),
                        {**f.tls, **f.crypto}, values, facts, duties(plan),
                        list(p36.ciphersuites))


def files(plan, tree, regenerate, ranked=False):
    """outputs.Output (sdkconfig.defaults, tlsfit_user_config.h) for a PairPlan; `tree`
    is a 4.x tree (its default crypto configuration is the platform's base); ranked: the
    plan was ranked by ESP-IDF's own costs, which the files say."""
    return outputs.platform_files(decision(plan), TABLE, tree, regenerate, ranked)


def four_tree():
    """The Mbed TLS 4.x tree whose default crypto configuration ESP-IDF v6 starts from:
    the user's (--mbedtls-dir, $MBEDTLS_DIR) when it is 4.x, else the set-up cache's
    mbedtls-4.0; TlsfitError(SETUP) naming both when neither is there."""
    from ...mbedtls import tree as tree_mod
    path, origin = tree_mod.tree_source()
    tried = [] if origin == "the set-up cache" else [Path(path).expanduser()]
    tried.append(paths.cache_dir() / "mbedtls-4.0")
    for p in tried:
        try:
            m = _VERSION.search((p / "include" / "mbedtls" / "build_info.h").read_text())
        except OSError:
            continue
        if m and (p / CRYPTO_CONFIG).is_file():
            return tree_mod.Tree(p.resolve(), m.group(1), 4)
    raise TlsfitError(SETUP, f"--mbedtls {LINE} --for esp-idf starts from Mbed TLS 4.x's "
                             f"default crypto configuration, and no 4.x tree is here (looked "
                             f"in {', '.join(str(p) for p in tried)}): run ./tlsfit setup with "
                             "the 4.x archive, or give --mbedtls-dir a 4.x tree")
