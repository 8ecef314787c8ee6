"""`tlsfit verify`: proof on the host that a configuration header really works.

    verify(config_path, host, port, sni=None, ca=None, mbedtls_dir=None, timeout=10)
        -> result dict (the client's JSON line, see tool/verify/client.c, plus
           "config" and "build")
    ensure_client(config_path, mbedtls_dir=None) -> path of tlsfit-verify-client
    ssl_server2_path(mbedtls_dir=None)            -> path of mbedTLS's ssl_server2
    format_result(result)                         -> the human-readable lines
    configure(parser), run(args)                  -> the `tlsfit verify` subcommand

How a configuration is built.  mbedTLS's library (from the chosen 3.6 or 2.28
tree) and tool/verify/client.c are compiled with
MBEDTLS_CONFIG_FILE="tls_config.h" by the small CMake project in tool/verify,
into $TLSFIT_CACHE/verify/<key>/, where <key> is the SHA-256 of the header's
bytes, the tree's path and version, and the client's sources.  A finished
build leaves <key>/tlsfit-verify-client (the objects are dropped; ccache keeps
them); later runs with the same inputs use it at once and print nothing.

Before cmake runs, client.c is compiled with -fsyntax-only against the header
(well under a second): mbedTLS's check_config.h (reached through build_info.h
in 3.x, included explicitly by the client for 2.x) rejects an inconsistent
header there, and the #error text becomes one line:
"tls_config.h: rejected by mbedTLS check_config.h: <text>" (exit 36).  Such a
verdict is kept in <key>/rejected.txt.
"""
import argparse
import contextlib
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from . import build, paths
from .errors import BUILD, CONFIG, FILE, SETUP, USAGE, VERIFY, TlsfitError

CLIENT = "tlsfit-verify-client"
SYSTEM_STORE = Path("/etc/ssl/certs/ca-certificates.crt")
BUILD_TYPE = "Release"
KEY_FORMAT = b"tlsfit-verify-1"
DEFAULT_TIMEOUT = 10
SSL_SERVER2_DIR = "ssl_server2-3.6"
LOG_NAME = "build.log"
PRECHECK_LIMIT = 120        # seconds for the -fsyntax-only check
BUILD_LIMIT = 1800          # seconds for configure + build of one configuration


def _say(msg):
    print(f"tlsfit: {msg}", file=sys.stderr, flush=True)


def source_dir():
    return paths.repo_root() / "tool" / "verify"


# ------------------------------------------------------------ mbedTLS trees

class Tree:
    """An mbedTLS source tree: path, version string ("3.6.6"), major number."""

    def __init__(self, path, version, major):
        self.path = path
        self.version = version
        self.major = major

    @property
    def line(self):
        """"3.6" / "2.28"."""
        return ".".join(self.version.split(".")[:2])

    def __repr__(self):
        return f"Tree({str(self.path)!r}, {self.version!r})"


_VERSION_RE = re.compile(r'^\s*#\s*define\s+MBEDTLS_VERSION_STRING\s+"([0-9.]+)"', re.M)


def open_tree(path, origin="MBEDTLS_DIR"):
    """Validates an mbedTLS 3.x or 2.x source tree; raises TlsfitError(SETUP)."""
    p = Path(path).expanduser()
    if not p.is_dir():
        hint = " (run ./tlsfit setup to fetch it)" if origin == "the set-up cache" else ""
        raise TlsfitError(SETUP, f"mbedTLS tree {p} (from {origin}) does not exist{hint}")
    inc = p / "include" / "mbedtls"
    if not (inc / "ssl.h").is_file() or not (p / "CMakeLists.txt").is_file():
        raise TlsfitError(SETUP, f"{p} (from {origin}) is not an mbedTLS source tree "
                                 "(include/mbedtls/ssl.h or CMakeLists.txt is missing)")
    version = None
    for header in ("build_info.h", "version.h"):
        try:
            m = _VERSION_RE.search((inc / header).read_text(errors="replace"))
        except OSError:
            continue
        if m:
            version = m.group(1)
            break
    if version is None:
        raise TlsfitError(SETUP, f"{p} (from {origin}): cannot find MBEDTLS_VERSION_STRING "
                                 "in include/mbedtls/build_info.h or version.h")
    major = int(version.split(".")[0])
    if major not in (2, 3):
        raise TlsfitError(SETUP, f"{p} (from {origin}) is mbedTLS {version}; verify builds "
                                 "against 3.x (3.6) or 2.x (2.28)")
    return Tree(p.resolve(), version, major)


