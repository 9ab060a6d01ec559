"""Time `rmp-risk required-pace` on the shipped default config at 100,000 paths against its
2-minute target (the whole command in a fresh process: start-up, compilation, search, cube).

``required_pace_seconds`` also returns how many paces the bisection simulated (a grid of the
same resolution over the same range would need ``(high - low) / tolerance + 1``).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 120.0  # the target on 2 cores
ROOT = Path(__file__).resolve().parent.parent


def required_pace_seconds(paths: int, pace_range: str = "0:200", tolerance: float = 0.5):
    """(wall seconds, paces simulated, the answer's line) of ``rmp-risk required-pace`` for a
    5% crisis ceiling within 12 months on the default config, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable,
            "-m",
            "engine.cli",
            "required-pace",
            str(ROOT / "configs/default.toml"),
            "--event",
            "crisis",
            "--alpha",
            "0.05",
            "--within",
            "12",
            "--paths",
            str(paths),
            "--range",
            pace_range,
            "--tolerance",
            str(tolerance),
            "--quiet",
            "--out",
            str(Path(tmp) / "required_pace.nc"),
        ]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - started
    evaluated = int(re.search(r"\((\d+) paces simulated\)", done.stderr).group(1))
    return seconds, evaluated, done.stdout.splitlines()[0]
