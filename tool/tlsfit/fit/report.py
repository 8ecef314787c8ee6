"""The fit report: report.json (build_report) and report.md (render_md, through
templates/report.md.j2), and the summary `tlsfit fit` prints.

report.md is rendered from a view in which every field is already text: figures in
KiB beside the exact bytes, "-" where a figure is unknown, so neither a Python repr
nor None reaches what a firmware engineer pastes into a pull request.
"""
import os
import time
from pathlib import Path

from .. import __version__
from ..header import refit
from ..header.render import environment
from ..mbedtls.tree import identity, resolve_tree
from ..target import heapfloor
from ..core import resumption
from . import floor as floor_mod, resume as fit_resume
from .artifacts import build_facts, profile_files
from .objective import FIGURES, joint_figures, pareto

REPORT_TEMPLATE = "report.md.j2"
# report.json's schema: 2 added schema_version, tlsfit_version, mbedtls_tree, build,
# date, profiles, gen_options, and made every path relative to --out (issue 17).
SCHEMA_VERSION = 2
# Keys whose values differ between two fits of the same server by design.
# What differs between two fits of the same server by design: the date, the times, the
# instruction counts, and whether a result was the stored one of the identical image.
VOLATILE = ("date", "phases_s", "timings", "elapsed_ms", "handshake_instructions",
            "instructions_cost", "from_cache", "cached_result")


BASE_HANDSHAKE = ("ok", "version", "ciphersuite", "group", "error", "proof", "proof_reply", "alert")


def _handshake_of(measurement, chosen):
    hs = measurement.handshake
    out = {k: getattr(hs, k) for k in ("ok", "version", "ciphersuite", "group", "error")}
    out["sigalg"] = chosen[0].sigalg if chosen else None
    out.update(proof=hs.proof, proof_reply=hs.proof_reply, alert=hs.alert)
    return out


def _handshake(trial):
    return _handshake_of(trial.measurement, trial.plan.chosen)


def rel(path, out):
    """A path as report.json gives it: relative to the fit's --out directory for what
    the fit wrote there; a file outside it (a --ca the user named) as given."""
    p, o = Path(path).resolve(), Path(out).resolve()
    return os.path.relpath(p, o) if p.is_relative_to(o) else str(path)


def _trial_floor(t, profiles):
    """The heap floor (JSON) of one trial's measurements, or None."""
    return floor_mod.heap_floor(t.measurements, profiles) if t.ok else None


def _floor_bytes(f):
    return f["heap_floor_bytes"] if f else None


def _row(t, out, profiles=()):
    return {"label": t.label, "config": rel(t.config, out), **t.figures(),
            "heap_floor_bytes": _floor_bytes(_trial_floor(t, profiles))}


def _ratio(a, b):
    return None if a is None or not b else round(a / b, 3)


def _baseline(base):
    return {"handshake": {k: getattr(base.handshake, k) for k in BASE_HANDSHAKE},
            **base.figures(), "dtls": dtls_wire(base)}


# A DTLS session's wire facts in report.json's "dtls" (target/dgramrelay.py): the round
# trips to the server's Finished, the cookie exchange, the datagrams each way.
DTLS_WIRE = ("round_trips", "hello_verify_requests", "datagrams_to_server",
             "datagrams_from_server", "largest_record", "largest_datagram_from_server")


def dtls_wire(measurement):
    """The DTLS_WIRE facts of a measurement over DTLS, else None."""
    wire = measurement.get("wire") if measurement is not None else None
    if not wire or wire.get("transport") != "udp":
        return None
    return {k: wire.get(k) for k in DTLS_WIRE}


def _server_entry(site, measurement, chosen, alone, out, sizes=()):
    """servers[i]: one server's handshake with the final header, its figures and the
    default's against it, its heap floor, and (several servers) the header gen makes for
    it alone."""
    base = measurement.baseline
    floor = floor_mod.heap_floor([measurement], [site.profile], sizes)
    return {"index": site.index, "server": f"{site.host}:{site.port}", "sni": site.sni,
            "ca": None if site.ca is None else rel(site.ca, out),
            "chosen": [c.label() for c in chosen],
            "handshake": _handshake_of(measurement, chosen), **measurement.figures(),
            "heap_floor_bytes": _floor_bytes(floor), "heap_floor": floor,
            "baseline": _baseline(base) if base else None,
            "ratios": dict(measurement.ratios) if measurement.ratios else None,
            "alone": None if alone is None else {
                "label": alone.label, "config": rel(alone.config, out), "ok": alone.ok,
                "error": alone.error, "chosen": [c.label() for c in alone.plan.chosen],
                "handshake": _handshake(alone) if alone.measurement else None,
                **alone.figures()}}


