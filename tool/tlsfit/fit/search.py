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
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from ..core import paths
from ..core.errors import CONFIG, FIT, TlsfitError
from ..core.hostport import format_hostport, parse_target
from ..header import gen, rules as rules_mod
from ..profile import model as profile_mod, probe as probe_mod
from ..profile.types import Profile
from ..target import measure as measure_mod
from ..target.result import Measurement
from .knobs import knob_variants
from .objective import best_of, score
from .report import build_report, render_md

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
    proof: object = None         # core.proof.Proof or --proof text; None: by the port


@dataclass
class Trial:
    """One header measured on the target."""
    label: str
    config: Path
    gen_opts: gen.GenOptions
    plan: gen.Plan
    measurement: Measurement = None
    error: str = None
    phase: str = "search"
    removed: tuple = ()
    mismatch: str = None         # the handshake completed, but not with what was chosen

    @property
    def ok(self):
        """The handshake completed and negotiated what the header chose."""
        return bool(self.measurement and self.measurement.ok and not self.mismatch)

    def figures(self):
        return self.measurement.figures() if self.measurement else {}


def chosen_mismatch(plan, measurement):
    """Why a completed handshake does not count for this header: it negotiated another
    version, suite or group than the one chosen (a silent substitution would measure
    one thing and report another).  None when it matches or did not complete."""
    hs = measurement.handshake
    if not hs.ok or not plan.chosen:
        return None
    ok_groups = {c.group for c in plan.chosen if c.group}
    versions = {c.version for c in plan.chosen}
    if hs.version and hs.version not in versions:
        return f"negotiated {hs.version}, but the header chose {', '.join(sorted(versions))}"
    if ok_groups and hs.group and hs.group not in ok_groups:
        return (f"negotiated group {hs.group}, but the header chose "
                f"{', '.join(sorted(ok_groups))} (the harness offered another group first?)")
    return None


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


# ------------------------------------------------------------------ knob variants


# ------------------------------------------------------------------ the search

class Fitter:
    def __init__(self, profile, host, port, opts, out_dir, progress):
        self.profile, self.host, self.port, self.opts = profile, host, port, opts
        self.out = Path(out_dir)
        self.work = self.out / "candidates"
        self.progress = progress
        self.rules = rules_mod.load()
        self.trials = []
        self.ablation = []
        self.sizes = []
        self.counter = 0
        self.sni = opts.sni or profile.target.sni or host

    def _plan(self, gen_opts):
        return gen.generate(self.profile, gen_opts, profile_name=f"probe of {self.host}:{self.port}",
                            rules=self.rules)

    def _make(self, label, gen_opts, phase, removed=(), plan=None):
        plan = plan or self._plan(gen_opts)
        self.counter += 1
        d = self.work / f"{self.counter:02d}"
        cfg = paths.write_atomic(d / "tls_config.h", plan.text)
        return Trial(label, cfg, gen_opts, plan, phase=phase, removed=tuple(removed))

    def _measure(self, trial):
        try:
            trial.measurement = measure_mod.measure(
                trial.config, self.opts.target, self.host, self.port, sni=self.sni,
                ca=self.opts.ca, line=self.opts.line, timeout=self.opts.timeout, progress=False,
                proof=self.opts.proof)
            trial.mismatch = chosen_mismatch(trial.plan, trial.measurement)
            if trial.mismatch:
                trial.error = trial.mismatch
            elif not trial.ok:
                trial.error = trial.measurement.handshake.failure()
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
        kept = gen.select(gen.enumerate_candidates(self.profile, base, self.rules)).kept
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
            gen.generate(self.profile, base, rules=self.rules)   # raises the Refusal with reasons
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
        ref = best_of([t.figures() for t in ok])
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
        ref = best_of([best.figures()] + [t.figures() for t in trials if t.ok])
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
            ref = best_of([current.figures()] + [t.figures() for t in trials if t.ok])
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


# ------------------------------------------------------------------ entry point

def fit(target_text, opts, out_dir):
    host, port = parse_target(target_text)
    progress = Progress(opts.progress)
    phases = {}
    t0 = time.monotonic()
    if opts.profile:
        prof = profile_mod.read(opts.profile)
    else:
        progress.say(f"[probe] probing {host}:{port}")
        popts = probe_mod.Options(sni=opts.sni, cas=[opts.ca] if opts.ca else [], timeout=5)
        prof = Profile.of(probe_mod.run(format_hostport(host, port), popts))
    phases["probe"] = round(time.monotonic() - t0, 1)
    gen.generate(prof, gen.GenOptions(line=opts.line, policy=opts.policy))   # refuse early
    fitter = Fitter(prof, host, port, opts, out_dir, progress)
    t1 = time.monotonic()
    best = fitter.best(fitter.search())
    phases["search"] = round(time.monotonic() - t1, 1)
    if best is None:
        errs = "; ".join(sorted({t.error for t in fitter.trials if t.error}))[:400]
        hints = sorted({t.measurement.handshake.hint for t in fitter.trials
                        if t.measurement and t.measurement.handshake.hint})
        raise TlsfitError(FIT, f"{host}:{port}: no candidate completed a verified handshake on "
                               f"{opts.target}: {errs}"
                               + (f" (hint: {hints[0]})" if hints else ""))
    t2 = time.monotonic()
    best = fitter.content_lengths(best)
    phases["content_lengths"] = round(time.monotonic() - t2, 1)
    t2 = time.monotonic()
    final, minimal = fitter.ablate(best)
    phases["ablation"] = round(time.monotonic() - t2, 1)
    t3 = time.monotonic()
    progress.say("[baseline] measuring the final header and mbedTLS's default configuration")
    rep = measure_mod.measure(final.config, opts.target, host, port, sni=fitter.sni, ca=opts.ca,
                              line=opts.line, timeout=opts.timeout, baseline=True, progress=False,
                              proof=opts.proof)
    if not rep.ok:
        raise TlsfitError(FIT, f"the final header failed its confirming handshake: "
                               f"{rep.handshake.failure()}")
    final.measurement = rep
    phases["baseline"] = round(time.monotonic() - t3, 1)
    phases["total"] = round(time.monotonic() - t0, 1)
    report = build_report(fitter, final, minimal, host, port, phases)
    out = Path(out_dir)
    paths.write_atomic(out / "tls_config.h", final.plan.text)
    paths.write_atomic(out / "report.json", json.dumps(report, indent=2) + "\n")
    paths.write_atomic(out / "report.md", render_md(report, prof))
    return report


