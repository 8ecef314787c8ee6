"""Build and run tlsfit firmware images for the Cortex-M targets in targets/.

Standard library only; needs arm-none-eabi-gcc (with newlib-nano) and
qemu-system-arm on PATH.

    from build import build, run
    elf = build("cortex-m4", ["tool/firmware/hello.c"], "out/m4")
    code, stdout = run(elf, "cortex-m4", server_port=4444, timeout=20)

build() compiles the given sources plus the shared runtime (startup.c,
semihost.c, out.c, uart.c, stack.c, ticks.c) with -Os -ffunction-sections -fdata-sections, writes
a board linker script (MEMORY from the target's TOML, then INCLUDE
sections.ld) and links with --gc-sections and a .map file next to the ELF.
lto=True compiles with LTO_CFLAGS and links with LTO_LINK_FLAGS (the libraries
in extra_ldflags should then be LTO builds too); with also_plain=True as well,
the same fat objects and libraries are linked a second time without -flto into
<name>-plain.elf and <name>-plain.map (the image the plain build makes, and a
map that names the object every function comes from).
Compiles go through ccache when it is on PATH (TLSFIT_NO_CCACHE=1: never).

run() boots the ELF under QEMU with semihosting (the firmware's stdout and its
exit code) and UART0 connected as a TCP client to 127.0.0.1:server_port.

From the command line:
    python3 tool/firmware/build.py TARGET SOURCE... [-o DIR] [--port N] [--run]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

FIRMWARE_DIR = Path(__file__).resolve().parent
REPO = FIRMWARE_DIR.parent.parent
TARGETS_DIR = REPO / "targets"

RUNTIME_SOURCES = ("startup.c", "semihost.c", "out.c", "uart.c", "stack.c", "ticks.c")
DEFAULT_STACK_SIZE = 32 * 1024

CC = "arm-none-eabi-gcc"
QEMU = "qemu-system-arm"
CCACHE = "ccache"

# Code generation flags, used for compiling and linking (the multilib choice).
COMMON_CFLAGS = ("-mthumb", "-Os", "-g", "-ffunction-sections", "-fdata-sections")
# Link-time optimisation (build(lto=True), the --lto of measure and fit): GIMPLE
# beside the ordinary code ("fat" objects: the same objects link without -flto
# too), and the link runs the optimiser over the whole program with the
# code-generation flags above (-Os, -ffunction-sections).
LTO_CFLAGS = ("-flto", "-ffat-lto-objects")
LTO_LINK_FLAGS = ("-flto",)
PLAIN_LINK_FLAGS = ("-fno-lto",)   # fat objects linked as plain ones (else the plugin runs LTO)
# Compile only: warnings, and newlib-nano's headers.
COMPILE_FLAGS = ("-Wall", "-Wextra", "--specs=nano.specs")
# Link: no crt0 (startup.c replaces it), newlib-nano; no librdimon (semihost.c
# answers the system calls newlib makes).
LINK_FLAGS = (
    "-nostartfiles", "--specs=nano.specs",
    "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments",
)

# Exit codes the runtime uses (tlsfit_fw.h).
EXIT_OK = 0
EXIT_FAIL = 1
EXIT_UART_TIMEOUT = 2
EXIT_FAULT = 3

_REQUIRED = {
    "description": str, "qemu_machine": str, "cpu": str, "fpu": str, "float_abi": str,
    "flash_origin": int, "flash_size": int, "ram_origin": int, "ram_size": int,
    "uart_base": int, "cpu_clock_hz": int,
}


class FirmwareError(Exception):
    """A build or run problem; str() is a one-paragraph explanation."""


class RunTimeout(FirmwareError):
    """QEMU did not exit in time (it has been killed); .result has the output so far."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


@dataclass
class RunResult:
    exit_code: int
    stdout: str          # the firmware's semihosting console output
    stderr: str          # QEMU's own messages
    elapsed: float       # wall-clock seconds
    argv: list = field(default_factory=list)


def target_names():
    """Names of the targets defined in targets/*.toml, sorted."""
    return sorted(p.stem for p in TARGETS_DIR.glob("*.toml"))


def load_target(name):
    """targets/<name>.toml as a dict (plus "name"), checked for the required keys.
    A dict is returned as it is (so callers may pass a modified target)."""
    if isinstance(name, dict):
        return name
    path = TARGETS_DIR / f"{name}.toml"
    if not path.is_file():
        raise FirmwareError(f"unknown target {name!r}: no {path} "
                            f"(known: {', '.join(target_names()) or 'none'})")
    with path.open("rb") as f:
        try:
            t = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise FirmwareError(f"{path}: {e}") from None
    for key, typ in _REQUIRED.items():
        if not isinstance(t.get(key), typ):
            raise FirmwareError(f"{path}: {key!r} missing or not a {typ.__name__}")
    if t["float_abi"] not in ("soft", "softfp", "hard"):
        raise FirmwareError(f"{path}: float_abi must be soft, softfp or hard")
    t["name"] = name
    return t


