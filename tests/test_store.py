"""The resumable Zarr store: interrupted runs resume to the identical cube, half-written entries
never count, a store of another run is refused, and the store's size stays bounded."""

import os
import re
import time
import warnings

import pytest
import xarray as xr

from engine import store as engine_store
from engine.accumulators import Accumulators
from engine.cli import main
from engine.io import OutputError, memory_layout, open_cube, write_cube
from engine.pipeline import simulate
from engine.recorder import Recorder
from engine.store import RunStore, StoreError

from .conftest import assert_same_cube, small, tasks_in_store, tweak, write_short_config

pytestmark = pytest.mark.slow  # compiles and runs the kernels

N_TASKS = 11  # 700 paths in blocks of 64, one block per task


@pytest.fixture(scope="module")
def short(model_config):
    return small(model_config, months=3, paths=700, block=64)


@pytest.fixture(scope="module")
def reference(short):
    return simulate(short, workers=2)


def interrupt_after(monkeypatch, owner, method: str, calls: int) -> list:
    """Make ``owner.<method>`` raise KeyboardInterrupt (as Ctrl-C would) on call ``calls``."""
    original = getattr(owner, method)
    seen = []

    def wrapped(self, *args, **kwargs):
        seen.append(args)
        if len(seen) == calls:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(owner, method, wrapped)
    return seen


def entries(path):
    return sorted(os.listdir(path / "progress"))


def recorded_tasks(monkeypatch) -> list:
    """The tasks ``RunStore.record`` is given from now on."""
    calls = []
    original = RunStore.record

    def record(self, tasks, acc):
        calls.extend(tasks)
        original(self, tasks, acc)

    monkeypatch.setattr(RunStore, "record", record)
    return calls


def test_an_interrupted_run_resumes_to_the_identical_cube(short, reference, tmp_path, monkeypatch):
    out = tmp_path / "run.zarr"
    monkeypatch.setattr(engine_store, "JOURNAL_LIMIT", 2)
    with monkeypatch.context() as patch:
        handed = interrupt_after(patch, Recorder, "put", 8)  # Ctrl-C with 7 tasks finished
        with pytest.raises(KeyboardInterrupt):
            simulate(short, workers=2, task_blocks=1, store=out)
    saved = {task for task, _ in handed[:7]}
    assert tasks_in_store(out) == saved  # every finished task was written, nothing else
    with pytest.raises(OutputError, match="not a finished cube"):
        open_cube(out)
    calls = recorded_tasks(monkeypatch)
    cube = simulate(short, workers=1, store=out, resume=True)
    assert sorted(calls + sorted(saved)) == list(range(N_TASKS))  # only the missing tasks ran
    assert_same_cube(cube, reference)
    assert_same_cube(open_cube(out), reference)
    assert cube.attrs["computed_task_blocks"] == 1  # the store's plan, not a new one
    assert cube.attrs["computed_resumed_tasks"] == 7


def test_a_crash_after_a_fold_counts_nothing_twice(short, reference, tmp_path, monkeypatch):
    """Killed after a new total is written but before the groups it folded are deleted."""
    out = tmp_path / "run.zarr"
    monkeypatch.setattr(engine_store, "JOURNAL_LIMIT", 2)
    with monkeypatch.context() as patch:
        interrupt_after(patch, RunStore, "_delete", 1)
        with pytest.raises(KeyboardInterrupt):
            simulate(short, workers=1, task_blocks=1, store=out)
    names = entries(out)
    assert sum(n.startswith("group-") for n in names) == 2
    assert sum(n.startswith("total-") for n in names) == 1
    saved = tasks_in_store(out)
    partial = out / "progress" / ".partial-group-000099-1"  # a half-written entry
    partial.mkdir()
    (partial / ".zgroup").write_text("{garbage")
    calls = recorded_tasks(monkeypatch)
    assert_same_cube(simulate(short, store=out, resume=True), reference)
    assert sorted(calls + sorted(saved)) == list(range(N_TASKS))
    names = entries(out)
    assert len(names) == 3 and names[2].startswith("total-")


def test_a_finished_store_resumes_without_simulating(short, reference, tmp_path, monkeypatch):
    out = tmp_path / "run.zarr"
    simulate(short, store=out)
    calls = recorded_tasks(monkeypatch)
    assert_same_cube(simulate(short, store=out, resume=True), reference)
    assert calls == []


