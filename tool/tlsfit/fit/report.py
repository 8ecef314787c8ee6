"""The fit report: report.json (build_report) and report.md (render_md, through
templates/report.md.j2), and the summary `tlsfit fit` prints.

report.md is rendered from a view in which every field is already text: figures in
KiB beside the exact bytes, "-" where a figure is unknown, so neither a Python repr
nor None reaches what a firmware engineer pastes into a pull request.
"""
from pathlib import Path

from ..header.render import environment
from .objective import FIGURES, pareto

REPORT_TEMPLATE = "report.md.j2"


def _handshake(trial):
    hs = trial.measurement.handshake
    out = {k: getattr(hs, k) for k in ("ok", "version", "ciphersuite", "group", "error")}
    out["sigalg"] = trial.plan.chosen[0].sigalg if trial.plan.chosen else None
    out.update(proof=hs.proof, proof_reply=hs.proof_reply, alert=hs.alert)
    return out


def _row(t):
    return {"label": t.label, "config": str(t.config), **t.figures()}


def build_report(fitter, final, minimal, host, port, phases):
    r = {"server": f"{host}:{port}", "target": fitter.opts.target,
         "objective": fitter.opts.objective, "policy": fitter.opts.policy,
         "mbedtls": final.measurement.mbedtls, "handshake": _handshake(final),
         **final.figures(), "modules": list(final.measurement.modules),
         "baseline": None, "ratios": None, "minimal": minimal,
         "candidates_tried": len(fitter.trials),
         "pareto": [_row(t) for t in pareto(
             [t for t in fitter.trials if t.ok and t.measurement.handshake_instructions],
             lambda t: t.figures())],
         "config_path": str(fitter.out / "tls_config.h"),
         "chosen": final.plan.chosen[0].label(),
         "options": {k: v for k, v in final.plan.options.items()},
         "values": {k: v[0] for k, v in final.plan.values.items()},
         "removed": list(final.gen_opts.exclude),
         "ablation": fitter.ablation,
         "content_lengths": fitter.sizes,
         "search": [{"label": t.label, "phase": t.phase, "ok": t.ok, "error": t.error,
                     "group": t.measurement.handshake.group if t.measurement else None,
                     **t.figures()} for t in fitter.trials],
         "phases_s": phases}
    base = final.measurement.baseline
    if base:
        r["baseline"] = {"handshake": {k: getattr(base.handshake, k) for k in
                                       ("ok", "version", "ciphersuite", "group", "error",
                                        "proof", "proof_reply", "alert")},
                         **base.figures()}
        r["ratios"] = dict(final.measurement.ratios) if final.measurement.ratios else None
    return r


def _kib(n):
    return "-" if n is None else f"{n / 1024:.1f} KiB"


def _bytes(n):
    """Human units beside the exact count: "41.4 KiB (42,397 B)", "-" when unknown."""
    return "-" if n is None else f"{n / 1024:.1f} KiB ({n:,} B)"


def _signed(n):
    return "-" if n is None else f"{n:+,} B"


def _count(n):
    return "-" if n is None else f"{n:,}"


def _text(x):
    return "-" if x is None or x == "" else str(x)


def _figure(name, n):
    return _count(n) if name == "handshake_instructions" else _bytes(n)


def _cert_line(c):
    key = c["key"]
    size = key.get("curve") or key.get("bits")
    return f"{c['subject']} ({key['type']}{f' {size}' if size else ''}, {c['signature_algorithm']})"


def _server_view(prof):
    return {"versions": ", ".join(prof.versions) or "-",
            "chain": " <- ".join(_cert_line(c) for c in prof.chain) or "-",
            "anchor": _text((prof.trust_anchor or {}).get("subject")),
            "max_plaintext": _bytes(prof.records.get("max_plaintext_len")),
            "certificate_msg": _bytes(prof.records.get("certificate_msg_len"))}


def md_view(r, prof):
    """report.json and the Profile it was fitted to as the template's all-text view."""
    hs, base = r["handshake"], r["baseline"] or {}
    base_hs = base.get("handshake") or {}
    ratios = r.get("ratios") or {}
    return {
        "server": r["server"], "target": r["target"], "objective": r["objective"],
        "policy": r["policy"], "mbedtls": _text(r["mbedtls"]),
        "version": _text(hs["version"]), "ciphersuite": _text(hs["ciphersuite"]),
        "group": _text(hs["group"]), "sigalg": _text(hs["sigalg"]),
        "proof": _text(hs.get("proof")), "proof_reply": _text(hs.get("proof_reply")),
        **_server_view(prof),
        "searched": sum(1 for s in r["search"] if s["phase"] == "search"),
        "chosen": r["chosen"],
        "baseline_failed": _text(base_hs.get("error")) if base and not base_hs.get("ok") else "",
        "figures": [{"name": k, "fitted": _figure(k, r.get(k)), "default": _figure(k, base.get(k)),
                     "ratio": _text(ratios.get(k))} for k in FIGURES],
        "minimal": "yes" if r["minimal"] else "no",
        "candidates_tried": r["candidates_tried"],
        "ablation": [{"option": a["option"], "result": a["result"],
                      "flash": _signed(a.get("rom_cost_bytes")),
                      "heap": _signed(a.get("heap_cost_bytes")),
                      "why": _text(a.get("why"))} for a in r["ablation"]],
        "content_lengths": [{"option": c["option"], "value": c["value"],
                             "result": "verified" if c["ok"] else _text(c.get("error") or "failed"),
                             "heap": _bytes(c.get("heap_peak_bytes"))}
                            for c in r.get("content_lengths") or []],
        "pareto": [{"label": p["label"], "rom": _bytes(p["rom_bytes"]),
                    "heap": _bytes(p["heap_peak_bytes"]),
                    "instructions": _count(p["handshake_instructions"])} for p in r["pareto"]],
        "modules": [{"name": m["name"], "library": m["library"], "rom": _bytes(m["rom_bytes"])}
                    for m in (r.get("modules") or [])[:6]],
    }


def render_md(r, prof):
    """report.md for report.json `r` and the Profile it was fitted to."""
    return environment().get_template(REPORT_TEMPLATE).render(v=md_view(r, prof))


def summary_lines(r):
    hs, ratios = r["handshake"], r.get("ratios") or {}
    return "\n".join([
        f"tlsfit fit: {r['server']} on {r['target']} ({r['objective']}): {hs['version']} "
        f"{hs['ciphersuite']} {hs['group'] or ''}, verified (proof {hs.get('proof')}: "
        f"{hs.get('proof_reply')})",
        f"  ROM {_kib(r['rom_bytes'])} (mbedTLS {_kib(r['rom_tls_bytes'])}), heap peak "
        f"{_kib(r['heap_peak_bytes'])}, stack {_kib(r['stack_peak_bytes'])}, "
        f"{r['handshake_instructions']:,} instructions",
        f"  vs mbedTLS default: ROM x{ratios.get('rom_bytes')}, heap x{ratios.get('heap_peak_bytes')}, "
        f"instructions x{ratios.get('handshake_instructions')}"
        + ("" if ((r.get("baseline") or {}).get("handshake") or {}).get("ok") else
           f" (the default failed: {((r.get('baseline') or {}).get('handshake') or {}).get('error')})"),
        f"  1-minimal: {'yes' if r['minimal'] else 'no'}; {r['candidates_tried']} headers measured; "
        f"{r['phases_s']['total']} s",
        f"  wrote {Path(r['config_path']).parent}/tls_config.h, report.md, report.json"])
