"""``rmp-risk``: a thin command-line shell over the Python API.

Heavy modules are imported inside the commands, so ``rmp-risk --help`` compiles nothing.
"""

from __future__ import annotations

import argparse
import gc
import os
import shlex
import sys
import time
from pathlib import Path

from ._version import __version__
from .calibrate import CURVE_LEVELS
from .cli_cache import add_parser as add_cache_parser
from .cli_decisions import add_parsers as add_decision_parsers
from .cli_evaluate import add_parser as add_evaluate_parser
from .cli_options import (
    UsageError,
    add_backend_options,
    add_config_argument,
    add_sample_options,
    backend_options,
    count,
    date,
    resolve_config,
    say,
)
from .errors import InputError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEFAULT_OUT = Path("out/cube.nc")
DEFAULT_REPORT = Path("out/report")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rmp-risk",
        description="Monte Carlo odds of repo-market stress and crisis under RMP regimes.",
    )
    parser.add_argument("--version", action="version", version=f"rmp-risk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="simulate a config and write the cube")
    add_config_argument(run)
    add_sample_options(run)
    run.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"cube path: .nc, or .zarr to keep every finished task (default: {DEFAULT_OUT})",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in the --out .zarr store: only missing tasks run",
    )
    run.add_argument("--overwrite", action="store_true", help="replace an existing --out store")
    add_backend_options(run)
    run.add_argument(
        "--event", default="crisis", help="event of the printed table (default: crisis)"
    )
    run.add_argument(
        "--rare-events",
        metavar="TIER",
        help="also estimate TIER's odds (tight, stress, crisis or systemic) by conditional "
        'Monte Carlo: [rare_events] estimator = "conditional" (docs/rare_events.md)',
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(handler=_run)

    bench = sub.add_parser("bench", help="measure this machine's performance figures")
    bench.add_argument("config", nargs="?", type=Path, metavar="CONFIG", help="TOML config")
    bench.add_argument(
        "--paths",
        type=count(1),
        default=1_000_000,
        help="paths of the kernel and end-to-end runs (default: 1e6)",
    )
    bench.add_argument(
        "--reference-paths", type=count(1), help="paths of the NumPy reference (default: --paths)"
    )
    bench.add_argument("--workers", type=count(1), help="workers (default: all cores)")
    bench.add_argument("--json", action="store_true", help="print the figures as JSON")
    bench.set_defaults(handler=_bench)

    merge = sub.add_parser("merge", help="merge cubes of one config run with different seeds")
    merge.add_argument("cubes", type=Path, nargs="+", metavar="CUBE")
    merge.add_argument("--out", type=Path, required=True, help="merged cube path (.nc or .zarr)")
    merge.add_argument("--event", default="crisis", help="event of the printed table")
    merge.set_defaults(handler=_merge)

    calibrate = sub.add_parser(
        "calibrate", help="fit the model's parameters to FRED / Treasury CSV files, write a config"
    )
    calibrate.add_argument(
        "data_dir",
        type=Path,
        metavar="DATA_DIR",
        help="folder of CSV files named as FRED and the Treasury serve them",
    )
    calibrate.add_argument(
        "--until",
        required=True,
        type=date,
        metavar="DATE",
        help="use observations dated on or before DATE (YYYY-MM-DD)",
    )
    calibrate.add_argument(
        "--since",
        type=date,
        metavar="DATE",
        help="use observations dated on or after DATE only (a calibration window; default: all)",
    )
    calibrate.add_argument(
        "--out", required=True, type=Path, metavar="CONFIG", help="the config to write (TOML)"
    )
    calibrate.add_argument(
        "--base",
        type=Path,
        metavar="CONFIG",
        help="config whose values are kept where the data cannot give them "
        "(default: the packaged default)",
    )
    calibrate.add_argument(
        "--curve-level",
        choices=CURVE_LEVELS,
        default="local",
        help="the demand curve's level: a local level filtered to the window's end that walks "
        "after it (local, the default: the evaluation's choice), or one value over the window "
        "(fixed); docs/calibration.md",
    )
    calibrate.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    calibrate.set_defaults(handler=_calibrate)

    backtest = sub.add_parser(
        "backtest", help="forecast from a past date and score it against the months that followed"
    )
    backtest.add_argument("config", type=Path, metavar="CONFIG", help="TOML config")
    backtest.add_argument(
        "--data",
        required=True,
        type=Path,
        metavar="DATA_DIR",
        help="folder of FRED / Treasury CSV files",
    )
    backtest.add_argument(
        "--start",
        required=True,
        type=date,
        metavar="DATE",
        help="first day forecast; the state comes from the data before it",
    )
    backtest.add_argument("--months", type=count(1), default=12, help="months scored (12)")
    backtest.add_argument(
        "--regime",
        help="regime of the config whose purchases are simulated "
        "(default: the Fed's balance-sheet trend of the 6 months before the "
        "start)",
    )
    backtest.add_argument("--paths", type=count(1), help="number of paths (default: 20,000)")
    backtest.add_argument("--seed", type=count(0), help="root seed (overrides the config)")
    backtest.add_argument(
        "--out",
        type=Path,
        default=Path("out/backtest"),
        metavar="DIR",
        help="folder for backtest.json and the fan charts (out/backtest)",
    )
    backtest.add_argument("--quiet", action="store_true", help="no progress bar")
    backtest.set_defaults(handler=_backtest)

    add_evaluate_parser(sub)
    add_decision_parsers(sub)

    report = sub.add_parser(
        "report", help="draw results as a self-contained HTML page and PNGs (or print a table)"
    )
    report.add_argument(
        "cubes",
        type=Path,
        nargs="+",
        metavar="RESULT",
        help="cubes, sweeps, required-pace and sensitivity files",
    )
    report.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_REPORT,
        help=f"folder of index.html and the figures (default: {DEFAULT_REPORT})",
    )
    report.add_argument(
        "--data",
        type=Path,
        metavar="DATA_DIR",
        help="FRED / Treasury CSV files: overlay the realized history",
    )
    report.add_argument(
        "--format",
        choices=("html", "text"),
        default="html",
        help="html (default), or text: print the table of a cube",
    )
    report.add_argument("--event", default="crisis", help="event of the text table (crisis)")
    report.set_defaults(handler=_report)
    add_cache_parser(sub)
    return parser


