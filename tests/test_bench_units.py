"""Unit tests of the bench's pure parts: results files, the gate's comparison and its
table, the CTest file, shards, fit budgets, and `tlsfit size` on files.  (The matrix
itself runs in tests/test_bench_gate.py; the dashboard in a browser in
tests/test_dashboard.py.)"""
import json
import subprocess

import pytest

from conftest import DEBIAN_PYTHON, REPO
from tlsfit.bench import gate, matrix, results
from tlsfit.bench.results import CellKey
from tlsfit.core.errors import FILE, REGRESSION, USAGE, TlsfitError
from tlsfit.fit import budget

BASE = {"rom_bytes": 52000, "rom_tls_bytes": 40000, "ram_static_bytes": 2900,
        "heap_peak_bytes": 6100, "stack_peak_bytes": 1500, "handshake_instructions": 700000000}
MODULES = {"aes.o": 9000, "ecp.o": 6000, "ssl_tls.o": 5000}


def make_cell(profile, target, variant, scale=1.0, modules=None, ok=True, **over):
    figs = {k: int(v * scale) * (5 if variant == "default" and k != "handshake_instructions"
                                 else 1) for k, v in BASE.items()}
    figs.update(over)
    return {"profile": profile, "target": target, "variant": variant, "ok": ok,
            "error": None if ok else "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED in "
                                     "MBEDTLS_SSL_SERVER_CERTIFICATE",
            "elapsed_s": 12.5, "mbedtls": "3.6.6", "handshake": {"ok": ok}, **figs,
            "modules": dict(modules if modules is not None else MODULES), "ratios": None,
            "report": None}


def make_doc(commit, date, cells):
    return results.document(cells, commit, date, date, "0.1.0", "3.6.6",
                            "arm-none-eabi-gcc 12.2.1")


def test_a_figure_beyond_the_tolerance_regresses_and_names_where():
    old = make_doc("a", "2026-01-01", [make_cell("ecdsa", "cortex-m4", "fitted")])
    grown = dict(MODULES, **{"ecp.o": 7800, "bignum.o": 300})
    new = make_doc("b", "2026-01-02", [make_cell("ecdsa", "cortex-m4", "fitted",
                                                 modules=grown, rom_bytes=54100)])
    c = gate.compare(old, new, 2.0)
    assert [(r.what, r.delta) for r in c.regressions] == [("rom_bytes", 2100)]
    mods = [(r.what, r.delta) for r in c.rows if r.what.startswith("module")]
    assert mods == [("module ecp.o", 1800), ("module bignum.o", 300)]
    table = gate.markdown(c)
    assert "| ecdsa | cortex-m4 | fitted | rom_bytes | 52,000 | 54,100 | +2,100 (+4.0 %) | " \
           "**REGRESSION** |" in table
    assert "| ecdsa | cortex-m4 | fitted | module ecp.o | 6,000 | 7,800 | +1,800 (+30.0 %) |" \
        in table
    assert table.splitlines()[-1].startswith("size gate: FAILED: 1 regression beyond 2 %")
    assert gate.summary_of(c) == ["ecdsa / cortex-m4 / fitted: rom_bytes grew +2,100 "
                                  "(+4.0 %) (52,000 -> 54,100)"]


def test_growth_within_the_tolerance_passes_and_modules_alone_never_fail():
    old = make_doc("a", "1", [make_cell("ecdsa", "cortex-m4", "fitted")])
    moved = {"aes.o": 8000, "ecp.o": 7000, "ssl_tls.o": 5000}      # code moved, same sum
    new = make_doc("b", "2", [make_cell("ecdsa", "cortex-m4", "fitted", modules=moved,
                                        rom_bytes=52500)])          # +0.96 %
    c = gate.compare(old, new, 1.0)
    assert c.ok and c.compared == 1
    assert [r.status for r in c.rows if r.what == "rom_bytes"] == ["grew"]
    assert not [r for r in c.rows if r.what.startswith("module")]
    assert gate.verdict(c) == "size gate: passed: 1 cell within 1 %"
    assert not gate.compare(old, new, 0.5).ok


