"""`tlsfit verify`: proof on the host that a configuration header really works.

    verify(config_path, host, port, sni=None, ca=None, mbedtls_dir=None, timeout=10,
           proof=None, client=None)
        -> VerifyResult (host/result.py: the client's JSON line, see tool/verify/, plus
           "config" and "build")
    ensure_client(config_path, mbedtls_dir=None) -> path of tlsfit-verify-client
    ssl_server2_path(mbedtls_dir=None)            -> path of mbedTLS's ssl_server2
    format_result(result)                         -> the human-readable lines
(the `tlsfit verify` command itself: cli/verify.py)

How a configuration is built.  mbedTLS's library (from the chosen 3.6 or 2.28
tree) and tool/verify/client.c are compiled with
MBEDTLS_CONFIG_FILE="tls_config.h" (and, for a 4.x tree, the crypto half as
TF_PSA_CRYPTO_CONFIG_FILE="tls_config_crypto.h": mbedtls/pair.py) by the small
CMake project in tool/verify, into $TLSFIT_CACHE/verify/<key>/, where <key>
is the SHA-256 of the header's bytes (a 4.x pair's: both files without their
comments), the tree's path and version, and the client's sources.  A finished
build leaves <key>/tlsfit-verify-client (the objects are dropped; ccache keeps
them); later runs with the same inputs use it at once and print nothing.

Before cmake runs, client.c is compiled with -fsyntax-only against the header
(well under a second): mbedTLS's check_config.h (reached through build_info.h
in 3.x, included explicitly by the client for 2.x) rejects an inconsistent
header there, and the #error text becomes one line:
"tls_config.h: rejected by mbedTLS check_config.h: <text>" (exit 36).  Such a
verdict is kept in <key>/rejected-2.txt (check.REJECTED).

A handshake counts as verified only after the proof that the server accepted
the session (core/proof.py, tool/proof/proof.c): `proof` names it (None: by
port, core.proof.default_proof); the result's "proof" is its name and
"proof_result" how it ended; a rejection after the handshake is a failure with
"step": "proof" and the server's "alert".

client: the device's identity (core.identity.ClientIdentity, key included), for a server
that asks for a client certificate: the client is given the PATHS of the certificate and
the key and presents them (mbedtls_ssl_conf_own_cert); the result's "client" holds the
public facts (paths, key type, subject), never the key.  A server that wants a
certificate and got none (alert certificate_required, or a TLS 1.2 handshake_failure
after a CertificateRequest) gets the hint core.identity.MISSING_HINT.
"""
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

from ..core import identity as identity_mod, interrupt, paths, proof as proof_mod, pskkey, \
    resumption
from ..core.errors import BUILD, CONFIG, FILE, SETUP, USAGE, TlsfitError
from ..core.proc import cmake as _cmake, locked, run_logged, tail
from ..core.text import one_line, say
from ..mbedtls import check, pair
from ..mbedtls.tree import prober_tree, resolve_tree
from ..header.dtls import header_is_dtls
from .result import VerifyResult

# A client killed by one of these was stopped, it did not crash (SIGSEGV, SIGABRT, ...).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL)

CLIENT = "tlsfit-verify-client"
SYSTEM_STORE = Path("/etc/ssl/certs/ca-certificates.crt")
BUILD_TYPE = "Release"
KEY_FORMAT = b"tlsfit-verify-1"
DEFAULT_TIMEOUT = 10
SSL_SERVER2_DIR = "ssl_server2-3.6"
LOG_NAME = "build.log"
BUILD_LIMIT = 1800          # seconds for configure + build of one configuration
CODEC_DIR = ("tool", "codec")   # the prober's codecs the client links too
PROOF_DIR = ("tool", "proof")   # the post-handshake proof, shared with the firmware
HARNESS_DIR = ("tool", "harness")   # the TLS client core, shared with the firmware
ERRORS_DIR = ("tool", "errors")     # the C tools' one error table


