"""CF conventions: the IOOS compliance checker (cf:1.11) finds no high- or medium-priority
failure in a cube or a sweep as the engine writes them."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("kind", ["cube", "sweep"])
def test_no_high_or_medium_cf_failures(short, tmp_path, kind):
    ds = (
        simulate(short, seed=1, command="rmp-risk run")
        if kind == "cube"
        else sweep(short, [0.0, 40.0], seed=1, command="rmp-risk sweep")
    )
    path = write_cube(ds, tmp_path / f"{kind}.nc")
    report = cf_report(path)
    assert report["high_count"] == 0, failures(report, "high")
    assert report["medium_count"] == 0, failures(report, "medium")
    assert report["scored_points"] == report["possible_points"]
    back = open_cube(path)  # the file's CF order (time last) reads back in the engine's order
    assert back.reserves_eom.dims == ds.reserves_eom.dims
    assert (back.reserves_eom.values == ds.reserves_eom.values).all()
