"""`tlsfit fit`: the best configuration that completes a verified handshake on the target.

    report = fit(host, port, FitOptions(target="cortex-m4", ...), out_dir)

Phases (each timed in report["phases_s"]):
  probe     tlsfit-probe records what the server accepts (or --profile reuses one)
  search    gen's candidates (version, suite, group, signature scheme) the policy allows,
            cheapest first by gen's measured object sizes (costs.json); the top
            --candidates of them, each with gen's lean knobs and, for the speed and
            balanced objectives, with the knob settings the measured knob model
            (knob_costs.json) says buy instructions -- not the cross product.  Every
            header is measured under QEMU (measure.py); only verified handshakes count.
  content lengths
            MBEDTLS_SSL_OUT_CONTENT_LEN 256 and 512 instead of gen's 1024 on the best one,
            measured; the smallest that verifies and is no worse by the objective stays
            (report["content_lengths"]).  IN_CONTENT_LEN keeps gen's headroom.
  ablation  on the best one: remove each remaining option in turn; a removal is kept when
            the handshake still completes and verifies and the objective is no worse
            (dropping MBEDTLS_HAVE_ASM verifies but costs flash and time: kept).  Options another enabled option
            requires (rules.toml), the security pins (PINNED) and gen's size knobs are
            not tried; each skip is listed with its reason.  Passes repeat until one
            removes nothing: the result is 1-minimal.
  baseline  the final header and mbedTLS's default configuration, measured in one run.
Writes DIR/tls_config.h, DIR/report.json, DIR/report.md (and DIR/candidates/).
"""
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from . import gen, measure as measure_mod, paths, policy as policy_mod, probe as probe_mod, \
    profile as profile_mod, rules as rules_mod
from .errors import CONFIG, FIT, TlsfitError
from .verify import parse_target

KNOB_COSTS_PATH = Path(__file__).resolve().parent / "knob_costs.json"
OBJECTIVES = ("rom", "heap", "ram", "speed", "balanced")
FIGURES = ("rom_bytes", "rom_tls_bytes", "ram_static_bytes", "heap_peak_bytes",
           "stack_peak_bytes", "handshake_instructions")
# Never removed by the ablation: certificate verification, validity dates, the entropy
# source and allocator hooks the application relies on, the server name.
PINNED = {
    "MBEDTLS_X509_CRT_PARSE_C": "certificate verification",
    "MBEDTLS_X509_USE_C": "certificate verification",
    "MBEDTLS_SSL_TLS_C": "TLS itself", "MBEDTLS_SSL_CLI_C": "TLS itself",
    "MBEDTLS_HAVE_TIME": "certificate validity dates",
    "MBEDTLS_HAVE_TIME_DATE": "certificate validity dates",
    "MBEDTLS_PLATFORM_MS_TIME_ALT": "certificate validity dates",
    "MBEDTLS_PLATFORM_C": "the application's allocator hook",
    "MBEDTLS_PLATFORM_MEMORY": "the application's allocator hook",
    "MBEDTLS_ENTROPY_C": "the device's entropy source",
    "MBEDTLS_ENTROPY_HARDWARE_ALT": "the device's entropy source",
    "MBEDTLS_NO_PLATFORM_ENTROPY": "bare metal has no OS entropy",
    "MBEDTLS_SSL_SERVER_NAME_INDICATION": "servers pick their certificate by name",
    "MBEDTLS_SSL_EXTENDED_MASTER_SECRET": "TLS 1.2 session security",
    "MBEDTLS_SSL_ENCRYPT_THEN_MAC": "CBC session security",
    "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH": "the server's application records must fit the input buffer",
    "MBEDTLS_SSL_RECORD_SIZE_LIMIT": "the server's application records must fit the input buffer",
}
MAX_PASSES = 3
# Output buffer sizes the content-length step tries below gen's 1024 (smallest first).
# The client's own records must fit (ClientHello, ClientKeyExchange: 518 bytes with an
# RSA-4096 server key); longer application writes are split by mbedtls_ssl_write().
OUT_CONTENT_TRIES = (256, 512)


@dataclass
class FitOptions:
    target: str = "cortex-m4"
    objective: str = "balanced"
    policy: str = "default"
    line: str = "3.6"
    sni: str = None
    ca: str = None
    candidates: int = 3
    jobs: int = 2
    timeout: int = 60
    profile: str = None          # reuse this profile instead of probing
    progress: bool = True


