"""Link-time optimisation (lto=True, `measure --lto`): mbedTLS is cross-built with
-flto -ffat-lto-objects (xbuild.py: its own cache key), the harness compiled the
same way and the image linked with -flto -Os; that image is the one measured and
every figure is its own.  The same fat objects are linked a second time without
-flto (no run: a link of a second or so), and the report's "lto" says
what LTO changed: {enabled, rom_bytes_without_lto, rom_tls_bytes_without_lto,
rom_change_bytes, rom_tls_change_bytes, unattributed_rom_bytes, modules_from,
build {lto_compile_s, plain_compile_s (first builds, from the cache's records;
None when not known), lto_link_ms, plain_link_ms}}.  Under LTO the map names the
link-time compiler's output, not mbedTLS's objects: rom_tls_bytes and
"modules" count each function and variable in the object that defines it (its
name looked up in the plain link's map, linkmap.attribute_lto); code LTO inlined
into the harness counts as the harness's, and the few bytes with no name left
(merged constants) are unattributed_rom_bytes, in neither.  lto="both" also runs
the plain image (the ordinary build, as without --lto) under "without_lto" and
gives "lto_change" (LTO minus plain, per figure).  The baseline, when asked
for, is built the same way as the header.

    lto_mode(value) -> False, True or "both" from a --lto value
    lto_facts(xb, elf, image, link_s) -> the report's "lto" section
    lto_change(lto_report, plain_report) -> {figure: LTO minus plain}
"""
from ..core.errors import USAGE, TlsfitError
from .firmware import fw
from .image import image_sizes, plain_image
from .result import RATIO_FIELDS


LTO_CHOICES = (False, True, "both")


def lto_mode(value):
    """measure()'s lto from a --lto value: None/False/"off" -> False, True/"on" -> True,
    "both" -> "both"; anything else: TlsfitError(USAGE)."""
    table = {None: False, False: False, "off": False, True: True, "on": True, "both": "both"}
    try:
        return table[value]
    except (KeyError, TypeError):
        raise TlsfitError(USAGE, f"--lto {value}: expected on, off or both") from None


def lto_change(lto_report, plain_report):
    """{figure: LTO minus plain} of RATIO_FIELDS (None where either is unknown)."""
    return {k: None if lto_report.get(k) is None or plain_report.get(k) is None
            else lto_report[k] - plain_report[k] for k in RATIO_FIELDS}


def lto_facts(xb, elf, image, link_s, plain_link_s=None, plain_xb=None):
    """The report's "lto" section for an LTO image (see the module's docstring)."""
    sizes, rom_tls = image[0], image[1]
    plain_elf, plain_map = plain_image(elf)
    psizes, prom_tls, _, _ = image_sizes(plain_elf, plain_map, xb.target)
    return {
        "enabled": True,
        "flags": {"compile": list(fw.LTO_CFLAGS), "link": list(fw.LTO_LINK_FLAGS)},
        "rom_bytes_without_lto": psizes["rom_bytes"],
        "rom_tls_bytes_without_lto": prom_tls,
        "rom_change_bytes": sizes["rom_bytes"] - psizes["rom_bytes"],
        "rom_tls_change_bytes": rom_tls - prom_tls,
        "unattributed_rom_bytes": sizes.get("unattributed_rom_bytes"),
        "modules_from": "each LTO-placed function or variable counted in the object that "
                        "defines its name (the plain link of the same fat objects); code "
                        "inlined into the harness counts as the harness's",
        "build": {"lto_compile_s": xb.compile_seconds,
                  "plain_compile_s": plain_xb.compile_seconds if plain_xb else None,
                  "lto_link_ms": int(round(link_s * 1000)),
                  "plain_link_ms": None if plain_link_s is None else
                  int(round(plain_link_s * 1000))},
    }
