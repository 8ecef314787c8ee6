"""Where things are: the repository, the cache, the state dir (mbedTLS trees: mbedtls.tree).

    repo_root()       the checkout (tool/tlsfit/core/ is three levels below it)
    cache_dir()       $TLSFIT_CACHE, else $XDG_CACHE_HOME/tlsfit, else ~/.cache/tlsfit
                      (the same rule as tool/setup.sh)
    write_atomic(p, t) write a file so that no reader sees half of it
    state_dir()       <repo>/.tlsfit (git-ignored; $TLSFIT_STATE_DIR overrides):
                      last profile, demo PKI
"""
import errno
import os
import stat
from pathlib import Path

from .errors import FILE, TlsfitError


def repo_root():
    return Path(__file__).resolve().parents[3]


def cache_dir():
    explicit = os.environ.get("TLSFIT_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "tlsfit"


def xbuild_dir():
    """<cache>/xbuild: the cross builds per header and target, and the baseline headers."""
    return cache_dir() / "xbuild"


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


def _umask():
    """The process's umask, read without changing it where Linux allows (no race with
    threads); else set and restored."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _unique(directory, prefix, create):
    """create(name) on the first name `directory/prefix<12 random hex>` that does not
    exist yet; (its result, name).  tempfile's mkstemp/mkdtemp, without importing
    tempfile and shutil (~4 ms of every `tlsfit probe`)."""
    for _ in range(100):
        name = os.path.join(directory, f"{prefix}{os.urandom(6).hex()}")
        try:
            return create(name), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(directory))


def unique_file(directory, prefix):
    """(fd, path) of a new file in directory, mode 0600, opened for writing."""
    return _unique(directory, prefix, lambda name: os.open(
        name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))


def unique_dir(directory, prefix):
    """Path of a new directory in directory, mode 0700."""
    return Path(_unique(directory, prefix, lambda name: os.mkdir(name, 0o700))[1])


def write_atomic(path, text):
    """Writes text to path atomically: a temp file in the same directory, then a rename,
    so a reader (or a failed run) never sees half a file.  The file keeps the mode of
    the one it replaces; a new file follows the umask (0666 & ~umask), as open() would.
    FILE error (35) naming the path and the OS error on failure."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        fd, tmp = unique_file(path.parent, f".{path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                os.fchmod(f.fileno(), mode)     # unique_file makes it 0600
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError as e:
        what = e.strerror or str(e)
        code = f" ({errno.errorcode[e.errno]})" if e.errno in errno.errorcode else ""
        raise TlsfitError(FILE, f"cannot write {path}: {what}{code}") from None
    return path