@dataclass
class Trial:
    """One header measured on the target."""
    label: str
    config: Path
    gen_opts: gen.GenOptions
    plan: gen.Plan
    report: dict = None
    error: str = None
    phase: str = "search"
    removed: tuple = ()

    @property
    def ok(self):
        return bool(self.report and (self.report.get("handshake") or {}).get("ok"))

    def figures(self):
        return {k: self.report.get(k) for k in FIGURES} if self.report else {}


class Progress:
    def __init__(self, enabled):
        self.enabled = enabled
        self.start = time.monotonic()

    def say(self, msg):
        if self.enabled:
            print(f"tlsfit fit: {msg}", file=sys.stderr, flush=True)

    def step(self, phase, done, total, began):
        if not self.enabled:
            return
        spent = time.monotonic() - began
        left = spent / done * (total - done) if done else 0
        self.say(f"[{phase}] {done}/{total} measured, {time.monotonic() - self.start:.0f} s "
                 f"so far, ~{left:.0f} s left in this phase")


# ------------------------------------------------------------------ scoring

def score(objective, fig, best=None):
    """Smaller is better.  balanced: ROM, peak heap and instructions, each relative to
    the best seen (so each counts alike)."""
    if objective == "rom":
        return (fig["rom_bytes"], fig["heap_peak_bytes"])
    if objective == "heap":
        return (fig["heap_peak_bytes"], fig["rom_bytes"])
    if objective == "ram":
        return (fig["ram_static_bytes"] + fig["heap_peak_bytes"] + fig["stack_peak_bytes"],
                fig["rom_bytes"])
    if objective == "speed":
        return (fig["handshake_instructions"] or float("inf"), fig["rom_bytes"])
    best = best or fig
    return (sum(fig[k] / max(1, best[k]) for k in
                ("rom_bytes", "heap_peak_bytes", "handshake_instructions")),)


def _best_of(trials):
    return {k: min(t.figures()[k] for t in trials) for k in
            ("rom_bytes", "heap_peak_bytes", "handshake_instructions")}


def pareto(trials):
    """Verified trials no other verified trial beats on ROM, peak heap and instructions."""
    keys = ("rom_bytes", "heap_peak_bytes", "handshake_instructions")
    ok = [t for t in trials if t.ok and t.report.get("handshake_instructions")]
    front = []
    for t in ok:
        f = t.figures()
        dominated = any(all(o.figures()[k] <= f[k] for k in keys) and
                        any(o.figures()[k] < f[k] for k in keys) for o in ok if o is not t)
        if not dominated and not any(p.figures() == f for p in front):
            front.append(t)
    return sorted(front, key=lambda t: t.figures()["rom_bytes"])


# ------------------------------------------------------------------ knob variants

NIST_CURVES = ("MBEDTLS_ECP_DP_SECP256R1_ENABLED", "MBEDTLS_ECP_DP_SECP384R1_ENABLED",
               "MBEDTLS_ECP_DP_SECP521R1_ENABLED")


def _predicted(objective, delta, lean):
    """The change a knob setting makes to the objective, from the model (negative: better)."""
    d = {k: delta.get(k) or 0 for k in FIGURES}
    if objective == "rom":
        return d["rom_bytes"]
    if objective == "heap":
        return d["heap_peak_bytes"]
    if objective == "ram":
        return d["ram_static_bytes"] + d["heap_peak_bytes"] + d["stack_peak_bytes"]
    if objective == "speed":
        return d["handshake_instructions"]
    return sum(d[k] / max(1, lean.get(k) or 1) for k in
               ("rom_bytes", "heap_peak_bytes", "handshake_instructions"))


def _setting(value):
    return {"on": True, "off": None}.get(value, int(value) if str(value).isdigit() else value)