def _joint(final, alone):
    """What serving every server with one header cost: its mbedTLS flash beside each
    server's own header (sum and largest) and the difference to the largest."""
    mine = final.figures().get("rom_tls_bytes")
    each = [a.figures().get("rom_tls_bytes") if a.ok else None for a in alone]
    known = [x for x in each if x is not None]
    top = max(known) if len(known) == len(each) else None
    return {"rom_tls_bytes": mine, "alone_rom_tls_bytes": each,
            "alone_sum_rom_tls_bytes": sum(known) if top is not None else None,
            "alone_max_rom_tls_bytes": top,
            "extra_servers_rom_tls_bytes": None if top is None or mine is None else mine - top,
            "ratio_to_max": _ratio(mine, top)}


def build_report(fitter, final, minimal, host, port, phases, alone=None):
    """report.json.  The top-level server and handshake are the first server's; the
    figures, baseline and ratios are over every server (one server: its own)."""
    tree = resolve_tree(line=fitter.opts.line)
    profiles = [s.profile for s in fitter.sites]
    heap = floor_mod.heap_floor(final.measurements, profiles, fitter.sizes)
    rom = floor_mod.rom_floor(final.figures().get("rom_tls_bytes"), fitter.ablation,
                              final.measurement.modules)
    r = {"schema_version": SCHEMA_VERSION, "tlsfit_version": __version__,
         "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
         "server": f"{host}:{port}", "target": fitter.opts.target,
         "objective": fitter.opts.objective, "policy": fitter.opts.policy,
         "mbedtls": final.measurement.mbedtls,
         "mbedtls_tree": {k: v for k, v in identity(tree).items() if k != "path"},
         "build": build_facts(fitter.opts.target),
         "handshake": _handshake(final),
         **final.figures(), "modules": list(final.measurement.modules),
         "heap_floor_bytes": _floor_bytes(heap), "heap_floor": heap,
         "rom_floor_bytes": rom["rom_floor_bytes"] if rom else None, "rom_floor": rom,
         "baseline": None, "ratios": None, "minimal": minimal,
         "candidates_tried": len(fitter.trials),
         "pareto": [_row(t, fitter.out, profiles) for t in pareto(
             [t for t in fitter.trials if t.ok and t.figures()["handshake_instructions"]],
             lambda t: t.figures())],
         "config_path": "tls_config.h",
         "profiles": [rel(p, fitter.out) for p in profile_files(fitter.out, len(fitter.sites))],
         "gen_options": refit.choices(final.gen_opts, final.overrides),
         "anchor": anchor_facts(final.plan),
         "rng": final.plan.facts.get("rng"),
         "chosen": final.plan.chosen[0].label(),
         "options": {k: v for k, v in final.plan.options.items()},
         "values": {k: v[0] for k, v in final.plan.values.items()},
         "removed": list(final.overrides.exclude),
         "ablation": fitter.ablation,
         "content_lengths": fitter.sizes,
         "search": [{"label": t.label, "phase": t.phase, "ok": t.ok, "error": t.error,
                     "group": t.measurement.handshake.group if t.measurement else None,
                     "from_cache": any(m is not None and m.get("cached_result") is not None
                                       for m in t.measurements),
                     **t.figures(),
                     "heap_floor_bytes": _floor_bytes(_trial_floor(t, profiles))}
                    for t in fitter.trials],
         "phases_s": phases,
         "resumption": resumption.normalized(final.measurement.get("resumption"))
         if fitter.opts.resume else None,
         "reconnects": final.reconnects or None,
         "dtls": dtls_wire(final.measurement)}
    several = len(fitter.sites) > 1
    r["servers"] = [_server_entry(s, m, site_chosen(final.plan, i if several else None),
                                  alone[i] if alone else None, fitter.out, fitter.sizes)
                    for i, (s, m) in enumerate(zip(fitter.sites, final.measurements))]
    r["joint"] = _joint(final, alone) if alone else None
    bases = [m.baseline for m in final.measurements]
    if not all(bases):
        return r
    if not several:
        r["baseline"] = _baseline(bases[0])
        r["ratios"] = dict(final.measurement.ratios) if final.measurement.ratios else None
        return r
    r["baseline"] = {"handshake": _baseline(bases[0])["handshake"], **joint_figures(bases)}
    r["ratios"] = {k: _ratio(r.get(k), r["baseline"].get(k)) for k in FIGURES}
    return r


