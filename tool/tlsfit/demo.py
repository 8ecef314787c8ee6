"""`tlsfit demo`: the main job, end to end, on local reference servers.

Two realistic servers, each with a test PKI made in .tlsfit/demo/<name>/ and served by
`openssl s_server` on 127.0.0.1 (leaf + intermediate, like most real servers, which do
not send their root):
    rsa    RSA-4096 root -> RSA-2048 intermediate -> RSA-2048 leaf CN=localhost
    ecdsa  P-384 root -> P-256 intermediate -> P-256 leaf CN=localhost
For each, `tlsfit fit` probes the server, measures candidates on the emulated target,
ablates to a 1-minimal header and writes .tlsfit/demo/<name>/fit/{tls_config.h,
report.md, report.json}.
"""
import shutil
import sys

from . import fit, paths, probe, refservers
from .errors import FILE, TlsfitError

SERVERS = (
    ("rsa", "rsa:4096", "rsa:2048", "rsa:2048", "RSA-4096 root -> RSA-2048 intermediate -> leaf"),
    ("ecdsa", "ec:P-384", "ec:P-256", "ec:P-256", "P-384 root -> P-256 intermediate -> leaf"),
)


def run_demo(target="cortex-m4", objective="balanced", names=None):
    """Fits every reference server; returns [(name, report, out_dir)]."""
    base = paths.state_dir() / "demo"
    results = []
    for name, root, inter, leaf, what in SERVERS:
        if names and name not in names:
            continue
        work = base / name
        try:
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
        except OSError as e:
            raise TlsfitError(FILE, f"cannot create {work}: {e.strerror}") from None
        print(f"tlsfit demo: {name}: creating a test PKI in {probe.display_path(work)}/ ({what})",
              file=sys.stderr, flush=True)
        chain = refservers.make_chain(work, "pki", root, inter, leaf, label=f"demo {name}")
        with refservers.openssl_server(chain, log_dir=work) as srv:
            print(f"tlsfit demo: {name}: openssl s_server on {srv.hostport}; "
                  f"tlsfit fit {srv.hostport} --target {target} --objective {objective}",
                  file=sys.stderr, flush=True)
            opts = fit.FitOptions(target=target, objective=objective, sni="localhost",
                                  ca=str(chain.root.pem))
            report = fit.fit(srv.hostport, opts, work / "fit")
        results.append((name, report, work / "fit"))
    return results
