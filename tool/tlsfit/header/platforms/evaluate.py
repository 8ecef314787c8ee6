"""A --for output evaluated on the platform's own Kconfig and config header.

    upstream_dir()                   -> Path or None: shared/upstream (or $TLSFIT_UPSTREAM)
    trees(platform=None)             -> [Tree]: reference_trees.toml
    kconfig_apply(tree, fragment)    -> Applied: values, and every assignment that did
                                        not take (undefined, no prompt, other value)
    option_set(tree, applied, out_dir, cmake_lines, mbedtls_include) -> {option: value}
    header_options(header_dir, mbedtls_include)  -> {option: value} of tls_config.h
    compare(platform_set, bare_set, owned)       -> [(option, platform, bare)]

Nothing here models the platform: the fragment is applied by kconfiglib (Debian's
python3-kconfiglib) over the platform's Kconfig, kconfiglib writes the autoconf
header the platform's build writes, and the platform's own configuration header
is run through the C preprocessor (gcc -E -dM) with that autoconf, the include
directories in the platform's order, and the overlay exactly where the documented
CMake line puts it.  The mbedTLS option set that comes out is compared with the one
of the bare-metal header, read by the same preprocessor.

The include order of mbedTLS 3.6's build_info.h (lines 112-131): MBEDTLS_CONFIG_FILE,
then MBEDTLS_USER_CONFIG_FILE when defined.  DRIVER below says exactly that.
"""
import os
import re
import shlex
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
DRIVER = ("#include MBEDTLS_CONFIG_FILE\n"
          "#if defined(MBEDTLS_USER_CONFIG_FILE)\n#include MBEDTLS_USER_CONFIG_FILE\n#endif\n")
# Mbed TLS 4.x reads the crypto files first (include/mbedtls/build_info.h:17 includes
# tf-psa-crypto/build_info.h, whose :114-120 read TF_PSA_CRYPTO_CONFIG_FILE, else
# psa/crypto_config.h, then TF_PSA_CRYPTO_USER_CONFIG_FILE), then its own (:50-68).
DRIVER4 = ("#if defined(TF_PSA_CRYPTO_CONFIG_FILE)\n#include TF_PSA_CRYPTO_CONFIG_FILE\n"
           "#else\n#include \"psa/crypto_config.h\"\n#endif\n"
           "#if defined(TF_PSA_CRYPTO_USER_CONFIG_FILE)\n#include TF_PSA_CRYPTO_USER_CONFIG_FILE\n"
           "#endif\n" + DRIVER)
# the 4.x tree's include directories (its CMake: include/, tf-psa-crypto/include/, and the
# builtin drivers' headers)
INCLUDES4 = ("include", "tf-psa-crypto/include", "tf-psa-crypto/drivers/builtin/include")
# the lines a fragment documents for the project's CMakeLists.txt
CMAKE_LINE = re.compile(r"^#\s+CMakeLists\.txt:\s+(.+?)\s*$", re.M)
_ASSIGN = re.compile(r'^CONFIG_([A-Za-z0-9_]+)=(.*)$')
_NOT_SET = re.compile(r'^# CONFIG_([A-Za-z0-9_]+) is not set$')


def upstream_dir():
    """shared/upstream beside the checkout ($TLSFIT_UPSTREAM overrides), or None."""
    env = os.environ.get("TLSFIT_UPSTREAM")
    d = Path(env) if env else REPO.parent / "shared" / "upstream"
    return d if (d / "platforms").is_dir() else None


@dataclass(frozen=True)
class Tree:
    name: str
    platform: str
    version: str
    mbedtls: str
    mbedtls_note: str
    claimed: bool
    kconfig: str
    autoconf: str
    autoconf_name: str
    config_header: str
    include_dirs: tuple
    stubs: tuple
    stub_headers: tuple = ()
    cfg_file_symbol: str = ""
    srctree_stub: tuple = ()
    header_stand_in: bool = False
    defines: tuple = ()           # [name, value] the platform's CMake passes besides the config file

    @property
    def four(self):
        """Whether the tree ships Mbed TLS 4.x (two configuration files)."""
        return self.mbedtls.startswith("4")


