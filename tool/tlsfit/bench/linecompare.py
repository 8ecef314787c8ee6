"""mbedTLS 4.0 beside 3.6: the records, the side-by-side table and the objects that grew
(bench/mbed4_bench.py runs the fits; everything here is pure).

    Variant(lto, external_rng, ecc)        one fitted variant of the matrix
    cell_record(server, target, line, v, report, error, wall_s) -> one fit's record
    cell_file(server, target, line, v)     its file name under DIR/cells/
    document(cells, order)                 -> {"rows": [...], "growth": [...]} (JSON)
    module_growth(mods36, mods40, top)     -> per object, 3.6 vs 4.x flash, largest change first
    render(doc)                            -> the table as text

The per-object comparison matches 3.6's library/*.o to 4.x's object of the same name,
in library/ (TLS, X.509: libmbedtls.a, libmbedx509.a) or tf-psa-crypto/ (everything
crypto: libtfpsacrypto.a).  4.0 split one 3.6 object in two: OID_SPLIT.
"""
from dataclasses import dataclass

LINES = ("3.6", "4.0")
ECC_FORMS = ("auto", "p256m", "builtin")
FIGS = ("rom_bytes", "rom_tls_bytes", "ram_static_bytes", "heap_peak_bytes",
        "handshake_instructions")
# 4.x objects that hold part of a 3.6 object, compared against it: Mbed TLS 4.0 moved
# X.509's OID tables out of oid.c into library/x509_oid.c (its "\file x509_oid.c"
# header; ChangeLog 4.0.0: <mbedtls/oid.h> keeps only the conversion functions), and
# TF-PSA-Crypto's oid.c keeps the rest.
OID_SPLIT = {"x509_oid.o": "oid.o"}
# Published figures the table is quoted beside, as issue 26 quotes them (the wolfNanoTLS
# wiki: both Cortex-M33 -Os -flto; wolfSSL's figure is given in KB, kept as given).
ANCHORS = (("wolfNanoTLS TLS 1.3 client, Cortex-M33 -Os -flto", "54,280 B"),
           ("hard-minimised Mbed TLS 4.1 TLS 1.3 P-256 client, Cortex-M33 -Os -flto",
            "70,832 B"),
           ("wolfSSL --enable-tinytls13", "61.3 KB"))
BEST_36 = 44261       # issue 26: 3.6's best all-P-256 TLS 1.3 mbedTLS share, -Os, --external-rng


@dataclass(frozen=True)
class Variant:
    lto: bool = True
    external_rng: bool = True
    ecc: str = "auto"

    def label(self):
        """"fitted", then the flags: "+rng" (--external-rng), "p256m"/"builtin"."""
        return " ".join(["fitted"] + (["+rng"] if self.external_rng else []) +
                        ([self.ecc] if self.ecc != "auto" else []))

    def key(self):
        return (f"{'lto' if self.lto else 'os'}-{'rng' if self.external_rng else 'drbg'}-"
                f"{self.ecc}")

    @classmethod
    def of(cls, d):
        return cls(bool(d["lto"]), bool(d["external_rng"]), d["ecc"])


def cell_file(server, target, line, v):
    return f"{server}.{target}.{line}.{v.key()}.json"


def _figs(d):
    return {k: (d or {}).get(k) for k in FIGS}


def ecc_used(modules):
    """"p256m" (p256-m linked), "builtin" (ecp.o linked) or None (no ECC), by the image."""
    names = {m["name"] for m in modules or ()}
    return "p256m" if "p256-m.o" in names else "builtin" if "ecp.o" in names else None


def cell_record(server, target, line, v, rep, error, wall_s):
    """The record of one fit (report.json `rep`, or None and the error that stopped it)."""
    rec = {"server": server, "target": target, "line": line,
           "variant": {"lto": v.lto, "external_rng": v.external_rng, "ecc": v.ecc},
           "ok": False, "error": error, "fit_wall_s": wall_s, "mbedtls": None,
           "fitted": None, "fitted_lto": None, "default": None, "modules": [], "ecc": None}
    if rep is None:
        return rec
    hs = rep.get("handshake") or {}
    rec.update(ok=bool(hs.get("ok")), mbedtls=rep.get("mbedtls"), chosen=rep.get("chosen"),
               suite=hs.get("ciphersuite"), group=hs.get("group"),
               fitted=_figs(rep), ecc=ecc_used(rep.get("modules")),
               modules=[{"name": m["name"], "library": m["library"],
                         "rom_bytes": m["rom_bytes"]} for m in rep.get("modules") or ()],
               candidates_tried=rep.get("candidates_tried"), phases_s=rep.get("phases_s"))
    if not rec["ok"]:
        rec["error"] = rec["error"] or hs.get("error") or "the fitted handshake failed"
    base = rep.get("baseline")
    if base:
        bhs = base.get("handshake") or {}
        rec["default"] = {**_figs(base), "ok": bool(bhs.get("ok")), "error": bhs.get("error")}
    lto = rep.get("lto")
    if lto:
        rec["fitted_lto"] = {**_figs(lto), "ok": bool(lto.get("ok")),
                             "error": "; ".join(lto.get("failures") or ()) or None}
    return rec


