"""`tlsfit fit`: the best configuration that completes a verified handshake on the target.

    report = fit("host:port", FitOptions(target="cortex-m4", ...), out_dir)
    report = fit(device.load("device.toml"), FitOptions(...), out_dir)   # several servers

Phases (each timed in report["phases_s"]):
  probe     tlsfit-probe records what the server accepts (or --profile reuses one)
  search    gen's candidates (version, suite, group, signature scheme) the policy allows,
            cheapest first by gen's measured object sizes (costs.json); the top
            --candidates of them, each with gen's lean knobs and, for the speed and
            balanced objectives, with the knob settings the measured knob model
            (knob_costs.json) says buy instructions -- not the cross product -- and,
            when every key, signature and key exchange is on P-256, gen's driver-only
            P-256 header (gen --ecc p256m: p256-m through PSA, no legacy ECC or bignum)
            beside the built-in one; otherwise the header says why the built-in code
            stays.  When the knob model predicts a candidate's knob variant better than
            its lean header by half a figure or more (knobs.lean_outclassed: the ECP
            NIST optimisation's six times fewer instructions), the lean header is
            measured only if the variant fails (report["search_skipped"] says which and
            why).  Every header is measured under QEMU (measure.py); only verified
            handshakes count.
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
  lto       (--lto only) the final header measured again with -flto against every
            server: report["lto"], both figures and the change (fit/lto.py).
With --anchor CERT every header is gen's with CERT as the trust anchor (gen --anchor:
nothing above CERT is configured) and every measurement of a server whose path holds
CERT has CERT as its only CA (the firmware loads it; verification stays required, the
name checked), so a header counts only when that server accepts the session so.
DIR/anchor.pem keeps a copy (a certificate, no key) for the Regenerate line.
Writes DIR/tls_config.h, DIR/report.json, DIR/report.md (and DIR/candidates/).

Several servers (a device file, or HOST1 HOST2 ...): every header is gen's joint header
(generate_device: the suite, group and signature schemes that serve every server first,
sizes the maxima) with its knob variants, measured against EVERY server; a trial counts
only when every server verifies.  Its figures: ROM and static RAM of the one build; heap,
stack and instructions the maximum over the servers.  Content lengths and the ablation
are judged the same way (a removal stays only when every server still verifies); the
final header and the default are measured against every server; and each server's own
header (gen for it alone, with the fit's removals and sizes where it still verifies)
is measured beside it, for what the other servers cost (report["joint"]).
"""
import inspect
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from ..core import interrupt, paths
from ..core.errors import CONFIG, DTLS_SERVER_STOPPED, FIT, USAGE, TlsfitError
from ..header.dtls import refuse_on_target
from ..profile import dtlsfacts
from ..header import anchor as anchor_mod, gen, rules as rules_mod
from ..header.selection import enumerate_candidates, select
from ..header.psk import PskSpec
from ..header.types import NO_OVERRIDES, FitOverrides, GenOptions
from ..mbedtls import check
from ..target import measure as measure_mod, runcache, timings
from . import artifacts, lto as lto_mod, prebuild
from .dgramwatch import ServerWatch
from .sites import anchor_sites, as_device, load_anchor, probe_sites, with_device_psk
from .knobs import knob_variants, lean_outclassed
from . import resume as resume_mod
from .objective import best_of, score
from .progress import Progress
from .report import build_report, dtls_md_line, render_md
from .trial import COST_KEYS, Trial, chosen_mismatch, option_cost

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
    "MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG": "the device's TRNG (--external-rng): PSA has no other source",
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
    ca: object = None            # a CA file, or a list of them (one trust store)
    candidates: int = 3
    jobs: int = 2
    timeout: int = 60
    profile: str = None          # reuse this profile instead of probing (one server)
    progress: bool = True
    proof: object = None         # core.proof.Proof or --proof text; None: by the port
    client: object = None        # fit.device.ClientFiles: the device's identity
    lto: bool = False            # also measure the final header with -flto (fit/lto.py)
    anchor: object = None        # --anchor CERT: its path; fit() loads it (anchor.AnchorCert)
    external_rng: bool = False   # gen --external-rng: the device's TRNG, no entropy module or DRBG
    alpn: tuple = ()             # --alpn: the application protocols probe and every header offer
    server_alpn: tuple = ()      # per site: its protocols, when a device file gave one its own
    resume: bool = False         # --resume: gen's resume, a resuming connection measured (fit/resume.py)
    reconnects: int = 0          # --objective reconnect: 1 full + N resumed handshakes
    psk: object = None           # core.pskkey.Psk (--psk-identity): probe, gen and measure use it
    psk_key_file: str = None     # the file it was read from (named in the header, never the key)
    reuse: bool = True           # stored results of identical images (target/runcache.py)
    dtls: bool = False           # fit --dtls: the servers speak DTLS 1.2 over UDP (probe --dtls)
    ecc: str = None              # the search's ECC forms where p256-m can serve: None both,
    #                              "builtin" or "p256m" only that one (bench/mbed4_bench.py)


