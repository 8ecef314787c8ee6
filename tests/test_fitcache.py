"""Unit tests of the bench's fit cache key (tool/tlsfit/bench/fitcache.py): equal inputs
give equal keys, changing any input that decides a fit changes the key, what does not
decide it (the port, dates, serials, certificate bytes, a byte of certificate size gen
rounds away) leaves it; the sources digest; the CTest order --fit-target asks for.
(A real second run that hits the cache and verifies: tests/test_bench_gate.py.)"""
import copy
import json

from conftest import REPO
from tlsfit.bench import fitcache, matrix
from tlsfit.bench.results import CellKey
from tlsfit.fit.search import FitOptions

PROFILE = json.loads((REPO / "profiles" / "nginx-intermediate.json").read_text())
OPTIONS = ["MBEDTLS_SSL_CLI_C", "MBEDTLS_SSL_TLS_C", "MBEDTLS_ECDSA_C"]
VALUES = {"MBEDTLS_SSL_IN_CONTENT_LEN": 1280, "MBEDTLS_MPI_MAX_SIZE": 48}
TREE = {"path": "/x/mbedtls-3.6", "line": "3.6", "version": "3.6.6", "sha256": "ab" * 32}
BUILD = {"compiler": "arm-none-eabi-gcc (15:12.2.rel1-1) 12.2.1 20221205",
         "flags": ["-Os", "-mcpu=cortex-m4", "-mthumb"]}
SPEC = 'name = "cortex-m4"\nmachine = "mps2-an386"\n'
OPTS = FitOptions(target="cortex-m4", objective="rom", line="3.6", candidates=3,
                  proof="http")


def key(profile=PROFILE, options=OPTIONS, values=VALUES, opts=OPTS, fit_target="cortex-m4",
        spec=SPEC, tree=TREE, build=BUILD, sources="cd" * 32):
    return fitcache.fit_key(fitcache.key_inputs(profile, options, values, opts, fit_target,
                                                spec, tree, build, sources))


def changed(path, value):
    """PROFILE with the field at path (keys and list indexes) set to value."""
    doc = copy.deepcopy(PROFILE)
    at = doc
    for p in path[:-1]:
        at = at[p]
    at[path[-1]] = value
    return doc


def test_equal_inputs_give_equal_keys():
    assert key() == key()
    assert key(profile=json.loads(json.dumps(PROFILE, sort_keys=True))) == key()
    assert key(values=dict(reversed(list(VALUES.items())))) == key()
    assert key(options=list(reversed(OPTIONS))) == key()
    assert len(key()) == 64 and int(key(), 16) >= 0


def test_changing_any_input_that_decides_the_fit_changes_the_key():
    from dataclasses import replace
    variants = {
        "a suite the server accepts": key(profile=changed(
            ["ciphersuites", "TLSv1.2"], PROFILE["ciphersuites"]["TLSv1.2"][1:])),
        "the server's suite order": key(profile=changed(["server_preference", "TLSv1.2"], True)),
        "a group": key(profile=changed(["groups", "TLSv1.3"], ["secp256r1"])),
        "the leaf's key size": key(profile=changed(["chain", 0, "key", "bits"], 384)),
        "the root's signature hash": key(profile=changed(["trust_anchor", "signature_hash"],
                                                         "sha512")),
        "the fragment limit": key(profile=changed(["records", "mfl_honoured"], False)),
        "a client certificate request": key(profile=changed(["client_cert_requested"], True)),
        "an option gen enables": key(options=OPTIONS[:-1]),
        "a size gen derives": key(values=dict(VALUES, MBEDTLS_SSL_IN_CONTENT_LEN=1536)),
        "the fit's target": key(fit_target="cortex-m33"),
        "the target's description": key(spec=SPEC + 'cflags = ["-mfloat-abi=soft"]\n'),
        "the objective": key(opts=replace(OPTS, objective="heap")),
        "the policy": key(opts=replace(OPTS, policy="strict")),
        "the mbedTLS line": key(opts=replace(OPTS, line="2.28")),
        "the number of candidates": key(opts=replace(OPTS, candidates=1)),
        "LTO": key(opts=replace(OPTS, lto=True)),
        "the proof": key(opts=replace(OPTS, proof="mqtt")),
        "the mbedTLS tree": key(tree=dict(TREE, sha256="ef" * 32)),
        "the mbedTLS version": key(tree=dict(TREE, version="3.6.5")),
        "the compiler": key(build=dict(BUILD, compiler="arm-none-eabi-gcc 13.2.1")),
        "the compiler flags": key(build=dict(BUILD, flags=BUILD["flags"] + ["-flto"])),
        "tlsfit's sources": key(sources="ce" * 32),
    }
    assert key() not in variants.values()
    assert len(set(variants.values())) == len(variants), \
        [a for a in variants if list(variants.values()).count(variants[a]) > 1]


