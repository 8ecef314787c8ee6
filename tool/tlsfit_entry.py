"""The ./tlsfit launcher's entry point: `python3 -S tool/tlsfit_entry.py ARGS` is
`python3 -m tlsfit.cli ARGS` without runpy's start-up (~8 ms of a `tlsfit probe`).

The launcher starts Python with -S (no `site` at start-up): commands that use only
the standard library (STDLIB_ONLY) then skip the site-packages scan and its .pth
files (~3-7 ms); every other command runs site.main() first, which adds
site-packages (Jinja2, pytest) exactly as a normal start would.
"""
import sys

STDLIB_ONLY = frozenset({"probe", "errors"})


def _command(argv):
    """The command word (the first argument not an option or --mbedtls-dir's value)."""
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a == "--mbedtls-dir":
            skip = True
        elif not a.startswith("-"):
            return a
    return None


def start(argv):
    """site.main() unless the command is STDLIB_ONLY (or Python ran site already),
    then the CLI's main()."""
    if sys.flags.no_site and _command(argv) not in STDLIB_ONLY:
        import site
        site.main()
    from tlsfit.cli.main import main
    return main(argv)


if __name__ == "__main__":
    sys.exit(start(sys.argv[1:]))
