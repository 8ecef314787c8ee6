"""Entry point of `python3 -m tlsfit` (the ./tlsfit launcher execs this)."""
import sys

from .cli.main import main

sys.exit(main())