# ------------------------------------------------------------------ objects

def where(library):
    """The 4.x tree directory an archive's objects come from."""
    return "tf-psa-crypto" if library == "libtfpsacrypto.a" else "library"


def module_growth(mods36, mods40, top=None):
    """Per object, 3.6's flash against 4.x's, largest growth first:
    [{"object", "where_40", "rom_36", "rom_40", "change"}].  Objects are matched by name;
    a 4.x object in OID_SPLIT counts toward the 3.6 object it came from; one on a single
    side has 0 on the other."""
    rows = {}
    for m in mods36:
        r = rows.setdefault(m["name"], {"object": m["name"], "where_40": None,
                                        "rom_36": 0, "rom_40": 0})
        r["rom_36"] += m["rom_bytes"]
    for m in mods40:
        name = OID_SPLIT.get(m["name"], m["name"])
        r = rows.setdefault(name, {"object": name, "where_40": None, "rom_36": 0, "rom_40": 0})
        r["rom_40"] += m["rom_bytes"]
        here = where(m["library"])
        r["where_40"] = here if r["where_40"] in (None, here) else "library + tf-psa-crypto"
        if name != m["name"]:
            r["object"] = f"{name} (4.x: + {m['name']})"
    out = [{**r, "change": r["rom_40"] - r["rom_36"]} for r in rows.values()
           if r["rom_40"] != r["rom_36"]]
    out.sort(key=lambda r: (-r["change"], r["object"]))
    return out[:top] if top else out


# ------------------------------------------------------------------ the document

def _ratio(a, b):
    return None if a is None or not b else round(a / b, 3)


def _pair_figs(c36, c40, part):
    a, b = (c36 or {}).get(part), (c40 or {}).get(part)
    out = {}
    for k in FIGS:
        x, y = (a or {}).get(k), (b or {}).get(k)
        # heap and instructions only from handshakes that completed
        dyn = k in ("heap_peak_bytes", "handshake_instructions")
        if dyn and not ((a or {}).get("ok", True) and (b or {}).get("ok", True)):
            out[k] = {"3.6": x, "4.0": y, "ratio": None}
            continue
        out[k] = {"3.6": x, "4.0": y, "ratio": _ratio(y, x)}
    return out


def document(cells, order=()):
    """Rows pairing each (server, target, variant)'s 3.6 and 4.0 cells, in `order` of
    servers, and the object growth wherever 4.0's mbedTLS share at -Os is the larger."""
    by = {}
    for c in cells:
        v = Variant.of(c["variant"])
        by.setdefault((c["server"], c["target"], v), {})[c["line"]] = c
    rank = {s: i for i, s in enumerate(order)}
    keys = sorted(by, key=lambda k: (rank.get(k[0], len(rank)), k[0], k[1],
                                     k[2].ecc != "auto", not k[2].external_rng, k[2].ecc))
    rows, growth = [], []
    for server, target, v in keys:
        pair = by[(server, target, v)]
        c36, c40 = pair.get("3.6"), pair.get("4.0")
        row = {"server": server, "target": target, "variant": v.label(), "lto": v.lto,
               "what": next((c.get("what") for c in (c36, c40) if c and c.get("what")), ""),
               "cells": {line: _cell_summary(c) for line, c in (("3.6", c36), ("4.0", c40))},
               "fitted": _pair_figs(c36, c40, "fitted"),
               "fitted_lto": _pair_figs(c36, c40, "fitted_lto") if v.lto else None,
               "default": _pair_figs(c36, c40, "default")}
        rows.append(row)
        a, b = (c36 or {}).get("fitted") or {}, (c40 or {}).get("fitted") or {}
        if a.get("rom_tls_bytes") and b.get("rom_tls_bytes") and \
                b["rom_tls_bytes"] > a["rom_tls_bytes"]:
            growth.append({"server": server, "target": target, "variant": v.label(),
                           "rom_tls_36": a["rom_tls_bytes"], "rom_tls_40": b["rom_tls_bytes"],
                           "change": b["rom_tls_bytes"] - a["rom_tls_bytes"],
                           "objects": module_growth(c36["modules"], c40["modules"])})
    return {"lines": list(LINES), "rows": rows, "growth": growth,
            "anchors": [{"what": w, "size": n} for w, n in ANCHORS], "best_36": BEST_36}


def _cell_summary(c):
    if c is None:
        return None
    return {"ok": c["ok"], "error": c.get("error"), "mbedtls": c.get("mbedtls"),
            "suite": c.get("suite"), "group": c.get("group"), "ecc": c.get("ecc"),
            "fit_wall_s": c.get("fit_wall_s"),
            "default_error": None if (c.get("default") or {}).get("ok", True)
            else (c["default"].get("error") or "failed")}


# ------------------------------------------------------------------ the table

def _b(n):
    return "-" if n is None else f"{n:,}"


