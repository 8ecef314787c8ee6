#!/usr/bin/python3
"""Measure the knob cost table `tlsfit fit` prunes with: tool/tlsfit/fit/knob_costs.json.

    bench/knob_costs.py [--target cortex-m4] [--jobs 2] [--reps 3] [--scenarios a,b,...|all]
                        [--no-combos] [--only KNOB,...] [--timeout SEC] [--write]
                        [--json FILE] [--keep]
    ./tlsfit regenerate knob-costs          (the same as --write)

For each reference scenario (SCENARIOS: a local `openssl s_server` on a throwaway
PKI made like refservers.standard_pki's RSA-2048 and P-384 -> P-256 -> P-256
chains; by default tls12-ecdsa-p256 (AES-128-GCM), tls13-ecdsa-p256
(AES-128-GCM), tls12-rsa (ECDHE-RSA, gen picks ChaCha20/x25519) and
tls13-ecdsa-x25519 (ChaCha20); tls12-ecdsa-cbc with --scenarios all):

1. probe the server with tlsfit-probe and render gen's lean header for it
   (mbedTLS 3.6 line, default policy, knob_values empty);
2. `tlsfit measure` that header on the target under QEMU, --reps times: the
   median is the lean figure, max-min the scenario's "noise" (handshake
   instructions vary by ~0.1-0.7 M per run whatever --jobs is: the server's
   ephemeral keys and signatures differ per handshake);
3. change one knob at a time against lean (boolean knobs: the opposite of
   lean; valued knobs: VALUED_SETTINGS) and measure each header once; a
   setting that leaves the header text unchanged (the knob's `when` options
   are off) is listed under "skipped";
4. measure the combinations in COMBOS (speed knobs together).

Stores, per scenario, the lean absolute figures and for every setting the
delta (setting - lean) of rom_bytes, rom_tls_bytes, ram_static_bytes,
heap_peak_bytes, stack_peak_bytes and handshake_instructions.  Deltas come only
from handshakes that completed; a failed one is stored as {"failed": error}
and reported (exit status 1).  Keys are "NAME=value" with value on/off/an
integer; combos join them with "+".  handshake_instructions covers the
handshake only: the AES/SHA knobs' effect on bulk data is not in it.

--only KNOB,... measures the lean header and those knobs' settings alone (no
combos) and merges them into the stored table: their entries (and each scenario's
lean_knobs) are replaced, every other entry is kept, and the scenario's "merged"
records which keys were measured so and the lean figures they are deltas against.
That is how a knob added to rules.toml joins the table without re-measuring the
rest (tests/test_generated.py fails until every current knob is in it).

Not a test: it prints figures and is not run by CI.  Cross builds are cached
per header in $TLSFIT_CACHE (and by ccache); each measurement then emulates
0.03-1 G instructions (3-12 s), ~70 of them 2 at a time: about 3 minutes
once cached, 6-8 the first time (--scenarios a,b or --no-combos for less).
The PKI is made afresh each run, so heap figures may move by a few bytes
between runs (ECDSA signature lengths differ).  Progress goes to stderr, the
table to stdout.  Standard library and the repository's modules only; run it
with Debian's /usr/bin/python3.
"""
import argparse
import contextlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))

from tlsfit.core import paths  # noqa: E402
from tlsfit.header import gen, rules as rules_mod  # noqa: E402
from tlsfit.header.types import FitOverrides, GenOptions  # noqa: E402
from tlsfit.lab import refservers  # noqa: E402
from tlsfit.profile import model as profile, build  # noqa: E402
from tlsfit.target import measure  # noqa: E402

OUT_PATH = REPO / "tool" / "tlsfit" / "fit" / "knob_costs.json"
LINE = "3.6"
FIELDS = ("rom_bytes", "rom_tls_bytes", "ram_static_bytes", "heap_peak_bytes",
          "stack_peak_bytes", "handshake_instructions")
