"""The bench's fit-result cache: a (profile, target) is fitted once, and while nothing
that decides the fit changes, later runs re-measure the fitted header instead of
searching again.

    inputs = key_inputs(profile, plan, opts, fit_target, target_spec, tree_id, build, sources)
    key = fit_key(inputs)               sha256 hex of the inputs' canonical JSON (pure)
    report = fit_or_remeasure(server, opts, out_dir, fit_target=None, use_cache=True)

What decides a fit, and so is in the key (key_inputs): the profile's facts (PROFILE_VOLATILE
below is what is not), the sizes as gen makes them (its default header's options and
values: IN_CONTENT_LEN is the largest record rounded, so a re-issued certificate a byte
longer is the same fit), the target the fit measured on and its targets/NAME.toml, the
objective, policy, mbedTLS line, number of candidates and proof, the mbedTLS tree's
SHA-256 (mbedtls.tree.identity), the compiler's --version line and flags, and the SHA-256
of tlsfit's own sources that decide the search (SEARCH_SOURCES: rules, templates, gen,
the search, measure, the firmware, the replica).

A hit is never a copied figure: the fitted choices (report.json's gen_options) are
rendered again for this run's profile (as `gen --fit-report` does), that header and
mbedTLS's default configuration are measured on the cell's target against this run's
server, and only a handshake the server accepted counts -- every figure of the cell is
this run's.  What comes from the cached fit is the search history (FROM_FIT: the trials,
the ablation, the content lengths, the Pareto set, 1-minimal), and the report says so in
"fit_cached" {key, fitted_at, fit_target, fit_phases_s, from_fit}.  A cached header that
no longer verifies, or renders to other options than the fit chose, is a miss: the cell
fits again and replaces the entry.

fit_target (`tlsfit bench --fit-target T`): the fit is made once per profile on T and
its header measured on every target (the key then names T, not the cell's target).
"""
import hashlib
import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

from ..core import paths
from ..core.errors import FIT, TlsfitError
from ..core.proc import locked
from ..core.text import say
from ..fit import artifacts, search, sites
from ..fit.report import build_report, render_md
from ..header import gen, refit
from ..mbedtls import tree as tree_mod
from ..profile import model as profile_mod
from ..target.firmware import fw

FORMAT = "tlsfit-fit-cache-1"
# Profile fields that do not decide the fit, each with the reason.  Everything else of
# the profile is in the key.
PROFILE_VOLATILE = {
    "target": "where the server listened in this run (replicas and reference servers bind "
              "a free port); only the header's comments name it",
    "probed_at": "when the probe ran",
    "stats": "how many connections the probe made and how long it took",
    "provenance": "who probed it; the facts it recorded are in the key",
}
# Per certificate (chain[] and trust_anchor): the bytes of a freshly issued certificate.
# gen configures by key type, size and curve and by signature algorithm and hash (in the
# key); sizes enter through gen's values (key_inputs' "gen").
CERT_VOLATILE = {
    "serial": "a fresh certificate's serial",
    "not_before": "issue date (checked at run time, configured by nothing)",
    "not_after": "expiry date (checked at run time, configured by nothing)",
    "der_b64": "the key and signature bytes",
    "der_len": "varies by a byte with each ECDSA signature; gen's rounded sizes are in the key",
    "source": "the path the root was read from",
}
RECORDS_VOLATILE = ("max_record_len", "max_plaintext_len", "max_handshake_msg_len",
                    "certificate_msg_len")     # sizes: in the key through gen's values
# tlsfit's own files whose change can change what a fit chooses (relative to the
# repository root; a directory means every file under it), with the reason.
SEARCH_SOURCES = {
    "tool/tlsfit/header": "candidates, rules, policy, costs, the header gen renders",
    "templates": "the header templates (report and dashboard templates ride along)",
    "tool/tlsfit/fit/search.py": "the search, content lengths and ablation",
    "tool/tlsfit/fit/sites.py": "the servers as the search sees them (trust store, --anchor)",
    "tool/tlsfit/fit/knobs.py": "the knob variants tried",
    "tool/tlsfit/fit/knob_costs.json": "the knob model",
    "tool/tlsfit/fit/objective.py": "how trials are compared",
    "tool/tlsfit/profile/types.py": "how gen reads a profile",
    "tool/tlsfit/mbedtls": "which sources compile, the default configuration",
    "tool/tlsfit/target": "how a header is built, run and judged on the target",
    "tool/tlsfit/core/proof.py": "the proof that the server accepted the session",
    "tool/firmware": "the firmware that runs the handshake",
    "tool/harness": "the TLS client core the firmware shares with the verify client",
    "tool/errors": "the C tools' error table the firmware names its failures from",
    "tool/proof": "the proof's C side",
    "targets": "the targets' CPUs, flags and memory maps",
    "tool/tlsfit/lab/replica": "the replica a library profile is fitted against",
    "tool/replay": "the replica's engine",
}
# What a hit's report keeps from the cached fit (the search that was not run again).
FROM_FIT = ("search", "ablation", "content_lengths", "pareto", "candidates_tried", "minimal")
ENTRY_REPORT, ENTRY_INPUTS = "report.json", "inputs.json"


