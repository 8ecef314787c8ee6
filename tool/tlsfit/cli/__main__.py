"""Entry point of `python3 -m tlsfit.cli` (the ./tlsfit launcher runs the same main()
through tool/tlsfit_entry.py)."""
import sys

from .main import main

sys.exit(main())
