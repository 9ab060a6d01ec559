"""`rmp-risk report`'s drawing side: a self-contained HTML page and its figures as PNG files,
from a real small cube and synthetic sweep, required-pace and sensitivity results."""

from __future__ import annotations

import base64
import dataclasses
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from engine import charts, html_report
from engine.calibrate.market import load_market_data
from engine.config import load_config
from engine.errors import InputError
from engine.html_report import ReportError, write_report
from engine.pipeline import simulate
from engine.products import NotAProductError

pytestmark = pytest.mark.slow  # compiles and runs the kernels

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_PNG = "data:image/png;base64,"
MONTHS = 6
FANS = ("reserves_eom", "spread_max", "srf_max", "tga_eom")
PROVENANCE = ("seed", "n_paths", "start", "config_sha256", "config_source", "source")


@pytest.fixture(scope="module")
def cube() -> xr.Dataset:
    cfg = load_config(ROOT / "configs" / "judgement.toml")
    cfg = dataclasses.replace(
        cfg, simulation=dataclasses.replace(cfg.simulation, horizon_months=MONTHS)
    )
    return simulate(cfg, paths=512, seed=1)


@pytest.fixture(scope="module")
def market():
    return load_market_data(ROOT / "engine" / "data", until=pd.Timestamp("2025-12-31"))


def make_sweep(cube: xr.Dataset) -> xr.Dataset:
    paces = [float(x) for x in np.linspace(10.0, 40.0, cube.sizes["regime"])]
    mixture = [name for name in cube.data_vars if str(name).startswith("mixture_")]
    sweep = (
        cube.drop_vars([*mixture, "weight"])
        .rename(regime="pace", other_regime="other_pace")
        .assign_coords(pace=paces, other_pace=paces)
    )
    sweep["pace"].attrs["units"] = "USD billions per month"
    sweep.attrs.update(rmp_risk_product="sweep", sweep_regime="")
    return sweep


def provenance(cube: xr.Dataset) -> dict:
    return {k: cube.attrs[k] for k in PROVENANCE}


def make_required_pace(cube: xr.Dataset, found: bool) -> xr.Dataset:
    pace = np.array([0.0, 20.0, 40.0, 60.0, 80.0])
    p = np.array([0.30, 0.14, 0.06, 0.03, 0.01])
    se = np.sqrt(p * (1 - p) / 512)
    variables = {
        "search_pace": ("search", pace),
        "search_probability": ("search", p),
        "search_stderr": ("search", se),
        "search_lower": ("search", np.clip(p - 1.96 * se, 0, 1)),
        "search_upper": ("search", np.clip(p + 1.96 * se, 0, 1)),
    }
    required = 47.5 if found else np.nan
    if found:
        monthly = np.linspace(0.001, 0.01, MONTHS)
        cumulative = np.cumsum(monthly)
        for name, values in (("event_probability", monthly), ("cumulative", cumulative)):
            name = "cumulative_event_probability" if name == "cumulative" else name
            variables[name] = ("time", values)
            variables[f"{name}_stderr"] = ("time", np.sqrt(values * (1 - values) / 512))
    attrs = dict(
        provenance(cube),
        rmp_risk_product="required_pace",
        event="crisis",
        alpha=0.05,
        within_months=MONTHS,
        regime="" if found else "A",
        found=int(found),
        required_pace_bn=required,
        interval_lower_bn=41.0 if found else np.nan,
        interval_upper_bn=55.0 if found else np.nan,
        pace_low_bn=0.0,
        pace_high_bn=80.0,
    )
    return xr.Dataset(variables, coords={"time": cube["time"].values}, attrs=attrs)


def make_sensitivity(cube: xr.Dataset) -> xr.Dataset:
    keys = ["spread.jump_p0", "demand_curve.lambda", "tga.daily_sd_bn"]
    low, high, base = [0.001, 30.0, 20.0], [0.004, 50.0, 40.0], [0.002, 40.0, 30.0]
    p0 = 0.02
    p_low, p_high = np.array([0.010, 0.028, 0.018]), np.array([0.045, 0.012, 0.023])
    se = np.full(3, 0.004)
    variables = {
        "low_value": ("parameter", low),
        "high_value": ("parameter", high),
        "base_value": ("parameter", base),
        "probability_low": ("parameter", p_low),
        "probability_high": ("parameter", p_high),
        "difference_low": ("parameter", p_low - p0),
        "difference_high": ("parameter", p_high - p0),
        "difference_low_stderr": ("parameter", se),
        "difference_high_stderr": ("parameter", se),
    }
    attrs = dict(
        provenance(cube),
        rmp_risk_product="sensitivity",
        event="crisis",
        within_months=MONTHS,
        regime="mixture",
        probability_base=p0,
        probability_base_stderr=0.006,
    )
    return xr.Dataset(variables, coords={"parameter": keys}, attrs=attrs)


