#!/usr/bin/python3
"""PSA key slots on the Mbed TLS 4.x line: the fewest MBEDTLS_PSA_KEY_SLOT_COUNT with which
gen's own 4.0 pair still completes a verified handshake (with --resume: and resumes), per
handshake kind, and what a slot costs in static RAM on a Cortex-M.

gen's crypto file leaves MBEDTLS_PSA_KEY_STORE_DYNAMIC off (a fixed key store: every
volatile key the handshake holds takes a slot of MBEDTLS_PSA_KEY_SLOT_COUNT).  For every
kind it starts a local server (openssl s_server, throwaway PKI or PSK, 127.0.0.1), probes it,
writes `tlsfit gen --mbedtls 4.0`'s pair, and then, for N found by bisection in 1..HIGH,
builds the pair with `#define MBEDTLS_PSA_KEY_SLOT_COUNT N` in place of gen's value and
runs `tlsfit verify` (host, the 4.0.0 tree): the minimum is the smallest N that
verifies, and N-1 is shown failing with its step and error.  The RAM column is the
.bss of tf-psa-crypto/core/psa_crypto_slot_management.c compiled by arm-none-eabi-gcc
for cortex-m4 (-Os) with the pair at the minimum and at 4.x's default 32.

Not a test (CI does not run it); the figures are quoted in rules_4.toml's
[key_slots].  Standard library and the repository's modules only:

    bench/psa_key_slots4.py [--kinds a,b] [--high N]

Needs the 4.0 tree (`./tlsfit setup --mbedtls-archive ../shared/upstream/mbedtls-4.0.0.tar.xz`).
"""
import argparse
import functools
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tool"))

from tlsfit.core import pskkey  # noqa: E402
from tlsfit.core.identity import ClientIdentity  # noqa: E402
from tlsfit.host import verify  # noqa: E402
from tlsfit.lab import pskservers, refservers  # noqa: E402
from tlsfit.mbedtls.configfiles import crypto_config_path  # noqa: E402
from tlsfit.mbedtls.tree import resolve_tree  # noqa: E402

DEFAULT_SLOTS = 32          # tf-psa-crypto/include/psa/crypto_config.h:1365
SLOT_RE = re.compile(r"^#define MBEDTLS_PSA_KEY_SLOT_COUNT\b.*\n", re.M)
ARM_FLAGS = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-Os")


IDENTITY = "slots-dev"
PSK = bytes.fromhex("00112233445566778899aabbccddeeff")


@dataclass(frozen=True)
class Kind:
    """One handshake kind: its server (a context manager factory taking log_dir), the
    probe's and gen's extra arguments, and verify's keyword arguments."""
    server: object
    probe_args: tuple = ()
    gen_args: tuple = ()
    verify_kw: dict = field(default_factory=dict)


