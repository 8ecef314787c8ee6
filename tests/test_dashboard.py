"""The bench dashboard in a real browser: bench/results/index.html is rendered from
three commits' results files, Debian's chromium loads it headless from disk, and the
test reads the DOM chromium built (a section with its five charts per profile and
target, the lines of each chart, the regression table's rows) and saves a
screenshot in the test's tmp dir."""
import json
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from test_bench_units import MODULES, make_cell, make_doc
from tlsfit.bench import dashboard

PROFILES, TARGETS = ("openssl-ecdsa", "openssl-rsa"), ("cortex-m4", "cortex-m33")


def chromium():
    exe = shutil.which("chromium")
    if not exe:
        pytest.fail("chromium is not installed: run ./tlsfit setup", pytrace=False)
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-extensions", "--window-size=1400,2400"]


class Dom(HTMLParser):
    """Elements as (tag, attrs, ancestors' (tag, attrs)) from chromium's serialised DOM."""

    def __init__(self):
        super().__init__()
        self.stack, self.elements = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a, list(self.stack)))
        if tag not in ("meta", "br", "img", "link", "input", "hr"):     # void elements
            self.stack.append((tag, a))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), list(self.stack)))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break


def _classes(a):
    return set((a.get("class") or "").split())


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    d = tmp_path_factory.mktemp("results")
    for i, commit in enumerate(("1111111", "2222222", "3333333")):
        cells = []
        for p in PROFILES:
            for t in TARGETS:
                grow = i == 2 and p == "openssl-rsa" and t == "cortex-m33"
                mods = dict(MODULES, **{"bignum.o": 4000}) if grow else MODULES
                extra = {"rom_bytes": 56000} if grow else {}
                cells.append(make_cell(p, t, "fitted", modules=mods, **extra))
                cells.append(make_cell(p, t, "default"))
        (d / f"{commit}.json").write_text(json.dumps(make_doc(commit, f"2026-01-0{i + 1}",
                                                              cells)))
    (d / "not-results.json").write_text("[1, 2]")          # skipped, not an error
    index = dashboard.rebuild(d, tolerance=1.0)
    shot = d / "dashboard.png"
    dom = subprocess.run([*chromium(), "--dump-dom", index.as_uri()], capture_output=True,
                         text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert dom.returncode == 0, dom.stderr[-2000:]
    png = subprocess.run([*chromium(), f"--screenshot={shot}", index.as_uri()],
                         capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert png.returncode == 0, png.stderr[-2000:]
    parser = Dom()
    parser.feed(dom.stdout)
    return parser.elements, shot


def test_a_section_with_five_charts_per_profile_and_target(page):
    elements, _ = page
    sections = [(a["data-profile"], a["data-target"]) for tag, a, _ in elements
                if tag == "section" and "cell" in _classes(a)]
    assert sorted(sections) == sorted((p, t) for p in PROFILES for t in TARGETS)
    for p, t in sections:
        charts = [a["data-figure"] for tag, a, up in elements if tag == "svg" and
                  "chart" in _classes(a) and any(
                      u[0] == "section" and u[1].get("data-profile") == p and
                      u[1].get("data-target") == t for u in up)]
        assert charts == ["rom_bytes", "heap_peak_bytes", "ram_static_bytes",
                          "handshake_instructions", "rom_ratio"], (p, t)


def test_each_figure_chart_draws_fitted_and_default_over_three_commits(page):
    elements, _ = page
    lines = [a for tag, a, up in elements if tag == "polyline" and any(
        u[1].get("data-figure") == "rom_bytes" for u in up) and any(
        u[1].get("data-profile") == "openssl-rsa" and u[1].get("data-target") == "cortex-m33"
        for u in up)]
    assert sorted(a["class"] for a in lines) == ["default", "fitted"]
    fitted = [tuple(map(float, pt.split(","))) for pt in
              next(a for a in lines if a["class"] == "fitted")["points"].split()]
    assert len(fitted) == 3
    assert fitted[2][1] < fitted[1][1] == fitted[0][1]     # the ROM growth goes up (smaller y)


def test_the_regression_table_names_the_cell_and_module_that_grew(page):
    elements, _ = page
    rows = [(a["class"], a["data-profile"], a["data-target"], a["data-variant"], a["data-what"])
            for tag, a, up in elements if tag == "tr" and "data-what" in a and
            any(u[1].get("id") == "regressions" for u in up)]
    assert rows == [("regression", "openssl-rsa", "cortex-m33", "fitted", "rom_bytes"),
                    ("grew", "openssl-rsa", "cortex-m33", "fitted", "module bignum.o")]


def test_per_module_rom_is_a_drill_down_and_a_screenshot_is_saved(page):
    elements, shot = page
    details = [up for tag, a, up in elements if tag == "details" and "modules" in _classes(a)]
    assert len(details) == len(PROFILES) * len(TARGETS)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10000
