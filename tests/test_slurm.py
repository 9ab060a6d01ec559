"""The batch-queue path on a real SLURM: a single node brought up for the session
(``tests/slurm_fixture.py``), runs submitted with dask-jobqueue's real ``sbatch``.

Where SLURM cannot run (not root, the packages not installed) every test here is skipped with
the reason; with ``RMP_RISK_REQUIRE_SLURM=1`` (set by ``.ci/run`` once it has installed the
packages) that is a failure instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from engine.cli import main
from engine.config import load_config
from engine.io import open_cube
from engine.pipeline import simulate

from . import slurm_fixture
from .conftest import ROOT, assert_same_cube, tasks_in_store, write_short_config

pytestmark = pytest.mark.slow  # the jobs' workers compile and run the kernels

REQUIRE_ENV = "RMP_RISK_REQUIRE_SLURM"
SEED = 3
PATHS = 20_000  # the run: 1 or 2 jobs of 1 core
LONG_PATHS = 60_000  # a run that lasts long enough to be interrupted after its first tasks
RUN_TIMEOUT = 240  # seconds a run through the queue may take here (2 shared cores)
SUBMIT_BOUND = 60  # seconds within which a rejected submission must have ended the run
ENDED_BOUND = 60  # seconds within which a run must end once its last job has ended
WALLTIME = "00:01:00"  # SLURM's smallest time limit
# SLURM looks at time limits every 30 s and sends SIGKILL KillWait after SIGTERM: a job with
# a one-minute limit has ended 60 to 90 s after it started, plus KillWait.
WALLTIME_BOUND = 60 + 30 + slurm_fixture.KILL_WAIT + ENDED_BOUND
POLL = 0.2  # seconds between looks at a run
SHIPPED_SLURM = ROOT / "configs" / "cluster" / "slurm.yaml"


@pytest.fixture(scope="session")
def slurm_node():
    """A single-node SLURM for the session, stopped afterwards by the daemons' pid files;
    nothing of it may be left running."""
    reason = slurm_fixture.unavailable()
    if reason is None:
        try:
            node = slurm_fixture.start()
        except slurm_fixture.SlurmUnavailable as err:
            reason = f"a single-node SLURM did not start: {err}"
    if reason is not None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
        pytest.skip(reason)
    try:
        yield node
    finally:
        problems = slurm_fixture.stop(node)
        left = slurm_fixture.leftovers(node)
        slurm_fixture.remove(node)
    assert not problems and not left, f"SLURM teardown: {problems}; still running: {left}"


@pytest.fixture
def slurm(slurm_node, monkeypatch, worker_kernel_cache):
    """The session's SLURM, with SLURM_CONF pointing the engine's sbatch, squeue and scancel
    at it for this test only; its jobs (which inherit this environment) share the session's
    kernel cache, so that only the first of them compiles the kernels."""
    monkeypatch.setenv("SLURM_CONF", str(slurm_node.conf))
    for name, value in worker_kernel_cache.items():
        monkeypatch.setenv(name, value)
    return slurm_node


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    return write_short_config(tmp_path_factory.mktemp("slurm") / "run.toml")


_LOCAL: dict[int, object] = {}


def local_cube(config: Path, paths: int):
    """The cube of a local run (2 threads), once per number of paths."""
    if paths not in _LOCAL:
        _LOCAL[paths] = simulate(load_config(config), paths=paths, seed=SEED, workers=2)
    return _LOCAL[paths]


def cluster_file(tmp_path: Path, name: str = "slurm.yaml", **changes) -> Path:
    """The shipped SLURM file with one core and 4 GB per job, workers' files under
    ``tmp_path`` and the scheduler on 127.0.0.1; ``changes`` override any option."""
    options = yaml.safe_load(SHIPPED_SLURM.read_text())
    small = {
        "cores": 1,
        "memory": "4GB",
        "local_directory": str(tmp_path / "work"),
        "log_directory": str(tmp_path / "jobs"),
        "scheduler_options": {"host": "127.0.0.1"},
    }
    options["jobqueue"]["slurm"].update({**small, **changes})
    path = tmp_path / name
    path.write_text(yaml.safe_dump(options))
    return path


def run_args(config: Path, cluster: Path, jobs: int, out: Path, paths: int = PATHS) -> list[str]:
    return [
        "run",
        str(config),
        "--paths",
        str(paths),
        "--seed",
        str(SEED),
        "--cluster",
        str(cluster),
        "--jobs",
        str(jobs),
        "--out",
        str(out),
    ]


@contextmanager
def cli_run(args: list[str], tmp_path: Path, slurm) -> Iterator[subprocess.Popen]:
    """``rmp-risk`` in a session of its own (so that SIGINT reaches it), stderr to a file; if
    the test fails while it runs, it is killed and its jobs cancelled."""
    with open(tmp_path / "stderr.txt", "w") as err:  # the child keeps its own copy
        run = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
            cwd=tmp_path,
        )
    try:
        yield run
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
            slurm.cancel_all()


def stderr_of(tmp_path: Path) -> str:
    return (tmp_path / "stderr.txt").read_text()


def wait_until(condition, timeout: float, what: str, run: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if run is not None and run.poll() is not None:
            raise AssertionError(f"the run ended (status {run.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} in {timeout:.0f}s")
        time.sleep(POLL)
    return found


def new_jobs(slurm, before: set[str]) -> dict[str, str]:
    return {job: state for job, state in slurm.jobs().items() if job not in before}


def no_job_left(slurm) -> None:
    """Whatever the run ended with, it leaves no job behind in the queue."""
    wait_until(lambda: not slurm.active_jobs(), 30, "end of the run's jobs")


def last_error(err: str) -> str:
    return err.replace("\r", "\n").strip().splitlines()[-1]


def test_two_jobs_give_the_cube_of_a_local_run(slurm, config, tmp_path):
    """20,000 paths, seed 3, 2 jobs of 1 core and 4 GB, bit for bit (one job: the busy-queue
    test below)."""
    before = set(slurm.jobs())
    out = tmp_path / "cube.nc"
    assert main([*run_args(config, cluster_file(tmp_path), 2, out), "--quiet"]) == 0
    cube = open_cube(out)
    assert cube.attrs["computed_scheduler"].startswith("slurm (dask-jobqueue, 2 jobs)")
    assert_same_cube(cube, local_cube(config, PATHS))
    assert len(new_jobs(slurm, before)) == 2  # each one a real SLURM job
    no_job_left(slurm)


def test_a_job_cancelled_mid_run_loses_nothing(slurm, config, tmp_path):
    """scancel one of two jobs once tasks are finishing: its tasks run again on the other."""
    before = set(slurm.jobs())
    out = tmp_path / "run.zarr"
    args = run_args(config, cluster_file(tmp_path), 2, out, LONG_PATHS)
    with cli_run(args, tmp_path, slurm) as run:
        wait_until(lambda: tasks_in_store(out), RUN_TIMEOUT, "finished task", run)
        running = wait_until(
            lambda: sorted(j for j, s in new_jobs(slurm, before).items() if s == "RUNNING"),
            RUN_TIMEOUT,
            "running job",
            run,
        )
        victim = running[0]
        slurm.run("scancel", victim)
        done_at_cancel = tasks_in_store(out)
        assert run.wait(RUN_TIMEOUT) == 0, stderr_of(tmp_path)
    cube = open_cube(out)
    assert len(done_at_cancel) < cube.attrs["computed_tasks"]  # cancelled mid-run
    assert new_jobs(slurm, before)[victim] == "CANCELLED"
    assert " - distributed." not in stderr_of(tmp_path)  # no log of the lost results
    assert_same_cube(cube, local_cube(config, LONG_PATHS))
    no_job_left(slurm)


def test_jobs_out_of_walltime_leave_a_store_that_resume_completes(slurm, config, tmp_path):
    """A job that reaches its walltime with work left ends the run (exit 2, the store kept);
    ``--resume`` completes it to the cube of a local run. The job's processes are paused
    (SIGSTOP) once tasks finish, so that the job reaches its one-minute limit with work
    left without burning a core meanwhile; SLURM's time limit ends it."""
    before = set(slurm.jobs())
    out = tmp_path / "run.zarr"
    short = cluster_file(tmp_path, walltime=WALLTIME)
    args = run_args(config, short, 1, out, LONG_PATHS)
    started = time.monotonic()
    with cli_run(args, tmp_path, slurm) as run:
        wait_until(lambda: tasks_in_store(out), RUN_TIMEOUT, "finished task", run)
        (job,) = new_jobs(slurm, before)
        for line in slurm.run("scontrol", "listpids", job).splitlines()[1:]:  # PID JOBID ...
            os.kill(int(line.split()[0]), signal.SIGSTOP)
        assert run.wait(WALLTIME_BOUND) == 2
    elapsed = time.monotonic() - started
    assert new_jobs(slurm, before)[job] == "TIMEOUT"
    kept = tasks_in_store(out)
    assert kept and elapsed < WALLTIME_BOUND
    assert last_error(stderr_of(tmp_path)) == (
        f"rmp-risk: error: {short}: jobqueue.slurm: every job ended before the run did "
        f"(job {job} TIMEOUT); the finished tasks are kept in {out}: continue with the same "
        "command and --resume"
    )
    longer = cluster_file(tmp_path, "longer.yaml")  # a new allocation with time enough
    assert main([*run_args(config, longer, 1, out, LONG_PATHS), "--resume", "--quiet"]) == 0
    cube = open_cube(out)
    assert cube.attrs["computed_resumed_tasks"] == len(kept) < cube.attrs["computed_tasks"]
    assert_same_cube(cube, local_cube(config, LONG_PATHS))
    no_job_left(slurm)


