"""Batch-queue clusters through dask-jobqueue: the shipped SLURM and PBS files give the expected
job scripts, bad cluster files are refused, and a run through SLURM (a stand-in ``sbatch`` runs
each job script on this machine) gives the same cube as a local run."""

import os
import signal
import time
from pathlib import Path

import pytest
import yaml

from engine.cli import main
from engine.cluster import WORKER_CACHE_DEFAULT, ClusterError, job_script, jobqueue_cluster
from engine.config import load_config
from engine.io import open_cube
from engine.pipeline import simulate

from .conftest import ROOT, assert_same_cube, write_short_config

pytestmark = pytest.mark.slow  # compiles and runs the kernels

CLUSTER_FILES = ROOT / "configs" / "cluster"
SBATCH = """#!/bin/sh
# Stand-in for SLURM's sbatch: keep the job script, run it in a session of its own.
job=$(mktemp "{jobs}/job-XXXXXX")
cp "$1" "$job.sh"
setsid sh "$job.sh" > "$job.log" 2>&1 < /dev/null &
echo $! > "$job.pid"
echo "Submitted batch job $!"
"""
SCANCEL = """#!/bin/sh
# Stand-in for SLURM's scancel: end the job's session.
kill -TERM -- "-$1" 2>/dev/null
exit 0
"""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("slurm", ["#SBATCH --cpus-per-task=16", "#SBATCH --mem=8G", "#SBATCH -t 02:00:00"]),
        ("pbs", ["#PBS -l select=1:ncpus=16:mem=8GB", "#PBS -l walltime=02:00:00"]),
    ],
)
def test_shipped_cluster_files_give_job_scripts(name, expected):
    script = job_script(str(CLUSTER_FILES / f"{name}.yaml"))  # docs/cluster.md's way
    for line in expected:
        assert line in script.splitlines(), script
    assert "distributed.cli.dask_worker tcp://" in script and "--nthreads 16" in script
    lines = script.splitlines()
    worker = next(i for i, line in enumerate(lines) if "dask_worker" in line)
    # workers compile rather than share the kernel cache, unless the environment says otherwise
    assert WORKER_CACHE_DEFAULT in lines[:worker]


