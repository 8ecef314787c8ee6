"""`tlsfit gen --mbedtls 4.0`: the two 4.x configuration files (header/mbed4).

-o X.h writes X.h and X_crypto.h (mbedtls/configfiles.py), each atomically, the crypto
file first; --for esp-idf -o DIR writes ESP-IDF v6's sdkconfig.defaults and
tlsfit_user_config.h instead.  Without -o both go to stdout, the TLS file first, each after a one-line
marker comment naming the file it is (`/* ==== tlsfit: X.h ==== */`), so a reader
can cut them apart; the files written with -o carry no marker."""
import json
import sys
from pathlib import Path

from ..core import paths
from ..core.errors import MBED4_OUTPUT, PLATFORM, TlsfitError
from ..header.explain import explain
from ..header.mbed4 import esp_idf
from ..header.mbed4.pair import generate_pair
from ..header.mbed4.render import write_pair
from ..header.types import NO_OVERRIDES
from ..mbedtls.configfiles import crypto_config_path

LINE = "4.0"
_NOT_MADE = {
    "zephyr": "no coherent Zephyr reference tree with Mbed TLS 4.x could be checked, so "
              "tlsfit does not guess its Kconfig symbols; use --mbedtls 3.6 for Zephyr",
    "zephyr-cfg-file": "no coherent Zephyr reference tree with Mbed TLS 4.x could be checked, "
                       "so tlsfit does not guess its Kconfig symbols; use --mbedtls 3.6 for "
                       "Zephyr",
    "rt-thread": "RT-Thread's mbedTLS package is not checked against 4.x; use --mbedtls 3.6",
}


def refuse_unmade(args):
    """MBED4_OUTPUT (59) for an output the 4.x line does not have, in one line."""
    if args.platform in _NOT_MADE:
        raise TlsfitError(MBED4_OUTPUT, f"--mbedtls {LINE} --for {args.platform}: "
                                        + _NOT_MADE[args.platform])


def run4(args, docs, names, opts, command, costs=None, ranked=False, overrides=NO_OVERRIDES):
    """Renders (and writes, with -o) the pair, or ESP-IDF v6's files; returns 0.  costs:
    gen's cost table as ranked (--rank-for, implied by --for esp-idf); ranked: the
    platform output says so; overrides: a fit's choices (--fit-report, in 3.6 option
    names: the pair `tlsfit fit --mbedtls 4.0` wrote, again)."""
    refuse_unmade(args)
    plan = generate_pair(docs, opts, names, costs=costs, command=command, overrides=overrides)
    p36 = plan.plan36
    for note in plan.notes:
        print(f"tlsfit: note: {note}", file=sys.stderr)
    if args.platform == "esp-idf":
        return _esp_idf(args, plan, command, ranked)
    if args.output:
        written = write_pair(plan, args.output)
        print(f"tlsfit: wrote {', '.join(str(w) for w in written)}: "
              f"{' + '.join(c.label() for c in p36.chosen)} (Mbed TLS {LINE}: pass both, "
              "-DMBEDTLS_CONFIG_FILE and -DTF_PSA_CRYPTO_CONFIG_FILE)", file=sys.stderr)
    for w in p36.warnings:
        print(f"tlsfit: warning: {w}", file=sys.stderr)
    if args.json:
        print(json.dumps(pair_json(plan), indent=2))
    elif args.explain:
        print(f"tlsfit: the choice below is made with the 3.6 option names; {LINE}'s files "
              "hold them translated (tool/tlsfit/header/rules_4.toml)")
        sys.stdout.write(explain(p36))
    elif not args.output:
        tls = "tls_config.h"
        sys.stdout.write(f"/* ==== tlsfit: {tls} ==== */\n" + plan.tls_text +
                         f"/* ==== tlsfit: {crypto_config_path(tls)} ==== */\n" +
                         plan.crypto_text)
    return 0


def _esp_idf(args, plan, command, ranked):
    """ESP-IDF v6's sdkconfig.defaults and tlsfit_user_config.h into -o DIR."""
    out = esp_idf.files(plan, esp_idf.four_tree(), command, ranked)
    if args.json:
        doc = pair_json(plan)
        doc["platform"] = {"name": "esp-idf", "files": list(out.files),
                           "kconfig": {st.symbol: st.value for st in out.translation.settings}}
        print(json.dumps(doc, indent=2))
    if args.json or args.explain:
        return 0
    if not args.output:
        raise TlsfitError(PLATFORM, f"--for esp-idf writes {len(out.files)} files "
                                    f"({', '.join(out.files)}): give -o DIR")
    d = Path(args.output)
    if d.exists() and not d.is_dir():
        raise TlsfitError(PLATFORM, f"-o {d}: is a file; --for esp-idf writes "
                                    f"{', '.join(out.files)}: give a directory")
    written = [paths.write_atomic(d / name, text) for name, text in out.files.items()]
    print(f"tlsfit: wrote {', '.join(str(w) for w in written)} (ESP-IDF v6, Mbed TLS {LINE})",
          file=sys.stderr)
    return 0


def pair_json(plan):
    """The decision as JSON: the chosen candidates and both files' options and values."""
    p36, f = plan.plan36, plan.files
    return {"target": p36.target, "mbedtls": LINE, "policy": p36.policy,
            "chosen": [vars(c) for c in p36.chosen], "ciphersuites": p36.ciphersuites,
            "tls": {"options": f.tls, "values": {k: v[0] for k, v in f.tls_values.items()}},
            "crypto": {"options": f.crypto,
                       "values": {k: v[0] for k, v in f.crypto_values.items()}},
            "warnings": p36.warnings, "notes": list(plan.notes)}
