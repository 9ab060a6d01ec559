"""``rmp-risk evaluate``: origins, the realized history, baselines, the store, and the rule that
no observation dated on or after an origin reaches that origin's forecast."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from engine.calibrate.readers import DATA_DIR
from engine.cli import main
from engine.config import load_config
from engine.errors import InputError
from engine.evaluate import evaluate
from engine.evaluate.baselines import PERSISTENCE_MONTHS, baseline_forecast
from engine.evaluate.forecast import MEMBERS, Forecaster, forecast_block, parse_forecaster
from engine.evaluate.harness import Issued, blocks, issue_block
from engine.evaluate.history import load_history, realized_purchases
from engine.evaluate.origins import OriginError, data_until, parse_origins, target_months
from engine.evaluate.store import EvaluationStoreError, OriginStore
from engine.evaluate.summary import value_table
from engine.evaluate.tables import score_cases
from engine.kernels.layout import EVENT_NAMES
from tests.conftest import MODEL_CONFIG, SHIPPED_DEFAULT


@pytest.fixture(scope="module")
def history():
    return load_history(DATA_DIR, load_config(MODEL_CONFIG))


def test_origins_parse_and_months():
    assert list(parse_origins("2019-11:2020-02")) == list(
        pd.to_datetime(["2019-11-01", "2019-12-01", "2020-01-01", "2020-02-01"])
    )
    assert list(parse_origins("2010-01:2010-12:6")) == list(
        pd.to_datetime(["2010-01-01", "2010-07-01"])
    )
    assert list(target_months(pd.Timestamp("2019-11-01"), 3).strftime("%Y-%m")) == [
        "2019-11",
        "2019-12",
        "2020-01",
    ]
    assert data_until(pd.Timestamp("2020-03-01")) == pd.Timestamp("2020-02-29")
    for bad in ("2019-13", "2019-11:2019-10", "2019-11:2020-01:0", "2019-1", "a:b:c:d"):
        with pytest.raises(OriginError, match="--origins"):
            parse_origins(bad)


def test_blocks_share_a_refit_date():
    """Blocks are the calendar's runs of refit_every months, whatever origins are asked for."""
    origins = parse_origins("2010-01:2010-08")
    assert [len(group) for _, group in blocks(origins, 3)] == [3, 3, 2]
    assert [len(group) for _, group in blocks(origins, 1)] == [1] * 8
    shifted = parse_origins("2010-02:2010-05")  # a later first origin: the same quarters
    assert [(f"{fit:%Y-%m}", [f"{o:%m}" for o in group]) for fit, group in blocks(shifted, 3)] == [
        ("2010-01", ["02", "03"]),
        ("2010-04", ["04", "05"]),
    ]
    gaps = pd.to_datetime(["2010-01-01", "2010-05-01", "2010-06-01"])  # a resumed remainder
    assert [[f"{o:%m}" for o in group] for _, group in blocks(gaps, 3)] == [["01"], ["05", "06"]]
    assert [f"{fit:%Y-%m}" for fit, _ in blocks(parse_origins("2019-11:2020-02"), 12)] == [
        "2019-01",
        "2020-01",
    ]


def test_history_reads_the_known_facts(history):
    """Month-max spreads and month-end levels of the data README's known facts."""
    sep_2019 = history.values.loc["2019-09-01"]
    assert sep_2019["spread_max"] == pytest.approx(315.0)  # SOFR 5.25 vs IOER 2.10, 2019-09-17
    assert history.spread_source["2019-09-01"] == "SOFR"
    assert history.spread_source["2012-06-01"] == "EFFR"  # before SOFR: EFFR − IOER
    assert history.values.loc["2025-10-01", "spread_max"] == pytest.approx(32.0)
    assert history.values.loc["2025-12-01", "tga_eom"] == pytest.approx(872.853)
    assert np.isfinite(history.values.loc["2015-06-01", "tga_eom"])  # weekly WDTGAL then
    assert history.tiers.loc["2019-09-01", "crisis"] == 1
    assert history.tiers.loc["2014-06-01", "tight"] == 0


