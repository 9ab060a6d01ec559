"""Scores of forecasts against what followed: ensembles of a continuous variable (CRPS, PIT,
central-band hits) and probabilities of a binary event (Brier, log score, reliability).

The scores themselves come from ``scoringrules``; this module only shapes the inputs (ragged
ensembles, unknown outcomes) and summarises them (skill, Wilson intervals from scipy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scoringrules as sr
from scipy import stats

# Probabilities are clipped to [floor, 1 − floor] before the log score: a 0 from a finite sample
# of paths, or from an empty climatology, would otherwise make one case's score infinite and
# the mean over all cases meaningless. −log(1e-3) ≈ 6.9 nats caps the penalty of a single case.
LOG_SCORE_FLOOR = 1e-3
DEFAULT_EDGES = (0, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0)  # forecast-probability bins
CONFIDENCE_LEVEL = 0.95  # of the Wilson intervals
RELIABILITY_COLUMNS = (
    "low",
    "high",
    "n",
    "mean_predicted",
    "observed",
    "ci_low",
    "ci_high",
    "within",
)


def _ensemble(obs, members) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked inputs: obs (N,), members sorted per row with NaN last (N, K), the number of
    finite members per row (N,), and the rows that can be scored (N,) bool."""
    obs = np.asarray(obs, dtype=float)
    members = np.asarray(members, dtype=float)
    if obs.ndim != 1 or members.ndim != 2 or members.shape[0] != obs.shape[0]:
        raise ValueError(f"obs must be (N,) and members (N, K); got {obs.shape}, {members.shape}")
    if np.isinf(obs).any() or np.isinf(members).any():
        raise ValueError("obs and members must be finite or NaN")
    ordered = np.sort(members, axis=1)  # NaN sorts last
    n_finite = np.isfinite(ordered).sum(axis=1)
    return obs, ordered, n_finite, np.isfinite(obs) & (n_finite > 0)


def crps(obs, members) -> np.ndarray:
    """CRPS of ensembles: the CRPS of the empirical distribution of each row's members.

    Parameters
    ----------
    obs : float array (N,)
        Realized values; NaN where unknown.
    members : float array (N, K)
        Ensemble members in the unit of ``obs`` (e.g. quantiles of the model's forecast, the
        months of a climatology). NaN members are dropped per row (ragged ensembles hold them
        at the end of a row).

    Returns
    -------
    float array (N,)
        ``sr.crps_ensemble`` with its default estimator, in the unit of ``obs``; NaN where
        ``obs`` is NaN or a row has no finite member.
    """
    obs, ordered, n_finite, valid = _ensemble(obs, members)
    out = np.full(obs.shape, np.nan)
    for k in np.unique(n_finite[valid]):  # rows with k finite members, scored together
        rows = valid & (n_finite == k)
        out[rows] = sr.crps_ensemble(obs[rows], ordered[rows, :k], sorted_ensemble=True)
    return out


def pit(obs, members) -> np.ndarray:
    """Mid-rank probability integral transform of ``obs`` in its ensemble.

    (count(members < obs) + 0.5·count(members == obs)) / count(finite members).

    Parameters
    ----------
    obs : float array (N,)
    members : float array (N, K)
        NaN members dropped per row, as in :func:`crps`.

    Returns
    -------
    float array (N,)
        PIT in [0, 1]; NaN where ``obs`` is NaN or a row has no finite member.
    """
    obs, ordered, n_finite, valid = _ensemble(obs, members)
    below = (ordered < obs[:, None]).sum(axis=1)  # comparisons with NaN are False
    tied = (ordered == obs[:, None]).sum(axis=1)
    return np.where(valid, (below + 0.5 * tied) / np.maximum(n_finite, 1), np.nan)


