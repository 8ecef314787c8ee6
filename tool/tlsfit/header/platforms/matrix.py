"""The checked matrix: every shipped profile and the variants, each --for output,
each reference tree (evaluate.py), and gen's own model beside the evaluation.

    CASES                       (name, profile, extra gen arguments)
    CASES4                      the same with --mbedtls 4.0 (ESP-IDF v6 only)
    FORMATS                     {--for format: platform}
    run_case(case, work, up)    -> [Result] for every format and every tree
    markdown(results)           -> docs/platform-matrix.md's table

gen runs as the user runs it (`python3 -m tlsfit.cli gen ...`), into a scratch
directory; the bare-metal header of the same arguments is the reference.
"""
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import compared, effective, evaluate, load, resolve, tree_defaults

REPO = evaluate.REPO
FORMATS = {"esp-idf": "esp-idf", "zephyr": "zephyr", "zephyr-cfg-file": "zephyr"}
RANKED = {"esp-idf": "esp-idf"}          # the bare-metal header ranked as --for ranks
PROFILES = ("apache-intermediate", "gnutls-serv", "haproxy", "lighttpd-mbedtls", "lighttpd",
            "mbedtls-ssl_server2", "mosquitto-mtls", "mosquitto-tls", "nginx-intermediate",
            "nginx-modern", "openssl-s_server")
CASES = tuple((p, p, ()) for p in PROFILES) + (
    ("mosquitto-tls --tls 1.2", "mosquitto-tls", ("--tls", "1.2")),
    ("mosquitto-tls --tls 1.3", "mosquitto-tls", ("--tls", "1.3")),
    ("nginx-intermediate --policy compat", "nginx-intermediate", ("--policy", "compat")),
    ("mosquitto-tls --pem --no-time", "mosquitto-tls", ("--pem", "--no-time")),
    ("mosquitto-mtls --client-cert EC", "mosquitto-mtls", ("--client-cert", "@ec")),
    ("mosquitto-mtls --client-cert RSA", "mosquitto-mtls", ("--client-cert", "@rsa")),
)
# Mbed TLS 4.x: --for esp-idf on ESP-IDF v6 (the only platform tlsfit claims for 4.x)
CASES4 = tuple((f"{p} --mbedtls 4.0", p, ("--mbedtls", "4.0")) for p in PROFILES) + (
    ("mosquitto-tls --mbedtls 4.0 --tls 1.3", "mosquitto-tls", ("--mbedtls", "4.0", "--tls", "1.3")),
    ("nginx-modern --mbedtls 4.0 --ecc p256m", "nginx-modern", ("--mbedtls", "4.0", "--ecc", "p256m")),
    ("mosquitto-tls --mbedtls 4.0 --external-rng", "mosquitto-tls",
     ("--mbedtls", "4.0", "--external-rng")),
)
FORMATS4 = ("esp-idf",)
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


@dataclass
class Result:
    case: str
    fmt: str
    tree: str
    failures: list = field(default_factory=list)     # assignments that did not take
    differences: list = field(default_factory=list)  # (option, platform, bare)
    model: list = field(default_factory=list)        # where gen's model disagrees
    note: str = ""

    @property
    def ok(self):
        return not (self.failures or self.differences or self.model)