def resolve_tree(mbedtls_dir=None, line=None):
    """The tree to build against.

    mbedtls_dir (a path) wins.  Otherwise line "2.28" is <cache>/mbedtls-2.28, and
    line "3.6" or None is the prober's tree (--mbedtls-dir > $MBEDTLS_DIR > the
    cache), which may also be a 2.x tree when line is None.
    """
    if mbedtls_dir:
        tree = open_tree(mbedtls_dir, "the mbedtls_dir argument")
    elif line == "2.28":
        tree = open_tree(paths.cache_dir() / "mbedtls-2.28", "the set-up cache")
    else:
        path, origin = paths.mbedtls_dir_source()
        tree = open_tree(path, origin)
    if line and tree.line != line:
        raise TlsfitError(SETUP, f"{tree.path} is mbedTLS {tree.version}, not {line}")
    return tree


# -------------------------------------------------------------- cache keys

def _sha256_file(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def client_sources_digest():
    """SHA-256 over the client's sources: client.c, errnames.h, CMakeLists.txt."""
    h = hashlib.sha256()
    for name in ("client.c", "errnames.h", "CMakeLists.txt"):
        h.update(name.encode() + b"\0" + _sha256_file(source_dir() / name).encode() + b"\0")
    return h.hexdigest()


def cache_key(config_bytes, tree):
    h = hashlib.sha256()
    for part in (KEY_FORMAT, config_bytes, str(tree.path).encode(), tree.version.encode(),
                 client_sources_digest().encode()):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def verify_cache_dir():
    return paths.cache_dir() / "verify"


# ---------------------------------------------------------------- building

def _read_config(config_path):
    p = Path(config_path)
    try:
        data = p.read_bytes()
    except IsADirectoryError:
        raise TlsfitError(FILE, f"{p}: is a directory, not a configuration header") from None
    except OSError as e:
        raise TlsfitError(FILE, f"{p}: cannot read the configuration header: "
                                f"{e.strerror}") from None
    return p, data


_DIAG = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:\d+:)? (?:fatal )?error: (?P<msg>.*)$",
                   re.M)
_UNDEF = re.compile(r"undefined reference to [`'](?P<sym>[^'`]+)'")


def _one_line(text, limit=400):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def diagnose(output, config_name):
    """Turns compiler/linker output into (message, deterministic) or None.

    deterministic: the verdict depends on the header alone (an #error), so it
    may be remembered for this cache key.
    """
    for m in _DIAG.finditer(output):
        msg = m.group("msg").strip()
        where = Path(m.group("file")).name
        if msg.startswith("#error"):
            text = msg[len("#error"):].strip().strip('"').strip()
            if where == "client.c":
                text = re.sub(r"^tlsfit verify:\s*", "", text)
                return _one_line(f"{config_name}: cannot be verified: {text}"), True
            return _one_line(f"{config_name}: rejected by mbedTLS {where}: {text}"), True
        if where == "client.c":
            return _one_line(f"{config_name}: tool/verify/client.c does not compile with it: "
                             f"line {m.group('line')}: {msg}"), False
        if where == "tls_config.h":
            return _one_line(f"{config_name}: does not compile: line {m.group('line')}: "
                             f"{msg}"), False
        hint = ""
        if re.search(r"_alt\.h", msg):
            hint = " (the header enables an _ALT implementation that only exists on the device)"
        return _one_line(f"{config_name}: mbedTLS does not compile with it: {where}: "
                         f"{msg}{hint}"), False
    m = _UNDEF.search(output)
    if m:
        return _one_line(f"{config_name}: mbedTLS builds but does not link on the host: "
                         f"undefined reference to {m.group('sym')} (a platform hook or _ALT "
                         "function the device provides)"), False
    return None


def _compiler():
    """The C compiler as an argv prefix ($CC may be "ccache gcc")."""
    cc = shlex.split(os.environ.get("CC", "")) or \
        [shutil.which("cc") or shutil.which("gcc") or ""]
    if not cc[0]:
        raise TlsfitError(SETUP, "no C compiler (cc) found (run ./tlsfit setup)")
    return cc


def _include_args(work, tree, origin_dir):
    args = ["-I", str(work), "-I", str(tree.path / "include")]
    if origin_dir:
        args += ["-idirafter", str(origin_dir)]
    return args