def cpu_flags(target):
    """-mcpu/-mfpu/-mfloat-abi for a target (dict or name)."""
    t = load_target(target)
    flags = [f"-mcpu={t['cpu']}"]
    if t["fpu"]:
        flags.append(f"-mfpu={t['fpu']}")
    flags.append(f"-mfloat-abi={t['float_abi']}")
    return flags


def compiler():
    """The cross compiler as an argv prefix for compiling: ["ccache", CC] when
    ccache is on PATH (unless TLSFIT_NO_CCACHE is set), else [CC]."""
    if shutil.which(CCACHE) and not os.environ.get("TLSFIT_NO_CCACHE"):
        return [CCACHE, CC]
    return [CC]


def _run_tool(argv, what):
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode != 0:
        e = FirmwareError(f"{what} failed (exit {proc.returncode}):\n$ {' '.join(map(str, argv))}\n"
                          f"{proc.stderr.strip()}")
        e.returncode = proc.returncode      # < 0: killed by a signal (the driver stops)
        raise e
    return proc


def _board_script(t, stack_size):
    return (f"/* generated by tool/firmware/build.py from targets/{t['name']}.toml */\n"
            f"MEMORY\n{{\n"
            f"    FLASH (rx) : ORIGIN = 0x{t['flash_origin']:08X}, LENGTH = 0x{t['flash_size']:X}\n"
            f"    RAM (rwx)  : ORIGIN = 0x{t['ram_origin']:08X}, LENGTH = 0x{t['ram_size']:X}\n"
            f"}}\n"
            f"__tf_stack_size = 0x{stack_size:X};\n"
            f"INCLUDE sections.ld\n")


def build(target_name, sources, out_dir, extra_cflags=(), *, name=None,
          stack_size=DEFAULT_STACK_SIZE, extra_ldflags=(), jobs=None, lto=False,
          also_plain=False):
    """Compiles `sources` + the shared runtime for a target and links them.

    Writes out_dir/<name>.elf, <name>.map and <name>.ld (the board script);
    objects go to out_dir/<name>.obj/.  `name` defaults to the first source's
    stem.  `stack_size` (a multiple of 1 KiB) is the stack region at the top
    of RAM; the heap is what lies between .bss and the stack.  Returns the
    ELF's Path.  Raises FirmwareError with the compiler's messages on failure."""
    t = load_target(target_name)
    sources = [Path(s).resolve() for s in sources]
    if not sources:
        raise FirmwareError("no sources given")
    for s in sources:
        if not s.is_file():
            raise FirmwareError(f"no such source file: {s}")
    if stack_size <= 0 or stack_size % 1024:
        raise FirmwareError(f"stack size {stack_size} is not a positive multiple of 1024")
    name = name or sources[0].stem
    out_dir = Path(out_dir).resolve()
    obj_dir = out_dir / f"{name}.obj"
    obj_dir.mkdir(parents=True, exist_ok=True)

    cflags = [*COMMON_CFLAGS, *(LTO_CFLAGS if lto else ()), *COMPILE_FLAGS, *cpu_flags(t),
              f'-DTF_TARGET_NAME="{t["name"]}"',
              f"-DTF_UART_BASE=0x{t['uart_base']:08X}u",
              f"-DTF_CPU_CLOCK_HZ={t['cpu_clock_hz']}u",
              f"-I{FIRMWARE_DIR}", *extra_cflags]

    all_sources = [FIRMWARE_DIR / s for s in RUNTIME_SOURCES] + sources
    objects, seen = [], set()
    for src in all_sources:
        stem = src.stem
        n = 1
        while stem in seen:
            n += 1
            stem = f"{src.stem}-{n}"
        seen.add(stem)
        objects.append(obj_dir / f"{stem}.o")

    def compile_one(pair):
        src, obj = pair
        _run_tool([*compiler(), *cflags, "-c", str(src), "-o", str(obj)], f"compiling {src.name}")

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
        for fut in [pool.submit(compile_one, p) for p in zip(all_sources, objects)]:
            fut.result()

    script = out_dir / f"{name}.ld"
    script.write_text(_board_script(t, stack_size))
    links = [(name, lto)] + ([(f"{name}-plain", False)] if lto and also_plain else [])
    for stem, with_lto in links:
        elf = out_dir / f"{stem}.elf"
        mapfile = out_dir / f"{stem}.map"
        _run_tool([CC, *COMMON_CFLAGS, *(LTO_LINK_FLAGS if with_lto else PLAIN_LINK_FLAGS), *cpu_flags(t),
                   *LINK_FLAGS, f"-L{FIRMWARE_DIR}", "-T", str(script), f"-Wl,-Map={mapfile}",
                   *map(str, objects), *extra_ldflags, "-o", str(elf)],
                  f"linking {elf.name}")
    return out_dir / f"{name}.elf"


