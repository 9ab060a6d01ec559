"""The state of a run's batch jobs without any batch system: a stand-in for a dask-jobqueue
cluster and for ``squeue``'s answers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from engine.batch_jobs import JobCounts, JobWatch
from engine.errors import JobsEnded

WHERE = "slurm.yaml: jobqueue.slurm"


@pytest.mark.parametrize(
    ("counts", "text"),
    [
        (JobCounts(pending=2, reasons=("Priority",)), "jobs: 0 running, 2 pending (Priority)"),
        (JobCounts(pending=1), "jobs: 0 running, 1 pending"),
        (JobCounts(running=1, starting=1), "jobs: 1 running, 1 starting"),
        (
            JobCounts(running=1, pending=2, ending=1, ended=1, reasons=("Resources", "Priority")),
            "jobs: 1 running, 2 pending (Resources, Priority), 1 ending, 1 ended",
        ),
    ],
)
def test_jobs_line(counts, text):
    assert counts.text() == text


class FakeCluster:
    """What JobWatch reads of a dask-jobqueue cluster: its jobs (name -> job with a job id;
    dask removes a job whose worker left for good) and the workers its scheduler sees."""

    def __init__(self, jobs: dict[str, str]):
        self.workers = {name: SimpleNamespace(job_id=job_id) for name, job_id in jobs.items()}
        self.scheduler_info: dict = {"workers": {}}

    def connect(self, *names: str) -> None:
        self.scheduler_info["workers"] = {f"tcp://w{i}": {"name": n} for i, n in enumerate(names)}


def watch(cluster: FakeCluster, answers: list) -> JobWatch:
    """A JobWatch whose batch system answers ``answers`` in turn (asked at every count)."""
    replies = iter(answers)
    jobs = JobWatch(cluster, WHERE, lambda: next(replies))
    jobs.next_ask = float("-inf")
    return jobs


def counts(jobs: JobWatch) -> JobCounts:
    jobs.next_ask = float("-inf")  # ask the batch system every time here
    return jobs.counts()


def test_watch_sorts_jobs_by_what_the_queue_and_the_scheduler_say():
    cluster = FakeCluster({"c-0": "11", "c-1": "12", "c-2": "13"})
    pending = {job: ("PENDING", "Priority") for job in ("11", "12", "13")}
    started = {"11": ("RUNNING", "None"), "12": ("RUNNING", "None"), "13": ("PENDING", "None")}
    jobs = watch(cluster, [pending, started, started, None])
    assert counts(jobs) == JobCounts(pending=3, reasons=("Priority",))
    assert counts(jobs) == JobCounts(starting=2, pending=1)  # reason None: not shown
    cluster.connect("c-0", "c-1")
    assert counts(jobs) == JobCounts(running=2, pending=1)
    cluster.connect("c-0")
    assert counts(jobs) == JobCounts(running=1, ending=1, pending=1)  # no answer: the last one


def test_a_job_with_several_workers_runs_once_one_connects():
    cluster = FakeCluster({"c-1": "21", "c-10": "22"})
    jobs = watch(cluster, [{"21": ("RUNNING", ""), "22": ("RUNNING", "")}])
    cluster.connect("c-10-0", "c-10-1")
    assert counts(jobs) == JobCounts(running=1, starting=1)


def test_without_a_queue_the_scheduler_decides():
    cluster = FakeCluster({"c-0": "31", "c-1": "32"})
    jobs = JobWatch(cluster, WHERE)  # a batch system the engine does not ask (e.g. PBS)
    assert jobs.counts() == JobCounts(pending=2)
    cluster.connect("c-0", "c-1")
    assert jobs.counts() == JobCounts(running=2)
    cluster.connect("c-1")
    assert jobs.counts() == JobCounts(running=1, ending=1)
    del cluster.workers["c-0"]  # dask gave it up
    assert jobs.counts() == JobCounts(running=1, ended=1)
    jobs.check()  # one job left: the run goes on


def test_the_run_ends_once_every_job_has_ended():
    cluster = FakeCluster({"c-0": "41", "c-1": "42"})
    cluster.connect("c-0", "c-1")
    ended = {"41": ("TIMEOUT", "TimeLimit"), "42": ("CANCELLED", "None")}
    jobs = watch(cluster, [{}, ended, ended])
    jobs.check()
    cluster.connect()
    jobs.next_ask = float("-inf")
    with pytest.raises(JobsEnded) as raised:
        jobs.check()
    assert str(raised.value) == (
        f"{WHERE}: every job ended before the run did (job 41 TIMEOUT, job 42 CANCELLED)"
    )


def test_a_job_the_queue_no_longer_lists_has_ended():
    cluster = FakeCluster({"c-0": "51"})
    jobs = watch(cluster, [{"51": ("PENDING", "Priority")}, {}])
    jobs.check()
    jobs.next_ask = float("-inf")
    with pytest.raises(JobsEnded, match=r"\(job 51 ended\)$"):
        jobs.check()
