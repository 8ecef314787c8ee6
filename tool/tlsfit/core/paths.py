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


def write_atomic(path, text):
    """Writes text to path atomically: a temp file in the same directory, then a rename,
    so a reader (or a failed run) never sees half a file.  The file keeps the mode of
    the one it replaces; a new file follows the umask (0666 & ~umask), as open() would.
    FILE error (35) naming the path and the OS error on failure."""
    import tempfile             # here: `tlsfit probe` starts faster without it
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                os.fchmod(f.fileno(), mode)     # mkstemp makes it 0600
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