def memory_above_the_node(slurm) -> str:
    return f"{2 * slurm.memory_mb}MB"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "queue",
            "nosuch",
            "sbatch: error: invalid partition specified: nosuch; sbatch: error: Batch job "
            "submission failed: Invalid partition name specified",
        ),
        (
            "memory",
            memory_above_the_node,
            "sbatch: error: Memory specification can not be satisfied; sbatch: error: Batch job "
            "submission failed: Requested node configuration is not available",
        ),
    ],
)
def test_a_submission_slurm_rejects_ends_the_run_with_its_message(
    slurm, config, tmp_path, capsys, option, value, message
):
    value = value(slurm) if callable(value) else value
    cluster = cluster_file(tmp_path, **{option: value})
    out = tmp_path / "cube.nc"
    started = time.monotonic()
    assert main([*run_args(config, cluster, 1, out), "--quiet"]) == 2
    assert time.monotonic() - started < SUBMIT_BOUND
    err = capsys.readouterr().err
    assert last_error(err) == (
        f"rmp-risk: error: {cluster}: jobqueue.slurm: job submission failed: {message}"
    )
    assert "Traceback" not in err and not out.exists()
    no_job_left(slurm)


def test_a_job_whose_worker_cannot_start_ends_the_run(slurm, config, tmp_path, capsys):
    """A job that fails before its worker connects (here its prologue exits 3): exit 2 with
    the job's SLURM state, not a wait at 0% for a worker that never comes."""
    before = set(slurm.jobs())
    cluster = cluster_file(tmp_path, job_script_prologue=["exit 3"])
    out = tmp_path / "cube.nc"
    started = time.monotonic()
    assert main([*run_args(config, cluster, 1, out), "--quiet"]) == 2
    assert time.monotonic() - started < ENDED_BOUND
    (job,) = new_jobs(slurm, before)
    assert last_error(capsys.readouterr().err) == (
        f"rmp-risk: error: {cluster}: jobqueue.slurm: every job ended before the run did "
        f"(job {job} FAILED); nothing was written"
    )
    assert not out.exists()
    no_job_left(slurm)