def band_hits(obs, members, level: float) -> np.ndarray:
    """Whether ``obs`` lies in the central ``level`` band of its ensemble.

    The band is the closed interval [q((1 − level)/2), q((1 + level)/2)] of the finite members
    (``np.nanquantile``, linear interpolation).

    Parameters
    ----------
    obs : float array (N,)
    members : float array (N, K)
    level : float
        Nominal coverage of the band, in (0, 1), e.g. 0.5 or 0.9.

    Returns
    -------
    float array (N,)
        1.0 inside the band, 0.0 outside, NaN where ``obs`` is NaN or a row has no finite member.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1); got {level}")
    obs, ordered, _, valid = _ensemble(obs, members)
    out = np.full(obs.shape, np.nan)
    if valid.any():
        levels = [(1.0 - level) / 2.0, (1.0 + level) / 2.0]
        low, high = np.nanquantile(ordered[valid], levels, axis=1)
        out[valid] = ((low <= obs[valid]) & (obs[valid] <= high)).astype(float)
    return out


def _binary(p, o) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked inputs: p (N,), o (N,) and the cases where both are known (N,) bool."""
    p = np.asarray(p, dtype=float)
    o = np.asarray(o, dtype=float)
    if p.ndim != 1 or p.shape != o.shape:
        raise ValueError(f"p and o must both be (N,); got {p.shape}, {o.shape}")
    return p, o, np.isfinite(p) & np.isfinite(o)


def brier(p, o) -> np.ndarray:
    """Brier score of probability forecasts of a binary event.

    Parameters
    ----------
    p : float array (N,)
        Forecast probabilities in [0, 1].
    o : float array (N,)
        Outcomes 0 or 1; NaN where unknown.

    Returns
    -------
    float array (N,)
        ``sr.brier_score`` (unitless, 0 best); NaN where ``o`` or ``p`` is NaN.
    """
    p, o, known = _binary(p, o)
    out = np.full(p.shape, np.nan)
    out[known] = sr.brier_score(o[known], p[known])
    return out


def log_score(p, o) -> np.ndarray:
    """Logarithmic score of probability forecasts of a binary event.

    Parameters
    ----------
    p : float array (N,)
        Forecast probabilities in [0, 1], clipped to [LOG_SCORE_FLOOR, 1 − LOG_SCORE_FLOOR].
    o : float array (N,)
        Outcomes 0 or 1; NaN where unknown.

    Returns
    -------
    float array (N,)
        ``sr.log_score`` in nats (0 best, at most −log(LOG_SCORE_FLOOR)); NaN where ``o`` or
        ``p`` is NaN.
    """
    p, o, known = _binary(p, o)
    out = np.full(p.shape, np.nan)
    clipped = np.clip(p[known], LOG_SCORE_FLOOR, 1.0 - LOG_SCORE_FLOOR)
    out[known] = sr.log_score(o[known], clipped)
    return out


def brier_mc_se(p, o, n_paths: int) -> float:
    """Monte Carlo standard error of the mean Brier score over the known cases.

    Each ``p_i`` is taken as a frequency over ``n_paths`` independent paths, so
    var(p_i) = p_i(1 − p_i)/n_paths, independent across cases. By the delta method, with
    d(mean Brier)/dp_i = 2(p_i − o_i)/n over the n known cases,
    se = sqrt(Σ_i (2(p_i − o_i)/n)² · p_i(1 − p_i)/n_paths).

    Parameters
    ----------
    p : float array (N,)
        Forecast probabilities in [0, 1] (frequencies over ``n_paths`` paths).
    o : float array (N,)
        Outcomes 0 or 1; NaN where unknown (left out).
    n_paths : int
        Number of simulated paths behind each ``p_i``.

    Returns
    -------
    float
        Standard error of the mean Brier score (unitless); NaN when no case is known.
    """
    if n_paths < 1:
        raise ValueError(f"n_paths must be at least 1; got {n_paths}")
    p, o, known = _binary(p, o)
    n = int(known.sum())
    if n == 0:
        return float("nan")
    p, o = p[known], o[known]
    gradient = 2.0 * (p - o) / n
    variance = p * (1.0 - p) / n_paths
    return float(np.sqrt(np.sum(gradient**2 * variance)))


