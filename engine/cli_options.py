"""Pieces every ``rmp-risk`` command shares: argument types, the backend options, the config
default, the one-line error and the stderr messages."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from .errors import InputError

LOCAL_DEFAULT_CONFIG = Path("configs/default.toml")


class UsageError(InputError):
    """A command-line option that cannot be used."""


def count(minimum: int):
    """An argparse type: an integer (``_`` allowed) at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def number(text: str) -> float:
    """An argparse type: a finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "config",
        nargs="?",
        type=Path,
        metavar="CONFIG",
        help=f"TOML config (default: {LOCAL_DEFAULT_CONFIG}, else the packaged default)",
    )


def add_sample_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--paths", type=count(1), help="number of paths (overrides the config)")
    parser.add_argument("--seed", type=count(0), help="root seed (overrides the config)")


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """Where the work runs: local workers, a running scheduler or a batch-queue cluster."""
    parser.add_argument("--workers", type=count(1), help="local workers (default: all cores)")
    parser.add_argument(
        "--processes", action="store_true", help="local worker processes instead of threads"
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running dask scheduler, e.g. tcp://host:8786 "
        "(default: $DASK_SCHEDULER_ADDRESS if set, else local workers)",
    )
    parser.add_argument(
        "--cluster",
        type=Path,
        metavar="FILE",
        help="a dask-jobqueue cluster file, e.g. configs/cluster/slurm.yaml",
    )
    parser.add_argument("--jobs", type=count(1), help="batch jobs to ask for with --cluster (1)")


def backend_options(args: argparse.Namespace) -> dict[str, Any]:
    """The backend keywords of ``engine.pipeline.simulate`` from ``add_backend_options``."""
    return {
        "workers": args.workers,
        "processes": args.processes,
        "scheduler": args.scheduler,
        "cluster": args.cluster,
        "jobs": args.jobs,
    }


def resolve_config(path: Path | None) -> Path:
    """The config a command uses: ``path``, else ./configs/default.toml, else the packaged one."""
    if path is not None:
        return path
    if LOCAL_DEFAULT_CONFIG.is_file():
        return LOCAL_DEFAULT_CONFIG
    from .config import default_config_path

    return default_config_path()


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
