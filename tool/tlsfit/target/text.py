"""The human-readable `tlsfit measure` report.

    format_report(report) -> [line, ...]

One summary per image (the measured header, the plain build beside an LTO one, the
baseline): the handshake or why it failed, the client certificate, instructions,
ROM, static RAM, heap peak and floor, stack, the largest mbedTLS modules and the
time each phase took; then LTO's change and the ratios to the baseline.
"""
from pathlib import Path

from ..core import resumption
from . import heapfloor


def _kib(n):
    return "?" if n is None else f"{n} B ({n / 1024:.1f} KiB)"


def _one_summary(r, indent=""):
    hs = r["handshake"]
    lines = []
    if hs["ok"]:
        parts = [hs["version"], hs["ciphersuite"], hs["group"]]
        lines.append(f"handshake: ok, {' '.join(p for p in parts if p)}")
        if hs.get("proof_result"):
            lines.append(f"session accepted (proof {hs['proof']}): "
                         f"{hs['proof_result']['reply']}")
    else:
        lines.append(f"handshake: FAILED: {hs['message'] or hs['error']}")
        if hs.get("hint"):
            lines.append(f"  hint: {hs['hint']}")
        if hs.get("verify_flags"):
            lines.append(f"  certificate: {', '.join(hs['verify_flags'])}")
    lines += _dtls_lines(r.get("wire"))
    c = r.get("client")
    if c:
        lines.append(f"client certificate: {c['subject']} ({c['key_type']} "
                     f"{c['curve'] or c['bits']}), from {c['cert']}")
    ins = r["handshake_instructions"]
    if ins is not None:
        lines.append(f"handshake instructions: {ins:,} (about {ins / 1e6:.1f} M)")
    lines.append(f"ROM: {_kib(r['rom_bytes'])}, of which mbedTLS {_kib(r['rom_tls_bytes'])}")
    lines.append(f"static RAM: {_kib(r['ram_static_bytes'])}")
    heap = f"heap peak: {_kib(r['heap_peak_bytes'])}"
    if r["heap_allocs"] is not None:
        heap += f" in {r['heap_allocs']} allocations, largest {r['heap_largest_block']} B"
    if r["heap_alloc_failed"]:
        heap += f"; an allocation FAILED (limit {r['heap_limit']})" if r["heap_limit"] \
            else "; an allocation FAILED"
    lines.append(heap)
    if r.get("heap_floor"):
        lines.append("heap floor: " + heapfloor.floor_line(r["heap_floor"]))
    lines.append(f"stack peak: {_kib(r['stack_peak_bytes'])}")
    if "external" in (r.get("rng") or ""):
        lines.append(f"random: {r['rng']} -- the header's --external-rng hook, answered by "
                     "tool/firmware/test_entropy.c (deterministic, for measuring only)")
    top = ", ".join(f"{m['name']} {m['rom_bytes']}" for m in r["modules"][:6])
    if top:
        lines.append(f"largest mbedTLS modules (ROM bytes): {top}")
    e = r["elapsed_ms"]
    lines.append(f"time: build {e['build'] / 1000:.1f} s, link {e['link'] / 1000:.1f} s, "
                 f"run {e['run'] / 1000:.1f} s")
    return [indent + ln for ln in lines]


def _dtls_lines(wire):
    """A DTLS session's datagrams, round trips and cookie exchange (target/dgramrelay.py)."""
    if not wire or wire.get("transport") != "udp":
        return []
    fw = wire.get("firmware") or {}
    cookie = "with" if wire["hello_verify_requests"] else "without"
    return [f"DTLS over UDP: {wire['round_trips']} round trip(s) up to the server's Finished "
            f"({cookie} a cookie exchange), {wire['datagrams_to_server']} datagrams sent and "
            f"{wire['datagrams_from_server']} received, largest record from the server "
            f"{wire['largest_record']} B, retransmission timeouts {fw.get('timeouts', '?')}"]


def _lto_lines(r):
    lto = r.get("lto")
    if not lto:
        return []
    b = lto["build"]
    lines = [f"link-time optimisation (-flto): ROM {lto['rom_bytes_without_lto']} -> "
             f"{r['rom_bytes']} B ({lto['rom_change_bytes']:+d}), mbedTLS "
             f"{lto['rom_tls_bytes_without_lto']} -> {r['rom_tls_bytes']} B "
             f"({lto['rom_tls_change_bytes']:+d}); {lto['unattributed_rom_bytes']} B "
             "unattributed (modules: by function name, see --help)"]
    cost = [f"LTO link {b['lto_link_ms'] / 1000:.1f} s"]
    if b.get("plain_link_ms") is not None:
        cost.append(f"plain link {b['plain_link_ms'] / 1000:.1f} s")
    if b.get("lto_compile_s") is not None:
        cost.append(f"LTO compile {b['lto_compile_s']:.1f} s")
    if b.get("plain_compile_s") is not None:
        cost.append(f"plain compile {b['plain_compile_s']:.1f} s")
    lines.append("build time: " + ", ".join(cost) + " (compiles: the first build's, ccache "
                                                    "as it was)")
    return lines


def format_report(r):
    lines = [f"{Path(r['config']['path']).name} on {r['target']} against {r['server']} "
             f"(sni {r['sni']}), mbedTLS {r['mbedtls']}" + (" with -flto" if r.get("lto")
                                                          else "")]
    t = r.get("mbedtls_tree")
    if t:
        lines.append(f"  mbedTLS tree: {t['path']} ({t['version']}, sources sha256 "
                     f"{t['sha256'][:16]})")
    lines += _one_summary(r, "  ")
    lines += resumption.text_lines(r.get("resumption"))
    lines += ["  " + ln for ln in _lto_lines(r)]
    if r.get("without_lto"):
        lines.append("without LTO (the plain build):")
        lines += _one_summary(r["without_lto"], "  ")
        change = ", ".join(f"{k} {v:+d}" for k, v in r["lto_change"].items() if v is not None)
        lines.append(f"change with LTO (LTO - plain): {change}")
    if "baseline" in r:
        b = r["baseline"]
        lines.append(f"baseline: mbedTLS's default configuration ({b['config'].get('preset')})")
        change = b["config"].get("platform_change")
        if change:          # 4.x: the default does not cross-compile as it is
            lines.append("  it does not build for a Cortex-M as it is; built with the smallest "
                         "platform change: " + ", ".join(f"{c['option']} {c['change']}"
                                                         for c in change))
        lines += _one_summary(b, "  ")
        ratios = ", ".join(f"{k} {v:.2f}" for k, v in r["ratios"].items() if v is not None)
        lines.append(f"ratios (measured / baseline): {ratios}")
    return lines