def test_a_users_prologue_runs_after_the_cache_default(tmp_path):
    cluster = tmp_path / "c.yaml"
    options = yaml.safe_load((CLUSTER_FILES / "slurm.yaml").read_text())
    options["jobqueue"]["slurm"]["job_script_prologue"] = ["export RMP_RISK_NUMBA_CACHE=1"]
    cluster.write_text(yaml.safe_dump(options))
    lines = job_script(cluster).splitlines()
    assert lines.index(WORKER_CACHE_DEFAULT) < lines.index("export RMP_RISK_NUMBA_CACHE=1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "cannot read the cluster file"),
        ("jobqueue: [", "not valid YAML"),
        ("slurm:\n  cores: 2\n", "jobqueue: expected one table"),
        ("jobqueue:\n  slurmx:\n    cores: 2\n", "jobqueue.slurmx: unknown batch system"),
        (
            "jobqueue:\n  slurm:\n    cores: 2\n    memory: 1GB\n    corez: 3\n",
            "jobqueue.slurm: Got unexpected keyword argument 'corez'",
        ),
    ],
)
def test_bad_cluster_files_exit_2_naming_the_file(tmp_path, capsys, text, message):
    path = tmp_path / "cluster.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ClusterError, match=message):
        jobqueue_cluster(path)
    config = write_short_config(tmp_path / "run.toml", paths=64)
    out = tmp_path / "cube.nc"
    assert main(["run", str(config), "--cluster", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"rmp-risk: error: {path}: ") and message in err[-1]
    assert not out.exists()


def _small_slurm_file(tmp_path) -> Path:
    """The shipped SLURM file with one core, 2 GB and a local scheduler address."""
    options = yaml.safe_load((CLUSTER_FILES / "slurm.yaml").read_text())
    options["jobqueue"]["slurm"].update(
        cores=1,
        memory="2GB",
        local_directory=str(tmp_path),
        scheduler_options={"host": "127.0.0.1"},
    )
    cluster_file = tmp_path / "slurm.yaml"
    cluster_file.write_text(yaml.safe_dump(options))
    return cluster_file


def _fake_slurm(tmp_path, monkeypatch, sbatch: str | None) -> Path:
    """A PATH with ``sbatch`` (this script; None: no sbatch at all) and a cluster file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if sbatch is not None:
        (bin_dir / "sbatch").write_text(sbatch)
        (bin_dir / "sbatch").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))  # nothing else: no real sbatch either
    cluster_file = _small_slurm_file(tmp_path)
    return cluster_file


@pytest.mark.parametrize(
    ("sbatch", "message"),
    [
        (
            None,
            "cannot submit jobs: 'sbatch' is not on this machine's PATH (run from a login "
            "node of the cluster)",
        ),
        (
            "#!/bin/sh\necho 'sbatch: error: Batch job submission failed: Invalid account' >&2\n"
            "exit 1\n",
            "job submission failed: sbatch: error: Batch job submission failed: Invalid account",
        ),
    ],
)
def test_a_failed_job_submission_ends_the_run_with_exit_2(
    tmp_path, monkeypatch, capsys, sbatch, message
):
    """No waiting at 0% for workers that never come: one line naming the cluster file."""
    cluster_file = _fake_slurm(tmp_path, monkeypatch, sbatch)
    config = write_short_config(tmp_path / "run.toml", paths=64)
    out = tmp_path / "cube.nc"
    started = time.monotonic()
    assert main(["run", str(config), "--cluster", str(cluster_file), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"rmp-risk: error: {cluster_file}: jobqueue.slurm: {message}", err
    assert "Traceback" not in "\n".join(err) and not out.exists()
    assert time.monotonic() - started < 60


def test_ctrl_c_stays_an_interrupt_once_dask_jobqueue_is_imported():
    """dask-jobqueue's import installs a SIGINT handler that calls sys.exit() (status 0); the
    engine puts Python's back, so an interrupted cluster run exits 130."""
    cluster = jobqueue_cluster(CLUSTER_FILES / "slurm.yaml")
    cluster.close()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_run_through_slurm_gives_the_same_cube(tmp_path, monkeypatch, worker_kernel_cache):
    bin_dir, jobs = tmp_path / "bin", tmp_path / "jobs"
    bin_dir.mkdir()
    jobs.mkdir()
    for name, text in (("sbatch", SBATCH.format(jobs=jobs)), ("scancel", SCANCEL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    for name, value in worker_kernel_cache.items():  # the jobs share the session's kernels
        monkeypatch.setenv(name, value)
    cluster_file = _small_slurm_file(tmp_path)
    config = write_short_config(tmp_path / "run.toml", paths=300)
    out = tmp_path / "cube.zarr"

    try:
        code = main(
            [
                "run",
                str(config),
                "--cluster",
                str(cluster_file),
                "--jobs",
                "2",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        assert code == 0
        scripts = sorted(jobs.glob("job-*.sh"))
        assert len(scripts) == 2  # --jobs 2: two jobs submitted
        assert "#SBATCH --cpus-per-task=1" in scripts[0].read_text()
        cube = open_cube(out)
        assert cube.attrs["computed_scheduler"].startswith("slurm (dask-jobqueue, 2 jobs)")
        assert_same_cube(cube, simulate(load_config(config), workers=1))
        assert all(_ended(int(p.read_text())) for p in jobs.glob("*.pid"))  # cancelled
    finally:
        for pid_file in jobs.glob("*.pid"):
            _end(int(pid_file.read_text()))


def _ended(session: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(session, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _end(session: int) -> None:
    try:
        os.killpg(session, signal.SIGKILL)
    except ProcessLookupError:
        pass
