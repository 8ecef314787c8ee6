"""Property tests: the profile validator and gen fed random mutations of real profiles.

The profiles are the real ones under tests/fixtures (probed from openssl s_server,
gnutls-serv and the demo's servers).  Hypothesis mutates them -- a field replaced by a
value of another type, an extreme number, a hostile string (comment terminators,
control characters, non-ASCII, 10,000 characters), a key deleted, a list emptied or
duplicated -- with a fixed seed (derandomize) and a bounded number of examples, so a
run takes a few seconds and fails the same way every time.

The properties:
  1. model.loads / model.validate: either a valid profile, or a TlsfitError with a
     one-line message and a documented exit code (core.errors.DRIVER_CODES, not
     INTERNAL) -- never another exception.
  2. gen.generate (and generate_device, one header for the mutation and a real
     profile) on every mutation the validator accepts: either a Plan or such a
     TlsfitError; and the header of a Plan is well-formed configuration text: only
     comments, #ifndef/#define/#endif and the template's fixed includes, every #define names an MBEDTLS_ /
     TLSFIT_ / PSA_WANT_ macro with no value, a number (within what mbedTLS accepts),
     macro names or a quoted header name, no macro defined twice, and the C
     preprocessor reads it without a
     diagnostic and without leaving any token outside a directive.
"""
import copy
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="python3-hypothesis (./tlsfit setup installs it)")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402

from tlsfit.core.errors import DRIVER_CODES, INTERNAL, TlsfitError  # noqa: E402
from tlsfit.header import gen, rules as rules_mod  # noqa: E402
from tlsfit.header.types import LINES, GenOptions  # noqa: E402
from tlsfit.header.costs import load_costs  # noqa: E402
from tlsfit.profile import model  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROFILES = sorted([FIXTURES / "profile-v1.json"] +
                  [p for p in (FIXTURES / "compat").glob("*.json") if "shape" not in p.name])
DOCS = [json.loads(p.read_text()) for p in PROFILES]
CODES = {code for code, _, _ in DRIVER_CODES} - {INTERNAL}

# Hypothesis's caches (its Unicode tables) go to the git-ignored build/, not ./.hypothesis.
set_hypothesis_home_dir(str(Path(__file__).resolve().parent.parent / "build" / "hypothesis"))

# Fixed seed, bounded count, no example database.
BOUNDED = dict(derandomize=True, database=None, deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

HOSTILE_TEXT = ["", " ", "*/", "/*", "*/ #include <evil.h> /*", "\n#define MBEDTLS_X 1\n", "\\", "\"",
                "??/", "\x00", "\x1b[31m", "caf\u00e9", "\u202e", "\ud800", "x" * 10000, "0x", "-1",
                "TLSv1.3", "TLSv1.2", "sha256", "rsa", "ec", "secp256r1", "x25519", "unknown",
                "0x1301", "2026-02-30T25:61:61Z", "1e999", "NaN"]


class Huge(int):
    """An int too long for str() (Python's 4,300-digit limit), as json.loads would give
    for a profile holding one; only its repr is safe, so Hypothesis can report it."""

    def __repr__(self):
        return f"Huge(<{self.bit_length()} bits>)"


HUGE = Huge(10**4300)
EXTREME_INTS = [0, -1, 1, 2, 255, 256, 65535, 65536, 2**31, 2**32, 2**63, 10**12, 10**30,
                HUGE, Huge(-HUGE)]


scalars = st.one_of(
    st.none(), st.booleans(),
    st.sampled_from(EXTREME_INTS), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=8), inner,
                                                                        max_size=4)),
                      max_leaves=8)


