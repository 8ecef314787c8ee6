"""The size gate `./tlsfit test` runs: one profile on one target (fitted and default)
through the real matrix (CTest, a reference server on 127.0.0.1, QEMU), checked
against the committed baseline bench/baseline/gate.json; a baseline shrunk by 10 %
fails with exit 47 naming what grew; a fit over its --max-rom budget exits 47.

Refresh the baseline after an intended change (and say why in the commit):
    ./tlsfit bench --profiles openssl-ecdsa --targets cortex-m4 --results /tmp/gate
    cp /tmp/gate/$(git rev-parse --short=7 HEAD).json bench/baseline/gate.json
"""
import json
import re

import pytest

from conftest import REPO, require_tools, run_tlsfit
from tlsfit.bench import results
from tlsfit.core.errors import REGRESSION
from tlsfit.lab import refservers
from tlsfit.target.result import FIGURES

# Every test runs `tlsfit bench` or `fit`, which serve and measure (docs/testing.md).
pytestmark = [pytest.mark.fit, pytest.mark.server]

BASELINE = REPO / "bench" / "baseline" / "gate.json"
PROFILE, TARGET = "openssl-ecdsa", "cortex-m4"
TOLERANCE = "2"      # percent: instructions and heap move by parts per thousand


def tlsfit(state, prober, *args, timeout=900):
    return run_tlsfit(prober, state, *args, timeout=timeout)


@pytest.fixture(scope="module")
def gate(tmp_path_factory, prober):
    require_tools("openssl", "ctest")
    d = tmp_path_factory.mktemp("gate")
    # its own fit cache: the gate fits (a shared cache would let it re-measure a fit
    # made by another checkout's run)
    p = tlsfit(d / "state", prober, "bench", "--profiles", PROFILE, "--targets", TARGET,
               "--results", d / "results", "--check", BASELINE, "--tolerance", TOLERANCE,
               "--fit-cache-dir", d / "fits")
    return p, d


def test_the_gate_cell_passes_against_the_committed_baseline(gate):
    p, d = gate
    assert p.returncode == 0, p.stdout + p.stderr[-3000:]
    assert "size gate: passed: 2 cells within 2 %" in p.stdout
    for variant in ("fitted", "default"):      # CTest's line per cell, with its time
        assert re.search(rf"Test +#\d+: {PROFILE}:{TARGET}:{variant} \.+ +Passed +[\d.]+ sec",
                         p.stderr), p.stderr[-3000:]
    files = [f for f in (d / "results").glob("*.json")]
    assert len(files) == 1 and (d / "results" / "index.html").is_file()
    doc = results.load(files[0])
    assert doc["compiler"].startswith("arm-none-eabi-gcc") and doc["mbedtls"].startswith("3.")
    cells = {c["variant"]: c for c in doc["cells"]}
    assert sorted(cells) == ["default", "fitted"]
    fitted, default = cells["fitted"], cells["default"]
    # What the server was configured with: a P-256 chain (ECDSA signatures on P-256).
    assert fitted["ok"] and default["ok"]
    # The chain's curve is also the cheapest key-exchange group (its code is in anyway).
    assert fitted["handshake"]["group"] == "secp256r1"
    assert fitted["handshake"]["sigalg"] == "ecdsa_secp256r1_sha256"
    assert fitted["report"]["target"] == TARGET and fitted["report"]["objective"] == "rom"
    for f in FIGURES:
        assert isinstance(fitted[f], int) and isinstance(default[f], int), f
    assert fitted["rom_tls_bytes"] < default["rom_tls_bytes"]
    assert sum(fitted["modules"].values()) == fitted["rom_tls_bytes"]
    assert fitted["elapsed_s"] > 0 and default["elapsed_s"] > 0
    assert fitted["fit_cached"] is False and fitted["report"]["fit_cached"] is None
    assert set(fitted["report"]["phases_s"]) >= {"search", "ablation", "baseline"}


def test_a_second_run_of_the_cell_hits_the_fit_cache_and_verifies_against_its_server(
        gate, prober):
    """The gate's fitted cell again with the gate's fit cache: a new server (a fresh
    PKI on another port) -- the cached choices are rendered for it and measured with
    the default on the target; the handshake it reports is this run's."""
    first_run, d = gate
    assert first_run.returncode == 0, first_run.stderr[-3000:]
    (first,) = [c for c in results.load(next((d / "results").glob("*.json")))["cells"]
                if c["variant"] == "fitted"]
    p = tlsfit(d / "state2", prober, "bench", "--profiles", PROFILE, "--targets", TARGET,
               "--variants", "fitted", "--results", d / "results2", "--fit-cache-dir",
               d / "fits")
    assert p.returncode == 0, p.stdout + p.stderr[-3000:]
    (cell,) = results.load(next((d / "results2").glob("*.json")))["cells"]
    rep = cell["report"]
    assert cell["ok"] and cell["fit_cached"] is True and cell["fit_target"] == TARGET
    assert rep["fit_cached"]["fitted_at"] == first["report"]["date"]
    assert rep["fit_cached"]["fit_phases_s"] == first["report"]["phases_s"]
    # measured now, against the new server: its port, the session it accepted, the default
    assert rep["server"] != first["report"]["server"]
    assert rep["handshake"]["ok"] and rep["handshake"]["proof"] == "send-expect"
    assert rep["handshake"]["proof_reply"].startswith("a reply starting " +
                                                      b"HTTP/1.".hex())
    assert rep["handshake"]["sigalg"] == "ecdsa_secp256r1_sha256"
    assert rep["baseline"]["handshake"]["ok"] and cell["ratios"]["rom_tls_bytes"] < 1
    assert set(rep["phases_s"]) == {"probe", "baseline", "total"}
    # the same choices give the same header and link: the same flash
    assert rep["options"] == first["report"]["options"] and rep["removed"] == \
        first["report"]["removed"]
    assert cell["rom_tls_bytes"] == first["rom_tls_bytes"]
    # the cached fit's history, named as such
    assert rep["ablation"] == first["report"]["ablation"] and rep["candidates_tried"] == \
        first["report"]["candidates_tried"] > 1
    assert {"search", "ablation"} <= set(rep["fit_cached"]["from_fit"])
    assert len(list((d / "fits").iterdir())) == 1


