"""How the suite is shared out among pytest-xdist's workers (`./tlsfit test` runs
`pytest -n N --dist loadfile`; docs/testing.md, "Running in parallel").

    order(items)                  the collected tests, the costliest work units first
    unit_of(nodeid)               the work unit a test belongs to (a file, or a group)
    make_scheduler(config, log)   loadfile's scheduler with unit_of as its scope

A work unit runs on one worker from its first test to its last: a file, so its
module-scoped servers and fits start once, or a group of files in SHARED (files that
read one session-scoped fit, which would otherwise run once on each worker).  Units are
handed out in collection order, one at a time, to the worker that is running out of
tests; order() sorts the collection so the longest units go first and the short ones
fill the ends (a long file handed out last would run alone on one core at the end).
"""
# Files that share a session fixture costing minutes: one unit, so the fixture runs once.
SHARED = {
    "tests/test_fit.py": "budget_fit",          # conftest.budget_fit: one whole fit
    "tests/test_bench_gate.py": "budget_fit",
}
# Seconds of a file's slowest tests (setup + call, the 60 slowest of the cold serial full
# tier of 2026-12-07, `./tlsfit test --durations=60`; test_platform_eval.py: about 60 s,
# docs/testing.md).  Only the order matters; a file not listed counts DEFAULT_SECONDS.
FILE_SECONDS = {
    "tests/test_gen4_servers.py": 188,
    "tests/test_bench_gate.py": 143,
    "tests/test_gen.py": 118,
    "tests/test_alpn.py": 110,
    "tests/test_fit.py": 83,
    "tests/test_artifacts.py": 63,
    "tests/test_platform_eval.py": 60,
    "tests/test_fit4.py": 57,
    "tests/test_proof.py": 48,
    "tests/test_probe_chains.py": 43,
    "tests/test_fit_device.py": 42,
    "tests/test_verify.py": 36,
    "tests/test_cli.py": 35,
    "tests/test_gen4_options.py": 33,
    "tests/test_external_rng.py": 32,
    "tests/test_dtls.py": 31,
    "tests/test_p256m.py": 31,
    "tests/test_dtls_gnutls.py": 31,
    "tests/test_mbedtls4.py": 31,
    "tests/test_client_identity.py": 30,
    "tests/test_anchor_parse.py": 26,
    "tests/test_gen_device.py": 26,
    "tests/test_dtls_target.py": 20,
    "tests/test_resume.py": 17,
    "tests/test_psk.py": 17,
    "tests/test_anchor.py": 14,
    "tests/test_platform.py": 14,
    "tests/test_replay.py": 12,
}
DEFAULT_SECONDS = 10


def unit_of(nodeid):
    """The work unit of a test: its file, or the file's SHARED group."""
    path = nodeid.split("::", 1)[0]
    return SHARED.get(path, path)


def unit_seconds(unit):
    """The cost of a work unit: FILE_SECONDS of its files."""
    files = [f for f, u in SHARED.items() if u == unit] or [unit]
    return sum(FILE_SECONDS.get(f, DEFAULT_SECONDS) for f in files)


def order(items):
    """Sorts items in place: by the cost of their work unit, costliest first; a unit's
    tests stay together and in their collected order."""
    first = {}
    for i, item in enumerate(items):
        first.setdefault(unit_of(item.nodeid), i)
    cost = {unit: unit_seconds(unit) for unit in first}
    items.sort(key=lambda it: (-cost[unit_of(it.nodeid)], first[unit_of(it.nodeid)]))


def make_scheduler(config, log):
    """pytest-xdist's loadfile scheduler with unit_of() as its scope."""
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return unit_of(nodeid)

    return UnitScheduling(config, log)
