#!/usr/bin/python3
"""Measure the flash cost table gen ranks choices with: tool/tlsfit/header/costs.json.

    bench/module_costs.py [--target cortex-m4] [--write]

1. modules: every mbedTLS 3.6 library object, compiled for the target with
   arm-none-eabi-gcc -Os -ffunction-sections from the library's default configuration
   put through scripts/config.py baremetal_size: text+data bytes per object.
2. curves: ecp.c + ecp_curves.c + ecdh.c compiled with one curve at a time, on top of
   the header gen renders for tests/fixtures/profile-v1.json (feature flags such as
   MBEDTLS_ECP_DP_*_ENABLED have no object of their own, so the module table cannot
   price them).
Prints the table; --write stores it.  Object sizes are before --gc-sections: an upper
bound used only to rank choices; `tlsfit measure` reports the linked truth.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))
sys.path.insert(0, str(REPO / "tool" / "firmware"))

import build as fw  # noqa: E402  (tool/firmware/build.py)
from tlsfit.core import paths  # noqa: E402
from tlsfit.header import costs, gen, rules as rules_mod  # noqa: E402
from tlsfit.mbedtls.tree import prober_tree  # noqa: E402
from tlsfit.profile import model as profile  # noqa: E402

CURVE_MODULES = ("ecp.c", "ecp_curves.c", "ecdh.c")
# p256-m's objects (3rdparty/p256-m, outside the baremetal_size build) were measured by
# hand; a --write keeps their stored figures and this account of how they were made.
HAND_MEASURED = ("p256-m.c", "p256-m_driver_entrypoints.c")
HAND_MEASURED_ABOUT = (
    "p256-m.c and p256-m_driver_entrypoints.c (3rdparty/p256-m, not in the baremetal_size"
    " build) were measured the same way by hand on a driver-only header from `tlsfit gen "
    "--ecc p256m`: arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-"
    "sp-d16 -Os -ffunction-sections -fdata-sections -c <file> && arm-none-eabi-size (text"
    "+data)."
)
FIXTURE = REPO / "tests" / "fixtures" / "profile-v1.json"


def compile_sizes(tree, target, config_dir, config_name, sources, out_dir):
    flags = [*fw.cpu_flags(target), *fw.COMMON_CFLAGS, "--specs=nano.specs",
             f"-I{tree}/include", f"-I{tree}/library", f"-I{config_dir}",
             f'-DMBEDTLS_CONFIG_FILE="{config_name}"']

    def one(src):
        obj = Path(out_dir) / (Path(src).stem + ".o")
        subprocess.run([fw.CC, *flags, "-c", str(src), "-o", str(obj)], check=True,
                       capture_output=True)
        return obj
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        objs = list(pool.map(one, sources))
    out = subprocess.run(["arm-none-eabi-size", *map(str, objs)], check=True,
                         capture_output=True, text=True).stdout.splitlines()[1:]
    sizes = {}
    for row in out:
        text, data, _bss, _dec, _hex, name = row.split()
        if int(text) + int(data):
            sizes[Path(name).stem + ".c"] = int(text) + int(data)
    return sizes


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", default="cortex-m4")
    ap.add_argument("--write", action="store_true", help="store the table in costs.json")
    args = ap.parse_args()
    tree = prober_tree().path
    target = fw.load_target(args.target)
    version = prober_tree().label
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = tmp / "baremetal.h"
        shutil.copy(tree / "include" / "mbedtls" / "mbedtls_config.h", cfg)
        for cmd in (["baremetal_size"], ["set", "MBEDTLS_ENTROPY_HARDWARE_ALT"],
                    ["set", "MBEDTLS_PLATFORM_MEMORY"]):
            subprocess.run(["/usr/bin/python3", str(tree / "scripts" / "config.py"), "-f",
                            str(cfg), *cmd], check=True)
        modules = compile_sizes(tree, target, tmp, cfg.name,
                                sorted((tree / "library").glob("*.c")), tmp)
        plan = gen.generate(profile.load(FIXTURE))
        r = rules_mod.load()
        curves = {}
        for name, fact in r.facts["curves"].items():
            if fact.unsupported:
                continue
            text = plan.text
            for other in r.facts["curves"].values():
                for o in other.options:
                    text = text.replace(f"#define {o} ", f"// {o} ")
            text = text.replace("#define MBEDTLS_ECP_C ",
                                f"#define {fact.options[0]}\n#define MBEDTLS_ECP_C ")
            (tmp / "one.h").write_text(text)
            sizes = compile_sizes(tree, target, tmp, "one.h",
                                  [tree / "library" / m for m in CURVE_MODULES], tmp)
            curves[name] = sum(sizes.values())
    stored = costs.load_costs()
    doc = {"about": "Measured by bench/module_costs.py: flash (text+data, bytes) of mbedTLS "
                    f"{version} objects for {args.target}, arm-none-eabi-gcc -Os, before "
                    "--gc-sections. modules: each library object from the baremetal_size "
                    "configuration. curves: ecp.c+ecp_curves.c+ecdh.c with that one curve on "
                    "gen's header for tests/fixtures/profile-v1.json. options: per-option "
                    "costs measured on the target (tlsfit fit), when recorded. "
                    + HAND_MEASURED_ABOUT,
           "target": args.target, "mbedtls": version, "curves": curves,
           "modules": {**modules, **{m: n for m, n in stored.get("modules", {}).items()
                                     if m in HAND_MEASURED}},
           **{k: v for k, v in stored.items() if k in ("options", "options_about")}}
    text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
    if args.write:
        paths.write_atomic(costs.COSTS_PATH, text)
        print(f"wrote {costs.COSTS_PATH.relative_to(REPO)}")
    for k, v in sorted(curves.items(), key=lambda kv: kv[1]):
        print(f"curve {k:<18} {v:>7} B")
    for k, v in sorted(modules.items(), key=lambda kv: -kv[1])[:15]:
        print(f"module {k:<30} {v:>7} B")


if __name__ == "__main__":
    main()
