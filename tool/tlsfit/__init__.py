"""tlsfit -- size a firmware's TLS configuration to the servers it talks to.

The package is the driver around the C prober (tool/probe): `python3 -m tlsfit.cli`
(or the ./tlsfit launcher at the repository root) is the command line.
"""

__version__ = "0.1.0"
