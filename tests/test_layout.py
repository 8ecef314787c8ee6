"""The driver's layout rules (issue 12), checked on the source of tool/tlsfit/:

- the library never imports the CLI (tlsfit.cli is imported by nothing but itself;
  its entry point is `python3 -m tlsfit.cli`);
- imports follow the data: a stage imports only itself and earlier stages
  (core < mbedtls < profile < header < host, target < fit < lab < bench < regen < cli), host
  and target do not import each other, and the lab (reference servers, the replica of
  a profiled server) comes after the library -- it may use any stage (the replica
  reads profiles and builds its engine like the prober) -- and is used by the bench,
  the CLI (demo, replay, fit --profile without a host) and the tests, never by the
  library;
- no module uses another module's private name (`from m import _x`, `m._x`).
"""
import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "tool" / "tlsfit"
STAGE = {"core": 0, "mbedtls": 1, "profile": 2, "header": 3, "host": 4,
         "target": 4, "fit": 5, "lab": 6, "bench": 7, "regen": 8, "cli": 9}
SIBLINGS_APART = {("host", "target"), ("target", "host")}


def modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def _resolve(module, is_package, node):
    """The absolute module an ImportFrom names."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module, path):
    """[(imported module, names taken from it, line)] of tlsfit modules, and the local
    names bound to tlsfit modules."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    found, bound = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("tlsfit"):
                    found.append((a.name, [], node.lineno))
                    bound[a.asname or a.name.split(".")[0]] = a.name
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node)
            if not target.startswith("tlsfit"):
                continue
            names = [a.name for a in node.names]
            found.append((target, names, node.lineno))
            for a in node.names:
                sub = f"{target}.{a.name}"
                if (PKG.parent / sub.replace(".", "/")).with_suffix(".py").exists() or \
                        (PKG.parent / sub.replace(".", "/")).is_dir():
                    found.append((sub, [], node.lineno))
                    bound[a.asname or a.name] = sub
    return tree, found, bound


def stage_of(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGE else None


def violations():
    out = []
    for module, path in modules():
        tree, found, bound = imports(module, path)
        mine = stage_of(module)
        for target, names, line in found:
            where = f"{path.relative_to(PKG.parent)}:{line}"
            theirs = stage_of(target)
            if theirs == "cli" and mine != "cli":
                out.append(f"{where}: the library imports the CLI ({target})")
            if mine and theirs and mine != theirs:
                if (mine, theirs) in SIBLINGS_APART:
                    out.append(f"{where}: {mine} imports {theirs} (siblings stay apart)")
                elif theirs == "lab" and mine != "cli":
                    out.append(f"{where}: {mine} imports the test lab ({target})")
                elif STAGE[theirs] > STAGE[mine]:
                    out.append(f"{where}: {mine} imports the later stage {theirs} ({target})")
            for n in names:
                if n.startswith("_") and not n.startswith("__"):
                    out.append(f"{where}: private name {n} imported from {target}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                    node.value.id in bound and node.attr.startswith("_") and \
                    not node.attr.startswith("__"):
                out.append(f"{path.relative_to(PKG.parent)}:{node.lineno}: private name "
                           f"{bound[node.value.id]}.{node.attr}")
    return out


def test_every_module_belongs_to_a_stage():
    loose = [m for m, _ in modules() if m != "tlsfit" and
             stage_of(m) is None]
    assert not loose, f"modules outside the stage packages: {loose}"


def test_imports_follow_the_stages():
    assert violations() == []


@pytest.mark.parametrize("source, expected", [
    ("from ..cli import main\n", "imports the CLI"),
    ("from ..fit import search\n", "later stage fit"),
    ("from ..host import verify\n", "siblings stay apart"),
    ("from ..lab import refservers\n", "test lab"),
    ("from ..header.gen import _rank\n", "private name _rank"),
    ("from ..header import gen\nx = gen._rank\n", "private name tlsfit.header.gen._rank"),
])
def test_the_checker_catches(source, expected, tmp_path, monkeypatch):
    # A stand-in module inside the real package, read only by the checker.
    fake = PKG / "target" / "_layout_probe.py"
    monkeypatch.setattr("test_layout.modules",
                        lambda: iter([("tlsfit.target._layout_probe", fake)]))
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source)
    found = violations()
    assert any(expected in v for v in found), found
