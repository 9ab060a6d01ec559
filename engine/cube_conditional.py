"""The conditional estimator's part of the cube: its exact sums, and the estimates, standard
errors, intervals and effective sample sizes derived from them.

The kernel adds, per path, regime and month, the conditional estimate Y of the tier's monthly
odds (and of its cumulative odds), Y_r Y_q between regimes, and Y_r over the paths on which
regime q had the tier (I_q = 1), as fixed-point integers (``kernels.fixed``). The same paths
give the plain indicator I (the counts). The cube reports their best combination per cell,
Z = λ Y + (1 − λ) I with λ = (Var I − Cov(Y, I)) / Var(Y − I) estimated from these sums, clipped
to [0, 1] (the plain count as a control variate: unbiased for any fixed λ; the estimated λ adds
a bias of order 1/n): never less precise than either estimator alone. Var p = Var Z / n; the
effective sample size n_eff = p (1 − p) / Var p (the plain Monte Carlo paths of the same
standard error); a Wilson interval on n_eff; the prior-weighted mixture from the covariances of
the regimes' Z (common random numbers).
"""

from __future__ import annotations

import numpy as np

from .kernels.layout import FRACTION_BITS, LIMB_BITS

ESTIMATES = ("monthly", "cumulative")  # first axis of the sums (``kernels.conditional``)
PREFIXES = ("", "cumulative_")  # of the derived variables, in ESTIMATES order
SUMS, CROSS, HITS = "conditional_sum", "conditional_cross", "conditional_hits"  # exact sums
SUM_DIMS = ("estimate", "regime", "time", "limb")
PAIR_DIMS = ("estimate", "regime", "other_regime", "time", "limb")
RT = ("regime", "time")
EFFECTIVE = "effective_paths"
LIMB_COMMENT = (
    f"the exact sum is the integer sum over limbs k of value[k] * 2**({LIMB_BITS} k), "
    f"divided by 2**{FRACTION_BITS}"
)


def variable_specs(prob: str, count: str) -> dict[str, tuple[tuple[str, ...], str, str]]:
    """{name: (dims, units, long name)} of the variables this module adds."""
    specs = {
        SUMS: (SUM_DIMS, count, "conditional estimates summed over paths, fixed-point limbs"),
        CROSS: (
            PAIR_DIMS,
            count,
            "products of conditional estimates of two regimes (r <= q) summed over paths, limbs",
        ),
        HITS: (
            PAIR_DIMS,
            count,
            "conditional estimates of regime r summed over the paths where regime q had the "
            "tier, limbs",
        ),
    }
    for prefix, words in zip(PREFIXES, ("in the month", "by the end of the month"), strict=True):
        name = f"conditional_{prefix}event_probability"
        specs[name] = (
            RT,
            prob,
            f"probability of the conditioned tier {words}: conditional Monte Carlo with the "
            "count as control variate",
        )
        specs[f"{name}_stderr"] = (RT, prob, "Monte Carlo standard error (per-path estimates)")
        specs[f"{name}_lower"] = (RT, prob, "Wilson 95% interval on the effective paths, lower")
        specs[f"{name}_upper"] = (RT, prob, "Wilson 95% interval on the effective paths, upper")
        specs[f"{name}_{EFFECTIVE}"] = (
            RT,
            count,
            "effective sample size: plain Monte Carlo paths of the same standard error",
        )
        specs[f"{name}_weight"] = (
            RT,
            prob,
            "weight of the conditional estimate in the combination (the count has 1 - weight)",
        )
        specs[f"mixture_{name}"] = (("time",), prob, f"prior-weighted mixture of {name}")
        specs[f"mixture_{name}_stderr"] = (
            ("time",),
            prob,
            "Monte Carlo standard error of the mixture (common random numbers)",
        )
    return specs


VARIABLE_NAMES = frozenset(variable_specs("1", "1"))  # in a cube only with the estimator on


def _symmetric(upper: np.ndarray) -> np.ndarray:
    """(..., R, R, M) from its upper triangle (r ≤ q; zero below)."""
    full = upper + np.swapaxes(upper, -3, -2)
    idx = np.arange(upper.shape[-2])
    full[..., idx, idx, :] = upper[..., idx, idx, :]  # the diagonal was added twice
    return full


