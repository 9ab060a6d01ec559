"""The state of a run's batch jobs: pending, starting, running, ending or ended.

From what the dask scheduler sees of a dask-jobqueue cluster's workers and, for SLURM, from
``squeue``. The progress bar shows the counts (``JobCounts.text``); a run whose every job has
ended stops (``JobWatch.check``).
"""

from __future__ import annotations

import getpass
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import JobsEnded

if TYPE_CHECKING:
    from dask_jobqueue.core import JobQueueCluster

STATUS_POLL = 5.0  # seconds between asks of the batch system (squeue) about the run's jobs
STATUS_TIMEOUT = 30  # seconds one ask may take before it counts as no answer
# SLURM job states after which a job runs nothing more (``squeue --states=all``); a job that
# squeue no longer lists has ended too. Any other state (PENDING, RUNNING, ...) is a live job.
SLURM_ENDED = frozenset(
    {
        "BOOT_FAIL",
        "CANCELLED",
        "COMPLETED",
        "COMPLETING",
        "DEADLINE",
        "FAILED",
        "NODE_FAIL",
        "OUT_OF_MEMORY",
        "PREEMPTED",
        "REVOKED",
        "SPECIAL_EXIT",
        "STAGE_OUT",
        "TIMEOUT",
    }
)


@dataclass(frozen=True)
class JobCounts:
    """The jobs of a run by state: ``pending`` queued by the batch system (``reasons``: its
    reasons, e.g. Priority, Resources), ``starting`` started but no worker connected yet,
    ``running`` with a connected worker, ``ending`` its worker gone but the job not yet over
    (or its worker restarting), ``ended``."""

    pending: int = 0
    starting: int = 0
    running: int = 0
    ending: int = 0
    ended: int = 0
    reasons: tuple[str, ...] = ()

    @property
    def alive(self) -> int:
        return self.pending + self.starting + self.running + self.ending

    def text(self) -> str:
        """E.g. ``jobs: 1 running, 2 pending (Priority)``; states with no job are left out,
        except ``running``."""
        parts = [f"{self.running} running"]
        if self.starting:
            parts.append(f"{self.starting} starting")
        if self.pending:
            why = f" ({', '.join(self.reasons)})" if self.reasons else ""
            parts.append(f"{self.pending} pending{why}")
        if self.ending:
            parts.append(f"{self.ending} ending")
        if self.ended:
            parts.append(f"{self.ended} ended")
        return "jobs: " + ", ".join(parts)


QueueStates = dict[str, tuple[str, str]]  # job id -> (state, reason), as the batch system says


class JobWatch:
    """The batch jobs of a dask-jobqueue cluster, from what its scheduler sees (a job whose
    worker connected is running; one dask gave up on, after its worker left, has ended) and,
    for SLURM, from ``squeue`` (queued or started, with the reason; ended, with the state)."""

    def __init__(
        self,
        cluster: JobQueueCluster,
        where: str,
        queue: Callable[[], QueueStates | None] | None = None,
    ):
        self.cluster, self.where, self.queue = cluster, where, queue
        self.job_ids = {name: str(job.job_id) for name, job in cluster.workers.items()}
        self.states: QueueStates | None = None  # the last answer (None: none yet)
        self.seen: set[str] = set()  # jobs whose worker has connected at some point
        self.next_ask = 0.0

    def counts(self) -> JobCounts:
        self._ask()
        connected = self._connected()
        self.seen |= connected
        tally = dict.fromkeys(("pending", "starting", "running", "ending", "ended"), 0)
        reasons: list[str] = []
        for name, job_id in self.job_ids.items():
            state, reason = self._state(name, job_id, connected)
            tally[state] += 1
            if reason and reason not in reasons:
                reasons.append(reason)
        return JobCounts(**tally, reasons=tuple(reasons))

    def check(self) -> None:
        """JobsEnded if no job of the run is left to run its tasks."""
        if self.counts().alive == 0:
            raise JobsEnded(f"{self.where}: every job ended before the run did ({self._ends()})")

    def _state(self, name: str, job_id: str, connected: set[str]) -> tuple[str, str]:
        if name in connected:
            return "running", ""
        if name not in self.cluster.workers:  # dask gave it up: its worker left for good
            return "ended", ""
        if self.states is None:  # no batch system's view: what the scheduler saw
            return ("ending" if name in self.seen else "pending"), ""
        state, reason = self.states.get(job_id, ("", ""))
        if not state or state in SLURM_ENDED:  # no longer listed, or finished
            return "ended", ""
        if state == "PENDING":
            return "pending", reason if reason != "None" else ""
        return ("ending" if name in self.seen else "starting"), ""

    def _connected(self) -> set[str]:
        """Names of the jobs with a connected worker (a job's workers are named after it,
        ``NAME`` or ``NAME-i`` for several processes per job)."""
        workers = list(self.cluster.scheduler_info["workers"].values())  # one step: the event
        names = {str(info.get("name")) for info in workers}  # loop's thread may change it
        return {
            job
            for job in self.job_ids
            if job in names or any(w.startswith(f"{job}-") for w in names)
        }

    def _ask(self) -> None:
        """Ask the batch system about the jobs, at most every STATUS_POLL seconds; an ask that
        fails keeps the last answer."""
        if self.queue is None or time.monotonic() < self.next_ask:
            return
        self.next_ask = time.monotonic() + STATUS_POLL
        states = self.queue()
        if states is not None:
            self.states = states

    def _ends(self) -> str:
        """How the jobs ended, e.g. ``job 12 TIMEOUT, job 13 CANCELLED`` (``ended`` where the
        batch system does not say)."""
        known = self.states or {}

        def how(job_id: str) -> str:
            state = known.get(job_id, ("", ""))[0]
            return state if state in SLURM_ENDED else "ended"

        return ", ".join(f"job {job_id} {how(job_id)}" for job_id in self.job_ids.values())


def slurm_queue() -> QueueStates | None:
    """This user's SLURM jobs as ``squeue`` lists them, ended ones included (None if squeue
    does not answer)."""
    command = ["squeue", "--noheader", "--states=all", "-u", _user(), "-o", "%i|%T|%r"]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=STATUS_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    states: QueueStates = {}
    for line in done.stdout.splitlines():
        job_id, _, rest = line.strip().partition("|")
        state, _, reason = rest.partition("|")
        states[job_id] = (state, reason)
    return states


def _user() -> str:
    """This user's name, or uid where the system knows no name for it."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return str(os.getuid())


QUEUES = {"slurm": slurm_queue}  # batch systems whose queue the engine asks about its jobs
