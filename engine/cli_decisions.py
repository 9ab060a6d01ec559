"""The decision commands of ``rmp-risk``: sweep, required-pace and sensitivity.

Each refuses bad input before any path runs (one line, exit status 2, nothing written), shows a
progress bar, prints its table and writes its result as NetCDF (``rmp-risk report`` draws it)
with its figure beside it (the same name, ``.png``).
"""

from __future__ import annotations

import argparse
import shlex
import time
from pathlib import Path

from .cli_options import (
    UsageError,
    add_backend_options,
    add_config_argument,
    add_sample_options,
    backend_options,
    count,
    number,
    resolve_config,
    say,
)

PERCENT = 100.0


def add_parsers(sub) -> None:
    """Register the decision commands on the ``rmp-risk`` sub-parsers ``sub``."""
    sweep = sub.add_parser(
        "sweep", help="the odds at each of a grid of constant monthly paces (common paths)"
    )
    add_config_argument(sweep)
    sweep.add_argument(
        "--pace",
        required=True,
        metavar="LOW:HIGH:STEP",
        help="paces in $bn/month, e.g. 0:80:5, or a list 10,20,45",
    )
    sweep.add_argument(
        "--regime",
        help="keep this regime's rules, replacing its paces (default: a regime with no rules)",
    )
    _common(sweep, Path("out/sweep.nc"), ".nc or .zarr")
    sweep.set_defaults(handler=_sweep)

    search = sub.add_parser(
        "required-pace", help="the smallest constant pace that keeps the odds below alpha"
    )
    add_config_argument(search)
    search.add_argument(
        "--alpha", type=number, default=0.05, help="the ceiling on the odds (default: 0.05)"
    )
    search.add_argument(
        "--range",
        default="0:200",
        metavar="LOW:HIGH",
        help="paces searched, $bn/month (default: 0:200)",
    )
    search.add_argument(
        "--tolerance",
        type=number,
        default=0.5,
        help="resolution of the search, $bn/month (default: 0.5)",
    )
    search.add_argument(
        "--regime",
        help="keep this regime's rules, searching its pace (default: a regime with no rules)",
    )
    _common(search, Path("out/required_pace.nc"), ".nc")
    search.set_defaults(handler=_required_pace)

    sens = sub.add_parser(
        "sensitivity", help="how the headline odds move with each parameter (a tornado)"
    )
    add_config_argument(sens)
    sens.add_argument(
        "--vary",
        action="append",
        metavar="KEY=LOW:HIGH",
        help="a config key and its two values, e.g. demand_curve.x0=0.11:0.13 "
        "(repeat; default: a list of the most uncertain keys)",
    )
    sens.add_argument(
        "--regime", help="the regime whose odds are compared (default: the prior-weighted mixture)"
    )
    _common(sens, Path("out/sensitivity.nc"), ".nc")
    sens.set_defaults(handler=_sensitivity)