def anchor_facts(plan):
    """report.json "anchor" (fit --anchor CERT): CERT, what the device no longer
    verifies and the trade-off in security terms; None without an anchor below a root."""
    a = plan.facts.get("anchoring")
    if not a and not plan.facts.get("anchor_note"):
        return None
    out = dict(a or {}, trade_off=list(plan.facts.get("anchor_note") or ()))
    if a:
        out["file"] = refit.ANCHOR_FILE          # the fit's copy; paths are relative to DIR
    return out


def site_chosen(plan, index):
    """The candidates the plan chose for server `index` (0-based): all of plan.chosen
    for a one-server plan."""
    if len(plan.servers) <= 1 or index is None:
        return list(plan.chosen)
    labels = plan.servers[index]["chosen"]
    return [c for c in plan.chosen if c.label() in labels]


def comparable(r):
    """report.json without what differs between two fits of the same server by design
    (VOLATILE), for comparing re-runs."""
    if isinstance(r, dict):
        return {k: comparable(v) for k, v in r.items() if k not in VOLATILE}
    if isinstance(r, list):
        return [comparable(v) for v in r]
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


def _servers_view(r):
    """The per-server rows of report.md (several servers)."""
    rows = []
    for s in r["servers"]:
        hs, alone = s["handshake"], s.get("alone") or {}
        base_hs = (s.get("baseline") or {}).get("handshake") or {}
        rows.append({
            "who": f"server {s['index']} ({s['server']})",
            "handshake": " ".join(_text(hs.get(k)) for k in ("version", "ciphersuite", "group")),
            "proof": f"{_text(hs.get('proof'))}: {_text(hs.get('proof_reply'))}",
            "heap": _bytes(s.get("heap_peak_bytes")),
            "instructions": _count(s.get("handshake_instructions")),
            "default": "verified" if base_hs.get("ok") else f"failed: {_text(base_hs.get('error'))}",
            "alone": (f"{_bytes(alone.get('rom_tls_bytes'))}" if alone.get("ok") else
                      f"failed: {_text(alone.get('error'))}") if alone else "-"})
    return rows


def _joint_text(j):
    if not j:
        return ""
    each = ", ".join(_bytes(x) for x in j["alone_rom_tls_bytes"])
    return (f"mbedTLS's share of the joint header: {_bytes(j['rom_tls_bytes'])}; of each "
            f"server's own header: {each} (sum {_bytes(j['alone_sum_rom_tls_bytes'])}, largest "
            f"{_bytes(j['alone_max_rom_tls_bytes'])}). Serving the other servers too cost "
            f"{_signed(j['extra_servers_rom_tls_bytes'])} over the largest single-server header "
            f"(joint / largest {_text(j['ratio_to_max'])}).")


def md_view(r, prof):
    """report.json and the Profile(s) it was fitted to (one, or one per server) as the
    template's all-text view."""
    profs = list(prof) if isinstance(prof, (list, tuple)) else [prof]
    servers = r.get("servers") or [{"index": 1, "server": r["server"]}]
    hs, base = r["handshake"], r["baseline"] or {}
    base_hs = base.get("handshake") or {}
    ratios = r.get("ratios") or {}
    return {
        "server": r["server"], "target": r["target"], "objective": r["objective"],
        "policy": r["policy"], "mbedtls": _text(r["mbedtls"]),
        "version": _text(hs["version"]), "ciphersuite": _text(hs["ciphersuite"]),
        "group": _text(hs["group"]), "sigalg": _text(hs["sigalg"]),
        "proof": _text(hs.get("proof")), "proof_reply": _text(hs.get("proof_reply")),
        **_server_view(profs[0]),
        "several": len(profs) > 1,
        "title": " + ".join(s["server"] for s in servers),
        "facts": [{"who": f"server {s['index']} ({s['server']})", **_server_view(p)}
                  for s, p in zip(servers, profs)],
        "servers": _servers_view(r) if len(profs) > 1 else [],
        "joint": _joint_text(r.get("joint")),
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
                    "floor": _times(p.get("heap_peak_bytes"), p.get("heap_floor_bytes")),
                    "instructions": _count(p["handshake_instructions"])} for p in r["pareto"]],
        "modules": [{"name": m["name"], "library": m["library"], "rom": _bytes(m["rom_bytes"])}
                    for m in (r.get("modules") or [])[:6]],
        **_floor_view(r),
        **_repro_view(r),
        "anchor_note": list((r.get("anchor") or {}).get("trade_off") or ()),
        "rng": rng_text(r.get("rng")),
        "resumption": resumption.markdown_rows(r.get("resumption")),
        "objective_mix": fit_resume.mix_text(r["reconnects"]) if r.get("reconnects") else "",
    }


