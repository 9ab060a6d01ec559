"""Merging cubes of one config run with different seeds: counts and histograms add exactly, and
everything else is derived again; cubes of different configs, or sharing a seed, are refused."""

import numpy as np
import pytest

from engine.cli import main
from engine.config import from_json
from engine.cube import accumulators_from_cube, build_cube
from engine.io import open_cube
from engine.merge import MergeError, merge_cubes
from engine.pipeline import simulate
from engine.schedule import build_schedule

from .conftest import assert_same_cube, small, tweak, write_short_config

pytestmark = pytest.mark.slow  # compiles and runs the kernels


@pytest.fixture(scope="module")
def short(model_config):
    return small(model_config, months=3, paths=300, block=64)


@pytest.fixture(scope="module")
def cubes(short):
    return [simulate(short, seed=1), simulate(short, paths=500, seed=2), simulate(short, seed=3)]


def without(ds, *keys):
    return ds.drop_attrs(deep=False).assign_attrs(
        {k: v for k, v in ds.attrs.items() if k not in keys}
    )


def test_merge_adds_every_count_and_histogram(cubes):
    a, b, _ = cubes
    merged = merge_cubes([a, b])
    for name in merged.data_vars:
        if name == "n_paths" or name.endswith(("_count", "_histogram")):
            np.testing.assert_array_equal(merged[name], a[name] + b[name], err_msg=name)
    assert (merged.n_paths == 800).all()
    total = accumulators_from_cube(a) + accumulators_from_cube(b)
    config = from_json(a.attrs["config_json"]).with_overrides(paths=800)
    fresh = build_cube(total, config, build_schedule(config))
    assert_same_cube(without(merged, "merged_seeds", "merged_n_paths", "merged_from"), fresh)
    np.testing.assert_array_equal(merged.event_probability, merged.event_count / 800)
    assert list(merged.attrs["merged_seeds"]) == [1, 2]
    assert list(merged.attrs["merged_n_paths"]) == [300, 500]


def test_merge_in_any_grouping_gives_the_same_cube(cubes):
    a, b, c = cubes
    once = without(merge_cubes([a, b, c]), "merged_from")
    assert_same_cube(without(merge_cubes([merge_cubes([a, b]), c]), "merged_from"), once)
    assert_same_cube(merge_cubes([c, merge_cubes([b, a])]).drop_attrs(), once.drop_attrs())
    assert list(merge_cubes([merge_cubes([a, b]), c]).attrs["merged_seeds"]) == [1, 2, 3]


def test_merge_refuses_cubes_of_another_config(short, cubes):
    other = simulate(tweak(short, **{"spread.jump_p0": 0.5}), seed=4)
    with pytest.raises(MergeError, match=r"cube 2: cannot merge with cube 1: config key spread\."):
        merge_cubes([cubes[0], other])
    blocks = simulate(small(short, months=3, paths=300, block=32), seed=4)
    with pytest.raises(MergeError, match=r"simulation\.block_size differs"):
        merge_cubes([cubes[0], blocks], ["a.nc", "b.nc"])
    with pytest.raises(MergeError, match=r"seed 1 is also the seed of a\.nc"):
        merge_cubes([cubes[0], merge_cubes([cubes[1], cubes[0]])], ["a.nc", "ab.nc"])


def test_merge_on_the_command_line(tmp_path, capsys):
    config = write_short_config(tmp_path / "a.toml", paths=200)
    for seed in (1, 2):
        out = tmp_path / f"s{seed}.nc"
        assert main(["run", str(config), "--seed", str(seed), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    merged = tmp_path / "m.zarr"
    assert (
        main(["merge", str(tmp_path / "s1.nc"), str(tmp_path / "s2.nc"), "--out", str(merged)]) == 0
    )
    assert "400 paths per regime, seeds 1, 2" in capsys.readouterr().out
    cube = open_cube(merged)
    np.testing.assert_array_equal(
        cube.event_count,
        open_cube(tmp_path / "s1.nc").event_count + open_cube(tmp_path / "s2.nc").event_count,
    )
    assert cube.attrs["history"].endswith(f"--out {merged}")

    other = write_short_config(tmp_path / "b.toml", paths=200, months=2)
    s3 = tmp_path / "s3.nc"
    assert main(["run", str(other), "--seed", "3", "--out", str(s3), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["merge", str(tmp_path / "s1.nc"), str(s3), "--out", str(tmp_path / "x.nc")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"rmp-risk: error: {tmp_path / 's3.nc'}: cannot merge with "
        f"{tmp_path / 's1.nc'}: config key simulation.horizon_months differs "
        f"({tmp_path / 's1.nc'}: 3, {tmp_path / 's3.nc'}: 2)"
    ]
    assert not (tmp_path / "x.nc").exists()
    assert main(["merge", str(tmp_path / "s1.nc"), str(tmp_path / "no.nc"), "--out", "y.nc"]) == 2