def precheck(work, tree, config_name, origin_dir):
    """Compiles client.c with -fsyntax-only: check_config.h and the client's own
    requirements judge the header.  Raises TlsfitError(CONFIG) when rejected."""
    cmd = [*_compiler(), "-std=c11", "-fsyntax-only", "-DMBEDTLS_CONFIG_FILE=\"tls_config.h\"",
           *_include_args(work, tree, origin_dir), str(source_dir() / "client.c")]
    syntax_check(cmd, config_name, work, diagnose, "the compiler", BUILD)


def syntax_check(cmd, config_name, work, judge, compiler, timeout_code, env=None):
    """Runs a -fsyntax-only compile of a header under test.  judge(stderr, name) turns
    the compiler's complaint into (one-line message, deterministic) or None; a
    deterministic verdict is kept in work/rejected.txt.  TlsfitError(CONFIG) when the
    header is rejected; timeout_code when the compiler hangs."""
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=PRECHECK_LIMIT, env=env)
    except subprocess.TimeoutExpired:
        raise TlsfitError(timeout_code, f"checking {config_name} took more than "
                                        f"{PRECHECK_LIMIT} s") from None
    except OSError as e:
        raise TlsfitError(SETUP, f"cannot run {cmd[0]}: {e.strerror}") from None
    if proc.returncode == 0:
        return
    found = judge(proc.stderr, config_name)
    if found is None:
        last = proc.stderr.strip().splitlines()
        found = (f"{config_name}: {compiler} rejects it: "
                 f"{last[-1] if last else 'exit %d' % proc.returncode}", False)
    message, deterministic = found
    if deterministic:
        with contextlib.suppress(OSError):
            (work / "rejected.txt").write_text(message + "\n")
    raise TlsfitError(CONFIG, _one_line(message))


def _cmake():
    exe = shutil.which("cmake")
    if not exe:
        raise TlsfitError(SETUP, "cmake is not installed (run ./tlsfit setup)")
    return exe


def _build_env(base_dir):
    env = dict(os.environ)
    # Paths under base_dir become relative for ccache, so the same header built in
    # another cache-key directory (e.g. after client.c changed) hits the cache.
    env.setdefault("CCACHE_BASEDIR", str(base_dir))
    return env


def _run_logged(cmd, log, what, env, limit=BUILD_LIMIT):
    log.write(f"$ {' '.join(map(str, cmd))}\n")
    log.flush()
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=log,
                              stderr=subprocess.STDOUT, env=env, timeout=limit)
    except subprocess.TimeoutExpired:
        raise TlsfitError(BUILD, f"{what} took more than {limit} s; log: {log.name}") from None
    return proc.returncode


def _tail(path, n=12):
    try:
        return Path(path).read_text(errors="replace").splitlines()[-n:]
    except OSError:
        return []


def _announce_config(config_name, tree):
    _say(f"building mbedTLS with {config_name} (cached after the first time)...")