def knob_variants(objective, candidate, plan, rules, model=None):
    """gen's lean knobs, plus the one setting (or measured combination) that the knob
    model (knob_costs.json, measured on the target) predicts improves the objective
    most for the closest reference scenario.  Knobs that do not apply to the header,
    ECP knobs without a NIST curve, and changes within the model's noise are skipped."""
    variants = [("lean knobs", {})]
    if model is None:
        try:
            model = json.loads(KNOB_COSTS_PATH.read_text())
        except (OSError, ValueError):
            return variants
    want_tls13 = candidate.version == "TLSv1.3"
    want_rsa = "RSA" in candidate.kx or (candidate.sigalg or "").startswith("rsa")
    scenarios = model.get("scenarios", {})
    if not scenarios:
        return variants
    name = max(scenarios, key=lambda n: (("tls13" in n) == want_tls13) + 2 * (("rsa" in n) == want_rsa))
    sc = scenarios[name]
    applies = {k.name for k in rules.knobs_for(plan.options, plan.line)}
    nist = any(o in plan.options for o in NIST_CURVES)
    noise = model.get("noise_floor_instructions", 0)
    best = None
    for key, delta in list(sc.get("knobs", {}).items()) + list(sc.get("combos", {}).items()):
        settings = dict(part.split("=", 1) for part in key.split("+"))
        if not all(k in applies or k == "MBEDTLS_ECP_NIST_OPTIM" and nist for k in settings):
            continue
        if any(k.startswith("MBEDTLS_ECP_") for k in settings) and not nist:
            continue
        if objective in ("speed", "balanced") and \
                abs(delta.get("handshake_instructions") or 0) <= noise:
            continue
        gain = _predicted(objective, delta, sc.get("lean", {}))
        if gain < 0 and (best is None or gain < best[0]):
            best = (gain, key, {k: _setting(v) for k, v in settings.items()})
    if best:
        variants.append((f"{best[1]} (knob_costs.json, {name})", best[2]))
    return variants


# ------------------------------------------------------------------ the search

