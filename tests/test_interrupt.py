"""Real interruptions: ``rmp-risk run --out run.zarr`` in a subprocess, killed (SIGKILL) or
interrupted (SIGINT) once some tasks are in the store, then ``--resume``: the cube is identical
to an uninterrupted run's, and only the missing tasks run again."""

import signal
import subprocess
import sys
import time

import pytest

from engine.cli import main
from engine.config import load_config
from engine.io import open_cube
from engine.pipeline import simulate
from engine.run import plan_tasks

from .conftest import ROOT, assert_same_cube, tasks_in_store, write_short_config
from .test_store import recorded_tasks

pytestmark = pytest.mark.slow  # compiles and runs the kernels

PATHS, BLOCK = 120_000, 256  # 59 tasks of 8 blocks with one worker: a few seconds
POLL_SECONDS, STARTUP_SECONDS = 0.02, 120


@pytest.fixture(scope="module")
def config_file(tmp_path_factory):
    return write_short_config(tmp_path_factory.mktemp("interrupt") / "run.toml", PATHS, BLOCK)


@pytest.fixture(scope="module")
def reference(config_file):
    return simulate(load_config(config_file), workers=2)


def run_until_tasks_are_saved(config_file, out, stop: signal.Signals, tasks: int = 3):
    command = [
        sys.executable,
        "-m",
        "engine.cli",
        "run",
        str(config_file),
        "--out",
        str(out),
        "--workers",
        "1",
        "--quiet",
    ]
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    while len(tasks_in_store(out)) < tasks:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no task was saved in time"
        time.sleep(POLL_SECONDS)
    proc.send_signal(stop)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def resume_and_count(config_file, out, monkeypatch) -> list:
    calls = recorded_tasks(monkeypatch)
    assert main(["run", str(config_file), "--out", str(out), "--resume", "--quiet"]) == 0
    return calls


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_an_interrupted_cli_run_resumes_to_the_identical_cube(
    config_file, reference, tmp_path, monkeypatch, stop
):
    out = tmp_path / "run.zarr"
    code, err = run_until_tasks_are_saved(config_file, out, stop)
    if stop == signal.SIGKILL:
        assert code == -signal.SIGKILL
    else:
        assert code == 130, err
        assert f"the finished tasks are kept in {out}" in err and "--resume" in err
    saved = len(tasks_in_store(out))
    n_tasks = plan_tasks(PATHS, BLOCK, workers=1).n_tasks  # the plan of the interrupted run
    assert 3 <= saved < n_tasks and not (out / ".zmetadata").exists()
    calls = resume_and_count(config_file, out, monkeypatch)
    assert len(calls) == n_tasks - saved  # nothing saved was run again
    assert_same_cube(open_cube(out), reference)
