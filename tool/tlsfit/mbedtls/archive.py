"""mbedTLS 4.x release archives: unpack one into the set-up cache.

    install_archive(archive)  -> (Tree, message): unpacks FILE into <cache>/mbedtls-<line>
    archive_top(names)        -> the one top directory of an archive's member names

tool/setup.sh fetches 3.6 and 2.28 from Debian's source packages; there is no
Debian package of mbedTLS 4.x, so `tlsfit setup --mbedtls-archive FILE` takes a
release archive (mbedtls-4.0.0.tar.xz or .tar.bz2/.tar.gz: mbedTLS with its
tf-psa-crypto/ and framework/ submodules) and unpacks it so that `--mbedtls 4.0`
resolves like `--mbedtls 3.6`.  Atomic: the archive is unpacked into a temporary
directory next to the destination, checked (mbedtls.tree.open_tree: a 4.x version
in include/mbedtls/build_info.h, tf-psa-crypto/include/psa/crypto.h), and only
then renamed into place; a failed or interrupted unpack leaves the cache as it
was.  <tree>/.tlsfit-version records the version and the archive's SHA-256 (the
report's label); an archive already installed is not unpacked again, and two processes
installing at once unpack it once (a lock on the cache directory).
"""
import contextlib
import fcntl
import hashlib
import os
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from ..core import paths
from ..core.errors import MBEDTLS_ARCHIVE, SETUP, TlsfitError
from .tree import ARCHIVE_LINES, open_tree

STAMP = ".tlsfit-version"


def _fail(archive, why):
    return TlsfitError(MBEDTLS_ARCHIVE, f"--mbedtls-archive {archive}: {why}")


def archive_top(names):
    """The single top-level directory every member name is under ("mbedtls-4.0.0"), or
    None when the names have none, several, or an absolute / ".." path."""
    tops = set()
    for name in names:
        parts = PurePosixPath(name).parts
        if not parts or parts[0] in ("/", "..") or ".." in parts:
            return None
        tops.add(parts[0])
    return tops.pop() if len(tops) == 1 else None


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _stamp_text(tree, archive, digest):
    return f"{tree.version} (release archive {Path(archive).name}, sha256 {digest})\n"


def _unpack(archive, into):
    """Extracts archive into the directory `into`; returns the top directory's path."""
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            top = archive_top(m.name for m in members)
            if top is None:
                raise _fail(archive, "not one top directory (a release archive unpacks to "
                                     "mbedtls-X.Y.Z/)")
            tar.extractall(into, members=[m for m in members if m.isfile() or m.isdir()])
    except (tarfile.TarError, EOFError) as e:
        why = str(e).splitlines()[0].rstrip(":") if str(e) else type(e).__name__
        raise _fail(archive, f"cannot be unpacked ({why}); give an mbedTLS release "
                             "archive (.tar.xz, .tar.bz2 or .tar.gz)") from None
    except OSError as e:
        raise _fail(archive, f"cannot be read or unpacked: {e.strerror or e}") from None
    return Path(into) / top


def _installed(cache, src, digest):
    """(Tree, message) when the archive with this digest is already in the cache, else None."""
    for line in ARCHIVE_LINES:
        dest = cache / f"mbedtls-{line}"
        try:
            installed = (dest / STAMP).read_text()
        except OSError:
            continue
        if installed.endswith(f"sha256 {digest})\n"):
            tree = open_tree(dest, "the set-up cache")
            return tree, f"mbedTLS {tree.version} from {src.name} is already in {dest}"
    return None


@contextlib.contextmanager
def _cache_locked(cache):
    """One unpack into the cache at a time (pytest's workers, a shell): an flock on the
    cache directory itself, so no lock file is left in it."""
    fd = os.open(cache, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def install_archive(archive):
    """Unpacks the release archive `archive` into <cache>/mbedtls-<line>; returns (Tree,
    one-line message saying what was done).  Raises TlsfitError(MBEDTLS_ARCHIVE) when the
    file cannot be read or is not an mbedTLS 4.x release."""
    src = Path(archive).expanduser()
    if not src.is_file():
        raise _fail(archive, "no such file")
    digest = _sha256(src)
    cache = paths.cache_dir()
    done = _installed(cache, src, digest)
    if done:
        return done
    cache.mkdir(parents=True, exist_ok=True)
    with _cache_locked(cache):
        done = _installed(cache, src, digest)       # another process unpacked it meanwhile
        if done:
            return done
        tmp = Path(tempfile.mkdtemp(prefix=".mbedtls-archive-", dir=cache))
        try:
            top = _unpack(src, tmp)
            try:
                tree = open_tree(top, f"the archive {src.name}")
            except TlsfitError as e:
                raise _fail(archive, f"not an mbedTLS source tree: {e.message}") from None
            if tree.line not in ARCHIVE_LINES:
                raise _fail(archive, f"is mbedTLS {tree.version}; --mbedtls-archive takes "
                                     f"{' or '.join(ARCHIVE_LINES)} (3.6 and 2.28 come from "
                                     "./tlsfit setup)")
            dest = cache / f"mbedtls-{tree.line}"
            (top / STAMP).write_text(_stamp_text(tree, src, digest))
            _replace(top, dest, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return open_tree(dest, "the set-up cache"), (
        f"unpacked mbedTLS {tree.version} (with TF-PSA-Crypto) from {src.name} into {dest}")


def _replace(new, dest, scratch):
    """Renames the directory `new` to `dest`; an older `dest` is moved into `scratch`
    first (removed with it), so `dest` is at every moment either the old or the new tree."""
    if dest.exists():
        try:
            dest.rename(scratch / "old")
        except OSError as e:
            raise TlsfitError(SETUP, f"cannot replace {dest}: {e.strerror}") from None
    new.rename(dest)