def conditional_data(acc, tier: int, weights: np.ndarray, wilson) -> dict[str, np.ndarray]:
    """The conditional variables of ``acc`` (``Accumulators`` with the estimator's sums) for
    event ``tier`` (``layout.E_*``): {name: array}. ``weights`` float64 (R,), NaN outside the
    mixture; ``wilson(count, n)`` the interval function."""
    from .kernels.fixed import fixed_to_float  # numba: only for a conditional cube

    n = acc.n_paths
    mean_y = fixed_to_float(acc.hazard_sums) / n  # (2, R, M)
    yy = _symmetric(fixed_to_float(acc.hazard_cross) / n)  # (2, R, R, M): E[Y_r Y_q]
    yi = fixed_to_float(acc.hazard_hits) / n  # E[Y_r I_q]
    ii = (
        np.stack([acc.joint_event_count[:, :, tier], acc.joint_cumulative_count[:, :, tier]]) / n
    )  # E[I_r I_q]
    idx = np.arange(ii.shape[1])
    mean_i = ii[:, idx, idx]  # (2, R, M)
    data: dict[str, np.ndarray] = {
        SUMS: acc.hazard_sums,
        CROSS: acc.hazard_cross,
        HITS: acc.hazard_hits,
    }
    for e, prefix in enumerate(PREFIXES):
        my, mi = mean_y[e], mean_i[e]  # (R, M)
        v_yy = yy[e] - my[:, None] * my[None]  # (R, R, M)
        v_yi = yi[e] - my[:, None] * mi[None]
        v_ii = ii[e] - mi[:, None] * mi[None]
        d_yy, d_yi, d_ii = v_yy[idx, idx], v_yi[idx, idx], v_ii[idx, idx]
        spread = d_yy + d_ii - 2.0 * d_yi  # Var(Y − I)
        with np.errstate(divide="ignore", invalid="ignore"):
            lam = np.where(spread > 0, (d_ii - d_yi) / spread, 1.0)
        lam = np.clip(lam, 0.0, 1.0)
        p = lam * my + (1.0 - lam) * mi
        a, b = lam[:, None], lam[None]  # (R, 1, M), (1, R, M)
        cov = (
            a * b * v_yy
            + a * (1 - b) * v_yi
            + (1 - a) * b * np.swapaxes(v_yi, 0, 1)
            + (1 - a) * (1 - b) * v_ii
        ) / n  # Cov(p_r, p_q)
        variance = np.clip(cov[idx, idx], 0.0, None)
        clipped = np.clip(p, 0.0, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            effective = np.where(variance > 0, clipped * (1.0 - clipped) / variance, float(n))
        effective = np.maximum(effective, 1.0)  # a Wilson interval needs n ≥ 1
        lower, upper = wilson(clipped * effective, effective)
        name = f"conditional_{prefix}event_probability"
        data[name] = p
        data[f"{name}_stderr"] = np.sqrt(variance)
        data[f"{name}_lower"] = lower
        data[f"{name}_upper"] = upper
        data[f"{name}_{EFFECTIVE}"] = effective
        data[f"{name}_weight"] = lam
        weighted = ~np.isnan(weights)
        if weighted.any():
            w = np.where(weighted, weights, 0.0)
            w = w / w.sum()
            data[f"mixture_{name}"] = np.einsum("r,rm->m", w, p)
            mix_var = np.einsum("r,q,rqm->m", w, w, cov)
            data[f"mixture_{name}_stderr"] = np.sqrt(np.clip(mix_var, 0.0, None))
    return data


def sums_from_cube(ds) -> dict[str, np.ndarray]:
    """The estimator's exact sums of a cube as ``Accumulators`` fields ({} when it is off)."""
    if SUMS not in ds:
        return {}
    return {
        "hazard_sums": ds[SUMS].values.astype(np.int64),
        "hazard_cross": ds[CROSS].values.astype(np.int64),
        "hazard_hits": ds[HITS].values.astype(np.int64),
    }
