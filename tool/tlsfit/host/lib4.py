"""An mbedTLS 4.x tree's three libraries built for the host, for `tlsfit verify`.

    build_libs(tree, work, log) -> Path of <work>/lib (libmbedtls.a, libmbedx509.a,
                                   libtfpsacrypto.a), or None when a source did not
                                   compile (its output written to log)
    KEY_PART                       hashed into a 4.x verify build's key (host/verify.py)

Why not upstream's CMake (what verify ran for 4.x before): it ran upstream's six
generators (perl, python3 with jinja2) and configured ~140 sources for every
configuration, and compiled every source -- about two thirds of them to nothing for
a lean pair.  Here the pieces of the cross build are used with the host compiler:

  - the generated sources once per tree (target/xbuild4.ensure_generated: the same
    directory the cross builds use; they depend on the tree only),
  - the sources a configuration switches off whole (mbedtls/guards.py, read from one
    `-dM -E`) are not compiled,
  - every other object comes from the object store (target/objcache.py) by its
    preprocessed text: compiled once per distinct text, whichever header or process
    asked first; host objects are apart from the cross ones by the compiler's
    version line and the flags.

The compiler runs in <work>/build with every path relative to it, so the text of a
source does not depend on <work> (the verify build's key directory).  The flags are
upstream's Release build's (-std=c99 -O2 -DNDEBUG) and the two configuration files as
verify names them (tls_config.h, tls_config_crypto.h in <work>).
"""
import os
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

from ..core import interrupt
from ..core.errors import BUILD, TlsfitError
from ..mbedtls import guards, pair
from ..target import objcache, xbuild, xbuild4

KEY_PART = b"tlsfit-hostlib4-1"
HOST_CC = "cc"
CFLAGS = ("-std=c99", "-O2", "-DNDEBUG")   # upstream's Release (CMakeLists.txt: C99, -O2)
COMPILE_LIMIT = 600
GUARD_PROBE = "tlsfit_guard_probe.c"
# where 4.x checks a configuration (library/, tf-psa-crypto/core/): compiled first
CONFIG_CHECKS = ("mbedtls_config.c", "tf_psa_crypto_config.c")


def _compile_argv(work, build, src, obj, includes):
    rel = lambda p: os.path.relpath(p, build)   # noqa: E731
    return [*CFLAGS, f"-I{rel(work)}", *(f"-I{rel(d)}" for d in includes),
            '-DMBEDTLS_CONFIG_FILE="tls_config.h"',
            f'-DTF_PSA_CRYPTO_CONFIG_FILE="{pair.CRYPTO_COPY}"',
            "-c", rel(src), "-o", rel(obj)]


def _switched_off(work, build, sources, includes, env):
    """The members whose whole-file guard this configuration makes false (empty when
    the macros cannot be read: then every source is compiled)."""
    (build / GUARD_PROBE).write_text(xbuild4.GUARD_PROBE_TEXT)
    argv = _compile_argv(work, build, build / GUARD_PROBE, build / "guard.o", includes)
    argv = [HOST_CC, *argv[:argv.index("-c")], "-dM", "-E", GUARD_PROBE]
    try:
        proc = subprocess.run(argv, cwd=build, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, env=env, timeout=COMPILE_LIMIT)
    except subprocess.TimeoutExpired:
        return set()
    if proc.returncode != 0:
        return set()
    macros = guards.defined_macros(proc.stdout)
    off = set()
    for src in sources:
        expr = guards.file_guard(src.path)
        if expr is not None and guards.evaluate(expr, macros) is False:
            off.add(src.obj)
    return off


def _archive(lib_dir, build, objects):
    """lib_dir/<archive> from {archive: [object paths]} (every archive, empty or not)."""
    ar = shutil.which("ar")
    if not ar:
        raise TlsfitError(BUILD, "ar is not installed (binutils; run ./tlsfit setup)")
    lib_dir.mkdir(parents=True, exist_ok=True)
    for name in xbuild4.LIBS4:
        out = lib_dir / name
        out.unlink(missing_ok=True)
        members = [os.path.relpath(o, build) for o in objects.get(name, ())]
        proc = subprocess.run([ar, "rcs", str(out), *members], cwd=build, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=COMPILE_LIMIT)
        if proc.returncode != 0:
            raise TlsfitError(BUILD, f"ar {name} failed: {proc.stderr.strip()[-300:]}")


def build_libs(tree, work, log):
    """Compiles the tree's libraries with the pair in `work` into <work>/lib; returns
    it.  A compile that fails writes its output to `log` and returns None (verify.py
    reads the log for a configuration's #error)."""
    sources = xbuild.tree_sources(tree)               # generates once per tree
    _, extra = xbuild.thirdparty(tree)
    includes = xbuild4.include_dirs(tree, xbuild4.gen_dir(tree)) + extra
    build = work / "build"
    build.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    off = _switched_off(work, build, sources, includes, env)
    # the configuration checks first: a pair mbedTLS rejects fails before the rest compiles
    todo = sorted((s for s in sources if s.obj not in off),
                  key=lambda s: s.path.name not in CONFIG_CHECKS)
    log.write(f"host libraries: {len(todo)} sources, {len(off)} switched off by the "
              f"configuration: {' '.join(sorted(off))}\n")
    compiler_id = xbuild._version_line(HOST_CC)
    objects, failures, counts = {}, [], {"hit": 0, "compiled": 0}
    lock = threading.Lock()

    def one(src):
        interrupt.check()
        if failures:
            return
        obj = build / "obj" / src.lib / src.obj
        obj.parent.mkdir(parents=True, exist_ok=True)
        argv = _compile_argv(work, build, src.path, obj, includes)
        try:
            done = objcache.compile_object([HOST_CC], argv, build, compiler_id, env,
                                           COMPILE_LIMIT)
        except subprocess.TimeoutExpired:
            failures.append(f"{src.path.name}: compiling took more than {COMPILE_LIMIT} s")
            return
        with lock:
            if done.failed:
                failures.append(f"{src.path.name}:\n{done.proc.stderr}")
                return
            counts["hit" if done.hit else "compiled"] += 1
            objects.setdefault(src.lib, []).append(obj)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(one, todo))
    log.write(f"objects: {counts['compiled']} compiled, {counts['hit']} from the object "
              f"store ({objcache.store_dir()})\n")
    if failures:
        log.write(failures[0] + "\n")
        log.flush()
        return None
    _archive(work / "lib", build, objects)
    log.flush()
    return work / "lib"