HARNESS = check.Harness(
    files=frozenset(f.name for d in (("tool", "verify"), PROOF_DIR, HARNESS_DIR, ERRORS_DIR)
                    for f in paths.repo_root().joinpath(*d).glob("*.c")),
    label="tool/verify/{file}", purpose="verified", built_for="on the host",
    prefix="tlsfit verify")


def diagnose(output, config_name):
    """(one-line message, deterministic) for the client's build output, or None."""
    return check.diagnose(output, config_name, HARNESS)


def source_dir():
    return paths.repo_root() / "tool" / "verify"


def codec_dir():
    return paths.repo_root().joinpath(*CODEC_DIR)


def proof_dir():
    return paths.repo_root().joinpath(*PROOF_DIR)


# ------------------------------------------------------------ mbedTLS trees


# -------------------------------------------------------------- cache keys

def _sha256_file(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def client_sources():
    """Every file the client is built from: tool/verify/ and the shared tool/codec/,
    tool/proof/, tool/harness/ and tool/errors/ (the build cache's key: a change to any
    of them builds the client again)."""
    files = []
    shared = (codec_dir(), proof_dir(),
              *(paths.repo_root().joinpath(*d) for d in (HARNESS_DIR, ERRORS_DIR)))
    for d in (source_dir(), *shared):
        if not d.is_dir():
            continue
        files += sorted(f for f in d.iterdir() if f.is_file() and
                        (f.suffix in (".c", ".h") or f.name == "CMakeLists.txt"))
    return files


def client_sources_digest():
    """SHA-256 over the client's sources (names relative to tool/ and contents)."""
    h = hashlib.sha256()
    for f in client_sources():
        name = f.relative_to(source_dir().parent).as_posix()
        h.update(name.encode() + b"\0" + _sha256_file(f).encode() + b"\0")
    return h.hexdigest()


def cache_key(config_bytes, tree, crypto_bytes=None):
    """The build directory's key: the header, the tree, the client's sources and the
    checkout they are in (CMake's cache names its source directory: a build made from
    another clone of tlsfit cannot be reused, and used to fail with "does not match
    the source ... used to generate cache").  A 4.x tree's key has both files as their
    code (pair.code_of: without comments, so gen's pair for another run of the same
    server, another port, reuses the build); a 3.x key is the header's bytes as ever."""
    h = hashlib.sha256()
    crypto = ()
    if crypto_bytes is not None:
        config_bytes, crypto = pair.code_of(config_bytes), (pair.code_of(crypto_bytes),)
    for part in (KEY_FORMAT, config_bytes, str(tree.path).encode(), tree.version.encode(),
                 client_sources_digest().encode(), str(source_dir()).encode(), *crypto):
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


def _include_args(work, tree, origin_dir):
    args = ["-I", str(work), *(a for d in tree.include_dirs for a in ("-I", str(d))),
            "-I", str(codec_dir())]
    if origin_dir:
        args += ["-idirafter", str(origin_dir)]
    return args


def precheck(work, tree, config_name, origin_dir):
    """Compiles client.c with -fsyntax-only: check_config.h and the client's own
    requirements judge the header.  Raises TlsfitError(CONFIG) when rejected."""
    cmd = [*check.compiler(), "-std=c11", "-fsyntax-only", "-DMBEDTLS_CONFIG_FILE=\"tls_config.h\"",
           *pair.crypto_defines(tree), *_include_args(work, tree, origin_dir), str(source_dir() / "client.c")]
    check.syntax_check(cmd, config_name, work, diagnose, "the compiler", BUILD)


def _build_env(base_dir):
    env = dict(os.environ)
    # Paths under base_dir become relative for ccache, so the same header built in
    # another cache-key directory (e.g. after client.c changed) hits the cache.
    env.setdefault("CCACHE_BASEDIR", str(base_dir))
    return env


def _announce_config(config_name, tree):
    say(f"building mbedTLS with {config_name} (cached after the first time)...")


def ensure_client(config_path, mbedtls_dir=None, line=None, announce=True):
    """Builds (or finds in the cache) tlsfit-verify-client for this header and tree;
    returns its path.  Raises TlsfitError(CONFIG) when mbedTLS rejects the header,
    TlsfitError(BUILD) when the build fails otherwise."""
    cfg, data = _read_config(config_path)
    tree = resolve_tree(mbedtls_dir, line)
    crypto = pair.crypto_half(cfg, tree)
    key = cache_key(data, tree, crypto)
    work = verify_cache_dir() / key[:16]
    binary = work / CLIENT
    if os.access(binary, os.X_OK):
        return binary
    config_name = cfg.name
    with locked(work):
        if os.access(binary, os.X_OK):
            return binary
        rejected = work / check.REJECTED
        if rejected.is_file():
            # Re-labelled with this file's name (the key is the content, not the name).
            text = rejected.read_text().strip()
            raise TlsfitError(CONFIG, re.sub(r"^[^:]*:", f"{config_name}:", text, count=1))
        (work / "tls_config.h").write_bytes(data)
        if crypto is not None:
            (work / pair.CRYPTO_COPY).write_bytes(crypto)
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
            rc = run_logged(cmd, log, "configuring mbedTLS with cmake", BUILD, env, BUILD_LIMIT)
            if rc == 0:
                cmd = [cmake, "--build", str(build_dir), "-j2", "--target", CLIENT]
                rc = run_logged(cmd, log, f"building mbedTLS with {config_name}", BUILD, env,
                                BUILD_LIMIT)
        if rc != 0:
            output = log_path.read_text(errors="replace")
            found = diagnose(output, config_name)
            if found:
                message, deterministic = found
                if deterministic:
                    rejected.write_text(message + "\n")
                raise TlsfitError(CONFIG, f"{message} (log: {log_path})")
            for line_ in tail(log_path):
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


def client_argv(binary, host, port, sni, ca, timeout, min_version=None, max_version=None,
                proof=None, client=None, resume=False, psk=None, psk_fd=None):
    """The client's command line; ca None (a pre-shared key alone): no --ca.  psk: a
    core.pskkey.Psk whose key the client reads from inherited fd psk_fd."""
    argv = [str(binary), "--host", host, "--port", str(port),
            *(["--ca", str(ca)] if ca is not None else []),
            "--timeout", str(timeout), "--proof", proof_mod.resolve(proof, port).spec]
    if resume:
        argv.append("--resume")
    if psk is not None:
        argv += pskkey.fd_args(psk, psk_fd)
    if client is not None:
        if client.key is None:
            raise TlsfitError(USAGE, f"--client-cert {client.cert} needs --client-key: the "
                                     "device signs the handshake with its key")
        argv += ["--client-cert", str(client.cert), "--client-key", str(client.key)]
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
               min_version=None, max_version=None, proof=None, client=None, resume=False,
               psk=None):
    """Runs the client once and returns its JSON result as a dict.  psk (a
    core.pskkey.Psk): its key goes to the client on a pipe; without ca, no trust
    anchors are loaded (the key authenticates the server)."""
    chosen = proof_mod.resolve(proof, port)
    # handshake (3 x + 1 s), proof (1 x + 2 s); twice with --resume
    limit = (2 if resume else 1) * (4 * float(timeout) + 30)
    unfinished = {"code": None, "verify_flags": None, "proof": chosen.label,
                  "proof_result": None}
    try:
        with contextlib.ExitStack() as stack:
            fd = stack.enter_context(pskkey.key_pipe(psk)) if psk is not None else None
            argv = client_argv(binary, host, port, sni,
                               None if psk is not None and ca is None else _ca_file(ca),
                               timeout, min_version, max_version, chosen, client, resume, psk, fd)
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=limit, pass_fds=(fd,) if fd else ())
    except subprocess.TimeoutExpired:
        return {"ok": False, "step": "handshake", "error": "TLSFIT_HARD_TIMEOUT",
                "message": f"the client did not finish within {limit:.0f} s and was stopped",
                **unfinished}
    except OSError as e:
        raise TlsfitError(BUILD, f"cannot run {binary}: {e.strerror}") from None
    if proc.returncode < 0 and -proc.returncode in STOP_SIGNALS:
        interrupt.killed(proc.returncode, f"{CLIENT} ({binary})")
    if proc.returncode < 0:
        sig = signal.Signals(-proc.returncode).name
        return {"ok": False, "step": "crash", "error": sig,
                "message": f"{CLIENT} was killed by {sig} during the handshake "
                           "(mbedTLS with this configuration crashed)",
                **unfinished}
    if proc.returncode == 2:
        raise TlsfitError(USAGE, proc.stderr.strip().splitlines()[0] if proc.stderr.strip()
                          else f"{CLIENT}: usage error")
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise TlsfitError(BUILD, f"{CLIENT} printed no result (exit {proc.returncode}); "
                                 f"stderr: {one_line(proc.stderr) or 'empty'}") from None
    if result.get("verify_info"):
        result["verify_info"] = verify_info_text(result["verify_info"])
    return result


