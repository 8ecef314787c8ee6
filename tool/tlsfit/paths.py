"""Where things are: the repository, the cache, the mbedTLS tree, the state dir.

    repo_root()       the checkout (two levels above this file)
    cache_dir()       $TLSFIT_CACHE, else $XDG_CACHE_HOME/tlsfit, else ~/.cache/tlsfit
                      (the same rule as tool/setup.sh)
    mbedtls_dir()     --mbedtls-dir DIR > $MBEDTLS_DIR > <cache>/mbedtls-3.6, validated
    write_atomic(p, t) write a file so that no reader sees half of it
    state_dir()       <repo>/.tlsfit (git-ignored; $TLSFIT_STATE_DIR overrides):
                      last profile, demo PKI
"""
import os
import tempfile
from pathlib import Path

from .errors import FILE, SETUP, TlsfitError

# Set by cli.main() from the global --mbedtls-dir option; wins over the environment.
_mbedtls_override = None


def set_mbedtls_override(path):
    global _mbedtls_override
    _mbedtls_override = path


def repo_root():
    return Path(__file__).resolve().parent.parent.parent


def cache_dir():
    explicit = os.environ.get("TLSFIT_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "tlsfit"


def state_dir():
    """<repo>/.tlsfit, or $TLSFIT_STATE_DIR (the tests point it at a temp dir)."""
    explicit = os.environ.get("TLSFIT_STATE_DIR")
    return Path(explicit).expanduser() if explicit else repo_root() / ".tlsfit"


def last_profile_path():
    return state_dir() / "last-profile.json"


def profiles_dir():
    return repo_root() / "profiles"


def build_root():
    return repo_root() / "build"


def mbedtls_dir_source():
    """Returns (path_string, where_it_came_from) before validation."""
    if _mbedtls_override:
        return _mbedtls_override, "--mbedtls-dir"
    env = os.environ.get("MBEDTLS_DIR")
    if env:
        return env, "MBEDTLS_DIR"
    return str(cache_dir() / "mbedtls-3.6"), "the set-up cache"


def validate_mbedtls_tree(path, origin="MBEDTLS_DIR"):
    """Returns the resolved Path of an mbedTLS 3.x source tree or raises TlsfitError(SETUP)."""
    p = Path(path).expanduser()
    if not p.is_dir():
        hint = " (run ./tlsfit setup to fetch it)" if origin == "the set-up cache" else ""
        raise TlsfitError(SETUP, f"mbedTLS tree {p} (from {origin}) does not exist{hint}")
    if not (p / "include" / "mbedtls" / "ssl.h").is_file():
        raise TlsfitError(SETUP, f"{p} (from {origin}) is not an mbedTLS source tree: "
                                 "include/mbedtls/ssl.h is missing")
    if not (p / "include" / "mbedtls" / "build_info.h").is_file():
        raise TlsfitError(SETUP, f"{p} (from {origin}) is an mbedTLS 2.x tree; the prober needs "
                                 "3.x (include/mbedtls/build_info.h is missing)")
    if not (p / "CMakeLists.txt").is_file():
        raise TlsfitError(SETUP, f"{p} (from {origin}) has no CMakeLists.txt; "
                                 "point it at the top of an mbedTLS source tree")
    return p.resolve()


def mbedtls_dir():
    path, origin = mbedtls_dir_source()
    return validate_mbedtls_tree(path, origin)


def mbedtls_version(tree):
    """Human-readable version of an mbedTLS tree ("3.6.6 (Debian trixie, ...)" or "3.6.6")."""
    stamp = Path(tree) / ".tlsfit-version"
    if stamp.is_file():
        return stamp.read_text().strip()
    header = Path(tree) / "include" / "mbedtls" / "build_info.h"
    try:
        for line in header.read_text(errors="replace").splitlines():
            if "MBEDTLS_VERSION_STRING " in line and line.startswith("#define"):
                return line.split('"')[1]
    except (OSError, IndexError):
        pass
    return "unknown version"


def write_atomic(path, text):
    """Writes text to path atomically: a temp file in the same directory, then a rename,
    so a reader (or a failed run) never sees half a file.  FILE error (35) on failure."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as e:
        raise TlsfitError(FILE, f"cannot write {path}: {e.strerror}") from None
    return path