def trees(platform=None):
    doc = tomllib.loads((HERE / "reference_trees.toml").read_text(encoding="utf-8"))
    out = []
    for row in doc["tree"]:
        row = {k: tuple(tuple(x) if isinstance(x, list) else x for x in v)
               if isinstance(v, list) else v for k, v in row.items()}
        out.append(Tree(**row))
    return [t for t in out if platform is None or t.platform == platform]


# ------------------------------------------------------------------ Kconfig

def _wrapper(tree, up, work):
    lines = ['mainmenu "tlsfit evaluation"']
    for name, kind, value in tree.stubs:
        lines += [f"config {name}", f"\t{kind}", f"\tdefault {value}"]
    lines.append(f'source "{up / tree.kconfig}"')
    path = work / "wrapper.Kconfig"
    path.write_text("\n".join(lines) + "\n")
    return path


def read_fragment(text):
    """[(line number, SYMBOL without CONFIG_, value text)] of a Kconfig fragment."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        m = _ASSIGN.match(line.strip())
        if m:
            out.append((n, m.group(1), m.group(2)))
            continue
        m = _NOT_SET.match(line.strip())
        if m:
            out.append((n, m.group(1), "n"))
    return out


def read_overlay(text):
    """[(op, name, value)] of an overlay's #undef / #define lines, in order (its own
    include guard left out)."""
    ops = []
    for line in re.sub(r"/\*.*?\*/", "", text, flags=re.S).splitlines():
        m = re.match(r"^#undef (\w+)\s*$", line)
        if m:
            ops.append(("undef", m.group(1), None))
            continue
        m = re.match(r"^#define (\w+)(?:[ \t]+(.*?))?\s*$", line)
        if m and m.group(1) != "TLSFIT_USER_CONFIG_H":
            ops.append(("define", m.group(1), m.group(2) if m.group(2) else True))
    return ops


@dataclass(frozen=True)
class Applied:
    values: dict                 # {SYMBOL: str_value} of every defined symbol
    failures: tuple              # ("CONFIG_X=v: why", ...)
    autoconf: str                # the header kconfiglib writes (sdkconfig.h / autoconf.h)


def assigned_value(value):
    """The value text of an assignment as kconfiglib's str_value reads it."""
    v = value.strip()
    return v[1:-1] if len(v) >= 2 and v[0] == v[-1] == '"' else v


def kconfig_apply(tree, fragment_text, up=None):
    """The fragment merged over the platform's Kconfig by kconfiglib, as the
    platform's build does; every assignment checked: the symbol exists, the user can
    set it (a prompt, visible), and its value after Kconfig is the one assigned."""
    import kconfiglib
    up = up or upstream_dir()
    with tempfile.TemporaryDirectory(prefix="tlsfit-eval-") as tmp:
        work = Path(tmp)
        old = {"srctree": os.environ.get("srctree")}
        if tree.srctree_stub:
            path, text = tree.srctree_stub
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            (work / path).write_text(text)
        os.environ["srctree"] = str(work)
        try:
            k = kconfiglib.Kconfig(str(_wrapper(tree, up, work)), warn_to_stderr=False)
        finally:
            for key, v in old.items():
                if v is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = v
        k.warn_assign_undef = True
        frag = work / "fragment"
        frag.write_text(fragment_text)
        k.load_config(str(frag), replace=False)
        failures = []
        for n, name, value in read_fragment(fragment_text):
            failures += _check(k, n, name, value)
        auto = work / tree.autoconf_name
        k.write_autoconf(str(auto))
        values = {s.name: s.str_value for s in k.unique_defined_syms}
        return Applied(values, tuple(failures), auto.read_text())


