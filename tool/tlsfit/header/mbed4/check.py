"""4.x's own configuration checks, run on the host against an Mbed TLS 4.0 tree: the
generated *_config_check_{before,user,final}.h (the tree's generate_config_checks.py)
and the two units that include them, library/mbedtls_config.c and
tf-psa-crypto/core/tf_psa_crypto_config.c, compiled with -fsyntax-only.  No library
build: a rejected configuration fails here exactly as it would when the library
compiles those two files."""
import subprocess
import sys
from pathlib import Path

from ...mbedtls.configfiles import crypto_config_path

_INCLUDES = ("include", "tf-psa-crypto/include", "tf-psa-crypto/drivers/builtin/include",
             "tf-psa-crypto/drivers/everest/include", "tf-psa-crypto/drivers/p256-m",
             "library", "tf-psa-crypto/core", "tf-psa-crypto/drivers/builtin/src")
# the library's own GCC warnings, fatal as in its build (4.0 CMakeLists.txt:73
# MBEDTLS_FATAL_WARNINGS on by default, :208 the flags, :258-259 -Werror)
WARNINGS = ("-Wall", "-Wextra", "-Wwrite-strings", "-Wmissing-prototypes", "-Werror")
UNITS = ("library/mbedtls_config.c", "tf-psa-crypto/core/tf_psa_crypto_config.c")


def generate_check_headers(tree, out):
    """Writes the tree's generated check headers into out/lib and out/core (the two
    generate_config_checks.py scripts; Python only, a fraction of a second)."""
    tree, out = Path(tree), Path(out)
    for script, sub in (("scripts/generate_config_checks.py", "lib"),
                        ("tf-psa-crypto/scripts/generate_config_checks.py", "core")):
        (out / sub).mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(tree / script), str(out / sub)], cwd=tree,
                       check=True, capture_output=True, text=True)
    return [out / "lib", out / "core"]


def check_pair(tree, tls_config, generated, cc="gcc"):
    """[(unit, returncode, stderr)] for the two check units compiled with the pair
    (tls_config and its crypto file) as MBEDTLS_CONFIG_FILE / TF_PSA_CRYPTO_CONFIG_FILE."""
    tree, tls_config = Path(tree), Path(tls_config).resolve()
    flags = [f"-I{tree / d}" for d in _INCLUDES] + [f"-I{g}" for g in generated]
    flags += [f"-DMBEDTLS_CONFIG_FILE=\"{tls_config}\"",
              f"-DTF_PSA_CRYPTO_CONFIG_FILE=\"{crypto_config_path(tls_config)}\""]
    out = []
    for unit in UNITS:
        r = subprocess.run([cc, "-fsyntax-only", "-std=c99", *WARNINGS, *flags, str(tree / unit)],
                           capture_output=True, text=True)
        out.append((unit, r.returncode, r.stderr))
    return out