def test_a_cell_that_fails_now_is_a_regression_a_missing_one_a_note():
    old = make_doc("a", "1", [make_cell("ecdsa", "cortex-m4", "fitted"),
                              make_cell("rsa", "cortex-m3", "default")])
    new = make_doc("b", "2", [make_cell("ecdsa", "cortex-m4", "fitted", ok=False),
                              make_cell("rsa", "cortex-m7", "default")])
    c = gate.compare(old, new, 1.0)
    assert [(r.key, r.status) for r in c.regressions] == [
        (CellKey("ecdsa", "cortex-m4", "fitted"), "failed")]
    assert c.only_baseline == (CellKey("rsa", "cortex-m3", "default"),)
    assert c.only_current == (CellKey("rsa", "cortex-m7", "default"),)
    text = gate.markdown(c)
    assert "note: rsa / cortex-m3 / default is in the baseline but was not run" in text
    assert "note: rsa / cortex-m7 / default is new (not in the baseline)" in text


def test_every_figure_of_a_baseline_shrunk_by_ten_percent_regresses():
    cur = make_doc("b", "2", [make_cell("ecdsa", "cortex-m4", "fitted")])
    shrunk = make_doc("a", "1", [make_cell("ecdsa", "cortex-m4", "fitted", scale=0.9,
                                           modules={k: int(v * 0.9)
                                                    for k, v in MODULES.items()})])
    c = gate.compare(shrunk, cur, 2.0)
    assert sorted(r.what for r in c.regressions) == sorted(BASE)
    assert all(10.9 < r.pct < 11.2 for r in c.regressions)
    assert {r.what for r in c.rows if r.what.startswith("module")} == \
        {f"module {m}" for m in MODULES}


def test_merge_by_commit_joins_shards_and_orders_commits_by_date():
    a1 = make_doc("aaa", "2026-01-01T00:00:00", [make_cell("p", "cortex-m4", "fitted")])
    a2 = make_doc("aaa", "2026-01-01T00:00:00", [make_cell("p", "cortex-m7", "fitted")])
    a2["run_at"] = "2026-01-01T00:05:00"
    b = make_doc("bbb", "2025-12-31T00:00:00", [make_cell("p", "cortex-m4", "fitted")])
    merged = results.merge_by_commit([a1, b, a2])
    assert [d["commit"] for d in merged] == ["bbb", "aaa"]
    assert [c["target"] for c in merged[1]["cells"]] == ["cortex-m4", "cortex-m7"]


def test_load_reads_a_fit_report_as_two_cells_and_refuses_other_json(tmp_path):
    report = {"server": "127.0.0.1:4433", "target": "cortex-m4", "mbedtls": "3.6.6",
              "handshake": {"ok": True}, **BASE, "modules": [
                  {"name": "aes.o", "rom_bytes": 9000}], "ratios": {"rom_bytes": 0.2},
              "search": [{"label": "x"}],
              "baseline": {"handshake": {"ok": True}, **{k: v * 5 for k, v in BASE.items()}}}
    p = tmp_path / "report.json"
    p.write_text(json.dumps(report))
    doc = results.load(p)
    assert [(c["variant"], c["rom_bytes"]) for c in doc["cells"]] == [
        ("default", 260000), ("fitted", 52000)]
    fitted = doc["cells"][1]
    assert fitted["modules"] == {"aes.o": 9000} and "search" not in fitted["report"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "something else"}')
    with pytest.raises(TlsfitError) as e:
        results.load(bad)
    assert e.value.code == FILE and "not a tlsfit bench results file" in e.value.message
    bad.write_text("{nope")
    with pytest.raises(TlsfitError) as e:
        results.load(bad)
    assert e.value.code == FILE and "not JSON" in e.value.message


def test_the_ctest_file_has_one_test_per_cell_with_its_command():
    keys = matrix.cells(["ecdsa", "rsa"], ["cortex-m4", "cortex-m33"])
    assert len(keys) == 8 and keys[0] == CellKey("ecdsa", "cortex-m4", "fitted")
    text = matrix.ctest_text(keys, lambda k: ["/x/tlsfit", "bench", "--cell", k.profile,
                                              k.target, k.variant, "a]=]b"], timeout=99)
    adds = [line for line in text.splitlines() if line.startswith("add_test(")]
    assert len(adds) == 8
    assert adds[1] == ("add_test([=[ecdsa:cortex-m4:default]=] [=[/x/tlsfit]=] [=[bench]=] "
                       "[=[--cell]=] [=[ecdsa]=] [=[cortex-m4]=] [=[default]=] [==[a]=]b]==])")
    assert "set_tests_properties([=[ecdsa:cortex-m4:fitted]=] PROPERTIES TIMEOUT 99 COST 10)" \
        in text