def _check(k, n, name, value):
    sym = k.syms.get(name)
    where = f"line {n}: CONFIG_{name}={value}"
    if sym is None or not sym.nodes:
        return [f"{where}: no such symbol in this tree"]
    if not any(node.prompt for node in sym.nodes):
        return [f"{where}: the symbol has no prompt (a fragment cannot set it)"]
    if sym.visibility == 0:
        return [f"{where}: its prompt is hidden here (a dependency is off), so the "
                f"assignment is ignored; Kconfig gives {sym.str_value or 'n'}"]
    want, got = assigned_value(value), sym.str_value
    if got != want and not (want == "n" and got == ""):
        return [f"{where}: Kconfig gives {got or 'n'} (a select or depends on overrides it)"]
    return []


# ------------------------------------------------------------------ preprocessor

def _defines(text):
    """{NAME: body} of `gcc -E -dM` output (object-like macros only)."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^#define ([A-Za-z_]\w*)(?: (.*))?$", line)
        if m:
            out[m.group(1)] = (m.group(2) or "").strip()
    return out


def _expand(body, defs, seen=()):
    """A macro body with identifiers that are themselves macros (CONFIG_ values the
    port header forwards) replaced, as the compiler would see the value."""
    def sub(m):
        name = m.group(0)
        if name in defs and name not in seen:
            return _expand(defs[name], defs, seen + (name,))
        return name
    return re.sub(r"\b[A-Za-z_]\w*\b", sub, body)


def mbedtls_options(text, skip=()):
    """{option: value} of the MBEDTLS_/PSA_ macros in `gcc -E -dM` output: True for an
    empty body, else the expanded body with its spaces normalised.  Include guards,
    the config-file names and `skip` are left out."""
    defs = _defines(text)
    out = {}
    for name, body in defs.items():
        if not name.startswith(("MBEDTLS_", "PSA_")) or name in skip or \
                name.endswith("_H") or name in ("MBEDTLS_CONFIG_FILE",
                                                "MBEDTLS_USER_CONFIG_FILE",
                                                "MBEDTLS_CONFIG_FILES_READ",
                                                "MBEDTLS_MAJOR_VERSION"):
            continue
        value = " ".join(_expand(body, defs, (name,)).split())
        out[name] = value if value else True
    return out


def _cpp(includes, defines, imacros=(), cwd=None, tolerate=False, driver=DRIVER):
    """gcc -E -dM of DRIVER.  tolerate: an #error does not fail (the stand-in header's
    own checks); a missing #include still stops the preprocessor, and what it read
    up to there is returned."""
    cmd = ["gcc", "-E", "-dM", "-x", "c", "-"]
    for d in includes:
        cmd += ["-I", str(d)]
    for name, value in defines:
        cmd.append(f"-D{name}={value}")
    for f in imacros:
        cmd += ["-imacros", str(f)]
    proc = subprocess.run(cmd, input=driver, capture_output=True, text=True, cwd=cwd,
                          timeout=60)
    if proc.returncode and not tolerate:
        err = next((x for x in proc.stderr.splitlines() if "error" in x), proc.stderr.strip())
        raise RuntimeError(f"the preprocessor failed: {err}")
    return proc.stdout


def header_options(header_dir, mbedtls_include):
    """The option set of tlsfit's bare-metal header tls_config.h in header_dir."""
    text = _cpp([header_dir, mbedtls_include], [("MBEDTLS_CONFIG_FILE", '"tls_config.h"')])
    return mbedtls_options(text)


def pair_options(header_dir, tree4):
    """The option set of tlsfit's 4.x pair tls_config.h + tls_config_crypto.h in
    header_dir, read in 4.x's order against the 4.x tree `tree4` (a path)."""
    text = _cpp([header_dir, *(Path(tree4) / d for d in INCLUDES4)],
                [("MBEDTLS_CONFIG_FILE", '"tls_config.h"'),
                 ("TF_PSA_CRYPTO_CONFIG_FILE", '"tls_config_crypto.h"')], driver=DRIVER4)
    return mbedtls_options(text)