def _common(parser: argparse.ArgumentParser, out: Path, formats: str) -> None:
    parser.add_argument("--event", default="crisis", help="event tier (default: crisis)")
    parser.add_argument(
        "--within",
        type=count(1),
        metavar="MONTHS",
        help="odds of an event day within the first MONTHS months (default: the horizon)",
    )
    add_sample_options(parser)
    parser.add_argument("--out", type=Path, default=out, help=f"result, {formats} (default: {out})")
    add_backend_options(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _load(args: argparse.Namespace):
    """The config (with --paths/--seed), the event and the window checked."""
    from .config import load_config
    from .decisions.odds import check_within, event_index

    config_path = resolve_config(args.config)
    config = load_config(config_path).with_overrides(paths=args.paths, seed=args.seed)
    event_index(args.event)
    check_within(args.within, config.simulation.horizon_months)
    return config


def _check_out(args: argparse.Namespace, config, formats: tuple[str, ...]) -> None:
    """--out checked (the last check: it may create the folder), then the run announced."""
    from .io import cube_format
    from .outputs import check_writable_file

    if cube_format(args.out) not in formats:
        raise UsageError(f"--out {args.out}: use a {' or '.join(formats)} path")
    check_writable_file(args.out, "--out")
    check_writable_file(_figure_path(args.out), "--out")
    sim = config.simulation
    say(f"{config.source}: {sim.n_paths:,} paths, {sim.horizon_months} months from {sim.start}")


def _figure_path(out: Path) -> Path:
    """The figure written beside a result: its name with ``.png``."""
    return out.with_suffix(".png")


def _command(args: argparse.Namespace) -> str:
    return "rmp-risk " + shlex.join(args.argv)


def _sweep(args: argparse.Namespace) -> int:
    from .charts import sweep_chart
    from .decisions.paces import parse_paces, with_paces
    from .decisions.sweep import sweep
    from .io import write_cube

    config = _load(args)
    paces = parse_paces(args.pace)
    with_paces(config, paces[:1], args.regime)  # an unknown --regime, before any path runs
    _check_out(args, config, ("netcdf", "zarr"))
    started = time.perf_counter()
    ds = sweep(
        config,
        paces,
        args.regime,
        progress=not args.quiet,
        command=_command(args),
        **backend_options(args),
    )
    write_cube(ds, args.out)
    figure = sweep_chart(ds, _figure_path(args.out), args.event)
    say(f"wrote {args.out} and {figure} in {time.perf_counter() - started:.1f}s")
    print(sweep_table(ds, args.event, args.within))
    return 0


def sweep_table(ds, event: str, within: int | None) -> str:
    """P(event within W months) at each pace, and its change from the previous pace with the
    paired standard error."""
    from .decisions.sweep import paired_difference

    months = within or ds.sizes["time"]
    cum = ds.cumulative_event_probability.sel(event=event).isel(time=months - 1)
    se = ds.cumulative_event_probability_stderr.sel(event=event).isel(time=months - 1)
    lines = [
        f"P({event} within {months} months) by constant pace "
        f"({int(ds.n_paths.values[0]):,} common paths, seed {ds.attrs['seed']})",
        f"{'pace ($bn/month)':>16}  {'P (%)':>7} {'± s.e.':>7}   "
        f"{'change (points)':>15} ± paired s.e.",
    ]
    paces = [float(p) for p in ds.pace.values]
    for i, pace in enumerate(paces):
        row = f"{pace:>16g}  {float(cum[i]) * PERCENT:7.2f} {float(se[i]) * PERCENT:7.2f}"
        if i:
            diff, diff_se = paired_difference(ds, pace, paces[i - 1], event, months)
            row += f"   {diff * PERCENT:+15.2f} ± {diff_se * PERCENT:.2f}"
        lines.append(row)
    return "\n".join(lines)


def _required_pace(args: argparse.Namespace) -> int:
    from .charts import required_pace_chart
    from .decisions.paces import parse_range
    from .decisions.required_pace import check_search, required_pace
    from .io import write_cube

    config = _load(args)
    low, high = parse_range(args.range, "--range")
    check_search(config, args.alpha, args.tolerance, low, args.regime)
    _check_out(args, config, ("netcdf",))
    started = time.perf_counter()
    result = required_pace(
        config,
        args.event,
        args.alpha,
        args.within,
        args.regime,
        low=low,
        high=high,
        tolerance=args.tolerance,
        progress=not args.quiet,
        command=_command(args),
        **backend_options(args),
    )
    ds = result.to_dataset()
    write_cube(ds, args.out)
    figure = required_pace_chart(ds, _figure_path(args.out))
    say(
        f"wrote {args.out} and {figure} in {time.perf_counter() - started:.1f}s "
        f"({len(result.searched)} paces simulated)"
    )
    print(result.table())
    return 0


def _sensitivity(args: argparse.Namespace) -> int:
    from .charts import tornado_chart
    from .decisions.sensitivity import parse_vary, sensitivity, with_value
    from .io import write_cube

    config = _load(args)
    varies = None
    if args.vary:
        varies = [parse_vary(text, config) for text in args.vary]
        for v in varies:  # every value checked before any path runs
            with_value(config, v.key, v.low)
            with_value(config, v.key, v.high)
    if args.regime is not None and args.regime not in {r.name for r in config.regimes}:
        known = ", ".join(r.name for r in config.regimes)
        raise UsageError(f"--regime {args.regime}: no such regime in the config ({known})")
    _check_out(args, config, ("netcdf",))
    started = time.perf_counter()
    result = sensitivity(
        config,
        varies,
        args.event,
        args.within,
        args.regime,
        progress=not args.quiet,
        command=_command(args),
        **backend_options(args),
    )
    ds = result.to_dataset()
    write_cube(ds, args.out)
    figure = tornado_chart(ds, _figure_path(args.out))
    say(f"wrote {args.out} and {figure} in {time.perf_counter() - started:.1f}s")
    print(result.table())
    return 0
