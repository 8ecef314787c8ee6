"""mbedTLS source trees: locate, validate, tell the line and version.

    set_override(path)        the global --mbedtls-dir (set by the CLI; wins over all)
    tree_source()             (path string, where it came from) before validation
    open_tree(path, origin)   -> Tree, or TlsfitError(SETUP) naming what is wrong
    resolve_tree(dir, line)   the tree a command builds against
    prober_tree()             the 3.x tree the prober links (its crypto)
    default_line()            "3.6" or "2.28": the line of the tree in use

Which tree: --mbedtls-dir DIR > $MBEDTLS_DIR > <cache>/mbedtls-3.6 (fetched by
tool/setup.sh); `--mbedtls 2.28` on a command means <cache>/mbedtls-2.28, and
`--mbedtls 4.0` <cache>/mbedtls-4.0 (unpacked from a release archive by
`tlsfit setup --mbedtls-archive FILE`, mbedtls/archive.py).

A 4.x tree is mbedTLS (TLS, X.509) with TF-PSA-Crypto (all crypto, PSA, the
platform layer) in its tf-psa-crypto/ directory: Tree.include_dirs lists both
public include directories; identity() hashes both trees' sources.
"""
import functools
import os
import re
from collections import namedtuple
from pathlib import Path

from ..core import paths
from ..core.errors import MBEDTLS4_MISSING, SETUP, USAGE, TlsfitError

LINES = ("3.6", "2.28", "4.0")
SET_UP_LINES = ("3.6", "2.28")     # the lines tool/setup.sh fetches; 4.0 comes from an archive
ARCHIVE_LINES = ("4.0",)           # `tlsfit setup --mbedtls-archive` unpacks these
MAJORS = (2, 3, 4)
CRYPTO_DIR = "tf-psa-crypto"       # a 4.x tree's TF-PSA-Crypto (mbedtls-4.0.0/tf-psa-crypto/)
_override = None
_VERSION_RE = re.compile(r'^\s*#\s*define\s+MBEDTLS_VERSION_STRING\s+"([0-9.]+)"', re.M)


class Tree(namedtuple("Tree", "path version major")):
    """An mbedTLS source tree: resolved path, version ("3.6.6"), major number
    (immutable; a namedtuple keeps dataclasses off the probe's start-up path)."""
    __slots__ = ()

    @property
    def line(self):
        """"3.6" / "2.28"."""
        return ".".join(self.version.split(".")[:2])

    @property
    def label(self):
        """The version as set-up recorded it ("3.6.6 (Debian trixie, ...)"), else the
        version string."""
        stamp = self.path / ".tlsfit-version"
        try:
            return stamp.read_text().strip() or self.version
        except OSError:
            return self.version

    @property
    def crypto(self):
        """A 4.x tree's TF-PSA-Crypto directory; None before 4.0 (crypto is in the tree)."""
        return self.path / CRYPTO_DIR if self.major >= 4 else None

    @property
    def include_dirs(self):
        """The public include directories a client of the tree compiles with: include/,
        and from 4.0 also TF-PSA-Crypto's include/ and its drivers' (builtin, Everest,
        p256-m): where build_info.h's crypto half and the drivers' headers live."""
        dirs = [self.path / "include"]
        if self.crypto is not None:       # tf-psa-crypto/core/CMakeLists.txt's PUBLIC dirs
            drivers = self.crypto / "drivers"
            dirs += [self.crypto / "include", drivers / "builtin" / "include",
                     drivers / "everest" / "include", drivers / "p256-m"]
        return dirs


def identity(tree):
    """{path, line, version, sha256} of a tree, for reports: sha256 over the tree's
    sources (every include/**/*.h and library/*.c, *.h, and in a 4.x tree
    tf-psa-crypto's include/**/*.h, core/*.[ch] and drivers/**/*.[ch]: each file's path
    relative to the tree and its SHA-256, sorted), so a fork (ESP-IDF's or Zephyr's copy) or a patched
    tree is told apart from the release it claims to be.  Cached per tree."""
    return dict(_identity(str(tree.path), tree.version))


@functools.lru_cache(maxsize=None)
def _identity(path, version):
    import hashlib              # here: OpenSSL's start-up is ~3 ms of every `tlsfit probe`
    root = Path(path)
    files = [*root.glob("include/**/*.h"), *root.glob("library/*.[ch]")]
    crypto = root / CRYPTO_DIR
    if int(version.split(".")[0]) >= 4:
        files += [*crypto.glob("include/**/*.h"), *crypto.glob("core/*.[ch]"),
                  *crypto.glob("drivers/**/*.[ch]")]
    files = sorted(files)
    outer = hashlib.sha256()
    for f in files:
        try:
            digest = hashlib.sha256(f.read_bytes()).hexdigest()
        except OSError:
            continue
        outer.update(f"{f.relative_to(root)} {digest}\n".encode())
    return (("path", path), ("line", ".".join(version.split(".")[:2])), ("version", version),
            ("sha256", outer.hexdigest()))


def set_override(path):
    """The global --mbedtls-dir option (None to clear it)."""
    global _override
    _override = path


