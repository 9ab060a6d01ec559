"""``rmp-risk evaluate``: rolling-origin forecasts scored against what followed and against
baselines computed by the same code on the same months.

At each origin a model forecaster (the recipe ``calibrated``, or a fixed config) sees only the
data dated before the origin, runs under the Fed's realized purchases (the declared scenario,
the only later information a forecast may use) or a named regime, and is scored on the realized
month-max spread, month-end reserves and TGA (CRPS, PIT, band coverage) and on the event tiers
(Brier and log scores, reliability), next to climatology and persistence.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .harness import DEFAULT_PATHS, check_out, prepare, run_origins
from .origins import label
from .products import write_products
from .store import OriginStore
from .tables import score_cases

ORIGINS_FOLDER = "origins"
DEFAULT_FANS = ("2019-06", "2019-08", "2025-06", "2025-09")  # the two scarcity episodes


def evaluate(
    forecasters: list[str],
    data_dir: str | Path,
    origins: str,
    months: int,
    out: str | Path,
    *,
    paths: int | None = None,
    seed: int | None = None,
    regime: str | None = None,
    refit_every: int = 1,
    overwrite: bool = False,
    fans: tuple[str, ...] = DEFAULT_FANS,
    progress: bool = False,
    say: Callable[[str], None] = lambda message: None,
    **backend: Any,
) -> list[Path]:
    """Issue, score and write an evaluation (see the module docstring).

    Parameters
    ----------
    forecasters : list of str
        Model forecasters, each a recipe (``calibrated``) or a config file; the first is the
        one the figures draw.
    data_dir : path
        Folder of FRED / Treasury CSV files (``engine/data`` holds 2009-01 → 2025-12).
    origins : str
        ``FIRST:LAST[:STEP]`` months; origins whose first month the data do not cover are left
        out (nothing to score).
    months : int
        Months forecast from each origin (horizons 1..months).
    out : path
        Folder of the products (``evaluation.json``, ``summary.md``, PNGs) and of the issued
        forecasts (``origins/``, kept so that a rerun resumes).
    paths, seed : int, optional
        Paths per origin and forecaster (default 2,000), root seed.
    regime : str, optional
        Score this regime of each config instead of the Fed's realized purchases.
    refit_every : int
        Months between re-estimates of the parameters (1: at every origin).
    backend
        ``workers``, ``scheduler``, ``cluster``, ``jobs`` (see ``engine.cluster.open_backend``).

    Returns
    -------
    list of Path
        The products written.
    """
    out = Path(out)
    settings, history = prepare(
        forecasters,
        data_dir,
        origins,
        months,
        paths=paths,
        seed=seed,
        regime=regime,
        refit_every=refit_every,
    )
    check_out(out)
    store = OriginStore(out / ORIGINS_FOLDER, settings.identity(), overwrite)
    say(
        f"evaluating {', '.join(f.name for f in settings.forecasters)} from "
        f"{len(settings.origins)} origins ({label(settings.origins[0])} → "
        f"{label(settings.origins[-1])}), {months} months each, {settings.paths:,} paths, "
        f"parameters re-estimated every {refit_every} month(s)"
    )
    run_origins(settings, history, store, progress=progress, say=say, **backend)
    issued = {label(o): store.get(label(o)) for o in settings.origins}
    models = tuple(f.name for f in settings.forecasters)
    scored = score_cases(issued, history, models, months)
    info = {
        "settings": settings.identity(),
        "origins": [label(o) for o in settings.origins],
        "description": describe(settings, scored),
        "notes": NOTES,
    }
    return write_products(out, scored, issued, history, info, list(fans), months)


NOTES = [
    "Spread: month-max of SOFR − IOER/IORB; EFFR − IOER before SOFR starts (2018-04-03); "
    "the policy rate is IOER to 2021-07-28, IORB after.",
    "Month-end reserves: the last weekly WRESBAL (week average) of the month; month-end TGA: "
    "the last DTS close (from 2021-06-24), else the last weekly WDTGAL.",
    "Purchases: the Fed's realized change of total assets (WALCL), the first month's change "
    "as the pace, the later months' mean after it (the kernel holds two paces a regime).",
    "Climatology: every realized month before the origin; persistence: the last 3. Both "
    "forecast the same distribution at every horizon.",
    "CRPS of the model: its histogram's 100 quantiles (levels (k + 0.5)/100) as members; "
    "log score with probabilities clipped to [0.001, 0.999].",
    "Scarce periods: target months 2018-10 → 2020-02 and 2025-06 → 2025-12; SRF: from 2021-08.",
]


def describe(settings, scored) -> str:
    n_origins = scored.values["origin"].nunique() if not scored.values.empty else 0
    n_months = scored.values["month"].nunique() if not scored.values.empty else 0
    return (
        f"{n_origins} origins scored ({label(settings.origins[0])} → "
        f"{label(settings.origins[-1])}), {n_months} distinct months, horizons 1–"
        f"{settings.months}; {settings.paths:,} paths per origin, seed {settings.seed}; "
        f"parameters re-estimated every {settings.refit_every} month(s) on the data before "
        f"the block's first month, the state at every origin from the data before it."
    )


__all__ = ["DEFAULT_PATHS", "ORIGINS_FOLDER", "evaluate"]
