"""The per-object cache of mbedTLS's cross builds (target/objcache.py): its key (pure),
and two headers that differ in one option -- the second compiles only the object whose
preprocessed source the option changes and takes every other one from the store
(counted by the build, not timed)."""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import require_tools
from tlsfit.target import objcache, timings, xbuild
from test_measure import TLS12_EC

ARGV = ["-mthumb", "-Os", "-mcpu=cortex-m4", "-I../cfg", '-DMBEDTLS_CONFIG_FILE="tls_config.h"',
        "-c", "../../mbedtls-3.6/library/aes.c", "-o", "obj/libmbedcrypto.a/aes.o"]
TEXT = b'# 0 "../../mbedtls-3.6/library/aes.c"\nint mbedtls_aes_self_test(int verbose);\n'


# ------------------------------------------------------------------ pure

def test_split_argv_keeps_the_flags_without_input_and_output():
    flags, src, obj = objcache.split_argv(ARGV)
    assert flags == ARGV[:5]
    assert (src, obj) == ("../../mbedtls-3.6/library/aes.c", "obj/libmbedcrypto.a/aes.o")
    with pytest.raises(ValueError):
        objcache.split_argv(["-Os", "-c", "a.c"])


def test_object_key_is_the_compiler_the_flags_and_the_preprocessed_text():
    flags = objcache.split_argv(ARGV)[0]
    key = objcache.object_key("arm-none-eabi-gcc 12.2.1", flags, TEXT)
    assert key == objcache.object_key("arm-none-eabi-gcc 12.2.1", list(flags), bytes(TEXT))
    assert len(key) == 64 and int(key, 16) >= 0
    others = [objcache.object_key("arm-none-eabi-gcc 13.2.1", flags, TEXT),   # compiler
              objcache.object_key("arm-none-eabi-gcc 12.2.1", flags + ["-flto"], TEXT),
              objcache.object_key("arm-none-eabi-gcc 12.2.1", flags[:-1], TEXT),
              objcache.object_key("arm-none-eabi-gcc 12.2.1", flags, TEXT + b" "),
              objcache.object_key("arm-none-eabi-gcc 12.2.1", flags,       # where it came from
                                  TEXT.replace(b"aes.c", b"aesce.c"))]
    assert len({key, *others}) == 6
    # no concatenation ambiguity: a flag's text moved into the next part is another key
    assert objcache.object_key("gcc", ["-Os"], b"x") != objcache.object_key("gcc -Os", [], b"x")


def test_an_objects_place_in_the_store_is_its_key(tmp_path, monkeypatch):
    monkeypatch.setenv("TLSFIT_CACHE", str(tmp_path))
    key = "ab" + "0" * 62
    assert objcache.stored_path(key) == tmp_path / "xbuild" / "objects" / "ab" / f"{key}.o"


# ------------------------------------------------------------------ two real builds

def _members(xb):
    """{member name: bytes} of the build's three archives."""
    out = {}
    for lib in xb.libs:
        names = subprocess.run(["arm-none-eabi-ar", "t", str(lib)], capture_output=True,
                               text=True, check=True).stdout.split()
        for name in names:
            out[name] = subprocess.run(["arm-none-eabi-ar", "p", str(lib), name],
                                       capture_output=True, check=True).stdout
    return out


@pytest.mark.qemu
def test_one_option_changed_recompiles_only_the_objects_it_changes():
    """Two headers new to the cache (an unused macro of this run's own makes them new),
    differing in MBEDTLS_AES_FEWER_TABLES, which changes aes.c's preprocessed text and
    nothing else's: the second build compiles aes.o at most (the machine's store may hold
    it) and takes every other object from the store -- the very bytes the first build
    archived."""
    require_tools()
    nonce = os.urandom(6).hex()
    base = TLS12_EC.read_text().replace(
        "#define MBEDTLS_AES_C\n", f"#define MBEDTLS_AES_C\n#define TLSFIT_OBJCACHE_TEST_{nonce}\n")
    work = Path(tempfile.mkdtemp(prefix="objcache-test-"))
    (work / "first.h").write_text(base)
    (work / "second.h").write_text(base.replace(
        "#define MBEDTLS_AES_C\n", "#define MBEDTLS_AES_C\n#define MBEDTLS_AES_FEWER_TABLES\n"))
    built = []
    try:
        with timings.collecting() as spent:
            for name in ("first.h", "second.h"):
                built.append(xbuild.cross_build(work / name, "cortex-m4", progress=False))
        one, two = built
        assert not one.cached and not two.cached and one.key != two.key
        assert one.objects_compiled + one.objects_reused == one.objects > 20
        assert set(two.compiled) <= {"aes.o"}
        assert two.objects_reused == two.objects - len(two.compiled) >= one.objects - 1
        doc = spent.to_json()["objects"]
        assert doc["count"] == one.objects + two.objects
        assert doc["cached"] == one.objects_reused + two.objects_reused
        a, b = _members(one), _members(two)
        assert sorted(a) == sorted(b) and "ssl_tls.o" in a
        assert [m for m in a if a[m] != b[m]] == ["aes.o"]
    finally:
        for xb in built:
            shutil.rmtree(xb.dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