def qemu_argv(elf, target, server_port=None, *, icount_shift=None, extra_args=()):
    """The qemu-system-arm command line that run() uses.

    Semihosting "target=native": the firmware's stdout (newlib writing to
    ":tt") is QEMU's stdout, and its exit code QEMU's exit status.  With
    -nographic and "-monitor none" nothing else goes to stdout."""
    t = load_target(target)
    argv = [QEMU, "-M", t["qemu_machine"], "-nographic", "-monitor", "none",
            "-semihosting-config", "enable=on,target=native",
            "-serial", f"tcp:127.0.0.1:{int(server_port)}" if server_port else "null",
            "-kernel", str(elf)]
    if icount_shift is not None:
        argv += ["-icount", f"shift={int(icount_shift)}"]
    argv += list(extra_args)
    return argv


def run_firmware(elf, target, server_port=None, timeout=20, *, icount_shift=None,
                 extra_args=()):
    """Boots `elf` under QEMU; returns a RunResult.  UART0 connects to
    127.0.0.1:server_port (which must already be listening: QEMU is the TCP
    client and gives up at once when nothing listens), or to nothing when
    server_port is None.  QEMU is killed after `timeout` seconds and
    RunTimeout raised.  QEMU never outlives this call."""
    argv = qemu_argv(elf, target, server_port, icount_shift=icount_shift, extra_args=extra_args)
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace")
    timed_out = False
    try:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            out, err = proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    result = RunResult(proc.returncode, out, err, time.monotonic() - start, argv)
    if timed_out:
        raise RunTimeout(f"QEMU ({Path(elf).name} on {load_target(target)['name']}) still running "
                         f"after {timeout} s; killed", result)
    return result


def run(elf, target, server_port=None, timeout=20, **kwargs):
    """Boots `elf` under QEMU: returns (exit_code, semihosting_stdout).
    See run_firmware() for the details and the extra keyword arguments."""
    r = run_firmware(elf, target, server_port, timeout, **kwargs)
    return r.exit_code, r.stdout


RESULT_PREFIX = "TLSFIT-RESULT "


def parse_result(stdout):
    """The JSON object of the last "TLSFIT-RESULT {...}" line, or None."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            try:
                return json.loads(line[len(RESULT_PREFIX):])
            except ValueError:
                return None
    return None


def toolchain_missing():
    """Names of the missing programs (empty when both are on PATH)."""
    return [p for p in (CC, QEMU) if shutil.which(p) is None]


def _main(argv=None):
    ap = argparse.ArgumentParser(description="build (and run) a tlsfit firmware image")
    ap.add_argument("target", help="one of: " + ", ".join(target_names()))
    ap.add_argument("sources", nargs="+")
    ap.add_argument("-o", "--out-dir", default=str(REPO / "build" / "firmware"))
    ap.add_argument("-D", action="append", default=[], help="extra -D for the compiler")
    ap.add_argument("--run", action="store_true", help="run it under QEMU afterwards")
    ap.add_argument("--port", type=int, help="UART0 TCP server port on 127.0.0.1 (with --run)")
    ap.add_argument("--icount", type=int, help="QEMU -icount shift (with --run)")
    ap.add_argument("--timeout", type=float, default=20)
    a = ap.parse_args(argv)
    try:
        elf = build(a.target, a.sources, Path(a.out_dir) / a.target, [f"-D{d}" for d in a.D])
        print(elf)
        if a.run:
            r = run_firmware(elf, a.target, a.port, a.timeout, icount_shift=a.icount)
            sys.stdout.write(r.stdout)
            sys.stderr.write(r.stderr)
            print(f"[exit {r.exit_code} after {r.elapsed:.2f} s]", file=sys.stderr)
            return r.exit_code
    except RunTimeout as e:
        sys.stdout.write(e.result.stdout)
        print(f"error: {e}", file=sys.stderr)
        return 124
    except FirmwareError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main())