def test_the_store_holds_a_bounded_number_of_entries(short, tmp_path, monkeypatch):
    out = tmp_path / "run.zarr"
    monkeypatch.setattr(engine_store, "JOURNAL_LIMIT", 4)
    sizes = []
    original = RunStore.record

    def record(self, tasks, acc):
        original(self, tasks, acc)
        sizes.append(len([e for e in entries(out) if e[0] != "."]))

    monkeypatch.setattr(RunStore, "record", record)
    simulate(short, paths=2000, workers=2, task_blocks=1, store=out)  # 32 tasks
    assert max(sizes) <= 4
    names = entries(out)
    assert len(names) == 3 and names[2].startswith("total-")


def test_the_recorder_groups_what_finished_while_it_wrote():
    class SlowStore:
        def __init__(self):
            self.calls = []

        def record(self, tasks, acc):
            time.sleep(0.05)
            self.calls.append((tasks, acc.n_paths))

    store = SlowStore()
    with Recorder(store) as recorder:
        for task in range(10):
            recorder.put(task, Accumulators.zeros(1, 1, 1) + _paths(task))
    assert len(store.calls) < 10
    assert sorted(t for tasks, _ in store.calls for t in tasks) == list(range(10))
    assert sum(n for _, n in store.calls) == sum(range(10))


def test_a_failed_write_stops_the_run():
    class FullDisk:
        def record(self, tasks, acc):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        with Recorder(FullDisk()) as recorder:
            recorder.put(0, Accumulators.zeros(1, 1, 1))
            time.sleep(0.05)
            recorder.put(1, Accumulators.zeros(1, 1, 1))


def _paths(n: int) -> Accumulators:
    acc = Accumulators.zeros(1, 1, 1)
    acc.n_paths = n
    return acc


