"""What a test starts, for the tiers of `./tlsfit test` (pytest.ini registers the markers).

    server   starts a TLS (or other) server or fake peer on 127.0.0.1: openssl s_server,
             gnutls-serv, an mbedTLS server, mosquitto, nginx, lighttpd, a tests/hostile.py
             peer, a listening socket, or `tlsfit demo/bench/replay` (which start them)
    qemu     runs firmware under QEMU or cross-builds it (measure, the targets)
    fit      runs a whole `tlsfit fit`, `demo` or `bench` (which measure under QEMU: a fit
             test is a qemu test too)
    fast     a live test the fast tier keeps (FAST_TESTS: one per stage, probe, gen+verify,
             measure, fit)

A test with none of server/qemu/fit is pure.  Marks are written in the test files
(`pytestmark` or `@pytest.mark.server`) and also added here at collection
(`auto_marks`): the source of the test, of every fixture it uses and of every helper
function of the tests/ directory they call (also one imported inside a function) is
read for the calls that start servers, QEMU or fits.  The reading is by name, so it can miss a server started some other
way; `Spawns` records, while the tests run, what a test really started, and the
session's summary names every test that started something its marks do not say.
"""
import inspect
import os
import re
import socket
import subprocess
import sys
import types
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
KINDS = ("server", "qemu", "fit")

# The fast tier's live tests (`./tlsfit test --fast`): one per stage.  A pure test
# (tests/test_markers.py) checks that each is still collected.
FAST_TESTS = (
    # probe: one real server probed
    "tests/test_probe_servers.py::test_openssl_tls12_server_order",
    # gen + verify: a header generated from a probe, checked for the target and
    # verified on the host against its server
    "tests/test_gen.py::test_gen_header_is_proven[openssl-ec-tls13-only]",
    # measure: one QEMU run against a server
    "tests/test_measure.py::test_tls13_handshake",
    # fit: the session's shared fit (conftest.budget_fit) and what it wrote
    "tests/test_fit.py::test_the_shared_fit_verified_and_wrote_its_files",
    "tests/test_bench_gate.py::test_a_fit_over_its_rom_budget_exits_47_and_still_writes_its_report",
)

# Calls and texts that start each kind, read in the source (see the module docstring);
# _DRIVER_COMMANDS count only where the source runs the driver (_DRIVER).
_DRIVER = re.compile(r"[\"']tlsfit\.cli[\"']")
_SOURCE_SIGNS = {
    "server": re.compile(r"\b(openssl_server|gnutls_server|openssl_psk_server|gnutls_psk_server|mbedtls_server|mosquitto_server|"
                         r"nginx_server|serving|HostilePeer|LineServer|RefServer)\(|"
                         r"\bdaemons\.(lighttpd|haproxy|stunnel|apache|aws_iot_shaped)\(|\.listen\(|"
                         r"[\"']s_server[\"']|gnutls-serv"),
    "qemu": re.compile(r"\b(measure\.measure|run_firmware|fw\.build|xbuild\.cross_build)\("),
}
_DRIVER_COMMANDS = {       # demo, bench and replay start their servers themselves
    "server": re.compile(r"[\"'](demo|bench|replay)[\"']\s*,"),
    "qemu": re.compile(r"[\"']measure[\"']\s*,"),
    "fit": re.compile(r"[\"'](fit|demo|bench)[\"']\s*,"),
}


def _source(func):
    try:
        return inspect.getsource(func)
    except (OSError, TypeError):
        return ""


