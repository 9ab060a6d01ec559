"""The wall time of ``rmp-risk evaluate`` at the README's track-record settings, against the
30-minute target on 2 cores: ``python -m benchmarks.bench_evaluate [--origins SPEC]``.

A subset of origins (``--origins 2019-01:2019-12``) prints its time per origin and the full
evaluation's time projected from it; the full set is the measurement itself.
"""

from __future__ import annotations

import argparse
import tempfile
import time

TARGET_SECONDS = 30 * 60.0  # the target for the full evaluation on 2 cores
README_ORIGINS = "2010-01:2025-06"  # the track record's origins (186)
README_MONTHS = 6
README_REFIT_EVERY = 3  # months between re-estimates of the parameters


def evaluate_seconds(
    origins: str = README_ORIGINS,
    paths: int | None = None,
    refit_every: int = README_REFIT_EVERY,
    workers: int | None = None,
) -> tuple[float, int]:
    """Wall seconds of one evaluation of the calibrated recipe, and its number of origins."""
    from engine.calibrate.readers import DATA_DIR
    from engine.evaluate import evaluate
    from engine.evaluate.origins import parse_origins

    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        evaluate(
            ["calibrated"],
            DATA_DIR,
            origins,
            README_MONTHS,
            out,
            paths=paths,
            refit_every=refit_every,
            workers=workers,
        )
        return time.perf_counter() - started, len(parse_origins(origins))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", default=README_ORIGINS)
    parser.add_argument("--paths", type=int, default=None, help="paths per origin (2,000)")
    parser.add_argument("--refit-every", type=int, default=README_REFIT_EVERY)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    from engine.evaluate.origins import parse_origins

    seconds, n = evaluate_seconds(args.origins, args.paths, args.refit_every, args.workers)
    full = len(parse_origins(README_ORIGINS))
    projected = seconds / n * full
    verdict = "pass" if projected <= TARGET_SECONDS else "short"
    print(
        f"evaluate {args.origins}: {n} origins in {seconds:.0f} s ({seconds / n:.1f} s per "
        f"origin, refit every {args.refit_every} months); {full} origins: {projected / 60:.1f} min "
        f"(target {TARGET_SECONDS / 60:.0f} min): ratio {projected / TARGET_SECONDS:.2f}, {verdict}"
    )


if __name__ == "__main__":
    main()
