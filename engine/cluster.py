"""Where tasks run: dask's local schedulers, a distributed scheduler, or a batch-queue cluster.

A backend reduces a list of delayed task results with a tree of additions and reports each task
as it finishes (``on_done(task, result)``, called in the caller's thread): from a local-scheduler
callback, or from ``distributed.as_completed`` on the tasks' futures. ``distributed`` and
``dask_jobqueue`` are imported only when a run asks for them.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dask
from dask.callbacks import Callback

from .accumulators import Accumulators
from .batch_jobs import QUEUES, JobWatch
from .errors import ClusterError
from .run import (
    Backend,
    OnDone,
    add_accumulators,
    add_into_accumulators,
    default_workers,
    tree_sum,
)

if TYPE_CHECKING:
    from dask_jobqueue.core import JobQueueCluster
    from distributed import Client

ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"
CONNECT_TIMEOUT = "10s"
SUBMIT_TIMEOUT = 120  # seconds for the batch system to accept the jobs
SUBMIT_POLL = 0.1  # seconds between looks at the submission
TASK_RETRIES = 2  # a task that raises is tried again (tasks are pure); lost workers are separate
WAIT_POLL = 0.1  # seconds between looks at the jobs while no task finishes
JOBQUEUE_CLASSES = {
    "slurm": "SLURMCluster",
    "pbs": "PBSCluster",
    "sge": "SGECluster",
    "lsf": "LSFCluster",
    "oar": "OARCluster",
    "htcondor": "HTCondorCluster",
    "moab": "MoabCluster",
}


class LocalBackend:
    """dask's local scheduler: ``workers`` threads (``nogil`` kernels) or processes."""

    def __init__(self, workers: int | None = None, processes: bool = False):
        self.workers = workers or default_workers()
        self.kind = "processes" if processes else "threads"
        self.in_process = not processes

    def describe(self) -> dict[str, Any]:
        return {"workers": self.workers, "scheduler": self.kind}

    def status(self) -> str | None:
        return None  # local workers are always there

    def reduce(self, parts, index, on_done, with_results, on_wait=None) -> Accumulators:
        add = dask.delayed(add_accumulators, pure=True)
        add_into = dask.delayed(add_into_accumulators, pure=True)  # one scheduler, one process
        root = tree_sum(parts, add, self.workers, add_into)
        # The scheduler's function itself, not its name: a name makes dask look for a
        # distributed client first, importing distributed (0.2 s) in every local run.
        if self.kind == "threads":
            from dask.threaded import get
        else:
            from dask.multiprocessing import get
        with _TaskCallback(index, on_done, with_results):
            (total,) = dask.compute(root, scheduler=get, num_workers=self.workers)
        return total


class _TaskCallback(Callback):
    """Calls ``on_done(task, result)`` as each task of ``index`` (key → task) finishes."""

    def __init__(self, index: Mapping[str, int], on_done: OnDone, with_results: bool):
        super().__init__()
        self.index, self.on_done, self.with_results = index, on_done, with_results

    def _posttask(self, key, result, dsk, state, worker_id):
        task = self.index.get(key)
        if task is not None:
            self.on_done(task, result if self.with_results else None)


class DistributedBackend:
    """A ``distributed.Client``: tasks are futures, the tree of additions runs on the workers.

    ``jobs``, for a batch-queue cluster: the run's jobs, shown by ``status`` and watched while
    no task finishes (a run whose every job has ended stops with ``JobsEnded``)."""

    in_process = False

    def __init__(
        self,
        client: Client,
        label: str,
        expected_workers: int = 0,
        jobs: JobWatch | None = None,
    ):
        self.client, self.label, self.jobs = client, label, jobs
        self.workers = max(1, self._threads() or expected_workers)

    def _threads(self) -> int:
        return sum(self.client.nthreads().values())

    def describe(self) -> dict[str, Any]:
        return {"workers": self._threads(), "scheduler": self.label}

    def status(self) -> str | None:
        return self.jobs.counts().text() if self.jobs is not None else None

    def reduce(self, parts, index, on_done, with_results, on_wait=None) -> Accumulators:
        from distributed import as_completed

        client = self.client
        with _ctrl_c_as_flag() as interrupted:  # from the first submission on
            futures = client.compute(list(parts), retries=TASK_RETRIES)
            root = tree_sum(
                futures,
                lambda a, b: client.submit(add_accumulators, a, b, retries=TASK_RETRIES),
                self.workers,
            )
            finished = as_completed(futures, loop=client.loop, with_results=with_results)
            del futures  # a finished part is released once its sum no longer needs it
            while not finished.is_empty():
                if interrupted.is_set():
                    raise KeyboardInterrupt
                if not finished.has_ready():
                    self._idle(on_wait, interrupted)
                    continue
                item = next(finished)
                future, result = item if with_results else (item, None)
                if future.status == "error":
                    future.result()  # raises the task's exception
                on_done(index[future.key], result)
                del item, future, result
            while not root.done():  # the last additions, on workers that may yet go away
                self._idle(on_wait, interrupted)
        return root.result()

    def _idle(self, on_wait: Callable[[], None] | None, interrupted: threading.Event) -> None:
        """Nothing finished: KeyboardInterrupt after Ctrl-C, JobsEnded if no job is left;
        else call ``on_wait`` (the progress bar) and wait a little."""
        if interrupted.is_set():
            raise KeyboardInterrupt
        if self.jobs is not None:
            self.jobs.check()
        if on_wait is not None:
            on_wait()
        time.sleep(WAIT_POLL)


