"""What a fit leaves in --out so that a pull request's files can be reproduced.

    profile_names(out, n)         the names the fit's header gives its profile copies
    write_profiles(out, sites)    DIR/profile.json (several servers: profile-N.json)
    regenerated(out, report, opts, n) -> HeaderPlan: the header again, from
                                  the copies and report.json, as `tlsfit gen` renders it
    write_platform(out, report, fmt, ...) DIR/FMT/...: the --for files beside tls_config.h
    build_facts(target)           {compiler, flags}: how the target's mbedTLS was compiled

The fit's header names DIR/profile.json (relative to the repository root when DIR is in
it) and its Regenerate line is `tlsfit gen DIR/profile.json --mbedtls L --policy P
--fit-report DIR/report.json`, which renders DIR/tls_config.h byte for byte;
write_platform() goes that way too and refuses to write when the result differs.
"""
import functools
import subprocess
from pathlib import Path

from ..core import paths
from ..core.errors import INTERNAL, TlsfitError
from ..header import gen, refit
from ..header.commands import regenerate_command
from ..header.platforms import outputs
from ..mbedtls.tree import resolve_tree
from ..profile import model
from ..target.firmware import fw
from ..target.xbuild import LIB_CFLAGS

REPORT = "report.json"


def profile_files(out, n):
    out = Path(out)
    return [out / "profile.json"] if n == 1 else [out / f"profile-{i}.json"
                                                  for i in range(1, n + 1)]


def profile_names(out, n):
    return [refit.repo_name(p) for p in profile_files(out, n)]


def write_profiles(out, sites):
    """The profile each server was fitted to, beside the header (never a key: a
    profile holds the server's public facts only)."""
    files = profile_files(out, len(sites))
    for f, site in zip(files, sites):
        paths.write_atomic(f, model.dump(dict(site.profile.to_json())))
    return files


def command_for(out, n, opts):
    """The fit header's Regenerate command (opts: the GenOptions it is rendered with)."""
    return regenerate_command(profile_names(out, n), opts,
                                  refit.extra_args(Path(out) / REPORT))


def regenerated(out, report, opts, n):
    """The fit's header rendered again from DIR's profile copies and report.json."""
    docs = [model.read(p) for p in profile_files(out, n)]
    opts = refit.apply(opts, report, Path(out) / REPORT)
    return gen.generate_device(docs, opts, profile_names=profile_names(out, n),
                               overrides=refit.overrides(report, Path(out) / REPORT),
                               command=command_for(out, n, opts))


def write_platform(out, report, fmt, opts, n):
    """DIR/FMT/<files> for `fit --for FMT`; [paths written].  The plan is rendered again
    from what the fit wrote, and must be DIR/tls_config.h byte for byte."""
    out = Path(out)
    plan = regenerated(out, report, opts, n)
    if plan.text != (out / "tls_config.h").read_text():
        raise TlsfitError(INTERNAL, f"{out}/tls_config.h does not render again from "
                                    f"{out}/{REPORT}: a defect in tlsfit, please report it")
    cmd = regenerate_command(profile_names(out, n), opts,
                             refit.extra_args(out / REPORT, fmt))
    made = outputs.files(plan, fmt, resolve_tree(line=opts.line), cmd)
    return [paths.write_atomic(out / fmt / name, text) for name, text in made.files.items()]


@functools.lru_cache(maxsize=None)
def _cc_version():
    try:
        proc = subprocess.run([fw.CC, "--version"], capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.splitlines()[0].strip() if proc.returncode == 0 and proc.stdout else None


def build_facts(target):
    """How the measured mbedTLS was compiled: the compiler's --version line and the
    flags every library object got (the configuration header comes on top)."""
    return {"compiler": _cc_version() or fw.CC,
            "flags": [*LIB_CFLAGS, *fw.cpu_flags(target)]}