def _code_names(code):
    """Global and attribute names a code object and its nested code objects use."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _is_test_helper(obj):
    if not isinstance(obj, types.FunctionType):
        return False
    path = getattr(obj.__code__, "co_filename", "")
    return Path(path).resolve().parent == TESTS_DIR if path else False


def collected_source(func, seen=None):
    """The source of func and of every tests/ function it reaches through global names."""
    seen = set() if seen is None else seen
    func = inspect.unwrap(func)
    if not isinstance(func, types.FunctionType) or func in seen:
        return ""
    seen.add(func)
    parts = [_source(func)]
    conftest = sys.modules.get("conftest")
    for name in _code_names(func.__code__):
        # a global, or a helper imported inside the function (from conftest import ...)
        obj = func.__globals__.get(name, getattr(conftest, name, None))
        if isinstance(obj, type) and obj.__module__ in ("hostile",):
            parts.append(name)
        elif _is_test_helper(obj):
            parts.append(collected_source(obj, seen))
    return "\n".join(parts)


def kinds_in(text):
    """The kinds (server, qemu, fit) a body of test source starts."""
    found = {kind for kind, sign in _SOURCE_SIGNS.items() if sign.search(text)}
    if _DRIVER.search(text):
        found |= {kind for kind, sign in _DRIVER_COMMANDS.items() if sign.search(text)}
    if "fit" in found:
        found.add("qemu")
    return found


_sources = {}


def reads_itself(item):
    """tests/test_markers.py holds the signs as data: its tests are not read, nor recorded."""
    return Path(str(getattr(item, "fspath", ""))).name == "test_markers.py"


def auto_marks(item):
    """The kinds an item's test function and fixtures start, read in their source."""
    if reads_itself(item):
        return set()
    funcs = [getattr(item, "obj", None)]
    info = getattr(item, "_fixtureinfo", None)
    if info is not None:
        for defs in info.name2fixturedefs.values():
            funcs.extend(d.func for d in defs)
    texts = []
    for func in funcs:
        if func is not None and func not in _sources:
            _sources[func] = collected_source(func)
        texts.append(_sources.get(func, ""))
    return kinds_in("\n".join(texts))


# -- what a test really starts, recorded while it runs ---------------------------------

_SERVER_PROGRAMS = ("gnutls-serv", "mosquitto", "nginx", "ssl_server2", "lighttpd",
                    "haproxy", "stunnel4", "stunnel", "apache2")


def _command(words):
    """The command a wrapper runs: `timeout -k 5 600 nginx ...` -> `nginx ...`
    (refservers starts every server under timeout)."""
    while words and os.path.basename(words[0]) == "timeout":
        i = 1
        while i < len(words) and words[i].startswith("-"):
            i += 2 if words[i] in ("-k", "-s") else 1
        words = words[i + 1:]                   # past the duration
    return words


def kinds_of_argv(argv):
    """The kinds a command line starts (argv as given to subprocess)."""
    if isinstance(argv, (str, bytes, os.PathLike)):
        argv = [argv]
    words = _command([os.fsdecode(a) if isinstance(a, (bytes, os.PathLike)) else str(a)
                      for a in argv])
    if not words:
        return set()
    prog = os.path.basename(words[0])
    found = set()
    if prog in _SERVER_PROGRAMS or (prog == "openssl" and "s_server" in words[1:2]):
        found.add("server")
    # a cross build compiles (-c) or links (-o); --version or -fsyntax-only builds nothing
    if prog.startswith("qemu-system") or (prog.startswith("arm-none-eabi-gcc") and
                                          {"-c", "-o"} & set(words)):
        found.add("qemu")
    if "tlsfit.cli" in words:
        rest = set(words[words.index("tlsfit.cli") + 1:])
        if {"-h", "--help"} & rest:
            return found
        if {"fit", "demo", "bench"} & rest:
            found |= {"fit", "qemu"}
        if {"demo", "bench", "replay"} & rest:
            found.add("server")
        elif "measure" in rest:
            found.add("qemu")
    return found


class Spawns:
    """While active, records the kinds of the processes started and of the sockets that
    listen (a hostile peer, an in-process server) in self.kinds."""

    def __init__(self):
        self.kinds = set()
        self._popen_init = None
        self._listen = None

    def __enter__(self):
        popen_init, listen, kinds = subprocess.Popen.__init__, socket.socket.listen, self.kinds
        self._popen_init, self._listen = popen_init, listen

        def recording_init(popen, args, *rest, **kw):
            try:
                kinds.update(kinds_of_argv(args))
            except Exception:       # the record must never break the test
                pass
            return popen_init(popen, args, *rest, **kw)

        def recording_listen(sock, *args):
            kinds.add("server")
            return listen(sock, *args)

        subprocess.Popen.__init__ = recording_init
        socket.socket.listen = recording_listen
        return self

    def __exit__(self, *exc):
        subprocess.Popen.__init__ = self._popen_init
        socket.socket.listen = self._listen
