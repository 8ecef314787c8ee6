"""Configuring and building the C prober with cmake (and, with the same tree, the
replica's engine tool/replay and the sanitizer build of `tlsfit test`).

The host prober is built into build/host-<8 hex of sha256(mbedTLS path)>, so
switching MBEDTLS_DIR never reuses a build tree configured for another tree.
A build that is up to date is silent; a real build prints one progress line on
stderr and writes everything cmake says to <build dir>/tlsfit-build.log.
"""
import os
import sys
from pathlib import Path

from ..core import paths
from ..core.errors import BUILD, TlsfitError

PROBER = "tlsfit-probe"
BUILD_TYPE = "RelWithDebInfo"
LOG_NAME = "tlsfit-build.log"
# Sources whose change makes the prober stale (cmake tracks the details; this
# only decides whether to announce a rebuild).
_WATCHED = ("CMakeLists.txt", "tool/probe", "tool/codec", "tool/errors", "tests/unit")
STAMP = ".tlsfit-built-{}"


def _sha256_hex(data):
    """SHA-256 without hashlib's OpenSSL start-up (~3 ms on every `tlsfit probe`)."""
    try:
        from _sha256 import sha256
    except ImportError:                 # another Python's layout
        from hashlib import sha256
    return sha256(data).hexdigest()


def host_build_dir(mbedtls):
    digest = _sha256_hex(str(mbedtls).encode())[:8]
    return paths.build_root() / f"host-{digest}"


def asan_build_dir():
    return paths.build_root() / "asan"


def _newest_source_mtime():
    """The newest mtime among the watched files and directories (a directory's own
    mtime moves when a file in it is deleted).  os.walk, not Path.rglob: ~1 ms less
    of every `tlsfit probe`."""
    newest = 0.0
    root = str(paths.repo_root())
    for rel in _WATCHED:
        top = os.path.join(root, rel)
        entries = [top]
        for d, dirs, names in os.walk(top):
            entries.extend(os.path.join(d, n) for n in dirs + names)
        for f in entries:
            try:
                newest = max(newest, os.stat(f).st_mtime)
            except OSError:
                pass
    return newest


def _configured_for(build_dir, mbedtls, extra_defs):
    """True when build_dir's CMakeCache.txt was made for this tree and these options."""
    cache = build_dir / "CMakeCache.txt"
    try:
        text = cache.read_text(errors="replace")
    except OSError:
        return False
    wanted = {"MBEDTLS_DIR": str(mbedtls), "CMAKE_BUILD_TYPE": BUILD_TYPE}
    wanted.update(extra_defs)
    for key, value in wanted.items():
        if not any(line.startswith(key + ":") and line.split("=", 1)[-1] == value
                   for line in text.splitlines()):
            return False
    return True


def _check(rc, log, what):
    if rc != 0:
        raise TlsfitError(BUILD, f"{what} failed (exit {rc}); log: {log.name}")


def up_to_date(build_dir, mbedtls, target=None, extra_defs=None):
    """True when build_dir was configured for this tree and options and built `target`
    after the last change to the watched sources: no need to run the build system."""
    stamp = Path(build_dir) / STAMP.format(target or "all")
    try:
        built = stamp.stat().st_mtime
    except OSError:
        return False
    return built >= _newest_source_mtime() and \
        _configured_for(Path(build_dir), mbedtls, dict(extra_defs or {}))


def cmake_build(build_dir, mbedtls, target=None, extra_defs=None, announce=None):
    """Configures (when needed) and builds `target` (None: all) in build_dir.

    `announce(first_run)` is called before a build that will do real work.
    Raises TlsfitError(BUILD) with the log path on failure.
    """
    from ..core.proc import cmake as _cmake, locked, run_logged, tail   # only when building
    extra_defs = dict(extra_defs or {})
    cmake = _cmake()
    build_dir = Path(build_dir)
    with locked(build_dir):
        log_path = build_dir / LOG_NAME
        configured = _configured_for(build_dir, mbedtls, extra_defs)
        stamp = build_dir / STAMP.format(target or "all")
        stale = not stamp.exists() or stamp.stat().st_mtime < _newest_source_mtime()
        if announce and (not configured or stale):
            announce(not configured)
        try:
            with open(log_path, "a" if configured else "w") as log:
                if not configured:
                    cmd = [cmake, "-S", str(paths.repo_root()), "-B", str(build_dir),
                           f"-DMBEDTLS_DIR={mbedtls}", f"-DCMAKE_BUILD_TYPE={BUILD_TYPE}"]
                    cmd += [f"-D{k}={v}" for k, v in extra_defs.items()]
                    _check(run_logged(cmd, log, "configuring the build with cmake", BUILD), log,
                           "configuring the build with cmake")
                cmd = [cmake, "--build", str(build_dir), "-j2"]
                if target:
                    cmd += ["--target", target]
                _check(run_logged(cmd, log, f"building {target or 'the C sources'}", BUILD), log,
                       f"building {target or 'the C sources'}")
            stamp.touch()
        except TlsfitError:
            for line in tail(log_path, 15):
                print(f"  | {line}", file=sys.stderr)
            raise
        except OSError as e:
            raise TlsfitError(BUILD, f"cannot write the build log {log_path}: {e.strerror}") from e
    return build_dir


def _announce_prober(first_run):
    if first_run:
        print("tlsfit: building the prober (first run, ~30 s)...", file=sys.stderr, flush=True)
    else:
        print("tlsfit: rebuilding the prober (sources changed)...", file=sys.stderr, flush=True)


def ensure_prober(mbedtls=None):
    """Builds tlsfit-probe if needed and returns the path of the binary.

    $TLSFIT_PROBER, when set, names a prober binary to use instead (e.g. the
    sanitizer build); nothing is built then.
    """
    override = os.environ.get("TLSFIT_PROBER")
    if override:
        p = Path(override)
        if not os.access(p, os.X_OK):
            raise TlsfitError(BUILD, f"TLSFIT_PROBER={override} is not an executable file")
        return p
    if mbedtls is None:
        from ..mbedtls.tree import prober_tree
        mbedtls = prober_tree().path
    build_dir = host_build_dir(mbedtls)
    if not up_to_date(build_dir, mbedtls, PROBER):
        build_dir = cmake_build(build_dir, mbedtls, target=PROBER, announce=_announce_prober)
    binary = build_dir / PROBER
    if not os.access(binary, os.X_OK):
        raise TlsfitError(BUILD, f"the build finished but {binary} is missing; "
                                 f"log: {build_dir / LOG_NAME}")
    return binary
