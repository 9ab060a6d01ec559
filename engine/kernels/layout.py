"""Column indices of the plain arrays the kernels read and write.

The schedule (``engine.schedule``) fills these arrays from a config; the kernels read them by
these names. Keeping the indices in one module keeps both sides in step.
"""

from ..parameters import SCALAR_NAMES

# Events (last axis of event counts): MODEL.md §6 tiers, then T0/T1 without period-end days.
EVENT_NAMES = (
    "tight",
    "stress",
    "crisis",
    "systemic",
    "scarce",
    "tight_ex_period_end",
    "stress_ex_period_end",
)
E_TIGHT, E_STRESS, E_CRISIS, E_SYSTEMIC, E_SCARCE, E_TIGHT_XPE, E_STRESS_XPE = range(7)
N_EVENTS = len(EVENT_NAMES)

# Fixed-point sums (``fixed.py``): N_LIMBS limbs of LIMB_BITS bits, FRACTION_BITS of them below
# the binary point; the limbs are the last axis of the conditional estimator's sums.
N_LIMBS = 5
LIMB_BITS = 30
FRACTION_BITS = 90

# Monthly statistics kept as fixed-bin histograms (first axis of ``hist``).
HIST_NAMES = ("reserves_eom", "reserves_min", "spread_max", "srf_max", "tga_eom")
H_RESERVES_EOM, H_RESERVES_MIN, H_SPREAD_MAX, H_SRF_MAX, H_TGA_EOM = range(5)
N_HISTS = len(HIST_NAMES)

# TGA calendar effects (columns of ``cal_share``; amounts and decays in ``params``).
CAL_NAMES = ("april_tax", "corporate_tax", "coupon_settlement", "first_of_month")
N_CAL = len(CAL_NAMES)

# Student-t ziggurat tables (first axis of ``t_tables``, float64 (2, 3, N + 1)).
TT_TGA = 0  # TGA innovations, tga.t_df degrees of freedom
TT_SPREAD_NOISE = 1  # spread noise, spread.noise_t_df degrees of freedom

# Demand-curve families (``params[P_CURVE_FAMILY]``): the shape h(x) of f(x) = α + β h(x), with
# d = x − x0 and h(x0) = 1 (MODEL.md §4; the families of IMF WP 2023/179).
CURVE_EXPONENTIAL, CURVE_LOGISTIC, CURVE_DOUBLE_EXPONENTIAL, CURVE_ARCTAN = range(4)

# Per-day float inputs, ``day_float[t, column]``.
DF_TGA_ANCHOR = 0  # $bn, TGA anchor before any debt-ceiling episode
DF_CURRENCY_SEASONAL = 1  # 1, day-on-day change of the log seasonal currency factor
DF_GAMMA = 2  # bp, calendar spread effect multiplying h(x)
N_DAY_FLOAT = 3

# Per-day integer inputs, ``day_int[t, column]``.
DI_MONTH = 0  # month index 0..M-1
DI_MONTH_END = 1  # 1 on the last business day of a month (a period-end day)
DI_RRP_SPIKE = 2  # SPIKE_NONE, SPIKE_QUARTER or SPIKE_YEAR
DI_CAL_NEW = 3  # DI_CAL_NEW + k: 1 where TGA calendar effect k opens a new event
DI_EXTRA_DRAWS = DI_CAL_NEW + N_CAL  # the day's draws beyond the daily ones, as a bitmask:
# bit 0 an RRP-spike normal (DI_RRP_SPIKE), bit 1 + k the amount of calendar effect k (DI_CAL_NEW)
DI_PACE_CHANGE = DI_EXTRA_DRAWS + 1  # 1 on a month's first day and on any regime's switch day
N_DAY_INT = DI_PACE_CHANGE + 1
SPIKE_NONE, SPIKE_QUARTER, SPIKE_YEAR = 0, 1, 2
EXTRA_SPIKE = 1  # DI_EXTRA_DRAWS bit of the RRP-spike normal
EXTRA_CAL = 2  # EXTRA_CAL << k: DI_EXTRA_DRAWS bit of calendar effect k's amount

# Scalar parameters, ``params[P_<name>]``: one per entry of ``engine.parameters.SCALARS``
# (name, unit and source declared there), in its order.
globals().update({f"P_{name}": index for index, name in enumerate(SCALAR_NAMES)})
P_CAL_LO = len(SCALAR_NAMES)  # P_CAL_LO + k: low amount of TGA calendar effect k, $bn
P_CAL_HI = P_CAL_LO + N_CAL  # high amount, $bn
P_CAL_DECAY = P_CAL_HI + N_CAL  # daily decay factor 2**(-1/half_life), 1
P_CAL_START = P_CAL_DECAY + N_CAL  # level in force on the as-of date (mid amounts), $bn
N_PARAMS = P_CAL_START + N_CAL
PARAM_NAMES = (
    *SCALAR_NAMES,
    *(f"CAL_LO_{n}" for n in CAL_NAMES),
    *(f"CAL_HI_{n}" for n in CAL_NAMES),
    *(f"CAL_DECAY_{n}" for n in CAL_NAMES),
    *(f"CAL_START_{n}" for n in CAL_NAMES),
)