SHORT = {"rom_bytes": "rom", "rom_tls_bytes": "rom_tls", "ram_static_bytes": "ram_st",
         "heap_peak_bytes": "heap", "stack_peak_bytes": "stack",
         "handshake_instructions": "instr"}

# name -> (chain attribute, openssl s_server args)
# name -> (chain, openssl s_server args, knobs tried (None: all), combos tried).
# AES-GCM is pinned where the server would otherwise let gen pick ChaCha20-Poly1305
# (cheaper in flash), which has none of the AES knobs.
SPEED = "speed"         # the ECP/MPI combinations
AES = "aes"             # the AES table combination
SCENARIOS = {
    "tls12-ecdsa-p256": ("ec", ("-tls1_2", "-groups", "P-256",
                                "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"), None, (SPEED, AES)),
    "tls13-ecdsa-p256": ("ec", ("-tls1_3", "-groups", "P-256",
                                "-ciphersuites", "TLS_AES_128_GCM_SHA256"), None, (SPEED, AES)),
    "tls12-rsa": ("rsa", ("-tls1_2",), None, ()),
    "tls13-ecdsa-x25519": ("ec", ("-tls1_3", "-groups", "X25519"), None, (SPEED,)),
    # CBC keeps AES decryption (no BLOCK_CIPHER_NO_DECRYPT): the AES tables cost more.
    # Its ECP figures would repeat tls12-ecdsa-p256's, its AES figures measured the same
    # as tls13-ecdsa-p256's (PSA keeps decryption too): not in the default set.
    "tls12-ecdsa-cbc": ("ec", ("-tls1_2", "-groups", "P-256",
                               "-cipher", "ECDHE-ECDSA-AES128-SHA256"),
                        ("MBEDTLS_AES_", "MBEDTLS_BLOCK_CIPHER_", "MBEDTLS_SHA"), (AES,)),
}
DEFAULT_SCENARIOS = ("tls12-ecdsa-p256", "tls13-ecdsa-p256", "tls12-rsa", "tls13-ecdsa-x25519")
SCENARIO_ALIASES = {"a": "tls12-ecdsa-p256", "b": "tls13-ecdsa-p256", "c": "tls12-rsa",
                    "d": "tls13-ecdsa-x25519", "e": "tls12-ecdsa-cbc"}

# The non-lean settings tried for each knob; boolean knobs try the opposite of lean.
VALUED_SETTINGS = {
    "MBEDTLS_ECP_WINDOW_SIZE": (3, 4, 6),
    "MBEDTLS_ECP_FIXED_POINT_OPTIM": (1,),
    "MBEDTLS_MPI_WINDOW_SIZE": (6,),
}

# Knobs together; a knob that does not apply to a scenario is dropped from the combo.
COMBOS = (
    (SPEED, {"MBEDTLS_ECP_NIST_OPTIM": True, "MBEDTLS_ECP_FIXED_POINT_OPTIM": 1}),
    (SPEED, {"MBEDTLS_ECP_NIST_OPTIM": True, "MBEDTLS_ECP_WINDOW_SIZE": 3}),
    (SPEED, {"MBEDTLS_ECP_NIST_OPTIM": True, "MBEDTLS_ECP_WINDOW_SIZE": 4}),
    (SPEED, {"MBEDTLS_ECP_NIST_OPTIM": True, "MBEDTLS_ECP_FIXED_POINT_OPTIM": 1,
             "MBEDTLS_ECP_WINDOW_SIZE": 3}),
    (SPEED, {"MBEDTLS_ECP_NIST_OPTIM": True, "MBEDTLS_ECP_FIXED_POINT_OPTIM": 1,
             "MBEDTLS_ECP_WINDOW_SIZE": 4}),
    (SPEED, {"MBEDTLS_ECP_NIST_OPTIM": True, "MBEDTLS_ECP_FIXED_POINT_OPTIM": 1,
             "MBEDTLS_ECP_WINDOW_SIZE": 6}),
    (AES, {"MBEDTLS_AES_ROM_TABLES": None, "MBEDTLS_AES_FEWER_TABLES": None}),
)