def device_certs(work):
    """{"@ec": path, "@rsa": path}: self-signed device certificates for --client-cert."""
    out = {}
    for tag, alg in (("@ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
                     ("@rsa", ["-newkey", "rsa:2048"])):
        cert = work / f"device{tag[1:]}.pem"
        if not cert.exists():
            subprocess.run(["openssl", "req", "-x509", *alg, "-nodes", "-days", "30",
                            "-subj", "/CN=tlsfit-device", "-keyout", str(work / f"{tag[1:]}.key"),
                            "-out", str(cert)], check=True, capture_output=True, timeout=60)
        out[tag] = cert
    return out


def gen(args, out, env_extra=None):
    """Runs `tlsfit gen ARGS -o OUT`; returns stderr; raises on a non-zero exit."""
    checkout = Path(os.environ.get("TLSFIT_EVAL_CHECKOUT") or REPO)  # another checkout's gen
    env = dict(os.environ, PYTHONPATH=str(checkout / "tool"), **(env_extra or {}))
    proc = subprocess.run([PYTHON, "-m", "tlsfit.cli", "gen", *map(str, args), "-o", str(out)],
                          cwd=checkout, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    if proc.returncode:
        raise RuntimeError(f"gen {' '.join(map(str, args))}: exit {proc.returncode}: "
                           f"{proc.stderr.strip()}")
    return proc.stderr


def _tree36():
    from ...mbedtls.tree import resolve_tree
    return resolve_tree(line="3.6")


def mbedtls_include():
    """include/ of the mbedTLS 3.6 tree (the set-up cache's or the user's)."""
    return _tree36().path / "include"


def _typed(text):
    """y/n/int/string text as the model holds it (True, False, int, str)."""
    return True if text == "y" else False if text in ("n", "") else \
        int(text) if text.lstrip("-").isdigit() else text


def _fragment_values(fragment_text):
    """{CONFIG_X: value} of a fragment, typed as gen's model holds them."""
    return {"CONFIG_" + name: _typed(evaluate.assigned_value(value))
            for _n, name, value in evaluate.read_fragment(fragment_text)}


def _model_kconfig(platform, applied, fragment_text):
    """Where gen's model of Kconfig (resolve()) and kconfiglib disagree on a symbol
    of the table, for this fragment."""
    out = []
    for sym, value in resolve(platform, _fragment_values(fragment_text)).items():
        real = applied.values.get(sym[len("CONFIG_"):])
        if real is None or (value is None and real == ""):
            continue
        if _typed(real) != value:
            out.append(f"{sym}: model {value}, Kconfig {_typed(real)}")
    return out


def _model_options(platform, fragment_text, overlay_text, base):
    """gen's model of the option set, from the files as written."""
    state = compared(platform, effective(platform, _fragment_values(fragment_text),
                                         evaluate.read_overlay(overlay_text), base))
    return {k: v for k, v in state.items() if k.startswith(("MBEDTLS_", "PSA_"))}


def _line(args):
    """The mbedTLS line a case's gen arguments ask for."""
    args = list(args)
    return args[args.index("--mbedtls") + 1] if "--mbedtls" in args else "3.6"


def mbedtls4_tree(work, up):
    """The unmodified Mbed TLS 4.0.0 tree (shared/upstream's archive), unpacked once
    into work: the stand-in for ESP-IDF v6's 4.1.1 (reference_trees.toml)."""
    root = work / "mbedtls-4.0.0"
    if not (root / "tf-psa-crypto").is_dir():
        subprocess.run(["tar", "-xJf", str(up / "mbedtls-4.0.0.tar.xz"), "-C", str(work)],
                       check=True, timeout=300)
    from ...mbedtls.tree import Tree
    return Tree(root, "4.0.0", 4)


def evaluate_output(case, fmt, tree, d, bare_set, inc, up):
    """One Result: the files gen wrote into d for `fmt`, on reference tree `tree` (for a
    4.x tree, `inc` is the 4.x Tree)."""
    platform = load("esp-idf-v6" if tree.four else FORMATS[fmt])
    fragment = (d / platform.fragment).read_text()
    r = Result(case, fmt, tree.name)
    applied = evaluate.kconfig_apply(tree, fragment, up)
    r.failures = list(applied.failures)
    if fmt != "zephyr-cfg-file":
        r.model = _model_kconfig(platform, applied, fragment)
    if tree.header_stand_in and fmt != "zephyr-cfg-file":
        r.note = "Kconfig, and the overlay is found (the config header is a stand-in)"
        if not evaluate.overlay_found(tree, applied, d, fragment, inc, up):
            r.failures.append(f"{platform.overlay} is not read: the config header with "
                              "the platform's include order and the documented "
                              "CMakeLists.txt line does not find it")
        return r
    if not tree.config_header:
        r.note = "Kconfig only (tlsfit does not generate for this mbedTLS line)"
        return r
    try:
        got = evaluate.option_set(tree, applied, d, fragment, inc.path if tree.four else inc,
                                  up)
    except (RuntimeError, ValueError) as e:
        r.failures.append(str(e))
        return r
    owned = {n for n in (*got, *bare_set) if platform.owns(n)} if fmt != "zephyr-cfg-file" \
        else ()
    r.differences = evaluate.compare(got, bare_set, owned)
    if fmt != "zephyr-cfg-file":
        model = _model_options(platform, fragment, (d / platform.overlay).read_text(),
                               tree_defaults(inc, platform.base) if tree.four
                               else tree_defaults(_tree36()))
        evaluated = compared(platform, got)
        diff = sorted(set(model.items()) ^ set(evaluated.items()))
        r.model += [f"model and evaluation differ on {n}" for n, _v in diff][:8]
    return r


def run_case(case, work, up=None, formats=tuple(FORMATS), claimed_only=True):
    """Every Result of one case (name, profile, args)."""
    name, profile, args = case
    up = up or evaluate.upstream_dir()
    certs = device_certs(work) if any(a.startswith("@") for a in args) else {}
    args = [certs.get(a, a) for a in args]
    slug = name.replace(" ", "_").replace("-", "").replace("/", "_")
    base = work / slug
    base.mkdir(parents=True, exist_ok=True)
    four = _line(args) == "4.0"
    if four:
        formats = tuple(f for f in formats if f in FORMATS4)
    inc = mbedtls4_tree(work, up) if four else mbedtls_include()
    bare_sets = {}
    for rank in {RANKED.get(f, "") for f in formats}:
        gen([profile, *args, *(("--rank-for", rank) if rank else ())],
            base / f"bare{rank}" / "tls_config.h")
        bare_sets[rank] = evaluate.pair_options(base / f"bare{rank}", inc.path) if four \
            else evaluate.header_options(base / f"bare{rank}", inc)
    results = []
    for fmt in formats:
        bare_set = bare_sets[RANKED.get(fmt, "")]
        d = base / fmt
        try:
            gen([profile, *args, "--for", fmt], d)
        except RuntimeError as e:
            results.append(Result(name, fmt, "-", failures=[str(e)]))
            continue
        for tree in evaluate.trees(FORMATS[fmt]):
            if (claimed_only and not tree.claimed) or (four and not tree.four):
                continue
            if tree.four and not four:
                continue              # a 3.x output is not for a 4.x tree (exit 53 says so)
            results.append(evaluate_output(name, fmt, tree, d, bare_set, inc, up))
    return results


def markdown(results):
    """The matrix as a Markdown table, one row per case and format."""
    rows = ["| case | --for | tree | result |", "|---|---|---|---|"]
    for r in results:
        if r.ok:
            verdict = "equal" + (f" ({r.note})" if r.note else "")
        else:
            claimed = next(t.claimed for t in evaluate.trees() if t.name == r.tree) \
                if r.tree != "-" else True
            parts = r.failures[:3] + [f"{o}: platform {p}, header {b}"
                                      for o, p, b in r.differences[:3]] + r.model[:3]
            verdict = ("DIFFERS: " if claimed else "not for this tree: ") + \
                "; ".join(parts).replace("|", "/")
        rows.append(f"| {r.case} | {r.fmt} | {r.tree} | {verdict} |")
    return "\n".join(rows) + "\n"


def page(results):
    """docs/platform-matrix.md: the trees, then the matrix (bench/platform_eval.py --write)."""
    out = ["# Platform matrix: tlsfit's --for outputs on the platforms' own trees", "",
           "Generated by `/usr/bin/python3 bench/platform_eval.py --all-trees --write "
           "docs/platform-matrix.md`; do not edit.", "",
           "Every output gen writes is applied with kconfiglib over the platform's real "
           "mbedtls Kconfig (every assignment must take: the symbol exists, has a visible "
           "prompt, and keeps the value), the platform's config header is run through "
           "`gcc -E -dM` with the autoconf and the overlay where the documented "
           "CMakeLists.txt line puts it, and the option set is compared with the "
           "bare-metal header's, option by option, up to the options the platform owns "
           "(the `owned` lists of `tool/tlsfit/header/platforms/*.toml`, each with its "
           "reason).  The test suite (`./tlsfit test`) runs the same evaluation.", "",
           "## Reference trees", "", "| tree | platform version | mbedTLS | tlsfit claims it |",
           "|---|---|---|---|"]
    for t in evaluate.trees():
        out.append(f"| {t.name} | {t.version} | {t.mbedtls} ({t.mbedtls_note}) | "
                   f"{'yes' if t.claimed else 'no'} |")
    out += ["", "Zephyr's `zephyr-tls-generic` tree has no `config-tls-generic.h` of its own "
            "layout (shared/upstream README, section 2): for `--for zephyr` only the Kconfig "
            "half is evaluated there; `--for zephyr-cfg-file` reads tlsfit's own header and "
            "is compared in full.  `--for esp-idf` with an mbedTLS line no checked ESP-IDF "
            "ships is refused (exit 53, TLSFIT_PLATFORM_LINE).  ESP-IDF v6.0.2 is evaluated with "
            "the `--mbedtls 4.0` outputs (two-file Mbed TLS 4.x configuration, "
            "`esp_idf_v6.toml`) against the unmodified Mbed TLS 4.0.0 tree, the nearest "
            "public stand-in for its Mbed TLS 4.1.1; the 3.x outputs are not for it.", "",
            "## Integration (what each output asks the project to add)", ""]
    for name in ("esp-idf", "esp-idf-v6", "zephyr"):
        p = load(name)
        out += [f"- **{p.title}** ({p.table}: {p.fragment} + {p.overlay}; `gen -o` the project "
                "directory): " + "; ".join(f"`{line}`" for line in p.cmake),
                f"  - versions: {p.versions}"]
    out += ["", "## Matrix", "", markdown(results).rstrip("\n"), ""]
    ok = sum(r.ok for r in results)
    out.append(f"{ok} of {len(results)} rows equal.")
    return "\n".join(out) + "\n"
