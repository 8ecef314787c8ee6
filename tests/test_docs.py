"""The user documentation (README.md and docs/*.md) holds together: every relative link
points to a file that exists (and, within Markdown, to a heading that exists), the README
stays a short overview, and no page leaks development history -- issue numbers or commit
hashes -- into user text.  Pure: reads files only."""
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = REPO / "docs"
README_MAX_LINES = 220

# Pages that other branches add: links to them may dangle until those branches are
# merged.  Delete this allowance once docs/exit-codes.md (generated from
# core/errors.py), docs/testing.md (the test tiers) and docs/platform-matrix.md (the
# checked platform matrix) are on the branch.
FROM_OTHER_BRANCHES = set()

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")
ISSUE = re.compile(r"\bissues? *#?\d+", re.IGNORECASE)
# A commit hash standing alone: 7-40 lower-case hex digits with at least one digit and
# one letter (so neither a plain number nor a word like "defaced" matches), not part
# of a longer word, a 0x constant or a path.
COMMIT = re.compile(r"(?<![\w./-])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}(?![\w/-])")
# Test files are the developers' business; only the pages written for them may name one.
DEVELOPER_PAGES = {"architecture.md", "regenerating.md", "testing.md"}
TEST_FILE = re.compile(r"(?<![\w/])test_\w+\.py\b|\btests/(?:\w+/)*test_\w+\.(?:py|c)\b")
# Words of the trade that happen to be hex.
HEX_WORDS = {"ed25519"}


def user_docs():
    return [README] + sorted(DOCS.glob("*.md"))


def prose(path):
    """The lines of a page outside fenced code blocks, with their numbers."""
    inside = False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if FENCE.match(line.lstrip()):
            inside = not inside
            continue
        if not inside:
            yield number, line


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation but '-' and '_' dropped,
    spaces to '-'."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    seen, out = {}, set()
    for _, line in prose(path):
        m = re.match(r"^#{1,6} +(.*?) *#*$", line)
        if not m:
            continue
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(path):
    for number, line in prose(path):
        for target in LINK.findall(re.sub(r"`[^`]*`", "", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):   # http:, https:, mailto:
                continue
            yield number, target


@pytest.mark.parametrize("page", user_docs(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page):
    broken = []
    for number, target in links(page):
        file_part, _, fragment = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        rel = dest.relative_to(REPO).as_posix() if dest.is_relative_to(REPO) else str(dest)
        if not dest.exists():
            if rel not in FROM_OTHER_BRANCHES:
                broken.append(f"{page.name}:{number}: {target} (no such file)")
            continue
        if fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            broken.append(f"{page.name}:{number}: {target} (no heading #{fragment})")
    assert not broken, "\n".join(broken)


def test_readme_is_an_overview():
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines (at most {README_MAX_LINES}): move detail to docs/"


def test_readme_reaches_every_command_within_two_hops():
    """Every command `tlsfit --help` lists is named in the README or in a page it links."""
    from tlsfit.cli import main
    commands = {name for name, _summary, _module in main.COMMANDS}
    reached = README.read_text()
    for _, target in links(README):
        file_part = target.partition("#")[0]
        dest = REPO / file_part
        if file_part.endswith(".md") and dest.exists():
            reached += dest.read_text()
    missing = sorted(c for c in commands if not re.search(rf"tlsfit {re.escape(c)}\b", reached))
    assert not missing, f"commands not reachable from README.md: {missing}"


def test_readme_has_no_exit_code_list():
    """The exit codes live in one generated page; a hand copy in the README drifts."""
    text = README.read_text()
    assert "docs/exit-codes.md" in text
    assert not re.search(r"\b(3[0-9]|4[0-9]|50) \(`", text), "README.md lists exit codes"


def upstream_commits():
    """The platforms' own commits that name the reference trees a platform output was
    checked against (a fact for the user, not this project's history)."""
    tables = "".join(p.read_text() for p in (REPO / "tool/tlsfit/header/platforms").glob("*.toml"))
    return {m.group(0) for m in COMMIT.finditer(tables)}


@pytest.mark.parametrize("page", user_docs(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_issue_numbers_or_commit_hashes(page):
    found = []
    upstream = upstream_commits()
    for number, line in enumerate(page.read_text().splitlines(), 1):
        for rx in (ISSUE, COMMIT):
            found += [f"{page.name}:{number}: {m.group(0)!r}" for m in rx.finditer(line)
                      if m.group(0).lower() not in HEX_WORDS
                      and not any(c.startswith(m.group(0)) for c in upstream)]
    assert not found, "development history in user docs:\n" + "\n".join(found)


@pytest.mark.parametrize("page", [p for p in user_docs() if p.name not in DEVELOPER_PAGES],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_no_test_file_names(page):
    found = [f"{page.name}:{n}: {m.group(0)}" for n, line in enumerate(page.read_text().splitlines(), 1)
             for m in TEST_FILE.finditer(line)]
    assert not found, "test file names in user docs:\n" + "\n".join(found)


@pytest.mark.parametrize("text, leaks", [
    ("fixed in issue 12's goal", True), ("see Issue #18", True), ("issues 3", True),
    ("at commit 9477ea8, all cells", True), ("(commit 840b726)", True),
    ("1,052,078,880 instructions", False), ("0xC02B suite", False), ("defaced", False),
    ("/root/.cache/tlsfit/replay/74e91f9cd68a889643f5/ca.pem", False),
    ("the sha256 is 3f2a9c1e", True), ("tlsfit-probe", False), ("x25519", False),
    ("an Ed25519 key", False),
])
def test_the_history_patterns(text, leaks):
    hits = [m.group(0) for rx in (ISSUE, COMMIT) for m in rx.finditer(text)
            if m.group(0).lower() not in HEX_WORDS]
    assert bool(hits) is leaks


@pytest.mark.parametrize("text, names_one", [
    ("tests/test_gen.py proves it", True), ("run test_replay.py", True),
    ("tests/unit/test_x509.c", True), ("tool/firmware/test_entropy.c", False),
    ("tests/FILE.py", False),
])
def test_the_test_file_pattern(text, names_one):
    assert bool(TEST_FILE.search(text)) is names_one