def client_kwargs(client):
    """MeasureRequest's client= for the device's identity, when this tree's measure takes
    one (core.identity.ClientIdentity; measure(**fields) does); a TlsfitError naming the
    gap when it does not."""
    if client is None:
        return {}
    params = inspect.signature(measure_mod.measure).parameters
    if "client" not in params and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        raise TlsfitError(USAGE, "a client identity was given, but this tlsfit's measure cannot "
                                 "present one yet (no client= parameter): fit without it")
    from ..core import identity       # added with measure's client= (issue 14)
    return {"client": identity.ClientIdentity.load(client.cert, client.key)}


def server_alpn(sites, opts):
    """Each site's protocols when a device file gave a server its own `alpn` (else (): every
    server is offered --alpn, and the header is what it was)."""
    own = tuple(tuple(s.alpn) for s in sites)
    return own if any(a != tuple(opts.alpn) for a in own) else ()


def gen_options(opts, client_kw):
    """gen's options for the fit: the line and policy, and the device's identity (its
    public facts: gen adds the signing it needs)."""
    return GenOptions(line=opts.line, policy=opts.policy, client=client_kw.get("client"),
                      anchor=opts.anchor, external_rng=opts.external_rng, alpn=tuple(opts.alpn),
                      server_alpn=tuple(opts.server_alpn), **resume_mod.gen_kw(opts),
                      psk=PskSpec.of(opts.psk, opts.psk_key_file) if opts.psk else None)


# ------------------------------------------------------------------ the search

