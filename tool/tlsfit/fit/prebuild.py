"""mbedTLS's default configuration cross-built while the fit searches.

    pending = prebuild.start_baseline(opts)     after the probe
    ...                                         search, content lengths, ablation
    prebuild.finish(pending)                    before the confirming run (and on the way out)

Every fit ends by measuring its header beside mbedTLS's default configuration
(search.confirm), and the default configuration is the biggest cross build of a
fit (about 100 objects where a fitted header has 50).  On a machine where it was
never built, the confirming run waited for it with nothing else to do; started in a
thread of its own right after the probe, it compiles in the gaps the search leaves
(QEMU sessions, links, the end of each phase's batch), and the confirming run finds
it ready (or waits on the build's lock for the rest; xbuild.cross_build is safe from
parallel threads, and the object store compiles a shared object once).  Its seconds
count under the "compile" and "objects" timings.  Nothing is measured here: the
default configuration's session still runs in the confirming run.  A build that
fails here is left to the confirming run, which builds it again and reports why.
"""
import threading

from ..core.errors import TlsfitError
from ..mbedtls import baseline as baseline_mod
from ..mbedtls.tree import resolve_tree
from ..target import xbuild


def _build(opts):
    try:
        tree = resolve_tree(None, opts.line)
        header = baseline_mod.baseline_config(tree, progress=False)
        xbuild.cross_build(header, opts.target, tree, progress=False)
    except (TlsfitError, OSError, KeyboardInterrupt):
        pass            # the confirming run builds it again and says what went wrong


def start_baseline(opts):
    """A thread cross-building the default configuration for opts.target and opts.line."""
    thread = threading.Thread(target=_build, args=(opts,), name="tlsfit-baseline-build",
                              daemon=True)
    thread.start()
    return thread


def finish(pending):
    """Waits for start_baseline's build (a signal stops its compiles: interrupt.STOP)."""
    if pending is not None:
        pending.join()
