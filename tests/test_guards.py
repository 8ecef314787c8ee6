"""guards.py: which mbedTLS sources a configuration switches off whole (xbuild skips
compiling them).  Parser and evaluator on small texts, then the proof against the
real trees: every file skipped for a lean header compiles to an object without a
single symbol, so skipping it cannot change what links."""
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tlsfit.mbedtls import guards
from tlsfit.mbedtls.tree import resolve_tree
from tlsfit.target import xbuild
from tlsfit.target.firmware import fw

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "measure"


@pytest.mark.parametrize("expr, macros, want", [
    ("defined(MBEDTLS_AES_C)", {"MBEDTLS_AES_C"}, True),
    ("defined(MBEDTLS_AES_C)", set(), False),
    ("defined MBEDTLS_AES_C", {"MBEDTLS_AES_C"}, True),
    ("!defined(MBEDTLS_ECP_WITH_MPI_UINT)", set(), True),
    ("defined(A) || defined(B)", {"B"}, True),
    ("defined(A) && !defined(B)", {"A", "B"}, False),
    ("(defined(A) || defined(B)) && defined(C)", {"A"}, False),
    ("(defined(A) || defined(B)) && defined(C)", {"A", "C"}, True),
    ("MBEDTLS_VERSION_NUMBER >= 0x03000000", set(), None),     # values: not handled
    ("defined(A) && FOO(1)", {"A"}, None),
    ("defined(A) ||", {"A"}, None),
    ("defined(A))", {"A"}, None),
    ("", set(), None),
])
def test_evaluate(expr, macros, want):
    assert guards.evaluate(expr, macros) is want


GUARDED = '''/*
 *  A licence block with "quotes" and #if inside a comment
 */

#include "common.h"

#if defined(MBEDTLS_FOO_C) && \\
    !defined(MBEDTLS_FOO_ALT)

#include "mbedtls/foo.h"
#if defined(MBEDTLS_SELF_TEST)
static const char s[] = "/* not a comment */";
#else
int x;
#endif

#endif /* MBEDTLS_FOO_C */
'''


@pytest.mark.parametrize("name, text, want", [
    ("guarded", GUARDED, "defined(MBEDTLS_FOO_C) &&      !defined(MBEDTLS_FOO_ALT)"),
    ("ifdef", '#include "common.h"\n#ifdef MBEDTLS_X\nint a;\n#endif\n', "defined(MBEDTLS_X)"),
    ("else at the top", '#include "common.h"\n#if defined(X)\nint a;\n#else\nint b;\n#endif\n',
     None),
    ("code after it", '#include "common.h"\n#if defined(X)\nint a;\n#endif\nint b;\n', None),
    ("another include first", '#include "common.h"\n#include <string.h>\n#if defined(X)\n'
                              'int a;\n#endif\n', None),
    ("a define first", '#define _GNU_SOURCE\n#include "common.h"\n#if defined(X)\n#endif\n', None),
    ("no guard", '#include "common.h"\nint a;\n', None),
    ("unterminated", '#include "common.h"\n#if defined(X)\nint a;\n', None),
])
def test_file_guard(tmp_path, name, text, want):
    src = tmp_path / "src.c"
    src.write_text(text)
    got = guards.file_guard(src)
    assert (" ".join(got.split()) if got else got) == (" ".join(want.split()) if want else want)


def _symbols(obj):
    nm = shutil.which("arm-none-eabi-nm")
    out = subprocess.run([nm, "--defined-only", str(obj)], capture_output=True, text=True,
                         check=True).stdout
    return [ln for ln in out.splitlines() if ln.strip()]


@pytest.mark.parametrize("line, header", [("3.6", "tls12_ecdhe_ecdsa.h"),
                                          ("2.28", "tls12_ecdhe_ecdsa_228.h")])
def test_skipped_sources_compile_to_nothing(line, header, tmp_path):
    tree = resolve_tree(line=line)
    variant = tmp_path / "tls_config.h"     # a new cache key, so the build happens here
    variant.write_text((FIXTURES / header).read_text() +
                       f"#define TLSFIT_TEST_GUARDS {time.time_ns()}\n")
    xb = xbuild.cross_build(variant, "cortex-m4", tree, progress=False)
    assert not xb.cached
    sources = {s.obj: s for s in xbuild.tree_sources(xb.tree)}
    # A lean TLS 1.2 ECDSA client switches off most of the library: DES, RSA, the TLS 1.3 code...
    assert len(xb.skipped) > len(sources) // 3, xb.skipped
    assert {"des.o", "rsa.o"} <= set(xb.skipped)
    assert line == "2.28" or "ssl_tls13_client.o" in xb.skipped
    assert {"ssl_tls.o", "ecdsa.o", "x509_crt.o"}.isdisjoint(xb.skipped)
    assert xb.objects + len(xb.skipped) == len(sources)
    # Every skipped file, compiled after all, defines nothing.
    shutil.copytree(xb.cfg_dir, tmp_path / "cfg")
    work = tmp_path / "build"
    work.mkdir()
    _, includes = xbuild.thirdparty(xb.tree)
    for name in xb.skipped:
        obj = work / name
        argv = [fw.CC, *xbuild.lib_compile_argv(xb.tree, "cortex-m4", work,
                                                 sources[name].path, obj, includes)]
        subprocess.run(argv, cwd=work, check=True, capture_output=True)
        assert _symbols(obj) == [], f"{name} was skipped but defines symbols"