class Fitter:
    def __init__(self, doc, host, port, opts, out_dir, progress):
        self.doc, self.host, self.port, self.opts = doc, host, port, opts
        self.out = Path(out_dir)
        self.work = self.out / "candidates"
        self.progress = progress
        self.rules = rules_mod.load()
        self.trials = []
        self.ablation = []
        self.sizes = []
        self.counter = 0
        self.sni = opts.sni or (doc.get("target") or {}).get("sni") or host

    def _plan(self, gen_opts):
        return gen.generate(self.doc, gen_opts, profile_name=f"probe of {self.host}:{self.port}",
                            rules=self.rules)

    def _make(self, label, gen_opts, phase, removed=(), plan=None):
        plan = plan or self._plan(gen_opts)
        self.counter += 1
        d = self.work / f"{self.counter:02d}"
        cfg = paths.write_atomic(d / "tls_config.h", plan.text)
        return Trial(label, cfg, gen_opts, plan, phase=phase, removed=tuple(removed))

    def _measure(self, trial):
        try:
            trial.report = measure_mod.measure(
                trial.config, self.opts.target, self.host, self.port, sni=self.sni,
                ca=self.opts.ca, line=self.opts.line, timeout=self.opts.timeout, progress=False)
            if not trial.ok:
                hs = trial.report.get("handshake") or {}
                trial.error = f"{hs.get('error')} in {hs.get('state')}"
        except TlsfitError as e:
            trial.error = e.message if e.code != CONFIG else f"rejected by check_config.h: {e.message}"
        return trial

    def _run_all(self, trials, phase):
        began = time.monotonic()
        done = 0
        with ThreadPoolExecutor(max_workers=max(1, self.opts.jobs)) as pool:
            for _ in pool.map(self._measure, trials):
                done += 1
                self.progress.step(phase, done, len(trials), began)
        self.trials += trials
        return trials

    def search(self):
        base = gen.GenOptions(line=self.opts.line, policy=self.opts.policy)
        _, _, rows, _, pol, _ = gen.enumerate_candidates(self.doc, base, self.rules)
        usable = [r for r in rows if not r[3]]
        kept, _, _ = policy_mod.apply(pol, [r[0] for r in usable])
        cost = {r[0]: r[2] for r in usable}
        kept.sort(key=lambda c: (cost[c], gen._rank(c, self.rules)))
        picked = []
        for c in kept:                       # distinct suites/groups; both versions if offered
            if any(p.suite == c.suite and p.version == c.version for p in picked):
                continue
            picked.append(c)
        versions = {c.version for c in kept}
        chosen = picked[: self.opts.candidates]
        for v in versions - {c.version for c in chosen}:
            chosen.append(next(c for c in picked if c.version == v))
        if not chosen:
            gen.generate(self.doc, base, rules=self.rules)   # raises the Refusal with reasons
        trials = []
        for c in chosen:
            lean_opts = replace(base, candidate=c)
            lean = self._plan(lean_opts)
            for knob_label, knobs in knob_variants(self.opts.objective, c, lean, self.rules):
                trials.append(self._make(f"{c.label()}, {knob_label}",
                                         replace(lean_opts, knob_values=knobs), "search",
                                         plan=None if knobs else lean))
        self.progress.say(f"[search] {len(chosen)} of {len(kept)} candidates the policy allows "
                          f"(cheapest by the cost model), {len(trials)} headers to measure")
        return self._run_all(trials, "search")

    def best(self, trials):
        ok = [t for t in trials if t.ok]
        if not ok:
            return None
        ref = _best_of(ok)
        return min(ok, key=lambda t: score(self.opts.objective, t.figures(), ref))

    def content_lengths(self, best):
        """The smallest MBEDTLS_SSL_OUT_CONTENT_LEN whose handshake verifies, measured.
        MBEDTLS_SSL_IN_CONTENT_LEN stays gen's (the server's largest handshake message and
        headroom): a smaller one fails on the server's next, larger certificate."""
        name = "MBEDTLS_SSL_OUT_CONTENT_LEN"
        current = best.plan.values[name][0]
        tries = [n for n in OUT_CONTENT_TRIES if n < current]
        if not tries:
            return best
        trials = [self._make(f"{best.label}, {name} {n}", replace(
            best.gen_opts, sizes={**best.gen_opts.sizes, name: n}), "content lengths")
            for n in tries]
        self.progress.say(f"[content lengths] trying {name} " + ", ".join(map(str, tries)))
        self._run_all(trials, "content lengths")
        ref = _best_of([best] + [t for t in trials if t.ok])
        mine = score(self.opts.objective, best.figures(), ref)
        for t in trials:
            self.sizes.append({"option": name, "value": t.gen_opts.sizes[name], "ok": t.ok,
                               "error": t.error, **t.figures()})
        good = [t for t in trials if t.ok and score(self.opts.objective, t.figures(), ref) <= mine]
        return min(good, key=lambda t: t.gen_opts.sizes[name]) if good else best

    def _removable(self, trial):
        """(option, None) to try, or (option, reason) not tried."""
        enabled = trial.plan.options
        out = []
        for name in sorted(enabled):
            if name in PINNED:
                out.append((name, f"pinned: {PINNED[name]}"))
                continue
            if name in self.rules.knobs:
                out.append((name, "a size knob, not a feature"))
                continue
            needed_by = [o for o in enabled if o != name and o in self.rules.options and any(
                item == name or (not isinstance(item, str) and
                                 all(a == name or a not in enabled for a in item))
                for item in self.rules.options[o].requires)]
            if needed_by:
                out.append((name, f"required by {needed_by[0]} (rules.toml)"))
                continue
            out.append((name, None))
        return out

    def ablate(self, best):
        current = best
        for n in range(1, MAX_PASSES + 1):
            verdicts = self._removable(current)
            tries = [(o, why) for o, why in verdicts if why is None]
            if n == 1:
                self.ablation += [{"option": o, "result": "not tried", "why": why,
                                   **dict.fromkeys(COST_KEYS)} for o, why in verdicts if why]
            trials = [self._make(f"without {o}", replace(current.gen_opts, exclude=tuple(
                current.gen_opts.exclude) + (o,)), "ablation", (o,)) for o, _ in tries]
            self.progress.say(f"[ablation pass {n}] trying to remove {len(trials)} options "
                              f"one at a time")
            self._run_all(trials, f"ablation {n}")
            removed = []
            ref = _best_of([current] + [t for t in trials if t.ok])
            mine = score(self.opts.objective, current.figures(), ref)
            for t in trials:
                better = t.ok and score(self.opts.objective, t.figures(), ref) <= mine
                why = ("handshake verified without it" if better else
                       f"handshake verified without it, but {self.opts.objective} got worse"
                       if t.ok else t.error)
                self.ablation.append({"option": t.removed[0], "pass": n,
                                      "result": "removed" if better else "kept", "why": why,
                                      **option_cost(current, t)})
                if better:
                    removed.append(t.removed[0])
            if not removed:
                return current, True
            combined = replace(current.gen_opts, exclude=tuple(current.gen_opts.exclude) +
                               tuple(removed))
            merged = self._make(f"{best.label} without {', '.join(removed)}", combined,
                                "ablation", removed)
            self._run_all([merged], f"ablation {n} combined")
            if not merged.ok:          # removals that only work one at a time: keep the best one
                single = self.best([t for t in trials if t.ok])
                current = single
            else:
                current = merged
        return current, False