def rng_text(rng):
    """The report's sentence on gen --external-rng ("" when it is off)."""
    if not rng:
        return ""
    how = ("PSA Crypto takes every random byte from the application's "
           "`mbedtls_psa_external_get_random()` (`MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG`)"
           if rng["via"] == "psa" else
           "the application gives TLS its own `f_rng` through `mbedtls_ssl_conf_rng()` "
           "(no PSA Crypto)")
    return (f"--external-rng is on: no entropy module and no DRBG; {how}, which must read a "
            "cryptographically secure TRNG and fail rather than fall back (tls_config.h's "
            "preamble has the signature). Measured with tlsfit's test-only generator: QEMU's "
            "boards have no TRNG.")


def _times(peak, floor):
    """"1.21x" the peak over its floor; "-" when either is unknown."""
    return "-" if not peak or not floor else f"{peak / floor:.2f}x"


def _floor_view(r):
    """The heap and flash floors as text: one line each, the floor's parts and what is
    above it (part, bytes, why) of the server with the largest peak."""
    f = r.get("heap_floor")

    def parts(key):
        return [{"name": p["name"], "bytes": f"{p['bytes']:,} B", "why": p["why"]}
                for p in (f or {}).get(key) or () if p["bytes"]]
    groups = (f or {}).get("groups") or {}
    return {"heap_floor": heapfloor.floor_line(f) if f else "",
            "floor_parts": parts("floor"), "above_floor": parts("above"),
            "heap_groups": ", ".join(f"{heapfloor.GROUP_LABELS[g]} {n:,} B"
                                     for g, n in groups.items() if n),
            "rom_floor": floor_mod.rom_line(r.get("rom_floor")) if r.get("rom_floor") else ""}


def _repro_view(r):
    """What report.md says about reproducing the files (all text; "-" when a report
    from before schema 2 lacks it)."""
    t, b = r.get("mbedtls_tree") or {}, r.get("build") or {}
    return {"tlsfit_version": _text(r.get("tlsfit_version")),
            "schema_version": _text(r.get("schema_version")), "date": _text(r.get("date")),
            "tree": (f"mbedTLS {t['version']} (line {t['line']}), sources sha256 {t['sha256']}"
                     if t else "-"),
            "compiler": _text(b.get("compiler")), "flags": " ".join(b.get("flags") or []) or "-",
            "profiles": ", ".join(r.get("profiles") or []) or "-",
            "regenerate": " ".join(["tlsfit gen", *(f"DIR/{p}" for p in r.get("profiles") or []),
                                    "--mbedtls", _text(t.get("line")), "--policy",
                                    _text(r.get("policy")), *_anchor_arg(r),
                                    "--fit-report DIR/report.json"])}


def _anchor_arg(r):
    a = (r.get("gen_options") or {}).get("anchor")
    return [f"--anchor DIR/{a['file']}"] if a else []


def render_md(r, prof):
    """report.md for report.json `r` and the Profile (or Profiles, one per server) it was
    fitted to."""
    return environment().get_template(REPORT_TEMPLATE).render(v=md_view(r, prof))


