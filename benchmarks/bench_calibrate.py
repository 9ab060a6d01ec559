"""Time `rmp-risk calibrate` on the shipped data (2021-06 → 2025-12) against its 60 s target.

Run: ``python benchmarks/bench_calibrate.py`` (prints; asserts nothing). The target is for the
2-core development machine; the figure is the best of ``--repeat`` runs in one process, the
first of which also pays for the imports of statsmodels and scipy.
"""

from __future__ import annotations

import argparse
import time

from engine.calibrate.pipeline import calibrate
from engine.calibrate.readers import DATA_DIR

TARGET_SECONDS = 60.0  # the target on 2 cores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--until", default="2025-12-31", help="calibration date")
    parser.add_argument("--repeat", type=int, default=2, help="runs (best is reported)")
    args = parser.parse_args()
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        calibrate(DATA_DIR, args.until)
        times.append(time.perf_counter() - started)
    best = min(times)
    runs = ", ".join(f"{t:.1f}" for t in times)
    verdict = "pass" if best <= TARGET_SECONDS else "short"
    print(
        f"calibrate {DATA_DIR} --until {args.until}: best {best:.1f} s of [{runs}] s; "
        f"target ≤ {TARGET_SECONDS:.0f} s (ratio {best / TARGET_SECONDS:.2f}): {verdict}"
    )


if __name__ == "__main__":
    main()
