"""Generated files are what their generators make now (issue 23, parts 5 and 1).

Rendered files (errnames.h, docs/exit-codes.md, ...) are compared byte for byte
with their generator's output; the measured tables (costs.json, knob_costs.json:
cross builds and QEMU, not re-made here) are checked to cover exactly what their
bench script measures today.  A failure names the command that regenerates the
file: `./tlsfit regenerate NAME`.  No server, no build: set-up's mbedTLS trees only.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tlsfit import regen
from tlsfit.cli import main as cli
from tlsfit.core.errors import DRIVER_CODES, STALE, USAGE
from tlsfit.header import rules as rules_mod
from tlsfit.regen import exit_codes, tables

REPO = Path(__file__).resolve().parent.parent

# Rendered entries another test already compares byte for byte are left to it.
RENDERED = [e for e in regen.ENTRIES if not e.measured and not e.checked_by]
MEASURED = [e for e in regen.ENTRIES if e.measured]


@pytest.mark.parametrize("entry", RENDERED, ids=lambda e: e.name)
def test_rendered_file_is_current(entry):
    stale = regen.problems(entry)
    assert stale == [], "\n".join(stale)


@pytest.mark.parametrize("entry", MEASURED, ids=lambda e: e.name)
def test_measured_table_covers_its_inputs(entry):
    problems = regen.problems(entry)
    assert problems == [], "\n".join(problems)


def test_every_entry_is_checked_somewhere():
    for entry in regen.ENTRIES:
        if entry.checked_by:
            assert (REPO / entry.checked_by).is_file(), entry
    assert {e.name for e in regen.ENTRIES} == {
        "errnames", "profile-schema", "exit-codes", "compat", "costs", "knob-costs"}


def test_a_stale_file_is_named_with_its_command():
    entry = regen.Generated("exit-codes", ("docs/exit-codes.md",), "x", "y",
                            render=lambda: {"docs/exit-codes.md": "# not the page\n"})
    assert regen.problems(entry) == [
        "docs/exit-codes.md is stale -- run ./tlsfit regenerate exit-codes"]


def test_check_writes_nothing_and_exits_stale(monkeypatch, capsys):
    fake = regen.Generated("exit-codes", ("docs/exit-codes.md",), "x", "y",
                           render=lambda: {"docs/exit-codes.md": "# not the page\n"})
    monkeypatch.setattr(regen, "ENTRIES", (fake,))
    before = (REPO / "docs" / "exit-codes.md").read_text()
    assert cli.main(["regenerate", "--check"]) == STALE
    assert (REPO / "docs" / "exit-codes.md").read_text() == before
    out, err = capsys.readouterr()
    assert "exit-codes: stale" in out and "run ./tlsfit regenerate exit-codes" in out
    assert err.startswith("tlsfit: 1 generated file(s) stale")


def test_unknown_name_is_a_usage_error(capsys):
    assert cli.main(["regenerate", "--check", "errname"]) == USAGE
    assert "no generated file is called 'errname'; choose from errnames," in capsys.readouterr().err


@pytest.mark.parametrize("entry", [e for e in regen.ENTRIES if e.name != "compat" and not e.measured],
                         ids=lambda e: e.name)
def test_rendering_does_not_depend_on_hash_order(entry):
    """Two interpreters with different string hashing render the same bytes (a set
    iterated unsorted would differ)."""
    code = (f"from tlsfit import regen; e = regen.by_name([{entry.name!r}])[0]; "
            "import sys, json; sys.stdout.write(json.dumps(e.render(), sort_keys=True))")
    outs = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(REPO / "tool"))
        outs.add(subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                capture_output=True, text=True).stdout)
    assert len(outs) == 1


# --- the exit-code page ---

def test_prober_codes_come_from_the_c_table():
    rows = exit_codes.prober_codes()
    assert rows[0] == (0, "TF_OK", "success: the profile was written, the session verified or "
                                   "measured, the replica stopped by a signal")
    assert (2, "TF_ERR_USAGE", "bad command line") in rows
    assert (23, "TF_ERR_SNI", "the server refused the hello for its server name "
            "(unrecognized_name): pass --sni NAME") in rows
    assert [c for c, _, _ in rows] == [0, 2, *range(10, 29)]    # 24-25: PSK, 26-28: DTLS


def test_prober_table_parser_reads_the_prober_rows():
    table = """#define TF_ERRORS(X) \\
    X(TF_OK, 0, 0, TF_TOOL_ALL, "fine") \\
    X(TF_ERR_FAILED, 1, 1, TF_TOOL_CLIENTS, "a client's") \\
    X(TF_ERR_X, 12, 12, TF_TOOL_PROBE | TF_TOOL_VERIFY, "a \\"quoted\\" word")"""
    assert exit_codes.prober_codes(table) == [(0, "TF_OK", "fine"),
                                              (12, "TF_ERR_X", 'a "quoted" word')]
    with pytest.raises(ValueError, match="TF_ERR_Y is reported by the prober with exit status 3"):
        exit_codes.prober_codes('    X(TF_ERR_Y, 61, 3, TF_TOOL_PROBE, "y")')


def test_codes_outside_their_range_are_reported():
    assert exit_codes.range_problems() == []
    bad = exit_codes.range_problems(prober=[(0, "TF_OK", ""), (31, "TF_ERR_LATE", "")],
                                    driver=[(30, "A", ""), (30, "B", ""), (200, "C", "")])
    assert bad == ["prober code 31 (TF_ERR_LATE) is outside 0, 2, 10-29",
                   "driver code 200 (C) is outside 0-2, 30-128, 129, 130, 143",
                   "driver code 30 is both A and B"]


def test_the_page_lists_every_code_once():
    page = exit_codes.page()
    for code, name, _ in [*DRIVER_CODES, *exit_codes.prober_codes()]:
        assert page.count(f"| {code} | `{name}` |") == 1, name
    assert "| 129, 130, 143 |" in page and "| 10-29 | the prober |" in page
    assert "a \\| b" in exit_codes.page(prober=[], driver=[(30, "X", "a | b")])


# --- the measured tables' consistency checks ---

@pytest.fixture(scope="module")
def cache36():
    """The set-up cache's 3.6 tree (the measured tables name it, whatever $MBEDTLS_DIR is)."""
    return regen.set_up_tree()


