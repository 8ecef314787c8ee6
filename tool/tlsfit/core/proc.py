"""Build directories and commands: the lock that serialises builds in one directory,
a command run with its output into a log, the log's last lines, and a tool found on
PATH and run with its output captured (tool_path, run_captured, run_tool)."""
import contextlib
import fcntl
import shutil
import subprocess
from pathlib import Path

from .errors import SETUP, TlsfitError
from .interrupt import killed


LOCK_NAME = ".tlsfit-lock"       # in the directory locked() serialises


@contextlib.contextmanager
def locked(build_dir):
    """Serialises builds in one directory (pytest and a shell may build at once)."""
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / LOCK_NAME, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run_logged(cmd, log, what, code, env=None, limit=None):
    """Runs cmd with stdout and stderr into the open file `log`; returns its exit code.
    TlsfitError(code) naming the log when it runs longer than `limit` seconds."""
    log.write(f"$ {' '.join(map(str, cmd))}\n")
    log.flush()
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=log,
                              stderr=subprocess.STDOUT, env=env, timeout=limit)
    except subprocess.TimeoutExpired:
        raise TlsfitError(code, f"{what} took more than {limit} s; log: {log.name}") from None
    killed(proc.returncode, f"{what} ({Path(str(cmd[0])).name})")
    return proc.returncode


def tool_path(name, code, hint="run ./tlsfit setup"):
    """The path of command `name` on PATH, else TlsfitError(code) ending in `hint`."""
    exe = shutil.which(name)
    if not exe:
        raise TlsfitError(code, f"the {name} command is not installed ({hint})")
    return exe


def run_captured(cmd, what, code, timeout, stdin=None):
    """Runs cmd with its output captured and returns the subprocess.CompletedProcess,
    whatever its exit status.  stdin: bytes fed to it (None: closed).
    TlsfitError(code) beginning with `what` when it cannot run or runs past `timeout`
    seconds."""
    feed = {"stdin": subprocess.DEVNULL} if stdin is None else {"input": stdin}
    try:
        return subprocess.run(cmd, capture_output=True, timeout=timeout, **feed)
    except subprocess.TimeoutExpired:
        raise TlsfitError(code, f"{what}: timed out after {timeout} s") from None
    except OSError as e:
        raise TlsfitError(code, f"{what}: cannot run {cmd[0]}: {e.strerror}") from None


def run_tool(cmd, what, code, timeout, stdin=None):
    """Runs cmd as run_captured and returns its stdout (bytes); also TlsfitError(code)
    "WHAT failed: <the last line it printed on stderr>" when it exits non-zero."""
    proc = run_captured(cmd, what, code, timeout, stdin)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        last = err[-1] if err else f"exit {proc.returncode}"
        raise TlsfitError(code, f"{what} failed: {last}")
    return proc.stdout


def tail(path, n=12):
    """The last n lines of a text file ([] when it cannot be read)."""
    try:
        return Path(path).read_text(errors="replace").splitlines()[-n:]
    except OSError:
        return []


def cmake():
    """Path of cmake, or a SETUP error that names the next step."""
    exe = shutil.which("cmake")
    if not exe:
        raise TlsfitError(SETUP, "cmake is not installed (run ./tlsfit setup)")
    return exe
