"""Which mbedTLS sources a configuration compiles to nothing.

Nearly every file of mbedTLS's library/ is wrapped whole in one conditional
right after its first include:

    #include "common.h"
    #if defined(MBEDTLS_ARIA_C)
    ...
    #endif /* MBEDTLS_ARIA_C */

For a lean configuration about two thirds of the ~110 files are switched off
that way, yet compiling one still costs a compiler start and a pass over
common.h (~30 ms, and ccache's hashing on top).  xbuild skips them:

    file_guard(path) -> str or None
        the whole-file guard's expression, when the file has exactly that
        shape; None for anything else (always compiled)
    evaluate(expr, macros) -> bool or None
        the expression over the defined macros, for the forms mbedTLS uses
        (defined(X), !, &&, ||, parentheses); None when it holds anything
        else (a value comparison, a macro call), so the file is compiled

What the compiler sees at the guard is exactly the macros common.h leaves
defined, which xbuild reads once per configuration with `-dM -E`.  A skipped
file would have been an empty object: the libraries link the same.
"""
import functools
import re
from pathlib import Path

# Comments out, string and character literals kept (a "/*" inside a string is not a comment).
_LEXICAL = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
_DIRECTIVE = re.compile(r"^\s*#\s*(\w+)\s*(.*?)\s*$")
_COMMON = re.compile(r'^"(common|tf_psa_crypto_common)\.h"$')   # 4.x: TF-PSA-Crypto's
_OPENERS = ("if", "ifdef", "ifndef")


def _strip_comments(text):
    def keep(m):
        s = m.group(0)
        if s.startswith("/*"):
            return "\n" * s.count("\n") or " "
        return "" if s.startswith("//") else s
    return _LEXICAL.sub(keep, text)


def _logical_lines(text):
    """Lines with backslash continuations joined."""
    return text.replace("\\\n", " ").splitlines()


def file_guard(path):
    """The #if expression that wraps the whole file at `path`, or None.

    The shape required: before the first conditional only blank lines and
    `#include "common.h"`; the conditional's matching #endif is the last
    non-blank line; no #else or #elif at its level.  Remembered per path and
    modification time (a fit reads the same tree for every header)."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    return _file_guard(str(path), stamp)


@functools.lru_cache(maxsize=1024)
def _file_guard(path, stamp):      # stamp: only part of the cache key
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return None
    lines = _logical_lines(_strip_comments(text))
    i = 0
    while i < len(lines):                       # the prologue
        line = lines[i].strip()
        if line:
            m = _DIRECTIVE.match(line)
            if not m:
                return None
            if m.group(1) in _OPENERS:
                break
            if m.group(1) != "include" or not _COMMON.match(m.group(2)):
                return None
        i += 1
    else:
        return None
    name, arg = _DIRECTIVE.match(lines[i].strip()).groups()
    expr = {"if": arg, "ifdef": f"defined({arg})", "ifndef": f"!defined({arg})"}[name]
    depth = 0
    for j in range(i, len(lines)):
        m = _DIRECTIVE.match(lines[j])
        if not m:
            continue
        kind = m.group(1)
        if kind in _OPENERS:
            depth += 1
        elif kind in ("else", "elif", "elifdef", "elifndef") and depth == 1:
            return None
        elif kind == "endif":
            depth -= 1
            if depth == 0:
                rest = lines[j + 1:]
                return expr if all(not ln.strip() for ln in rest) else None
    return None


_TOKEN = re.compile(r"\s*(defined\b|[A-Za-z_]\w*|\|\||&&|!|\(|\))")


def _tokens(expr):
    out, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            return None
        out.append(m.group(1))
        pos = m.end()
        while pos < len(expr) and expr[pos].isspace():
            pos += 1
    return out


class _Unknown(Exception):
    pass


def evaluate(expr, macros):
    """True/False for an expression of defined(), !, && and || over `macros`
    (a set of names); None for anything this does not understand."""
    toks = _tokens(expr)
    if not toks:
        return None
    pos = 0

    def peek():
        return toks[pos] if pos < len(toks) else None

    def take(want=None):
        nonlocal pos
        tok = peek()
        if tok is None or (want is not None and tok != want):
            raise _Unknown
        pos += 1
        return tok

    def primary():
        tok = take()
        if tok == "!":
            return not primary()
        if tok == "(":
            v = disjunction()
            take(")")
            return v
        if tok == "defined":
            if peek() == "(":
                take("(")
                name = take()
                take(")")
            else:
                name = take()
            if not re.fullmatch(r"[A-Za-z_]\w*", name) or name == "defined":
                raise _Unknown
            return name in macros
        raise _Unknown                      # a bare macro's value: not handled

    def conjunction():
        v = primary()
        while peek() == "&&":
            take()
            v = primary() and v             # evaluate both: a parse error must surface
        return v

    def disjunction():
        v = conjunction()
        while peek() == "||":
            take()
            v = conjunction() or v
        return v

    try:
        v = disjunction()
    except _Unknown:
        return None
    return v if pos == len(toks) else None


def defined_macros(dump):
    """The names defined in a `-dM -E` dump."""
    return {m.group(1) for m in re.finditer(r"^#define\s+([A-Za-z_]\w*)", dump, re.M)}