def _load(entry_name):
    return json.loads((REPO / regen.by_name([entry_name])[0].files[0]).read_text())


def test_costs_check_finds_a_missing_curve_and_a_foreign_module(cache36):
    costs = _load("costs")
    costs["curves"].pop("x25519")
    costs["modules"]["nonesuch.c"] = 1
    costs["options"]["MBEDTLS_NONESUCH"] = 1
    costs["mbedtls"] = "3.6.0"
    assert tables.costs_problems(costs, rules_mod.load(), cache36) == [
        f"costs.json: measured on mbedTLS '3.6.0', the set-up tree is {cache36.label!r}",
        "costs.json curves: x25519 is missing (new since the table was measured)",
        f"costs.json modules: nonesuch.c is not a source file of {cache36.path}",
        "costs.json options: MBEDTLS_NONESUCH is not an option of rules.toml"]


def test_knob_costs_check_finds_a_knob_the_table_lacks(cache36):
    table = _load("knob-costs")
    bench = tables.load_bench_script("knob_costs")
    rules = rules_mod.load()
    name = "tls12-ecdsa-p256"
    table["scenarios"] = {name: table["scenarios"][name]}
    measured = table["scenarios"][name]["knobs"]
    key = next(iter(measured))
    measured.pop(key)
    measured["MBEDTLS_GONE=on"] = {}
    problems = tables.knob_costs_problems(table, rules, bench, cache36)
    assert f"knob_costs.json {name} knobs: {key} is missing (new since the table was measured)" \
        in problems
    assert f"knob_costs.json {name} knobs: MBEDTLS_GONE=on is no longer measured (not in the " \
           "current inputs)" in problems


def test_errors_falls_back_to_the_source_table(monkeypatch, capsys):
    monkeypatch.setenv("TLSFIT_PROBER", "/nonexistent/tlsfit-probe")
    assert cli.main(["errors"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("  (from the source: the prober is unavailable: TLSFIT_PROBER=")
    assert out[2:2 + len(exit_codes.prober_codes())] == [
        f"  {c:3d}  {n:<20} {m}" for c, n, m in exit_codes.prober_codes()]


def test_knob_costs_merge_replaces_only_the_knobs_measured():
    bench = tables.load_bench_script("knob_costs")
    figures = dict.fromkeys(bench.FIELDS, 0)
    stored = {"about": "table.", "mbedtls": "3.6.5", "scenarios": {"s": {
        "lean_knobs": {"A": "on"}, "skipped": ["C=off"], "combos": {},
        "knobs": {"A=off": {**figures, "rom_bytes": 10}, "B=on": {**figures, "rom_bytes": 20}}}}}
    new = {"mbedtls": "3.6.6", "scenarios": {"s": {
        "lean_knobs": {"A": "on", "C": "on"}, "skipped": [], "combos": {},
        "lean": {**figures, "rom_bytes": 500, "reps": 1},
        "knobs": {"A=off": {**figures, "rom_bytes": 11}, "C=off": {**figures, "rom_bytes": 7}}}}}
    out = bench.merge(stored, new, {"A", "C"})
    sc = out["scenarios"]["s"]
    assert sc["knobs"] == {"A=off": {**figures, "rom_bytes": 11},
                           "B=on": {**figures, "rom_bytes": 20},
                           "C=off": {**figures, "rom_bytes": 7}}
    assert sc["skipped"] == [] and sc["lean_knobs"] == {"A": "on", "C": "on"}
    assert sc["merged"] == [{"keys": ["A=off", "C=off"],
                             "lean": {**figures, "rom_bytes": 500, "reps": 1}}]
    assert out["mbedtls"] == "3.6.6" and out["about"].startswith("table. merged: ")
    assert stored["scenarios"]["s"]["knobs"]["A=off"]["rom_bytes"] == 10     # not modified
