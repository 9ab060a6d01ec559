"""Hostile input, drawn by hypothesis: mutated configs, damaged cubes, stores and data files.

Each case either runs to a result whose counts add up to its paths (and, for a damaged file,
whose numbers are those of the undamaged file), or exits with status 2 and one line; never a
traceback, never exit 0 with broken numbers.
"""

import contextlib
import io
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.calibrate.market import load_market_data
from engine.cli import main
from engine.cube import accumulators_from_cube
from engine.errors import InputError
from engine.io import open_cube, write_cube
from engine.pipeline import simulate

from .conftest import MODEL_CONFIG, small

pytestmark = pytest.mark.slow  # compiles and runs the kernels

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
BAD_VALUES = (
    "nan",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "1e-308",
    "-1",
    "0",
    "2147483648000",
    '"x"',
    "true",
    "[1, 2, 3]",
    "[]",
    "{ a = 1 }",
    "2026-13-01",
    '""',
)
ASSIGNMENT = re.compile(r"^(\s*[A-Za-z_][\w]*\s*=\s*)(.+?)(\s*#.*)?$")


def short_config_text() -> str:
    """The judgement config, standalone, two months long."""
    text = MODEL_CONFIG.read_text()
    return re.sub(r"(?m)^horizon_months = \d+", "horizon_months = 2", text)


CONFIG_LINES = short_config_text().splitlines()
VALUE_LINES = [i for i, line in enumerate(CONFIG_LINES) if ASSIGNMENT.match(line)]


def one_line_error(capsys) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rmp-risk: error: "), err
    assert "Traceback" not in err[0]


@SETTINGS
@given(
    line=st.sampled_from(VALUE_LINES),
    how=st.sampled_from(["value", "delete", "unknown"]),
    value=st.sampled_from(BAD_VALUES),
)
def test_a_mutated_config_runs_to_sound_counts_or_exits_2(
    tmp_path_factory, capsys, line, how, value
):
    lines = list(CONFIG_LINES)
    head, _, comment = ASSIGNMENT.match(lines[line]).groups()
    if how == "value":
        lines[line] = f"{head}{value}{comment or ''}"
    elif how == "delete":
        del lines[line]
    else:
        lines.insert(line, "surprise_key = 1")
    folder = tmp_path_factory.mktemp("mutant")
    path, out = folder / "mutant.toml", folder / "cube.nc"
    path.write_text("\n".join(lines) + "\n")
    capsys.readouterr()  # what earlier examples printed
    code = main(["run", str(path), "--paths", "48", "--out", str(out), "--quiet", "--workers", "1"])
    if code == 2:
        one_line_error(capsys)
        assert not out.exists()
    else:
        assert code == 0
        accumulators_from_cube(open_cube(out)).check()


@pytest.fixture(scope="module")
def cube_file(model_config, tmp_path_factory):
    ds = simulate(small(model_config, months=2, paths=128, block=64), seed=3)
    return write_cube(ds, tmp_path_factory.mktemp("cube") / "cube.nc")


@pytest.fixture(scope="module")
def cube_report(cube_file) -> str:
    """The text report of the undamaged cube, made once: no example changes that file."""
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(["report", str(cube_file), "--format", "text"]) == 0
    return out.getvalue()


@SETTINGS
@given(data=st.data())
def test_a_damaged_cube_reads_as_before_or_exits_2(
    cube_file, cube_report, tmp_path_factory, capsys, data
):
    raw = cube_file.read_bytes()
    how = data.draw(st.sampled_from(["flip", "truncate", "zero"]))
    at = data.draw(st.integers(0, len(raw) - 1))
    if how == "flip":
        damaged = raw[:at] + bytes([raw[at] ^ data.draw(st.integers(1, 255))]) + raw[at + 1 :]
    elif how == "truncate":
        damaged = raw[:at]
    else:
        damaged = raw[:at] + bytes(min(64, len(raw) - at)) + raw[at + 64 :]
    folder = tmp_path_factory.mktemp("damaged")
    path = folder / "cube.nc"
    path.write_bytes(damaged)
    capsys.readouterr()
    code = main(["report", str(path), "--format", "text"])
    if code == 2:
        one_line_error(capsys)
    else:
        assert code == 0 and capsys.readouterr().out == cube_report  # untouched numbers
    code = main(["merge", str(path), str(cube_file), "--out", str(folder / "merged.nc")])
    if code == 2:
        one_line_error(capsys)
        assert not (folder / "merged.nc").exists()
    else:
        assert code == 0
        merged = accumulators_from_cube(open_cube(folder / "merged.nc"))
        merged.check()


@pytest.fixture(scope="module")
def store_run(model_config, tmp_path_factory):
    config = small(model_config, months=2, paths=256, block=64)
    out = tmp_path_factory.mktemp("store") / "run.zarr"
    reference = simulate(config, store=out, task_blocks=1, workers=1)
    return config, out, accumulators_from_cube(reference)


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_damaged_store_resumes_to_the_same_counts_or_is_refused(
    store_run, tmp_path_factory, data
):
    config, original, reference = store_run
    out = tmp_path_factory.mktemp("resume") / "run.zarr"
    shutil.copytree(original, out)
    (out / ".zmetadata").unlink()  # an unfinished run: the resume reads its progress
    files = sorted(p for p in (out / "progress").rglob("*") if p.is_file())
    target = data.draw(st.sampled_from(files))
    raw = target.read_bytes()
    if raw:
        at = data.draw(st.integers(0, len(raw) - 1))
        target.write_bytes(raw[:at] + bytes([raw[at] ^ 0x5A]) + raw[at + 1 :])
    else:
        target.write_bytes(b"\x00")
    try:
        cube = simulate(config, store=out, resume=True, workers=1)
    except InputError as err:
        assert "\n" not in str(err) and str(out) in str(err)
        return
    assert accumulators_from_cube(cube).equals(reference)


DATA_FILES = (
    "SOFR.csv",
    "IORB.csv",
    "WRESBAL.csv",
    "RRPONTSYD.csv",
    "WALCL.csv",
    "EFFR.csv",
    "IOER.csv",
    "WCURCIR.csv",
    "RPONTTLD.csv",
)


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=st.sampled_from(DATA_FILES), data=st.data())
def test_a_damaged_data_file_reads_or_is_refused_naming_it(tmp_path_factory, name, data):
    from engine.calibrate.readers import DATA_DIR

    folder = tmp_path_factory.mktemp("data")
    for path in DATA_DIR.iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    raw = (folder / name).read_bytes()
    at = data.draw(st.integers(0, len(raw) - 1))
    junk = data.draw(st.sampled_from([b"\xff", b",", b"\n", b"x", b"-", b"9e99", b"\x00"]))
    (folder / name).write_bytes(raw[:at] + junk + raw[at + 1 :])
    try:
        market = load_market_data(folder, until=pd.Timestamp("2025-12-31"))
    except InputError as err:
        assert name in str(err) and "\n" not in str(err)
        return
    for field in ("spread_bp", "reserves_bn", "on_rrp_bn", "currency_bn", "srf_bn"):
        series = getattr(market, field)
        assert series is None or np.isfinite(series.to_numpy()).all()
