"""The cube: derived statistics, schema, units and the NetCDF round trip."""

import math

import numpy as np
import pytest
import xarray as xr

from engine.cube import VARIABLES, histogram_quantiles, mixture, wilson_interval
from engine.cube_conditional import VARIABLE_NAMES as CONDITIONAL_VARIABLES
from engine.io import OutputError, open_cube, write_cube
from engine.kernels import layout as L
from engine.pipeline import simulate

from .conftest import small


@pytest.fixture(scope="module")
def cube(model_config):
    return simulate(small(model_config, months=6, paths=600), workers=1)


def test_histogram_quantiles_match_numpy_within_a_bin():
    rng = np.random.default_rng(0)
    values = rng.normal(100.0, 15.0, 20_000)
    low, width, n_bins = 0.0, 0.5, 400
    position = (values - low) / width
    bins = np.clip(np.floor(position).astype(int) + 1, 0, n_bins + 1)
    hist = np.bincount(bins, minlength=n_bins + 2)
    qs = [0.05, 0.25, 0.5, 0.75, 0.95]
    got = histogram_quantiles(hist, low, width, qs)
    np.testing.assert_allclose(got, np.quantile(values, qs), atol=width)


def test_histogram_quantiles_clip_to_the_grid_and_handle_empty_rows():
    hist = np.zeros((2, 6), dtype=np.int64)
    hist[0, 0] = 5  # all below the grid
    got = histogram_quantiles(hist, 10.0, 1.0, [0.5])
    assert got[0, 0] == 10.0 and math.isnan(got[1, 0])
    hist[0] = 0
    hist[0, -1] = 5  # all above
    assert histogram_quantiles(hist, 10.0, 1.0, [0.5])[0, 0] == 14.0


def test_wilson_interval_known_values():
    lower, upper = wilson_interval(np.array([0, 50]), np.array([100, 100]))
    z2 = 1.959963984540054**2
    assert lower[0] == pytest.approx(0.0, abs=1e-15) and upper[0] == pytest.approx(z2 / (100 + z2))
    assert lower[1] == pytest.approx(0.4038, abs=1e-4) and upper[1] == pytest.approx(
        0.5962, abs=1e-4
    )


def test_mixture_stderr_equals_the_per_path_standard_error():
    rng = np.random.default_rng(1)
    n = 5000
    shared = rng.random(n)
    indicators = shared[:, None] < np.array([0.1, 0.2, 0.3])  # strongly dependent regimes
    ones = indicators.astype(np.int64)
    joint = np.einsum("nr,nq->rq", ones, ones)[..., None, None]
    weights = np.array([0.5, 0.3, 0.2])
    p_mix, se = mixture(joint, n, weights)
    per_path = indicators @ weights
    assert p_mix[0, 0] == pytest.approx(per_path.mean(), rel=1e-12)
    assert se[0, 0] == pytest.approx(per_path.std() / math.sqrt(n), rel=1e-9)


@pytest.mark.slow  # the kernel makes the cube
def test_schema_units_and_names(cube):
    assert set(cube.dims) == {"regime", "other_regime", "event", "time", "quantile", "bin"}
    assert list(cube.event.values) == list(L.EVENT_NAMES)
    assert list(cube.regime.values) == ["A", "B", "C", "D"]
    assert cube.time.dtype.kind == "M" and str(cube.time.values[0])[:10] == "2026-01-01"
    assert list(cube.horizon.values) == list(range(1, 7))
    assert list(cube["quantile"].values) == [0.05, 0.25, 0.5, 0.75, 0.95]
    for name, spec in VARIABLES.items():
        if name in CONDITIONAL_VARIABLES:  # only with [rare_events] (tests/test_rare_events.py)
            assert name not in cube, name
            continue
        assert name in cube, name
        assert cube[name].dims == spec.dims
        assert cube[name].attrs["units"] and cube[name].attrs["long_name"]
    for name in ("n_paths", "event_count", "first_event_count", "joint_event_count"):
        assert cube[name].dtype == np.int64
    for key in (
        "Conventions",
        "title",
        "source",
        "history",
        "config_json",
        "config_sha256",
        "seed",
        "n_paths",
        "block_size",
    ):
        assert key in cube.attrs
    assert cube.attrs["n_paths"] == 600 and cube.attrs["source"].startswith("rmp-risk ")
    assert "mixture_event_probability" in cube and np.isnan(cube.weight.sel(regime="D"))


@pytest.mark.slow  # the kernel makes the cube
def test_probabilities_are_consistent(cube):
    p = cube.event_probability
    assert ((p >= 0) & (p <= 1)).all()
    assert (cube.event_probability_lower <= p).all() and (p <= cube.event_probability_upper).all()
    cum = cube.cumulative_event_probability
    assert (cum.diff("time") >= 0).all() and (cum >= p - 1e-15).all() and (cum <= 1).all()
    diag = np.einsum("rrem->rem", cube.joint_event_count.values)
    assert np.array_equal(diag, cube.event_count.values)
    diag_cum = np.einsum("rrem->rem", cube.joint_cumulative_count.values)
    assert np.array_equal(diag_cum, cube.first_event_count.cumsum("time").values)
    q = cube.reserves_eom
    assert (q.diff("quantile") >= 0).all()
    assert (cube.srf_max >= 0).all()
    w = cube.weight.values[:3] / np.nansum(cube.weight.values)
    expected = np.einsum("r,ret->et", w, p.values[:3])
    np.testing.assert_allclose(cube.mixture_event_probability.values, expected, rtol=1e-12)
    assert (cube.mixture_event_probability_stderr >= 0).all()
    for v in L.HIST_NAMES:
        assert (cube[f"{v}_histogram"].sum("bin") == 600).all()


@pytest.mark.slow  # the kernel makes the cube
def test_netcdf_round_trip(cube, tmp_path):
    path = write_cube(cube, tmp_path / "sub" / "cube.nc")
    back = open_cube(path)
    xr.testing.assert_identical(back.drop_attrs(), cube.drop_attrs())
    for key, value in cube.attrs.items():
        assert back.attrs[key] == value, key
    assert not list(path.parent.glob(".*partial*"))


@pytest.mark.slow  # the kernel makes the cube
def test_failed_write_leaves_nothing(cube, tmp_path, monkeypatch):
    def broken(self, path, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    with pytest.raises(OSError, match="disk full"):
        write_cube(cube, tmp_path / "cube.nc")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # the kernel makes the cube
def test_unsupported_output(cube, tmp_path):
    with pytest.raises(OutputError, match="unsupported"):
        write_cube(cube, tmp_path / "cube.csv")
