"""Section sizes of a 32-bit little-endian ELF image: ROM and static RAM."""
import struct
from pathlib import Path

from .firmware import fw

SHF_WRITE, SHF_ALLOC = 0x1, 0x2


SHT_NOBITS = 8


def elf_sections(path):
    """[(name, type, flags, addr, size)] of a 32-bit little-endian ELF file."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        raise ValueError(f"{path}: not a 32-bit little-endian ELF file")
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    heads = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize)
             for i in range(shnum)]
    strtab = heads[shstrndx]
    names = data[strtab[4]:strtab[4] + strtab[5]]

    def name(off):
        return names[off:names.index(b"\0", off)].decode()

    return [(name(h[0]), h[1], h[2], h[3], h[5]) for h in heads[1:]]


def elf_sizes(path, target):
    """rom_bytes: every allocated section with contents (its image is in
    flash: code, read-only data, tables, .data's initial values);
    ram_static_bytes: allocated sections in the target's RAM (.data, .bss)."""
    t = fw.load_target(target)
    lo, hi = t["ram_origin"], t["ram_origin"] + t["ram_size"]
    rom = ram = 0
    table = {}
    for name, typ, flags, addr, size in elf_sections(path):
        if not flags & SHF_ALLOC or size == 0:
            continue
        table[name] = size
        if typ != SHT_NOBITS:
            rom += size
        if lo <= addr < hi:
            ram += size
    return {"rom_bytes": rom, "ram_static_bytes": ram, "sections": table}


SHT_SYMTAB, STT_FUNC = 2, 2


def elf_functions(path):
    """[(address, size, name)] of the function symbols of a 32-bit little-endian ELF
    image, by address (the Thumb bit cleared), from its .symtab."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        raise ValueError(f"{path}: not a 32-bit little-endian ELF file")
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x2E)
    heads = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize)
             for i in range(shnum)]
    out = []
    for h in heads:
        if h[1] != SHT_SYMTAB:
            continue
        strtab = heads[h[6]]
        strs = data[strtab[4]:strtab[4] + strtab[5]]
        for off in range(h[4], h[4] + h[5], 16):
            name_off, value, size, info = struct.unpack_from("<IIIB", data, off)
            if info & 0xF != STT_FUNC or size == 0:
                continue
            name = strs[name_off:strs.index(b"\0", name_off)].decode(errors="replace")
            out.append((value & ~1, size, name))
    return sorted(out)


def function_at(functions, address):
    """The name of the function (from elf_functions) that holds address, or None."""
    import bisect
    address &= ~1
    k = bisect.bisect_right(functions, (address, float("inf"), "")) - 1
    if k >= 0 and functions[k][0] <= address < functions[k][0] + functions[k][1]:
        return functions[k][2]
    return None