def kinds(pki_dir):
    """name -> Kind: TLS 1.2 and 1.3 with a P-256 chain, an RSA-2048 chain, a client
    certificate (EC P-256), a pre-shared key and resumption; TLS 1.2 with a CBC suite."""
    d = Path(pki_dir)
    p256 = refservers.make_chain(d, "p256", "ec:P-256", "ec:P-256", "ec:P-256")
    rsa = refservers.make_chain(d, "rsa", "rsa:2048", "rsa:2048", "rsa:2048")
    ca = refservers.make_ca(d, "devca", "tlsfit device CA", "ec:P-256")
    dev = refservers.make_client_cert(ca, d, "device", "ec:P-256")
    key_file = d / "psk.key"
    key_file.write_text(PSK.hex() + "\n")
    mtls = ("-Verify", "1", "-CAfile", str(ca.pem))

    def cert(chain, *args):
        return functools.partial(refservers.openssl_server, chain, *args)

    def psk_server(*args):
        return functools.partial(pskservers.openssl_psk_server, IDENTITY, PSK, *args)
    chain_args = lambda chain: ("--sni", "localhost", "--ca", chain.root.pem)  # noqa: E731
    v = lambda chain, **kw: dict(sni="localhost", ca=chain.root.pem, **kw)  # noqa: E731
    client = ClientIdentity.load(dev.pem, dev.key)
    psk_args = ("--psk-identity", IDENTITY, "--psk-key-file", key_file)
    psk = pskkey.load(IDENTITY, key_file)
    return {
        "tls12-ecdhe-ecdsa": Kind(cert(p256, "-tls1_2"), chain_args(p256), (), v(p256)),
        "tls13-p256": Kind(cert(p256, "-tls1_3"), chain_args(p256), (), v(p256)),
        "tls12-rsa-chain": Kind(cert(rsa, "-tls1_2"), chain_args(rsa), (), v(rsa)),
        "tls12-cbc": Kind(cert(p256, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256"),
                          chain_args(p256), (), v(p256)),
        "tls13-rsa-chain": Kind(cert(rsa, "-tls1_3"), chain_args(rsa), (), v(rsa)),
        "tls12-mtls-p256": Kind(cert(p256, "-tls1_2", *mtls), chain_args(p256),
                                ("--client-cert", dev.pem), v(p256, client=client)),
        "tls13-mtls-p256": Kind(cert(p256, "-tls1_3", *mtls), chain_args(p256),
                                ("--client-cert", dev.pem), v(p256, client=client)),
        "tls12-psk": Kind(psk_server("-tls1_2"), psk_args, psk_args, {"psk": psk}),
        "tls13-psk": Kind(psk_server("-tls1_3"), psk_args, psk_args, {"psk": psk}),
        "tls12-resume": Kind(cert(p256, "-tls1_2"), chain_args(p256), ("--resume",),
                             v(p256, resume=True)),
        "tls13-resume": Kind(cert(p256, "-tls1_3"), chain_args(p256), ("--resume",),
                             v(p256, resume=True)),
    }


def tlsfit(*args):
    proc = subprocess.run([str(REPO / "tlsfit"), *map(str, args)], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        sys.exit(f"$ tlsfit {' '.join(map(str, args))}\n{proc.stderr}")
    return proc.stdout


def with_slots(config, n, out):
    """The pair at `config` copied to out/X.h with MBEDTLS_PSA_KEY_SLOT_COUNT n."""
    out.mkdir(parents=True, exist_ok=True)
    crypto = SLOT_RE.sub("", crypto_config_path(config).read_text())
    guard = "#endif /* TLSFIT_TLS_CONFIG_CRYPTO_H */"
    crypto = crypto.replace(guard, f"#define MBEDTLS_PSA_KEY_SLOT_COUNT {n}\n{guard}")
    (out / config.name).write_text(config.read_text())
    crypto_config_path(out / config.name).write_text(crypto)
    return out / config.name


def attempt(config, n, work, srv, kind):
    cfg = with_slots(config, n, work / f"n{n}")
    res = verify.verify(cfg, "127.0.0.1", srv.port, mbedtls_dir=resolve_tree(line="4.0").path,
                        **kind.verify_kw)
    ok = res["ok"] is True and (not kind.verify_kw.get("resume")
                                or (res.get("resumption") or {}).get("accepted") is True)
    return ok, res


def bss_bytes(config, n, work, tree):
    """.bss of psa_crypto_slot_management.o for cortex-m4 with the pair at n slots."""
    cfg = with_slots(config, n, work / f"ram{n}")
    obj = work / f"slots{n}.o"
    gen = work / "checks"
    if not gen.is_dir():
        from tlsfit.header.mbed4.check import generate_check_headers
        generate_check_headers(tree.path, gen)
    incs = [f"-I{d}" for d in tree.include_dirs] + [
        f"-I{tree.path / p}" for p in ("library", "tf-psa-crypto/core",
                                       "tf-psa-crypto/drivers/builtin/src")]
    incs += [f"-I{gen / 'lib'}", f"-I{gen / 'core'}"]
    subprocess.run(["arm-none-eabi-gcc", *ARM_FLAGS, "-c", f"-I{cfg.parent}", *incs,
                    f'-DMBEDTLS_CONFIG_FILE="{cfg.name}"',
                    f'-DTF_PSA_CRYPTO_CONFIG_FILE="{crypto_config_path(cfg).name}"',
                    str(tree.path / "tf-psa-crypto/core/psa_crypto_slot_management.c"),
                    "-o", str(obj)], check=True, capture_output=True, text=True)
    out = subprocess.run(["arm-none-eabi-size", "-A", str(obj)], check=True,
                         capture_output=True, text=True).stdout
    return sum(int(m.group(1)) for m in re.finditer(r"^\.bss\S*\s+(\d+)", out, re.M))


def measure_kind(name, kind, work, high, logs):
    with kind.server(log_dir=logs) as srv:
        prof = work / "profile.json"
        prof.write_text(tlsfit("probe", srv.hostport, *kind.probe_args, "--json"))
        config = work / "tls_config.h"
        plan = json.loads(tlsfit("gen", prof, "--mbedtls", "4.0", "-o", config, "--json",
                                 *kind.gen_args))
        gen_value = plan["crypto"]["values"].get("MBEDTLS_PSA_KEY_SLOT_COUNT")
        lo, hi, results = 1, high, {}
        results[hi] = attempt(config, hi, work, srv, kind)
        if not results[hi][0]:
            return name, plan, gen_value, None, results, config
        while lo < hi:
            mid = (lo + hi) // 2
            results[mid] = attempt(config, mid, work, srv, kind)
            lo, hi = (lo, mid) if results[mid][0] else (mid + 1, hi)
        if hi > 1 and hi - 1 not in results:
            results[hi - 1] = attempt(config, hi - 1, work, srv, kind)
    return name, plan, gen_value, hi, results, config


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kinds", help="comma-separated subset of the handshake kinds")
    ap.add_argument("--high", type=int, default=8, help="the bisection's upper end (8)")
    args = ap.parse_args()
    tree = resolve_tree(line="4.0")
    with tempfile.TemporaryDirectory(prefix="tlsfit-slots4-") as tmp:
        tmp = Path(tmp)
        table = kinds(tmp / "pki")
        wanted = args.kinds.split(",") if args.kinds else list(table)
        print(f"Mbed TLS {tree.version}, host verify; RAM: psa_crypto_slot_management.o .bss, "
              "arm-none-eabi-gcc -mcpu=cortex-m4 -Os", flush=True)
        print(f"{'handshake':<18} {'suite':<44} {'gen':>4} {'min':>4}  {'at min-1':<44} "
              f"{'bss@min':>8} {'bss@32':>7}", flush=True)
        for name in wanted:
            work = tmp / name
            work.mkdir()
            print_row(measure_kind(name, table[name], work, args.high, tmp), args.high, tmp,
                      tree)


def print_row(row, high, tmp, tree):
    name, plan, gen_value, best, results, config = row
    suite = plan["chosen"][0]["suite"]
    if best is None:
        res = results[high][1]
        print(f"{name:<18} {suite:<44} {gen_value or '-':>4} {'>' + str(high):>4}  "
              f"{res.get('step')}: {res.get('error')} {res.get('resumption')}", flush=True)
        return
    below = results.get(best - 1)
    fail = "-" if below is None else f"{below[1].get('step')}: {below[1].get('error')}"[:44]
    print(f"{name:<18} {suite:<44} {gen_value or '-':>4} {best:>4}  {fail:<44} "
          f"{bss_bytes(config, best, tmp / name, tree):>8} "
          f"{bss_bytes(config, DEFAULT_SLOTS, tmp / name, tree):>7}", flush=True)


if __name__ == "__main__":
    main()