# ------------------------------------------------------------------ report

COST_KEYS = ("rom_cost_bytes", "ram_cost_bytes", "heap_cost_bytes", "instructions_cost")


def option_cost(with_it, without_it):
    """What one option costs, measured: the figures of the header with it minus the
    header without it (the ablation's two builds).  Flash and static RAM come from the
    link, so they are known whenever both linked; heap and instructions only when both
    completed the handshake (a failed one stops early)."""
    a, b = with_it.figures(), without_it.figures()
    out = {}
    for key, field in zip(COST_KEYS, ("rom_bytes", "ram_static_bytes", "heap_peak_bytes",
                                      "handshake_instructions")):
        both = a.get(field) is not None and b.get(field) is not None
        if field in ("heap_peak_bytes", "handshake_instructions"):
            both = both and with_it.ok and without_it.ok
        out[key] = a[field] - b[field] if both else None
    return out


def _handshake(trial):
    hs = dict((trial.report or {}).get("handshake") or {})
    out = {k: hs.get(k) for k in ("ok", "version", "ciphersuite", "group", "error")}
    out["sigalg"] = trial.plan.chosen[0].sigalg if trial.plan.chosen else None
    return out


def _row(t):
    return {"label": t.label, "config": str(t.config), **t.figures()}


def build_report(fitter, final, minimal, host, port, phases):
    r = {"server": f"{host}:{port}", "target": fitter.opts.target,
         "objective": fitter.opts.objective, "policy": fitter.opts.policy,
         "mbedtls": final.report.get("mbedtls"), "handshake": _handshake(final),
         **final.figures(), "modules": final.report.get("modules"),
         "baseline": None, "ratios": None, "minimal": minimal,
         "candidates_tried": len(fitter.trials),
         "pareto": [_row(t) for t in pareto(fitter.trials)],
         "config_path": str(fitter.out / "tls_config.h"),
         "chosen": final.plan.chosen[0].label(),
         "options": {k: v for k, v in final.plan.options.items()},
         "values": {k: v[0] for k, v in final.plan.values.items()},
         "removed": list(final.gen_opts.exclude),
         "ablation": fitter.ablation,
         "content_lengths": fitter.sizes,
         "search": [{"label": t.label, "phase": t.phase, "ok": t.ok, "error": t.error,
                     **t.figures()} for t in fitter.trials],
         "phases_s": phases}
    base = final.report.get("baseline")
    if base:
        r["baseline"] = {"handshake": {k: (base.get("handshake") or {}).get(k) for k in
                                       ("ok", "version", "ciphersuite", "group", "error")},
                         **{k: base.get(k) for k in FIGURES}}
        r["ratios"] = final.report.get("ratios")
    return r


def _kib(n):
    return "-" if n is None else f"{n / 1024:.1f} KiB"