def _calibrate(args: argparse.Namespace) -> int:
    from .calibrate.pipeline import calibrate, check_output

    check_output(args.out, args.overwrite)  # before any fitting
    started = time.perf_counter()
    result = calibrate(
        args.data_dir,
        args.until,
        base=args.base,
        progress=say,
        since=args.since,
        curve_level=args.curve_level,
    )
    result.write(args.out, command="rmp-risk " + shlex.join(args.argv))
    print(result.table())
    say(f"wrote {args.out} in {time.perf_counter() - started:.1f}s")
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from .backtest import backtest, check_out_dir

    check_out_dir(args.out)  # before anything is simulated
    result = backtest(
        args.config,
        args.data,
        args.start,
        args.months,
        regime=args.regime,
        paths=args.paths,
        seed=args.seed,
        progress=not args.quiet,
        say=say,
    )
    result.write(args.out)
    print(result.table())
    say(f"wrote {args.out / 'backtest.json'} and {len(result.figures)} fan charts")
    return 0


def _run(args: argparse.Namespace) -> int:
    from .config import load_config
    from .errors import ClusterError, JobsEnded
    from .io import write_cube
    from .pipeline import simulate
    from .report import headline_table

    config_path = resolve_config(args.config)
    config = load_config(config_path)
    config = config.with_overrides(paths=args.paths, seed=args.seed, rare_events=args.rare_events)
    zarr_out = _out_format(args.out) == "zarr"
    if (args.resume or args.overwrite) and not zarr_out:
        option = "--resume" if args.resume else "--overwrite"
        raise UsageError(f"{option}: only for a .zarr --out (got {args.out})")
    if args.resume and args.overwrite:
        raise UsageError("--resume and --overwrite exclude each other")
    _check_event(args.event)
    _check_cube_out(args.out, zarr_out)
    sim = config.simulation
    regimes = ", ".join(r.name for r in config.active_regimes)

    def announce(notes: tuple[str, ...]) -> None:  # every check passed: an error stays one line
        say(
            f"rmp-risk {__version__}: {config_path}: {sim.n_paths:,} paths, regimes {regimes}, "
            f"{sim.horizon_months} months from {sim.start}"
        )
        for note in (*config.notes, *notes):
            say(f"note: {note}")

    started = time.perf_counter()
    command = "rmp-risk " + shlex.join(args.argv)
    try:
        ds = simulate(
            config,
            store=args.out if zarr_out else None,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=not args.quiet,
            command=command,
            on_start=announce,
            **backend_options(args),
        )
    except KeyboardInterrupt:
        if zarr_out and args.out.exists():
            raise _Interrupted(_kept(args.out)) from None
        raise
    except JobsEnded as err:  # walltime, scancel: the batch queue ended the run's every job
        kept = _kept(args.out) if zarr_out and args.out.exists() else "nothing was written"
        raise ClusterError(f"{err}; {kept}") from None
    if not zarr_out:
        write_cube(ds, args.out)
    say(f"wrote {args.out} in {time.perf_counter() - started:.1f}s")
    print(headline_table(ds, args.event))
    say(
        f"pictures: rmp-risk report {shlex.quote(str(args.out))} --out "
        f"{shlex.quote(str(args.out.parent / 'report'))}"
    )
    return 0


