"""bench/results/index.html: every results file of a directory drawn as one static
page (templates/dashboard.html.j2; inline SVG, no script, no network).

Per (profile, target): a chart per figure (ROM, peak heap, static RAM, handshake
instructions) over the commits, fitted and default as two lines, and the ROM ratio
fitted / default over the commits; the latest commit's per-module ROM in a
<details> drill-down; then the regression table (the latest commit against the one
before it, gate.compare).  Charts start their y axis at 0: a fitted header at a
fifth of the default's flash should look like a fifth.
"""
from dataclasses import dataclass
from pathlib import Path

import jinja2

from ..core import paths
from ..header.render import TEMPLATES
from . import gate
from .results import CellKey, key_of, load_dir

TEMPLATE = "dashboard.html.j2"
CHARTS = (("rom_bytes", "ROM", "B"), ("heap_peak_bytes", "peak heap", "B"),
          ("ram_static_bytes", "static RAM", "B"),
          ("handshake_instructions", "handshake instructions", ""))
RATIO = ("rom_bytes", "ROM fitted / default", "")
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 320, 150, 64, 28, 16, 28


@dataclass(frozen=True)
class Series:
    name: str            # "fitted", "default", "ratio"
    points: tuple        # ((x, y, value, commit), ...) in pixels
    path: str            # "x,y x,y ..." for <polyline>


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    return f"{v:,}"


def _xs(n):
    span = WIDTH - LEFT - RIGHT
    return [LEFT + (span * i / (n - 1) if n > 1 else span / 2) for i in range(n)]


def chart(figure, title, unit, commits, values_by_series):
    """One chart's geometry: values_by_series {name: [value or None per commit]}."""
    known = [v for vs in values_by_series.values() for v in vs if v is not None]
    top = max(known) * 1.1 if known and max(known) > 0 else 1
    xs = _xs(len(commits))
    span = HEIGHT - TOP - BOTTOM

    def y(v):
        return TOP + span * (1 - v / top)
    series = []
    for name, values in values_by_series.items():
        pts = tuple((round(xs[i], 1), round(y(v), 1), _fmt(v), commits[i])
                    for i, v in enumerate(values) if v is not None)
        series.append(Series(name, pts, " ".join(f"{x},{yy}" for x, yy, _, _ in pts)))
    return {"figure": figure, "title": title, "unit": unit, "series": series,
            "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT,
            "top": TOP, "bottom": HEIGHT - BOTTOM, "max_label": _fmt(int(top)) if top >= 10
            else f"{top:.2f}",
            "ticks": [(round(xs[i], 1), c[:7]) for i, c in enumerate(commits)]}


def _ratio(a, b):
    return None if a is None or not b else round(a / b, 3)


def _cell_view(profile, target, docs, commits):
    by_commit = [{key_of(c): c for c in d["cells"]} for d in docs]

    def values(variant, figure):
        k = CellKey(profile, target, variant)
        return [(m.get(k) or {}).get(figure) if (m.get(k) or {}).get("ok") else None
                for m in by_commit]
    charts = [chart(f, t, u, commits, {"fitted": values("fitted", f),
                                       "default": values("default", f)})
              for f, t, u in CHARTS]
    rf, rd = values("fitted", RATIO[0]), values("default", RATIO[0])
    charts.append(chart("rom_ratio", RATIO[1], RATIO[2], commits,
                        {"ratio": [_ratio(a, b) for a, b in zip(rf, rd)]}))
    latest = by_commit[-1]
    fitted = latest.get(CellKey(profile, target, "fitted")) or {}
    default = latest.get(CellKey(profile, target, "default")) or {}
    fm, dm = fitted.get("modules") or {}, default.get("modules") or {}
    modules = [{"name": n, "fitted": _fmt(fm.get(n)), "default": _fmt(dm.get(n))}
               for n in sorted(set(fm) | set(dm), key=lambda n: -(fm.get(n) or dm.get(n) or 0))]
    ratios = [{"figure": f, "fitted": _fmt(fitted.get(f)), "default": _fmt(default.get(f)),
               "ratio": _fmt(_ratio(fitted.get(f), default.get(f)))}
              for f in gate.FIGURES]
    status = [{"variant": v, "ok": bool(c.get("ok")), "error": c.get("error") or "",
               "elapsed": _fmt(c.get("elapsed_s"))}
              for v, c in (("fitted", fitted), ("default", default)) if c]
    return {"profile": profile, "target": target, "charts": charts, "modules": modules,
            "ratios": ratios, "status": status}


def _regressions(docs, tolerance):
    if len(docs) < 2:
        return None, []
    c = gate.compare(docs[-2], docs[-1], tolerance)
    rows = [{"profile": r.key.profile, "target": r.key.target, "variant": r.key.variant,
             "what": r.what, "baseline": _fmt(r.baseline), "current": _fmt(r.current),
             "change": gate.change_text(r), "status": r.status}
            for r in c.rows if r.status in ("regression", "failed", "grew")]
    return gate.verdict(c), rows


def view(docs, tolerance=1.0):
    commits = [d["commit"] for d in docs]
    pairs = sorted({(c["profile"], c["target"]) for d in docs for c in d["cells"]})
    verdict, regressions = _regressions(docs, tolerance)
    return {"commits": [{"commit": d["commit"], "date": d.get("commit_date") or "",
                         "run_at": d.get("run_at") or "", "mbedtls": d.get("mbedtls") or "",
                         "compiler": d.get("compiler") or "", "tlsfit": d.get("tlsfit") or "",
                         "cells": len(d["cells"])} for d in docs],
            "cells": [_cell_view(p, t, docs, commits) for p, t in pairs],
            "latest": commits[-1] if commits else None,
            "previous": commits[-2] if len(commits) > 1 else None,
            "verdict": verdict, "regressions": regressions, "tolerance": tolerance}


def render(docs, tolerance=1.0):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             undefined=jinja2.StrictUndefined, autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    return env.get_template(TEMPLATE).render(v=view(docs, tolerance))


def rebuild(results_dir, tolerance=1.0):
    """Writes results_dir/index.html from every results file in it; returns its path."""
    out = Path(results_dir) / "index.html"
    paths.write_atomic(out, render(load_dir(results_dir), tolerance))
    return out