def test_zarr_cubes_open_with_xarray_and_open_cube(reference, tmp_path):
    out = write_cube(reference, tmp_path / "cube.zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        direct = xr.open_zarr(out).load()
    assert direct.reserves_eom.dims == ("regime", "quantile", "time")  # CF: time last in files
    assert_same_cube(memory_layout(direct), reference)
    assert_same_cube(open_cube(out), reference)
    for key, value in reference.attrs.items():
        assert open_cube(out).attrs[key] == value, key
    write_cube(reference.isel(time=slice(0, 2)), out)  # replaced whole
    assert open_cube(out).sizes["time"] == 2 and not list(tmp_path.glob(".*"))


@pytest.mark.parametrize(
    ("args", "toml", "expected"),
    [
        (["--seed", "6"], {}, "simulation.seed differs (store: 5, this run: 6)"),
        (["--paths", "500"], {}, "simulation.n_paths differs (store: 400, this run: 500)"),
        ([], {"block": 32}, "simulation.block_size differs (store: 64, this run: 32)"),
        ([], {"months": 4}, "config key simulation.horizon_months differs (store: 3, this run: 4)"),
    ],
)
def test_resume_refuses_a_store_of_another_run(tmp_path, capsys, args, toml, expected):
    out = tmp_path / "run.zarr"
    config = write_short_config(tmp_path / "a.toml")
    assert main(["run", str(config), "--seed", "5", "--out", str(out), "--quiet"]) == 0
    other = write_short_config(tmp_path / "b.toml", **toml)
    seed = [] if "--seed" in args else ["--seed", "5"]
    capsys.readouterr()
    code = main(["run", str(other), *seed, *args, "--out", str(out), "--resume", "--quiet"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"rmp-risk: error: {out}: cannot resume: {expected}"


def test_an_existing_store_needs_resume_or_overwrite(tmp_path, capsys):
    out = tmp_path / "run.zarr"
    config = write_short_config(tmp_path / "a.toml", paths=100)
    assert main(["run", str(config), "--out", str(out), "--quiet"]) == 0
    assert main(["run", str(config), "--out", str(out), "--quiet"]) == 2
    assert "already exists (continue that run with --resume" in capsys.readouterr().err
    assert main(["run", str(config), "--out", str(out), "--seed", "3", "--overwrite"]) == 0
    assert open_cube(out).attrs["seed"] == 3
    assert main(["run", str(config), "--out", str(tmp_path / "c.nc"), "--resume"]) == 2
    (tmp_path / "notes.zarr").write_text("not a store")
    assert main(["run", str(config), "--out", str(tmp_path / "notes.zarr"), "--overwrite"]) == 2
    assert "is not a Zarr store" in capsys.readouterr().err


def test_resume_of_a_missing_store_starts_it(tmp_path):
    out = tmp_path / "new.zarr"
    config = write_short_config(tmp_path / "a.toml", paths=100)
    assert main(["run", str(config), "--out", str(out), "--resume", "--quiet"]) == 0
    assert int(open_cube(out).n_paths[0]) == 100


def test_a_store_of_something_else_is_refused(short, tmp_path):
    (tmp_path / "x.zarr").mkdir()
    with pytest.raises(StoreError, match="not an rmp-risk run store"):
        simulate(short, store=tmp_path / "x.zarr", resume=True)
    simulate(short, paths=64, store=tmp_path / "y.zarr")
    other = tweak(short, **{"spread.jump_p0": 0.5})
    with pytest.raises(StoreError, match=r"config key spread\.jump_p0 differs"):
        simulate(other, paths=64, store=tmp_path / "y.zarr", resume=True)


def _interrupted_store(short, out, monkeypatch, journal_limit, finished=7):
    """A store of ``short`` holding ``finished`` single-block tasks: in group entries, or
    folded into a total when ``journal_limit`` is small."""
    monkeypatch.setattr(engine_store, "JOURNAL_LIMIT", journal_limit)
    with monkeypatch.context() as patch:
        interrupt_after(patch, Recorder, "put", finished + 1)
        with pytest.raises(KeyboardInterrupt):
            simulate(short, workers=1, task_blocks=1, store=out)
    return entries(out)


def _chunk(out, name, array="counts"):
    (chunk,) = [p for p in (out / "progress" / name / array).iterdir() if p.name[0] != "."]
    return chunk


@pytest.mark.parametrize(
    "damage",
    [
        "missing_chunk",
        "truncated_chunk",
        "no_attributes",
        "garbage_attributes",
        "flipped_byte",
        "total_missing_chunk",
        "total_done_damaged",
        "wrong_path_count",
    ],
)
def test_a_damaged_entry_is_dropped_and_its_tasks_rerun(
    short, reference, tmp_path, monkeypatch, damage
):
    """Each kind of damage to an entry: the resume drops it (and says so) and reruns its tasks;
    the cube is the reference's, counts adding up to the paths."""
    out = tmp_path / "run.zarr"
    of_total = damage.startswith("total")
    names = _interrupted_store(short, out, monkeypatch, 2 if of_total else 100)
    entry = next(n for n in names if n.startswith("total-" if of_total else "group-"))
    group = total = entry
    attrs = out / "progress" / group / ".zattrs"
    if damage == "missing_chunk":
        _chunk(out, group).unlink()
    elif damage == "truncated_chunk":
        chunk = _chunk(out, group)
        chunk.write_bytes(chunk.read_bytes()[:20])
    elif damage == "no_attributes":
        attrs.unlink()
    elif damage == "garbage_attributes":
        attrs.write_text("{nonsense")
    elif damage == "flipped_byte":
        chunk = _chunk(out, group)
        data = bytearray(chunk.read_bytes())
        data[len(data) // 2] ^= 0x01
        chunk.write_bytes(bytes(data))
    elif damage == "total_missing_chunk":
        _chunk(out, total).unlink()
    elif damage == "total_done_damaged":
        _chunk(out, total, "done").unlink()
    elif damage == "wrong_path_count":
        # one path more than the entry holds (one task's 64, or more where the recorder
        # grouped several tasks before the interruption)
        text = re.sub(
            r'"n_paths": (\d+)', lambda m: f'"n_paths": {int(m.group(1)) + 1}', attrs.read_text()
        )
        assert text != attrs.read_text()
        attrs.write_text(text)
    notes = []
    cube = simulate(short, store=out, resume=True, on_start=notes.extend)
    assert_same_cube(cube, reference)
    assert len(notes) == 1 and "dropped damaged entry" in notes[0], notes
    assert entry in notes[0]


def test_a_damaged_store_root_is_rewritten_when_the_run_finishes(short, reference, tmp_path):
    out = tmp_path / "run.zarr"
    simulate(short, store=out)
    (out / ".zattrs").write_text("nonsense")
    (out / ".zmetadata").unlink()  # so the resume finishes it again
    assert_same_cube(simulate(short, store=out, resume=True), reference)
    assert_same_cube(open_cube(out), reference)