def verify_info_text(info):
    """mbedtls_x509_crt_verify_info()'s lines, which the client folds into one with ";"
    (tool/verify/report.c), as a list a reader can take in: "a; b"."""
    return "; ".join(part.strip() for part in info.split(";") if part.strip())


def retry_command(config_path, host, port, sni=None, line=None, proof=None,
                  min_version=None, max_version=None, ca="ROOT.pem"):
    """The `tlsfit verify` command line for these arguments, with --ca `ca`."""
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    argv = ["tlsfit", "verify", "--config", str(config_path), target]
    for flag, value in (("--sni", sni), ("--mbedtls", line), ("--proof", proof),
                        ("--min-version", min_version), ("--max-version", max_version)):
        if value is not None:
            argv += [flag, str(value)]
    return shlex.join(argv + ["--ca", ca])


def not_trusted_hint(result, ca, command):
    """The hint for a chain the system store does not lead to (no --ca given), else None."""
    if result.get("ok") or ca is not None or \
            "MBEDTLS_X509_BADCERT_NOT_TRUSTED" not in (result.get("verify_flag_names") or ()):
        return None
    return (f"the server's root is not in the system store ({SYSTEM_STORE}); if the "
            f"server's chain leads to a private root, name it: {command}")


def _alert_number(text):
    """116 from "certificate_required (116)", else None."""
    m = re.search(r"\((\d+)\)$", text or "")
    return int(m.group(1)) if m else None


