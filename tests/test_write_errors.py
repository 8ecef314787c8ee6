"""Issue 16: outputs keep the mode of the file they replace (a new one follows the umask),
and every write error names the path and the OS error -- the driver's write_atomic and
the prober's profile file alike."""
import json
import os
import resource
import signal
import stat
import subprocess
import sys

import pytest

from conftest import REPO
from tlsfit.core import paths
from tlsfit.core.errors import FILE, TlsfitError
from tlsfit.lab import refservers


def _mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield lambda m: os.umask(m)
    os.umask(old)


def test_new_file_follows_the_umask(tmp_path, umask):
    umask(0o022)
    assert _mode(paths.write_atomic(tmp_path / "a.h", "x\n")) == 0o644
    umask(0o077)
    assert _mode(paths.write_atomic(tmp_path / "b.h", "x\n")) == 0o600
    umask(0o002)
    assert _mode(paths.write_atomic(tmp_path / "sub" / "c.json", "{}\n")) == 0o664


def test_existing_file_keeps_its_mode(tmp_path, umask):
    umask(0o077)
    for mode in (0o644, 0o640, 0o755):
        p = tmp_path / f"f{mode:o}.h"
        p.write_text("old\n")
        os.chmod(p, mode)
        paths.write_atomic(p, "new\n")
        assert p.read_text() == "new\n"
        assert _mode(p) == mode
    assert sorted(x.name for x in tmp_path.iterdir()) == ["f640.h", "f644.h", "f755.h"]


def _small_files():
    """In the child: files may not grow past 64 bytes, and writing past it fails with
    EFBIG instead of killing the process (a full disk, as far as write() can tell)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def test_write_error_names_the_path_and_the_os_error(tmp_path):
    out = tmp_path / "state" / "last.json"
    code = ("import sys; from tlsfit.core import paths\n"
            "try:\n    paths.write_atomic(sys.argv[1], 'x' * 100000)\n"
            "except Exception as e:\n    print(e.code, e.message)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO / "tool")),
                          preexec_fn=_small_files, timeout=60)
    assert proc.stdout.strip() == f"{FILE} cannot write {out}: File too large (EFBIG)", proc.stderr
    assert not out.exists() and os.listdir(out.parent) == []       # no temp file left


def test_write_error_on_a_directory(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(TlsfitError) as info:
        paths.write_atomic(tmp_path / "d", "x")
    assert info.value.code == FILE
    assert info.value.message == f"cannot write {tmp_path / 'd'}: Is a directory (EISDIR)"


def test_prober_write_error_names_the_path(prober, pki, server_logs, tmp_path):
    out = tmp_path / "state" / "profile.json"
    out.parent.mkdir()
    with refservers.openssl_server(pki.ec, log_dir=server_logs) as srv:
        proc = subprocess.run([str(prober), "-o", str(out), f"127.0.0.1:{srv.port}"],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              preexec_fn=_small_files, timeout=120)
    assert proc.returncode == 18, proc.stderr           # TF_ERR_OUTPUT
    line, = proc.stderr.strip().splitlines()
    assert line.startswith(f"tlsfit-probe: 127.0.0.1:{srv.port}: could not write the profile "
                           f"to {out}.tmp."), line
    assert line.endswith(": File too large [TF_ERR_OUTPUT]"), line
    assert os.listdir(out.parent) == []


def test_prober_keeps_the_mode_of_the_profile_it_replaces(prober, pki, server_logs, tmp_path):
    out = tmp_path / "profile.json"
    out.write_text("{}\n")
    os.chmod(out, 0o640)
    with refservers.openssl_server(pki.ec, log_dir=server_logs) as srv:
        proc = subprocess.run([str(prober), "-o", str(out), f"127.0.0.1:{srv.port}"],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["schema_version"] == 1
    assert _mode(out) == 0o640
