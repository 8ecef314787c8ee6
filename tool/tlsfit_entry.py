"""The ./tlsfit launcher's entry point: `python3 tool/tlsfit_entry.py ARGS` is
`python3 -m tlsfit.cli ARGS` without runpy's start-up (~8 ms of a `tlsfit probe`)."""
import sys

from tlsfit.cli.main import main

sys.exit(main())
