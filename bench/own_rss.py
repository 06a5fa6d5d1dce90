"""A child process's own peak RSS (VmHWM), for the benchmarks that run their measurements in children.

Not `ru_maxrss` (from `getrusage` or `wait4`): Linux carries it over fork and exec, so a child started by a
large parent reports at least the parent's resident size at the fork. `VmHWM` in /proc/self/status is the
high-water mark of the child's own address space, which exec starts afresh.

    peak_mb()                       this process's VmHWM in MB
    own_peak_argv(path, argv)       argv run so that, when it exits, its VmHWM is written into `path`
                                    (for children whose code is not ours to change: `-m gateway ...`, `-c ...`)
    read_peak(path)                 that figure, or None when the child died before writing it
"""

from __future__ import annotations

import sys
from pathlib import Path


def peak_mb() -> float | None:
    """This process's own peak RSS in MB (VmHWM), or None where /proc has no such line."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# Run `-m module args...` or `-c code args...` as Python would, then (atexit: after SystemExit too) write
# the process's VmHWM into the file named first.
_WRAPPER = r"""
import atexit, runpy, sys
out = sys.argv[1]
def _write():
    with open('/proc/self/status') as fh:
        hwm = next(line.split()[1] for line in fh if line.startswith('VmHWM:'))
    with open(out, 'w') as fh:
        fh.write(hwm)
atexit.register(_write)
how, what, rest = sys.argv[2], sys.argv[3], sys.argv[4:]
if how == '-m':
    sys.argv = [what, *rest]
    runpy.run_module(what, run_name='__main__', alter_sys=True)
else:
    sys.argv = ['-c', *rest]
    exec(compile(what, '<string>', 'exec'), {'__name__': '__main__'})
"""


def own_peak_argv(path: Path, argv: list[str]) -> list[str]:
    """`argv` ([python, -m, module, ...] or [python, -c, code, ...]) wrapped to write its VmHWM (kB) into `path`."""
    if len(argv) < 3 or argv[1] not in ("-m", "-c"):
        raise ValueError(f"own_peak_argv wraps `python -m ...` or `python -c ...`, not {argv[:2]}")
    return [argv[0], "-c", _WRAPPER, str(path), *argv[1:]]


def read_peak(path: Path) -> float | None:
    """The VmHWM (MB) a wrapped child wrote, or None when it wrote none (it died, or was killed)."""
    try:
        return int(Path(path).read_text().strip()) / 1024
    except (OSError, ValueError):
        return None


if __name__ == "__main__":
    print(f"{peak_mb():.1f} MB", file=sys.stderr)
