"""mbedTLS source trees: locate, validate, tell the line and version.

    set_override(path)        the global --mbedtls-dir (set by the CLI; wins over all)
    tree_source()             (path string, where it came from) before validation
    open_tree(path, origin)   -> Tree, or TlsfitError(SETUP) naming what is wrong
    resolve_tree(dir, line)   the tree a command builds against
    prober_tree()             the 3.x tree the prober links (its crypto)
    default_line()            "3.6" or "2.28": the line of the tree in use

Which tree: --mbedtls-dir DIR > $MBEDTLS_DIR > <cache>/mbedtls-3.6 (fetched by
tool/setup.sh); `--mbedtls 2.28` on a command means <cache>/mbedtls-2.28.
"""
import os
import re
from collections import namedtuple
from pathlib import Path

from ..core import paths
from ..core.errors import SETUP, TlsfitError

LINES = ("3.6", "2.28")
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
    """Validates an mbedTLS 3.x or 2.x source tree; raises TlsfitError(SETUP)."""
    p = Path(path).expanduser()
    if not p.is_dir():
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
    if major not in (2, 3):
        raise TlsfitError(SETUP, f"{p} (from {origin}) is mbedTLS {version}; tlsfit builds "
                                 "against 3.x (3.6) or 2.x (2.28)")
    return Tree(p.resolve(), version, major)


def resolve_tree(mbedtls_dir=None, line=None):
    """The tree to build against.

    mbedtls_dir (a path or a Tree) wins.  Otherwise line "2.28" is
    <cache>/mbedtls-2.28, and line "3.6" or None is the tree in use (--mbedtls-dir >
    $MBEDTLS_DIR > the cache), which may also be a 2.x tree when line is None.
    """
    if isinstance(mbedtls_dir, Tree):
        tree = mbedtls_dir
    elif mbedtls_dir:
        tree = open_tree(mbedtls_dir, "the mbedtls_dir argument")
    elif line == "2.28":
        tree = open_tree(paths.cache_dir() / "mbedtls-2.28", "the set-up cache")
    else:
        tree = open_tree(*tree_source())
    if line and tree.line != line:
        raise TlsfitError(SETUP, f"{tree.path} is mbedTLS {tree.version}, not {line}")
    return tree


def prober_tree():
    """The tree in use, which must be 3.x: the prober links its crypto (TLS 1.3 keys)."""
    path, origin = tree_source()
    tree = open_tree(path, origin)
    if tree.major != 3:
        raise TlsfitError(SETUP, f"{tree.path} (from {origin}) is an mbedTLS 2.x tree; the "
                                 "prober needs 3.x (include/mbedtls/build_info.h is missing)")
    return tree


def default_line():
    """The line of the tree in use; "3.6" when there is none yet."""
    try:
        return "2.28" if open_tree(*tree_source()).major == 2 else "3.6"
    except TlsfitError:
        return "3.6"