def render_md(r, doc):
    hs, base = r["handshake"], r["baseline"] or {}
    lines = [f"# tlsfit fit: {r['server']} on {r['target']}", "",
             f"Objective **{r['objective']}**, policy **{r['policy']}**, mbedTLS {r['mbedtls']}. "
             f"Handshake verified on the emulated target: **{hs['version']} {hs['ciphersuite']}**, "
             f"group {hs['group']}, signature {hs['sigalg']}.", "",
             "## Server facts", "",
             f"- versions: {', '.join(doc.get('versions', []))}",
             "- certificate chain: " + " <- ".join(
                 f"{c['subject']} ({c['key']['type']} {c['key'].get('curve') or c['key']['bits']}, "
                 f"{c['signature_algorithm']})" for c in doc.get("chain", [])),
             f"- trust anchor: {(doc.get('trust_anchor') or {}).get('subject')}",
             f"- largest record {doc['records'].get('max_plaintext_len')} B, Certificate "
             f"message {doc['records'].get('certificate_msg_len')} B", "",
             "## Why this suite", "",
             f"Every suite, group and signature scheme the server accepts and policy "
             f"{r['policy']} allows was costed; the cheapest {sum(1 for s in r['search'] if s['phase'] == 'search')} "
             f"headers were measured on {r['target']} and the best by {r['objective']} kept: "
             f"{r['chosen']}.", "",
             "## Figures (measured in one run, same server)", "",
             *([f"mbedTLS's default configuration failed its handshake with this server "
                f"({(base.get('handshake') or {}).get('error')}); its heap and instruction "
                "figures stop at the failure.", ""]
               if base and not (base.get("handshake") or {}).get("ok") else []),
             "| | fitted | mbedTLS default | ratio |", "|---|---:|---:|---:|"]
    for k in FIGURES:
        v, b = r.get(k), base.get(k)
        ratio = (r.get("ratios") or {}).get(k)
        fmt = (lambda x: f"{x:,}") if k == "handshake_instructions" else _kib
        lines.append(f"| {k} | {fmt(v) if v is not None else '-'} | "
                     f"{fmt(b) if b is not None else '-'} | {ratio if ratio is not None else '-'} |")
    lines += ["", f"1-minimal: **{'yes' if r['minimal'] else 'no'}** "
                  f"({r['candidates_tried']} headers measured).", "",
              "## Options and what removing them did", "",
              "Cost: flash (and peak heap) of the header with the option minus the header "
              "without it, both measured on the target; - where the option was not tried.", "",
              "| option | result | flash cost | heap cost | why |", "|---|---|---:|---:|---|"]
    for a in r["ablation"]:
        rom, heap = a.get("rom_cost_bytes"), a.get("heap_cost_bytes")
        lines.append(f"| {a['option']} | {a['result']} | "
                     f"{'-' if rom is None else f'{rom:+,} B'} | "
                     f"{'-' if heap is None else f'{heap:+,} B'} | {a.get('why') or ''} |")
    if r.get("content_lengths"):
        lines += ["", "## Content lengths tried", "", "| option | value | handshake | peak heap |",
                  "|---|---:|---|---:|"]
        for c in r["content_lengths"]:
            lines.append(f"| {c['option']} | {c['value']} | "
                         f"{'verified' if c['ok'] else c.get('error') or 'failed'} | "
                         f"{_kib(c.get('heap_peak_bytes'))} |")
    lines += ["", "## Pareto front (ROM, peak heap, instructions)", "",
              "| header | ROM | heap | instructions |", "|---|---:|---:|---:|"]
    for p in r["pareto"]:
        lines.append(f"| {p['label']} | {_kib(p['rom_bytes'])} | {_kib(p['heap_peak_bytes'])} | "
                     f"{p['handshake_instructions']:,} |")
    lines += ["", "Largest mbedTLS objects: " + ", ".join(
        f"{m['object']} {m['bytes']}" if isinstance(m, dict) and "object" in m else str(m)
        for m in (r.get("modules") or [])[:6]), ""]
    return "\n".join(lines)


# ------------------------------------------------------------------ entry point

def fit(target_text, opts, out_dir):
    host, port = parse_target(target_text)
    progress = Progress(opts.progress)
    phases = {}
    t0 = time.monotonic()
    if opts.profile:
        doc = profile_mod.load(opts.profile)
    else:
        progress.say(f"[probe] probing {host}:{port}")
        popts = probe_mod.Options(sni=opts.sni, cas=[opts.ca] if opts.ca else [], timeout=5)
        doc = probe_mod.run(f"[{host}]:{port}" if ":" in host else f"{host}:{port}", popts)
    phases["probe"] = round(time.monotonic() - t0, 1)
    gen.generate(doc, gen.GenOptions(line=opts.line, policy=opts.policy))   # refuse early
    fitter = Fitter(doc, host, port, opts, out_dir, progress)
    t1 = time.monotonic()
    best = fitter.best(fitter.search())
    phases["search"] = round(time.monotonic() - t1, 1)
    if best is None:
        errs = "; ".join(sorted({t.error for t in fitter.trials if t.error}))[:400]
        raise TlsfitError(FIT, f"{host}:{port}: no candidate completed a verified handshake on "
                               f"{opts.target}: {errs}")
    t2 = time.monotonic()
    best = fitter.content_lengths(best)
    phases["content_lengths"] = round(time.monotonic() - t2, 1)
    t2 = time.monotonic()
    final, minimal = fitter.ablate(best)
    phases["ablation"] = round(time.monotonic() - t2, 1)
    t3 = time.monotonic()
    progress.say("[baseline] measuring the final header and mbedTLS's default configuration")
    rep = measure_mod.measure(final.config, opts.target, host, port, sni=fitter.sni, ca=opts.ca,
                              line=opts.line, timeout=opts.timeout, baseline=True, progress=False)
    if not (rep.get("handshake") or {}).get("ok"):
        raise TlsfitError(FIT, f"the final header failed its confirming handshake: "
                               f"{rep['handshake'].get('error')}")
    final.report = rep
    phases["baseline"] = round(time.monotonic() - t3, 1)
    phases["total"] = round(time.monotonic() - t0, 1)
    report = build_report(fitter, final, minimal, host, port, phases)
    out = Path(out_dir)
    paths.write_atomic(out / "tls_config.h", final.plan.text)
    paths.write_atomic(out / "report.json", json.dumps(report, indent=2) + "\n")
    paths.write_atomic(out / "report.md", render_md(report, doc))
    return report