def _x(r):
    return "-" if r is None else f"{r:.3f}"


def _m(n):
    return "-" if n is None else f"{n / 1e6:.1f}M"


FIG_HEADS = (("rom_bytes", "flash", _b), ("rom_tls_bytes", "mbedTLS", _b),
             ("ram_static_bytes", "static RAM", _b), ("heap_peak_bytes", "peak heap", _b),
             ("handshake_instructions", "instructions", _m))
LABEL_W, NUM_W = 30, 8


def _head():
    top = f"{'':<{LABEL_W}}" + "".join(f" | {h:^{3 * NUM_W + 2}}" for _, h, _ in FIG_HEADS)
    sub = f"{'server / target / config':<{LABEL_W}}" + "".join(
        f" | {'3.6':>{NUM_W}} {'4.0':>{NUM_W}} {'4.0/3.6':>{NUM_W}}" for _ in FIG_HEADS)
    return [top, sub, "-" * len(sub)]


def _fig_line(label, figs):
    cells = "".join(f" | {fmt(figs[k]['3.6']):>{NUM_W}} {fmt(figs[k]['4.0']):>{NUM_W}} "
                    f"{_x(figs[k]['ratio']):>{NUM_W}}" for k, _, fmt in FIG_HEADS)
    return f"  {label:<{LABEL_W - 2}}" + cells


def _handshakes(row):
    out = []
    for line in LINES:
        c = row["cells"][line]
        if c is None:
            out.append(f"{line}: not run")
        elif not c["ok"]:
            out.append(f"{line}: FAILED ({c['error']})")
        else:
            suite = (c["suite"] or "?").replace("TLS_", "", 1).replace("_WITH_", " ")
            out.append(f"{line}: {suite} {c['group'] or ''} {c['ecc'] or 'no ECC'}, "
                       f"fit {c['fit_wall_s']} s".replace("  ", " "))
        if c is not None and c.get("default_error"):
            out[-1] += f" (its default's handshake FAILED: {c['default_error']})"
    return "; ".join(out)


def render(doc, top=6):
    """The side-by-side table, the objects that grew, and the anchors."""
    out = ["mbedTLS 4.0 beside 3.6: tlsfit fit --objective rom per line, arm-none-eabi-gcc, "
           "QEMU; bytes; ratio 4.0/3.6 ('-': not measured or a handshake failed)"]
    out += _head()
    shown = set()
    for row in doc["rows"]:
        if (row["server"],) not in shown:
            shown.add((row["server"],))
            out.append(f"{row['server']} -- {row['what']}")
        key = (row["server"], row["target"])
        if key not in shown:
            shown.add(key)
            out.append(_fig_line(f"{row['target']} default -Os", row["default"]))
        out.append(_fig_line(f"{row['target']} {row['variant']} -Os", row["fitted"]))
        if row["fitted_lto"]:
            out.append(_fig_line(f"{row['target']} {row['variant']} -flto", row["fitted_lto"]))
        out.append(f"  {'':<{LABEL_W - 2}}   {_handshakes(row)}")
    out += ["", "where 4.0's fitted mbedTLS share (-Os) is larger than 3.6's: the objects "
                "(link maps of both images; 3.6 library/*.o against 4.x library/ or tf-psa-crypto/)"]
    if not doc["growth"]:
        out.append("  nowhere")
    for g in doc["growth"]:
        objs = g["objects"]
        grew = ", ".join(f"{o['object']} {o['change']:+,}" for o in objs[:top] if o["change"] > 0)
        shrank = ", ".join(f"{o['object']} {o['change']:+,}"
                           for o in sorted(objs, key=lambda o: o["change"])[:3] if o["change"] < 0)
        out.append(f"  {g['server']} {g['target']} {g['variant']}: {g['rom_tls_36']:,} -> "
                   f"{g['rom_tls_40']:,} ({g['change']:+,}); grew: {grew or '-'}"
                   + (f"; shrank: {shrank}" if shrank else ""))
    out += ["", "published anchors (not measured here): " + "; ".join(
        f"{a['what']} {a['size']}" for a in doc["anchors"])]
    out += issue_test(doc)
    return "\n".join(out)


def issue_test(doc):
    """Issue 26's test: on the all-P-256 TLS 1.3 server, 4.0's header with p256-m and -flto
    against 3.6's best (BEST_36), per target where it was measured."""
    out = []
    for row in doc["rows"]:
        if row["server"] != "p256-tls13" or not row["fitted_lto"]:
            continue
        c = row["cells"]["4.0"]
        mine = row["fitted_lto"]["rom_tls_bytes"]["4.0"]
        if c is None or mine is None or c.get("ecc") != "p256m":
            continue
        verdict = "no larger" if mine <= BEST_36 else "LARGER"
        out.append(f"check, {row['target']} {row['variant']}: 4.0 with p256-m, -flto: "
                   f"mbedTLS share {mine:,} B, {verdict} than 3.6's best {BEST_36:,} B "
                   f"({mine - BEST_36:+,})")
    return out
