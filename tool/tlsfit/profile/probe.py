"""Running the C prober and keeping what it found.

    run(target, options)  -> profile dict (validated), raising TlsfitError with
                             the prober's own exit code when it fails
    keep(doc, save_as)    -> writes .tlsfit/last-profile.json and profiles/NAME.json

The prober prints its one-line error (and --progress lines) on stderr itself;
its stderr is passed straight through, so `tlsfit probe` fails with exactly
the prober's line and exit code.

Time is bounded three ways: the prober's --timeout bounds each read, the
prober ends each connection at 2 x --timeout, and the whole probe is killed at
`deadline` seconds (Options.deadline, default default_deadline()), which fails
with DEADLINE (46) and writes no profile.
"""
import re
from collections import namedtuple
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from ..core import paths
from ..core.errors import DEADLINE, FILE, TlsfitError
from . import model, prober

TF_ERR_INTERNAL = 22
DEFAULT_DEADLINE = 120      # seconds for a whole probe: a healthy server takes a few
DELAY_CONNECTIONS = 200     # --delay MS adds MS x this to the default deadline (a probe
                            # makes 30-150 connections, each after the delay)
SAVE_NAME = re.compile(r"[A-Za-z0-9._-]+\Z")


class Options(namedtuple("Options", "sni timeout cas no_system_store delay progress deadline",
                          defaults=(None, None, (), False, None, False, None))):
    """What to pass the prober: --sni, --timeout, --ca (each), --no-system-store,
    --delay, --progress; and `deadline`, the seconds the whole probe may take
    (None: default_deadline()), enforced here (a namedtuple: the probe path does not
    import dataclasses)."""
    __slots__ = ()


def check_save_name(name):
    """Raises ValueError unless NAME is usable as profiles/NAME.json."""
    if not SAVE_NAME.match(name) or name.startswith("."):
        raise ValueError(f"invalid profile name {name!r}: use letters, digits, '.', '_' and '-' "
                         "(not starting with '.')")
    return name


def default_deadline(opts):
    """Seconds the whole probe may take without --deadline: DEFAULT_DEADLINE, plus the
    pauses --delay asks for."""
    return DEFAULT_DEADLINE + (opts.delay or 0) * DELAY_CONNECTIONS // 1000


def prober_argv(binary, target, opts, out_path):
    argv = [str(binary)]
    if opts.sni is not None:
        argv += ["--sni", opts.sni]
    if opts.timeout is not None:
        argv += ["--timeout", str(int(opts.timeout))]
    for ca in opts.cas:
        argv += ["--ca", str(ca)]
    if opts.no_system_store:
        argv.append("--no-system-store")
    if opts.delay is not None:
        argv += ["--delay", str(opts.delay)]
    if opts.progress:
        argv.append("--progress")
    argv += ["-o", str(out_path), target]
    return argv


def _run_bounded(argv, limit):
    """Runs argv to completion, killed after `limit` seconds; (process, timed out?).
    A timer thread kills it, so the wait itself blocks in waitpid: subprocess.run's
    timeout polls with sleeps that add up to tens of milliseconds to a short probe."""
    expired = threading.Event()
    started = []

    def kill():
        expired.set()
        started[0].kill()
    timer = threading.Timer(limit, kill)
    timer.daemon = True
    try:
        # Everything after the start is inside the try: a signal (Interrupted) that
        # arrives while the timer thread starts must still kill the prober, or it
        # outlives tlsfit holding its stderr.
        started.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL))
        timer.start()
        started[0].wait()
    except BaseException:
        if started:
            started[0].kill()
            started[0].wait()
        raise
    finally:
        timer.cancel()
    return started[0], expired.is_set()


def _remove_work(work):
    """The probe's work directory holds the profile file at most (shutil.rmtree would
    cost `tlsfit probe` its import)."""
    for f in work.iterdir():
        try:
            f.unlink()
        except OSError:
            pass
    try:
        work.rmdir()
    except OSError:
        pass


def run(target, opts=None, binary=None):
    """Probes target ("host[:port]") and returns the validated profile."""
    opts = opts or Options()
    binary = binary or prober.ensure_prober()
    state = paths.state_dir()
    try:
        state.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="probe-", dir=state))
    except OSError as e:
        raise TlsfitError(FILE, f"cannot create a work directory in {state}: {e.strerror}") from None
    out = work / "profile.json"
    try:
        deadline = opts.deadline if opts.deadline is not None else default_deadline(opts)
        proc, timed_out = _run_bounded(prober_argv(binary, target, opts, out), deadline)
        if timed_out and proc.returncode == -signal.SIGKILL:
            raise TlsfitError(DEADLINE, f"{target}: the probe did not finish within its deadline "
                                        f"of {deadline} s and was stopped; no profile was written "
                                        "(a slow server: raise --deadline; a server that holds "
                                        "connections open: lower --timeout)")
        if proc.returncode < 0:
            sig = signal.Signals(-proc.returncode).name
            raise TlsfitError(TF_ERR_INTERNAL, f"{target}: tlsfit-probe was killed by {sig} "
                                               "(a bug in the prober; please report it)")
        if proc.returncode != 0:
            # The prober has printed its own one-line error; pass its code through.
            raise TlsfitError(proc.returncode, "", quiet=True)
        if not out.exists():
            raise TlsfitError(TF_ERR_INTERNAL, f"{target}: tlsfit-probe exited 0 but wrote no "
                                               "profile (a bug in the prober)")
        return model.load(out, name=f"tlsfit-probe's profile of {target}")
    finally:
        _remove_work(work)


def keep(doc, save_as=None):
    """Stores the profile as the last one and, with save_as, as profiles/NAME.json.
    Returns the list of paths written."""
    written = [model.save(doc, paths.last_profile_path())]
    if save_as:
        written.append(model.save(doc, paths.profiles_dir() / f"{check_save_name(save_as)}.json"))
    return written
