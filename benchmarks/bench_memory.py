"""Peak memory against the number of paths: it should be set by the output, not the paths.

``peak_rss`` runs ``rmp-risk run`` (default config, local threads) in a fresh process and
returns its peak resident memory (``ru_maxrss``); ``benchmarks/test_targets.py`` compares a
small and a large run against the target ratio of 1.5.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

TARGET = 1.5  # peak RSS of the large run / the small run
ROOT = Path(__file__).resolve().parent.parent


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
