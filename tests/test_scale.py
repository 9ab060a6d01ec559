"""Scale-out on dask: the same cube on any scheduler, task size or worker count, on a real
distributed LocalCluster too, even when a worker is killed in the middle of a run."""

import os
import signal

import numpy as np
import pytest
from distributed import Client, LocalCluster

from engine import cluster as engine_cluster
from engine.cluster import ClusterError, DistributedBackend, open_backend
from engine.cube import accumulators_from_cube
from engine.diagnostics import trace_paths
from engine.pipeline import simulate
from engine.run import plan_tasks, run_plan
from engine.schedule import build_schedule
from engine.testing.runners import run_accumulators

from .conftest import assert_same_cube, small

pytestmark = pytest.mark.slow  # compiles and runs the kernels


@pytest.fixture(scope="module")
def short(model_config):
    return small(model_config, months=3, paths=700, block=64)


@pytest.fixture(scope="module")
def reference(short):
    return simulate(short, workers=1, task_blocks=1)


@pytest.mark.parametrize(
    "how",
    [
        {"workers": 2, "task_blocks": 3},
        {"workers": 2, "processes": True, "task_blocks": 100},
        {"distributed": True, "task_blocks": 1},
        {"distributed": True, "task_blocks": 4},
    ],
    ids=["threads-2", "processes-2", "distributed-1", "distributed-4"],
)
def test_the_cube_is_identical_however_it_is_computed(short, reference, how, request):
    how = dict(how)
    if how.pop("distributed", False):
        how["scheduler"] = request.getfixturevalue("dask_client")
    cube = simulate(short, **how)
    assert_same_cube(cube, reference)
    if "task_blocks" in how:
        assert cube.attrs["computed_task_blocks"] == how["task_blocks"]
    kind = "distributed" if "scheduler" in how else "processes" if "processes" in how else "threads"
    assert cube.attrs["computed_scheduler"].startswith(kind)


def test_a_cluster_run_is_the_first_paths_of_a_longer_run(short, dask_client):
    schedule = build_schedule(short)
    n, seed, block = 150, 4, 64  # n: not a multiple of the block size
    first = trace_paths(schedule, n, seed, block)
    longer = trace_paths(schedule, 2 * n, seed, block)
    assert np.array_equal(first.values, longer.values[:n])
    cube = simulate(short, paths=n, seed=seed, scheduler=dask_client, task_blocks=1)
    assert accumulators_from_cube(cube).equals(first.accumulators)


def test_a_killed_worker_does_not_change_the_result(short, worker_kernel_cache):
    schedule = build_schedule(short)
    n, seed, block = 3000, 7, 64
    expected = run_accumulators(schedule, n, seed, block, workers=2)
    plan = plan_tasks(n, block, workers=2, task_blocks=1)
    finished = []
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            env=worker_kernel_cache,  # the workers load the kernels the session compiled
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        victim = next(iter(client.run(os.getpid).values()))

        def on_done(task, result):
            finished.append(task)
            if len(finished) == 4:
                os.kill(victim, signal.SIGKILL)  # mid-run: 4 of 47 tasks are done

        got = run_plan(DistributedBackend(client, "test"), schedule, seed, plan, None, on_done)
        assert victim not in client.run(os.getpid).values()  # killed, and replaced by its nanny
    assert sorted(finished) == list(range(plan.n_tasks))
    assert got.equals(expected)


def test_progress_bar_on_a_distributed_client(short, dask_client, capsys):
    simulate(short, paths=300, scheduler=dask_client, progress=True)
    err = capsys.readouterr().err
    assert "300/300 paths" in err and "paths/s" in err and "ETA" in err


def test_the_scheduler_address_comes_from_the_environment(
    short, reference, dask_client, monkeypatch
):
    address = dask_client.scheduler.address
    monkeypatch.setenv(engine_cluster.ADDRESS_ENV, address)
    cube = simulate(short)
    assert cube.attrs["computed_scheduler"] == f"distributed {address}"
    assert_same_cube(cube, reference)
    assert simulate(short, paths=64, workers=1).attrs["computed_scheduler"] == "threads"


def test_scheduler_options_are_checked(monkeypatch):
    monkeypatch.setattr(engine_cluster, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(ClusterError, match="cannot connect to a dask scheduler at tcp://127"):
        with open_backend(scheduler="tcp://127.0.0.1:9"):
            pass
    for options, message in [
        ({"scheduler": "tcp://x:1", "cluster": "c.yaml"}, "exclude each other"),
        ({"jobs": 2}, "--jobs needs --cluster"),
        ({"scheduler": "tcp://x:1", "workers": 2}, "for local runs only"),
    ]:
        with pytest.raises(ClusterError, match=message):
            with open_backend(**options):
                pass