def test_realized_purchases_from_walcl(history):
    months = target_months(pd.Timestamp("2020-03-01"), 3)
    regime = realized_purchases(history, months)
    change = history.fed_change_bn
    assert regime["pace_bn"] == round(change["2020-03-01"], 2)
    assert regime["then_pace_bn"] == round(change[["2020-04-01", "2020-05-01"]].mean(), 2)
    assert regime["switch_after_months"] == 1
    assert regime["pace_bn"] > 1_000  # March 2020: the balance sheet grew by over $1T


def test_baselines_use_only_months_before_the_origin(history):
    origin = pd.Timestamp("2019-10-01")
    known = history.before(origin)
    assert known.values.index[-1] == pd.Timestamp("2019-09-01")
    clim = baseline_forecast(known, "climatology", 2)
    pers = baseline_forecast(known, "persistence", 2)
    spreads = known.values["spread_max"].dropna()
    assert np.array_equal(clim["members"]["spread_max"][1], spreads.to_numpy())
    assert np.array_equal(pers["members"]["spread_max"][0], spreads.iloc[-3:].to_numpy())
    last3 = known.tiers.iloc[-PERSISTENCE_MONTHS:]["crisis"].astype(float).mean()
    assert pers["probability"]["crisis"][0] == pytest.approx(last3)  # Sep 2019 among them
    assert clim["probability"]["crisis"][0] == pytest.approx(
        known.tiers["crisis"].astype("Float64").mean()
    )


def _change_after(folder: Path, origin: pd.Timestamp, keep: tuple[str, ...] = ()) -> None:
    """Change every observation dated on or after ``origin`` in every CSV of ``folder`` (other
    than ``keep``): FRED files' values × 1.37 + 0.5, the DTS file's balances × 1.37."""
    for path in sorted(folder.glob("*.csv")):
        if path.name in keep:
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        date_col = "Record Date" if "Record Date" in frame else frame.columns[0]
        value_col = "Opening Balance Today" if "Record Date" in frame else frame.columns[1]
        dates = pd.to_datetime(frame[date_col], errors="coerce")
        later = (dates >= origin) & ~frame[value_col].isin(["", "."])
        values = pd.to_numeric(frame.loc[later, value_col])
        shift = 0.0 if "Record Date" in frame else 0.5
        frame.loc[later, value_col] = (values * 1.37 + shift).round(3).astype(str)
        frame.to_csv(path, index=False)