def verify(config_path, host, port, sni=None, ca=None, mbedtls_dir=None,
           timeout=DEFAULT_TIMEOUT, *, line=None, min_version=None, max_version=None,
           announce=True, proof=None, client=None, resume=False, psk=None):
    """Builds mbedTLS with config_path (cached), makes one verified handshake with
    host:port and the proof that the server accepted the session.  ca=None means the
    system store.  proof: a core.proof.Proof or a --proof text (None: by port).
    client: a core.identity.ClientIdentity with its key, presented when the server
    asks for a client certificate (None: no identity).  resume: a second connection
    resumes the session (core/resumption.py; a header defining TLSFIT_RESUME does it
    anyway), result["resumption"].  psk: a core.pskkey.Psk (the result's
    "psk_identity" names it; the key is never in the result).
    Returns a VerifyResult (host/result.py; a read-only mapping over the client's
    JSON): ok, version, ciphersuite, group, verify_flags, proof, proof_result ... or
    ok False, step (handshake, proof, ...), error, code, message, alert,
    verify_flags, verify_info ...  Raises TlsfitError for a header mbedTLS rejects
    (CONFIG), a build failure (BUILD) or bad arguments."""
    chosen = proof_mod.resolve(proof, port, dtls=header_is_dtls(config_path))
    binary = ensure_client(config_path, mbedtls_dir, line=line, announce=announce)
    result = run_client(binary, host, port, sni=sni, ca=ca, timeout=timeout,
                        min_version=min_version, max_version=max_version, proof=chosen,
                        client=client, resume=resume, psk=psk)
    result["resumption"] = resumption.normalized(result.get("resumption"))
    result["config"] = str(config_path)
    result["psk_identity"] = None if psk is None else psk.identity
    result["client"] = None if client is None else client.facts()
    result["build"] = str(binary.parent)
    if result.get("proof_result"):
        result["proof_result"]["reply"] = proof_mod.describe(chosen.label,
                                                             result["proof_result"])
    cert_hint = None if result.get("ok") else identity_mod.client_cert_hint(
        _alert_number(result.get("alert")), result.get("certificate_requested"), client)
    if cert_hint:
        result["hint"] = cert_hint
    if not result.get("hint"):
        command = retry_command(config_path, host, port, sni, line,
                                None if proof is None else chosen.spec, min_version,
                                max_version)
        hint = not_trusted_hint(result, ca, command)
        if hint:
            result["hint"] = hint
    return VerifyResult.from_json(result)