def test_one_job_pending_on_a_busy_queue_then_the_cube_of_a_local_run(slurm, config, tmp_path):
    """A job holding every core keeps the run's one job pending: the progress bar says so,
    with SLURM's reason; once the queue frees, the run gives the cube of a local run."""
    blocker = slurm.run(
        "sbatch", "--parsable", f"--cpus-per-task={slurm.cpus}", "--mem=1G", "--wrap=sleep 600"
    ).strip()
    wait_until(lambda: slurm.jobs()[blocker] == "RUNNING", 30, "blocking job running")
    out = tmp_path / "cube.nc"
    try:
        with cli_run(run_args(config, cluster_file(tmp_path), 1, out), tmp_path, slurm) as run:
            wait_until(
                lambda: "jobs: 0 running, 1 pending (Resources)" in stderr_of(tmp_path),
                SUBMIT_BOUND,
                "pending job on the progress bar",
                run,
            )
            slurm.run("scancel", blocker)
            assert run.wait(RUN_TIMEOUT) == 0, stderr_of(tmp_path)
    finally:
        slurm.run("scancel", blocker)
    assert "jobs: 1 running" in stderr_of(tmp_path)
    assert_same_cube(open_cube(out), local_cube(config, PATHS))
    no_job_left(slurm)


def test_ctrl_c_while_a_job_can_never_start(slurm, config, tmp_path):
    """A job asking for more cores than the node has stays pending (PartitionConfig): the bar
    shows why, Ctrl-C ends the run (130) and its job is cancelled."""
    out = tmp_path / "cube.nc"
    cluster = cluster_file(tmp_path, cores=2 * slurm.cpus)
    with cli_run(run_args(config, cluster, 1, out), tmp_path, slurm) as run:
        wait_until(
            lambda: "jobs: 0 running, 1 pending (PartitionConfig)" in stderr_of(tmp_path),
            SUBMIT_BOUND,
            "pending job on the progress bar",
            run,
        )
        run.send_signal(signal.SIGINT)
        assert run.wait(SUBMIT_BOUND) == 130
    assert last_error(stderr_of(tmp_path)) == "rmp-risk: interrupted; nothing was written"
    assert not out.exists()
    no_job_left(slurm)
