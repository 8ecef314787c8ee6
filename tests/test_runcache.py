"""The image and result caches (target/runcache.py) and the fit's timings
(target/timings.py): pure functions, and one real server measured twice -- the second
measurement of the identical image against the same server facts comes from the cache
and names it; a live request runs QEMU again."""
import hashlib
import threading

import pytest

from conftest import require_tools
from tlsfit.lab import refservers
from tlsfit.target import measure, runcache, timings
from test_measure import EC12_ARGS, TIMEOUT, TLS12_EC

PROFILE = {"target": {"host": "127.0.0.1", "port": 4433}, "probed_at": "2026-01-01T00:00:00Z",
           "stats": {"connections": 40}, "provenance": {"tool": "tlsfit-probe"},
           "versions": ["TLSv1.2"], "chain": [{"der_b64": "AAAA", "key_type": "EC"}],
           "records": {"max_record_len": 1200, "max_handshake_msg_len": 900,
                       "largest_record_type": "handshake"}}


# ------------------------------------------------------------------ pure functions

def test_server_facts_ignore_when_and_how_the_probe_ran():
    base = runcache.server_facts(PROFILE)
    later = {**PROFILE, "probed_at": "2026-02-02T00:00:00Z", "stats": {"connections": 41},
             "target": {"host": "127.0.0.1", "port": 5544},    # started again elsewhere
             "records": {**PROFILE["records"], "max_handshake_msg_len": 901}}
    assert runcache.server_facts(later) == base
    assert len(base) == 64 and int(base, 16) >= 0


@pytest.mark.parametrize("change", [
    {"chain": [{"der_b64": "AAAB", "key_type": "EC"}]},           # another certificate
    {"target": {"host": "127.0.0.2", "port": 4433}},               # another host
    {"versions": ["TLSv1.2", "TLSv1.3"]},                          # it accepts more
    {"records": {**PROFILE["records"], "largest_record_type": "application"}},
])
def test_server_facts_change_with_what_the_server_showed(change):
    assert runcache.server_facts({**PROFILE, **change}) != runcache.server_facts(PROFILE)


def test_timings_add_up_over_threads_and_only_while_collecting():
    timings.add("qemu", 5.0)                    # no collector: nothing, no error
    with timings.collecting() as t:
        threads = [threading.Thread(target=timings.add, args=("qemu", 0.5, i % 2 == 0))
                   for i in range(10)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        with timings.timed("link", cached=True):
            pass
    timings.add("qemu", 5.0)                    # after the block: not counted
    doc = t.to_json()
    assert list(doc) == list(timings.PHASES)
    assert doc["qemu"] == {"seconds": 5.0, "count": 10, "cached": 5}
    assert doc["link"]["count"] == 1 and doc["link"]["cached"] == 1
    assert doc["probe"] == {"seconds": 0.0, "count": 0, "cached": 0}
    assert timings.summary_line(doc).startswith("link 0.0 s (1, 1 cached); qemu 5.0 s (10, 5 ")
    assert "| QEMU: boot, handshake, proof | 5.0 | 10 | 5 |" in timings.table_lines(doc)


# ------------------------------------------------------------------ one real server

@pytest.fixture(scope="module")
def ec12(pki, server_logs):
    require_tools()
    with refservers.openssl_server(pki.ec, *EC12_ARGS, log_dir=server_logs) as srv:
        yield srv


def test_identical_image_against_the_same_server_is_measured_once(ec12, pki, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setenv("TLSFIT_RUNCACHE", str(tmp_path / "runcache"))
    facts = runcache.server_facts({**PROFILE, "chain": [{"pem": pki.ec.leaf.pem.read_text()}]})

    def run(**kw):
        return measure.measure(TLS12_EC, "cortex-m4", "127.0.0.1", ec12.port, sni="localhost",
                               ca=pki.ec.root.pem, timeout=TIMEOUT, progress=False,
                               server_facts=facts, **kw)

    with timings.collecting() as t:
        first, second, live = run(), run(), run(live=True)
    assert first.ok and second.ok and live.ok, first["handshake"]
    assert "cached_result" not in first and "cached_result" not in live
    stored = second["cached_result"]
    elf_sha = hashlib.sha256(open(second["artifacts"]["elf"], "rb").read()).hexdigest()
    assert stored["image_sha256"] == elf_sha and stored["server_facts"] == facts
    assert second["elapsed_ms"]["run"] == 0
    for k in ("rom_bytes", "rom_tls_bytes", "ram_static_bytes", "heap_peak_bytes"):
        assert second[k] == first[k] == live[k], k
    assert second["handshake"]["ciphersuite"] == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
    doc = t.to_json()
    # one image linked, then found twice; two QEMU sessions and one stored result
    assert (doc["link"]["count"], doc["link"]["cached"]) == (3, 2)
    assert (doc["qemu"]["count"], doc["qemu"]["cached"]) == (3, 1)
    # another server's facts: the stored result does not stand in
    other = measure.measure(TLS12_EC, "cortex-m4", "127.0.0.1", ec12.port, sni="localhost",
                            ca=pki.ec.root.pem, timeout=TIMEOUT, progress=False,
                            server_facts="0" * 64)
    assert other.ok and "cached_result" not in other


@pytest.mark.parametrize("reuse", [True, False])
def test_fit_offers_stored_results_for_the_search_but_runs_its_final_header_live(
        reuse, tmp_path, monkeypatch):
    from types import SimpleNamespace
    from tlsfit.fit import search
    site = SimpleNamespace(profile=PROFILE, host="127.0.0.1", port=4433, sni="localhost",
                           ca=None, proof=None)
    fitter = search.Fitter([site], search.FitOptions(reuse=reuse), tmp_path,
                           search.Progress(False))
    asked = []
    monkeypatch.setattr(search.measure_mod, "measure", asked.append)
    fitter.measure_site(tmp_path / "tls_config.h", 0)                   # a search trial
    fitter.measure_site(tmp_path / "tls_config.h", 0, baseline=True)    # the confirming run
    facts = runcache.server_facts(PROFILE) if reuse else None
    assert [(r.server_facts, r.live, r.baseline) for r in asked] == \
        [(facts, False, False), (facts, True, True)]
    assert runcache.usable(asked[0]) is reuse and runcache.usable(asked[1]) is False
