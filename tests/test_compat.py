"""The driver's outputs stay what they were before the stage restructure (issue 12).

tests/fixtures/compat/ was recorded by tests/compat/record.py with the driver as it
stood before the move: profiles of five reference servers, the probe summary of each,
`tlsfit gen` under nine option sets each (header, --json, --explain, refusals), and
the key paths and JSON types of a `measure --json --baseline` document and of a fit's
report.json.  gen and the summaries must be byte-identical; measure and fit may add
keys but never drop, rename or retype one (test_measure.py and test_fit.py hold their
live documents to the recorded shapes through check_shape).

These tests read recorded profiles only: no prober, no cross toolchain, no server.
"""
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "compat"))
from record import VARIANTS, shape  # noqa: E402

from tlsfit.cli import main as cli  # noqa: E402
from tlsfit.profile import model, summary  # noqa: E402

CORPUS = REPO / "tests" / "fixtures" / "compat"
# Only when the output is meant to change (say so in the commit):
REGENERATE = "stale compat output: ./tlsfit regenerate compat re-renders tests/fixtures/compat/"
PROFILES = sorted(p for p in CORPUS.glob("*.json") if not p.name.endswith(".shape.json"))


def test_corpus_present():
    assert len(PROFILES) == 5, PROFILES
    assert len(list(CORPUS.glob("*.out"))) == 5 * len(VARIANTS)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
def test_summary_identical(profile):
    expected = (CORPUS / f"{profile.stem}.summary.txt").read_text()
    assert summary.format_summary(model.load(profile)) + "\n" == expected, REGENERATE


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
def test_gen_identical(profile, variant, capsys, monkeypatch):
    monkeypatch.chdir(REPO)             # the header names the profile by its relative path
    rel = profile.relative_to(REPO)
    code = cli.main(["gen", str(rel), *VARIANTS[variant]])
    got = f"exit {code}\n{capsys.readouterr().out}"
    assert got == (CORPUS / f"{profile.stem}.{variant}.out").read_text(), REGENERATE


DATA_KEY_PREFIXES = ("MBEDTLS_", "PSA_WANT_", "TLSFIT_")   # option names: data, not schema


def _under_array_or_absent(path, live):
    """True when the recorded path lies under an array, under an object the live
    document holds as null, or is keyed by data (an option name): its absence there is
    not a dropped key."""
    parts = path.split(".")
    if any(p.startswith(DATA_KEY_PREFIXES) for p in parts):
        return True
    for i in range(1, len(parts)):
        prefix = ".".join(parts[:i])
        if "[]" in parts[i - 1] or live.get(prefix) == {"null"}:
            return True
    return False


def check_shape(doc, recorded_name):
    """Every key path of the recorded document exists in `doc` with a JSON type the
    recording had (null allowed where the recording had a value: a failed step)."""
    recorded = json.loads((CORPUS / recorded_name).read_text())
    live = {k: set(v) for k, v in shape(doc).items()}
    problems = []
    for path, kinds in recorded.items():
        if path not in live:
            if not _under_array_or_absent(path, live):
                problems.append(f"{path}: missing")
            continue
        extra = live[path] - set(kinds) - {"null"}
        if kinds == ["null"]:
            continue                     # the recording had no value there: no type to keep
        if extra and not ({"integer", "number"} >= set(kinds) | extra):
            problems.append(f"{path}: {sorted(live[path])}, recorded {kinds}")
    assert not problems, "; ".join(problems[:20])


def test_shape_checker_catches_a_rename():
    recorded = json.loads((CORPUS / "report.shape.json").read_text())
    doc = {"server": "x"}
    with pytest.raises(AssertionError, match="handshake: missing"):
        check_shape(doc, "report.shape.json")
    assert "$.handshake.ok" in recorded or ".handshake.ok" in recorded