class Fitter:
    def __init__(self, sites, opts, out_dir, progress):
        self.sites, self.opts = list(sites), opts
        self.profile, self.host, self.port = sites[0].profile, sites[0].host, sites[0].port
        self.sni = sites[0].sni
        self.out = Path(out_dir)
        self.work = self.out / "candidates"
        self.progress = progress
        self.rules = rules_mod.load()
        self.client = client_kwargs(opts.client)
        self.trials = []
        self.ablation = []
        self.sizes = []
        self.skipped = []      # search headers not measured, with why (_held_back)
        self.counter = 0
        # what each server showed its probe: the result cache's key (None: no reuse)
        self.facts = [runcache.server_facts(s.profile) if opts.reuse else None
                      for s in self.sites]
        self.dgram_watch = ServerWatch(len(self.sites))   # a DTLS server gone silent

    @property
    def several(self):
        return len(self.sites) > 1

    def _plan(self, gen_opts, overrides=NO_OVERRIDES):
        # the header names the fit's copy of the profile(s) and regenerates from it
        names = artifacts.profile_names(self.out, len(self.sites))
        command = artifacts.command_for(self.out, len(self.sites), gen_opts)
        with timings.timed("render"):
            if not self.several:
                return gen.generate(self.profile, gen_opts, profile_name=names[0],
                                    rules=self.rules, overrides=overrides, command=command)
            return gen.generate_device([s.profile for s in self.sites], gen_opts, names,
                                       self.rules, overrides=overrides, command=command)

    def make(self, label, gen_opts, overrides, phase, removed=(), plan=None):
        plan = plan or self._plan(gen_opts, overrides)
        self.counter += 1
        d = self.work / f"{self.counter:02d}"
        cfg = paths.write_atomic(d / "tls_config.h", plan.text)
        return Trial(label, cfg, gen_opts, plan, [None] * len(self.sites), phase=phase,
                     removed=tuple(removed), overrides=overrides,
                     reconnects=self.opts.reconnects if self.opts.objective == "reconnect" else 0)

    def measure_site(self, config, i, baseline=False, lto=False):
        """config measured against server i (a Measurement); lto: its -flto build.
        With baseline (the confirming run) config's handshake runs live; otherwise an
        identical image's stored result against the same server facts may stand in."""
        s = self.sites[i]
        dtls = dtlsfacts.is_dtls(s.profile)
        m = measure_mod.measure(measure_mod.MeasureRequest(
            config, self.opts.target, s.host, s.port, sni=s.sni, ca=s.ca, line=self.opts.line,
            timeout=self.opts.timeout, baseline=baseline, progress=False, proof=s.proof,
            lto=bool(lto), resume=self.opts.resume, psk=self.opts.psk,
            server_facts=self.facts[i], live=baseline, dtls=dtls, **self.client))
        if dtls:
            self.dgram_watch.note(i, s.hostport, m)     # exit 61 when it stopped answering
        return m

    def _measure(self, job):
        """(mismatch, error) of one trial against server i."""
        trial, i = job
        try:
            m = self.measure_site(trial.config, i)
            trial.measurements[i] = m
            mismatch = chosen_mismatch(trial.plan, m, i if self.several else None)
            return mismatch, mismatch or (None if m.ok else m.handshake.failure())
        except interrupt.ChildKilled:
            raise                           # no verdict: the whole fit stops
        except TlsfitError as e:
            if e.code == DTLS_SERVER_STOPPED:
                raise                       # no verdict on this header: the server is gone
            # CONFIG names the trial's header file first; the report names the trial
            return None, check.reason(e.message) if e.code == CONFIG else e.message

    def run_all(self, trials, phase):
        jobs = [(t, i) for t in trials for i in range(len(self.sites))]
        began = time.monotonic()
        done, results = 0, []
        with ThreadPoolExecutor(max_workers=max(1, self.opts.jobs)) as pool:
            try:
                for r in pool.map(self._measure, jobs):
                    results.append(r)
                    done += 1
                    self.progress.step(phase, done, len(jobs), began)
            except BaseException:
                # a signal or a killed child: the running jobs stop (QEMU killed in their
                # finally), the queued ones never start
                interrupt.STOP.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        for (t, i), (mismatch, error) in zip(jobs, results):
            site = self.sites[i]
            if mismatch and not t.mismatch:
                t.mismatch = site.tag(mismatch)
            if error and not t.error:
                t.error = site.tag(error)
        self.trials += trials
        return trials

    def choice_options(self, gen_opts):
        """The GenOptions candidates are enumerated with (4.x: 3.6's, fit/line4.py)."""
        return gen_opts

    def search(self):
        if self.several:
            return self._search_joint()
        base = gen_options(self.opts, self.client)
        kept = select(enumerate_candidates(self.profile, self.choice_options(base),
                                           self.rules)).kept
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
            self._plan(base)                  # raises gen's Refusal with its reasons
        trials, held = [], []
        for c in chosen:
            self._candidate_trials(c, base, trials, held)
        self.progress.say(f"[search] {len(chosen)} of {len(kept)} candidates the policy allows "
                          f"(cheapest by the cost model), {len(trials)} headers to measure"
                          + (f" ({len(held)} lean headers outclassed by the knob model)"
                             if held else ""))
        return self.run_all(trials, "search") + self._held_back(held)

    def _candidate_trials(self, c, base, trials, held):
        """Append to `trials` the headers the search measures for candidate c: its lean
        header and knob variants (the lean one held back into `held` when the knob model
        outclasses it) and, where p256-m can serve, the driver-only P-256 header."""
        pinned, lean_opts = FitOverrides(candidate=c), base
        driver = self._plan(replace(lean_opts, ecc="p256m"), pinned)
        if driver.facts["ecc"] != "p256m":
            # the built-in code stays, and the header says why
            lean_opts = replace(lean_opts, ecc="p256m")
        lean = self._plan(lean_opts, pinned)
        only_driver = self.opts.ecc == "p256m" and driver.facts["ecc"] == "p256m"
        variants = () if only_driver else knob_variants(self.opts.objective, c, lean,
                                                        self.rules)
        outclassed = lean_outclassed(self.opts.objective, c, lean, self.rules) \
            if len(variants) > 1 else None
        for knob_label, knobs in variants:
            spec = (f"{c.label()}, {knob_label}", lean_opts,
                    replace(pinned, knob_values=knobs), None if knobs else lean)
            if outclassed and not knobs:
                lean_spec = spec          # measured only if its variant fails
                continue
            trials.append(self.make(*spec[:3], "search", plan=spec[3]))
            if outclassed:
                held.append((trials[-1], lean_spec, outclassed))
        if driver.facts["ecc"] == "p256m" and self.opts.ecc == "builtin":
            self.progress.say(f"[search] {c.label()}: built-in ECC only (ecc=builtin)")
        elif driver.facts["ecc"] == "p256m":
            trials.append(self.make(f"{c.label()}, driver-only P-256 (p256-m)",
                                    replace(lean_opts, ecc="p256m"), pinned, "search",
                                    plan=driver))
        else:
            self.progress.say(f"[search] {c.label()}: {driver.facts['ecc_note']}")

    def _held_back(self, held):
        """The lean headers lean_outclassed() held back: measured now for each variant
        that failed, else listed in self.skipped with the reason."""
        again = []
        for variant, (label, gen_opts, overrides, plan), why in held:
            if variant.ok:
                self.skipped.append({"label": label, "why": why})
            else:
                again.append(self.make(label, gen_opts, overrides, "search", plan=plan))
        return self.run_all(again, "search (held back)") if again else []

    def _search_joint(self):
        """gen's joint header for every server, with the knob variants of its first
        server's choice and its driver-only P-256 form when every server allows it, each
        measured against every server."""
        base = gen_options(self.opts, self.client)
        lean = self._plan(base)
        label = "joint: " + " + ".join(s["chosen"][0] for s in lean.servers)
        trials = [self.make(f"{label}, {knob_label}", base, FitOverrides(knob_values=knobs),
                            "search", plan=None if knobs else lean)
                  for knob_label, knobs in knob_variants(self.opts.objective, lean.chosen[0],
                                                         lean, self.rules)]
        driver = self._plan(replace(base, ecc="p256m"))
        if driver.facts["ecc"] == "p256m":
            trials.append(self.make(f"{label}, driver-only P-256 (p256-m)",
                                    replace(base, ecc="p256m"), NO_OVERRIDES, "search",
                                    plan=driver))
        self.progress.say(f"[search] gen's joint header for {len(self.sites)} servers, "
                          f"{len(trials)} headers to measure against each")
        return self.run_all(trials, "search")

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
        trials = [self.make(f"{best.label}, {name} {n}", best.gen_opts, replace(
            best.overrides, sizes={**best.overrides.sizes, name: n}), "content lengths")
            for n in tries]
        self.progress.say(f"[content lengths] trying {name} " + ", ".join(map(str, tries)))
        self.run_all(trials, "content lengths")
        ref = best_of([best.figures()] + [t.figures() for t in trials if t.ok])
        mine = score(self.opts.objective, best.figures(), ref)
        for t in trials:
            self.sizes.append({"option": name, "value": t.overrides.sizes[name], "ok": t.ok,
                               "error": t.error, **t.figures()})
        good = [t for t in trials if t.ok and score(self.opts.objective, t.figures(), ref) <= mine]
        return min(good, key=lambda t: t.overrides.sizes[name]) if good else best

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
            # an any-of requirement holds name back only when name is its one enabled
            # alternative (none enabled: a driver provides it, gen --ecc p256m)
            needed_by = [o for o in enabled if o != name and o in self.rules.options and any(
                item == name or (not isinstance(item, str) and name in item and
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
            trials = [self.make(f"without {o}", current.gen_opts, replace(
                current.overrides, exclude=tuple(current.overrides.exclude) + (o,)),
                "ablation", (o,)) for o, _ in tries]
            self.progress.say(f"[ablation pass {n}] trying to remove {len(trials)} options "
                              f"one at a time")
            self.run_all(trials, f"ablation {n}")
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
            combined = replace(current.overrides, exclude=tuple(current.overrides.exclude) +
                               tuple(removed))
            merged = self.make(f"{best.label} without {', '.join(removed)}", current.gen_opts,
                               combined, "ablation", removed)
            self.run_all([merged], f"ablation {n} combined")
            if not merged.ok:          # removals that only work one at a time: keep the best one
                single = self.best([t for t in trials if t.ok])
                current = single
            else:
                current = merged
        return current, False


# ------------------------------------------------------------------ entry point

def _no_candidate(fitter, opts):
    errs = "; ".join(sorted({t.error for t in fitter.trials if t.error}))[:400]
    hints = sorted({m.handshake.hint for t in fitter.trials for m in t.measurements
                    if m and m.handshake.hint})
    where = ", ".join(s.hostport for s in fitter.sites)
    return TlsfitError(FIT, f"{where}: no candidate completed a verified handshake on "
                            f"{opts.target}" + (" with every server" if fitter.several else "")
                            + f": {errs}" + (f" (hint: {hints[0]})" if hints else ""))


def confirm(fitter, final):
    """The final header and mbedTLS's default configuration measured against every
    server in one run; the final Trial's measurements become these."""
    n = len(fitter.sites)
    with ThreadPoolExecutor(max_workers=max(1, min(fitter.opts.jobs, n))) as pool:
        reps = list(pool.map(lambda i: fitter.measure_site(final.config, i, baseline=True),
                             range(n)))
    for site, rep in zip(fitter.sites, reps):
        if not rep.ok:
            raise TlsfitError(FIT, "the final header failed its confirming handshake: "
                                   + site.tag(rep.handshake.failure()))
    final.measurements = reps


def alone_headers(fitter, final):
    """Per server, the header gen makes for it alone, measured against it: with the fit's
    removals, knobs and sizes where that still verifies, else gen's own.  [Trial]."""
    out = []
    for i, site in enumerate(fitter.sites):
        one = type(fitter)([replace(site, index=1, count=1)], fitter.opts,
                     fitter.work / f"alone-{i + 1}", Progress(False))
        mine = fitter.opts.anchor if fitter.opts.anchor is not None and \
            anchor_mod.locate(site.profile, fitter.opts.anchor)[0] is not None else None
        own = (final.gen_opts.server_alpn[i],) if final.gen_opts.server_alpn else ()
        tried = one.make(f"{site.who} alone, with the fit's removals and sizes",
                         replace(final.gen_opts, anchor=mine, server_alpn=own),
                         replace(final.overrides, candidate=None), "alone")
        one.run_all([tried], "alone")
        if not tried.ok:
            tried = one.make(f"{site.who} alone, gen's header",
                             replace(gen_options(fitter.opts, fitter.client), anchor=mine,
                                     server_alpn=own),
                             NO_OVERRIDES, "alone")
            one.run_all([tried], "alone")
        fitter.progress.say(f"[alone] {tried.label}: " + (
            f"mbedTLS {tried.figures().get('rom_tls_bytes')} B" if tried.ok else tried.error))
        out.append(tried)
    return out


def fit(target, opts, out_dir):
    """Fits one header to the server(s): target is "HOST[:PORT]", a list of them, or a
    fit.device.Device.  Returns report.json's document."""
    with timings.collecting() as spent:
        report = _fit(target, opts, out_dir, spent)
    return report


def _fit(target, opts, out_dir, spent):
    progress = Progress(opts.progress)
    phases = {}
    t0 = time.monotonic()
    opts = load_anchor(opts, out_dir)
    dev = as_device(target, opts)
    opts = with_device_psk(dev, opts)
    identity = client_kwargs(dev.client)           # an identity measure cannot present: now
    opts = replace(opts, client=dev.client)
    sites = probe_sites(dev, opts, Path(out_dir) / "candidates", progress)
    sites, opts = anchor_sites(sites, opts, out_dir)
    opts = replace(opts, server_alpn=server_alpn(sites, opts))
    for site in sites:                              # DTLS: no resumption (header/dtls.py)
        refuse_on_target(dtlsfacts.is_dtls(site.profile), opts.resume,
                         f"the profile of {site.host}:{site.port}")
    if len({dtlsfacts.is_dtls(s.profile) for s in sites}) > 1:
        raise TlsfitError(USAGE, "the servers mix DTLS and TLS: a header is for one transport "
                                 "(TLSFIT_DTLS); fit the DTLS servers and the TLS ones apart")
    phases["probe"] = round(time.monotonic() - t0, 1)
    timings.add("probe", time.monotonic() - t0)
    from . import line4                              # (imports this module)
    line4.refuse_early([s.profile for s in sites], gen_options(opts, identity))
    fitter = line4.fitter_class(opts.line)(sites, opts, out_dir, progress)
    pending = prebuild.start_baseline(opts)         # the default configuration, meanwhile
    try:
        return _search_to_report(fitter, opts, out_dir, spent, progress, phases, t0, sites)
    finally:
        prebuild.finish(pending)


def _search_to_report(fitter, opts, out_dir, spent, progress, phases, t0, sites):
    """The search, content lengths, ablation, confirming run (and alone, LTO) and the
    report files of _fit."""
    from . import line4
    t1 = time.monotonic()
    best = fitter.best(fitter.search())
    phases["search"] = round(time.monotonic() - t1, 1)
    if best is None:
        raise _no_candidate(fitter, opts)
    t2 = time.monotonic()
    best = fitter.content_lengths(best)
    phases["content_lengths"] = round(time.monotonic() - t2, 1)
    t2 = time.monotonic()
    final, minimal = fitter.ablate(best)
    phases["ablation"] = round(time.monotonic() - t2, 1)
    t3 = time.monotonic()
    progress.say("[baseline] measuring the final header and mbedTLS's default configuration"
                 + (f" against each of the {len(sites)} servers" if fitter.several else ""))
    confirm(fitter, final)
    phases["baseline"] = round(time.monotonic() - t3, 1)
    alone = None
    if fitter.several:
        t4 = time.monotonic()
        progress.say("[alone] each server's own header, for what the others cost")
        alone = alone_headers(fitter, final)
        phases["alone"] = round(time.monotonic() - t4, 1)
    lto_ms = None
    if opts.lto:
        t5 = time.monotonic()
        with timings.timed("lto"):
            lto_ms = lto_mod.measure_final(fitter, final)
        phases["lto"] = round(time.monotonic() - t5, 1)
    phases["total"] = round(time.monotonic() - t0, 1)
    report = build_report(fitter, final, minimal, fitter.host, fitter.port, phases, alone)
    report["timings"] = spent.to_json()
    report["search_skipped"] = fitter.skipped
    progress.say(f"[timings] {timings.summary_line(report['timings'])}")
    report.update(line4.files_section(final.plan))
    md = line4.md_with_files(report, render_md(report, [s.profile for s in sites]))
    if report.get("dtls"):                           # round trips, cookie exchange
        md = md.rstrip("\n") + "\n\n" + dtls_md_line(report) + "\n"
    if lto_ms is not None:
        report["lto"] = lto_mod.section(final, lto_ms)
        md = md.rstrip("\n") + "\n\n" + "\n".join(lto_mod.md_lines(report["lto"])) + "\n"
    md = md.rstrip("\n") + "\n\n" + "\n".join(
        timings.md_lines(report["timings"], phases["total"])) + "\n"
    out = Path(out_dir)
    artifacts.write_profiles(out, sites)
    line4.write_header(out, final.plan)              # 4.x: and tls_config_crypto.h
    paths.write_atomic(out / "report.json", json.dumps(report, indent=2) + "\n")
    paths.write_atomic(out / "report.md", md)
    return report
