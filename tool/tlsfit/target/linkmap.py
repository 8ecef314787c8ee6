"""GNU ld map files: the input sections placed in the image, and mbedTLS's share of
it per library object (the per-module ROM every report carries)."""
import re
from dataclasses import dataclass
from pathlib import Path

LIBS = ("libmbedtls.a", "libmbedx509.a", "libmbedcrypto.a")   # link order
# Every mbedTLS archive a module can come from (4.x: TF-PSA-Crypto's libtfpsacrypto.a).
ARCHIVES = LIBS + ("libtfpsacrypto.a",)

@dataclass
class InputSection:
    output: str        # output section (".text", ".data", ...)
    name: str          # input section (".text.mbedtls_aes_init", "COMMON", ...)
    address: int
    size: int
    file: str          # "/x/libmbedcrypto.a(aes.o)" or "/x/startup.o"

    @property
    def archive(self):
        m = re.match(r"^(.*)\(([^()]+)\)$", self.file)
        return Path(m.group(1)).name if m else None

    @property
    def member(self):
        m = re.match(r"^(.*)\(([^()]+)\)$", self.file)
        return m.group(2) if m else Path(self.file).name

    @property
    def kind(self):
        """"text", "rodata", "data", "bss", "rom" (other flash), or None (not in the image)."""
        n = self.name
        if n.startswith(".text") or n in (".glue_7", ".glue_7t", ".vfp11_veneer", ".v4_bx",
                                          ".iplt", ".init", ".fini"):
            return "text"
        if n.startswith(".rodata"):
            return "rodata"
        if n.startswith(".data"):
            return "data"
        if n.startswith(".bss") or n == "COMMON":
            return "bss"
        if n.startswith((".ARM.exidx", ".ARM.extab", ".init_array", ".fini_array",
                         ".preinit_array", ".tf_vectors")):
            return "rom"
        return None


_OUT = re.compile(r"^(\.[^\s]+|[A-Za-z_][^\s]*)(?:\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+))?\s*$")


_IN_FULL = re.compile(r"^ (\S+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*?)\s*$")


_IN_NAME = re.compile(r"^ (\.\S+|COMMON)\s*$")


_IN_REST = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*?)\s*$")


def parse_map(text):
    """The input sections placed in the image, from a GNU ld map file.  The
    discarded sections (--gc-sections) listed before the memory map are
    skipped; so are fill, symbol and assignment lines."""
    out = []
    lines = text.splitlines()
    try:
        start = next(i for i, ln in enumerate(lines)
                     if ln.startswith("Linker script and memory map"))
    except StopIteration:
        raise ValueError("not a GNU ld map file (no 'Linker script and memory map')") from None
    current, pending = None, None
    for ln in lines[start + 1:]:
        if not ln.strip():
            continue
        if not ln[0].isspace():
            m = _OUT.match(ln)
            if m and not ln.startswith(("LOAD ", "OUTPUT(", "START GROUP", "END GROUP")):
                current = m.group(1)
            pending = None
            continue
        m = _IN_FULL.match(ln)
        if m and m.group(1) != "*fill*" and not m.group(4).startswith("0x"):
            out.append(InputSection(current, m.group(1), int(m.group(2), 16),
                                    int(m.group(3), 16), m.group(4)))
            pending = None
            continue
        if pending is not None:
            m = _IN_REST.match(ln)
            if m and not m.group(3).startswith("0x"):
                out.append(InputSection(current, pending, int(m.group(1), 16),
                                        int(m.group(2), 16), m.group(3)))
            pending = None
            continue
        m = _IN_NAME.match(ln)
        if m:
            pending = m.group(1)
    return out


def tls_sizes(sections, libs=ARCHIVES):
    """(rom_tls_bytes, ram_tls_bytes, modules) of the input sections that come
    from the mbedTLS archives.  ROM is text + rodata + data (its load image)
    + other flash sections; modules are per object file, largest ROM first:
    {"name", "library", "rom_bytes", "text", "rodata", "data", "bss"}."""
    mods = {}
    for s in sections:
        if s.archive not in libs or s.kind is None or s.size == 0:
            continue
        m = mods.setdefault((s.archive, s.member), {
            "name": s.member, "library": s.archive, "rom_bytes": 0,
            "text": 0, "rodata": 0, "data": 0, "bss": 0})
        kind = "text" if s.kind == "rom" else s.kind
        m[kind] += s.size
        if kind != "bss":
            m["rom_bytes"] += s.size
    modules = sorted(mods.values(), key=lambda m: (-m["rom_bytes"], m["library"], m["name"]))
    rom = sum(m["rom_bytes"] for m in modules)
    ram = sum(m["data"] + m["bss"] for m in modules)
    return rom, ram, modules


