"""Cortex-M targets (targets/*.toml) and the firmware runtime (tool/firmware/).

For every target: hello.c is cross-built, booted under QEMU with UART0
connected to a one-shot TCP server on 127.0.0.1 that answers "PING" with
"PONG", and must print its hello line and a TLSFIT-RESULT line and exit 0
through semihosting.  Fault images (undefined instruction, unmapped load,
stack overflow) must report the fault and exit with EXIT_FAULT; a firmware
that never ends is killed by run()'s timeout.

Every QEMU run has a hard timeout; QEMU never outlives a test.
"""
import importlib.util
import socket
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _load_firmware_build():
    # Loaded under its own name: a bare "import build" could pick up the
    # repository's build/ directory as a namespace package.
    spec = importlib.util.spec_from_file_location("tlsfit_firmware_build",
                                                  REPO / "tool" / "firmware" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fw = _load_firmware_build()

EXPECTED_TARGETS = ["cortex-m3", "cortex-m33", "cortex-m4", "cortex-m55", "cortex-m7"]
TARGETS = fw.target_names()
RUN_TIMEOUT = 20
HELLO = fw.FIRMWARE_DIR / "hello.c"
FAULT = fw.FIRMWARE_DIR / "fault.c"


@pytest.fixture(scope="module", autouse=True)
def toolchain():
    missing = fw.toolchain_missing()
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run tool/setup.sh (installs gcc-arm-none-eabi, "
                    f"libnewlib-arm-none-eabi, qemu-system-arm)", pytrace=False)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("firmware")


class LineServer:
    """One-shot TCP server on 127.0.0.1: accepts one connection, reads one line
    and answers `reply` (None: answer nothing), then waits for the peer to close."""

    def __init__(self, reply=b"PONG\n", timeout=RUN_TIMEOUT):
        self.reply = reply
        self.timeout = timeout
        self.received = b""
        self.error = None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(timeout)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(self.timeout)
                while not self.received.endswith(b"\n"):
                    data = conn.recv(256)
                    if not data:
                        return
                    self.received += data
                if self.reply is not None:
                    conn.sendall(self.reply)
                while conn.recv(256):
                    pass
        except OSError as e:
            self.error = e

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.sock.close()
        self.thread.join(timeout=5)


def explain(r):
    return (f"$ {' '.join(map(str, r.argv))}\nexit {r.exit_code} after {r.elapsed:.2f} s\n"
            f"--- firmware stdout ---\n{r.stdout}--- QEMU stderr ---\n{r.stderr}")


def run_checked(elf, target, port=None, **kw):
    try:
        return fw.run_firmware(elf, target, port, RUN_TIMEOUT, **kw)
    except fw.RunTimeout as e:
        pytest.fail(f"{e}\n{explain(e.result)}", pytrace=False)


def test_expected_targets_exist():
    assert set(EXPECTED_TARGETS) <= set(TARGETS)


@pytest.mark.parametrize("target", TARGETS)
def test_target_file(target):
    t = fw.load_target(target)
    for key in ("flash", "ram"):
        assert t[f"{key}_size"] > 0 and t[f"{key}_origin"] % 1024 == 0
    flash_end = t["flash_origin"] + t["flash_size"]
    ram_end = t["ram_origin"] + t["ram_size"]
    assert flash_end <= t["ram_origin"] or ram_end <= t["flash_origin"], "flash and RAM overlap"
    # Big enough for an mbedTLS client.
    assert t["flash_size"] >= 512 * 1024 and t["ram_size"] >= 256 * 1024


@pytest.mark.parametrize("target", TARGETS)
def test_hello(target, out_dir):
    elf = fw.build(target, [HELLO], out_dir / target)
    assert elf.with_suffix(".map").is_file()
    with LineServer() as server:
        r = run_checked(elf, target, server.port)
    assert server.error is None, server.error
    assert server.received == b"PING\n", explain(r)
    assert r.exit_code == 0, explain(r)
    assert f"tlsfit-fw: hello from {target}\n" in r.stdout, explain(r)
    result = fw.parse_result(r.stdout)
    assert result is not None, explain(r)
    assert result["ok"] is True and result["echo"] == "PONG", explain(r)
    assert 0 < result["stack_peak_bytes"] < fw.DEFAULT_STACK_SIZE, explain(r)


def test_hello_wrong_reply(out_dir):
    target = "cortex-m3"
    elf = fw.build(target, [HELLO], out_dir / "wrong-reply")
    with LineServer(reply=b"NO\"PE\n") as server:
        r = run_checked(elf, target, server.port)
    assert r.exit_code == fw.EXIT_FAIL, explain(r)
    result = fw.parse_result(r.stdout)
    assert result == {"ok": False, "echo": 'NO"PE', "stack_peak_bytes": result["stack_peak_bytes"]}


def test_hello_uart_timeout(out_dir):
    """The server takes the PING but never answers: the UART read gives up."""
    target = "cortex-m3"
    elf = fw.build(target, [HELLO], out_dir / "uart-timeout", ["-DTF_UART_DEFAULT_POLLS=200000u"])
    with LineServer(reply=None) as server:
        r = run_checked(elf, target, server.port)
    assert server.received == b"PING\n"
    assert r.exit_code == fw.EXIT_UART_TIMEOUT, explain(r)
    assert fw.parse_result(r.stdout)["ok"] is False


FAULT_KINDS = {1: "UsageFault", 2: "BusFault", 3: "stack overflow"}


@pytest.mark.parametrize("kind", sorted(FAULT_KINDS), ids=["udf", "unmapped-load", "stack-overflow"])
@pytest.mark.parametrize("target", TARGETS)
def test_fault_reports_and_exits(target, kind, out_dir):
    elf = fw.build(target, [FAULT], out_dir / target, [f"-DTF_FAULT_KIND={kind}"],
                   name=f"fault{kind}")
    r = run_checked(elf, target)
    assert r.exit_code == fw.EXIT_FAULT, explain(r)
    assert "tlsfit-fw: FAULT " in r.stdout, explain(r)
    assert FAULT_KINDS[kind] in r.stdout, explain(r)
    assert "no fault happened" not in r.stdout


def test_hang_is_killed(tmp_path):
    src = tmp_path / "hang.c"
    src.write_text("int main(void) { for (;;) { __asm__ volatile(\"nop\"); } }\n")
    elf = fw.build("cortex-m3", [src], tmp_path)
    with pytest.raises(fw.RunTimeout) as exc:
        fw.run_firmware(elf, "cortex-m3", None, timeout=2)
    assert exc.value.result.exit_code != 0  # killed


@pytest.mark.parametrize("target", TARGETS)
def test_ticks_count_instructions_under_icount(target, tmp_path):
    """With -icount shift=0 every instruction is 1 ns of virtual time, so
    SysTick on the CPU clock counts instructions * cpu_clock_hz / 1e9, exactly
    and the same on every run."""
    src = tmp_path / "ticks.c"
    src.write_text(r'''
#include <stdio.h>
#include "tlsfit_fw.h"
int main(void) {
    uint32_t n = 1000000;  /* 2 instructions per iteration */
    tf_ticks_start();
    uint64_t t0 = tf_ticks();
    __asm__ volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n) :: "cc");
    uint64_t t1 = tf_ticks();
    printf("TLSFIT-RESULT {\"ticks\":%lu}\n", (unsigned long)(t1 - t0));
    return 0;
}
''')
    elf = fw.build(target, [src], tmp_path)
    expected = 2_000_000 * fw.load_target(target)["cpu_clock_hz"] / 1e9
    seen = []
    for _ in range(2):
        r = run_checked(elf, target, icount_shift=0)
        assert r.exit_code == 0, explain(r)
        seen.append(fw.parse_result(r.stdout)["ticks"])
    assert seen[0] == seen[1], f"not deterministic: {seen}"
    assert abs(seen[0] - expected) <= 2, f"{seen[0]} ticks, expected about {expected:.0f}"


def test_console_writer_without_stdio(tmp_path):
    """out.c writes the measure firmware's result line without newlib's stdio: decimal
    at the ends of the ranges, JSON string escapes, a line longer than its buffer --
    and the image links no printf."""
    src = tmp_path / "out.c"
    src.write_text(r'''
#include <stdint.h>
#include "tlsfit_fw.h"
int main(void) {
    tf_out_str("TLSFIT-RESULT {\"u\":[");
    static const uint64_t u[] = {0, 9, 10, 4294967296u, 10000000000000000000u, UINT64_MAX};
    for (unsigned k = 0; k < sizeof u / sizeof u[0]; k++) {
        if (k) tf_out_char(',');
        tf_out_u64(u[k]);
    }
    tf_out_str("],\"i\":[");
    tf_out_i32(INT32_MIN); tf_out_char(','); tf_out_i32(-1); tf_out_char(',');
    tf_out_i32(INT32_MAX);
    tf_out_str("],\"s\":");
    tf_out_json_str("q\"b\\n\n\x01\xc3\xa9");
    tf_out_str(",\"null\":");
    tf_out_json_str(0);
    tf_out_str(",\"long\":\"");
    for (int k = 0; k < 300; k++) tf_out_char((char)('a' + k % 26));
    tf_out_str("\"}\n");
    tf_out_flush();
    return 0;
}
''')
    elf = fw.build("cortex-m4", [src], tmp_path)
    r = run_checked(elf, "cortex-m4")
    assert r.exit_code == 0, explain(r)
    res = fw.parse_result(r.stdout)
    assert res["u"] == [0, 9, 10, 2**32, 10**19, 2**64 - 1]
    assert res["i"] == [-2**31, -1, 2**31 - 1]
    assert res["s"] == "q\"b\\n\n\x01\u00c3\u00a9"      # bytes >= 0x7f escaped one by one
    assert res["null"] is None
    assert res["long"] == "".join(chr(ord("a") + k % 26) for k in range(300))
    map_text = next(tmp_path.rglob("*.map")).read_text()
    assert "vfprintf" not in map_text and "librdimon" not in map_text