def _same_forecast(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for origin in a:
        fa, fb = a[origin], b[origin]
        assert "error" not in fa, fa
        for variable, members in fa["members"].items():
            np.testing.assert_array_equal(members, fb["members"][variable])
        for tier, p in fa["probability"].items():
            np.testing.assert_array_equal(p, fb["probability"][tier])


@pytest.mark.slow
def test_later_observations_never_reach_a_forecast(tmp_path, history):
    """Every observation dated on or after an origin changed (each file, values and levels):
    the calibrated recipe's forecast from it is bit for bit the same, under a named regime and
    under the realized purchases (whose later WALCL is the declared scenario, kept); in a block
    of origins sharing a calibration, each origin's forecast stands when the data from the
    block's last origin on change."""
    origins = [pd.Timestamp("2010-06-01"), pd.Timestamp("2010-07-01")]  # one block
    recipe = parse_forecaster("calibrated")
    named = ["B", "B"]
    base = forecast_block(recipe, DATA_DIR, origins, 3, named, 300, 7)
    first_only = tmp_path / "first"  # from the first origin on: its forecast stands
    shutil.copytree(DATA_DIR, first_only)
    _change_after(first_only, origins[0])
    _same_forecast(
        {"2010-06": base["2010-06"]},
        forecast_block(recipe, first_only, origins[:1], 3, named[:1], 300, 7),
    )
    changed = tmp_path / "data"  # from the block's last origin on: every forecast stands
    shutil.copytree(DATA_DIR, changed)
    _change_after(changed, origins[-1], keep=("WALCL.csv",))
    _same_forecast(base, forecast_block(recipe, changed, origins, 3, named, 300, 7))

    changed_history = load_history(changed, load_config(MODEL_CONFIG))
    realized = [realized_purchases(history, target_months(o, 3)) for o in origins]
    assert realized == [realized_purchases(changed_history, target_months(o, 3)) for o in origins]
    base = issue_block((recipe,), DATA_DIR, origins, 3, realized, 300, 7)
    again = issue_block((recipe,), changed, origins, 3, realized, 300, 7)
    _same_forecast(
        {o: f["calibrated"] for o, f in base.items()},
        {o: f["calibrated"] for o, f in again.items()},
    )
    later = changed_history.values.loc["2010-07-01":"2010-09-01", "reserves_eom"]
    assert not later.equals(history.values.loc["2010-07-01":"2010-09-01", "reserves_eom"])
    for origin in origins:  # the baselines, too, see only the months before the origin
        for name in ("climatology", "persistence"):
            a = baseline_forecast(history.before(origin), name, 3)
            b = baseline_forecast(changed_history.before(origin), name, 3)
            for variable in a["members"]:
                np.testing.assert_array_equal(a["members"][variable], b["members"][variable])


def _true_model_issue(history, origins, months, rng) -> tuple[dict, pd.DataFrame]:
    """Forecasts whose members are the quantiles of the normal each realized value is drawn
    from: a forecaster that is the true model of the (replaced) realized values."""
    levels = (np.arange(MEMBERS) + 0.5) / MEMBERS
    values = history.values.copy()
    issued = {}
    for origin in origins:
        months_h = target_months(origin, months)
        forecast = {"members": {}, "probability": {}, "n_paths": 1000}
        for variable in values:
            mu = rng.normal(100.0, 30.0, months)
            sigma = rng.uniform(5.0, 20.0, months)
            values.loc[months_h, variable] = rng.normal(mu, sigma)
            forecast["members"][variable] = stats.norm.ppf(
                levels[None, :], mu[:, None], sigma[:, None]
            )
        for tier in EVENT_NAMES:
            forecast["probability"][tier] = np.full(months, 0.5)
        issued[f"{origin:%Y-%m}"] = {"truth": forecast}
    return issued, values


def test_a_true_model_covers_its_bands_at_their_nominal_rate(history):
    """Realized values drawn from the forecasts' own distributions (one origin a year, so the
    6-month horizons do not overlap): the pooled coverage of the 50% and 90% bands is within
    3 binomial standard errors of nominal, and the PIT's mean within 3 of 0.5."""
    rng = np.random.default_rng(20260101)
    origins = parse_origins("2010-01:2025-01:6")
    issued, values = _true_model_issue(history, origins, 6, rng)
    truth = type(history)(
        values, history.spread_source, history.tiers, history.fed_change_bn, history.end
    )
    scored = score_cases(issued, truth, ("truth",), 6)
    table = value_table(scored)
    pooled = table[
        (table.forecaster == "truth") & (table.period == "all") & (table.horizon == "all")
    ]
    for _, row in pooled.iterrows():
        n = row["n"]
        for level in (0.5, 0.9):
            se = np.sqrt(level * (1 - level) / n)
            assert abs(row[f"coverage_{int(level * 100)}"] - level) < 3 * se, row
        assert abs(row["pit_mean"] - 0.5) < 3 * np.sqrt(1 / 12 / n), row


def test_store_refuses_other_settings(tmp_path):
    store = OriginStore(tmp_path / "o", {"paths": 10})
    store.put("2019-01", {"m": {"error": "x"}})
    assert OriginStore(tmp_path / "o", {"paths": 10}).done("2019-01")  # same settings: resumed
    with pytest.raises(EvaluationStoreError, match=r"paths.*--overwrite"):
        OriginStore(tmp_path / "o", {"paths": 20})
    fresh = OriginStore(tmp_path / "o", {"paths": 20}, overwrite=True)
    assert not fresh.done("2019-01")


def test_issued_blocks_add_by_union():
    a, b = Issued({"2019-01": 1}), Issued({"2019-02": 2})
    assert a + b == {"2019-01": 1, "2019-02": 2}
    a += b
    assert a == {"2019-01": 1, "2019-02": 2}


def test_bad_options_exit_2_naming_them(tmp_path, capsys):
    cases = [
        (["--origins", "2019-13"], "--origins"),
        (["--origins", "2030-01:2030-06"], "nothing could be scored"),
        (["no-such.toml"], "neither a recipe"),
        (["--regime", "Z", "--origins", "2019-01"], "--regime Z"),
        (["--data", str(tmp_path / "none")], "no such folder"),
    ]
    for extra, message in cases:
        out = tmp_path / "out"
        assert main(["evaluate", *extra, "--out", str(out), "--quiet"]) == 2
        assert message in capsys.readouterr().err
        assert not out.exists()  # nothing written before the options are checked
    (tmp_path / "file").write_text("x")
    assert main(["evaluate", "--origins", "2019-01", "--out", str(tmp_path / "file")]) == 2
    assert "not a folder" in capsys.readouterr().err


@pytest.mark.slow
def test_evaluate_writes_products_and_resumes(tmp_path, monkeypatch):
    """A fixed config over three origins: every product written, scores present for the model
    and both baselines; a second run issues nothing again."""
    out = tmp_path / "ev"
    options = dict(paths=300, seed=3, processes=False, workers=1, fans=("2019-08",))
    written = evaluate([str(MODEL_CONFIG)], DATA_DIR, "2019-07:2019-09", 3, out, **options)
    assert {p.name for p in written} == {
        "evaluation.json",
        "summary.md",
        "pit.png",
        "reliability.png",
        "coverage.png",
        "fans.png",
    }
    report = json.loads((out / "evaluation.json").read_text())
    names = {r["forecaster"] for r in report["pooled"]["values"]}
    assert names == {"judgement", "climatology", "persistence"}
    crisis = [r for r in report["cases"]["tiers"] if r["tier"] == "crisis" and r["o"] == 1]
    assert {r["month"] for r in crisis} == {"2019-09"}
    assert "judgement" in (out / "summary.md").read_text()
    assert not list(out.glob(".staging-*"))

    calls = []
    monkeypatch.setattr("engine.evaluate.harness.issue_block", lambda *a: calls.append(a))
    evaluate([str(MODEL_CONFIG)], DATA_DIR, "2019-07:2019-09", 3, out, **options)
    assert calls == []  # every origin was already issued


def test_forecaster_identity_follows_the_file(tmp_path):
    path = tmp_path / "c.toml"
    shutil.copy(MODEL_CONFIG, path)
    first = parse_forecaster(str(path)).identity()
    path.write_text(path.read_text() + "\n# a comment\n")
    assert parse_forecaster(str(path)).identity() == first  # the same config
    path.write_text(path.read_text().replace("seed = 20251201", "seed = 20251202"))
    assert parse_forecaster(str(path)).identity() != first
    assert isinstance(parse_forecaster("calibrated"), Forecaster)
    with pytest.raises(InputError):
        parse_forecaster(str(tmp_path / "missing.toml"))


@pytest.mark.slow
def test_the_same_forecasts_on_a_dask_cluster(tmp_path, dask_client):
    """Origins as tasks on a distributed scheduler's worker processes issue the very forecasts
    that local threads issue."""
    options = dict(paths=200, seed=11, refit_every=2, fans=())
    origins = "2018-10:2018-12"
    evaluate(
        [str(MODEL_CONFIG)], DATA_DIR, origins, 2, tmp_path / "local", processes=False, **options
    )
    evaluate(
        [str(MODEL_CONFIG)],
        DATA_DIR,
        origins,
        2,
        tmp_path / "dask",
        scheduler=dask_client,
        **options,
    )
    for month in ("2018-10", "2018-11", "2018-12"):
        local = json.loads((tmp_path / "local" / "origins" / f"{month}.json").read_text())
        remote = json.loads((tmp_path / "dask" / "origins" / f"{month}.json").read_text())
        assert local == remote


def test_recipes_of_one_window_share_one_calibration(monkeypatch):
    """``calibrated`` and ``calibrated-risk`` in one block: one calibration, and the second runs
    it with estimation risk on; ``calibrated-fixed`` (same window, another curve level) makes
    its own."""
    from engine.evaluate import forecast

    made, runs = [], []
    fitted = load_config(SHIPPED_DEFAULT)  # stands in for a calibration (it has fitted blocks)

    def calibrate_once(window, base, data_dir, until, curve_level):
        made.append((window, until, curve_level))
        return fitted, []

    def run(config, data_dir, origin, months, regime, paths, seed):
        runs.append(config.uncertainty.parameters)
        return {"notes": []}

    monkeypatch.setattr(forecast, "calibration", calibrate_once)
    monkeypatch.setattr(forecast, "forecast_origin", run)
    recipes = tuple(
        parse_forecaster(n) for n in ("calibrated", "calibrated-risk", "calibrated-fixed")
    )
    origins = [pd.Timestamp("2019-01-01"), pd.Timestamp("2019-02-01")]
    issued = issue_block(recipes, DATA_DIR, origins, 2, ["B", "B"], 10, 1)
    end = pd.Timestamp("2018-12-31")
    assert [m[1:] for m in made] == [(end, "local"), (end, "fixed")]
    assert runs == [False, False, True, True, False, False]
    assert set(issued["2019-01"]) == {"calibrated", "calibrated-risk", "calibrated-fixed"}
    issue_block(recipes[:1], DATA_DIR, origins, 2, ["B", "B"], 10, 1, pd.Timestamp("2018-10-01"))
    assert made[-1][1] == pd.Timestamp("2018-09-30")  # the block's estimate, dated before it
    with pytest.raises(ValueError, match="after the origin"):
        forecast_block(recipes[0], DATA_DIR, origins, 2, ["B", "B"], 10, 1, None, origins[1])


def test_two_models_are_compared_side_by_side(history):
    from engine.evaluate.summary import markdown, tier_table

    rng = np.random.default_rng(5)
    origins = parse_origins("2012-01:2024-01:12")
    issued, values = _true_model_issue(history, origins, 3, rng)
    for forecasts in issued.values():  # a second model: the truth, twice as wide
        truth = forecasts["truth"]
        wide = {
            v: 2 * (m - np.median(m, axis=1, keepdims=True)) + np.median(m, axis=1, keepdims=True)
            for v, m in truth["members"].items()
        }
        forecasts["wide"] = {**truth, "members": wide}
    truth = type(history)(
        values, history.spread_source, history.tiers, history.fed_change_bn, history.end
    )
    scored = score_cases(issued, truth, ("truth", "wide"), 3)
    table, tiers = value_table(scored), tier_table(scored)
    text = markdown(scored, table, tiers, {"description": "test", "notes": []})
    assert "The models compared" in text
    pooled = table[(table.period == "all") & (table.horizon == "all")].set_index(
        ["variable", "forecaster"]
    )
    for variable in ("spread_max", "reserves_eom", "tga_eom"):  # the truth scores better
        assert pooled.loc[(variable, "truth"), "crps"] < pooled.loc[(variable, "wide"), "crps"]
        assert (
            pooled.loc[(variable, "wide"), "coverage_90"]
            > pooled.loc[(variable, "truth"), "coverage_90"]
        )
