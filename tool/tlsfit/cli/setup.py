"""`tlsfit setup`: install what tlsfit needs and build the prober."""

HELP = """\
Installs what tlsfit needs and builds the prober.

  1. tool/setup.sh: missing Debian packages (cmake, gcc, openssl, gnutls-bin,
     python3-jinja2, python3-pytest, the Arm cross toolchain, QEMU, ...) and
     the mbedTLS 3.6 and 2.28 LTS sources from Debian's source packages, into
     the cache (%(cache)s).  Quiet when everything is present.
  2. builds tlsfit-probe with cmake into build/host-<hash of the mbedTLS path>.

Safe to run again at any time.  ./tlsfit demo and ./tlsfit test do it too.

--mbedtls-archive FILE also unpacks an mbedTLS 4.x release archive (with its
tf-psa-crypto/) into the cache as mbedtls-4.0, so --mbedtls 4.0 on verify and
measure builds against it (there is no Debian package of 4.x).  Atomic; an
archive already unpacked is not unpacked again.

example:
  ./tlsfit setup
  ./tlsfit --mbedtls-dir ~/src/mbedtls setup     # use your own mbedTLS 3.x tree
  ./tlsfit setup --mbedtls-archive mbedtls-4.0.0.tar.xz
"""


def configure(p):
    p.add_argument("--mbedtls-archive", metavar="FILE",
                   help="also unpack this mbedTLS 4.x release archive into the cache "
                        "(for --mbedtls 4.0)")


def run(args):
    from ..core.text import display_path
    from . import prepare
    if getattr(args, "mbedtls_archive", None):
        from ..mbedtls.archive import install_archive
        _, message = install_archive(args.mbedtls_archive)
        print(f"tlsfit: {message}")
    binary, tree = prepare.ready()
    print(f"tlsfit: ready. prober: {display_path(binary)}; mbedTLS {tree.label} in {tree.path}")
    return 0
