"""Finished tasks → a run store, from a background thread, so that no worker waits for the disk.

The scheduler's thread hands each finished task to ``put`` and goes on handing out work. The
recorder's thread sums whatever has finished since its last write and records it as one group,
so the number of writes adapts to the disk: a slow store makes bigger groups, not a slower run.
"""

from __future__ import annotations

import queue
import threading

from .accumulators import Accumulators
from .store import RunStore

MAX_PENDING = 64  # finished tasks waiting to be written before ``put`` waits (bounds memory)


class Recorder:
    """Use as a context manager: leaving it (normally or on an exception, Ctrl-C included)
    writes every task already handed over."""

    def __init__(self, store: RunStore):
        self.store = store
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(MAX_PENDING)
        self._thread = threading.Thread(target=self._work, name="rmp-risk-recorder", daemon=True)

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._queue.put(None)
        self._thread.join()
        if self.error is not None and exc[0] is None:
            raise self.error

    def put(self, task: int, acc: Accumulators) -> None:
        """Hand over a finished task (raises the writer's error, if it failed)."""
        if self.error is not None:
            raise self.error
        self._queue.put((task, acc))

    def _work(self) -> None:
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            if batch[-1] is None:
                stop = True
                batch.pop()
            if not batch or self.error is not None:
                continue
            tasks = [task for task, _ in batch]
            total = batch[0][1]
            for _, acc in batch[1:]:
                total = total + acc
            try:
                self.store.record(tasks, total)
            except BaseException as err:  # handed to the run's thread by put and __exit__
                self.error = err
