"""The command line: a small run end to end, and bad input refused before anything is written."""

import subprocess
import sys

import pytest

from engine.cli import main
from engine.io import open_cube

from .conftest import MODEL_CONFIG, ROOT

pytestmark = pytest.mark.slow  # compiles and runs the kernels


@pytest.fixture
def short_config(tmp_path):
    path = tmp_path / "short.toml"
    path.write_text(
        f'base = "{MODEL_CONFIG}"\n'
        "[simulation]\nhorizon_months = 3  # months\n"
        "n_paths = 400  # paths\nblock_size = 64  # paths\n"
    )
    return path


def test_run_writes_the_cube_and_prints_the_table(short_config, tmp_path, capsys):
    out = tmp_path / "run" / "cube.nc"
    code = main(
        [
            "run",
            str(short_config),
            "--paths",
            "300",
            "--seed",
            "5",
            "--out",
            str(out),
            "--workers",
            "2",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "P(crisis) by month" in captured.out and "mixture" in captured.out
    assert "2026-03" in captured.out and "3 months" in captured.out
    assert "paths/s" in captured.err and "wrote" in captured.err
    ds = open_cube(out)
    assert int(ds.n_paths[0]) == 300 and ds.attrs["seed"] == 5
    assert ds.attrs["history"].endswith("--workers 2")
    assert main(["report", str(out), "--format", "text", "--event", "stress"]) == 0
    assert "P(stress) by month" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "config file not found"),
        ("[simulation\n", "not valid TOML"),
        ('base = "default"\n[simulation]\nn_pathz = 3\n', "simulation.n_pathz: unknown key"),
        ('base = "default"\n[simulation]\nseed = "x"\n', "simulation.seed: expected an integer"),
        ('base = "default"\n[simulation]\nn_paths = -3\n', "simulation.n_paths: must be >= 1"),
    ],
)
def test_bad_config_exits_2_naming_file_and_key(tmp_path, capsys, text, expected):
    config = tmp_path / "bad.toml"
    if text is not None:
        config.write_text(text)
    out = tmp_path / "cube.nc"
    assert main(["run", str(config), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(config) in err[0] and expected in err[0]
    assert not out.exists() and list(tmp_path.iterdir()) == ([config] if text else [])


@pytest.mark.parametrize(
    "args", [["--paths", "-5"], ["--paths", "many"], ["--seed", "-1"], ["--workers", "0"]]
)
def test_bad_options_exit_2(short_config, tmp_path, args, capsys):
    out = tmp_path / "cube.nc"
    with pytest.raises(SystemExit) as info:
        main(["run", str(short_config), "--out", str(out), *args])
    assert info.value.code == 2
    assert args[0] in capsys.readouterr().err
    assert not out.exists()


def test_bad_output_and_event_exit_2(short_config, tmp_path, capsys):
    assert main(["run", str(short_config), "--out", str(tmp_path / "cube.csv")]) == 2
    assert main(["run", str(short_config), "--out", str(tmp_path / "c.nc"), "--event", "x"]) == 2
    assert main(["report", str(tmp_path / "missing.nc")]) == 2
    assert list(tmp_path.iterdir()) == [short_config]


@pytest.mark.parametrize(
    ("out", "args", "expected"),
    [
        ("/proc/rmp-risk/cube.nc", [], "--out /proc/rmp-risk/cube.nc: cannot write there"),
        ("/proc/rmp-risk/run.zarr", [], "--out /proc/rmp-risk/run.zarr: cannot write there"),
        ("{tmp}/folder.nc", [], "is a directory"),
        ("{tmp}/cube.nc", ["--seed", str(2**70)], "--seed: must be <= 9223372036854775807"),
        ("{tmp}/cube.nc", ["--paths", str(10**15)], "--paths: must be <= 1000000000"),
    ],
)
def test_bad_output_or_sizes_refused_before_any_path(
    short_config, tmp_path, capsys, monkeypatch, out, args, expected
):
    """One line, exit 2, before the kernel runs (nothing simulated, no banner first)."""
    (tmp_path / "folder.nc").mkdir()
    monkeypatch.setattr("engine.pipeline.simulate", _never)
    code = main(["run", str(short_config), "--out", out.format(tmp=tmp_path), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and expected in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.nc", short_config.name]


def _never(*args, **kwargs):
    raise AssertionError("simulated before the output was checked")


def test_notes_come_after_the_checks_and_before_the_run(tmp_path, capsys):
    config = tmp_path / "weights.toml"
    config.write_text(
        f'base = "{MODEL_CONFIG}"\n[simulation]\nhorizon_months = 1\n'
        "[regimes.A]\nweight = 0.8  # 1\n"
    )
    assert (
        main(["run", str(config), "--paths", "32", "--out", str(tmp_path / "c.nc"), "--quiet"]) == 0
    )
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("rmp-risk ") and "sum to 1.4: they are divided by it" in err[1]


def test_help_and_import_compile_nothing():
    code = (
        "import sys, engine\n"
        "from engine.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('numba', 'dask', 'xarray') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert "HEAVY []" in result.stdout and "rmp-risk" in result.stdout


def test_console_script_is_installed():
    result = subprocess.run(["rmp-risk", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("rmp-risk ")