def ensure_client(config_path, mbedtls_dir=None, line=None, announce=True):
    """Builds (or finds in the cache) tlsfit-verify-client for this header and tree;
    returns its path.  Raises TlsfitError(CONFIG) when mbedTLS rejects the header,
    TlsfitError(BUILD) when the build fails otherwise."""
    cfg, data = _read_config(config_path)
    tree = resolve_tree(mbedtls_dir, line)
    key = cache_key(data, tree)
    work = verify_cache_dir() / key[:16]
    binary = work / CLIENT
    if os.access(binary, os.X_OK):
        return binary
    config_name = cfg.name
    with build.locked(work):
        if os.access(binary, os.X_OK):
            return binary
        rejected = work / "rejected.txt"
        if rejected.is_file():
            # Re-labelled with this file's name (the key is the content, not the name).
            text = rejected.read_text().strip()
            raise TlsfitError(CONFIG, re.sub(r"^[^:]*:", f"{config_name}:", text, count=1))
        (work / "tls_config.h").write_bytes(data)
        origin_dir = cfg.resolve().parent
        (work / "inputs.txt").write_text(
            f"config: {cfg.resolve()}\nmbedtls: {tree.path} ({tree.version})\n"
            f"client sources: {client_sources_digest()}\nkey: {key}\n")
        precheck(work, tree, config_name, origin_dir)
        if announce:
            _announce_config(config_name, tree)
        build_dir = work / "build"
        log_path = work / LOG_NAME
        env = _build_env(verify_cache_dir())
        cmake = _cmake()
        with open(log_path, "w") as log:
            cmd = [cmake, "-S", str(source_dir()), "-B", str(build_dir),
                   f"-DMBEDTLS_DIR={tree.path}", f"-DTLSFIT_CONFIG_DIR={work}",
                   f"-DTLSFIT_CONFIG_SOURCE_DIR={origin_dir}",
                   f"-DCMAKE_BUILD_TYPE={BUILD_TYPE}"]
            rc = _run_logged(cmd, log, "configuring mbedTLS with cmake", env)
            if rc == 0:
                cmd = [cmake, "--build", str(build_dir), "-j2", "--target", CLIENT]
                rc = _run_logged(cmd, log, f"building mbedTLS with {config_name}", env)
        if rc != 0:
            output = log_path.read_text(errors="replace")
            found = diagnose(output, config_name)
            if found:
                message, deterministic = found
                if deterministic:
                    rejected.write_text(message + "\n")
                raise TlsfitError(CONFIG, f"{message} (log: {log_path})")
            for line_ in _tail(log_path):
                print(f"  | {line_}", file=sys.stderr)
            raise TlsfitError(BUILD, f"building mbedTLS {tree.version} with {config_name} "
                                     f"failed; log: {log_path}")
        built = build_dir / CLIENT
        if not os.access(built, os.X_OK):
            raise TlsfitError(BUILD, f"the build finished but {built} is missing; "
                                     f"log: {log_path}")
        tmp = work / (CLIENT + ".tmp")
        shutil.copy2(built, tmp)
        os.replace(tmp, binary)
        # The objects are not needed again (the key never changes its inputs).
        shutil.rmtree(build_dir, ignore_errors=True)
    return binary


# ----------------------------------------------------------------- running

def parse_target(text, default_port=443):
    """"host", "host:port", "[v6]:port", "v6" -> (host, port)."""
    text = text.strip()
    if not text:
        raise TlsfitError(USAGE, "empty target; expected HOST[:PORT]")
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not host:
            raise TlsfitError(USAGE, f"{text!r}: unclosed '[' in the address")
        if rest and not rest.startswith(":"):
            raise TlsfitError(USAGE, f"{text!r}: expected [ADDRESS]:PORT")
        port = rest[1:] if rest else None
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, None
    if port is None or port == "":
        if port == "":
            raise TlsfitError(USAGE, f"{text!r}: the port is empty")
        return host, default_port
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise TlsfitError(USAGE, f"{text!r}: the port must be a number from 1 to 65535")
    return host, int(port)


def client_argv(binary, host, port, sni, ca, timeout, min_version=None, max_version=None):
    argv = [str(binary), "--host", host, "--port", str(port), "--ca", str(ca),
            "--timeout", str(timeout)]
    if sni:
        argv += ["--sni", sni]
    if min_version:
        argv += ["--min-version", min_version]
    if max_version:
        argv += ["--max-version", max_version]
    return argv


def _ca_file(ca):
    if ca is None:
        if not SYSTEM_STORE.is_file():
            raise TlsfitError(USAGE, f"no --ca given and the system store {SYSTEM_STORE} "
                                     "does not exist; name the server's root with --ca FILE")
        return SYSTEM_STORE
    p = Path(ca)
    if not p.is_file():
        raise TlsfitError(FILE, f"{p}: the CA file does not exist")
    return p


def run_client(binary, host, port, sni=None, ca=None, timeout=DEFAULT_TIMEOUT,
               min_version=None, max_version=None):
    """Runs the client once and returns its JSON result as a dict."""
    argv = client_argv(binary, host, port, sni, _ca_file(ca), timeout, min_version,
                       max_version)
    limit = 3 * float(timeout) + 30
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=limit)
    except subprocess.TimeoutExpired:
        return {"ok": False, "step": "handshake", "error": "TLSFIT_HARD_TIMEOUT", "code": None,
                "message": f"the client did not finish within {limit:.0f} s and was stopped",
                "verify_flags": None}
    except OSError as e:
        raise TlsfitError(BUILD, f"cannot run {binary}: {e.strerror}") from None
    if proc.returncode < 0:
        sig = signal.Signals(-proc.returncode).name
        return {"ok": False, "step": "crash", "error": sig, "code": None,
                "message": f"{CLIENT} was killed by {sig} during the handshake "
                           "(mbedTLS with this configuration crashed)",
                "verify_flags": None}
    if proc.returncode == 2:
        raise TlsfitError(USAGE, proc.stderr.strip().splitlines()[0] if proc.stderr.strip()
                          else f"{CLIENT}: usage error")
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise TlsfitError(BUILD, f"{CLIENT} printed no result (exit {proc.returncode}); "
                                 f"stderr: {_one_line(proc.stderr) or 'empty'}") from None
    return result