SUMMARY = "search for the smallest verified configuration on a Cortex-M target"
HELP = """\
Probes the server, builds candidate configurations, measures each with a real
handshake under QEMU (tlsfit measure), keeps only verified ones, tries smaller
output buffers (MBEDTLS_SSL_OUT_CONTENT_LEN 256, 512), then removes options one
at a time while the handshake still verifies (1-minimal).  Writes
DIR/tls_config.h, DIR/report.md (for a pull request) and DIR/report.json.

objectives:
  rom       smallest flash            heap   smallest peak heap
  ram       smallest heap+stack+static speed  fewest handshake instructions
  balanced  ROM, heap and instructions, each relative to the best seen (default)

A server mbedTLS cannot talk to is refused (exit 38) and no tls_config.h is
written; when no candidate verifies, exit 42.

examples:
  ./tlsfit fit broker.example.com:8883 --target cortex-m4 --out fit-broker
  ./tlsfit fit 127.0.0.1:4433 --sni localhost --ca root.pem --objective rom --json
"""


def configure(p):
    p.add_argument("server", metavar="HOST[:PORT]", help="the server; port 443 when omitted")
    p.add_argument("--target", default="cortex-m4", help="target in targets/ (default cortex-m4)")
    p.add_argument("--sni", help="server name to send and check (default HOST)")
    p.add_argument("--ca", help="trust anchor file (default: the system store)")
    p.add_argument("--objective", choices=OBJECTIVES, default="balanced")
    p.add_argument("--policy", choices=tuple(policy_mod.POLICIES), default="default")
    p.add_argument("--mbedtls", choices=gen.LINES, help="mbedTLS line (default: as gen)")
    p.add_argument("--candidates", type=int, default=3, metavar="N",
                   help="suites/groups to measure from the cost model's top (default 3)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2, metavar="N",
                   help="measurements run at once (default: the number of CPUs)")
    p.add_argument("--profile", metavar="FILE", help="use this profile instead of probing")
    p.add_argument("--out", default="fit", metavar="DIR", help="output directory (default fit/)")
    p.add_argument("--json", action="store_true", help="print report.json on stdout, nothing else")


def run(args):
    opts = FitOptions(target=args.target, objective=args.objective, policy=args.policy,
                      line=args.mbedtls or gen.default_line(), sni=args.sni, ca=args.ca,
                      candidates=max(1, args.candidates), jobs=max(1, args.jobs),
                      profile=args.profile)
    report = fit(args.server, opts, args.out)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(summary_lines(report))
    return 0


def summary_lines(r):
    hs, ratios = r["handshake"], r.get("ratios") or {}
    return "\n".join([
        f"tlsfit fit: {r['server']} on {r['target']} ({r['objective']}): {hs['version']} "
        f"{hs['ciphersuite']} {hs['group']}, verified",
        f"  ROM {_kib(r['rom_bytes'])} (mbedTLS {_kib(r['rom_tls_bytes'])}), heap peak "
        f"{_kib(r['heap_peak_bytes'])}, stack {_kib(r['stack_peak_bytes'])}, "
        f"{r['handshake_instructions']:,} instructions",
        f"  vs mbedTLS default: ROM x{ratios.get('rom_bytes')}, heap x{ratios.get('heap_peak_bytes')}, "
        f"instructions x{ratios.get('handshake_instructions')}"
        + ("" if ((r.get("baseline") or {}).get("handshake") or {}).get("ok") else
           f" (the default failed: {((r.get('baseline') or {}).get('handshake') or {}).get('error')})"),
        f"  1-minimal: {'yes' if r['minimal'] else 'no'}; {r['candidates_tried']} headers measured; "
        f"{r['phases_s']['total']} s",
        f"  wrote {Path(r['config_path']).parent}/tls_config.h, report.md, report.json"])
