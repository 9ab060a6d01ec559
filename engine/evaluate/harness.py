"""``rmp-risk evaluate``: a forecast from every origin, each from the data before it, run as
independent tasks on the engine's backends and kept as they finish (resumable).

Origins are grouped in the calendar's blocks of ``refit_every`` months that share one estimate
of the parameters (made with the data before the block's first month); each origin's state and
purchase scenario come from the data before it. ``refit_every = 1`` re-estimates at every origin.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask
import pandas as pd

from .._version import __version__
from ..calibrate.market import KNOWN_FILES
from ..config import load_config
from ..errors import InputError
from ..outputs import check_writable_folder
from ..progress import Progress
from .forecast import Forecaster, forecast_block, parse_forecaster
from .history import History, load_history, realized_purchases
from .origins import label, parse_origins, target_months
from .store import OriginStore

DEFAULT_PATHS = 2_000  # paths per origin: a tier probability of 0.5 to ±1.1% (1 s.e.)
DEFAULT_SEED = 20_100_101  # one seed for every origin (common random numbers across origins)
TASK_PREFIX = "evaluate-block"


class Issued(dict):
    """Forecasts by origin (``YYYY-MM`` → forecaster → forecast); blocks add by union."""

    def __add__(self, other: Issued) -> Issued:
        return Issued({**self, **other})

    def __iadd__(self, other: Issued) -> Issued:
        self.update(other)
        return self


@dataclass(frozen=True)
class Settings:
    """What an evaluation's forecasts depend on."""

    forecasters: tuple[Forecaster, ...]
    data_dir: Path
    origins: pd.DatetimeIndex
    months: int
    paths: int
    seed: int
    regime: str | None  # None: the Fed's realized purchases
    refit_every: int

    def identity(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "code_sha256": code_digest(),
            "forecasters": [f.identity() for f in self.forecasters],
            "data_sha256": data_digest(self.data_dir),
            "months": self.months,
            "paths": self.paths,
            "seed": self.seed,
            "regime": self.regime or "realized purchases (WALCL)",
            "refit_every": self.refit_every,
        }


def code_digest() -> str:
    """sha256 over the engine's Python sources: forecasts issued by other code are not reused."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def data_digest(folder: Path) -> str:
    """sha256 over the names and bytes of the known data files in ``folder``."""
    digest = hashlib.sha256()
    for name in KNOWN_FILES:
        for path in sorted(folder.glob(name)):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def issue_block(
    forecasters: tuple[Forecaster, ...],
    data_dir: Path,
    origins: list[pd.Timestamp],
    months: int,
    regimes: list[str | dict[str, Any]],
    paths: int,
    seed: int,
    fit_origin: pd.Timestamp | None = None,
) -> Issued:
    """Every forecaster's forecasts from one block of origins (one task), the parameters
    estimated with the data before ``fit_origin`` (default: the first origin)."""
    calibrations: dict = {}  # recipes of one window and base share its calibration
    by_forecaster = {
        f.name: forecast_block(
            f, data_dir, origins, months, regimes, paths, seed, calibrations, fit_origin
        )
        for f in forecasters
    }
    return Issued(
        {label(o): {name: out[label(o)] for name, out in by_forecaster.items()} for o in origins}
    )


def blocks(
    origins: pd.DatetimeIndex, refit_every: int
) -> list[tuple[pd.Timestamp, list[pd.Timestamp]]]:
    """Origins grouped by the date their parameters are estimated at: the calendar's runs of
    ``refit_every`` months (from January of year 0, so quarters for 3), each estimated with the
    data before its first month. Returns (estimation month, its origins) in order. An origin's
    block does not depend on which other origins are asked for, so neither does its forecast."""
    groups: dict[int, list[pd.Timestamp]] = {}
    for origin in origins:
        groups.setdefault((origin.year * 12 + origin.month - 1) // refit_every, []).append(origin)
    return [
        (pd.Timestamp(year=k * refit_every // 12, month=k * refit_every % 12 + 1, day=1), group)
        for k, group in groups.items()
    ]


def scenario(settings: Settings, history: History, origin: pd.Timestamp) -> str | dict[str, Any]:
    """The purchase regime an origin's forecast runs: the named one, or the realized one."""
    if settings.regime is not None:
        return settings.regime
    return realized_purchases(history, target_months(origin, settings.months))