def verify(config_path, host, port, sni=None, ca=None, mbedtls_dir=None,
           timeout=DEFAULT_TIMEOUT, *, line=None, min_version=None, max_version=None,
           announce=True):
    """Builds mbedTLS with config_path (cached) and makes one verified handshake with
    host:port.  ca=None means the system store.  Returns the result dict:
    ok, version, ciphersuite, group, verify_flags ... or ok False, step, error,
    code, message, verify_flags, verify_info ...  Raises TlsfitError for a header
    mbedTLS rejects (CONFIG), a build failure (BUILD) or bad arguments."""
    binary = ensure_client(config_path, mbedtls_dir, line=line, announce=announce)
    result = run_client(binary, host, port, sni=sni, ca=ca, timeout=timeout,
                        min_version=min_version, max_version=max_version)
    result["config"] = str(config_path)
    result["build"] = str(binary.parent)
    return result


# ------------------------------------------------------------- ssl_server2

def ssl_server2_path(mbedtls_dir=None):
    """mbedTLS's own programs/ssl/ssl_server2 from a 3.x tree (default configuration),
    built once into $TLSFIT_CACHE/ssl_server2-3.6/ (rebuilt when the tree changes)."""
    tree = resolve_tree(mbedtls_dir)
    if tree.major != 3:
        raise TlsfitError(SETUP, f"ssl_server2 is built from a 3.x tree; {tree.path} is "
                                 f"{tree.version}")
    bdir = paths.cache_dir() / SSL_SERVER2_DIR
    binary = bdir / "programs" / "ssl" / "ssl_server2"
    stamp = bdir / ".tlsfit-tree"
    ident = f"{tree.path} {tree.version}"

    def current():
        try:
            return os.access(binary, os.X_OK) and stamp.read_text().strip() == ident
        except OSError:
            return False

    if current():
        return binary
    with build.locked(bdir):
        if current():
            return binary
        cache = bdir / "CMakeCache.txt"
        if cache.exists() and f"CMAKE_HOME_DIRECTORY:INTERNAL={tree.path}\n" not in \
                cache.read_text(errors="replace"):
            for child in bdir.iterdir():        # configured for another tree
                if child.name != ".lock":
                    if child.is_dir():
                        shutil.rmtree(child, ignore_errors=True)
                    else:
                        child.unlink()
        _say("building mbedTLS's ssl_server2 (cached after the first time)...")
        cmake = _cmake()
        log_path = bdir / LOG_NAME
        env = _build_env(bdir)
        with open(log_path, "w") as log:
            cmd = [cmake, "-S", str(tree.path), "-B", str(bdir), "-DENABLE_PROGRAMS=ON",
                   "-DENABLE_TESTING=OFF", "-DMBEDTLS_FATAL_WARNINGS=OFF", "-DGEN_FILES=OFF",
                   f"-DCMAKE_BUILD_TYPE={BUILD_TYPE}"]
            if shutil.which("ccache"):
                cmd.append("-DCMAKE_C_COMPILER_LAUNCHER=ccache")
            rc = _run_logged(cmd, log, "configuring mbedTLS's programs", env)
            if rc == 0:
                rc = _run_logged([cmake, "--build", str(bdir), "-j2", "--target",
                                  "ssl_server2"], log, "building ssl_server2", env)
        if rc != 0 or not os.access(binary, os.X_OK):
            for line_ in _tail(log_path):
                print(f"  | {line_}", file=sys.stderr)
            raise TlsfitError(BUILD, f"building ssl_server2 from {tree.path} failed; "
                                     f"log: {log_path}")
        stamp.write_text(ident + "\n")
    return binary


# ------------------------------------------------------------ human output