class Page(HTMLParser):
    """Records the doctype, every start tag with its attributes, and the text by tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.decls: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[tuple[str, str]] = []
        self._open: list[str] = []

    def handle_decl(self, decl):
        self.decls.append(decl)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "img", "br", "link"):
            self._open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data):
        self.text.append((self._open[-1] if self._open else "", data))

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for t, attrs in self.tags if t == tag]


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def check_self_contained(path: Path) -> Page:
    page = parse(path)
    assert [d.lower() for d in page.decls] == ["doctype html"]
    assert page.named("html") == [{"lang": "en"}]
    assert {"charset": "utf-8"} in page.named("meta")
    assert any(tag == "title" and text.strip() for tag, text in page.text)
    assert page.named("script") == [] and page.named("link") == [] and page.named("iframe") == []
    images = page.named("img")
    assert images
    for attrs in images:
        assert attrs.get("alt")
        src = attrs["src"]
        assert src.startswith(DATA_PNG)
        assert base64.b64decode(src[len(DATA_PNG) :], validate=True)[:8] == PNG_MAGIC
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            if tag == "img" and name == "src":
                continue
            value = value or ""
            assert "http://" not in value and "https://" not in value, (tag, name, value)
            assert "//" not in value, (tag, name, value)
    for _, text in page.text:
        assert "http://" not in text and "https://" not in text and "//" not in text
    return page


def figure_names(page: Page) -> set[str]:
    """The PNG file names the captions mention."""
    text = " ".join(t for _, t in page.text)
    return {w.strip("().,") for w in text.split() if w.strip("().,").endswith(".png")}


@pytest.fixture(scope="module")
def full_report(cube, market, tmp_path_factory):
    """A report of every kind of result, with the realized history."""
    root = tmp_path_factory.mktemp("report")
    products = [
        ("cube.nc", cube),
        ("sweep.nc", make_sweep(cube)),
        ("pace_found.nc", make_required_pace(cube, found=True)),
        ("pace_missing.nc", make_required_pace(cube, found=False)),
        ("sensitivity.nc", make_sensitivity(cube)),
    ]
    index = write_report(products, root / "out", market=market)
    return root, index


def test_writes_every_figure_and_nothing_else(full_report, cube):
    root, index = full_report
    out = root / "out"
    assert index == out / "index.html"
    assert [p.name for p in root.iterdir()] == ["out"]  # no temporary folder left
    regimes = [str(r) for r in cube.regime.values]
    expected = {
        "index.html",
        "crisis_heatmap.png",
        "event_tiers.png",
        "sweep.png",
        "required_pace.png",
        "required_pace_months.png",
        "required_pace_2.png",
        "tornado.png",
    }
    expected |= {f"fan_{v}_{r}.png" for v in FANS for r in regimes}
    assert {p.name for p in out.iterdir()} == expected
    for name in expected - {"index.html"}:
        data = (out / name).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 5_000, name


def test_the_page_is_self_contained_html5_with_every_figure(full_report):
    _, index = full_report
    page = check_self_contained(index)
    on_disk = {p.name for p in index.parent.glob("*.png")}
    assert figure_names(page) == on_disk
    assert len(page.named("img")) == len(on_disk)


def test_the_page_has_each_section_the_headline_and_the_provenance(full_report, cube):
    _, index = full_report
    text = index.read_text(encoding="utf-8")
    for title in (
        "Regime cube: cube.nc",
        "Pace sweep: sweep.nc",
        "Required pace: pace_found.nc",
        "Required pace: pace_missing.nc",
        "Sensitivity: sensitivity.nc",
    ):
        assert f"<h2>{title}</h2>" in text
    assert "Required RMP pace: P(crisis within 6 months) ≤ 5%: 47.5 $bn/month" in text
    assert "not found in 0–80 $bn/month" in text
    assert "no pace in the searched range meets the target" in text
    assert "mixture (prior-weighted)" in text
    p = cube.cumulative_event_probability.sel(event="crisis").isel(time=-1).values[0]
    se = cube.cumulative_event_probability_stderr.sel(event="crisis").isel(time=-1).values[0]
    assert f"{p * 100:.2f} ± {se * 100:.2f}" in text  # regime A's headline
    assert cube.attrs["config_sha256"] in text and cube.attrs["source"] in text
    assert "configs/judgement.toml" in text
    assert "largest standard error of the headline numbers" in text
    assert "Realized values" in text


def test_strings_from_the_data_are_escaped(cube, tmp_path):
    sens = make_sensitivity(cube)
    sens = sens.assign_coords(parameter=["a<b>", "c&d", 'e"f'])
    sens.attrs["config_source"] = "<script>alert(1)</script>"
    index = write_report([("<odd & name>.nc", sens)], tmp_path / "r")
    text = index.read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "&lt;odd &amp; name&gt;.nc" in text and "a&lt;b&gt;" in text
    check_self_contained(index)
    assert {p.name for p in (tmp_path / "r").iterdir()} == {"index.html", "tornado.png"}


def test_one_kind_alone_writes_only_its_figures(cube, tmp_path):
    write_report([("s.nc", make_sweep(cube)), ("t.nc", make_sweep(cube))], tmp_path / "a")
    assert {p.name for p in (tmp_path / "a").iterdir()} == {
        "index.html",
        "sweep.png",
        "sweep_2.png",
    }
    write_report([("p.nc", make_required_pace(cube, found=False))], tmp_path / "b")
    assert {p.name for p in (tmp_path / "b").iterdir()} == {"index.html", "required_pace.png"}
    check_self_contained(tmp_path / "b" / "index.html")


def test_an_existing_folder_keeps_its_other_files(cube, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "cube.nc").write_bytes(b"keep me")
    (out / "tornado.png").write_bytes(b"old")
    write_report([("s.nc", make_sensitivity(cube))], out)
    assert (out / "cube.nc").read_bytes() == b"keep me"
    assert (out / "tornado.png").read_bytes()[:8] == PNG_MAGIC
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failure_leaves_no_report_and_no_temporary_files(cube, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(charts, "tornado_chart", broken)
    products = [("p.nc", make_required_pace(cube, True)), ("s.nc", make_sensitivity(cube))]
    with pytest.raises(OSError, match="disk full"):
        write_report(products, tmp_path / "new")
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "old"
    old.mkdir()
    (old / "index.html").write_text("previous report")
    with pytest.raises(OSError, match="disk full"):
        write_report(products, old)
    assert [p.name for p in tmp_path.iterdir()] == ["old"]
    assert [p.name for p in old.iterdir()] == ["index.html"]
    assert (old / "index.html").read_text() == "previous report"


def test_bad_input_is_refused_before_anything_is_written(cube, tmp_path):
    with pytest.raises(ReportError, match="no results to report") as err:
        write_report([], tmp_path / "out")
    assert isinstance(err.value, InputError) and str(tmp_path / "out") in str(err.value)
    assert "\n" not in str(err.value)
    with pytest.raises(NotAProductError, match=r"junk\.nc"):
        write_report([("junk.nc", xr.Dataset(attrs={"title": "x"}))], tmp_path / "out")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ReportError, match="not a folder"):
        write_report([("s.nc", make_sensitivity(cube))], tmp_path / "file")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_realized_months_are_whole_months_on_or_before_until():
    days = pd.date_range("2025-01-01", "2025-03-20", freq="D", name="date")
    weekly = days[days.day_of_week == 2]
    market = SimpleNamespace(
        until=pd.Timestamp("2025-03-20"),
        reserves_bn=pd.Series(np.arange(len(weekly), dtype=float), index=weekly),
        spread_bp=pd.Series(np.arange(len(days), dtype=float) % 40, index=days),
        srf_bn=pd.Series([5.0, 2.0], index=pd.DatetimeIndex(["2025-01-10", "2025-01-31"])),
        tga_bn=None,
    )
    months = pd.date_range("2024-12-01", periods=4, freq="MS")
    reserves = charts.realized_monthly(market, months, "reserves_eom")
    jan_last = float(np.flatnonzero(weekly < "2025-02-01")[-1])
    assert reserves.iloc[1] == jan_last
    assert np.isnan(reserves.iloc[0]) and np.isnan(reserves.iloc[3])  # no data; March not whole
    spread = charts.realized_monthly(market, months, "spread_max")
    assert spread.iloc[1] == 30.0 and spread.iloc[2] == 39.0  # Jan: days 0..30; Feb: 31..58 % 40
    srf = charts.realized_monthly(market, months, "srf_max")
    assert srf.iloc[1] == 5.0 and srf.isna().sum() == 3
    assert charts.realized_monthly(market, months, "tga_eom").isna().all()
    assert list(charts.history_months(months)) == list(
        pd.date_range("2023-12-01", periods=12, freq="MS")
    )


def test_fan_chart_with_a_partial_market_and_a_missing_series(cube, tmp_path):
    weeks = pd.DatetimeIndex(["2025-06-04", "2025-11-26"])
    market = SimpleNamespace(
        until=pd.Timestamp("2025-12-31"),
        reserves_bn=pd.Series([3000.0, 2950.0], index=weeks),
        spread_bp=None,
        srf_bn=None,
        tga_bn=None,
    )
    for variable in ("reserves_eom", "spread_max"):
        path = charts.cube_fan_chart(cube, variable, "A", tmp_path / f"{variable}.png", market)
        assert path.read_bytes()[:8] == PNG_MAGIC
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reserves_eom.png", "spread_max.png"]


def test_escape_and_slug_helpers():
    assert html_report.e('<a href="x">') == "&lt;a href=&quot;x&quot;&gt;"
    assert html_report._slug("regime A/1") == "regime_A_1"
    assert charts.percent_of(0.025) == "2.5%" and charts.number(float("nan")) == "n/a"
