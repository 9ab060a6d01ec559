"""A progress bar with an ETA, fed by finished tasks whatever scheduler runs them.

Backends report each finished task (``engine.cluster``: a local-scheduler callback, or
``distributed.as_completed`` on the futures); the run passes the task's paths to ``advance``,
and redraws while nothing finishes (``draw``), so that the state of a batch queue's jobs
(e.g. ``jobs: 0 running, 2 pending (Priority)``) shows why nothing moves.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 30
REFRESH_SECONDS = 0.2


class Progress:
    """Share done, paths done, paths per second and ETA, drawn on ``stream`` (stderr).

    Parameters
    ----------
    n_paths : int
        Paths of the whole run.
    done : int
        Paths already done before this session (a resumed run); they do not count in the rate.
    unit : str
        What is counted ("paths"; "origins" for an evaluation).
    status : callable, optional
        Returns what the workers are doing (e.g. a batch queue's jobs), drawn after the ETA;
        None or "" draws nothing.
    """

    def __init__(
        self,
        n_paths: int,
        done: int = 0,
        stream: TextIO | None = None,
        status: Callable[[], str | None] | None = None,
        unit: str = "paths",
    ):
        self.n_paths, self.done, self.resumed = n_paths, done, done
        self.unit = unit
        self.stream = stream or sys.stderr
        self.status = status
        self.started = self.last_drawn = 0.0
        self.width = 0  # characters of the last line drawn, blanked when a shorter one follows

    def __enter__(self) -> Progress:
        self.started = time.perf_counter()
        self.draw(force=True)
        return self

    def __exit__(self, *exc) -> None:
        self.draw(force=True)
        self.stream.write("\n")
        self.stream.flush()

    def advance(self, paths: int) -> None:
        """Count ``paths`` more paths done."""
        self.done += paths
        self.draw()

    def draw(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self.last_drawn < REFRESH_SECONDS:
            return
        self.last_drawn = now
        share = self.done / self.n_paths if self.n_paths else 1.0
        elapsed = now - self.started
        rate = (self.done - self.resumed) / elapsed if elapsed > 0 else 0.0
        eta = (self.n_paths - self.done) / rate if rate > 0 else float("nan")
        filled = round(share * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        eta_text = f"ETA {eta:5.0f}s" if eta == eta else "ETA     ?"
        line = (
            f"[{bar}] {share:6.1%}  {self.done:,}/{self.n_paths:,} {self.unit}  "
            f"{rate:,.{2 if rate < 10 else 0}f} {self.unit}/s  {elapsed:5.1f}s  {eta_text}"
        )
        status = self.status() if self.status is not None else None
        if status:
            line += f"  {status}"
        self.stream.write("\r" + line.ljust(self.width))
        self.width = len(line)
        self.stream.flush()
