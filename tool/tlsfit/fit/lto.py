"""`tlsfit fit --lto`: the fitted header measured again with link-time optimisation.

    measurements = measure_final(fitter, final)     # one LTO Measurement per server
    report["lto"] = section(final, measurements)
    lines = summary_lines(report["lto"]); md = md_lines(report["lto"])

The search, the content lengths and the ablation measure plain (-Os) builds, as
without --lto: an LTO link costs ~15 s of CPU on top of every candidate's link,
and what it removes (cross-object inlining, unused code the compiler could not
see) changes the sizes of candidates together far more than their order.  So the
choice is the plain fit's; the final header is then cross-built with -flto
-ffat-lto-objects and linked with -flto -Os (target/lto.py, lto=True) and
measured against every server like the confirming run, and the report gives both
figures side by side with the change.  A final header whose LTO image does not
verify is reported as such (the plain figures stand; fit does not fail on it).

report["lto"]: {flags, searched_with, rom_bytes, rom_tls_bytes, ram_static_bytes,
heap_peak_bytes, stack_peak_bytes, handshake_instructions (the LTO image; several
servers: heap, stack and instructions the maxima), ok, failures, without_lto (the
same figures of the plain final header), change (LTO minus plain),
unattributed_rom_bytes, modules (the LTO image's, attributed by name), modules_from,
build {lto_compile_s, lto_link_ms, plain_link_ms}}.
"""
from ..target.result import FIGURES
from .objective import joint_figures

SEARCHED_WITH = ("the search and the ablation measured plain -Os builds; the fitted header "
                 "was measured again with -flto")


def measure_final(fitter, final):
    """The final header's LTO Measurement against each server, in order."""
    out = []
    for i, site in enumerate(fitter.sites):
        fitter.progress.say("[lto] measuring the final header with -flto"
                            + (f" against {site.hostport}" if fitter.several else ""))
        out.append(fitter.measure_site(final.config, i, lto=True))
    return out


def _figures(measurements):
    if len(measurements) == 1:
        return measurements[0].figures()
    return joint_figures(measurements)


def section(final, measurements):
    """report.json's "lto" from the final Trial (plain) and its LTO measurements."""
    lto = _figures(measurements)
    plain = final.figures()
    first = measurements[0]
    facts = first.get("lto") or {}
    failures = [site_failure for site_failure in
                (m.handshake.failure() for m in measurements) if site_failure]
    return {
        "flags": dict(facts.get("flags") or {}),
        "searched_with": SEARCHED_WITH,
        **lto,
        "ok": not failures,
        "failures": failures,
        "without_lto": plain,
        "change": {k: None if lto.get(k) is None or plain.get(k) is None
                   else lto[k] - plain[k] for k in FIGURES},
        "unattributed_rom_bytes": facts.get("unattributed_rom_bytes"),
        "modules": list(first.modules),
        "modules_from": facts.get("modules_from"),
        "build": {"lto_compile_s": (facts.get("build") or {}).get("lto_compile_s"),
                  "lto_link_ms": (facts.get("build") or {}).get("lto_link_ms"),
                  "plain_link_ms": final.measurement["elapsed_ms"]["link"]},
    }


def _signed(n):
    return "?" if n is None else f"{n:+d}"


def summary_lines(s):
    """The lines `tlsfit fit` prints for report["lto"]."""
    c, p = s["change"], s["without_lto"]
    head = "  with -flto: " + ("verified" if s["ok"] else "FAILED (" + "; ".join(s["failures"])
                                                          + ")")
    return [head + f"; ROM {s['rom_bytes']} B ({_signed(c['rom_bytes'])}), mbedTLS "
            f"{s['rom_tls_bytes']} B ({_signed(c['rom_tls_bytes'])} from {p['rom_tls_bytes']}), "
            f"heap {s['heap_peak_bytes']} B ({_signed(c['heap_peak_bytes'])}), "
            f"instructions {_signed(c['handshake_instructions'])}; LTO link "
            f"{(s['build']['lto_link_ms'] or 0) / 1000:.1f} s vs "
            f"{(s['build']['plain_link_ms'] or 0) / 1000:.1f} s"]


def md_lines(s):
    """report.md's section for report["lto"]."""
    rows = [("ROM (whole image)", "rom_bytes"), ("mbedTLS's share", "rom_tls_bytes"),
            ("static RAM", "ram_static_bytes"), ("peak heap", "heap_peak_bytes"),
            ("peak stack", "stack_peak_bytes"),
            ("handshake instructions", "handshake_instructions")]
    out = ["## With link-time optimisation (`--lto`)", "",
           f"{SEARCHED_WITH[0].upper() + SEARCHED_WITH[1:]} "
           f"(`{' '.join(s['flags'].get('compile') or [])}`, "
           f"linked with `{' '.join(s['flags'].get('link') or [])} -Os`)"
           + ("." if s["ok"] else f"; it FAILED: {'; '.join(s['failures'])}."), "",
           "| figure | -Os | -Os -flto | change |", "|---|---:|---:|---:|"]
    for label, k in rows:
        out.append(f"| {label} | {s['without_lto'].get(k)} | {s.get(k)} | "
                   f"{_signed(s['change'].get(k))} |")
    b = s["build"]
    out += ["", f"mbedTLS's share under LTO: {s['modules_from']}; "
                f"{s['unattributed_rom_bytes']} B had no name left (the vector table, "
                "anonymous constants) and count in neither.",
            f"Build time: LTO link {(b['lto_link_ms'] or 0) / 1000:.1f} s (the harness compile, the "
            f"-flto link and the attribution link) against {(b['plain_link_ms'] or 0) / 1000:.1f} s "
            "plain"
            + (f"; the LTO cross build of mbedTLS took {b['lto_compile_s']} s when first built"
               if b.get("lto_compile_s") is not None else "") + "."]
    return out