def tree_source():
    """(path string, where it came from) of the tree in use, before validation."""
    if _override:
        return _override, "--mbedtls-dir"
    env = os.environ.get("MBEDTLS_DIR")
    if env:
        return env, "MBEDTLS_DIR"
    return str(paths.cache_dir() / "mbedtls-3.6"), "the set-up cache"


def _version(inc):
    for header in ("build_info.h", "version.h"):
        try:
            m = _VERSION_RE.search((inc / header).read_text(errors="replace"))
        except OSError:
            continue
        if m:
            return m.group(1)
    return None


def open_tree(path, origin="MBEDTLS_DIR"):
    """Validates an mbedTLS 4.x, 3.x or 2.x source tree; raises TlsfitError(SETUP), or
    MBEDTLS4_MISSING for the set-up cache's 4.0 tree when it was never unpacked."""
    p = Path(path).expanduser()
    if not p.is_dir():
        if origin == "the set-up cache" and p.name.endswith(tuple(ARCHIVE_LINES)):
            raise TlsfitError(MBEDTLS4_MISSING, f"mbedTLS {p.name.split('-')[-1]} is not set "
                              f"up ({p} does not exist): run ./tlsfit setup --mbedtls-archive "
                              "mbedtls-4.0.0.tar.xz (a release archive with tf-psa-crypto/)")
        hint = " (run ./tlsfit setup to fetch it)" if origin == "the set-up cache" else ""
        raise TlsfitError(SETUP, f"mbedTLS tree {p} (from {origin}) does not exist{hint}")
    inc = p / "include" / "mbedtls"
    if not (inc / "ssl.h").is_file():
        raise TlsfitError(SETUP, f"{p} (from {origin}) is not an mbedTLS source tree: "
                                 "include/mbedtls/ssl.h is missing")
    if not (p / "CMakeLists.txt").is_file():
        raise TlsfitError(SETUP, f"{p} (from {origin}) has no CMakeLists.txt; "
                                 "point it at the top of an mbedTLS source tree")
    version = _version(inc)
    if version is None:
        raise TlsfitError(SETUP, f"{p} (from {origin}): cannot find MBEDTLS_VERSION_STRING "
                                 "in include/mbedtls/build_info.h or version.h")
    major = int(version.split(".")[0])
    if major not in MAJORS:
        raise TlsfitError(SETUP, f"{p} (from {origin}) is mbedTLS {version}; tlsfit builds "
                                 "against 4.x (4.0), 3.x (3.6) or 2.x (2.28)")
    if major >= 4 and not (p / CRYPTO_DIR / "include" / "psa" / "crypto.h").is_file():
        raise TlsfitError(SETUP, f"{p} (from {origin}) is mbedTLS {version} without "
                                 f"{CRYPTO_DIR}/include/psa/crypto.h: a 4.x tree needs its "
                                 "TF-PSA-Crypto (use a release archive, or clone with "
                                 "--recurse-submodules)")
    return Tree(p.resolve(), version, major)


def resolve_tree(mbedtls_dir=None, line=None):
    """The tree to build against.

    mbedtls_dir (a path or a Tree) wins; then the user's tree (--mbedtls-dir, else
    $MBEDTLS_DIR), whatever its line; then the set-up cache's tree of `line` (3.6 when
    None).  A `line` the chosen tree is not is a USAGE error naming both.
    """
    if isinstance(mbedtls_dir, Tree):
        tree, origin = mbedtls_dir, "the tree given"
    elif mbedtls_dir:
        tree, origin = open_tree(mbedtls_dir, "the mbedtls_dir argument"), "the tree given"
    else:
        path, origin = tree_source()
        if origin == "the set-up cache":
            path = paths.cache_dir() / f"mbedtls-{line or '3.6'}"
        tree = open_tree(path, origin)
    if line and tree.line != line:
        raise TlsfitError(USAGE, f"--mbedtls {line} asks for mbedTLS {line}, but {origin} is "
                                 f"mbedTLS {tree.version} ({tree.path}): drop --mbedtls, or "
                                 "name a tree of that line")
    return tree


def user_tree():
    """The user's own tree (--mbedtls-dir, else $MBEDTLS_DIR), validated, or None when
    the set-up cache is in use.  Every command checks it before it starts."""
    path, origin = tree_source()
    return None if origin == "the set-up cache" else open_tree(path, origin)


def prober_tree():
    """The 3.x tree the prober links its crypto from (TLS 1.3 keys): the user's tree
    when it is 3.x, else the set-up cache's 3.6 (a 2.28 or 4.x user tree builds the
    headers, the prober keeps building against 3.6)."""
    path, origin = tree_source()
    tree = open_tree(path, origin)
    if tree.major != 3:
        tree = open_tree(paths.cache_dir() / "mbedtls-3.6", "the set-up cache")
    return tree


def default_line():
    """The line of the user's tree (--mbedtls-dir, $MBEDTLS_DIR); "3.6" without one.
    An invalid user tree is an error (SETUP), not a silent 3.6."""
    tree = user_tree()
    return "3.6" if tree is None else tree.line
