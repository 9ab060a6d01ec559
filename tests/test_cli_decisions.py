"""The decision commands end to end on a short config, and their bad input refused before any
path runs: one line, exit status 2, nothing written."""

import html.parser

import pytest

from engine.cli import main
from engine.io import open_cube
from engine.products import REQUIRED_PACE, SENSITIVITY, SWEEP, product_of

from .conftest import MODEL_CONFIG

pytestmark = pytest.mark.slow  # compiles and runs the kernels


@pytest.fixture
def short_config(tmp_path):
    path = tmp_path / "short.toml"
    path.write_text(
        f'base = "{MODEL_CONFIG}"\n'
        "[simulation]\nhorizon_months = 4  # months\n"
        "n_paths = 512  # paths\nblock_size = 128  # paths\n"
    )
    return path


def test_sweep_search_sensitivity_and_their_report(short_config, tmp_path, capsys):
    out = tmp_path / "out"
    common = ["--event", "tight", "--seed", "3", "--quiet"]
    assert (
        main(
            [
                "sweep",
                str(short_config),
                "--pace",
                "0:60:30",
                "--out",
                str(out / "sweep.nc"),
                *common,
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "P(tight within 4 months) by constant pace" in text and "± paired s.e." in text
    assert (
        main(
            [
                "required-pace",
                str(short_config),
                "--alpha",
                "0.5",
                "--within",
                "2",
                "--range",
                "0:80",
                "--tolerance",
                "2",
                "--out",
                str(out / "pace.nc"),
                *common,
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "P(tight within 2 months) <= 50%" in text
    assert (
        main(
            [
                "sensitivity",
                str(short_config),
                "--vary",
                "demand_curve.x0=0.10:0.12",
                "--out",
                str(out / "sens.nc"),
                *common,
            ]
        )
        == 0
    )
    assert "demand_curve.x0" in capsys.readouterr().out
    kinds = [product_of(open_cube(out / name)) for name in ("sweep.nc", "pace.nc", "sens.nc")]
    assert kinds == [SWEEP, REQUIRED_PACE, SENSITIVITY]
    assert {p.name for p in out.glob("*.png")} == {"sweep.png", "pace.png", "sens.png"}
    report = tmp_path / "report"
    files = [str(out / n) for n in ("sweep.nc", "pace.nc", "sens.nc")]
    assert main(["merge", files[0], files[0], "--out", str(tmp_path / "m.nc")]) == 2
    assert "merge takes run cubes only" in capsys.readouterr().err
    assert main(["report", *files, "--out", str(report)]) == 0
    page = (report / "index.html").read_text()
    html.parser.HTMLParser().feed(page)
    assert "Pace sweep" in page and "Required pace" in page and "Sensitivity" in page


def test_run_prints_the_report_command(short_config, tmp_path, capsys):
    out = tmp_path / "cube.nc"
    assert main(["run", str(short_config), "--paths", "128", "--out", str(out), "--quiet"]) == 0
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line == f"pictures: rmp-risk report {out} --out {tmp_path / 'report'}"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["sweep", "--pace", "0:80"], "--pace 0:80: expected LOW:HIGH:STEP"),
        (["sweep", "--pace", "0:80:10", "--regime", "Z"], "--regime Z: no such regime"),
        (["sweep", "--pace", "0:80:10", "--event", "panic"], "--event panic: unknown event"),
        (["sweep", "--pace", "0:80:10", "--within", "9"], "--within 9: must be 1 to the horizon"),
        (["required-pace", "--alpha", "1.5"], "--alpha 1.5: must be between 0 and 1"),
        (["required-pace", "--range", "50:10"], "--range 50:10: needs LOW < HIGH"),
        (["required-pace", "--tolerance", "0"], "--tolerance 0: must be positive"),
        (["required-pace", "--out", "x.zarr"], "use a netcdf path"),
        (["sensitivity", "--vary", "demand_curve.knee=1:2"], "no such config key"),
        (["sensitivity", "--vary", "demand_curve.x0=0.5:1.5"], "demand_curve.x0"),
        (["sensitivity", "--regime", "Z"], "--regime Z: no such regime"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    short_config, tmp_path, capsys, args, expected
):
    out = tmp_path / "new" / "result.nc"
    argv = [args[0], str(short_config), *args[1:]]
    if "--out" not in args:
        argv += ["--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not (tmp_path / "new").exists()


def test_an_output_that_is_a_directory_is_refused_before_any_path(short_config, tmp_path, capsys):
    (tmp_path / "x.nc").mkdir()
    assert (
        main(["sweep", str(short_config), "--pace", "0:80:10", "--out", str(tmp_path / "x.nc")])
        == 2
    )
    assert "is a directory" in capsys.readouterr().err


def test_report_refuses_what_is_not_a_result(tmp_path, capsys):
    text = tmp_path / "notes.nc"
    text.write_text("not a cube")
    assert main(["report", str(text), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a readable NetCDF-4 file" in err[0]
    assert main(["report", str(tmp_path / "missing.nc")]) == 2
    assert not (tmp_path / "r").exists()