def _kept(store: Path) -> str:
    return f"the finished tasks are kept in {store}: continue with the same command and --resume"


def _bench(args: argparse.Namespace) -> int:
    from .bench import figures_json, format_figures, run_benchmarks
    from .config import load_config

    config_path = resolve_config(args.config)
    load_config(config_path)  # refuse a bad config before measuring anything
    figures = run_benchmarks(
        config_path,
        args.paths,
        args.workers,
        args.reference_paths,
        progress=lambda name: say(f"measuring {name} ..."),
    )
    print(figures_json(figures) if args.json else format_figures(figures))
    return 0


def _merge(args: argparse.Namespace) -> int:
    from .io import write_cube
    from .merge import merge_cubes
    from .products import CUBE, product_of
    from .report import headline_table

    zarr_out = _out_format(args.out) == "zarr"
    _check_event(args.event)
    cubes = []
    for path in args.cubes:
        ds = _open_result(path)
        if product_of(ds, str(path)) != CUBE:
            raise UsageError(f"{path}: merge takes run cubes only")
        cubes.append(ds)
    _check_cube_out(args.out, zarr_out)  # last: it may create the folder
    command = "rmp-risk " + shlex.join(args.argv)
    ds = merge_cubes(cubes, [str(p) for p in args.cubes], command=command)
    write_cube(ds, args.out)
    say(f"merged {len(cubes)} cubes into {args.out}")
    print(headline_table(ds, args.event))
    return 0


def _check_cube_out(path: Path, zarr_out: bool) -> None:
    """A cube can be written at ``path``: checked before the first path is simulated."""
    from .outputs import check_writable_file, check_writable_folder

    if zarr_out:  # what is at ``path`` itself is the store's to check
        check_writable_folder(path.parent, "--out", path)
    else:
        check_writable_file(path, "--out")


def _out_format(path: Path) -> str:
    """``"netcdf"`` or ``"zarr"``; a usage error for any other --out."""
    from .io import OutputError, cube_format

    try:
        return cube_format(path)
    except OutputError as err:
        raise UsageError(f"--out {err}") from None


def _check_event(event: str) -> None:
    from .kernels.layout import EVENT_NAMES

    if event not in EVENT_NAMES:
        raise UsageError(f"--event {event}: unknown event (one of {', '.join(EVENT_NAMES)})")


def _report(args: argparse.Namespace) -> int:
    from .products import CUBE, product_of
    from .report import headline_table

    results = [(str(path), _open_result(path)) for path in args.cubes]
    if args.format == "text":
        _check_event(args.event)
        for label, ds in results:
            if product_of(ds, label) != CUBE:
                raise UsageError(f"{label}: --format text prints run cubes only")
            print(headline_table(ds, args.event))
        return 0
    from .html_report import write_report
    from .outputs import check_writable_folder

    for label, ds in results:
        product_of(ds, label)  # every file a result, before anything is drawn
    check_writable_folder(args.out, "--out")
    market = None
    if args.data is not None:
        import pandas as pd

        from .calibrate.market import load_market_data

        market = load_market_data(args.data, until=pd.Timestamp.today().normalize())
    index = write_report(results, args.out, market)
    say(f"wrote {index} and its figures")
    return 0


def _open_result(path: Path):
    """A result file loaded in memory; a one-line error naming it when it cannot be read."""
    from .io import open_cube

    if not path.exists():
        raise UsageError(f"{path}: no such file")
    try:
        return open_cube(path)
    except InputError:
        raise
    except Exception as err:  # whatever the damage, the file cannot be used
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UsageError(f"{path}: not a readable NetCDF or Zarr result ({reason})") from None


class _Interrupted(KeyboardInterrupt):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        return args.handler(args)
    except InputError as err:
        say(f"rmp-risk: error: {err}")
        return EXIT_USAGE
    except _Interrupted as err:
        say(f"\nrmp-risk: interrupted; {err}")
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        say("\nrmp-risk: interrupted; nothing was written")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of stdout went away (`| head`): not an error here
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def entry() -> None:
    """The ``rmp-risk`` program: ``main`` on the command line's arguments, then exit.

    Objects still alive at the end are frozen (``gc.freeze``) before the interpreter exits:
    its last collection would otherwise walk every object the compiler left, about 0.5 s.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry()
