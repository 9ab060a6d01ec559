"""A progress bar with an ETA for runs on dask's local schedulers (threads, processes)."""

from __future__ import annotations

import sys
import time

from dask.callbacks import Callback

BAR_WIDTH = 30
REFRESH_SECONDS = 0.2


class ProgressBar(Callback):
    """Counts finished simulation tasks (keys starting with ``prefix``) and draws a bar on
    ``stream`` (stderr by default): share done, paths done, paths per second and ETA."""

    def __init__(self, prefix: str, n_paths: int, stream=None):
        super().__init__()
        self.prefix, self.n_paths = prefix, n_paths
        self.stream = stream or sys.stderr
        self.total = self.done = 0
        self.started = self.last_drawn = 0.0

    def _start_state(self, dsk, state):
        self.total = sum(1 for key in dsk if str(key).startswith(self.prefix))
        self.done = 0
        self.started = time.perf_counter()
        self._draw(force=True)

    def _posttask(self, key, result, dsk, state, worker_id):
        if str(key).startswith(self.prefix):
            self.done += 1
            self._draw()

    def _finish(self, dsk, state, errored):
        self._draw(force=True)
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self.last_drawn < REFRESH_SECONDS:
            return
        self.last_drawn = now
        share = self.done / self.total if self.total else 1.0
        elapsed = now - self.started
        paths = int(share * self.n_paths)
        rate = paths / elapsed if elapsed > 0 else 0.0
        eta = (self.n_paths - paths) / rate if rate > 0 else float("nan")
        filled = round(share * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        eta_text = f"ETA {eta:5.0f}s" if eta == eta else "ETA     ?"
        self.stream.write(
            f"\r[{bar}] {share:6.1%}  {paths:,}/{self.n_paths:,} paths  "
            f"{rate:,.0f} paths/s  {elapsed:5.1f}s  {eta_text}"
        )
        self.stream.flush()