def cmake_effects(fragment_text, out_dir):
    """(include dirs, compile definitions) the documented CMakeLists.txt lines of the
    fragment add, with the project directory = out_dir.  Understood:
    zephyr_include_directories(DIR) and idf_build_set_property(COMPILE_DEFINITIONS
    "NAME=VALUE" APPEND)."""
    incs, defs = [], []
    for line in CMAKE_LINE.findall(fragment_text):
        line = line.replace("${CMAKE_CURRENT_SOURCE_DIR}", str(out_dir)) \
                   .replace("${CMAKE_CURRENT_LIST_DIR}", str(out_dir))
        m = re.match(r"zephyr_include_directories\((.+)\)$", line)
        if m:
            incs += shlex.split(m.group(1))
            continue
        m = re.match(r'idf_build_set_property\(COMPILE_DEFINITIONS\s+"(.*)"\s+APPEND\)$', line)
        if m:
            name, _, value = m.group(1).replace('\\"', '"').partition("=")
            defs.append((name, value))
            continue
        raise ValueError(f"a CMakeLists.txt line evaluate.py does not understand: {line}")
    return incs, defs


def option_set(tree, applied, out_dir, fragment_text, mbedtls_include, up=None):
    """The mbedTLS options the platform's build sees: its config header (or the one
    CONFIG_<cfg_file_symbol> names) with the autoconf, the platform's include
    directories, then what the documented CMake lines add."""
    return mbedtls_options(_preprocess(tree, applied, out_dir, fragment_text,
                                       mbedtls_include, up))


def overlay_found(tree, applied, out_dir, fragment_text, mbedtls_include, up=None):
    """Whether the platform's config header, with the include directories in the
    platform's order plus the documented CMake lines, reads tlsfit's overlay (its
    guard TLSFIT_USER_CONFIG_H is defined).  For a stand-in header: its own #errors
    are tolerated, a missing file is not."""
    text = _preprocess(tree, applied, out_dir, fragment_text, mbedtls_include, up,
                       tolerate=True)
    return "TLSFIT_USER_CONFIG_H" in _defines(text)


def _preprocess(tree, applied, out_dir, fragment_text, mbedtls_include, up=None,
                tolerate=False):
    up = up or upstream_dir()
    incs, defs = cmake_effects(fragment_text, out_dir)
    with tempfile.TemporaryDirectory(prefix="tlsfit-cpp-") as tmp:
        work = Path(tmp)
        (work / tree.autoconf_name).write_text(applied.autoconf)
        stubs = work / "stubs"
        for h in tree.stub_headers:
            (stubs / h).parent.mkdir(parents=True, exist_ok=True)
            (stubs / h).write_text("/* the platform's own header: not part of the evaluation */\n")
        dirs = []
        for d in tree.include_dirs:
            if d == "@mbedtls":           # a 4.x tree: its include directories
                dirs += [Path(mbedtls_include) / i for i in INCLUDES4] if tree.four \
                    else [mbedtls_include]
            else:
                dirs.append(stubs if d == "@stubs" else up / d)
        header = tree.config_header
        if tree.cfg_file_symbol:
            header = applied.values.get(tree.cfg_file_symbol) or header
        imacros = [work / tree.autoconf_name] if tree.autoconf == "imacros" else []
        if tree.autoconf == "include":
            dirs.append(work)
        return _cpp(dirs + [Path(d) for d in incs],
                    [("MBEDTLS_CONFIG_FILE", f'"{header}"'), *map(tuple, tree.defines)] + defs,
                    imacros, tolerate=tolerate, driver=DRIVER4 if tree.four else DRIVER)


def compare(platform_set, bare_set, owned):
    """[(option, platform value, bare value)] of every option that differs, except
    the options the platform owns."""
    names = (set(platform_set) | set(bare_set)) - set(owned)
    return sorted((n, platform_set.get(n), bare_set.get(n)) for n in names
                  if platform_set.get(n) != bare_set.get(n))
