"""Time `rmp-risk required-pace` on the shipped default config at 100,000 paths against its
2-minute target (the whole command in a fresh process: start-up, compilation, search, cube).

Run: ``python benchmarks/bench_required_pace.py`` (prints; asserts nothing). Also printed: how
many paces the bisection simulated against a grid of the same resolution over the same range.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 120.0  # the target on 2 cores
ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--paths", type=int, default=100_000)
    parser.add_argument("--range", default="0:200", help="paces searched, $bn/month")
    parser.add_argument("--tolerance", type=float, default=0.5, help="$bn/month")
    args = parser.parse_args()
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
            str(args.paths),
            "--range",
            args.range,
            "--tolerance",
            str(args.tolerance),
            "--quiet",
            "--out",
            str(Path(tmp) / "required_pace.nc"),
        ]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - started
    print(done.stdout.splitlines()[0])
    evaluated = int(re.search(r"\((\d+) paces simulated\)", done.stderr).group(1))
    low, high = (float(x) for x in args.range.split(":"))
    grid = int((high - low) / args.tolerance) + 1
    verdict = "pass" if seconds <= TARGET_SECONDS else "short"
    print(
        f"required-pace, {args.paths:,} paths: {seconds:.1f} s; target ≤ {TARGET_SECONDS:.0f} s "
        f"(ratio {seconds / TARGET_SECONDS:.2f}): {verdict}; {evaluated} paces simulated against "
        f"{grid} for a grid of the same resolution (ratio {evaluated / grid:.3f})"
    )


if __name__ == "__main__":
    main()
