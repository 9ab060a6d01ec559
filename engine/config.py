"""TOML configuration → frozen, validated dataclasses.

Every model parameter lives in a config file; this module holds the schema only. Errors name the
file and the dotted key. A config may start from another with a top-level ``base`` key
(``base = "default"`` for the packaged default, or a path relative to the file): tables are merged
key by key, regimes by name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import math
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .curves import CURVE_FAMILIES
from .errors import InputError
from .parameters import DRAWN_KEYS

DEFAULT_CONFIG_NAME = "default.toml"
T_DF_MAX = 20.0  # 1, largest Student-t degrees of freedom: the kernel's exact tail sampler (a
#   Pareto envelope) needs ~1,000 tries a tail draw at 20 and millions at 30; at 20 the t is
#   already close to a normal


class ConfigError(InputError):
    """A config file that cannot be used; the message names the file and the key."""

    def __init__(self, path: str | Path | None, key: str, message: str):
        self.path, self.key = path, key
        where = f"{path}: " if path is not None else ""
        super().__init__(f"{where}{key}: {message}" if key else f"{where}{message}")


def bounded(ge=None, gt=None, le=None, lt=None, default=dataclasses.MISSING):
    return field(default=default, metadata={"ge": ge, "gt": gt, "le": le, "lt": lt})


@dataclass(frozen=True)
class Uniform:
    """A parameter drawn uniformly per path from [low, high]; a number gives low == high."""

    low: float
    high: float

    @property
    def is_fixed(self) -> bool:
        return self.low == self.high

    @property
    def mid(self) -> float:
        return 0.5 * (self.low + self.high)


MAX_PATHS = 10**9  # paths of one run (its plan stays small); merge runs of other seeds for more
MAX_SEED = 2**63 - 1  # the cube stores the seed as a 64-bit integer
MAX_ACCUMULATOR_BYTES = 2**29  # one set of counts (each task holds one): 512 MiB
WEIGHT_SUM_TOLERANCE = 1e-9  # weights summing to 1 within this are taken as they are
STALE_STATE_DAYS = 31  # a start further than this after the state's date is worth a note


@dataclass(frozen=True)
class Simulation:
    start: dt.date
    horizon_months: int = bounded(ge=1, le=600)
    n_paths: int = bounded(ge=1, le=MAX_PATHS)
    seed: int = bounded(ge=0, le=MAX_SEED)
    block_size: int = bounded(ge=1, le=1 << 20)
    business_days_per_year: float = bounded(gt=0)
    regimes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Initial:
    as_of: dt.date
    reserves_bn: float = bounded(gt=0)
    soma_bn: float = bounded(ge=0)
    other_assets_bn: float
    currency_bn: float = bounded(gt=0)
    tga_bn: float = bounded(ge=0)
    on_rrp_bn: float = bounded(ge=0)
    bank_assets_bn: float = bounded(gt=0)


@dataclass(frozen=True)
class Currency:
    growth_per_year: Uniform
    seasonal_peak_bn: float
    daily_sd_bn: float = bounded(ge=0)


@dataclass(frozen=True)
class CalendarEffect:
    amount_bn: Uniform
    half_life_days: float = bounded(gt=0)
    window_days: int | None = bounded(ge=1, default=None)
    first_day: int | None = bounded(ge=1, le=31, default=None)


@dataclass(frozen=True)
class TgaCalendar:
    april_tax: CalendarEffect
    corporate_tax: CalendarEffect
    coupon_settlement: CalendarEffect
    first_of_month: CalendarEffect


@dataclass(frozen=True)
class DebtCeiling:
    probability: float = bounded(ge=0, le=1)
    start: dt.date
    floor_bn: Uniform = bounded(ge=0)
    decline_days: int = bounded(ge=1)
    resolution_days: Uniform = bounded(ge=1)
    rebuild_days: Uniform = bounded(ge=1)


@dataclass(frozen=True)
class Tga:
    anchor_dates: tuple[dt.date, ...]
    anchor_bn: tuple[float, ...]
    ar_coefficient: float = bounded(ge=0, lt=1)
    daily_sd_bn: float = bounded(ge=0)
    t_df: float = bounded(gt=2, le=T_DF_MAX)
    calendar: TgaCalendar
    debt_ceiling: DebtCeiling
    # $bn/day, sd of the anchor's daily random walk (driven by the TGA innovation); 0: none
    anchor_walk_sd_bn: float = bounded(ge=0, default=0.0)


@dataclass(frozen=True)
class OnRrp:
    base_bn: Uniform = bounded(ge=0)
    daily_sd_bn: float = bounded(ge=0)
    quarter_end_median_bn: float = bounded(ge=0)
    quarter_end_log_sd: float = bounded(ge=0)
    year_end_median_bn: float = bounded(ge=0)
    year_end_log_sd: float = bounded(ge=0)
    refill_bn_per_bp: float = bounded(ge=0)
    refill_below_bp: float
    # 1, daily AR(1) coefficient of the level's deviation from the base; 0: iid noise around it
    ar_coefficient: float = bounded(ge=0, lt=1, default=0.0)
    # $bn, the level on the as-of date without its period-end spike; None: the base
    start_bn: float | None = bounded(ge=0, default=None)


@dataclass(frozen=True)
class OtherLiabilities:
    ar_coefficient: float = bounded(ge=0, lt=1)
    daily_sd_bn: float = bounded(ge=0)


@dataclass(frozen=True)
class BankAssets:
    growth_per_year: Uniform


@dataclass(frozen=True)
class DemandCurve:
    """f(x) = alpha + beta h(x) for the shape h of ``family`` (``engine.curves``); alpha moves
    as a random walk from a per-path start (sd ``alpha_start_sd_bp``) with daily sd
    ``alpha_walk_sd_bp`` (0 and 0: fixed)."""

    alpha_bp: float
    beta_bp: float = bounded(ge=0)
    x0: float = bounded(gt=0, lt=1)
    lambda_: float = bounded(ge=0)
    family: str = "exponential"
    alpha_start_sd_bp: float = bounded(ge=0, default=0.0)
    alpha_walk_sd_bp: float = bounded(ge=0, default=0.0)


@dataclass(frozen=True)
class Spread:
    month_end_bp: float
    quarter_end_bp: float
    year_end_bp: float
    settlement_bp: float
    noise_ar: float = bounded(ge=0, lt=1)
    noise_sd0_bp: float = bounded(ge=0)
    noise_sd1_bp: float = bounded(ge=0)
    noise_t_df: float = bounded(gt=2, le=T_DF_MAX)
    jump_p0: float = bounded(ge=0, le=1)
    jump_lambda: float = bounded(ge=0)
    jump_mean_bp: float = bounded(ge=0)
    # bp, the lowest spread (the ON RRP offering rate − IORB); None: no floor (MODEL.md §4)
    floor_bp: float | None = None


@dataclass(frozen=True)
class Srf:
    rate_above_iorb_bp: float
    stigma_median_bp: float = bounded(gt=0)
    stigma_log_sd: float = bounded(ge=0)
    leak: float = bounded(ge=0, le=1)
    takeup_bn_per_bp: float = bounded(ge=0)
    enabled: bool = True  # false: no SRF (before 2021-07-28), the spread has no ceiling


@dataclass(frozen=True)
class Effr:
    e0_bp: float
    psi: float = bounded(ge=0)
    s0_bp: float
    top_of_range_above_iorb_bp: float


@dataclass(frozen=True)
class Events:
    tight_bp: float
    stress_bp: float
    stress_srf_bn: float
    crisis_bp: float
    crisis_srf_bn: float
    systemic_bp: float
    systemic_days: int = bounded(ge=1)
    scarce_ratio: float = bounded(gt=0, lt=1)
    scarce_reserves_bn: float = bounded(ge=0)


@dataclass(frozen=True)
class Regime:
    """One RMP regime: monthly purchases in $bn and the rules that change them."""

    name: str
    pace_bn: Uniform  # negative: the balance sheet runs off (QT), as in a backtest before 2025-12
    weight: float | None = bounded(ge=0, default=None)
    then_pace_bn: Uniform | None = None
    switch_after_months: float | None = bounded(gt=0, default=None)
    react_above_bp: float | None = None
    react_add_bn: float | None = bounded(ge=0, default=None)
    emergency_pace_bn: float | None = bounded(ge=0, default=None)
    emergency_months: int | None = bounded(ge=1, default=None)


@dataclass(frozen=True)
class Histograms:
    reserves_bn: tuple[float, ...]
    spread_bp: tuple[float, ...]
    srf_bn: tuple[float, ...]
    tga_bn: tuple[float, ...]


@dataclass(frozen=True)
class Output:
    quantiles: tuple[float, ...]
    histogram_bins: int = bounded(ge=1, le=1_000_000)
    histograms: Histograms


# The parameters a path may draw under ``[uncertainty]``: scalar floats that the kernel reads as
# one number per path (not the period-end γ's, which enter through a per-day column, nor the
# Student-t degrees of freedom, whose ziggurat tables are built once per run).
UNCERTAIN_KEYS = DRAWN_KEYS
SYMMETRY_RTOL = 1e-9  # a covariance's |C[i][j] - C[j][i]| may reach this times its largest |C|
PSD_RTOL = 1e-9  # its eigenvalues may fall this times its largest |eigenvalue| below zero


@dataclass(frozen=True)
class UncertaintyBlock:
    """The estimate of one fitted block: its parameters ``keys`` (dotted config keys, one of
    ``UNCERTAIN_KEYS``) are drawn per path from Normal(``mean``, ``covariance``), in the keys'
    units. The draws are centred on ``mean``, not on the values elsewhere in the config (the
    calibration writes both equal)."""

    name: str
    keys: tuple[str, ...]
    mean: tuple[float, ...]
    covariance: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Uncertainty:
    """Estimation risk. ``parameters``: each path draws the parameters of every ``block``
    (``docs/uncertainty.md``); false (the default): every path uses the config's values."""

    parameters: bool = False
    block: tuple[UncertaintyBlock, ...] = ()


