"""Peak memory against the number of paths: it should be set by the output, not the paths.

Runs ``rmp-risk run`` (default config, local threads) for a small and a large number of paths,
each in a fresh process, and prints each run's peak resident memory (``ru_maxrss`` of that
process) and the ratio large / small against the target of 1.5. Prints figures, asserts nothing.

    python benchmarks/bench_memory.py [--small 100000] [--large 10000000] [--workers W]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.5  # peak RSS of the large run / the small run
ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    """Cores, memory and Python of this machine, in one line."""
    cores = len(os.sched_getaffinity(0))
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    return (
        f"{cores} cores, {memory:.0f} GiB, {platform.machine()}, Python {platform.python_version()}"
    )


def peak_rss(paths: int, workers: int | None, out: Path) -> tuple[float, float]:
    """(peak resident MB, wall seconds) of one ``rmp-risk run`` in a fresh process."""
    command = [
        sys.executable,
        "-m",
        "engine.cli",
        "run",
        "--paths",
        str(paths),
        "--out",
        str(out),
        "--quiet",
    ]
    if workers:
        command += ["--workers", str(workers)]
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(command)} failed with status {proc.returncode}")
    return usage.ru_maxrss / 1024, time.perf_counter() - started  # Linux: ru_maxrss in KiB


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100_000, help="paths of the small run")
    parser.add_argument("--large", type=int, default=10_000_000, help="paths of the large run")
    parser.add_argument("--workers", type=int, help="local threads (default: all cores)")
    parser.add_argument("--format", choices=("nc", "zarr"), default="nc", help="output")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        figures = {}
        for paths in (args.small, args.large):
            out = Path(tmp) / f"cube-{paths}.{args.format}"
            figures[paths] = peak_rss(paths, args.workers, out)
            rss, wall = figures[paths]
            print(f"{paths:>12,} paths: peak RSS {rss:7.1f} MB, wall {wall:7.1f} s", flush=True)
    ratio = figures[args.large][0] / figures[args.small][0]
    verdict = "pass" if ratio <= TARGET else "short"
    print(f"ratio {ratio:.2f} (target <= {TARGET}): {verdict}")


if __name__ == "__main__":
    main()
