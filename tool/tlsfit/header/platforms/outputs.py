"""The files `--for PLATFORM` writes, rendered through templates/ (Jinja2, strict).

    FORMATS                          the --for choices
    files(plan, fmt, tree, regenerate, port_lines=None)  -> Output

mbedtls          tls_config.h: the whole configuration (MBEDTLS_CONFIG_FILE)
esp-idf          sdkconfig.defaults + tlsfit_user_config.h (MBEDTLS_USER_CONFIG_FILE)
zephyr           prj.conf + tlsfit_user_config.h (CONFIG_MBEDTLS_USER_CONFIG_FILE)
zephyr-cfg-file  prj.conf naming tls_config.h as CONFIG_MBEDTLS_CFG_FILE + tls_config.h
rt-thread        tls_config.h with the port lines in a marked block that regenerating keeps
"""
import re
from dataclasses import dataclass

from ...core.errors import PLATFORM, PLATFORM_LINE, TlsfitError
from .. import render
from . import load, ranking_note, translate

FORMATS = ("mbedtls", "esp-idf", "zephyr", "zephyr-cfg-file", "rt-thread")
MODELLED = ("esp-idf", "zephyr", "zephyr-cfg-file")     # need the tree's defaults
PORT_BEGIN = "/* ---- tlsfit: port lines (kept when tlsfit regenerates this file) ---- */"
PORT_END = "/* ---- tlsfit: end of port lines ---- */"
# RT-Thread's mbedTLS package: its tls_config.h includes rtthread.h and maps the
# library's allocator names onto the kernel's (its manual, chapter 6).
RTTHREAD_PORT = ("#include <rtthread.h>", "#define tls_malloc    rt_malloc",
                 "#define tls_free      rt_free", "#define tls_realloc   rt_realloc",
                 "#define tls_calloc    rt_calloc")
GUARD = "#define TLSFIT_TLS_CONFIG_H\n"


@dataclass(frozen=True)
class Output:
    """What one --for writes: {file name: text} in writing order, and the mapping used
    (None for the bare-metal outputs)."""
    files: dict
    translation: object = None


def _hashline(text):
    return re.sub(r"[\x00-\x1f\x7f]", " ", str(text))


def _env():
    env = render.environment()
    env.filters["hashline"] = _hashline
    return env


def _kconfig(plan, t, regenerate, preamble, whole=False, ranked=False):
    p = t.platform
    view = {"whole": whole, "fragment": p.fragment, "title": p.title, "target": plan.target,
            "tlsfit": plan.facts["tlsfit"], "regenerate": regenerate, "overlay": p.overlay,
            "table": p.table, "source": p.source,
            "versions": p.versions, "cmake": list(p.cmake), "ranking": _ranking(p) if ranked else "",
            "preamble": [{"symbol": s, "value": v, "why": w} for s, v, w in preamble],
            "settings": [{"symbol": s.symbol, "value": _kvalue(s.value), "why": s.why}
                         for s in t.settings]}
    return _env().get_template("platform-kconfig.j2").render(k=view)


def _ranking(platform):
    return ranking_note(platform) if platform.accelerated else ""


def _kvalue(v):
    if v is True:
        return "y"
    if v is False:
        return "n"
    return str(v)


def _overlay(plan, t, regenerate, ranked=False):
    p = t.platform
    ops = []
    for op, name, value, why in t.overlay:
        text = name if value is True or value is None else f"{name} {value}"
        ops.append({"op": op, "name": name, "value": value, "why": why,
                    "pad": max(1, render.COLUMN - 8 - len(text))})
    view = {"overlay": p.overlay, "title": p.title, "target": plan.target,
            "tlsfit": plan.facts["tlsfit"], "regenerate": regenerate, "fragment": p.fragment,
            "duties": _duties(plan, p), "prove": plan.facts["prove"], "ops": ops,
            "anchor": list(plan.facts.get("anchor_note") or ()),
            "ranking": _ranking(p) if ranked else ""}
    return _env().get_template("platform-overlay.h.j2").render(o=view)