@contextmanager
def _ctrl_c_as_flag() -> Iterator[threading.Event]:
    """Ctrl-C (SIGINT) sets the flag instead of raising wherever the main thread is: a
    KeyboardInterrupt raised inside an object's ``__del__`` (distributed's futures run code
    when released, at any point the garbage collector picks) is printed and lost, and the run
    would wait on. The wait loop raises it instead. Left as is off the main thread or under
    a handler other than Python's own."""
    flag = threading.Event()
    default = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if threading.current_thread() is not threading.main_thread() or not default:
        yield flag
        return
    signal.signal(signal.SIGINT, lambda signum, frame: flag.set())
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@contextmanager
def open_backend(
    workers: int | None = None,
    processes: bool = False,
    scheduler: Any = None,
    cluster: str | Path | None = None,
    jobs: int | None = None,
) -> Iterator[Backend]:
    """The backend a run asks for; what it started is closed on exit.

    Parameters
    ----------
    workers : int, optional
        Local workers (default: all cores).
    processes : bool
        Local worker processes instead of threads.
    scheduler : str or distributed.Client, optional
        Address of a running dask scheduler (``tcp://host:port``), or a client to use as is.
    cluster : path, optional
        A dask-jobqueue cluster file (see ``configs/cluster/``); ``jobs`` batch jobs are asked
        for (default 1).

    Without any of these, ``DASK_SCHEDULER_ADDRESS`` or dask's ``scheduler-address`` setting
    selects a running scheduler; otherwise the run uses local threads.
    """
    if scheduler is not None and cluster is not None:
        raise ClusterError("--scheduler and --cluster exclude each other")
    if jobs is not None and cluster is None:
        raise ClusterError("--jobs needs --cluster")
    if (scheduler is not None or cluster is not None) and (workers or processes):
        raise ClusterError("--workers and --processes are for local runs only")
    if scheduler is None and cluster is None and not (workers or processes):
        scheduler = configured_address()
    if cluster is not None:
        with _jobqueue_backend(Path(cluster), jobs or 1) as backend:
            yield backend
    elif scheduler is None:
        yield LocalBackend(workers, processes)
    elif isinstance(scheduler, str):
        client = connect(scheduler)
        try:
            yield DistributedBackend(client, f"distributed {scheduler}")
        finally:
            client.close()
    else:
        yield DistributedBackend(scheduler, f"distributed {scheduler.scheduler.address}")


def configured_address() -> str | None:
    """A scheduler address from ``DASK_SCHEDULER_ADDRESS`` or dask's config, if any."""
    return os.environ.get(ADDRESS_ENV) or dask.config.get("scheduler-address", None)


def connect(address: str) -> Client:
    """A ``distributed.Client`` connected to ``address``; ClusterError if none answers."""
    from distributed import Client

    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise ClusterError(f"cannot connect to a dask scheduler at {address}: {err}") from None


