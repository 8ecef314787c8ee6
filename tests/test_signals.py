"""Issue 16: SIGTERM and SIGHUP stop `tlsfit measure` the way Ctrl-C does (QEMU and the
relay stopped, exit 143 / 129), and a child killed by a signal stops the command
instead of counting as a rejected configuration."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, default_stop_signals
from tlsfit.core import interrupt
from tlsfit.core.errors import CONFIG, HANGUP, KILLED, TERMINATED, TlsfitError
from tlsfit.core.proc import run_logged
from tlsfit.lab import refservers
from tlsfit.mbedtls import check
from tlsfit.target.firmware import fw

TLS12_EC = REPO / "tests" / "fixtures" / "measure" / "tls12_ecdhe_ecdsa.h"
EC12_ARGS = ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-groups", "P-256")
DEBIAN_PYTHON = "/usr/bin/python3"


def group_processes(pgid, name=None):
    """PIDs of process group pgid (optionally only those whose comm is name)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1: stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid and (name is None or comm == name):
            found.append(int(d.name))
    return found


@pytest.mark.parametrize("signame, code", [("SIGTERM", TERMINATED), ("SIGHUP", HANGUP)])
def test_signal_stops_measure_and_qemu(signame, code, pki, server_logs, tmp_path):
    missing = fw.toolchain_missing()
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run ./tlsfit setup", pytrace=False)
    env = dict(os.environ, PYTHONPATH=str(REPO / "tool"), TLSFIT_STATE_DIR=str(tmp_path / "s"))
    python = DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable
    with refservers.openssl_server(pki.ec, *EC12_ARGS, log_dir=server_logs) as srv:
        # the server stopped: the TCP connection is accepted by the kernel, the handshake
        # waits, so QEMU is certainly running when the signal comes
        srv.proc.send_signal(signal.SIGSTOP)
        proc = subprocess.Popen([python, "-m", "tlsfit.cli", "measure", "--config", TLS12_EC,
                                 "--target", "cortex-m4", "--server", srv.hostport,
                                 "--sni", "localhost", "--ca", pki.ec.root.pem,
                                 "--timeout", "300"],
                                cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, preexec_fn=default_stop_signals)
        try:
            deadline = time.monotonic() + 600      # a cold cross build included
            while not group_processes(proc.pid, "qemu-system-arm"):
                assert proc.poll() is None, f"measure ended first: {proc.communicate()}"
                assert time.monotonic() < deadline, "no qemu-system-arm child appeared"
                time.sleep(0.05)
            proc.send_signal(getattr(signal, signame))      # the driver alone, not its group
            try:
                out, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail(f"measure still running 60 s after {signame}", pytrace=False)
            assert proc.returncode == code, err
            assert err.strip().splitlines()[-1] == f"tlsfit: stopped by {signame}", err
            assert "Traceback" not in err
            assert group_processes(proc.pid, "qemu-system-arm") == [], \
                f"qemu-system-arm outlived measure after {signame}"
        finally:
            for pid in group_processes(proc.pid):
                os.kill(pid, signal.SIGKILL)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            srv.proc.send_signal(signal.SIGCONT)


def _killer(sig):
    return ["sh", "-c", f"kill -{sig} $$"]


def test_compiler_killed_by_a_signal_is_no_rejection(tmp_path):
    interrupt.reset()
    # A run started in the background (`cmd &` in a script, nohup) ignores SIGINT, and a
    # child inherits that: the killer would live.  Python's own handler here makes the
    # child's SIGINT the default again (handlers are reset on exec, SIG_IGN is not).
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(TlsfitError) as info:
            check.syntax_check(_killer("INT"), "tls_config.h", tmp_path,
                               lambda err, name: None, "the compiler", 30)
    finally:
        signal.signal(signal.SIGINT, before)
    assert info.value.code == KILLED != CONFIG
    assert isinstance(info.value, interrupt.ChildKilled)
    assert info.value.message == ("the compiler (sh) checking tls_config.h was killed by SIGINT; "
                                  "stopping (not a verdict on the configuration)")
    assert not (tmp_path / check.REJECTED).exists()


def test_compiler_rejection_is_still_a_rejection(tmp_path):
    with pytest.raises(TlsfitError) as info:
        check.syntax_check(["sh", "-c", "echo 'x.h:1: #error nope' >&2; exit 1"], "tls_config.h",
                           tmp_path, lambda err, name: None, "the compiler", 30)
    assert info.value.code == CONFIG


def test_build_step_killed_by_a_signal_stops(tmp_path):
    interrupt.reset()
    with open(tmp_path / "log", "w") as log, pytest.raises(interrupt.ChildKilled) as info:
        run_logged(_killer("TERM"), log, "building the prober", 30)
    assert info.value.code == KILLED
    assert "building the prober (sh) was killed by SIGTERM" in info.value.message


def test_a_killed_child_after_our_own_signal_is_the_interruption():
    interrupt.reset()
    try:
        interrupt.STOP.set()
        interrupt._received.append(signal.SIGTERM)
        with pytest.raises(interrupt.Interrupted):
            interrupt.killed(-signal.SIGTERM, "the compiler")
        assert interrupt.exit_code() == TERMINATED
    finally:
        interrupt.reset()


def test_fit_does_not_count_a_killed_child_as_a_rejected_candidate(monkeypatch):
    from tlsfit.fit import search

    class Trial:
        config = "tls_config.h"
        plan = None
        measurements = {}

    def killed(*a, **kw):
        raise interrupt.ChildKilled("the cross compiler compiling x.c was killed by SIGINT")

    fit = search.Fitter.__new__(search.Fitter)
    monkeypatch.setattr(fit, "measure_site", killed, raising=False)
    with pytest.raises(interrupt.ChildKilled):
        fit._measure((Trial(), 0))