def skill(score, reference) -> float:
    """Skill score 1 − mean(score)/mean(reference) over the cases where both are finite.

    Parameters
    ----------
    score, reference : float array (N,)
        Negatively oriented scores (lower is better) of a forecaster and of a reference
        forecaster on the same cases.

    Returns
    -------
    float
        1 for a perfect forecaster, 0 for one as good as the reference, negative when worse;
        NaN when no case has both scores or the reference's mean score is 0.
    """
    score = np.asarray(score, dtype=float)
    reference = np.asarray(reference, dtype=float)
    if score.shape != reference.shape:
        raise ValueError(f"score and reference differ in shape: {score.shape}, {reference.shape}")
    both = np.isfinite(score) & np.isfinite(reference)
    if not both.any():
        return float("nan")
    reference_mean = float(np.mean(reference[both]))
    if reference_mean == 0.0:
        return float("nan")
    return 1.0 - float(np.mean(score[both])) / reference_mean


def _wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson 95% interval of a binomial proportion, k successes of n trials."""
    interval = stats.binomtest(k, n).proportion_ci(
        confidence_level=CONFIDENCE_LEVEL, method="wilson"
    )
    return float(interval.low), float(interval.high)


def reliability_table(p, o, edges=DEFAULT_EDGES) -> pd.DataFrame:
    """Observed frequency of the event by bin of forecast probability.

    Parameters
    ----------
    p : float array (N,)
        Forecast probabilities in [0, 1].
    o : float array (N,)
        Outcomes 0 or 1; NaN where unknown (left out).
    edges : sequence of float (B + 1,)
        Increasing bin edges; bins are [low, high) but the last is closed at its upper edge.
        Cases outside [edges[0], edges[-1]] are left out.

    Returns
    -------
    pandas.DataFrame
        One row per bin holding a known case, columns ``low``, ``high`` (the bin's edges),
        ``n`` (cases), ``mean_predicted`` (mean p), ``observed`` (share of outcomes 1),
        ``ci_low``, ``ci_high`` (Wilson 95% interval of ``observed``) and ``within`` (bool:
        ``mean_predicted`` inside that interval); all probabilities unitless.
    """
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges must be an increasing sequence of at least 2; got {edges}")
    p, o, known = _binary(p, o)
    known &= (p >= edges[0]) & (p <= edges[-1])
    p, o = p[known], o[known]
    if not np.isin(o, (0.0, 1.0)).all():
        raise ValueError("outcomes must be 0, 1 or NaN")
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for b in np.unique(bins):
        in_bin = bins == b
        n, k = int(in_bin.sum()), int(o[in_bin].sum())
        mean_predicted = float(p[in_bin].mean())
        ci_low, ci_high = _wilson(k, n)
        within = bool(ci_low <= mean_predicted <= ci_high)
        rows.append((edges[b], edges[b + 1], n, mean_predicted, k / n, ci_low, ci_high, within))
    table = pd.DataFrame(rows, columns=list(RELIABILITY_COLUMNS))
    return table.astype({"n": int, "within": bool})


def coverage_interval(hits: np.ndarray) -> tuple[float, float, float, int]:
    """Share of hits with its Wilson 95% interval, over the finite entries.

    Parameters
    ----------
    hits : float array (N,)
        1.0 for a hit, 0.0 for a miss, NaN where undefined (e.g. from :func:`band_hits`).

    Returns
    -------
    (share, ci_low, ci_high, n) : (float, float, float, int)
        The share of hits and its interval (unitless), and the number of finite entries; the
        three floats are NaN when n is 0.
    """
    hits = np.asarray(hits, dtype=float).ravel()
    hits = hits[np.isfinite(hits)]
    if not np.isin(hits, (0.0, 1.0)).all():
        raise ValueError("hits must be 0, 1 or NaN")
    n = len(hits)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    k = int(hits.sum())
    ci_low, ci_high = _wilson(k, n)
    return k / n, ci_low, ci_high, n