def format_result(res, target=None):
    """The lines `tlsfit verify` prints (first line: verified/FAILED)."""
    where = target or f"{res.get('host')}:{res.get('port')}"
    sni = res.get("sni")
    if res.get("ok"):
        parts = [res.get("version") or "?", res.get("ciphersuite") or "?"]
        if res.get("group"):
            parts.append(res["group"])
        return [f"verified: {' '.join(parts)} with {where} (sni {sni})"]
    code = f" ({res['code']})" if res.get("code") else ""
    msg = f" {res['message']}" if res.get("message") else ""
    lines = [f"FAILED at {res.get('step')}: {res.get('error')}{code}{msg}"]
    if res.get("hint"):
        lines.append(f"  hint: {res['hint']}")
    if res.get("verify_flags"):
        lines.append(f"  certificate: {res.get('verify_info') or ''} "
                     f"(flags 0x{res['verify_flags']:x})")
    if res.get("alert"):
        lines.append(f"  alert from the server: {res['alert']}")
    sh = res.get("server_hello")
    if sh:
        parts = [sh.get("version") or "?", sh.get("ciphersuite") or sh.get("ciphersuite_id")]
        if sh.get("group"):
            parts.append(sh["group"])
        if sh.get("ske_signature"):
            parts.append(f"(ServerKeyExchange signed with {sh['ske_signature']})")
        lines.append(f"  the server had chosen: {' '.join(p for p in parts if p)}")
    if res.get("step") in ("handshake", "connect"):
        lines.append(f"  with {where} (sni {sni})")
    return lines


# -------------------------------------------------------------- subcommand

SUMMARY = "prove a tls_config.h: build mbedTLS with it and handshake with a server"

HELP = """\
Builds mbedTLS with the configuration header (--config) on this machine and
makes one TLS handshake with certificate verification (authmode REQUIRED, the
host name checked) against HOST[:PORT], with a small client of tlsfit's own.
Prints the negotiated version, cipher suite and group, or where and why it
failed, by the mbedTLS error name (e.g. MBEDTLS_ERR_X509_CERT_VERIFY_FAILED).

The build is cached per header content and mbedTLS tree in
$TLSFIT_CACHE/verify/ (the first build of a header takes 10-60 s, depending
on the machine; later runs take well under a second).  A header that
mbedTLS's check_config.h rejects fails at once with its #error text.

--mbedtls 2.28 builds against the 2.28 LTS tree fetched by ./tlsfit setup;
the default is the 3.x tree (--mbedtls-dir, $MBEDTLS_DIR, or the set-up one).

examples:
  tlsfit verify --config tls_config.h 127.0.0.1:4433 --sni localhost --ca root.pem
  tlsfit verify --config tls_config.h broker.example.com:8883     # system CA store
  tlsfit verify --config config-2.28.h --mbedtls 2.28 192.0.2.7 --json

exit status: 0 verified; 37 the handshake failed; 36 mbedTLS rejects the
header or cannot be built with it; 30 the build failed otherwise; 2 usage.
"""


def _timeout_arg(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < v <= 600:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 600 s: {text!r}")
    return v if v != int(v) else int(v)


def configure(p):
    p.add_argument("target", metavar="HOST[:PORT]",
                   help="server to verify against; port 443 when omitted; IPv6 as [::1]:4433")
    p.add_argument("--config", required=True, metavar="FILE",
                   help="the mbedTLS configuration header to prove (MBEDTLS_CONFIG_FILE)")
    p.add_argument("--sni", metavar="NAME",
                   help="server name to send and to check the certificate against "
                        "(default: HOST)")
    p.add_argument("--ca", metavar="FILE",
                   help="trust anchor(s), PEM or DER (default: the system store "
                        f"{SYSTEM_STORE})")
    p.add_argument("--mbedtls", choices=("3.6", "2.28"),
                   help="mbedTLS line to build against (default: the 3.x tree)")
    p.add_argument("--timeout", type=_timeout_arg, default=DEFAULT_TIMEOUT, metavar="SEC",
                   help=f"give up on a silent server after SEC seconds (default "
                        f"{DEFAULT_TIMEOUT})")
    p.add_argument("--min-version", choices=("1.2", "1.3"), help="lowest TLS version to offer")
    p.add_argument("--max-version", choices=("1.2", "1.3"), help="highest TLS version to offer")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")


def run(args):
    host, port = parse_target(args.target)
    result = verify(args.config, host, port, sni=args.sni, ca=args.ca, line=args.mbedtls,
                    timeout=args.timeout, min_version=args.min_version,
                    max_version=args.max_version)
    if args.json:
        print(json.dumps(result, sort_keys=False))
    else:
        target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        print("\n".join(format_result(result, target)))
    return 0 if result.get("ok") else VERIFY