# ------------------------------------------------------------- ssl_server2

def ssl_server2_path(mbedtls_dir=None):
    """mbedTLS's own programs/ssl/ssl_server2 from a 3.x tree (default configuration),
    built once into $TLSFIT_CACHE/ssl_server2-3.6/ (rebuilt when the tree changes).
    Without mbedtls_dir: the prober's 3.x tree (a 2.28 --mbedtls-dir builds headers only)."""
    tree = resolve_tree(mbedtls_dir) if mbedtls_dir else prober_tree()
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
    with locked(bdir):
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
        say("building mbedTLS's ssl_server2 (cached after the first time)...")
        cmake = _cmake()
        log_path = bdir / LOG_NAME
        env = _build_env(bdir)
        with open(log_path, "w") as log:
            cmd = [cmake, "-S", str(tree.path), "-B", str(bdir), "-DENABLE_PROGRAMS=ON",
                   "-DENABLE_TESTING=OFF", "-DMBEDTLS_FATAL_WARNINGS=OFF", "-DGEN_FILES=OFF",
                   f"-DCMAKE_BUILD_TYPE={BUILD_TYPE}"]
            if shutil.which("ccache"):
                cmd.append("-DCMAKE_C_COMPILER_LAUNCHER=ccache")
            rc = run_logged(cmd, log, "configuring mbedTLS's programs", BUILD, env, BUILD_LIMIT)
            if rc == 0:
                rc = run_logged([cmake, "--build", str(bdir), "-j2", "--target", "ssl_server2"],
                                log, "building ssl_server2", BUILD, env, BUILD_LIMIT)
        if rc != 0 or not os.access(binary, os.X_OK):
            for line_ in tail(log_path):
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
        accepted = ""
        if res.get("proof_result"):
            accepted = f" [proof {res.get('proof')}: {res['proof_result'].get('reply')}]"
        lines = [f"verified: {' '.join(parts)}{accepted} with {where} (sni {sni})"]
        lines += resumption.text_lines(res.get("resumption"))
        c = res.get("client")
        if c:
            lines.append(f"  client certificate: {c['subject']} ({c['key_type']} "
                         f"{c['curve'] or c['bits']}), from {c['cert']}")
        return lines
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
    if res.get("step") == "proof":
        reply = (res.get("proof_result") or {}).get("reply")
        lines.append(f"  proof {res.get('proof')}: {reply}")
    lines += resumption.text_lines(res.get("resumption"))
    if res.get("step") in ("handshake", "connect", "proof", "resume"):
        lines.append(f"  with {where} (sni {sni})")
    return lines


# -------------------------------------------------------------- subcommand