def test_a_baseline_shrunk_by_ten_percent_fails_with_47_naming_what_grew(gate, tmp_path,
                                                                        prober):
    base = json.loads(BASELINE.read_text())
    for c in base["cells"]:
        for f in FIGURES:
            c[f] = int(c[f] * 0.9)
        c["modules"] = {m: int(v * 0.9) for m, v in c["modules"].items()}
    shrunk = tmp_path / "shrunk.json"
    shrunk.write_text(json.dumps(base))
    p = tlsfit(tmp_path / "state", prober, "bench", "--profiles", PROFILE, "--targets",
               TARGET, "--variants", "default", "--results", tmp_path / "results",
               "--check", shrunk, "--tolerance", TOLERANCE)
    assert p.returncode == REGRESSION, p.stdout + p.stderr[-3000:]
    rows = [line for line in p.stdout.splitlines() if "**REGRESSION**" in line]
    assert {line.split("|")[4].strip() for line in rows} == set(FIGURES)
    assert all(line.split("|")[1:4] == [f" {PROFILE} ", f" {TARGET} ", " default "]
               for line in rows)
    grew = [line for line in p.stdout.splitlines() if "| module " in line]
    assert grew and len(grew) <= 8
    assert "note: openssl-ecdsa / cortex-m4 / fitted is in the baseline but was not run" \
        in p.stdout
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith(f"tlsfit: size regression against {shrunk}: {PROFILE} / {TARGET} "
                           "/ default: rom_bytes grew +")


def test_a_profile_cell_runs_against_the_profiles_replica(tmp_path, prober, server_logs):
    """A profile FILE in the matrix: its cell measures against lab.replica's replica
    of the profiled server, after the server itself is gone (offline)."""
    require_tools("openssl")
    chain = refservers.make_chain(tmp_path, "pki", "ec:P-256", "ec:P-256", "ec:P-256")
    with refservers.openssl_server(chain, "-tls1_3", log_dir=server_logs) as srv:
        p = tlsfit(tmp_path / "state", prober, "probe", srv.hostport, "--sni", "localhost",
                   "--ca", chain.root.pem, timeout=120)
    assert p.returncode == 0, p.stderr
    profile = tmp_path / "tls13-p256.json"
    profile.write_bytes((tmp_path / "state" / "last-profile.json").read_bytes())
    p = tlsfit(tmp_path / "state", prober, "bench", "--profiles", profile, "--targets", TARGET,
               "--variants", "default", "--results", tmp_path / "results")
    assert p.returncode == 0, p.stdout + p.stderr[-3000:]
    doc = results.load(next((tmp_path / "results").glob("*.json")))
    (cell,) = doc["cells"]
    assert (cell["profile"], cell["target"], cell["variant"]) == ("tls13-p256", TARGET,
                                                                  "default")
    # The server was TLS 1.3 only: so is its replica.
    assert cell["ok"] and cell["handshake"]["version"] == "TLSv1.3"


def test_a_fit_over_its_rom_budget_exits_47_and_still_writes_its_report(budget_fit):
    """The session's shared fit (conftest.budget_fit: a P-256 TLS 1.3 server, --max-rom
    16K --max-heap 1M)."""
    p = budget_fit.proc
    assert p.returncode == REGRESSION, p.stderr[-3000:]
    report = json.loads((budget_fit.out / "report.json").read_text())
    rom = report["rom_tls_bytes"]
    assert rom > 16384
    assert p.stderr.strip().splitlines()[-1] == (
        f"tlsfit: over budget: mbedTLS ROM (rom_tls_bytes) {rom:,} B is over --max-rom "
        f"16,384 B by {rom - 16384:,} B ({100.0 * (rom - 16384) / 16384:+.1f} %)")


def test_a_cached_fit_that_renders_to_other_options_is_a_miss_and_is_fitted_again(
        gate, prober, tmp_path):
    """An entry whose recorded options differ from what its choices render to now (as
    after a change the key did not see) is not re-measured: the cell fits again, and the
    entry is replaced by the new fit."""
    import shutil
    first_run, d = gate
    assert first_run.returncode == 0, first_run.stderr[-3000:]
    cache = tmp_path / "fits"
    shutil.copytree(d / "fits", cache)
    (entry,) = cache.iterdir()
    report = json.loads((entry / "report.json").read_text())
    report["options"]["MBEDTLS_NOT_AN_OPTION"] = "planted by the test"
    (entry / "report.json").write_text(json.dumps(report))
    p = tlsfit(tmp_path / "state", prober, "bench", "--profiles", PROFILE, "--targets",
               TARGET, "--variants", "fitted", "--results", tmp_path / "results",
               "--fit-cache-dir", cache)
    assert p.returncode == 0, p.stdout + p.stderr[-3000:]
    (cell,) = results.load(next((tmp_path / "results").glob("*.json")))["cells"]
    assert cell["ok"] and cell["fit_cached"] is False
    assert {"search", "ablation"} <= set(cell["report"]["phases_s"])
    kept = json.loads((entry / "report.json").read_text())
    assert "MBEDTLS_NOT_AN_OPTION" not in kept["options"]
    assert kept["date"] == cell["report"]["date"]