def test_shards_are_ctest_index_strides():
    assert matrix.parse_shard("2/3") == (2, 3)
    assert matrix.ctest_argv("ctest", "/w", 2, (2, 3))[-2:] == ["-I", "2,,3"]
    for bad in ("0/3", "4/3", "x", "1/0"):
        with pytest.raises(TlsfitError) as e:
            matrix.parse_shard(bad)
        assert e.value.code == USAGE and f"--shard {bad}" in e.value.message


def test_fit_budgets():
    assert budget.parse_size("48K") == 49152 and budget.parse_size("65536") == 65536
    assert budget.parse_size("1MiB") == 1048576
    with pytest.raises(ValueError):
        budget.parse_size("12x")
    report = dict(BASE)
    assert budget.over_budget(report, max_rom=40000, max_heap=6100) == []
    assert budget.over_budget(report, max_rom=39000) == [
        "mbedTLS ROM (rom_tls_bytes) 40,000 B is over --max-rom 39,000 B by 1,000 B (+2.6 %)"]
    assert budget.over_budget(report, max_heap=6000) == [
        "peak heap (heap_peak_bytes) 6,100 B is over --max-heap 6,000 B by 100 B (+1.7 %)"]


def _size(*args):
    return subprocess.run([DEBIAN_PYTHON, "-m", "tlsfit.cli", "size", *map(str, args)],
                          cwd=REPO, env={"PYTHONPATH": str(REPO / "tool"), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_size_diff_exits_47_with_the_table_and_0_when_nothing_grew(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(make_doc("a", "1", [make_cell("ecdsa", "cortex-m4", "fitted")])))
    b.write_text(json.dumps(make_doc("b", "2", [make_cell("ecdsa", "cortex-m4", "fitted",
                                                          heap_peak_bytes=6500)])))
    p = _size("--diff", a, b, "--tolerance", "1")
    assert p.returncode == REGRESSION, p.stderr
    assert "| ecdsa | cortex-m4 | fitted | heap_peak_bytes | 6,100 | 6,500 | +400 (+6.6 %) | " \
           "**REGRESSION** |" in p.stdout
    assert p.stderr.strip() == (f"tlsfit: {b} regressed against {a}: ecdsa / cortex-m4 / "
                                "fitted: heap_peak_bytes grew +400 (+6.6 %) (6,100 -> 6,500)")
    p = _size("--diff", b, a)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "size gate: passed: 1 cell within 1 %"
    p = _size("--diff", a, b, "--json", "--tolerance", "10")
    doc = json.loads(p.stdout)
    assert p.returncode == 0 and doc["ok"] is True
    assert [r["delta"] for r in doc["rows"] if r["what"] == "heap_peak_bytes"] == [400]
    p = _size("--diff", a, tmp_path / "missing.json")
    assert p.returncode == FILE and p.stderr.startswith("tlsfit: ") and \
        "cannot read" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_size_file_shows_each_cell_with_its_figures_and_time(tmp_path):
    a = tmp_path / "a.json"
    a.write_text(json.dumps(make_doc("a", "1", [make_cell("ecdsa", "cortex-m4", "fitted"),
                                                make_cell("rsa", "cortex-m7", "default",
                                                          ok=False)])))
    p = _size(a)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[2] == ("| ecdsa | cortex-m4 | fitted | yes | 52,000 | 40,000 | 2,900 | 6,100 | "
                        "1,500 | 700,000,000 | 12.5 |")
    assert lines[3].startswith("| rsa | cortex-m7 | default | no: MBEDTLS_ERR_X509_CERT_VERIFY"
                               "_FAILED in MBEDTLS_SSL_SERVER_CERTIFICATE | 260,000 |")
