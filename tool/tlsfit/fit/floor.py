"""The floors in a fit's report: how close each header is to what the session needs.

    heap_floor(measurements, profiles) -> the heap floor (target/heapfloor.py's JSON) of
        the server whose peak is the header's peak, with the profile's largest handshake
        message (a fragmented message is reassembled whole), or None
    rom_floor(final_figures, ablation, modules) -> the flash lower bound of the 1-minimal
        header, or None

The heap floor is measured per header (target/heapfloor.py floor_of); the profile adds
what the wire cannot show: a handshake message larger than any record the server sent.

The flash floor is the 1-minimal header's mbedTLS share less what its ablation measured
could still go: every option it kept whose removal still verified (kept because the
objective got worse, e.g. a heap objective keeping a faster, larger implementation) has
a measured flash cost, and those costs are subtracted.  What is left is code no single
option of mbedTLS's can drop with the handshake still verified -- a bound in mbedTLS's
option granularity, not a physical one; the objects making it up are the image's modules.
"""
from ..target import heapfloor


def _largest_message(profile):
    return ((profile.records if profile is not None else None) or {}).get(
        "max_handshake_msg_len")


def _tried_smaller(floor, sizes):
    """The floor with, on each buffer's reason, the smaller content lengths the fit
    measured and how they failed (sizes: report["content_lengths"] rows)."""
    out = dict(floor)
    above = []
    for part in floor["above"]:
        role = part["name"].split(" ", 1)[0]
        option = {"input": "MBEDTLS_SSL_IN_CONTENT_LEN",
                  "output": "MBEDTLS_SSL_OUT_CONTENT_LEN"}.get(role)
        failed = [c for c in sizes or () if c["option"] == option and not c["ok"]]
        if option and part["name"].endswith("beyond the record") and failed:
            tried = ", ".join(f"{c['value']} ({c.get('error') or 'failed'})" for c in failed)
            part = dict(part, why=part["why"] + f"; the fit measured {option} {tried}: "
                                                 "mbedTLS needs more than the record")
        above.append(part)
    out["above"] = above
    return out


def heap_floor(measurements, profiles, sizes=()):
    """The floor (JSON) of the server with the largest peak among measurements (one per
    profile); None when no handshake completed with its heap counted.  sizes: the fit's
    content-length trials, quoted where a smaller buffer failed."""
    best = None
    for m, prof in zip(measurements, profiles):
        if m is None or not m.ok or m.heap_peak_bytes is None:
            continue
        f = heapfloor.floor_of(m, _largest_message(prof))
        if f is not None and (best is None or f.peak_bytes > best.peak_bytes):
            best = f
    return _tried_smaller(best.to_json(), sizes) if best else None


def rom_floor(rom_tls_bytes, ablation, modules=()):
    """{rom_floor_bytes, rom_tls_bytes, droppable: [{option, rom_cost_bytes}], objects}."""
    if rom_tls_bytes is None:
        return None
    droppable = [{"option": a["option"], "rom_cost_bytes": a["rom_cost_bytes"]}
                 for a in ablation or ()
                 if a.get("result") == "kept" and str(a.get("why", "")).startswith(
                     "handshake verified without it") and (a.get("rom_cost_bytes") or 0) > 0]
    floor = rom_tls_bytes - sum(d["rom_cost_bytes"] for d in droppable)
    return {"rom_floor_bytes": floor, "rom_tls_bytes": rom_tls_bytes,
            "ratio": round(rom_tls_bytes / floor, 3) if floor > 0 else None,
            "droppable": droppable,
            "objects": [{"name": m["name"], "rom_bytes": m["rom_bytes"]}
                        for m in list(modules)[:8]]}


def rom_line(f):
    """"mbedTLS flash 41,400 B = 1.00x the 1-minimal floor 41,400 B" (+ what could go)."""
    if not f:
        return "flash floor: unknown"
    line = (f"mbedTLS flash {f['rom_tls_bytes']:,} B = {f['ratio']:.2f}x the 1-minimal floor "
            f"{f['rom_floor_bytes']:,} B")
    if f["droppable"]:
        line += "; removable at a cost to the objective: " + ", ".join(
            f"{d['option']} {d['rom_cost_bytes']:,} B" for d in f["droppable"])
    return line
