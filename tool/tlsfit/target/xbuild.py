"""Cross-building mbedTLS for a Cortex-M target, cached.

    cross_build(config_path, target, tree=None, progress=True, lto=False) -> XBuild
        mbedTLS's library/*.c (and the 3rdparty drivers) compiled with
        arm-none-eabi-gcc for the target with this configuration header, into
        libmbedcrypto.a, libmbedx509.a and libmbedtls.a.  Cached per
        (header bytes, target, tree, compiler, LTO or not) in
        $TLSFIT_CACHE/xbuild/<key>/; safe to call from parallel threads and
        processes (a lock per key).

Link-time optimisation (lto=True).  The sources are compiled with
fw.LTO_CFLAGS (-flto -ffat-lto-objects) and archived with arm-none-eabi-gcc-ar
(the LTO plugin indexes the GIMPLE symbols).  The objects are "fat": they hold
the ordinary -Os code beside the GIMPLE, so the same archives link without
-flto too, to the plain build's image within a few bytes (GCC compiles a fat
object's code a hair differently: 4 B in ssl_msg.o for the TLS 1.3 test header)
-- measure uses that link's map to say which mbedTLS object each LTO-placed
function came from.  The LTO
build is its own cache key ("lto" is hashed in); the object store keeps LTO and
plain objects apart (their flags differ).
(What the linker made: target/linkmap.py and target/elf.py; mbedTLS's default
configuration as the baseline: mbedtls/baseline.py.)

How the cache stays fast.  Each key directory holds cfg/tls_config.h (the
header under test) and cfg/tlsfit_overlay.h (MBEDTLS_USER_CONFIG_FILE, see
tool/firmware/tlsfit_overlay.h), and the compiler runs in <key>/build with
every path relative to it, without -g.  So the command line and the preprocessed
text of a source file do not depend on the key, and each object is compiled once
per distinct preprocessed text (target/objcache.py: the object store
$TLSFIT_CACHE/xbuild/objects/) -- a second configuration that only changes
MBEDTLS_SSL_IN_CONTENT_LEN compiles only the files that use it, and two builds
running at once compile a shared translation unit once.
"""
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..core import interrupt, paths
from ..core.errors import CONFIG, FILE, SETUP, XBUILD, TlsfitError
from ..core.proc import locked
from ..core.text import one_line, say as _say
from ..mbedtls import check, guards, pair
from ..mbedtls.tree import resolve_tree
from . import objcache, timings, xbuild4
from .firmware import fw
from .linkmap import LIBS

KEY_FORMAT = b"tlsfit-xbuild-1"
LTO_KEY = b"lto"               # hashed into the key of an LTO build (nothing for plain)
CONFIG_NAME = "tls_config.h"
OVERLAY_NAME = "tlsfit_overlay.h"
LIB_OF = {"TLS": "libmbedtls.a", "X509": "libmbedx509.a", "CRYPTO": "libmbedcrypto.a"}
# Code generation for the library: the firmware's, without -g (debug info
# does not change the code, and without it ccache does not hash the cwd).
LIB_CFLAGS = tuple(f for f in fw.COMMON_CFLAGS if f != "-g") + ("--specs=nano.specs",)
COMPILE_LIMIT = 600
DONE = "done.json"
LOG_NAME = "build.log"


def xbuild_root():
    return paths.xbuild_dir()


def overlay_source():
    return fw.FIRMWARE_DIR / OVERLAY_NAME


def overlay_sources(tree):
    """The overlays a build of `tree` gets: tlsfit_overlay.h (3.x, 2.x); from 4.0 the
    TLS and crypto overlays of xbuild4 (copied into cfg/ under their own names)."""
    return xbuild4.overlay_files() if tree.major >= 4 else (overlay_source(),)


# ------------------------------------------------------------- the tree

@dataclass
class Source:
    path: Path          # the .c file
    lib: str            # "libmbedcrypto.a", ...
    obj: str            # member name in the archive ("aes.o")


_OBJ_LIST = re.compile(r"^OBJS_(CRYPTO|X509|TLS)\s*\+?=((?:[^\n]*\\\n)*[^\n]*)", re.M)


