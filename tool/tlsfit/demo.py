"""`tlsfit demo`: the whole probe step against a local reference server.

Creates a throwaway PKI (RSA root -> intermediate -> leaf CN=localhost) in
.tlsfit/demo/, starts `openssl s_server` on 127.0.0.1 with leaf + intermediate
(like most real servers, it does not send its root), probes it with
`--ca root.pem` so the trust anchor is found, and prints the summary.
"""
import shutil
import sys

from . import build, paths, probe, refservers
from .errors import FILE, TlsfitError


def run_demo():
    binary = build.ensure_prober()
    work = paths.state_dir() / "demo"
    try:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
    except OSError as e:
        raise TlsfitError(FILE, f"cannot create {work}: {e.strerror}") from None
    shown = probe.display_path(work)
    print(f"tlsfit demo: creating a throwaway PKI in {shown}/ "
          "(RSA-2048 root -> intermediate -> CN=localhost)", file=sys.stderr)
    chain = refservers.make_chain(work, "pki", "rsa:2048", "rsa:2048", "rsa:2048", label="demo")
    with refservers.openssl_server(chain, log_dir=work) as srv:
        print(f"tlsfit demo: openssl s_server is listening on {srv.hostport}; probing it with "
              f"--ca {probe.display_path(chain.root.pem)}", file=sys.stderr, flush=True)
        opts = probe.Options(sni="localhost", cas=[chain.root.pem], timeout=5)
        doc = probe.run(srv.hostport, opts, binary=binary)
    return doc, probe.keep(doc)
