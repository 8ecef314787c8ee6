"""`tlsgen gen` (being written; see its issue)."""
from .errors import USAGE, TlsfitError

SUMMARY = "(not written yet)"
HELP = "Not written yet."


def configure(p):
    pass


def run(args):
    raise TlsfitError(USAGE, "gen is not written yet")