def _duties(plan, platform):
    """The application's duties, without those the platform does itself (entropy,
    clock: the options it owns)."""
    owned = [o for o in platform.owned if o.endswith("_ALT") or "ENTROPY" in o]
    skip = ("mbedtls_ms_time",) if "MBEDTLS_PLATFORM_MS_TIME_ALT" in platform.owned else ()
    return [d for d in plan.duties if not any(o in d for o in owned)
            and not any(s in d for s in skip)]


def refuse_line(platform, line):
    """TlsfitError(PLATFORM_LINE) when no platform release in the table's `lines`
    ships mbedTLS `line` (the table's own words say which release ships which)."""
    if platform.lines and line not in platform.lines:
        raise TlsfitError(PLATFORM_LINE, f"--mbedtls {line} --for {platform.name}: "
                                         f"{platform.lines_note}; use --mbedtls "
                                         f"{platform.lines[0]}")


def port_block(text):
    """The port lines between the markers of an existing header, or None."""
    if PORT_BEGIN not in text or PORT_END not in text:
        return None
    inner = text.split(PORT_BEGIN, 1)[1].split(PORT_END, 1)[0]
    return inner.strip("\n").splitlines()


def with_port_lines(header, lines):
    """The bare-metal header with the port block right after its include guard."""
    block = "\n".join([PORT_BEGIN, *lines, PORT_END]) + "\n"
    return header.replace(GUARD, GUARD + "\n" + block, 1)


def files(plan, fmt, tree, regenerate, port_lines=None, ranked=False):
    """Output for --for `fmt`.  regenerate: the command the files name; port_lines (a
    list of lines) for rt-thread, else RT-Thread's usual ones; ranked: the plan was
    ranked by the platform's own costs (platforms.ranked_costs), which the files say."""
    if fmt == "mbedtls":
        return Output({"tls_config.h": plan.text})
    if fmt == "rt-thread":
        lines = list(port_lines) if port_lines is not None else list(RTTHREAD_PORT)
        bad = [x for x in lines if PORT_BEGIN in x or PORT_END in x]
        if bad:
            raise TlsfitError(PLATFORM, "the port lines contain tlsfit's own block markers: "
                                        "give only the lines between them")
        return Output({"tls_config.h": with_port_lines(plan.text, lines)})
    if fmt == "zephyr-cfg-file":
        p = load("zephyr")
        t = translate(plan, p, tree)
        pre = [s for s in p.preamble if s[0] in ("CONFIG_MBEDTLS", "CONFIG_MBEDTLS_BUILTIN")]
        pre.append(("CONFIG_CUSTOM_MBEDTLS_CFG_FILE", "y",
                    "CONFIG_MBEDTLS_CFG_FILE has a prompt only with this "
                    "(modules/mbedtls/Kconfig:43-53): without it the next line is ignored"))
        pre.append(("CONFIG_MBEDTLS_CFG_FILE", '"tls_config.h"',
                    "tlsfit's whole configuration instead of config-tls-generic.h "
                    "(the CMakeLists.txt line above puts tls_config.h on the include path)"))
        empty = type(t)(p, (), (), t.want)
        return Output({"prj.conf": _kconfig(plan, empty, regenerate, pre, whole=True),
                       "tls_config.h": plan.text}, t)
    return platform_files(plan, fmt, tree, regenerate, ranked)


def platform_files(plan, table, tree, regenerate, ranked=False):
    """Output of the Kconfig fragment and the overlay with mapping table `table` (a
    TABLES or TABLES_4 key: "esp-idf", "zephyr", "esp-idf-v6"), refused (exit 53) when the table's
    releases do not ship the plan's mbedTLS line."""
    p = load(table)
    refuse_line(p, plan.line)
    t = translate(plan, p, tree)
    return Output({p.fragment: _kconfig(plan, t, regenerate, p.preamble, ranked=ranked),
                   p.overlay: _overlay(plan, t, regenerate, ranked)}, t)