def run_origins(
    settings: Settings,
    history: History,
    store: OriginStore,
    *,
    workers: int | None = None,
    processes: bool = True,
    scheduler: Any = None,
    cluster: str | Path | None = None,
    jobs: int | None = None,
    progress: bool = False,
    say: Callable[[str], None] = lambda message: None,
) -> None:
    """Issue the forecasts ``store`` lacks, one task per block of origins, keeping each as it
    arrives. Local runs use worker processes (calibration holds the GIL) unless ``processes``
    is False (threads in this process)."""
    from ..cluster import open_backend

    todo = [o for o in settings.origins if not store.done(label(o))]
    resumed = len(settings.origins) - len(todo)
    if resumed:
        say(f"resuming: {resumed} of {len(settings.origins)} origins already issued")
    if not todo:
        return
    groups = blocks(pd.DatetimeIndex(todo), settings.refit_every)
    issue = dask.delayed(issue_block, pure=True)
    parts, index = [], {}
    for i, (fit_origin, group) in enumerate(groups):
        key = f"{TASK_PREFIX}-{i}-{label(group[0])}"
        regimes = [scenario(settings, history, o) for o in group]
        parts.append(
            issue(
                settings.forecasters,
                settings.data_dir,
                group,
                settings.months,
                regimes,
                settings.paths,
                settings.seed,
                fit_origin,
                dask_key_name=key,
            )
        )
        index[key] = i
    local = scheduler is None and cluster is None
    bar: Progress | None = None

    def on_done(task: int, result: Issued | None) -> None:
        for origin, forecasts in (result or {}).items():
            store.put(origin, forecasts)
        if bar is not None:
            bar.advance(len(groups[task][1]))

    local_processes = local and processes
    with open_backend(
        workers if local else None, local_processes, scheduler, cluster, jobs
    ) as backend:
        if progress:
            n = len(settings.origins)
            bar = Progress(n, done=resumed, status=backend.status, unit="origins")
        # one block a worker at a time (dask's local processes otherwise send 6 at once)
        with bar or nullcontext(), dask.config.set(chunksize=1):
            backend.reduce(parts, index, on_done, True, bar.draw if bar is not None else None)


def prepare(
    forecasters: list[str],
    data_dir: str | Path,
    origins: str,
    months: int,
    *,
    paths: int | None = None,
    seed: int | None = None,
    regime: str | None = None,
    refit_every: int = 1,
) -> tuple[Settings, History]:
    """Check every option and read the history, before any forecast is issued."""
    if months < 1:
        raise InputError(f"--months must be at least 1, got {months}")
    if refit_every < 1:
        raise InputError(f"--refit-every must be at least 1 month, got {refit_every}")
    if paths is not None and paths < 1:
        raise InputError(f"--paths must be at least 1, got {paths}")
    data_dir = Path(data_dir)
    parsed = tuple(parse_forecaster(text) for text in forecasters)
    names = [f.name for f in parsed]
    if len(set(names)) != len(names):
        raise InputError(f"forecasters named twice: {', '.join(names)}")
    if regime is not None:
        for f in parsed:
            known = load_config(f.config).regimes
            if regime not in {r.name for r in known}:
                raise InputError(f"--regime {regime}: not a regime of {f.config}")
    history = load_history(data_dir, load_config(parsed[0].config))
    wanted = parse_origins(origins)
    realized_months = history.values.dropna(how="all").index
    last = realized_months[-1]
    scored = wanted[wanted <= last]
    if scored.empty:
        raise InputError(
            f"--origins {origins}: no origin before the data's last realized month "
            f"({label(last)}), nothing could be scored"
        )
    first_possible = realized_months[0] + pd.offsets.MonthBegin(1)
    scored = scored[scored >= first_possible]
    if scored.empty:
        raise InputError(f"--origins {origins}: the data begin {label(realized_months[0])}")
    settings = Settings(
        parsed,
        data_dir,
        scored,
        months,
        paths or DEFAULT_PATHS,
        DEFAULT_SEED if seed is None else seed,
        regime,
        refit_every,
    )
    return settings, history


def check_out(out: Path) -> None:
    """Refuse an output folder that cannot be written, before any forecast."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    check_writable_folder(out, "--out")