# The objects only certificate authentication needs (mbedTLS 3.6/2.28 library file
# names: x509*.c, pk*.c); a PSK-only header's image holds none of them.
CERTIFICATE_OBJECTS = re.compile(r"^(x509\w*|pk\w*)\.o(bj)?$")


def certificate_objects(modules):
    """The names of tls_sizes()'s modules that are X.509 or public-key code."""
    return sorted(m["name"] for m in modules if CERTIFICATE_OBJECTS.match(m["name"]))


# ------------------------------------------------------------- LTO images
#
# With -flto the linker places the sections of the link-time compiler's output
# (/tmp/ccXXXX.ltrans0.ltrans.o), not of mbedTLS's objects, so the map no longer
# says which library object code came from.  With -ffunction-sections and
# -fdata-sections every function and variable still has its own section named
# after it (".text.NAME", ".rodata.NAME", a function's strings in
# ".rodata.NAME.str1.1").  The same fat objects linked without -flto (the plain
# link, fw.build(also_plain=True)) say which object defines NAME: its placed
# sections, and -- for every function with a body, static or inlined ones
# included -- the GIMPLE sections ".gnu.lto_NAME.N.HASH" it discards.  That is
# the attribution.  A clone LTO made (.constprop.N, .isra.N, .part.N, .cold) or a
# static it made unique (.lto_priv.N) goes to the function it came from; a
# section with no name left to go by is "unattributed".

_LTRANS = re.compile(r"\.ltrans\d*\.ltrans\.o$|\.ltrans\.o$")
_CLONE = re.compile(r"(\.(constprop|isra|part|lto_priv|cold|localalias)(\.\d+)?)+$")
_STRINGS = re.compile(r"\.str\d+\.\d+$")
_KIND_PREFIX = re.compile(r"^\.(text|rodata|data|bss)\.")
_GIMPLE = re.compile(r"^\.gnu\.lto_(.+)\.\d+\.[0-9a-f]+$")


def is_ltrans(section):
    """True for a section the link-time compiler produced."""
    return bool(_LTRANS.search(section.file))


def symbol_of(section_name):
    """The function or variable a section is named after, LTO's suffixes and a
    string section's ".strN.M" removed, or None (".text", "COMMON", ...):
    ".text.ssl_write_real.constprop.0" -> "ssl_write_real",
    ".rodata.eckey_debug.lto_priv.0.str1.1" -> "eckey_debug"."""
    m = _GIMPLE.match(section_name)
    if m:
        return m.group(1)
    if not _KIND_PREFIX.match(section_name):
        return None
    name = _CLONE.sub("", _STRINGS.sub("", _KIND_PREFIX.sub("", section_name)))
    return _CLONE.sub("", name) or None


def discarded_sections(text):
    """The input sections a GNU ld map lists as discarded (before the memory map)."""
    lines = text.splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.startswith("Discarded input sections"))
        end = next(i for i, ln in enumerate(lines) if ln.startswith("Memory Configuration"))
    except StopIteration:
        return []
    fake = ["Linker script and memory map", "DISCARDED"] + lines[start + 1:end]
    return parse_map("\n".join(fake))


def owners(plain_text):
    """{symbol name: object file} from the plain link's map: its placed sections
    first, then the GIMPLE bodies it discarded.  A static name two objects define
    goes to the first (rare in mbedTLS; as good a guess as any)."""
    found = {}
    for s in parse_map(plain_text) + discarded_sections(plain_text):
        name = symbol_of(s.name)
        if name and s.size:
            found.setdefault(name, s.file)
    return found


def attribute_lto(lto_sections, plain_text):
    """The LTO image's input sections, each ltrans section's file replaced by the
    object that defines its symbol in the plain link (plain_text: that link's map);
    those with no owner keep their ltrans file.  Returns (sections,
    unattributed_rom_bytes)."""
    own = owners(plain_text)
    out, unattributed = [], 0
    for s in lto_sections:
        if not is_ltrans(s):
            out.append(s)
            continue
        name = symbol_of(s.name)
        f = own.get(name) if name else None
        if f is None and s.kind not in (None, "bss") and s.size:
            unattributed += s.size
        out.append(InputSection(s.output, s.name, s.address, s.size, f or s.file))
    return out, unattributed