# ------------------------------------------------------------------ the key (pure)

def _cert_facts(cert):
    return {k: v for k, v in cert.items() if k not in CERT_VOLATILE} \
        if isinstance(cert, dict) else cert


def profile_facts(doc):
    """The profile document without what does not decide the fit (PROFILE_VOLATILE,
    CERT_VOLATILE, RECORDS_VOLATILE)."""
    out = {k: v for k, v in doc.items() if k not in PROFILE_VOLATILE}
    if isinstance(out.get("chain"), list):
        out["chain"] = [_cert_facts(c) for c in out["chain"]]
    if isinstance(out.get("trust_anchor"), dict):
        out["trust_anchor"] = _cert_facts(out["trust_anchor"])
    if isinstance(out.get("records"), dict):
        out["records"] = {k: v for k, v in out["records"].items() if k not in RECORDS_VOLATILE}
    return out


def fit_key(inputs):
    """The cache key of a fit: SHA-256 over the canonical JSON of its inputs."""
    text = json.dumps({"format": FORMAT, **inputs}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def key_inputs(profile_doc, plan_options, plan_values, opts, fit_target, target_spec,
               tree_id, build, sources):
    """Everything that decides the fit, as one JSON-able dict (see the module's docstring).
    plan_options/plan_values: gen's default header for the profile (option names, and
    {name: value}); opts: search.FitOptions; target_spec: the text of targets/T.toml;
    tree_id: mbedtls.tree.identity; build: {compiler, flags}; sources: sources_digest()."""
    proof = opts.proof
    return {
        "profile": profile_facts(profile_doc),
        "gen": {"options": sorted(plan_options), "values": dict(sorted(plan_values.items()))},
        "target": fit_target,
        "target_spec": hashlib.sha256(target_spec.encode()).hexdigest(),
        "objective": opts.objective, "policy": opts.policy, "line": opts.line,
        "candidates": opts.candidates, "lto": bool(opts.lto),
        "proof": getattr(proof, "spec", proof),
        "client": None if opts.client is None else str(opts.client),
        "mbedtls_tree": {"version": tree_id.get("version"), "sha256": tree_id.get("sha256")},
        "build": build,
        "sources": sources,
    }


def sources_digest(root=None, table=SEARCH_SOURCES):
    """SHA-256 over (path, SHA-256 of content) of every file SEARCH_SOURCES names,
    sorted; __pycache__ skipped."""
    root = Path(root or paths.repo_root())
    files = []
    for rel in table:
        p = root / rel
        found = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.is_file())
        files += [f for f in found if "__pycache__" not in f.parts]
    outer = hashlib.sha256()
    for f in sorted(set(files)):
        outer.update(f"{f.relative_to(root)}\0{hashlib.sha256(f.read_bytes()).hexdigest()}\n"
                     .encode())
    return outer.hexdigest()


# ------------------------------------------------------------------ the entries

def cache_root(root=None):
    """The cache's directory (`tlsfit bench --fit-cache-dir`; default <cache>/fits):
    one directory per key."""
    return Path(root) if root else paths.cache_dir() / "fits"


def _entry(key, root=None):
    return cache_root(root) / key[:32]


