"""`tlsfit setup`: install what tlsfit needs and build the prober."""

HELP = """\
Installs what tlsfit needs and builds the prober.

  1. tool/setup.sh: missing Debian packages (cmake, gcc, openssl, gnutls-bin,
     python3-jinja2, python3-pytest, the Arm cross toolchain, QEMU, ...) and
     the mbedTLS 3.6 and 2.28 LTS sources from Debian's source packages, into
     the cache (%(cache)s).  Quiet when everything is present.
  2. builds tlsfit-probe with cmake into build/host-<hash of the mbedTLS path>.

Safe to run again at any time.  ./tlsfit demo and ./tlsfit test do it too.

example:
  ./tlsfit setup
  ./tlsfit --mbedtls-dir ~/src/mbedtls setup     # use your own mbedTLS 3.x tree
"""


def configure(p):
    pass


def run(args):
    from ..core.text import display_path
    from . import prepare
    binary, tree = prepare.ready()
    print(f"tlsfit: ready. prober: {display_path(binary)}; mbedTLS {tree.label} in {tree.path}")
    return 0
