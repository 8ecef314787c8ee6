"""How many processes `tlsfit test` runs pytest in (cli/testworkers.py), and the order
the work units are handed out in (tests/scheduling.py).  Pure."""
from types import SimpleNamespace

import pytest

import scheduling
from tlsfit.cli.testworkers import DIST, JOBS_ENV, worker_plan
from tlsfit.core.errors import USAGE, TlsfitError

PARALLEL2 = ["-n", "2", "--dist", DIST]


@pytest.mark.parametrize("args, jobs, env, cpus, xdist, want, note", [
    ([], None, {}, 2, True, PARALLEL2, None),
    ([], None, {}, 1, True, [], "pytest runs serially (1 core)"),
    ([], 3, {JOBS_ENV: "1"}, 2, True, ["-n", "3", "--dist", DIST], None),
    ([], None, {JOBS_ENV: "1"}, 4, True, [], f"pytest runs serially ({JOBS_ENV}=1)"),
    ([], 0, {}, 2, True, [], "pytest runs serially (--jobs 0)"),
    ([], None, {}, 2, False, [], "pytest runs serially: pytest-xdist is not installed "
                                 "(./tlsfit setup installs python3-pytest-xdist)"),
    (["-n", "0"], 4, {}, 2, True, [], "pytest runs serially (-n 0 / -p no:xdist given)"),
    (["-p", "no:xdist"], None, {}, 2, False, [], "pytest runs serially (-n 0 / -p no:xdist given)"),
    (["-n3"], None, {}, 2, True, ["--dist", DIST], None),
    (["--numprocesses=3", "--dist", "load"], None, {}, 2, True, [], None),
    (["-x", "--pdb"], None, {}, 2, True, [], "pytest runs serially (--pdb/--trace need one process)"),
    (["tests/test_gen.py::test_x", "-k", "ccm"], None, {}, 2, True, [],
     "pytest runs serially (one test file)"),
    (["tests/test_gen.py", "tests/test_fit.py"], None, {}, 2, True, PARALLEL2, None),
])
def test_worker_plan(args, jobs, env, cpus, xdist, want, note):
    plan = worker_plan(args, jobs, env, cpus, xdist)
    assert (plan.args, plan.note) == (want, note)


@pytest.mark.parametrize("args, env", [([], {JOBS_ENV: "two"}), ([], {JOBS_ENV: "-1"}),
                                       (["-n", "2"], {})])
def test_worker_plan_refuses(args, env):
    """A bad $TLSFIT_TEST_JOBS, or -n without pytest-xdist: one line, exit 2."""
    with pytest.raises(TlsfitError) as info:
        worker_plan(args, None, env, 2, False)
    assert info.value.code == USAGE and "\n" not in info.value.message


def test_order_puts_costly_units_first_and_keeps_them_together(monkeypatch):
    monkeypatch.setattr(scheduling, "FILE_SECONDS", {"tests/b.py": 50, "tests/c.py": 20,
                                                     "tests/f.py": 40})
    monkeypatch.setattr(scheduling, "SHARED", {"tests/c.py": "g", "tests/f.py": "g"})
    ids = ["tests/a.py::t1", "tests/b.py::t1", "tests/c.py::t1", "tests/a.py::t2",
           "tests/b.py::t2", "tests/f.py::t1"]
    items = [SimpleNamespace(nodeid=i) for i in ids]
    scheduling.order(items)
    assert [i.nodeid for i in items] == [
        "tests/c.py::t1", "tests/f.py::t1",        # the group g: 60 s, one unit
        "tests/b.py::t1", "tests/b.py::t2",
        "tests/a.py::t1", "tests/a.py::t2"]        # unlisted: DEFAULT_SECONDS
    assert scheduling.unit_of("tests/f.py::t1[x::y]") == "g"