RARE_EVENT_ESTIMATORS = ("plain", "conditional")
# the tiers a day's spread noise and jump decide (systemic: on the last day of its run)
RARE_EVENT_TIERS = ("tight", "stress", "crisis", "systemic")


@dataclass(frozen=True)
class RareEvents:
    """The estimator of one event tier's odds (``docs/rare_events.md``). ``plain`` (the
    default): the counts alone. ``conditional``: also the conditional Monte Carlo estimate of
    ``tier`` (each day adds its probability over the spread noise and jump) from the same paths,
    combined with the count as a control variate."""

    estimator: str = "plain"
    tier: str = "crisis"

    @property
    def on(self) -> bool:
        return self.estimator != "plain"


@dataclass(frozen=True)
class Config:
    """A whole run: every parameter of the model, the regimes and the output grid."""

    simulation: Simulation
    initial: Initial
    currency: Currency
    tga: Tga
    on_rrp: OnRrp
    other_liabilities: OtherLiabilities
    bank_assets: BankAssets
    demand_curve: DemandCurve
    spread: Spread
    srf: Srf
    effr: Effr
    events: Events
    regimes: tuple[Regime, ...]
    output: Output
    uncertainty: Uncertainty = Uncertainty()
    rare_events: RareEvents = RareEvents()
    source: str | None = field(default=None, compare=False)

    @property
    def active_regimes(self) -> tuple[Regime, ...]:
        """The regimes this run simulates, in config order."""
        chosen = self.simulation.regimes
        if chosen is None:
            return self.regimes
        by_name = {r.name: r for r in self.regimes}
        return tuple(by_name[name] for name in chosen)

    @property
    def notes(self) -> tuple[str, ...]:
        """What a user should know before the run, though the config is valid."""
        out = []
        weights = [r.weight for r in self.active_regimes if r.weight is not None]
        if weights and abs(sum(weights) - 1.0) > WEIGHT_SUM_TOLERANCE:
            out.append(f"the mixture's weights sum to {sum(weights):g}: they are divided by it")
        gap = (self.simulation.start - self.initial.as_of).days
        if gap > STALE_STATE_DAYS:
            out.append(
                f"simulation.start {self.simulation.start} is {gap} days after initial.as_of "
                f"{self.initial.as_of}: the paths start from that older state"
            )
        return tuple(out)

    def with_overrides(
        self,
        *,
        paths: int | None = None,
        seed: int | None = None,
        rare_events: str | None = None,
    ) -> Config:
        """A copy with ``n_paths``, ``seed`` and/or the conditioned tier ``rare_events`` (the
        conditional estimator on) replaced, validated like the file's values."""
        config = self
        if rare_events is not None:
            if rare_events not in RARE_EVENT_TIERS:
                message = f"unknown tier {rare_events!r} (one of {', '.join(RARE_EVENT_TIERS)})"
                raise ConfigError(self.source, "--rare-events", message)
            chosen = RareEvents(estimator="conditional", tier=rare_events)
            config = dataclasses.replace(self, rare_events=chosen)
        return config._with_sample(paths, seed)

    def _with_sample(self, paths: int | None, seed: int | None) -> Config:
        sim = self.simulation
        if paths is not None:
            _checkbounded(_field(Simulation, "n_paths"), paths, self.source, "--paths")
            sim = dataclasses.replace(sim, n_paths=int(paths))
        if seed is not None:
            _checkbounded(_field(Simulation, "seed"), seed, self.source, "--seed")
            sim = dataclasses.replace(sim, seed=int(seed))
        return dataclasses.replace(self, simulation=sim)

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as plain JSON-able values, in TOML's layout."""
        return _to_plain(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()


# ---------------------------------------------------------------------------- loading


def uncertain_key_field(key: str) -> dataclasses.Field:
    """The schema field of a dotted ``UNCERTAIN_KEYS`` entry (its bounds in ``metadata``)."""
    section, name = key.split(".")
    owner = typing.get_type_hints(Config)[section]
    return next(f for f in dataclasses.fields(owner) if _toml_key(f.name) == name)


def uncertain_key_value(config: Config, key: str) -> float:
    """The config's own value of a dotted ``UNCERTAIN_KEYS`` entry."""
    section = getattr(config, key.split(".")[0])
    return getattr(section, uncertain_key_field(key).name)


def uncertain_key_bounds(key: str) -> tuple[float, float]:
    """[lower, upper] a drawn value of ``key`` is clipped to: the schema's bounds, an open bound
    replaced by the nearest float inside it (x0 in (0, 1): [5e-324, 1 - 1.1e-16]); ±inf where
    the schema has none."""
    meta = uncertain_key_field(key).metadata
    lower, upper = -math.inf, math.inf
    if meta.get("ge") is not None:
        lower = float(meta["ge"])
    if meta.get("gt") is not None:
        lower = math.nextafter(float(meta["gt"]), math.inf)
    if meta.get("le") is not None:
        upper = float(meta["le"])
    if meta.get("lt") is not None:
        upper = math.nextafter(float(meta["lt"]), -math.inf)
    return lower, upper


def packaged_config_dir() -> Path:
    """Folder of the shipped configs: inside an installed wheel, else the checkout's configs/."""
    here = Path(__file__).resolve().parent
    inside = here / "_configs"
    return inside if inside.is_dir() else here.parent / "configs"


def default_config_path() -> Path:
    return packaged_config_dir() / DEFAULT_CONFIG_NAME


def load_config(path: str | Path | None = None) -> Config:
    """Read, merge (``base``) and validate a TOML config; ``None`` reads the packaged default."""
    path = Path(path) if path is not None else default_config_path()
    raw = _read_merged(path, seen=())
    return from_mapping(raw, source=str(path))


def from_mapping(raw: Mapping[str, Any], source: str | None = None) -> Config:
    """Validate a config given as nested dicts (TOML's layout)."""
    raw = dict(raw)
    raw.pop("base", None)
    regimes_raw = raw.pop("regimes", None)
    if not isinstance(regimes_raw, Mapping) or not regimes_raw:
        raise ConfigError(source, "regimes", "at least one [regimes.NAME] table is required")
    regimes = []
    for name, table in regimes_raw.items():
        key = f"regimes.{name}"
        if not isinstance(table, Mapping):
            raise ConfigError(source, key, "must be a table")
        regimes.append(_build(Regime, {**table, "name": name}, key, source, skip=("name",)))
    raw["regimes"] = tuple(regimes)
    config = _build(Config, raw, "", source, skip=("regimes", "source"))
    config = dataclasses.replace(config, source=source)
    _check_consistency(config)
    return config


def from_json(text: str, source: str | None = None) -> Config:
    """The config recorded in a cube's ``config_json`` attribute (``Config.to_json``)."""
    return from_plain(json.loads(text), source)


def from_plain(raw: Mapping[str, Any], source: str | None = None) -> Config:
    """A config given as plain values (``Config.to_dict``'s layout: dates as ISO strings)."""
    raw = dict(raw)
    raw["regimes"] = {
        name: _dates_from_iso(Regime, table) for name, table in raw.get("regimes", {}).items()
    }
    return from_mapping(_dates_from_iso(Config, raw), source=source)


def _dates_from_iso(hint, value):
    """``value`` (JSON) with the ISO strings of the date fields of ``hint`` turned into dates."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return _dates_from_iso(next(a for a in args if a is not type(None)), value)
    if hint is dt.date and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if origin is tuple and isinstance(value, list):
        return [_dates_from_iso(args[0], v) for v in value]
    if dataclasses.is_dataclass(hint) and hint is not Uniform and isinstance(value, dict):
        hints = typing.get_type_hints(hint)
        fields = {_toml_key(f.name): hints[f.name] for f in dataclasses.fields(hint)}
        return {
            key: v if key == "regimes" else _dates_from_iso(fields.get(key), v)
            for key, v in value.items()
        }
    return value


def first_difference(
    a: Mapping[str, Any], b: Mapping[str, Any], ignore: tuple[str, ...] = (), prefix: str = ""
) -> tuple[str, Any, Any] | None:
    """(dotted key, value in ``a``, value in ``b``) of the first key where two resolved configs
    (``Config.to_dict``) differ, skipping the dotted keys in ``ignore``; None if they agree."""
    for key in sorted(set(a) | set(b)):
        dotted = _join(prefix, key)
        if dotted in ignore:
            continue
        va, vb = a.get(key), b.get(key)
        if isinstance(va, Mapping) and isinstance(vb, Mapping):
            found = first_difference(va, vb, ignore, dotted)
            if found:
                return found
        elif va != vb:
            return dotted, va, vb
    return None


def _read_merged(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(path, "", "config file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, "", "is a directory, not a config file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(path, "", f"not valid TOML ({err})") from None
    except UnicodeDecodeError as err:
        raise ConfigError(path, "", f"not UTF-8 text (byte {err.start}): not a TOML file") from None
    except OSError as err:
        raise ConfigError(path, "", f"cannot be read ({err.strerror or err})") from None
    base = raw.pop("base", None)
    if base is None:
        return raw
    if not isinstance(base, str):
        raise ConfigError(path, "base", "must be a string: 'default' or a path")
    base_path = default_config_path() if base == "default" else (path.parent / base)
    if base_path.resolve() in seen:
        raise ConfigError(path, "base", f"circular base {base!r}")
    parent = _read_merged(base_path, (*seen, path.resolve()))
    return _merge(parent, raw)


def _merge(parent: dict[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(parent)
    for key, value in child.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _toml_key(name: str) -> str:
    return name.rstrip("_")  # `lambda` is a Python keyword: the field is `lambda_`


def _field(cls, name):
    return next(f for f in dataclasses.fields(cls) if f.name == name)


def _build(cls, table: Any, prefix: str, source, skip=()):
    if not isinstance(table, Mapping):
        raise ConfigError(source, prefix, "must be a table")
    hints = typing.get_type_hints(cls)
    fields = {_toml_key(f.name): f for f in dataclasses.fields(cls) if f.name not in skip}
    for key in table:
        if key not in fields and key not in skip:
            known = ", ".join(sorted(fields))
            raise ConfigError(source, _join(prefix, key), f"unknown key (known: {known})")
    values = {name: table[name] for name in skip if name in table}
    for key, fld in fields.items():
        dotted = _join(prefix, key)
        if key not in table:
            if fld.default is dataclasses.MISSING:
                raise ConfigError(source, dotted, "missing required key")
            continue
        value = _convert(hints[fld.name], table[key], dotted, source)
        _checkbounded(fld, value, source, dotted)
        values[fld.name] = value
    return cls(**values)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _convert(hint, value, key, source):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, key, source)
    if dataclasses.is_dataclass(hint) and hint is not Uniform:
        return _build(hint, value, key, source)
    if hint is Uniform:
        if _is_number(value):
            return Uniform(float(value), float(value))
        if isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value):
            low, high = float(value[0]), float(value[1])
            if low > high:
                raise ConfigError(source, key, f"range [{low}, {high}] has low > high")
            return Uniform(low, high)
        raise ConfigError(
            source, key, f"expected a finite number or [low, high] of them, got {value!r}"
        )
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(source, key, f"expected a list, got {type(value).__name__}")
        return tuple(_convert(args[0], v, f"{key}[{i}]", source) for i, v in enumerate(value))
    if hint is float:
        if not _is_number(value):
            raise ConfigError(source, key, f"expected a finite number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(source, key, f"expected an integer, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(source, key, f"expected true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(source, key, f"expected a string, got {value!r}")
        return value
    if hint is dt.date:
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise ConfigError(source, key, f"expected a date (YYYY-MM-DD, unquoted), got {value!r}")
        return value
    raise TypeError(f"unsupported config type {hint!r} for {key}")  # a schema bug, not user input


def _is_number(value) -> bool:
    """A finite int or float (TOML's ``inf`` and ``nan`` are floats: refused)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _checkbounded(fld, value, source, key):
    meta = fld.metadata
    if not meta or value is None:
        return
    numbers = [value.low, value.high] if isinstance(value, Uniform) else [value]
    for number in numbers:
        if not _is_number(number):
            return
        if meta.get("ge") is not None and number < meta["ge"]:
            raise ConfigError(source, key, f"must be >= {meta['ge']}, got {number}")
        if meta.get("gt") is not None and number <= meta["gt"]:
            raise ConfigError(source, key, f"must be > {meta['gt']}, got {number}")
        if meta.get("le") is not None and number > meta["le"]:
            raise ConfigError(source, key, f"must be <= {meta['le']}, got {number}")
        if meta.get("lt") is not None and number >= meta["lt"]:
            raise ConfigError(source, key, f"must be < {meta['lt']}, got {number}")


def _check_consistency(config: Config) -> None:
    src = config.source
    _check_spread_floor(config)
    tga = config.tga
    if len(tga.anchor_dates) != len(tga.anchor_bn):
        raise ConfigError(src, "tga.anchor_bn", "must have one value per tga.anchor_dates entry")
    dates = (config.initial.as_of, *tga.anchor_dates)
    if any(b <= a for a, b in itertools.pairwise(dates)):
        raise ConfigError(src, "tga.anchor_dates", "must increase and follow initial.as_of")
    if config.simulation.start <= config.initial.as_of:
        raise ConfigError(src, "simulation.start", "must be after initial.as_of")
    for name in ("april_tax", "first_of_month"):
        if getattr(tga.calendar, name).window_days is None:
            raise ConfigError(src, f"tga.calendar.{name}.window_days", "missing required key")
    if tga.calendar.april_tax.first_day is None:
        raise ConfigError(src, "tga.calendar.april_tax.first_day", "missing required key")
    for regime in config.regimes:
        key = f"regimes.{regime.name}"
        pairs = (
            ("then_pace_bn", "switch_after_months"),
            ("react_above_bp", "react_add_bn"),
            ("emergency_pace_bn", "emergency_months"),
        )
        for first, second in pairs:
            if (getattr(regime, first) is None) != (getattr(regime, second) is None):
                raise ConfigError(src, key, f"{first} and {second} go together")
    names = [r.name for r in config.regimes]
    chosen = config.simulation.regimes
    if chosen is not None:
        for name in chosen:
            if name not in names:
                raise ConfigError(src, "simulation.regimes", f"no regime named {name!r}")
        if len(set(chosen)) != len(chosen) or not chosen:
            raise ConfigError(src, "simulation.regimes", "must list distinct regime names")
    weighted = [r for r in config.active_regimes if r.weight is not None]
    if weighted and sum(r.weight for r in weighted) <= 0:
        names = ", ".join(r.name for r in weighted)
        raise ConfigError(
            src,
            f"regimes.{weighted[0].name}.weight",
            f"the weights of the mixture ({names}) sum to 0",
        )
    family = config.demand_curve.family
    if family not in CURVE_FAMILIES:
        message = f"unknown family {family!r} (one of {', '.join(CURVE_FAMILIES)})"
        raise ConfigError(src, "demand_curve.family", message)
    _check_uncertainty(config)
    _check_rare_events(config)
    quantiles = config.output.quantiles
    if not quantiles or any(not 0 < q < 1 for q in quantiles):
        raise ConfigError(src, "output.quantiles", "must be a non-empty list of values in (0, 1)")
    for name in ("reserves_bn", "spread_bp", "srf_bn", "tga_bn"):
        grid = getattr(config.output.histograms, name)
        if len(grid) != 2 or grid[1] <= 0:
            raise ConfigError(src, f"output.histograms.{name}", "must be [low, width > 0]")
    size = accumulator_bytes(config)
    if size > MAX_ACCUMULATOR_BYTES:
        raise ConfigError(
            src,
            "output.histogram_bins",
            f"the run's counts would take {size / 2**30:.1f} GiB (bins × months × regimes; "
            f"at most {MAX_ACCUMULATOR_BYTES / 2**30:.1f} GiB): use fewer bins or months",
        )


def accumulator_bytes(config: Config) -> int:
    """Bytes of one set of a run's integer counts (``Accumulators``): each task holds one."""
    from .kernels.layout import N_EVENTS, N_HISTS  # constants only: no numba

    regimes, months = len(config.active_regimes), config.simulation.horizon_months
    hist = N_HISTS * regimes * months * (config.output.histogram_bins + 2)
    events = (3 * regimes + 2 * regimes * regimes) * N_EVENTS * months
    hazard = 0
    if config.rare_events.on:
        from .kernels.layout import N_LIMBS  # constants only: no numba

        hazard = 2 * (regimes + 2 * regimes * regimes) * months * N_LIMBS
    return 8 * (hist + events + hazard)


def _check_rare_events(config: Config) -> None:
    src, rare = config.source, config.rare_events
    if rare.estimator not in RARE_EVENT_ESTIMATORS:
        message = (
            f"unknown estimator {rare.estimator!r} (one of {', '.join(RARE_EVENT_ESTIMATORS)})"
        )
        raise ConfigError(src, "rare_events.estimator", message)
    if rare.tier not in RARE_EVENT_TIERS:
        message = f"unknown tier {rare.tier!r} (one of {', '.join(RARE_EVENT_TIERS)})"
        raise ConfigError(src, "rare_events.tier", message)


def _check_spread_floor(config: Config) -> None:
    """The floor must lie below the SRF rate and every spread threshold of an event."""
    floor = config.spread.floor_bp
    if floor is None:
        return
    events = config.events
    above = {
        "events.tight_bp": events.tight_bp,
        "events.stress_bp": events.stress_bp,
        "events.crisis_bp": events.crisis_bp,
        "events.systemic_bp": events.systemic_bp,
    }
    if config.srf.enabled:
        above["srf.rate_above_iorb_bp"] = config.srf.rate_above_iorb_bp
    for key, value in above.items():
        if floor >= value:
            raise ConfigError(config.source, "spread.floor_bp", f"must be below {key} ({value})")


def _check_uncertainty(config: Config) -> None:
    src, uncertainty = config.source, config.uncertainty
    if uncertainty.parameters and not uncertainty.block:
        message = "true needs at least one [[uncertainty.block]]"
        raise ConfigError(src, "uncertainty.parameters", message)
    owner: dict[str, int] = {}
    for i, block in enumerate(uncertainty.block):
        key = f"uncertainty.block[{i}]"
        if not block.keys:
            raise ConfigError(src, f"{key}.keys", "must list at least one parameter")
        for j, name in enumerate(block.keys):
            if name not in UNCERTAIN_KEYS:
                known = ", ".join(UNCERTAIN_KEYS)
                message = f"{name!r} cannot be drawn per path (one of {known})"
                raise ConfigError(src, f"{key}.keys[{j}]", message)
            if name in owner:
                message = f"{name!r} is already in uncertainty.block[{owner[name]}]"
                raise ConfigError(src, f"{key}.keys[{j}]", message)
            owner[name] = i
        k = len(block.keys)
        if len(block.mean) != k:
            message = f"must have one value per key ({k}), got {len(block.mean)}"
            raise ConfigError(src, f"{key}.mean", message)
        for j, (name, value) in enumerate(zip(block.keys, block.mean, strict=True)):
            if not math.isfinite(value):
                raise ConfigError(src, f"{key}.mean[{j}]", f"must be finite, got {value}")
            _checkbounded(uncertain_key_field(name), value, src, f"{key}.mean[{j}]")
        if len(block.covariance) != k or any(len(row) != k for row in block.covariance):
            message = f"must be {k}x{k}: a row and a column per key"
            raise ConfigError(src, f"{key}.covariance", message)
        _check_covariance(block.covariance, src, f"{key}.covariance")


def _check_covariance(rows: tuple[tuple[float, ...], ...], src, key: str) -> None:
    """A covariance must be finite, symmetric and positive semi-definite (``SYMMETRY_RTOL``,
    ``PSD_RTOL``: eigenvalues of its symmetric part)."""
    import numpy as np

    c = np.array(rows, dtype=float)
    if not np.isfinite(c).all():
        raise ConfigError(src, key, "must hold finite numbers")
    scale = np.abs(c).max()
    asymmetry = np.abs(c - c.T).max()
    if asymmetry > SYMMETRY_RTOL * scale:
        message = f"must be symmetric: |C[i][j] - C[j][i]| reaches {asymmetry:.3g}"
        raise ConfigError(src, key, f"{message} > {SYMMETRY_RTOL} x max |C|")
    eigenvalues = np.linalg.eigvalsh(0.5 * (c + c.T))
    if eigenvalues[0] < -PSD_RTOL * np.abs(eigenvalues).max():
        message = f"must be positive semi-definite: eigenvalue {eigenvalues[0]:.3g}"
        raise ConfigError(src, key, f"{message} < -{PSD_RTOL} x max |eigenvalue|")


def _to_plain(value):
    if isinstance(value, Config):
        out = {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        out.pop("source")
        if value.uncertainty == Uncertainty():
            out.pop("uncertainty")  # off and empty: the JSON (and hash) of a config without it
        if value.rare_events == RareEvents():
            out.pop("rare_events")  # likewise
        out["regimes"] = {r.name: _to_plain(r) for r in value.regimes}
        return out
    if isinstance(value, Uniform):
        return value.low if value.is_fixed else [value.low, value.high]
    if dataclasses.is_dataclass(value):
        return {
            _toml_key(f.name): _to_plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not (f.name == "name" and isinstance(value, Regime))  # a regime's table key
            and getattr(value, f.name) is not None
        }
    if isinstance(value, tuple):
        return [_to_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