def _makefile_objects(tree):
    """{"aes.o": "libmbedcrypto.a", ...} from library/Makefile (3.6 and 2.28)."""
    try:
        text = (tree.path / "library" / "Makefile").read_text(errors="replace")
    except OSError:
        return {}
    found = {}
    for m in _OBJ_LIST.finditer(text):
        for tok in m.group(2).replace("\\\n", " ").split():
            if tok.startswith("#"):
                break
            if tok.endswith(".o") and "/" not in tok and "$" not in tok:
                found.setdefault(tok, LIB_OF[m.group(1)])
    return found


def _guess_lib(stem):
    if stem.startswith(("ssl_", "mps_")) or stem in ("debug", "net_sockets"):
        return "libmbedtls.a"
    if stem.startswith("x509") or stem == "pkcs7":
        return "libmbedx509.a"
    return "libmbedcrypto.a"


def thirdparty(tree):
    """(sources, include dirs) of 3rdparty/*/Makefile.inc (everest, p256-m; from 4.0
    tf-psa-crypto/drivers/*/Makefile.inc).  They compile to nothing unless the
    configuration enables them."""
    base = tree.path / "3rdparty" if tree.major < 4 else tree.crypto / "drivers"
    sources, includes = [], []
    for inc in sorted(base.glob("*/Makefile.inc")):
        text = inc.read_text(errors="replace")
        for tok in re.findall(r"-I(\S+)", text):
            rel = re.sub(r"^(\$\(THIRDPARTY_DIR\)|\.\./3rdparty)/*", "", tok)
            d = base / rel
            if d.is_dir() and d not in includes:
                includes.append(d)
        for tok in re.findall(r"(\S+)\.o\b", text):
            rel = re.sub(r"^(\$\(THIRDPARTY_DIR\)|\.\./3rdparty)/*", "", tok)
            c = (base / rel).with_suffix(".c")
            if c.is_file() and c not in sources:
                sources.append(c)
    return sources, includes


def tree_sources(tree):
    """Every source of the three libraries, with the archive it goes into (4.x:
    xbuild4.sources, with the generated ones)."""
    if tree.major >= 4:
        extra, _ = thirdparty(tree)
        gen = xbuild4.ensure_generated(tree)
        return [Source(*row) for row in xbuild4.sources(tree, gen, extra)]
    listed = _makefile_objects(tree)
    out, seen = [], set()
    for c in sorted((tree.path / "library").glob("*.c")):
        obj = c.stem + ".o"
        lib = listed.get(obj) if listed else _guess_lib(c.stem)
        if lib is None:
            continue        # e.g. a test-only file the Makefile does not build
        out.append(Source(c, lib, obj))
        seen.add(obj)
    extra, _ = thirdparty(tree)
    for c in extra:
        obj = c.stem + ".o"
        if obj in seen:
            obj = "3rdparty-" + obj
        seen.add(obj)
        out.append(Source(c, "libmbedcrypto.a", obj))
    return out


# ------------------------------------------------------------- cache keys

def _compiler_id():
    return _version_line(fw.CC)


