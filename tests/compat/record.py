#!/usr/bin/env python3
"""Records the compatibility corpus that tests/test_compat.py holds the driver to.

    tests/compat/record.py [--shapes]      (run from the repository root)
    ./tlsfit regenerate compat             re-render the gen outputs and summaries of
                                           the recorded profiles (no servers; also
                                           tests/compat/record.py --gen-only)

Stands up reference servers on 127.0.0.1 (tlsfit's own refservers), probes each,
and writes into tests/fixtures/compat/:
  <name>.json                  the recorded profile (schema v1)
  <name>.summary.txt           the probe summary printed for it
  <name>.<variant>.out         `tlsfit gen <profile> <args>` stdout, exit code on line 1
With --shapes also measure.shape.json and report.shape.json: every key path of a
`tlsfit measure --json` document and of a fit's report.json with its JSON type,
so a later driver may add keys but never rename one or change its type.

The corpus was recorded with the driver as it stood before the stage restructure
(issue 12); re-run it only on purpose, when an output is meant to change, and say so
in the commit (issue 13 re-rendered the gen outputs with --gen-only: headers pin the
chosen groups and prove themselves with the --sni/--ca the probe used).  The rendering
(VARIANTS, run_gen) lives in tool/tlsfit/regen/compat.py, shared with
`tlsfit regenerate compat`.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tool"))
OUT = REPO / "tests" / "fixtures" / "compat"

from tlsfit.core.paths import write_atomic  # noqa: E402
from tlsfit.regen.compat import VARIANTS, render_outputs, run_gen  # noqa: E402,F401


def servers(pki, logs):
    """(name, context manager) of the servers the corpus records."""
    from tlsfit.lab import refservers as rs
    return [
        ("openssl-rsa-12-13", rs.openssl_server(
            pki.rsa, "-serverpref", "-cipher",
            "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305",
            "-ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256",
            "-groups", "x25519:secp256r1", log_dir=logs)),
        ("openssl-ec-13", rs.openssl_server(pki.ec, "-tls1_3", log_dir=logs)),
        ("openssl-ec-12", rs.openssl_server(
            pki.ec, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305"
            ":ECDHE-ECDSA-AES128-CCM", log_dir=logs)),
        ("openssl-big-12", rs.openssl_server(pki.big, "-tls1_2", log_dir=logs)),
        ("gnutls-rsa-12", rs.gnutls_server(
            pki.rsa, priority="NORMAL:-VERS-ALL:+VERS-TLS1.2", log_dir=logs)),
    ]


def shape(value, prefix="", out=None):
    """{key path: JSON type} of a document; list items share the path '[]'."""
    out = {} if out is None else out
    kind = {dict: "object", list: "array", str: "string", bool: "boolean",
            int: "integer", float: "number", type(None): "null"}[type(value)]
    out.setdefault(prefix or "$", set()).add(kind)
    if isinstance(value, dict):
        for k, v in value.items():
            shape(v, f"{prefix}.{k}", out)
    elif isinstance(value, list):
        for v in value:
            shape(v, f"{prefix}[]", out)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", action="store_true")
    ap.add_argument("--gen-only", action="store_true")
    args = ap.parse_args()
    if args.gen_only:
        return render_recorded()
    from tlsfit.lab import refservers
    from tlsfit.profile import build, probing as probe, summary
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tlsfit-compat-"))
    pki = refservers.standard_pki(work / "pki")
    binary = build.ensure_prober()
    for name, cm in servers(pki, work):
        with cm as srv:
            ca = {"openssl-rsa-12-13": pki.rsa, "gnutls-rsa-12": pki.rsa,
                  "openssl-big-12": pki.big}.get(name, pki.ec).root.pem
            doc = probe.run(srv.hostport, probe.Options(sni="localhost", cas=[str(ca)],
                                                        no_system_store=True), binary=binary)
        # The recorded profile must not name this machine's temporary directories.
        anchor = doc.get("trust_anchor")
        if anchor and anchor.get("source"):
            anchor["source"] = Path(anchor["source"]).name
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(doc, indent=2) + "\n")
        from tlsfit.profile import model as profile_mod
        doc = profile_mod.load(path)
        (OUT / f"{name}.summary.txt").write_text(summary.format_summary(doc) + "\n")
        for variant, gen_args in VARIANTS.items():
            rel = path.relative_to(REPO)
            (OUT / f"{name}.{variant}.out").write_text(run_gen(rel, gen_args))
        print(f"recorded {name}", file=sys.stderr)
    if args.shapes:
        record_shapes(pki, work)


def render_recorded():
    """The gen outputs and summaries of every recorded profile, with today's driver."""
    for rel, text in sorted(render_outputs().items()):
        write_atomic(REPO / rel, text)
    print(f"rendered {OUT.relative_to(REPO)}", file=sys.stderr)


def record_shapes(pki, work):
    from tlsfit.lab import refservers
    env = dict(os.environ, PYTHONPATH=str(REPO / "tool"))
    header = REPO / "tests" / "fixtures" / "measure" / "tls12_ecdhe_ecdsa.h"
    with refservers.openssl_server(pki.ec, "-tls1_2", log_dir=work) as srv:
        m = subprocess.run([sys.executable, "-m", "tlsfit.cli", "measure", "--config", str(header),
                            "--target", "cortex-m4", "--server", srv.hostport, "--sni", "localhost",
                            "--ca", str(pki.ec.root.pem), "--baseline", "--json"],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
        if m.returncode != 0:
            sys.exit(f"measure failed: {m.stderr}")
        f = subprocess.run([sys.executable, "-m", "tlsfit.cli", "fit", srv.hostport, "--sni", "localhost",
                            "--ca", str(pki.ec.root.pem), "--target", "cortex-m4", "--objective",
                            "rom", "--out", str(work / "fit"), "--json"],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
        if f.returncode != 0:
            sys.exit(f"fit failed: {f.stderr}")
    for name, text in (("measure", m.stdout), ("report", f.stdout)):
        s = shape(json.loads(text))
        (OUT / f"{name}.shape.json").write_text(
            json.dumps({k: sorted(v) for k, v in sorted(s.items())}, indent=1) + "\n")


if __name__ == "__main__":
    main()
