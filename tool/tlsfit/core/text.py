"""Text helpers shared by every stage: one-line messages and progress lines."""
import os
import sys


def one_line(text, limit=400):
    """text with its whitespace folded to single spaces, cut to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def say(msg):
    """A progress or notice line on stderr: `tlsfit: msg`."""
    print(f"tlsfit: {msg}", file=sys.stderr, flush=True)


def display_path(p):
    """p relative to the current directory when that is shorter."""
    try:
        rel = os.path.relpath(p)
    except ValueError:
        return str(p)
    return rel if len(rel) < len(str(p)) else str(p)