def lookup(key, root=None):
    """The cached fit's report.json (a dict), or None."""
    try:
        doc = json.loads((_entry(key, root) / ENTRY_REPORT).read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("gen_options") else None


def store(key, inputs, report, root=None):
    """Keeps a fit's report.json (and what keyed it) under its key, atomically."""
    d = _entry(key, root)
    paths.write_atomic(d / ENTRY_INPUTS, json.dumps(inputs, indent=1, sort_keys=True) + "\n")
    paths.write_atomic(d / ENTRY_REPORT, json.dumps(report, indent=1) + "\n")


# ------------------------------------------------------------------ the cell's fit

def _inputs_for(site, opts, fit_target):
    base = search.gen_options(opts, {})
    plan = gen.generate(site.profile, base)
    tree = tree_mod.resolve_tree(None, opts.line)
    spec = (fw.TARGETS_DIR / f"{fit_target}.toml").read_text()
    return key_inputs(dict(site.profile.to_json()), plan.options, {
        k: v[0] for k, v in plan.values.items()}, opts, fit_target, spec,
        tree_mod.identity(tree), artifacts.build_facts(fit_target), sources_digest())


def _remeasure(site, opts, out, cached, key, fit_target, t0):
    """The cached fit's choices rendered for this run's profile and measured (with the
    default) on opts.target against this run's server: the report, or None when it
    no longer verifies or renders to other options."""
    out = Path(out)
    progress = search.Progress(opts.progress)
    fitter = search.Fitter([site], opts, out, progress)
    gen_opts = refit.apply(search.gen_options(opts, fitter.client), cached)
    final = fitter.make(f"cached fit ({cached.get('chosen')})", gen_opts,
                        refit.overrides(cached), "cached")
    if dict(final.plan.options) != cached.get("options") or \
            {k: v[0] for k, v in final.plan.values.items()} != cached.get("values"):
        progress.say("[cache] the cached choices render to other options now: fitting")
        return None
    t1 = time.monotonic()
    progress.say(f"[cache] hit {key[:12]} (fitted on {fit_target} at {cached.get('date')}): "
                 "measuring its header and mbedTLS's default configuration")
    try:
        search.confirm(fitter, final)
    except TlsfitError as e:
        if e.code != FIT:
            raise
        progress.say(f"[cache] the cached header did not verify ({e.message}): fitting")
        return None
    fitter.trials = [final]
    fitter.ablation = list(cached.get("ablation") or ())
    fitter.sizes = list(cached.get("content_lengths") or ())
    phases = {"probe": round(t1 - t0, 1), "baseline": round(time.monotonic() - t1, 1),
              "total": round(time.monotonic() - t0, 1)}
    report = build_report(fitter, final, cached.get("minimal"), site.host, site.port, phases)
    for k in FROM_FIT:
        report[k] = cached.get(k)
    report["fit_cached"] = {"key": key, "fitted_at": cached.get("date"),
                            "fit_target": fit_target, "fit_phases_s": cached.get("phases_s"),
                            "from_fit": list(FROM_FIT)}
    artifacts.write_profiles(out, [site])
    paths.write_atomic(out / "tls_config.h", final.plan.text)
    paths.write_atomic(out / "report.json", json.dumps(report, indent=2) + "\n")
    paths.write_atomic(out / "report.md", render_md(report, [site.profile]))
    return report


def _site(hostport, opts, work):
    """The one server, probed (or opts.profile), and opts naming a profile file."""
    progress = search.Progress(opts.progress)
    dev = sites.as_device(hostport, opts)
    (site,) = sites.probe_sites(dev, opts, Path(work), progress)
    if opts.profile is None:           # the fit reads the same facts instead of probing again
        f = paths.write_atomic(Path(work) / "probed-profile.json",
                               profile_mod.dump(dict(site.profile.to_json())))
        opts = replace(opts, profile=str(f))
    return site, opts


def fit_or_remeasure(hostport, opts, out_dir, fit_target=None, use_cache=True,
                     cache_dir=None):
    """The cell's fit: a cache hit re-measured on opts.target (see the module's
    docstring), or search.fit (on fit_target when it is another target, then
    re-measured on opts.target) and the result kept.  Returns report.json's document;
    report["fit_cached"] is None after a fresh fit on the cell's own target."""
    t0 = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    site, opts = _site(hostport, opts, out / "probe")
    fit_target = fit_target or opts.target
    if not use_cache:
        return dict(search.fit(hostport, opts, out), fit_cached=None)
    inputs = _inputs_for(site, opts, fit_target)
    key = fit_key(inputs)
    # one fit per key at a time: a second cell waits for the first and then hits
    with locked(_entry(key, cache_dir)):
        cached = lookup(key, cache_dir)
        if cached is not None:
            report = _remeasure(site, opts, out, cached, key, fit_target, t0)
            if report is not None:
                return report
        fit_dir = out if fit_target == opts.target else out / f"fit-on-{fit_target}"
        say(f"bench: fit cache miss {key[:12]}: fitting {site.hostport} on {fit_target}")
        report = search.fit(hostport, replace(opts, target=fit_target), fit_dir)
        store(key, inputs, report, cache_dir)
    if fit_target == opts.target:
        return dict(report, fit_cached=None)
    shutil.rmtree(out / "candidates", ignore_errors=True)
    again = _remeasure(site, opts, out, report, key, fit_target, t0)
    if again is None:
        raise TlsfitError(FIT, f"the header fitted on {fit_target} does not verify on "
                               f"{opts.target}; fit on each target (without --fit-target)")
    return again
