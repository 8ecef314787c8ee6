"""mbedTLS's object files cached by what the compiler sees: once per distinct
preprocessed source, not once per header.

    compiled = objcache.compile_object(cc, argv, work, obj, env, limit)
    compiled.hit        True: the object came from the store, nothing was compiled
    compiled.proc       the last step's subprocess.CompletedProcess (stderr as text), or
                        None for a hit; compiled.failed: it did not succeed
    object_key(compiler_id, flags, text) -> sha256 hex       (pure; the store's name)

A library object is a function of the compiler, the code-generation flags and the
preprocessed source (the translation unit after every #include and #if of the
configuration).  So each object is preprocessed (`-E`, a twentieth of a compile),
named by object_key() of those three, and compiled only when the store
($TLSFIT_CACHE/xbuild/objects/) does not hold that name yet -- from the preprocessed
text itself (`-x cpp-output`: GCC makes the byte-identical object and does not
preprocess twice).  Two headers that differ in one option recompile only the objects
whose preprocessed text the option changes; a header's 50 objects built while another
header's build compiles the same translation unit wait for it (a lock per name,
across threads and processes) instead of compiling it twice.

The text keeps its line markers (the source's path relative to the build directory,
as xbuild.lib_compile_argv writes every path), so __FILE__ and the object's file
symbol are part of the name.  The flags are the whole command line but the input and
output names.  A failed compile stores nothing.  Nothing prunes the store (about
0.2 MB per distinct object); deleting it only costs the next build its compiles.
"""
import contextlib
import fcntl
import hashlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..core import interrupt, paths

FORMAT = b"tlsfit-objcache-1"
DIR_NAME = "objects"
LOCKS = "locks"


def store_dir():
    """<cache>/xbuild/objects: the objects by name (object_key)."""
    return paths.xbuild_dir() / DIR_NAME


def object_key(compiler_id, flags, text):
    """The store's name of an object: SHA-256 over FORMAT, the compiler's version line,
    the command line's flags (without input and output) and the preprocessed text."""
    h = hashlib.sha256()
    for part in (FORMAT, compiler_id.encode(), "\0".join(flags).encode(), text):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def split_argv(argv):
    """(flags, source, object) of a `... -c SRC -o OBJ` compile command line."""
    i = argv.index("-c")
    rest = argv[i + 1:]
    if len(rest) != 3 or rest[1] != "-o":
        raise ValueError(f"not a '-c SRC -o OBJ' command line: {argv}")
    return argv[:i] + argv[i + 4:], rest[0], rest[2]


def stored_path(key):
    return store_dir() / key[:2] / f"{key}.o"


@dataclass
class Compiled:
    hit: bool                 # from the store
    seconds: float            # preprocess + (compile), wall
    proc: object = None       # the last step run (its stderr as text); None: a hit

    @property
    def failed(self):
        return self.proc is not None and self.proc.returncode != 0


@contextlib.contextmanager
def _key_lock(key):
    """One compile per name at a time, across threads (each opens its own file
    description) and processes."""
    d = store_dir() / LOCKS
    d.mkdir(parents=True, exist_ok=True)
    with open(d / f"{key[:16]}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _place(src, dest):
    """dest becomes the stored object (a hard link; a copy across file systems)."""
    dest.unlink(missing_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        tmp = dest.with_name(dest.name + ".tmp")
        tmp.write_bytes(Path(src).read_bytes())
        os.replace(tmp, dest)


def _run(argv, work, env, limit, what):
    proc = subprocess.run(argv, cwd=work, stdin=subprocess.DEVNULL, capture_output=True,
                          env=env, timeout=limit)
    interrupt.killed(proc.returncode, what)
    return proc


def compile_object(cc, argv, work, compiler_id, env, limit):
    """Preprocesses, then compiles unless stored, the object `argv` (a `... -c SRC -o OBJ`
    command line, paths relative to `work`, without the compiler) makes; OBJ is then
    the stored object.  cc: the compiler's argv prefix (no ccache: the store is the
    cache).  subprocess.TimeoutExpired when a step runs past `limit` seconds."""
    began = time.monotonic()
    flags, src, obj = split_argv(argv)
    obj = Path(work) / obj
    pre = obj.with_suffix(".i")
    name = Path(src).name
    proc = _run([*cc, *flags, "-E", src, "-o", os.path.relpath(pre, work)], work, env, limit,
                f"the cross compiler preprocessing {name}")
    if proc.returncode != 0:
        return Compiled(False, time.monotonic() - began, _text(proc, [*cc, *argv]))
    try:
        key = object_key(compiler_id, flags, pre.read_bytes())
        stored = stored_path(key)
        if stored.is_file():
            _place(stored, obj)
            return Compiled(True, time.monotonic() - began)
        with _key_lock(key):
            if stored.is_file():            # another build compiled it meanwhile
                _place(stored, obj)
                return Compiled(True, time.monotonic() - began)
            proc = _run([*cc, *flags, "-x", "cpp-output", "-c", os.path.relpath(pre, work),
                         "-o", os.path.relpath(obj, work)], work, env, limit,
                        f"the cross compiler compiling {name}")
            if proc.returncode != 0:
                return Compiled(False, time.monotonic() - began, _text(proc, [*cc, *argv]))
            stored.parent.mkdir(parents=True, exist_ok=True)
            tmp = stored.with_name(f"{stored.name}.{os.getpid()}.tmp")
            _place(obj, tmp)
            os.replace(tmp, stored)
            return Compiled(False, time.monotonic() - began, _text(proc, None))
    finally:
        pre.unlink(missing_ok=True)


def _text(proc, argv):
    """proc with its output as text; argv: the command to name in a failure's log."""
    stderr = proc.stderr.decode(errors="replace")
    if argv is not None:
        stderr = f"$ {' '.join(argv)}\n{stderr}"
    return subprocess.CompletedProcess(proc.args, proc.returncode, "", stderr)