@functools.lru_cache(maxsize=8)
def _version_line(cc):
    """cc --version's first line, asked once per process (every cross_build call keys
    on it: a fit's dozens of measurements paid a process start each)."""
    try:
        proc = subprocess.run([cc, "--version"], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        raise TlsfitError(SETUP, f"{cc} is not installed (run ./tlsfit setup)") from None
    return proc.stdout.splitlines()[0] if proc.stdout else "unknown"


_COMMENT = re.compile(rb"/\*.*?\*/|//[^\n]*", re.S)


def _semantic(config_bytes):
    """The header without its comments (line breaks kept): gen's headers name server
    facts (ports, record sizes) in comments, which change no object file."""
    return _COMMENT.sub(lambda m: b"\n" * m.group(0).count(b"\n"), config_bytes).rstrip()


def lib_cflags(lto=False):
    """The library's code-generation flags: LIB_CFLAGS, plus fw.LTO_CFLAGS for LTO."""
    return LIB_CFLAGS + (tuple(fw.LTO_CFLAGS) if lto else ())


def build_key(config_bytes, target, tree, lto=False, crypto_bytes=None):
    """The cache key: the header (comments aside), overlay, target, flags, tree,
    compiler -- and, for an LTO build only, LTO_KEY and the LTO flags (so a plain
    build keeps the key it always had); for a 4.x tree also the crypto half and the
    crypto overlay."""
    t = fw.load_target(target)
    h = hashlib.sha256()
    overlays = [o.read_bytes() for o in overlay_sources(tree)]
    if tree.major >= 4:
        overlays.insert(0, xbuild4.KEY_FORMAT)
    if crypto_bytes is not None:
        overlays.append(_semantic(crypto_bytes))
    parts = [KEY_FORMAT, _semantic(config_bytes), *overlays,
             t["name"].encode(), " ".join(fw.cpu_flags(t)).encode(),
             " ".join(LIB_CFLAGS).encode(), str(tree.path).encode(),
             tree.version.encode(), _compiler_id().encode()]
    if lto:
        parts += [LTO_KEY, " ".join(fw.LTO_CFLAGS).encode()]
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


# ------------------------------------------------------------- building

@dataclass
class XBuild:
    """A finished cross build of mbedTLS for one configuration and target."""
    key: str
    dir: Path
    target: str
    tree: object                  # mbedtls.tree.Tree
    config_sha256: str
    cached: bool                  # True: found ready, nothing was compiled
    elapsed: float                # seconds spent here
    objects: int = 0
    skipped: tuple = ()           # sources switched off whole by the configuration
    lto: bool = False             # compiled with fw.LTO_CFLAGS (fat objects)
    compile_seconds: float = None  # the first build's compile + archive time (done.json)
    objects_compiled: int = 0      # objects this build compiled (objcache.py)...
    objects_reused: int = 0        # ...and took from the object store
    compiled: tuple = ()           # the names of the compiled ones ("aes.o", ...)

    @property
    def lib_dir(self):
        return self.dir / "lib"

    @property
    def lib_names(self):
        """The archives, link order (4.x: libtfpsacrypto.a for libmbedcrypto.a)."""
        return xbuild4.LIBS4 if self.tree.major >= 4 else LIBS

    @property
    def libs(self):
        return [self.lib_dir / n for n in self.lib_names]

    @property
    def cfg_dir(self):
        return self.dir / "cfg"

    def cflags(self):
        """What code using mbedTLS with this configuration is compiled with."""
        if self.tree.major >= 4:
            return [f"-I{self.cfg_dir}", *(f"-I{d}" for d in self.tree.include_dirs),
                    f'-DMBEDTLS_CONFIG_FILE="{CONFIG_NAME}"', *xbuild4.config_defines()]
        return [f"-I{self.cfg_dir}", f"-I{self.tree.path / 'include'}",
                f'-DMBEDTLS_CONFIG_FILE="{CONFIG_NAME}"',
                f'-DMBEDTLS_USER_CONFIG_FILE="{OVERLAY_NAME}"']

    def ldflags(self):
        return ["-Wl,--start-group", *map(str, self.libs), "-Wl,--end-group",
                *(xbuild4.LINK_FLAGS if self.tree.major >= 4 else ())]


def _rel(path, start):
    return os.path.relpath(path, start)


def lib_compile_argv(tree, target, work, src_path, obj_path, includes, lto=False):
    """The compile command, every path relative to `work` (the cwd)."""
    if tree.major >= 4:
        return [*lib_cflags(lto), *fw.cpu_flags(target),
                f"-I{_rel(work.parent / 'cfg', work)}",
                *[f"-I{_rel(d, work)}" for d in includes],
                f'-DMBEDTLS_CONFIG_FILE="{CONFIG_NAME}"', *xbuild4.config_defines(),
                "-c", _rel(src_path, work), "-o", _rel(obj_path, work)]
    argv = [*lib_cflags(lto), *fw.cpu_flags(target),
            f"-I{_rel(work.parent / 'cfg', work)}",
            f"-I{_rel(tree.path / 'include', work)}",
            f"-I{_rel(tree.path / 'library', work)}",
            *[f"-I{_rel(d, work)}" for d in includes],
            f'-DMBEDTLS_CONFIG_FILE="{CONFIG_NAME}"',
            f'-DMBEDTLS_USER_CONFIG_FILE="{OVERLAY_NAME}"',
            "-c", _rel(src_path, work), "-o", _rel(obj_path, work)]
    return argv


def compiler_launcher():
    """["ccache"] when ccache is on PATH (and TLSFIT_NO_CCACHE is not set)."""
    return fw.compiler()[:-1]


def _env(root):
    env = dict(os.environ)
    env.setdefault("CCACHE_BASEDIR", str(root))
    return env


HARNESS = check.Harness(files=frozenset({"tls_client.c", "tls_report.c"}), label=None, purpose="measured",
                        built_for="for the target", prefix="tlsfit measure")


def diagnose(output, config_name):
    """(one-line message, deterministic) for cross-compiler output, or None."""
    return check.diagnose(output, config_name, HARNESS)


def precheck(xb, config_name):
    """tls_client.c with -fsyntax-only: check_config.h (3.x through build_info.h,
    2.x included by the harness) judges the header in well under a second.
    Raises TlsfitError(CONFIG) with one line when it is rejected."""
    argv = [*fw.compiler(), *LIB_CFLAGS, *fw.cpu_flags(xb.target), *xb.cflags(),
            f"-I{fw.FIRMWARE_DIR}", "-fsyntax-only", str(fw.FIRMWARE_DIR / "tls_client.c")]
    check.syntax_check(argv, config_name, xb.dir, diagnose, "the cross compiler",
                       XBUILD, env=_env(paths.cache_dir()))


GUARD_PROBE = "tlsfit_guard_probe.c"


def switched_off(xb, sources, includes, env):
    """The sources this configuration compiles to nothing (guards.py): their
    whole-file guard is false under the macros common.h leaves defined, read
    with one `-dM -E`.  Empty when the macros cannot be read (compile all)."""
    work = xb.dir / "build"
    (work / GUARD_PROBE).write_text(xbuild4.GUARD_PROBE_TEXT if xb.tree.major >= 4
                                    else '#include "common.h"\n')
    argv = [fw.CC, *lib_compile_argv(xb.tree, xb.target, work, work / GUARD_PROBE,
                                       work / "guard.o", includes)]
    argv = argv[:argv.index("-c")] + ["-dM", "-E", GUARD_PROBE]
    try:
        proc = subprocess.run(argv, cwd=work, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, env=env, timeout=check.PRECHECK_LIMIT)
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


def _compile_all(xb, sources, includes, log):
    """Compiles every source in parallel, except those the configuration
    switches off whole (switched_off); returns the first failure's
    (source, output) or None, and sets xb.skipped."""
    work = xb.dir / "build"
    obj_root = work / "obj"
    for lib in xb.lib_names:
        (obj_root / lib).mkdir(parents=True, exist_ok=True)
    env = _env(paths.cache_dir())
    off = switched_off(xb, sources, includes, env)
    xb.skipped = sorted(off)
    sources = [s for s in sources if s.obj not in off]
    log.write(f"{len(off)} sources switched off by the configuration, not compiled: "
              f"{' '.join(sorted(off))}\n")
    cc, compiler_id = [fw.CC], _compiler_id()     # the object store is the cache (no ccache)
    failures = []
    counts = {"hit": 0, "compiled": [], "seconds": 0.0}
    lock = threading.Lock()

    def one(src):
        interrupt.check()
        if failures:
            return None
        obj = obj_root / src.lib / src.obj
        argv = lib_compile_argv(xb.tree, xb.target, work, src.path, obj, includes, xb.lto)
        try:
            done = objcache.compile_object(cc, argv, work, compiler_id, env, COMPILE_LIMIT)
        except subprocess.TimeoutExpired:
            failures.append((src, f"{src.path.name}: compiling took more than "
                                  f"{COMPILE_LIMIT} s"))
            return None
        with lock:
            if done.hit:
                counts["hit"] += 1
            else:
                counts["compiled"].append(src.obj)
            counts["seconds"] += 0.0 if done.hit else done.seconds
        if done.failed:
            failures.append((src, done.proc.stderr))
        return done.proc

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for src, proc in zip(sources, pool.map(one, sources)):
            if proc is not None and proc.returncode == 0 and proc.stderr.strip():
                log.write(f"{src.path.name}:\n{proc.stderr}\n")
    xb.objects_reused, xb.compiled = counts["hit"], tuple(sorted(counts["compiled"]))
    xb.objects_compiled = len(xb.compiled)
    timings.add_many("objects", counts["seconds"], counts["hit"] + xb.objects_compiled,
                     counts["hit"])
    log.write(f"objects: {xb.objects_compiled} compiled ({' '.join(xb.compiled)}), "
              f"{counts['hit']} from the object store ({objcache.store_dir()})\n")
    for src, text in failures:
        log.write(text + "\n")
    log.flush()
    return failures[0] if failures else None


def _archive(xb, sources):
    tool = "arm-none-eabi-gcc-ar" if xb.lto else "arm-none-eabi-ar"   # gcc-ar: the LTO plugin
    ar = shutil.which(tool)
    if not ar:
        raise TlsfitError(SETUP, f"{tool} is not installed (run ./tlsfit setup)")
    xb.lib_dir.mkdir(parents=True, exist_ok=True)
    obj_root = xb.dir / "build" / "obj"
    skipped = set(xb.skipped)
    for lib in xb.lib_names:
        members = [obj_root / lib / s.obj for s in sources
                   if s.lib == lib and s.obj not in skipped]
        tmp = xb.lib_dir / (lib + ".tmp")
        tmp.unlink(missing_ok=True)
        proc = subprocess.run([ar, "rcsD", str(tmp), *map(str, members)], capture_output=True,
                              text=True, stdin=subprocess.DEVNULL)
        interrupt.killed(proc.returncode, f"{tool} archiving {lib}")
        if proc.returncode != 0:
            raise TlsfitError(XBUILD, f"{tool} failed for {lib}: "
                                      f"{proc.stderr.strip()}")
        os.replace(tmp, xb.lib_dir / lib)


def _read_config(config_path):
    p = Path(config_path)
    try:
        return p, p.read_bytes()
    except IsADirectoryError:
        raise TlsfitError(FILE, f"{p}: is a directory, not a configuration header") from None
    except OSError as e:
        raise TlsfitError(FILE, f"{p}: cannot read the configuration header: "
                                f"{e.strerror}") from None


TIMINGS = "timings.json"
DEFAULT_ESTIMATE = 30


def _timing_key(tree, target, lto=False):
    return f"{tree.version}/{target}" + ("/lto" if lto else "")


def estimate_seconds(tree, target, lto=False):
    """What to announce for a first build: the last first build's time for this
    mbedTLS version and target (any target if none; LTO and plain apart), else 30 s."""
    try:
        seen = json.loads((xbuild_root() / TIMINGS).read_text())
    except (OSError, ValueError):
        return DEFAULT_ESTIMATE
    exact = seen.get(_timing_key(tree, target, lto))
    same_tree = [v for k, v in seen.items() if k.startswith(f"{tree.version}/")
                 and k.endswith("/lto") == lto]
    best = exact or (max(same_tree) if same_tree else None)
    return max(5, int(round(best / 5.0 + 0.5)) * 5) if best else DEFAULT_ESTIMATE


def _remember_time(tree, target, seconds, lto=False):
    path = xbuild_root() / TIMINGS
    try:
        seen = json.loads(path.read_text())
    except (OSError, ValueError):
        seen = {}
    seen[_timing_key(tree, target, lto)] = round(seconds, 1)
    tmp = path.with_name(f"{TIMINGS}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(seen, indent=1, sort_keys=True) + "\n")
        os.replace(tmp, path)
    except OSError:
        pass


def cross_build(config_path, target, tree=None, progress=True, lto=False):
    """Cross-builds mbedTLS with config_path for target (cached); returns an XBuild.
    lto: compile for link-time optimisation (fat objects, its own cache key).
    Raises TlsfitError: FILE (unreadable header), CONFIG (check_config rejects
    it, one line), XBUILD (the library does not compile; names the log)."""
    start = time.monotonic()
    tree = resolve_tree(tree)
    t = fw.load_target(target)
    cfg, data = _read_config(config_path)
    crypto = pair.crypto_half(cfg, tree)
    key = build_key(data, t, tree, lto, crypto)
    xb = XBuild(key, xbuild_root() / key[:16], t["name"], tree,
                hashlib.sha256(data).hexdigest(), True, 0.0, lto=bool(lto))
    done = xb.dir / DONE

    def ready():
        return done.is_file() and all(p.is_file() for p in xb.libs)

    if not ready():
        with locked(xb.dir):
            if not ready():
                xb.cached = False
                _build_locked(xb, cfg, data, progress)
    if xb.compile_seconds is None:
        try:
            xb.compile_seconds = json.loads(done.read_text()).get("compile_seconds")
        except (OSError, ValueError):
            pass
    xb.elapsed = time.monotonic() - start
    timings.add("compile", xb.elapsed, cached=xb.cached)
    return xb


def _build_locked(xb, cfg, data, progress):
    rejected = xb.dir / check.REJECTED
    if rejected.is_file():
        text = rejected.read_text().strip()
        raise TlsfitError(CONFIG, re.sub(r"^[^:]*:", f"{cfg.name}:", text, count=1))
    xb.cfg_dir.mkdir(parents=True, exist_ok=True)
    (xb.cfg_dir / CONFIG_NAME).write_bytes(data)
    if xb.tree.major >= 4:
        for overlay in overlay_sources(xb.tree):
            shutil.copyfile(overlay, xb.cfg_dir / overlay.name)
    else:
        shutil.copyfile(overlay_source(), xb.cfg_dir / OVERLAY_NAME)
    crypto = pair.crypto_half(cfg, xb.tree)
    if crypto is not None:
        (xb.cfg_dir / pair.CRYPTO_COPY).write_bytes(crypto)
    inputs = {"config": str(cfg.resolve()), "config_sha256": xb.config_sha256,
              "target": xb.target, "mbedtls": str(xb.tree.path),
              "mbedtls_version": xb.tree.version, "key": xb.key, "lto": xb.lto}
    (xb.dir / "inputs.json").write_text(json.dumps(inputs, indent=2) + "\n")
    precheck(xb, cfg.name)
    sources = tree_sources(xb.tree)
    _, includes = thirdparty(xb.tree)
    if xb.tree.major >= 4:
        includes = xbuild4.include_dirs(xb.tree, xbuild4.gen_dir(xb.tree)) + includes
    if progress:
        _say(f"cross-building mbedTLS {xb.tree.version} for {xb.target}"
             f"{' with -flto' if xb.lto else ''} (first time for "
             f"this config, ~{estimate_seconds(xb.tree, xb.target, xb.lto)} s)...")
    started = time.monotonic()
    log_path = xb.dir / LOG_NAME
    with open(log_path, "w") as log:
        log.write(f"mbedTLS {xb.tree.version} ({xb.tree.path}) for {xb.target} with "
                  f"{cfg} ({len(sources)} sources)\n")
        failed = _compile_all(xb, sources, includes, log)
    if failed:
        src, output = failed
        found = diagnose(output, cfg.name)
        what = found[0] if found else f"{src.path.name} does not compile"
        for line in output.strip().splitlines()[-8:]:
            print(f"  | {line}", file=sys.stderr)
        raise TlsfitError(XBUILD, one_line(
            f"cross-building mbedTLS {xb.tree.version} for {xb.target} failed: {what}; "
            f"log: {log_path}"))
    _archive(xb, sources)
    shutil.rmtree(xb.dir / "build", ignore_errors=True)     # ccache keeps the objects
    xb.objects = len(sources) - len(xb.skipped)
    xb.compile_seconds = round(time.monotonic() - started, 1)
    _remember_time(xb.tree, xb.target, xb.compile_seconds, xb.lto)
    (xb.dir / DONE).write_text(json.dumps({**inputs, "objects": xb.objects,
                                           "objects_compiled": xb.objects_compiled,
                                           "objects_reused": xb.objects_reused,
                                           "skipped": list(xb.skipped),
                                           "compile_seconds": xb.compile_seconds}) + "\n")
