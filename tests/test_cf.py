"""CF conventions: the IOOS compliance checker (cf:1.11) finds no high- or medium-priority
failure in a cube (plain or conditional) or a sweep as the engine writes them."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import RareEvents
from engine.decisions.sweep import sweep
from engine.io import open_cube, write_cube
from engine.pipeline import simulate

from .conftest import small

pytestmark = pytest.mark.slow  # compiles and runs the kernels

CHECKER = Path(sys.executable).parent / "compliance-checker"  # installed with the dev extras


def cf_report(path: Path) -> dict:
    """The checker's cf:1.11 result for ``path`` (it exits non-zero on any finding: the JSON
    counts are what matter)."""
    done = subprocess.run(
        [str(CHECKER), "--test=cf:1.11", "-f", "json", "-o", "-", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return json.loads(done.stdout)["cf:1.11"]


def failures(report: dict, priority: str) -> list:
    return [
        (c["name"], c["msgs"])
        for c in report[f"{priority}_priorities"]
        if c["value"][0] < c["value"][1]
    ]


@pytest.fixture(scope="module")
def short(model_config):
    return small(model_config, months=3, paths=256, block=128)


@pytest.mark.parametrize("kind", ["cube", "conditional", "sweep"])
def test_no_high_or_medium_cf_failures(short, tmp_path, kind):
    if kind == "sweep":
        ds = sweep(short, [0.0, 40.0], seed=1, command="rmp-risk sweep")
    else:
        rare = RareEvents("conditional", "crisis") if kind == "conditional" else RareEvents()
        config = dataclasses.replace(short, rare_events=rare)
        ds = simulate(config, seed=1, command="rmp-risk run")
    path = write_cube(ds, tmp_path / f"{kind}.nc")
    report = cf_report(path)
    assert report["high_count"] == 0, failures(report, "high")
    assert report["medium_count"] == 0, failures(report, "medium")
    assert report["scored_points"] == report["possible_points"]
    back = open_cube(path)  # the file's CF order (time last) reads back in the engine's order
    for name in ("reserves_eom", "conditional_sum"):
        if name in ds:
            assert back[name].dims == ds[name].dims
            assert (back[name].values == ds[name].values).all()