def _nodes(doc, path=()):
    """Every (path, value) of the document, the root included."""
    yield path, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _nodes(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _nodes(v, path + (i,))


def _tweaks(v):
    """Mutations close to the value, which reach checks a random value does not."""
    if isinstance(v, bool):
        return [not v, None, int(v)]
    if isinstance(v, int):
        return [v + 1, v - 1, -v, v * 1000, 2 * v + 1, 0, str(v), float(v), HUGE]
    if isinstance(v, str):
        return [v + "*/", v.upper(), v[:-1], v + v, "", v.replace("T", "\n"), v + "\x00", "\u00e9" + v]
    if isinstance(v, list):
        return [[], v + v, v[::-1], v[:1], [None] + v, v * 50]
    if isinstance(v, dict):
        return [{}, {k: None for k in v}, {**v, "unexpected": 1}]
    return [0, "", [], {}]


@st.composite
def mutated_doc(draw, kinds=("tweak", "tweak", "replace", "delete")):
    doc = copy.deepcopy(draw(st.sampled_from(DOCS)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        nodes = list(_nodes(doc))
        path, old = draw(st.sampled_from(nodes[1:]))
        kind = draw(st.sampled_from(kinds))
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        if kind == "delete":
            del parent[path[-1]]
            continue
        new = draw(st.sampled_from(_tweaks(old))) if kind == "tweak" else draw(values)
        parent[path[-1]] = new
    return doc


@st.composite
def valid_mutated_doc(draw):
    """A mutation the validator accepts, for gen: most random ones are refused before
    gen sees them, so up to 12 nearby mutations are tried (valid, then only the
    unmutated profile is left)."""
    for _ in range(12):
        doc = draw(mutated_doc(kinds=("tweak", "tweak", "tweak", "delete")))
        try:
            return model.validate(doc, "p.json")
        except TlsfitError as e:
            _expected_error(e)
    return copy.deepcopy(draw(st.sampled_from(DOCS)))


@st.composite
def mutated_text(draw):
    """Byte-level mutations of a profile's JSON text (what `tlsfit gen FILE` reads)."""
    data = bytearray(json.dumps(draw(st.sampled_from(DOCS)), indent=2).encode())
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        pos = draw(st.integers(min_value=0, max_value=len(data)))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if kind == "flip" and pos < len(data):
            data[pos] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif kind == "insert":
            data[pos:pos] = draw(st.sampled_from([b"0" * 5000, b"[" * 3000, b"\xff", b"\"", b",", b"}",
                                                  b"-", b"1e400", b"NaN", b"\\u0000"]))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(min_value=1, max_value=20))]
        else:
            del data[pos:]
    return bytes(data)


def _expected_error(e):
    """The one acceptable failure: a documented code and a one-line message."""
    assert e.code in CODES, f"exit code {e.code} is not a documented one: {e.message!r}"
    assert e.message.strip(), "an empty error message"
    assert "\n" not in e.message and "\r" not in e.message, f"a multi-line message: {e.message!r}"


def _validated(doc):
    """validate(doc), or None when it refuses the way it must."""
    try:
        return model.validate(doc, "p.json")
    except TlsfitError as e:
        _expected_error(e)
        return None


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.name)
def test_fixtures_are_valid(path):
    """The properties start from valid profiles (else every mutation tests nothing)."""
    assert model.loads(path.read_bytes(), path.name)


@settings(max_examples=250, **BOUNDED)
@given(mutated_doc())
def test_validator_never_raises_anything_else(doc):
    _validated(doc)


@settings(max_examples=200, **BOUNDED)
@given(mutated_text())
def test_loads_never_raises_anything_else(text):
    try:
        model.loads(text, "p.json")
    except TlsfitError as e:
        _expected_error(e)


# What mbedTLS itself accepts: MBEDTLS_MPI_MAX_LIMIT (bignum.h) and the 2^14-byte
# TLSPlaintext maximum for the record buffers; any other number stays under 2^32.
NUMERIC_LIMITS = {"MBEDTLS_MPI_MAX_SIZE": 10000, "MBEDTLS_SSL_IN_CONTENT_LEN": 16384,
                  "MBEDTLS_SSL_OUT_CONTENT_LEN": 16384}

# The template lines that are not #define (templates/mbedtls-2.28.h.j2 includes what
# 2.28's own config.h would), and an empty check_config.h for the preprocessor to find.
FIXED_DIRECTIVES = {"#endif", "#if defined(MBEDTLS_USER_CONFIG_FILE)", "#include MBEDTLS_USER_CONFIG_FILE",
                    '#include "mbedtls/check_config.h"'}
