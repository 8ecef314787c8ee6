"""`tlsfit errors`: every exit code, the prober's and the driver's."""
import subprocess

from ..core.errors import DRIVER_CODES, TlsfitError

HELP = """\
Prints every exit code: the prober's (`tlsfit-probe --list-errors`, which
`tlsfit probe` passes through unchanged; its source table when the prober cannot
be built) and the driver's own.  docs/exit-codes.md is the same two tables.

example:
  tlsfit errors
"""


def configure(p):
    p.add_argument("--driver-only", action="store_true",
                   help="only the driver's codes (no prober build needed)")


def _prober_table():
    from ..profile.build import ensure_prober
    try:
        binary = ensure_prober()
    except TlsfitError as e:
        return None, e.message
    try:
        proc = subprocess.run([str(binary), "--list-errors"], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"cannot run {binary} --list-errors: {e}"
    if proc.returncode != 0 or not proc.stdout.strip():
        return None, f"{binary} --list-errors printed no table (exit {proc.returncode})"
    rows = []
    for line in proc.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0].isdigit():
            rows.append((int(parts[0]), parts[1], parts[2] if len(parts) > 2 else ""))
    return rows, None


def run(args):
    out = []
    if not args.driver_only:
        rows, problem = _prober_table()
        out.append("Exit codes of tlsfit-probe and `tlsfit probe` (tool/errors/errors.c):")
        if not rows:
            from ..regen.exit_codes import prober_codes
            rows = prober_codes()
            out.append(f"  (from the source: the prober is unavailable: {problem})")
        out.extend(f"  {c:3d}  {n:<20} {m}" for c, n, m in rows)
        out.append("")
    out.append("Exit codes of the tlsfit driver (tool/tlsfit/core/errors.py):")
    out.extend(f"  {c:3d}  {n:<20} {m}" for c, n, m in DRIVER_CODES)
    print("\n".join(out))
    return 0