def _several_lines(r):
    """The summary's first lines for a fit to several servers: each server's handshake,
    then what serving them all cost beside each one's own header."""
    out = [f"tlsfit fit: one header for {len(r['servers'])} servers on {r['target']} "
           f"({r['objective']}), verified with every one:"]
    for s in r["servers"]:
        hs = s["handshake"]
        out.append(f"  server {s['index']} ({s['server']}): {hs['version']} {hs['ciphersuite']} "
                   f"{hs['group'] or ''} (proof {hs.get('proof')}: {hs.get('proof_reply')})")
    j = r.get("joint") or {}
    if j:
        out.append(f"  mbedTLS flash: joint {_kib(j['rom_tls_bytes'])}; each server's own header "
                   + ", ".join(_kib(x) for x in j["alone_rom_tls_bytes"])
                   + f"; the other servers cost {_signed(j['extra_servers_rom_tls_bytes'])} "
                     "over the largest")
    return out


def _anchor_lines(r):
    a = r.get("anchor") or {}
    if not a.get("subject"):
        return []
    above = ", ".join(f'"{x}"' for x in a.get("not_verified") or ()) or "nothing"
    return [f'  trust anchor: "{a["subject"]}" (--anchor {a.get("file")}); not verified on '
            f"the device: {above} (the trade-off: report.md)"]


def _dtls_lines(r):
    """DTLS: the round trips (cookie exchange) of the fitted header and the default."""
    d = r.get("dtls")
    if not d:
        return []
    base = (r.get("baseline") or {}).get("dtls") or {}
    return [f"  DTLS over UDP: {d['round_trips']} round trips to the server's Finished "
            f"({d['hello_verify_requests']} HelloVerifyRequest), {d['datagrams_to_server']} "
            f"datagrams sent" + (f"; the default: {base['round_trips']} round trips, "
                                 f"{base['datagrams_to_server']} datagrams sent" if base else "")]


def dtls_md_line(r):
    """report.md's DTLS line (the summary's, unindented)."""
    return _dtls_lines(r)[0].strip() + "."


def summary_lines(r, out="fit"):
    hs, ratios = r["handshake"], r.get("ratios") or {}
    first = _several_lines(r) if len(r.get("servers") or []) > 1 else [
        f"tlsfit fit: {r['server']} on {r['target']} ({r['objective']}): {hs['version']} "
        f"{hs['ciphersuite']} {hs['group'] or ''}, verified (proof {hs.get('proof')}: "
        f"{hs.get('proof_reply')})"]
    return "\n".join(first + [
        f"  ROM {_kib(r['rom_bytes'])} (mbedTLS {_kib(r['rom_tls_bytes'])}), heap peak "
        f"{_kib(r['heap_peak_bytes'])}, stack {_kib(r['stack_peak_bytes'])}, "
        f"{r['handshake_instructions']:,} instructions",
        f"  vs mbedTLS default: ROM x{ratios.get('rom_bytes')}, heap x{ratios.get('heap_peak_bytes')}, "
        f"instructions x{ratios.get('handshake_instructions')}"
        + ("" if ((r.get("baseline") or {}).get("handshake") or {}).get("ok") else
           f" (the default failed: {((r.get('baseline') or {}).get('handshake') or {}).get('error')})"),
        *_dtls_lines(r),
        "  heap " + (heapfloor.floor_line(r["heap_floor"]) if r.get("heap_floor")
                     else "floor: unknown"),
        f"  {floor_mod.rom_line(r.get('rom_floor'))}",
        *([f"  --external-rng: on, no entropy module or DRBG; the application's "
            f"{'mbedtls_psa_external_get_random()' if r['rng']['via'] == 'psa' else 'f_rng'} "
            "reads the TRNG (tls_config.h says how); measured with the test-only generator"]
          if r.get("rng") else []),
        f"  1-minimal: {'yes' if r['minimal'] else 'no'}; {r['candidates_tried']} headers measured"
        f"{_cached_note(r)}; {r['phases_s']['total']} s", *_anchor_lines(r),
        f"  wrote {out}/" + ", ".join(r.get("config_files") or ["tls_config.h"]) + ", "
        + ", ".join(r.get("profiles") or [])
        + ", report.md, report.json"
        + (f", {r['anchor']['file']}" if (r.get("anchor") or {}).get("file") else "")])


def _cached_note(r):
    """" (N of them: the stored result of the identical image)" when the search reused any."""
    n = sum(1 for row in r.get("search", ()) if row.get("from_cache"))
    return f" ({n} of them: the stored result of the identical image)" if n else ""
