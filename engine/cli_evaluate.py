"""``rmp-risk evaluate``: a forecast at every past origin from the data before it, scored
against what followed and against climatology and persistence (``engine.evaluate``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .cli_options import count, say

DEFAULT_OUT = Path("out/evaluation")


def add_parser(sub) -> None:
    """Register ``evaluate`` on the ``rmp-risk`` sub-parsers ``sub``."""
    p = sub.add_parser(
        "evaluate",
        help="forecast from every past month with the data before it and score the track record",
    )
    p.add_argument(
        "forecaster",
        nargs="?",
        default="calibrated",
        metavar="CONFIG-OR-RECIPE",
        help="a recipe: 'calibrated' (the default: calibrate on the 1,652 days before each "
        "origin, as the shipped default was made, then run), 'calibrated-all' (every day before "
        "the origin), 'calibrated-risk' (with estimation risk), 'calibrated-fixed' (one level of "
        "the curve for the window); or a config file whose "
        "parameters are kept at every origin",
    )
    p.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="CONFIG-OR-RECIPE",
        help="another model scored on the same origins and months (repeatable)",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DATA_DIR",
        help="folder of FRED / Treasury CSV files (default: the packaged engine/data)",
    )
    p.add_argument(
        "--origins",
        default="2010-01:2025-06",
        metavar="FIRST:LAST[:STEP]",
        help="origin months, STEP in months (2010-01:2025-06)",
    )
    p.add_argument("--months", type=count(1), default=6, help="months forecast per origin (6)")
    p.add_argument("--paths", type=count(1), help="paths per origin (2,000)")
    p.add_argument("--seed", type=count(0), help="root seed, the same at every origin")
    p.add_argument(
        "--regime",
        help="score this regime of the config instead of the Fed's realized purchases",
    )
    p.add_argument(
        "--refit-every",
        type=count(1),
        default=1,
        metavar="MONTHS",
        help="months between re-estimates of the parameters (1: at every origin)",
    )
    p.add_argument(
        "--fans",
        default="2019-06,2019-08,2025-06,2025-09",
        metavar="YYYY-MM,...",
        help="origins whose forecast fans are drawn over the realized line",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help="folder for evaluation.json, summary.md, the figures and the issued forecasts "
        "(out/evaluation); a rerun resumes from the forecasts already there",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="discard forecasts in --out made with other settings",
    )
    p.add_argument("--workers", type=count(1), help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="a running dask scheduler")
    p.add_argument("--cluster", type=Path, metavar="FILE", help="a dask-jobqueue cluster file")
    p.add_argument("--jobs", type=count(1), help="batch jobs to ask for with --cluster (1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_evaluate)


def _evaluate(args: argparse.Namespace) -> int:
    from .calibrate.readers import DATA_DIR
    from .cli import _Interrupted
    from .evaluate import ORIGINS_FOLDER, evaluate

    try:
        written = _run(args, DATA_DIR, evaluate)
    except KeyboardInterrupt:
        kept = args.out / ORIGINS_FOLDER
        raise _Interrupted(
            f"the forecasts issued so far are kept in {kept}: the same command resumes from them"
        ) from None
    summary = args.out / "summary.md"
    if summary.exists():
        print(summary.read_text())
    say(f"wrote {', '.join(str(p) for p in written)}")
    return 0


def _run(args: argparse.Namespace, data_dir: Path, evaluate) -> list[Path]:
    return evaluate(
        [args.forecaster, *args.compare],
        args.data if args.data is not None else data_dir,
        args.origins,
        args.months,
        args.out,
        paths=args.paths,
        seed=args.seed,
        regime=args.regime,
        refit_every=args.refit_every,
        overwrite=args.overwrite,
        fans=tuple(f.strip() for f in args.fans.split(",") if f.strip()),
        progress=not args.quiet,
        say=say,
        workers=args.workers,
        scheduler=args.scheduler,
        cluster=args.cluster,
        jobs=args.jobs,
    )
