"""Does a configuration header compile against an mbedTLS tree?  Compiler output
turned into one line a firmware engineer can act on.

    Harness(files, label, purpose, built_for)   who compiled the header, and for what
    diagnose(output, config_name, harness)      -> (message, deterministic) or None
    error_text(msg)                             an #error's text as plain prose
    reason(message)                             a CONFIG message without its file name
    compiler()                                  the host C compiler as an argv prefix
    syntax_check(cmd, config_name, work, judge, compiler_name, timeout_code, env)

A verdict is deterministic when it depends on the header alone (an #error from
check_config.h or from the harness's own requirements): it may be remembered for
the header's cache key.  The host client (host.verify) and the target firmware
(target.xbuild) both judge headers through here.
"""
import contextlib
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..core import interrupt
from ..core.errors import CONFIG, SETUP, TlsfitError
from ..core.text import one_line

PRECHECK_LIMIT = 120        # seconds for a -fsyntax-only check
# The file a deterministic verdict is kept in, beside the header's build.  "-2": the
# verdicts since #error texts are joined (error_text); the older rejected.txt held
# the compiler's `" "` joins and is not read again.
REJECTED = "rejected-2.txt"

_DIAG = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:\d+:)? (?:fatal )?error: (?P<msg>.*)$",
                   re.M)
_UNDEF = re.compile(r"undefined reference to [`'](?P<sym>[^'`]+)'")
_C_STRING = re.compile(r'\s*"((?:[^"\\]|\\.)*)"')
_C_ESCAPE = re.compile(r"\\(.)")
_SUBJECT = re.compile(r"^[^\s:]+\.h: ")


def error_text(msg):
    """The text of an #error as the compiler quotes it, as plain prose: gcc prints
    `#error "part one " "part two"` (mbedTLS splits long messages into adjacent C
    string literals over continued lines), clang the literals alone.  The literals
    are joined and unescaped; anything else is returned without the directive."""
    body = msg.strip()
    if body.startswith("#error"):
        body = body[len("#error"):].strip()
    parts, pos = [], 0
    while pos < len(body):
        m = _C_STRING.match(body, pos)
        if not m:
            return body.strip('"').strip()      # not only literals: as the compiler put it
        parts.append(_C_ESCAPE.sub(r"\1", m.group(1)))
        pos = m.end()
        if body[pos:].strip() == "":
            break
    return " ".join("".join(parts).split())


def _is_error_directive(msg):
    """gcc: `#error ...`; clang: the message is the string literals alone."""
    body = msg.strip()
    return body.startswith("#error") or (body.startswith('"') and body.endswith('"'))


def reason(message):
    """A CONFIG message without the header's file name it starts with
    ("tls_config.h: rejected by ..." -> "rejected by ..."), for a report that names
    the candidate itself."""
    return _SUBJECT.sub("", message, count=1)


@dataclass(frozen=True)
class Harness:
    """The program compiled with the header under test.

    files: its source file names (an #error there is the harness's own requirement);
    label: how a compile error in it is named, "{file}" standing for the file's name
    (None: reported like mbedTLS's own);
    purpose: "verified" / "measured" (in "cannot be verified: ..."); built_for:
    "on the host" / "for the target" (in link errors); prefix: the tag the harness's
    #error texts start with, dropped from the message."""
    files: frozenset
    label: str
    purpose: str
    built_for: str
    prefix: str


def _harness_error(m, config_name, harness):
    msg = m.group("msg").strip()
    if _is_error_directive(msg):
        text = re.sub(rf"^{re.escape(harness.prefix)}:\s*", "", error_text(msg))
        return one_line(f"{config_name}: cannot be {harness.purpose}: {text}"), True
    if harness.label:
        label = harness.label.format(file=Path(m.group("file")).name)
        return one_line(f"{config_name}: {label} does not compile with it: "
                        f"line {m.group('line')}: {msg}"), False
    return None


def diagnose(output, config_name, harness):
    """(one-line message, deterministic) for compiler/linker output, or None."""
    for m in _DIAG.finditer(output):
        msg = m.group("msg").strip()
        where = Path(m.group("file")).name
        if where in harness.files:
            found = _harness_error(m, config_name, harness)
            if found:
                return found
        elif _is_error_directive(msg):
            return one_line(f"{config_name}: rejected by mbedTLS {where}: "
                            f"{error_text(msg)}"), True
        if where == "tls_config.h":
            return one_line(f"{config_name}: does not compile: line {m.group('line')}: "
                            f"{msg}"), False
        hint = ""
        if re.search(r"_alt\.h", msg):
            hint = " (the header enables an _ALT implementation that only exists on the device)"
        return one_line(f"{config_name}: mbedTLS does not compile with it: {where}: "
                        f"{msg}{hint}"), False
    m = _UNDEF.search(output)
    if m:
        return one_line(f"{config_name}: mbedTLS builds but does not link {harness.built_for}: "
                        f"undefined reference to {m.group('sym')} (a platform hook or _ALT "
                        "function the device provides)"), False
    return None


def compiler():
    """The host C compiler as an argv prefix ($CC may be "ccache gcc")."""
    cc = shlex.split(os.environ.get("CC", "")) or \
        [shutil.which("cc") or shutil.which("gcc") or ""]
    if not cc[0]:
        raise TlsfitError(SETUP, "no C compiler (cc) found (run ./tlsfit setup)")
    return cc


def syntax_check(cmd, config_name, work, judge, compiler_name, timeout_code, env=None):
    """Runs a -fsyntax-only compile of a header under test.  judge(stderr, name) turns
    the compiler's complaint into (one-line message, deterministic) or None; a
    deterministic verdict is kept in work/REJECTED.  TlsfitError(CONFIG) when the
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
    interrupt.killed(proc.returncode, f"{compiler_name} ({cmd[0]}) checking {config_name}")
    found = judge(proc.stderr, config_name)
    if found is None:
        last = proc.stderr.strip().splitlines()
        found = (f"{config_name}: {compiler_name} rejects it: "
                 f"{last[-1] if last else 'exit %d' % proc.returncode}", False)
    message, deterministic = found
    if deterministic:
        with contextlib.suppress(OSError):
            (Path(work) / REJECTED).write_text(message + "\n")
    raise TlsfitError(CONFIG, one_line(message))
