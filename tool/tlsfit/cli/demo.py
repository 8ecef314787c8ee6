"""`tlsfit demo`: the main job, end to end, on local reference servers.

Two realistic servers, each with a test PKI made in .tlsfit/demo/<name>/ and served by
`openssl s_server` on 127.0.0.1 (leaf + intermediate, like most real servers, which do
not send their root):
    rsa    RSA-4096 root -> RSA-2048 intermediate -> RSA-2048 leaf CN=localhost
    ecdsa  P-384 root -> P-256 intermediate -> P-256 leaf CN=localhost
The PKI is kept for the next demo (same key specs: the same servers, so the fit's image
and result caches apply).  For each, `tlsfit fit` probes the server, measures candidates
on the emulated target, ablates to a 1-minimal header and writes
.tlsfit/demo/<name>/fit/{tls_config.h, report.md, report.json}.
"""
import shutil
import sys

from ..core import paths
from ..core.errors import FILE, TlsfitError
from ..core.text import display_path

HELP = """\
The main job on this machine, end to end: creates two realistic test PKIs in
.tlsfit/demo/ (an RSA chain under an RSA-4096 root, an ECDSA chain P-384 ->
P-256), serves each with `openssl s_server` on 127.0.0.1, and runs `tlsfit fit`
on each: probe, candidates measured under QEMU, ablation to a 1-minimal header,
mbedTLS's default configuration measured beside it.  Writes
.tlsfit/demo/<name>/fit/{tls_config.h,report.md,report.json}.  Runs the set-up
first (packages, mbedTLS sources, prober build).  A few minutes the first time
(cross builds), about a minute per server after; the PKIs are kept, so a
later demo fits the same servers again and reuses what the last one measured
(under half a minute each; the final header's handshake always runs).

example:
  ./tlsfit demo
  ./tlsfit demo --only ecdsa --objective rom
"""

SERVERS = (
    ("rsa", "rsa:4096", "rsa:2048", "rsa:2048", "RSA-4096 root -> RSA-2048 intermediate -> leaf"),
    ("ecdsa", "ec:P-384", "ec:P-256", "ec:P-256", "P-384 root -> P-256 intermediate -> leaf"),
)


def configure(p):
    from ..fit.objective import OBJECTIVES
    p.add_argument("--target", default="cortex-m4", help="target in targets/ (default cortex-m4)")
    p.add_argument("--objective", default="balanced", choices=OBJECTIVES)
    p.add_argument("--only", choices=("rsa", "ecdsa"), help="fit one of the two servers")


def run(args):
    from ..fit.report import summary_lines
    from . import prepare
    prepare.run_setup_script()
    results = run_demo(args.target, args.objective, [args.only] if args.only else None)
    for name, report, out in results:
        print(f"== {name} ==")
        print(summary_lines(report, display_path(out)))
        print(f"  report for a pull request: {display_path(out / 'report.md')}")
    return 0


def run_demo(target="cortex-m4", objective="balanced", names=None):
    """Fits every reference server; returns [(name, report, out_dir)]."""
    from ..fit import search
    from ..lab import refservers
    base = paths.state_dir() / "demo"
    results = []
    for name, root, inter, leaf, what in SERVERS:
        if names and name not in names:
            continue
        work = base / name
        chain = _demo_chain(work, name, (root, inter, leaf), what)
        with refservers.openssl_server(chain, log_dir=work) as srv:
            print(f"tlsfit demo: {name}: openssl s_server on {srv.hostport}; "
                  f"tlsfit fit {srv.hostport} --target {target} --objective {objective}",
                  file=sys.stderr, flush=True)
            opts = search.FitOptions(target=target, objective=objective, sni="localhost",
                                     ca=str(chain.root.pem))
            report = search.fit(srv.hostport, opts, work / "fit")
        results.append((name, report, work / "fit"))
    return results


PKI_STAMP = "made-for.txt"          # the key specs the demo's PKI was made with


def _demo_chain(work, name, specs, what):
    """The server's test PKI in work/pki: the one an earlier demo made with the same key
    specs (the same server, so the fit's caches apply; certificates are valid for ten
    years), else a new one.  Everything else under work (the last fit) is removed."""
    from ..lab import refservers
    d = work / "pki"
    stamp = d / PKI_STAMP
    wanted = " ".join(specs) + "\n"
    try:
        if stamp.is_file() and stamp.read_text() == wanted and all(
                (d / f"{stem}.{ext}").is_file() for stem in ("root", "inter", "leaf")
                for ext in ("pem", "key")):
            for child in work.iterdir():
                if child != d:
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
            print(f"tlsfit demo: {name}: the test PKI in {display_path(d)}/ ({what})",
                  file=sys.stderr, flush=True)
            certs = [refservers.Cert(d / f"{stem}.pem", d / f"{stem}.key", spec, cn)
                     for stem, spec, cn in zip(("root", "inter", "leaf"), specs, (
                         f"tlsfit demo {name} root", f"tlsfit demo {name} intermediate",
                         "localhost"))]
            return refservers.Chain("pki", d, *certs)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
    except OSError as e:
        raise TlsfitError(FILE, f"cannot create {work}: {e.strerror}") from None
    print(f"tlsfit demo: {name}: creating a test PKI in {display_path(work)}/ ({what})",
          file=sys.stderr, flush=True)
    chain = refservers.make_chain(work, "pki", *specs, label=f"demo {name}")
    paths.write_atomic(stamp, wanted)
    return chain
