"""The tiers' markers (tests/markers.py, pytest.ini): what the reading of a test's source
finds, what a command line starts, the registered names, and that the fast tier's live
tests are still collected."""
import configparser
import subprocess
import sys

import markers
from conftest import REPO


def test_every_kind_and_fast_is_registered_in_pytest_ini():
    ini = configparser.ConfigParser()
    ini.read(REPO / "pytest.ini")
    registered = {line.split(":")[0].strip()
                  for line in ini["pytest"]["markers"].splitlines() if line.strip()}
    assert registered == {*markers.KINDS, "fast"}
    assert "--strict-markers" in ini["pytest"]["addopts"].split()


def test_source_that_starts_servers_qemu_and_fits():
    assert markers.kinds_in("with refservers.openssl_server(pki.ec, log_dir=d) as srv:") == \
        {"server"}
    assert markers.kinds_in("with HostilePeer(behaviour) as peer:") == {"server"}
    assert markers.kinds_in("with daemons.lighttpd(pki.ec, log_dir=d) as srv:") == {"server"}
    assert markers.kinds_in("listener.listen(4)") == {"server"}
    assert markers.kinds_in("r = measure.measure(TLS12_EC, 'cortex-m4', host, port)") == {"qemu"}
    assert markers.kinds_in("elf = fw.build(target, [HELLO], out)") == {"qemu"}
    driver = 'subprocess.run([python, "-m", "tlsfit.cli", *args])\n'
    assert markers.kinds_in(driver + 'run_driver("fit", srv, "--out", out)') == {"fit", "qemu"}
    assert markers.kinds_in(driver + 'run_driver("demo", "--only", "ecdsa")') == \
        {"fit", "qemu", "server"}
    assert markers.kinds_in(driver + 'run("measure", "--config", h)') == {"qemu"}


def test_source_that_only_names_them_is_pure():
    assert markers.kinds_in('profile = REPO / "profiles" / "openssl-s_server.json"') == set()
    assert markers.kinds_in("xbuild.build_key(data, 'cortex-m4', tree)") == set()
    # a "fit" argument with no driver: the in-process parser, or an output directory
    assert markers.kinds_in('args = _parse(["fit", "127.0.0.1:1", "--lto"])') == set()
    assert markers.kinds_in('from tlsfit.cli import fit\nout = tmp_path / "fit"\n') == set()
    assert markers.kinds_in('subprocess.run([python, "-m", "tlsfit.cli", "gen", p])') == set()


def test_command_lines_that_start_servers_qemu_and_fits():
    assert markers.kinds_of_argv(["openssl", "s_server", "-accept", "1"]) == {"server"}
    assert markers.kinds_of_argv(["openssl", "x509", "-noout"]) == set()
    assert markers.kinds_of_argv(["/usr/bin/gnutls-serv", "-p", "1"]) == {"server"}
    assert markers.kinds_of_argv(["qemu-system-arm", "-M", "mps2-an386"]) == {"qemu"}
    assert markers.kinds_of_argv(["python3", "-m", "tlsfit.cli", "--mbedtls-dir", "t", "fit",
                                  "h:1"]) == {"fit", "qemu"}
    assert markers.kinds_of_argv(["python3", "-m", "tlsfit.cli", "bench"]) == \
        {"fit", "qemu", "server"}
    assert markers.kinds_of_argv(["python3", "-m", "tlsfit.cli", "gen", "p.json"]) == set()
    assert markers.kinds_of_argv("ls") == set()
    # refservers starts every server under timeout(1)
    assert markers.kinds_of_argv(["timeout", "-k", "5", "600", "/usr/sbin/nginx", "-p", "d"]) == \
        {"server"}
    assert markers.kinds_of_argv(["timeout", "30", "openssl", "s_server"]) == {"server"}
    # asking is not building or running
    assert markers.kinds_of_argv(["arm-none-eabi-gcc", "--version"]) == set()
    assert markers.kinds_of_argv(["arm-none-eabi-gcc", "-fsyntax-only", "x.c"]) == set()
    assert markers.kinds_of_argv(["arm-none-eabi-gcc", "-c", "x.c", "-o", "x.o"]) == {"qemu"}
    assert markers.kinds_of_argv(["python3", "-m", "tlsfit.cli", "measure", "--help"]) == set()


def test_a_listening_socket_is_recorded_and_the_record_ends():
    import socket
    with markers.Spawns() as spawned:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert spawned.kinds == {"server"}
    assert socket.socket.listen is spawned._listen                  # put back
    assert subprocess.Popen.__init__ is spawned._popen_init


def test_the_fast_tiers_live_tests_are_collected():
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "fast",
                           *sorted({t.split("::")[0] for t in markers.FAST_TESTS})],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    collected = {line for line in proc.stdout.splitlines() if "::" in line}
    assert collected == set(markers.FAST_TESTS), proc.stdout[-3000:] + proc.stderr[-3000:]


def _fits_through_a_local_import():            # read, never called
    from conftest import run_tlsfit
    return run_tlsfit(None, None, "fit", "127.0.0.1:1")


def test_helpers_are_read_where_they_are_imported():
    assert markers.kinds_in(markers.collected_source(_fits_through_a_local_import)) == \
        {"fit", "qemu"}


# -- ./tlsfit test's tiers (tool/tlsfit/cli/testrun.py) ---------------------------------

def test_the_fast_tier_selects_by_marker_and_refuses_another_selection():
    from tlsfit.cli import testrun
    from tlsfit.core.errors import USAGE, TlsfitError
    assert testrun.tier_args(False, ["-x", "tests/test_gen.py"]) == ["-x", "tests/test_gen.py"]
    assert testrun.tier_args(True, ["-x"]) == ["-m", "fast or not (server or qemu or fit)", "-x"]
    for given in (["-m", "server"], ["-mqemu"]):
        try:
            testrun.tier_args(True, given)
        except TlsfitError as e:
            assert e.code == USAGE and "--fast" in e.message
        else:
            raise AssertionError(f"--fast took {given}")
    assert testrun.tier_args(True, ["--maxfail", "2"])[-2:] == ["--maxfail", "2"]


def test_the_last_line_reads_pytests_counts_and_says_the_wall_time():
    from tlsfit.cli import testrun
    counts = testrun._PYTEST_COUNTS.match
    assert counts("1139 passed, 2 skipped in 1181.20s (0:19:41)").group(1) == \
        "1139 passed, 2 skipped"
    assert counts("==== 3 failed, 871 passed, 266 deselected in 290.1s ====").group(1) == \
        "3 failed, 871 passed, 266 deselected"
    assert counts("tests/test_gen.py ....   [ 40%]") is None
    assert (testrun.wall_time(1181.2), testrun.wall_time(48.4)) == ("19 min 41 s", "48 s")
