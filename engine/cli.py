"""``rmp-risk``: a thin command-line shell over the Python API.

Heavy modules are imported inside the commands, so ``rmp-risk --help`` compiles nothing.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from ._version import __version__

EXIT_USAGE = 2
DEFAULT_OUT = Path("out/cube.nc")
LOCAL_DEFAULT_CONFIG = Path("configs/default.toml")


def _count(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rmp-risk",
        description="Monte Carlo odds of repo-market stress and crisis under RMP regimes.",
    )
    parser.add_argument("--version", action="version", version=f"rmp-risk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="simulate a config and write the cube")
    run.add_argument(
        "config", nargs="?", type=Path, metavar="CONFIG",
        help=f"TOML config (default: {LOCAL_DEFAULT_CONFIG}, else the packaged default)",
    )  # fmt: skip
    run.add_argument("--paths", type=_count(1), help="number of paths (overrides the config)")
    run.add_argument("--seed", type=_count(0), help="root seed (overrides the config)")
    run.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"cube path (default: {DEFAULT_OUT})"
    )
    run.add_argument("--workers", type=_count(1), help="local worker threads (default: all cores)")
    run.add_argument(
        "--event", default="crisis", help="event of the printed table (default: crisis)"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(handler=_run)

    bench = sub.add_parser("bench", help="measure this machine's performance figures")
    bench.add_argument("config", nargs="?", type=Path, metavar="CONFIG", help="TOML config")
    bench.add_argument("--paths", type=_count(1), default=1_000_000,
                       help="paths of the kernel and end-to-end runs (default: 1e6)")  # fmt: skip
    bench.add_argument("--reference-paths", type=_count(1),
                       help="paths of the NumPy reference (default: --paths)")  # fmt: skip
    bench.add_argument("--workers", type=_count(1), help="workers (default: all cores)")
    bench.add_argument("--json", action="store_true", help="print the figures as JSON")
    bench.set_defaults(handler=_bench)

    report = sub.add_parser("report", help="print the table of a cube")
    report.add_argument("cube", type=Path, metavar="CUBE")
    report.add_argument("--event", default="crisis", help="event of the table (default: crisis)")
    report.set_defaults(handler=_report)
    return parser


def _resolve_config(path: Path | None) -> Path:
    if path is not None:
        return path
    if LOCAL_DEFAULT_CONFIG.is_file():
        return LOCAL_DEFAULT_CONFIG
    from .config import default_config_path

    return default_config_path()


def _run(args: argparse.Namespace) -> int:
    from .config import load_config
    from .io import NETCDF_SUFFIXES, write_cube
    from .kernels.layout import EVENT_NAMES
    from .pipeline import simulate
    from .report import headline_table

    config_path = _resolve_config(args.config)
    config = load_config(config_path)
    config = config.with_overrides(paths=args.paths, seed=args.seed)
    if args.out.suffix.lower() not in NETCDF_SUFFIXES:
        raise _UsageError(f"--out {args.out}: unsupported output format (use a .nc path)")
    if args.event not in EVENT_NAMES:
        raise _UsageError(f"--event {args.event}: unknown event (one of {', '.join(EVENT_NAMES)})")
    sim = config.simulation
    regimes = ", ".join(r.name for r in config.active_regimes)
    _say(f"rmp-risk {__version__}: {config_path}: {sim.n_paths:,} paths, regimes {regimes}, "
         f"{sim.horizon_months} months from {sim.start}")  # fmt: skip
    started = time.perf_counter()
    command = "rmp-risk " + shlex.join(args.argv)
    ds = simulate(config, workers=args.workers, progress=not args.quiet, command=command)
    write_cube(ds, args.out)
    _say(f"wrote {args.out} in {time.perf_counter() - started:.1f}s")
    print(headline_table(ds, args.event))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from .bench import figures_json, format_figures, run_benchmarks
    from .config import load_config

    config_path = _resolve_config(args.config)
    load_config(config_path)  # refuse a bad config before measuring anything
    figures = run_benchmarks(
        config_path, args.paths, args.workers, args.reference_paths,
        progress=lambda name: _say(f"measuring {name} ..."),
    )  # fmt: skip
    print(figures_json(figures) if args.json else format_figures(figures))
    return 0


def _report(args: argparse.Namespace) -> int:
    from .io import open_cube
    from .report import headline_table

    if not args.cube.exists():
        raise _UsageError(f"{args.cube}: no such cube")
    try:
        print(headline_table(open_cube(args.cube), args.event))
    except KeyError as err:
        raise _UsageError(f"--event {args.event}: {err.args[0]}") from None
    return 0


class _UsageError(Exception):
    pass


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = argv
    from .config import ConfigError

    try:
        return args.handler(args)
    except (ConfigError, _UsageError) as err:
        _say(f"rmp-risk: error: {err}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _say("rmp-risk: interrupted; nothing was written")
        return 130


if __name__ == "__main__":
    sys.exit(main())