_STUBS = tempfile.TemporaryDirectory(prefix="tlsfit-props-")
(Path(_STUBS.name) / "mbedtls").mkdir()
(Path(_STUBS.name) / "mbedtls" / "check_config.h").write_text("")

_RULES = rules_mod.load()
_COSTS = load_costs()
_DEFINE = re.compile(r"^#define ((?:MBEDTLS|TLSFIT|PSA_WANT)_[A-Z0-9_]+)(?:[ \t]+(.*))?$")


def _strip_comments(text):
    """The header with every /* ... */ replaced by one space; an unclosed comment fails."""
    out, pos = [], 0
    while True:
        start = text.find("/*", pos)
        if start < 0:
            out.append(text[pos:])
            return "".join(out)
        end = text.find("*/", start + 2)
        assert end >= 0, f"unterminated comment at offset {start}"
        assert "\n" not in text[start:end] or text[start - 1:start] in ("", "\n"), \
            "a comment that starts after code runs over several lines"
        out.append(text[pos:start] + " ")
        pos = end + 2


def _check_header(text):
    code = _strip_comments(text)
    seen = set()
    for line in code.splitlines():
        line = line.strip()
        if not line:
            continue
        if line in FIXED_DIRECTIVES or re.fullmatch(r"#ifndef [A-Z0-9_]+", line):
            continue
        m = _DEFINE.match(line)
        assert m, f"a line that is not a directive gen writes: {line[:120]!r}"
        assert m.group(1) not in seen, f"{m.group(1)} defined twice"
        seen.add(m.group(1))
        value = (m.group(2) or "").strip()
        assert re.fullmatch(r"[A-Za-z0-9_, ()+*-]*|\"[A-Za-z0-9_./-]+\"", value), \
            f"{m.group(1)}: odd value {value[:80]!r}"
        if re.fullmatch(r"[0-9]+", value):
            limit = NUMERIC_LIMITS.get(m.group(1), 2**32)
            assert int(value) <= limit, f"{m.group(1)} {value} is over {limit}"
    cc = shutil.which("cpp")
    if cc:
        proc = subprocess.run([cc, "-P", "-undef", "-std=c11", "-Wall", "-I", _STUBS.name, "-"], input=text,
                              text=True, capture_output=True, timeout=30)
        assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr[:500]
        assert not proc.stdout.strip(), f"tokens outside directives: {proc.stdout[:200]!r}"


def test_real_headers_pass_the_check():
    """The checker itself accepts what gen writes for the fixtures as they are."""
    for doc in DOCS:
        _check_header(gen.generate(doc, GenOptions(), rules=_RULES, costs=_COSTS).text)


@settings(max_examples=12, **BOUNDED)
@given(valid_mutated_doc(), st.sampled_from(LINES), st.sampled_from(["default", "strict", "compat"]))
def test_gen_gives_a_plan_or_a_clean_refusal(doc, line, policy):
    try:
        plan = gen.generate(doc, GenOptions(line=line, policy=policy), rules=_RULES, costs=_COSTS)
    except TlsfitError as e:
        _expected_error(e)
        return
    _check_header(plan.text)


def test_validator_names_an_integer_too_long_for_str():
    """Found by the validator property: an integer over Python's 4,300-digit str() limit
    in a field that must be a small integer or a string raised ValueError."""
    for field in ("port", "host"):
        doc = copy.deepcopy(DOCS[0])
        doc["target"][field] = HUGE
        with pytest.raises(TlsfitError) as e:
            model.validate(doc, "p.json")
        _expected_error(e.value)
        assert "a 4301-digit integer" in e.value.message


@settings(max_examples=5, **BOUNDED)
@given(valid_mutated_doc(), st.sampled_from(DOCS))
def test_gen_for_two_servers_gives_a_plan_or_a_clean_refusal(doc, other):
    """One header for a mutated profile and a real one (gen's device path, joint.py)."""
    try:
        plan = gen.generate_device([doc, other], GenOptions(), ["mutated", "real"],
                                   rules=_RULES, costs=_COSTS)
    except TlsfitError as e:
        _expected_error(e)
        return
    _check_header(plan.text)
