"""Every file of the repository that a program writes, and how it is made again: the
registry behind `tlsfit regenerate` and tests/test_generated.py.

    ENTRIES                 (Generated, ...) in the order `tlsfit regenerate` runs them
    by_name(names)          the entries named (all when none), or a USAGE error
    problems(entry)         -> [one line per stale file or inconsistency]  (writes nothing)
    write(entry)            -> [paths written]   (a rendered entry: its files, now)

Two kinds.  A *rendered* file is a pure function of files in the repository and of
the set-up mbedTLS trees: render() gives its text, the check compares it byte for
byte, and regenerating writes it.  A *measured* table comes out of cross builds or
QEMU runs (minutes, and instruction counts vary per run): the check cannot re-make
it, so consistent() verifies it still covers exactly what its generator measures
today (the option, curve, knob set of rules.toml, the mbedTLS version), and
regenerating runs the bench script (`measure`) only when the entry is named.
"""
import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable, Optional

from ..core import paths
from ..core.errors import GENERATOR, USAGE, TlsfitError
from ..fit.knobs import KNOB_COSTS_PATH
from ..header.costs import COSTS_PATH
from ..mbedtls.names import ERRNAMES


@dataclass(frozen=True)
class Generated:
    """name: as `tlsfit regenerate NAME` takes it; files: what it writes (relative to
    the repository; a directory for the compat corpus); generator: the code that
    makes it; when: when to run it.  render() -> {relative path: text} (rendered) or
    consistent() -> [problem] and measure: the bench command line (measured);
    checked_by: the test that already compares a rendered entry byte for byte."""
    name: str
    files: tuple
    generator: str
    when: str
    render: Optional[Callable] = None
    consistent: Optional[Callable] = None
    measure: tuple = ()
    checked_by: str = ""

    @property
    def measured(self):
        return self.render is None

    @property
    def command(self):
        return f"./tlsfit regenerate {self.name}"


def _errnames():
    from ..mbedtls import tree
    trees = [tree.open_tree(paths.cache_dir() / f"mbedtls-{line}", "the set-up cache")
             for line in tree.SET_UP_LINES]
    script = _load_script(paths.repo_root() / ERRNAMES_GENERATOR)
    return {ERRNAMES_FILE: script.render([t.path for t in trees])}


def _load_script(path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(f"tlsfit_gen_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _schema():
    from ..profile import schema
    return {"docs/profile-schema.json": schema.text()}


def _exit_codes():
    from . import exit_codes
    problems = exit_codes.range_problems()
    if problems:
        raise TlsfitError(GENERATOR, f"docs/exit-codes.md: {problems[0]} (see the ranges in "
                                     "tool/tlsfit/regen/exit_codes.py)")
    return {"docs/exit-codes.md": exit_codes.page()}


def _compat():
    from . import compat
    return compat.render_outputs()


def set_up_tree():
    """The set-up cache's mbedTLS 3.6 tree: the one the measured tables were made on."""
    from ..mbedtls import tree
    return tree.open_tree(paths.cache_dir() / "mbedtls-3.6", "the set-up cache")


def _load_json(rel):
    return json.loads(paths.repo_root().joinpath(rel).read_text(encoding="utf-8"))


def _costs_consistent():
    from ..header import rules
    from . import tables
    return tables.costs_problems(_load_json(COSTS), rules.load(), set_up_tree())


def _knob_costs_consistent():
    from ..header import rules
    from . import tables
    return tables.knob_costs_problems(_load_json(KNOB_COSTS), rules.load(),
                                      tables.load_bench_script("knob_costs"), set_up_tree())


ERRNAMES_FILE = "/".join(ERRNAMES)
ERRNAMES_GENERATOR = "/".join((*ERRNAMES[:-1], "gen_errnames.py"))
COSTS = str(COSTS_PATH.relative_to(paths.repo_root()))
KNOB_COSTS = str(KNOB_COSTS_PATH.relative_to(paths.repo_root()))

ENTRIES = (
    Generated("errnames", (ERRNAMES_FILE,), ERRNAMES_GENERATOR,
              "after ./tlsfit setup fetched another mbedTLS 3.6 or 2.28 release, or "
              "gen_errnames.py's module list changed", render=_errnames),
    Generated("profile-schema", ("docs/profile-schema.json",), "tool/tlsfit/profile/schema.py",
              "after a table of tool/tlsfit/profile/model.py (enums, bounds, curves) or the "
              "prober's suite names changed (docs/profile-schema.md is written by hand)",
              render=_schema, checked_by="tests/test_profile_schema.py"),
    Generated("exit-codes", ("docs/exit-codes.md",), "tool/tlsfit/regen/exit_codes.py",
              "after a code was added to tool/tlsfit/core/errors.py (DRIVER_CODES) or "
              "tool/errors/errors.h (TF_ERRORS)", render=_exit_codes),
    Generated("compat", ("tests/fixtures/compat/*.summary.txt", "tests/fixtures/compat/*.out"),
              "tool/tlsfit/regen/compat.py (recorded profiles: tests/compat/record.py)",
              "only on purpose, when gen's output or the probe summary is meant to change; "
              "say so in the commit", render=_compat, checked_by="tests/test_compat.py"),
    Generated("costs", (COSTS,), "bench/module_costs.py",
              "after a new mbedTLS 3.6 release in the set-up cache, or a curve or module "
              "added to rules.toml (needs arm-none-eabi-gcc; a few minutes)",
              consistent=_costs_consistent, measure=("bench/module_costs.py", "--write")),
    Generated("knob-costs", (KNOB_COSTS,), "bench/knob_costs.py",
              "after a knob was added to or removed from rules.toml [knobs], or a new "
              "mbedTLS 3.6 release (needs QEMU and openssl; 5-10 minutes)",
              consistent=_knob_costs_consistent, measure=("bench/knob_costs.py", "--write")),
)


def by_name(names):
    """The entries named, in ENTRIES order (all when names is empty)."""
    known = {e.name: e for e in ENTRIES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise TlsfitError(USAGE, f"no generated file is called {unknown[0]!r}; "
                                 f"choose from {', '.join(known)}")
    return [e for e in ENTRIES if not names or e.name in names]


def _stale_paths(rendered):
    root = paths.repo_root()
    out = []
    for rel, text in sorted(rendered.items()):
        try:
            current = root.joinpath(rel).read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current != text:
            out.append(rel)
    return out


def problems(entry):
    """One line per stale file (rendered) or inconsistency (measured); [] when current."""
    if entry.measured:
        return [f"{p} -- re-measure: {entry.command}" for p in entry.consistent()]
    return [f"{rel} is stale -- run {entry.command}" for rel in _stale_paths(entry.render())]


def write(entry):
    """Writes a rendered entry's files that differ; returns their paths."""
    rendered = entry.render()
    stale = _stale_paths(rendered)
    for rel in stale:
        paths.write_atomic(paths.repo_root() / rel, rendered[rel])
    return stale


def measure(entry):
    """Runs a measured entry's bench script with --write (minutes); its output goes
    to the terminal."""
    argv = [sys.executable, *entry.measure]
    proc = subprocess.run(argv, cwd=paths.repo_root(), stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise TlsfitError(GENERATOR, f"{entry.generator} --write failed (exit "
                                     f"{proc.returncode}); its output is above")