# Parameters drawn per path (``[uncertainty] parameters = true``), a row per drawn parameter:
# ``uncertainty[i, column]``, float64 (K, U_CHOL + K); K = 0 when off. θ = mean + Σ_j≤i
# U_CHOL+j × z_j for the path's K standard normals z, clipped to [lower, upper], transformed
# and written into ``params[U_PARAM]``.
U_PARAM = 0  # index of the kernel parameter (``P_*``) it sets
U_TRANSFORM = 1  # UT_IDENTITY: the kernel stores θ; UT_LOG: it stores log θ (-inf for 0)
U_MEAN = 2  # the estimate, in the config key's units
U_LOWER = 3  # clip bounds, the config schema's (±inf where it has none)
U_UPPER = 4
U_CHOL = 5  # U_CHOL + j: row i of the lower Cholesky factor of the covariance, column j
UT_IDENTITY, UT_LOG = 0, 1

# Per-regime parameters, ``regime_params[r, column]``.
RP_PACE_LO = 0  # $bn/month
RP_PACE_HI = 1  # $bn/month
RP_THEN_LO = 2  # $bn/month after the switch
RP_THEN_HI = 3  # $bn/month after the switch
RP_SWITCH_DAY = 4  # first day index at the new pace (T: never)
RP_REACT_ABOVE = 5  # bp; +inf: never reacts
RP_REACT_ADD = 6  # $bn/month
RP_EMERGENCY_PACE = 7  # $bn/month; 0: no emergency rule
RP_EMERGENCY_MONTHS = 8  # months after the crisis month
N_REGIME_PARAMS = 9

# Trace columns (``trace[path, t, regime, column]``), written only by the tracing kernel.
TRACE_NAMES = (
    "soma",
    "currency",
    "tga",
    "on_rrp",
    "other_liabilities",
    "srf",
    "reserves",
    "bank_assets",
    "ratio",
    "spread_latent",
    "spread",
    "effr_minus_iorb",
    "purchases",
    "events",
)
(
    T_SOMA,
    T_CURRENCY,
    T_TGA,
    T_ON_RRP,
    T_OTHER_LIAB,
    T_SRF,
    T_RESERVES,
    T_BANK_ASSETS,
    T_RATIO,
    T_SPREAD_LATENT,
    T_SPREAD,
    T_EFFR,
    T_PURCHASES,
    T_EVENTS,
) = range(len(TRACE_NAMES))
N_TRACE = len(TRACE_NAMES)

# Shared daily shocks recorded by the tracing kernel (``shocks[path, t, column]``); the last
# N_CAL columns hold the amount ($bn) of each TGA calendar effect's current event.
SHOCK_NAMES = (
    "currency",
    "tga",
    "on_rrp",
    "other_liabilities",
    "spread_noise",
    "jump_uniform",
    "stigma",
    "rrp_spike",
    "alpha_walk",
    *(f"amount_{name}" for name in CAL_NAMES),
)
(
    S_CURRENCY,
    S_TGA,
    S_ON_RRP,
    S_OTHER_LIAB,
    S_SPREAD_NOISE,
    S_JUMP_UNIFORM,
    S_STIGMA,
    S_RRP_SPIKE,
    S_ALPHA_WALK,
) = range(9)
S_CAL_AMOUNT = 9  # S_CAL_AMOUNT + k
N_SHOCKS = len(SHOCK_NAMES)

# Per-path draws recorded by the tracing kernel (``path_draws[path, column]``).
PATH_DRAW_NAMES = (
    "pace_uniform",
    "then_uniform",
    "currency_growth",
    "bank_growth",
    "rrp_base",
    "debt_ceiling_active",
    "debt_ceiling_floor",
    "debt_ceiling_resolution",
    "debt_ceiling_rebuild",
)
(
    D_PACE_UNIFORM,
    D_THEN_UNIFORM,
    D_CURRENCY_GROWTH,
    D_BANK_GROWTH,
    D_RRP_BASE,
    D_DC_ACTIVE,
    D_DC_FLOOR,
    D_DC_RESOLUTION,
    D_DC_REBUILD,
) = range(len(PATH_DRAW_NAMES))
N_PATH_DRAWS = len(PATH_DRAW_NAMES)
