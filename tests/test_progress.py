"""The progress bar, with and without a status line after its ETA (a stream in memory)."""

from __future__ import annotations

import io

from engine.progress import Progress


def drawn(stream: io.StringIO) -> list[str]:
    """The lines a terminal would have shown, one per redraw."""
    return [line for line in stream.getvalue().split("\r") if line]


def test_the_bar_shows_the_jobs_line_after_the_eta():
    stream = io.StringIO()
    status = iter(["jobs: 0 running, 2 pending (Priority)", "jobs: 2 running"])
    with Progress(100, stream=stream, status=lambda: next(status)) as bar:
        bar.advance(50)  # within the refresh interval: not drawn
    first, last = drawn(stream)
    assert first.startswith("[") and "0/100 paths" in first
    assert first.endswith("ETA     ?  jobs: 0 running, 2 pending (Priority)")
    assert "50/100 paths" in last and last.rstrip().endswith("ETA     0s  jobs: 2 running")


def test_a_shorter_line_blanks_what_the_longer_one_left():
    stream = io.StringIO()
    long, short = "jobs: 0 running, 2 pending (Priority, Resources)", "jobs: 2 running"
    status = iter([long, short])
    bar = Progress(100, stream=stream, status=lambda: next(status))
    bar.draw(force=True)
    bar.draw(force=True)
    first, second = drawn(stream)
    assert first.endswith(long) and second.endswith(short + " " * (len(long) - len(short)))


def test_without_status_the_bar_is_unchanged():
    stream = io.StringIO()
    with Progress(10, stream=stream, status=lambda: None) as bar:
        bar.advance(10)
    lines = [line.rstrip() for line in drawn(stream)]
    assert lines[0].endswith("ETA     ?") and lines[-1].endswith("ETA     0s")
