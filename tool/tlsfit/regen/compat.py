"""The rendered half of the compatibility corpus (tests/fixtures/compat/): the probe
summary and the `tlsfit gen` output under each VARIANT of every recorded profile.

    VARIANTS                      variant name -> extra `tlsfit gen` arguments
    recorded_profiles()           the recorded profiles (<name>.json, not *.shape.json)
    render_outputs(profiles)      -> {repo-relative path: text}

The profiles and the *.shape.json files are recorded against live servers by
tests/compat/record.py; only what is computed from them is rendered here, so
`tlsfit regenerate compat` needs no server.  gen runs as `tlsfit gen` would from the
repository root (the header names the profile by its relative path), without
$MBEDTLS_DIR (the corpus is rendered for the set-up trees).
"""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from ..core import paths

CORPUS = ("tests", "fixtures", "compat")
GEN_TIMEOUT = 120

VARIANTS = {
    "default": [],
    "228": ["--mbedtls", "2.28"],
    "strict": ["--policy", "strict"],
    "compat": ["--policy", "compat"],
    "tls12": ["--tls", "1.2"],
    "tls13": ["--tls", "1.3"],
    "notime-pem": ["--no-time", "--pem"],
    "json": ["--json"],
    "explain": ["--explain"],
}


def corpus_dir():
    return paths.repo_root().joinpath(*CORPUS)


def recorded_profiles():
    return sorted(p for p in corpus_dir().glob("*.json") if not p.name.endswith(".shape.json"))


def run_gen(profile_rel, args):
    """`tlsfit gen PROFILE ARGS` as recorded: "exit N" on line 1, then stdout."""
    repo = paths.repo_root()
    env = {k: v for k, v in os.environ.items() if k not in ("MBEDTLS_DIR", "TLSFIT_PROBER")}
    env["PYTHONPATH"] = str(repo / "tool")
    proc = subprocess.run([sys.executable, "-m", "tlsfit.cli", "gen", str(profile_rel), *args],
                          cwd=repo, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=GEN_TIMEOUT)
    return f"exit {proc.returncode}\n{proc.stdout}"


def render_outputs(profiles=None, jobs=2):
    """{path relative to the repository: text} of every summary and gen output."""
    from ..profile import model, summary
    repo = paths.repo_root()
    profiles = recorded_profiles() if profiles is None else profiles
    out, work = {}, []
    for path in profiles:
        rel = path.relative_to(repo)
        out[str(rel.with_suffix(".summary.txt"))] = summary.format_summary(model.load(path)) + "\n"
        work += [(rel, variant) for variant in VARIANTS]
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        texts = pool.map(lambda job: run_gen(job[0], VARIANTS[job[1]]), work)
        for (rel, variant), text in zip(work, texts):
            out[str(rel.with_suffix(f".{variant}.out"))] = text
    return out