def load_cluster_file(path: str | Path) -> tuple[str, dict[str, Any]]:
    """(kind, options) of a cluster file: ``jobqueue: {<kind>: {option: value, ...}}``."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as err:
        raise ClusterError(f"{path}: cannot read the cluster file ({err.strerror})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(err, "problem", err)
        raise ClusterError(f"{path}: not valid YAML ({where}{problem})") from None
    section = raw.get("jobqueue") if isinstance(raw, dict) else None
    if not isinstance(section, dict) or len(section) != 1:
        raise ClusterError(f"{path}: jobqueue: expected one table, e.g. 'jobqueue: {{slurm: ...}}'")
    ((kind, options),) = section.items()
    if kind not in JOBQUEUE_CLASSES:
        known = ", ".join(JOBQUEUE_CLASSES)
        raise ClusterError(f"{path}: jobqueue.{kind}: unknown batch system (one of {known})")
    if not isinstance(options, dict):
        raise ClusterError(f"{path}: jobqueue.{kind}: expected a table of options")
    return kind, options


def _import_dask_jobqueue():
    """``dask_jobqueue``, without the SIGINT handler it installs on import (``sys.exit()``, so
    that Ctrl-C would end a run with status 0): Ctrl-C stays a KeyboardInterrupt."""
    import dask_jobqueue

    handler = signal.getsignal(signal.SIGINT)
    theirs = getattr(handler, "__module__", "") or ""
    if theirs.startswith("dask_jobqueue") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return dask_jobqueue


# First line of every job's prologue: a batch job's workers compile the kernels rather than share
# a disk cache (often on a shared file system) unless the user's environment or a later prologue
# line says otherwise (``engine.kernel_cache``; written out here so as not to import numba).
WORKER_CACHE_DEFAULT = 'export RMP_RISK_NUMBA_CACHE="${RMP_RISK_NUMBA_CACHE:-0}"'


def jobqueue_cluster(path: str | Path) -> JobQueueCluster:
    """The dask-jobqueue cluster a cluster file describes (its scheduler starts here; no job is
    submitted until it is scaled)."""
    dask_jobqueue = _import_dask_jobqueue()
    path = Path(path)

    kind, options = load_cluster_file(path)
    cls = getattr(dask_jobqueue, JOBQUEUE_CLASSES[kind])
    prologue = [WORKER_CACHE_DEFAULT, *(options.get("job_script_prologue") or [])]
    options = {**options, "job_script_prologue": prologue}
    try:
        return cls(**options)
    except (TypeError, ValueError) as err:
        message = str(err).splitlines()[0]
        raise ClusterError(f"{path}: jobqueue.{kind}: {message}") from None


def job_script(path: str | Path) -> str:
    """The job script a cluster file makes each job run (the scheduler's address in it is that
    of a scheduler started for the occasion, and closed)."""
    cluster = jobqueue_cluster(path)
    try:
        return cluster.job_script()
    finally:
        cluster.close()


@contextmanager
def _jobqueue_backend(path: Path, jobs: int) -> Iterator[Backend]:
    from distributed import Client

    kind, options = load_cluster_file(path)
    cluster = jobqueue_cluster(path)
    try:
        submit = getattr(cluster.job_cls, "submit_command", None) or ""
        if submit and shutil.which(submit.split()[0]) is None:
            raise ClusterError(
                f"{path}: jobqueue.{kind}: cannot submit jobs: {submit.split()[0]!r} is not on "
                "this machine's PATH (run from a login node of the cluster)"
            )
        with _quiet_event_loop_errors():
            cluster.scale(jobs=jobs)
            _submitted(cluster, path, kind)
        watch = JobWatch(cluster, f"{path}: jobqueue.{kind}", QUEUES.get(kind))
        client = Client(cluster, set_as_default=False)
        scheduler_log = logging.getLogger("distributed.scheduler")
        scheduler_log.addFilter(_drop_lost_results)
        try:
            label = f"{kind} (dask-jobqueue, {jobs} jobs) {cluster.scheduler_address}"
            threads = jobs * int(options.get("cores") or 1)
            yield DistributedBackend(client, label, threads, watch)
        finally:
            client.close()
            scheduler_log.removeFilter(_drop_lost_results)
    finally:
        cluster.close()


def _submitted(cluster: JobQueueCluster, path: Path, kind: str) -> None:
    """Wait until the scaled jobs have been handed to the batch system; ClusterError with the
    scheduler's message if that failed (the run would otherwise wait for workers that never
    come). A job whose submission failed is tried once more, for its message."""
    deadline = time.monotonic() + SUBMIT_TIMEOUT
    while len(cluster.workers) < len(cluster.worker_spec):  # filled once every job tried
        if time.monotonic() > deadline:
            raise ClusterError(f"{path}: jobqueue.{kind}: no job submitted in {SUBMIT_TIMEOUT}s")
        time.sleep(SUBMIT_POLL)
    failed = [job for job in cluster.workers.values() if getattr(job, "job_id", 0) is None]
    if not failed:
        return
    try:
        cluster.sync(_start, failed[0])
    except Exception as err:
        message = _submit_message(err)
        from distributed.core import Status

        for name, job in list(cluster.workers.items()):  # never submitted: nothing to cancel
            if getattr(job, "job_id", 0) is None:
                job.status = Status.failed
                del cluster.workers[name]
                cluster.worker_spec.pop(name, None)
        raise ClusterError(f"{path}: jobqueue.{kind}: job submission failed: {message}") from None


def _submit_message(err: Exception) -> str:
    """The batch system's own words from a failed submission, on one line: the lines of the
    submit command's stderr (dask-jobqueue's RuntimeError quotes it after ``stderr:``), else
    the error's last line."""
    text = str(err)
    _, marker, stderr = text.rpartition("\nstderr:\n")
    lines = [line.strip() for line in (stderr if marker else text).splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    return "; ".join(lines) if marker else lines[-1]


async def _start(job) -> None:
    await job  # a job not yet submitted submits itself when awaited


def _drop_lost_results(record: logging.LogRecord) -> bool:
    """A filter of the scheduler's log: its error for results that left with a job's worker
    is dropped (they are computed again, tasks being pure; the progress bar shows the job
    ending), every other record kept."""
    return record.msg != "Couldn't gather keys: %s"


@contextmanager
def _quiet_event_loop_errors() -> Iterator[None]:
    """The event loop's own report of a failed submission (a traceback on stderr) held back:
    the failure is reported once, as a ClusterError."""
    loggers = [logging.getLogger(name) for name in ("tornado.application", "asyncio")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
