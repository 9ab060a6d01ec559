"""``rmp-risk report``: a self-contained HTML report (``index.html``, figures embedded as
``data:image/png`` URIs, no script and no external reference) plus each figure as a PNG file,
from any mix of the engine's results (cube, sweep, required pace, sensitivity).

The report is built in a temporary folder beside the output folder and moved into place only
once complete: a failure leaves no half-written report and no temporary files behind.
"""

from __future__ import annotations

import base64
import html
import os
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from . import charts
from ._version import __version__
from .errors import InputError
from .products import CUBE, REQUIRED_PACE, SENSITIVITY, SWEEP, product_of

INDEX = "index.html"
MIXTURE_LABEL = "mixture (prior-weighted)"
PERCENT = 100.0
KIND_TITLES = {
    CUBE: "Regime cube",
    SWEEP: "Pace sweep",
    REQUIRED_PACE: "Required pace",
    SENSITIVITY: "Sensitivity",
}
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem; color: #1a1a1a; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; }
h2 { border-bottom: 2px solid #0072B2; padding-bottom: 0.2rem; margin-top: 2.5rem; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.9rem; color: #444; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f0f4f8; }
.fans { display: grid; grid-template-columns: repeat(auto-fill, minmax(30rem, 1fr)); gap: 0.5rem; }
footer { margin-top: 3rem; border-top: 1px solid #ccc; font-size: 0.88rem; color: #333; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
.note { background: #fff8e6; border-left: 4px solid #E69F00; padding: 0.4rem 0.8rem; }
""".strip()


class ReportError(InputError):
    """A report that cannot be written: no results given, or an output path that is no folder."""


def e(value) -> str:
    """``value`` as text escaped for HTML content and attribute values."""
    return html.escape(str(value), quote=True)


def _pct(p: float, se: float | None = None) -> str:
    """``"12.34"`` or ``"12.34 ± 0.56"`` (percent), ``"n/a"`` for NaN."""
    p = float(p)
    if not np.isfinite(p):
        return "n/a"
    if se is None or not np.isfinite(float(se)):
        return f"{p * PERCENT:.2f}"
    return f"{p * PERCENT:.2f} ± {float(se) * PERCENT:.2f}"


def _slug(text: str) -> str:
    """A file-name-safe form of a label (letters, digits, ``-``, ``_``)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", str(text)).strip("_") or "x"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], caption: str) -> str:
    """An HTML table; every cell is escaped."""
    out = [f"<table>\n<caption>{e(caption)}</caption>\n<thead><tr>"]
    out += [f'<th scope="col">{e(h)}</th>' for h in head]
    out.append("</tr></thead>\n<tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
    out.append("</tbody>\n</table>")
    return "\n".join(out)


class _Builder:
    """Writes the figures of one report into ``folder`` and keeps their HTML and the standard
    errors of the headline numbers."""

    def __init__(self, folder: Path, market) -> None:
        self.folder = folder
        self.market = market
        self.names: set[str] = set()
        self.headline_se: list[float] = []

    def png(self, stem: str) -> Path:
        """A new, unused PNG path in the folder for ``stem`` (``stem.png``, ``stem_2.png``…)."""
        name, k = f"{stem}.png", 1
        while name in self.names or name == INDEX:
            k += 1
            name = f"{stem}_{k}.png"
        self.names.add(name)
        return self.folder / name

    def figure(self, path: Path, alt: str, caption: str = "") -> str:
        """``<figure>`` with the PNG at ``path`` embedded as a data URI."""
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        cap = f"\n<figcaption>{e(caption)} (file {e(path.name)})</figcaption>"
        return f'<figure>\n<img src="data:image/png;base64,{data}" alt="{e(alt)}">{cap}\n</figure>'

    def headline(self, *stderrs) -> None:
        for se in stderrs:
            values = np.asarray(se, dtype=float).ravel()
            self.headline_se.extend(float(v) for v in values if np.isfinite(v))

    # -------------------------------------------------------------------------------- cube

    def cube(self, ds: xr.Dataset, suffix: str) -> str:
        event = charts.HEADLINE_EVENT
        parts: list[str] = []
        last = ds["time"].values[-1]
        horizon = f"{ds.sizes['time']} months (to the end of {charts.month_label(last)})"
        if event in ds["event"].values:
            parts.append(self._cube_headline(ds, event, horizon))
            path = charts.crisis_heatmap(ds, self.png(f"crisis_heatmap{suffix}"), event)
            alt = (
                f"Heatmap of the monthly probability of at least one {event} day, in percent, "
                f"by regime and month"
            )
            parts.append(self.figure(path, alt, f"P({event} day in month), % by regime."))
        else:
            parts.append(f'<p class="note">No "{e(event)}" event in this cube: no heatmap.</p>')
        path = charts.event_tiers(ds, self.png(f"event_tiers{suffix}"))
        alt = "Grouped bars of each event tier's probability by the end of the horizon by regime"
        parts.append(self.figure(path, alt, f"Every event tier over {horizon}; 95% error bars."))
        regimes = [str(r) for r in ds["regime"].values]
        for variable, (title, ylabel, *_) in charts.FAN_VARIABLES.items():
            if variable not in ds:
                continue
            fans = []
            for regime in regimes:
                stem = f"fan_{variable}_{_slug(regime)}{suffix}"
                path = charts.cube_fan_chart(ds, variable, regime, self.png(stem), self.market)
                alt = f"Fan chart, regime {regime}: {title}, {ylabel}, 5–95% and 25–75% bands"
                fans.append(self.figure(path, alt, f"Regime {regime}"))
            parts.append(f'<h3>{e(title)}</h3>\n<div class="fans">\n' + "\n".join(fans))
            parts.append("</div>")
        if self.market is not None:
            parts.append(
                "<p>Realized values: the 12 months before the first forecast month and the "
                "forecast months the market data cover (whole months only), from the market "
                f"data up to {e(_day(getattr(self.market, 'until', '')))}.</p>"
            )
        return "\n".join(parts)

    def _cube_headline(self, ds: xr.Dataset, event: str, horizon: str) -> str:
        p = ds["cumulative_event_probability"].sel(event=event).isel(time=-1)
        se = ds["cumulative_event_probability_stderr"].sel(event=event).isel(time=-1)
        weights = ds["weight"].values if "weight" in ds.coords else [np.nan] * ds.sizes["regime"]
        rows = []
        for i, regime in enumerate(ds["regime"].values):
            w = float(weights[i])
            rows.append(
                [
                    f"regime {regime}",
                    f"{w:.2f}" if np.isfinite(w) else "—",
                    f"{int(ds['n_paths'].values[i]):,}" if "n_paths" in ds else "n/a",
                    _pct(p.values[i], se.values[i]),
                ]
            )
        self.headline(se.values)
        if "mixture_cumulative_event_probability" in ds:
            mp = ds["mixture_cumulative_event_probability"].sel(event=event).isel(time=-1)
            mse = ds["mixture_cumulative_event_probability_stderr"].sel(event=event).isel(time=-1)
            rows.append([MIXTURE_LABEL, "1.00", "", _pct(mp, mse)])
            self.headline(mse.values)
        head = ["regime", "mixture weight", "paths", f"P({event}) by end of horizon, % ± s.e."]
        caption = (
            f"Headline: probability of at least one {event} day within {horizon}, "
            "± Monte Carlo standard error"
        )
        return _table(head, rows, caption)

    # ------------------------------------------------------------------------------- sweep

    def sweep(self, ds: xr.Dataset, suffix: str) -> str:
        event = charts.HEADLINE_EVENT
        if event not in ds["event"].values:
            return f'<p class="note">No "{e(event)}" event in this sweep: nothing to draw.</p>'
        path = charts.sweep_chart(ds, self.png(f"sweep{suffix}"), event)
        alt = f"Probability of at least one {event} day against the monthly RMP pace"
        parts = [self.figure(path, alt, f"P({event}) against pace; 95% error bars.")]
        order = np.argsort(ds["pace"].to_numpy().astype(float))
        p = ds["cumulative_event_probability"].sel(event=event).transpose("pace", "time")
        se = ds["cumulative_event_probability_stderr"].sel(event=event).transpose("pace", "time")
        n = ds.sizes["time"]
        columns = [n - 1] + ([11] if n > 12 else [])
        head = ["pace ($bn/month)"] + [
            f"P({event}) within {t + 1} months, % ± s.e." for t in columns
        ]
        rows = []
        for i in order:
            pace = charts.number(ds["pace"].values[i])
            rows.append([pace] + [_pct(p.values[i, t], se.values[i, t]) for t in columns])
            self.headline([se.values[i, t] for t in columns])
        parts.append(_table(head, rows, f"P({event}) by pace, ± Monte Carlo standard error"))
        return "\n".join(parts)

    # ------------------------------------------------------------------------ required pace

    def required_pace(self, ds: xr.Dataset, suffix: str) -> str:
        a = ds.attrs
        found = bool(int(a.get("found", 0))) and np.isfinite(
            float(a.get("required_pace_bn", np.nan))
        )
        title = charts.required_pace_title(ds)
        lo, hi = (
            float(a.get("interval_lower_bn", np.nan)),
            float(a.get("interval_upper_bn", np.nan)),
        )
        rules = str(a.get("regime", "") or "")
        how = f"with regime {rules}'s rules" if rules else "at a constant pace"
        if found and int(a.get("at_range_bottom", 0)):
            bottom = charts.number(float(a.get("pace_low_bn", np.nan)))
            text = (
                f"{title}, {how}: met at the bottom of the searched range, so the required pace "
                f"is {bottom} $bn/month or less."
            )
        elif found:
            interval = (
                f" (95% interval {charts.number(lo)}–{charts.number(hi)} $bn/month)"
                if np.isfinite(lo) and np.isfinite(hi)
                else ""
            )
            text = f"{title}{interval}, {how}."
        else:
            text = f"{title}, {how}: no pace in the searched range meets the target."
        parts = [f"<p><strong>{e(text)}</strong></p>"]
        path = charts.required_pace_chart(ds, self.png(f"required_pace{suffix}"))
        alt = "Probability of the event at each evaluated pace with Wilson intervals, the target"
        parts.append(self.figure(path, alt + (" and the required pace" if found else ""), title))
        self.headline(ds["search_stderr"].values)
        if found and "event_probability" in ds and "cumulative_event_probability" in ds:
            path = charts.required_pace_months_chart(ds, self.png(f"required_pace_months{suffix}"))
            alt = "Monthly and cumulative event probability by month at the required pace"
            parts.append(self.figure(path, alt, "Odds by month at the required pace."))
        event, within = a.get("event", charts.HEADLINE_EVENT), int(a.get("within_months", 0))
        rows = [
            [charts.number(pace), _pct(pr, se), f"{_pct(lw)}–{_pct(up)}"]
            for pace, pr, se, lw, up in zip(
                ds["search_pace"].values,
                ds["search_probability"].values,
                ds["search_stderr"].values,
                ds["search_lower"].values,
                ds["search_upper"].values,
                strict=True,
            )
        ]
        head = ["pace ($bn/month)", f"P({event} within {within} months), % ± s.e.", "Wilson 95%, %"]
        parts.append(_table(head, rows, "Evaluated paces"))
        return "\n".join(parts)

    # -------------------------------------------------------------------------- sensitivity

    def sensitivity(self, ds: xr.Dataset, suffix: str) -> str:
        a = ds.attrs
        event, within = a.get("event", charts.HEADLINE_EVENT), int(a.get("within_months", 0))
        who = str(a.get("regime", "") or "")
        who = "the prior-weighted mixture" if who == charts.MIXTURE else f"regime {who}"
        base, base_se = a.get("probability_base", np.nan), a.get("probability_base_stderr", np.nan)
        text = (
            f"Base: P({event} within {within} months) = {_pct(base, base_se)} % "
            f"(± Monte Carlo standard error) for {who}."
        )
        parts = [f"<p>{e(text)}</p>"]
        path = charts.tornado_chart(ds, self.png(f"tornado{suffix}"))
        alt = f"Tornado chart of the change in P({event} within {within} months) by config key"
        parts.append(self.figure(path, alt, "Largest effect on top; 95% error bars."))
        rows = []
        for i, key in enumerate(ds["parameter"].values):
            v = {n: ds[n].values[i] for n in ds.data_vars if ds[n].dims == ("parameter",)}
            rows.append(
                [
                    str(key),
                    charts.number(v.get("base_value", np.nan)),
                    charts.number(v.get("low_value", np.nan)),
                    charts.number(v.get("high_value", np.nan)),
                    _pct(v["difference_low"], v["difference_low_stderr"]),
                    _pct(v["difference_high"], v["difference_high_stderr"]),
                ]
            )
        self.headline(
            [base_se], ds["difference_low_stderr"].values, ds["difference_high_stderr"].values
        )
        head = ["config key", "base", "low", "high", "Δ at low, pp ± s.e.", "Δ at high, pp ± s.e."]
        parts.append(_table(head, rows, "Change in the probability from its base value"))
        return "\n".join(parts)


def _day(value) -> str:
    """A date-like value as ``YYYY-MM-DD`` when it is a timestamp, else as text."""
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    except (TypeError, ValueError):
        return str(value)


def _provenance(label: str, ds: xr.Dataset) -> str:
    """A ``<dl>`` of where a result came from: file, config source and sha256, seed, paths,
    start, horizon, engine version."""
    a = ds.attrs
    if "merged_seeds" in a:
        seed = ", ".join(str(int(s)) for s in np.atleast_1d(a["merged_seeds"]))
    else:
        seed = str(a.get("seed", "n/a"))
    horizon = a.get("horizon_months", ds.sizes.get("time", "n/a"))
    items = [
        ("file", label),
        ("config source", a.get("config_source", "n/a")),
        ("config sha256", a.get("config_sha256", "n/a")),
        ("seed", seed),
        ("paths", f"{int(a['n_paths']):,}" if "n_paths" in a else "n/a"),
        ("start", a.get("start", "n/a")),
        ("horizon", f"{horizon} months"),
        ("engine", a.get("source", "n/a")),
    ]
    rows = "\n".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in items)
    return f"<dl>\n{rows}\n</dl>"


def _document(sections: list[tuple[str, str, str]], footers: list[str], largest_se) -> str:
    """The whole page: ``sections`` are (anchor id, heading, body HTML)."""
    nav = "\n".join(f'<li><a href="#{anchor}">{e(title)}</a></li>' for anchor, title, _ in sections)
    body = "\n".join(
        f'<section id="{anchor}">\n<h2>{e(title)}</h2>\n{html_body}\n</section>'
        for anchor, title, html_body in sections
    )
    se = (
        f"the largest standard error of the headline numbers above is "
        f"{largest_se * PERCENT:.2f} percentage points"
        if largest_se is not None
        else "no headline number has a standard error"
    )
    note = (
        f"Every probability in this report is a Monte Carlo estimate and carries a standard "
        f"error (error bars: ±1.96 s.e., or the Wilson interval for a required-pace "
        f"search); {se}."
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rmp-risk report</title>
<style>
{STYLE}
</style>
</head>
<body>
<header>
<h1>rmp-risk report</h1>
<p>Repo-market stress odds under Reserve Management Purchase regimes, drawn by rmp-risk
{e(__version__)} from {len(sections)} result file{"s" if len(sections) != 1 else ""}.</p>
<nav><ul>
{nav}
</ul></nav>
</header>
<main>
{body}
</main>
<footer>
<h2>Provenance</h2>
<p class="note">{e(note)}</p>
{"".join(footers)}
</footer>
</body>
</html>
"""


def _build(products: list[tuple[str, str, xr.Dataset]], folder: Path, market) -> None:
    """Write every figure and ``index.html`` into ``folder``."""
    builder = _Builder(folder, market)
    draw = {
        CUBE: builder.cube,
        SWEEP: builder.sweep,
        REQUIRED_PACE: builder.required_pace,
        SENSITIVITY: builder.sensitivity,
    }
    seen: Counter[str] = Counter()
    sections, footers = [], []
    for i, (label, kind, ds) in enumerate(products, start=1):
        seen[kind] += 1
        suffix = "" if seen[kind] == 1 else f"_{seen[kind]}"
        title = f"{KIND_TITLES[kind]}: {label}"
        sections.append((f"result-{i}", title, draw[kind](ds, suffix)))
        footers.append(f"<h3>{e(title)}</h3>\n{_provenance(label, ds)}")
    largest = max(builder.headline_se) if builder.headline_se else None
    page = _document(sections, footers, largest)
    (folder / INDEX).write_text(page, encoding="utf-8")


def write_report(
    products: Sequence[tuple[str, xr.Dataset]], out_dir: str | Path, market=None
) -> Path:
    """Write ``out_dir/index.html`` and every figure as PNG in ``out_dir``.

    Parameters
    ----------
    products : sequence of (str, xarray.Dataset)
        (source label, e.g. the file name; result dataset) pairs, each a cube, sweep,
        required-pace or sensitivity result (``engine.products.product_of``), drawn in order.
    out_dir : Path
        The report folder, created if needed. Files of the same names are replaced; other
        files in it are left alone.
    market : engine.calibrate.market.MarketData or None
        Realized history drawn on a cube's fan charts (whole months only).

    Files: for a cube ``crisis_heatmap.png``, ``event_tiers.png`` and
    ``fan_{reserves_eom,spread_max,srf_max,tga_eom}_{regime}.png``; ``sweep.png``;
    ``required_pace.png`` (and ``required_pace_months.png`` when a pace was found);
    ``tornado.png``. The second result of the same kind adds ``_2`` to its names, and so on.

    Returns
    -------
    Path
        ``out_dir/index.html``.

    Raises
    ------
    ReportError
        No products, or ``out_dir`` exists and is not a folder.
    engine.products.NotAProductError
        A dataset that is no rmp-risk result (the message names its label).
    """
    out_dir = Path(out_dir)
    if not products:
        raise ReportError(
            f"{out_dir}: no results to report (give a cube, sweep, "
            "required-pace or sensitivity file)"
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"{out_dir}: exists and is not a folder")
    kinds = [(str(label), product_of(ds, str(label)), ds) for label, ds in products]
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        _build(kinds, tmp, market)
        _move_into_place(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir / INDEX


def _move_into_place(tmp: Path, out_dir: Path) -> None:
    """Rename ``tmp`` to ``out_dir`` when there is none; else move each file in by a rename,
    ``index.html`` last."""
    if not out_dir.exists():
        try:
            os.rename(tmp, out_dir)
            return
        except OSError:  # made meanwhile: fall back to moving the files one by one
            pass
    names = sorted(p.name for p in tmp.iterdir() if p.name != INDEX)
    for name in [*names, INDEX]:
        os.replace(tmp / name, out_dir / name)