# Instruction deltas below this are noise: over repeated runs, lean reps spread by up to
# 0.75 M and settings that leave the linked code unchanged (ECP knobs with only x25519)
# moved the count by up to 0.7 M, whatever --jobs was.
NOISE_FLOOR_INSTRUCTIONS = 1_000_000

_log_lock = threading.Lock()


def log(msg):
    with _log_lock:
        print(f"[knobs {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fmt_value(v):
    if v is None or v is False:
        return "off"
    if v is True:
        return "on"
    return str(v)


def key_of(values):
    return "+".join(f"{k}={fmt_value(v)}" for k, v in values.items())


def lean_value(knob):
    """gen's lean setting, as FitOverrides.knob_values spells it."""
    if not knob.default:
        return None
    return knob.value if knob.value is not None else True


def settings_for(rules):
    """[(knob name, value)] to try, in rules.toml order."""
    out = []
    for k in rules.knobs.values():
        if LINE not in k.lines:
            continue
        if k.value is None:
            out.append((k.name, None if lean_value(k) else True))
        else:
            out.extend((k.name, v) for v in VALUED_SETTINGS.get(k.name, ()) if v != k.value)
    return out


def lean_knobs(rules, text):
    """{knob: "on" or its value} for the knobs the header defines."""
    out = {}
    for k in rules.knobs:
        m = re.search(rf"^#define {k}\b[ \t]*([0-9]*)", text, re.M)
        if m:
            out[k] = int(m.group(1)) if m.group(1) else "on"
    return out


def probe(prober, srv, chain, out):
    proc = subprocess.run([str(prober), srv.hostport, "--sni", "localhost",
                           "--ca", str(chain.root.pem), "-o", str(out)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise SystemExit(f"tlsfit-probe {srv.hostport} failed (exit {proc.returncode}):\n"
                         f"{proc.stderr}")
    return profile.load(out)


def figures(rep):
    return {f: rep.get(f) for f in FIELDS}


def hs_label(rep):
    hs = rep.get("handshake") or {}
    return f"{hs.get('version')} {hs.get('ciphersuite')} {hs.get('group')}"


class Job:
    def __init__(self, scenario, key, values, header, rep_no=0):
        self.scenario, self.key, self.values = scenario, key, values
        self.header, self.rep_no = header, rep_no
        self.report, self.error = None, None


def merge(stored, new, only):
    """The stored table with the knobs in `only` taken from `new` (a --only run)."""
    out = json.loads(json.dumps(stored))

    def other(key):
        return key.split("=", 1)[0] not in only
    for name, sc in new["scenarios"].items():
        old = out["scenarios"].get(name)
        if old is None or "failed" in sc["lean"]:
            continue
        old["knobs"] = {**{k: v for k, v in old["knobs"].items() if other(k)}, **sc["knobs"]}
        old["skipped"] = [k for k in old["skipped"] if other(k)] + sc["skipped"]
        old["lean_knobs"] = sc["lean_knobs"]
        merged = old.setdefault("merged", [])
        merged[:] = [m for m in merged if all(other(k) for k in m["keys"])]
        merged.append({"keys": sorted(sc["knobs"]),
                       "lean": {f: sc["lean"][f] for f in (*FIELDS, "reps")}})
    out["mbedtls"] = new["mbedtls"] or out["mbedtls"]
    note = (" merged: keys measured later by --only, against that run's lean figures "
            "(lean, the median of reps).")
    if note not in out["about"]:
        out["about"] += note
    return out


def run_job(job, target, srv, chain, timeout):
    tag = f"{job.scenario} {job.key or 'lean'}" + (f" #{job.rep_no + 1}" if job.rep_no else "")
    start = time.monotonic()
    try:
        job.report = measure.measure(measure.MeasureRequest(
            str(job.header), target, "127.0.0.1", srv.port, sni="localhost",
            ca=str(chain.root.pem), progress=False, timeout=timeout))
    except Exception as e:      # noqa: BLE001  (a build problem is a result too)
        job.error = f"{type(e).__name__}: {e}"
        log(f"{tag}: ERROR {job.error}")
        return job
    hs = job.report["handshake"]
    took = time.monotonic() - start
    if hs.get("ok"):
        log(f"{tag}: rom {job.report['rom_bytes']} heap {job.report['heap_peak_bytes']} "
            f"instr {job.report['handshake_instructions']} ({took:.1f} s)")
    else:
        job.error = f"handshake failed: {hs.get('error')} (state {hs.get('state')})"
        log(f"{tag}: {job.error} ({took:.1f} s)")
    return job


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", default="cortex-m4")
    ap.add_argument("--jobs", type=int, default=2, help="measurements at a time (default 2)")
    ap.add_argument("--reps", type=int, default=3, help="lean measurements per scenario")
    ap.add_argument("--scenarios", default="default",
                    help=f"comma-separated, of {', '.join(SCENARIOS)} (or a-e); 'all'; "
                         f"default: {','.join(DEFAULT_SCENARIOS)}")
    ap.add_argument("--no-combos", action="store_true", help="single knob changes only")
    ap.add_argument("--only", help="comma-separated knobs: measure them alone and merge "
                                   "them into the stored table")
    ap.add_argument("--timeout", type=int, default=120,
                    help="seconds of QEMU per measurement (default 120; a loaded machine "
                         "needs more)")
    ap.add_argument("--write", action="store_true", help=f"store {OUT_PATH.relative_to(REPO)}")
    ap.add_argument("--json", type=Path, help="also write the table to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    args.names = list(SCENARIOS) if args.scenarios == "all" else list(DEFAULT_SCENARIOS) \
        if args.scenarios == "default" else [
        SCENARIO_ALIASES.get(s.strip(), s.strip()) for s in args.scenarios.split(",")]
    for n in args.names:
        if n not in SCENARIOS:
            ap.error(f"unknown scenario {n!r}")
    args.rules = rules_mod.load()
    args.only_knobs = set(args.only.split(",")) if args.only else set()
    if args.only_knobs - set(args.rules.knobs):
        ap.error("--only: not knobs of rules.toml: "
                 f"{', '.join(sorted(args.only_knobs - set(args.rules.knobs)))}")
    args.no_combos = args.no_combos or bool(args.only_knobs)
    return args


def plan_scenario(name, doc, hdir, settings, args):
    """(info, jobs) for one scenario: the lean header --reps times, then one job per
    knob setting or combo whose header differs from every header planned before it."""
    only, combo_kinds = SCENARIOS[name][2], SCENARIOS[name][3]
    hdir.mkdir(parents=True)
    lean = gen.generate(doc, GenOptions(line=LINE))
    lean_h = hdir / "lean.h"
    lean_h.write_text(lean.text)
    info = {"skipped": [], "lean_knobs": lean_knobs(args.rules, lean.text)}
    jobs = [Job(name, "", {}, lean_h, i) for i in range(args.reps)]
    seen = {lean.text: "lean"}
    variants = [{k: v} for k, v in settings if only is None or k.startswith(only)]
    if not args.no_combos:
        variants += [dict(c) for kind, c in COMBOS if kind in combo_kinds]

    def text_with(values):
        return gen.generate(doc, GenOptions(line=LINE),
                            overrides=FitOverrides(knob_values=values)).text
    for values in variants:
        applicable = {k: v for k, v in values.items() if text_with({k: v}) != lean.text}
        key = key_of(values)
        if not applicable or (len(values) > 1 and len(applicable) < 2):
            info["skipped"].append(key)
            continue
        key = key_of(applicable)
        text = text_with(applicable)
        if text in seen:
            if seen[text] != key:
                info["skipped"].append(f"{key} (same header as {seen[text]})")
            continue
        seen[text] = key
        h = hdir / (key.replace("+", "__").replace("=", "-") + ".h")
        h.write_text(text)
        jobs.append(Job(name, key, applicable, h))
    return info, jobs


def measure_all(args, work):
    """Start each scenario's server, probe it, plan and run every job: (info, jobs done)."""
    chains = {
        "rsa": refservers.make_chain(work / "pki", "rsa", "rsa:2048", "rsa:2048", "rsa:2048",
                                     label="RSA"),
        "ec": refservers.make_chain(work / "pki", "ec", "ec:P-384", "ec:P-256", "ec:P-256",
                                    label="ECDSA"),
    }
    settings = [s for s in settings_for(args.rules)
                if not args.only_knobs or s[0] in args.only_knobs]
    prober = build.ensure_prober()
    with contextlib.ExitStack() as stack:
        servers, jobs, info = {}, [], {}
        for name in args.names:
            chain_attr, sargs = SCENARIOS[name][:2]
            chain = chains[chain_attr]
            srv = stack.enter_context(refservers.openssl_server(
                chain, *sargs, log_dir=work / "logs"))
            servers[name] = (srv, chain)
            log(f"{name}: openssl s_server {' '.join(sargs)} on {srv.hostport}; probing")
            doc = probe(prober, srv, chain, work / f"{name}.json")
            info[name], mine = plan_scenario(name, doc, work / "headers" / name, settings, args)
            info[name]["server"] = f"openssl s_server {chain_attr} chain {' '.join(sargs)}"
            jobs += mine
            log(f"{name}: {len(mine)} measurements; skipped (header unchanged): "
                f"{', '.join(info[name]['skipped']) or 'none'}")
        # Lean headers first (the noise estimate should not wait), then the rest; a
        # scenario's jobs are interleaved with the others' so the servers share the load.
        order = sorted(jobs, key=lambda j: (j.key != "", j.rep_no))
        log(f"{len(order)} measurements, {args.jobs} at a time")
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            done = list(pool.map(lambda j: run_job(j, args.target, *servers[j.scenario],
                                                   args.timeout), order))
    return info, done


ABOUT = (
    "`tlsfit measure` on {target} under QEMU (-icount) of gen's lean header (mbedTLS "
    "{line} line, default policy) for a probed local openssl s_server, then of the header "
    "with one knob changed (knobs), or several (combos). lean: absolute figures (median of "
    "the lean reps; noise: max-min over them, bytes or instructions). knobs/combos: "
    "setting - lean for rom_bytes, rom_tls_bytes, ram_static_bytes, heap_peak_bytes, "
    "stack_peak_bytes, handshake_instructions; only from completed handshakes ({{\"failed\": "
    "error}} otherwise). Keys are NAME=on/off/N. A setting missing from a scenario leaves its "
    "header unchanged (skipped). lean_knobs: the knobs defined in the lean header. Handshake instructions vary from run to run (the server's ephemeral keys and signatures differ): "
    "treat deltas smaller than noise_floor_instructions (or the scenario's noise, if larger) as "
    "zero. Bytes are exact. heap/stack/instruction deltas do not add up across knobs (peaks, "
    "speed-ups compound): use combos for those; ROM deltas roughly add up.")


def scenario_table(name, info, mine, failures):
    """One scenario's entry of the stored table; failed measurements go to `failures`."""
    leans = [j for j in mine if not j.key and not j.error]
    sc = {"server": info["server"], "lean_knobs": info["lean_knobs"],
          "skipped": info["skipped"], "knobs": {}, "combos": {}}
    if not leans:
        failures += [(name, "lean", j.error) for j in mine if not j.key]
        sc["lean"] = {"failed": next(j.error for j in mine if not j.key)}
        return sc
    lean = {f: statistics.median_low([j.report[f] for j in leans]) for f in FIELDS}
    lean["handshake"] = hs_label(leans[0].report)
    lean["noise"] = {f: max(j.report[f] for j in leans) - min(j.report[f] for j in leans)
                     for f in FIELDS}
    lean["reps"] = len(leans)
    sc["lean"] = lean
    for j in mine:
        if not j.key:
            if j.error:
                failures.append((name, "lean", j.error))
            continue
        where = sc["combos"] if len(j.values) > 1 else sc["knobs"]
        if j.error:
            where[j.key] = {"failed": j.error}
            failures.append((name, j.key, j.error))
        else:
            where[j.key] = {f: j.report[f] - lean[f] for f in FIELDS}
    return sc


def build_table(args, info, done):
    """(the stored table, [(scenario, key, error)] of failed measurements)."""
    rerun = f"{'' if args.scenarios == 'default' else f'--scenarios {args.scenarios} '}--write"
    table = {"about": ("Measured by bench/knob_costs.py (rerun: /usr/bin/python3 "
                       f"bench/knob_costs.py {rerun}): "
                       + ABOUT.format(target=args.target, line=LINE)),
             "target": args.target, "mbedtls": None,
             "noise_floor_instructions": NOISE_FLOOR_INSTRUCTIONS, "scenarios": {}}
    failures = []
    for name in args.names:
        mine = [j for j in done if j.scenario == name]
        table["scenarios"][name] = scenario_table(name, info[name], mine, failures)
        leans = [j for j in mine if not j.key and not j.error]
        if leans:
            table["mbedtls"] = table["mbedtls"] or leans[0].report.get("mbedtls")
    return table, failures


def print_scenario(name, sc):
    lean = sc["lean"]
    print(f"\n== {name}: {sc['server']}")
    if "failed" in lean:
        print(f"   lean FAILED: {lean['failed']}")
        return
    print(f"   lean ({lean['handshake']}; median of {lean['reps']}): " +
          ", ".join(f"{SHORT[f]} {lean[f]}" for f in FIELDS))
    print("   noise (max-min): " + ", ".join(f"{SHORT[f]} {lean['noise'][f]}" for f in FIELDS))
    print(f"   {'setting (delta vs lean; MBEDTLS_ dropped)':<66}"
          + "".join(f"{SHORT[f]:>11}" for f in FIELDS) + f"{'instr %':>9}")
    floor = max(NOISE_FLOOR_INSTRUCTIONS, lean["noise"]["handshake_instructions"])
    for kind in ("knobs", "combos"):
        for key, d in sc[kind].items():
            label = key.replace("MBEDTLS_", "")
            if "failed" in d:
                print(f"   {label:<66} FAILED: {d['failed']}")
                continue
            pct = 100.0 * d["handshake_instructions"] / lean["handshake_instructions"]
            mark = " ~" if abs(d["handshake_instructions"]) < floor else ""
            print(f"   {label:<66}" + "".join(f"{d[f]:>+11}" for f in FIELDS)
                  + f"{pct:>+8.1f}%{mark}")
    print("   (~: instruction delta within noise)")


def main():
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="tlsfit-knob-costs-"))
    started = time.monotonic()
    try:
        log(f"making a throwaway PKI in {work}")
        info, done = measure_all(args, work)
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    table, failures = build_table(args, info, done)
    for name, sc in table["scenarios"].items():
        print_scenario(name, sc)
    log(f"done in {time.monotonic() - started:.0f} s")
    if failures:
        print(f"\n{len(failures)} failed measurement(s):")
        for name, key, err in failures:
            print(f"  {name} {key}: {err}")
    if args.only_knobs:
        table = merge(json.loads(OUT_PATH.read_text()), table, args.only_knobs)
    text = json.dumps(table, indent=1) + "\n"
    if args.json:
        args.json.write_text(text)
    if args.write:
        paths.write_atomic(OUT_PATH, text)
        print(f"wrote {OUT_PATH.relative_to(REPO)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