def test_what_does_not_decide_the_fit_leaves_the_key():
    same = [changed(["target", "port"], 4433), changed(["probed_at"], "2030-01-01T00:00:00Z"),
            changed(["stats", "elapsed_ms"], 999), changed(["chain", 0, "serial"], "01"),
            changed(["chain", 0, "not_after"], "2040-01-01T00:00:00Z"),
            changed(["chain", 0, "der_b64"], "AAAA"), changed(["chain", 0, "der_len"], 476),
            changed(["records", "max_record_len"], 985),
            changed(["trust_anchor", "source"], "elsewhere/root.pem"),
            changed(["provenance", "script"], "by hand")]
    assert {key(profile=p) for p in same} == {key()}


def test_profile_facts_keep_the_chain_shape_and_drop_the_bytes():
    facts = fitcache.profile_facts(PROFILE)
    assert "target" not in facts and "probed_at" not in facts
    leaf = facts["chain"][0]
    assert leaf["key"] == PROFILE["chain"][0]["key"] and "der_b64" not in leaf
    assert leaf["signature_algorithm"] == PROFILE["chain"][0]["signature_algorithm"]
    assert facts["records"]["mfl_honoured"] == PROFILE["records"]["mfl_honoured"]
    assert "max_record_len" not in facts["records"]
    assert PROFILE["chain"][0]["der_b64"]             # the input is not changed


def test_the_sources_digest_follows_every_file_it_names(tmp_path):
    (tmp_path / "dir" / "sub").mkdir(parents=True)
    (tmp_path / "dir" / "a.py").write_text("a = 1\n")
    (tmp_path / "dir" / "sub" / "b.toml").write_text("b = 2\n")
    (tmp_path / "one.json").write_text("{}\n")
    (tmp_path / "other.py").write_text("not named\n")
    table = {"dir": "a directory", "one.json": "a file"}
    first = fitcache.sources_digest(tmp_path, table)
    assert fitcache.sources_digest(tmp_path, table) == first
    (tmp_path / "other.py").write_text("changed, but not named\n")
    (tmp_path / "dir" / "__pycache__").mkdir()
    (tmp_path / "dir" / "__pycache__" / "a.pyc").write_bytes(b"\0")
    assert fitcache.sources_digest(tmp_path, table) == first
    (tmp_path / "dir" / "sub" / "b.toml").write_text("b = 3\n")
    second = fitcache.sources_digest(tmp_path, table)
    assert second != first
    (tmp_path / "dir" / "new.j2").write_text("{{ x }}\n")
    assert fitcache.sources_digest(tmp_path, table) not in (first, second)


def test_the_shipped_sources_table_names_files_that_exist():
    for rel in fitcache.SEARCH_SOURCES:
        assert (REPO / rel).exists(), rel
    assert len(fitcache.sources_digest()) == 64


def test_entries_are_stored_and_found_by_key(tmp_path):
    k = key()
    assert fitcache.lookup(k, tmp_path) is None
    report = {"gen_options": {"exclude": []}, "rom_bytes": 1}
    fitcache.store(k, {"x": 1}, report, tmp_path)
    assert fitcache.lookup(k, tmp_path) == report
    assert fitcache.lookup(key(fit_target="cortex-m7"), tmp_path) is None
    (entry,) = tmp_path.iterdir()
    assert sorted(p.name for p in entry.iterdir()) == ["inputs.json", "report.json"]


def test_fit_target_orders_the_other_targets_after_the_fitting_cell():
    keys = matrix.cells(["a", "b"], ["cortex-m4", "cortex-m33"])
    deps = matrix.fit_target_depends(keys, "cortex-m33")
    assert deps == {CellKey("a", "cortex-m4", "fitted"): [CellKey("a", "cortex-m33", "fitted")],
                    CellKey("b", "cortex-m4", "fitted"): [CellKey("b", "cortex-m33", "fitted")]}
    assert matrix.fit_target_depends(keys, None) == {}
    text = matrix.ctest_text(keys, lambda k: ["tlsfit", k.slug()], depends=deps)
    assert "set_tests_properties([=[a:cortex-m4:fitted]=] PROPERTIES TIMEOUT 1800 COST 10 " \
           "DEPENDS [=[a:cortex-m33:fitted]=])" in text
    assert text.count("DEPENDS") == 2
