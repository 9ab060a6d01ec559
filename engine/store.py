"""The resumable run store: a Zarr directory that a run fills with finished tasks, then its cube.

Layout (Zarr format 2, on a local or shared file system)::

    run.zarr/
        .zgroup, .zattrs, <cube variables>   the finished cube (attrs: the cube's)
        .zmetadata                           consolidated metadata, written last: "finished"
        progress/
            .zgroup, .zattrs                 the run's identity, written once with the store
            total-000040/                    counts of every task folded so far; done (bool, T)
            group-000043/                    counts of a group of finished tasks (attrs: tasks)
            .partial-*                       being written or deleted: never read

Each entry holds ``counts``, the ``Accumulators`` arrays raveled and concatenated in field order
(int64, compressed), and its ``n_paths``. An entry is written under a ``.partial-`` name and
renamed into place (and renamed away before it is deleted), so a named entry is always whole;
the store itself is made the same way. Entries are numbered in the order they are written.
Every entry carries the sha256 of its arrays and its path count; on opening, an entry whose
arrays do not match their checksums, whose path count is not its tasks' or that cannot be read
is dropped (named on screen) and its tasks run again. Opening a store removes the ``.partial-``
entries, keeps the newest total and adds the groups that total does not count (a crash between
writing a total and deleting the groups it folded in leaves groups it already counts: they are
dropped, not added twice). Every task that reached the store survives an interruption; any other
task runs again. Groups are folded into a new total every JOURNAL_LIMIT groups, so the store
holds at most JOURNAL_LIMIT groups and one total (~0.3 MB each, 24 months, compressed) whatever
the number of paths.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .accumulators import Accumulators
from .config import Config, first_difference
from .errors import InputError
from .io import ZARR_FORMAT, remove_path, replace_dir, write_zarr
from .run import TaskPlan

if TYPE_CHECKING:
    import xarray as xr

PROGRESS = "progress"
PARTIAL = ".partial-"
JOURNAL_LIMIT = 16  # group entries kept before they are folded into a new total
STORE_FORMAT = 2  # 2: entries carry checksums
CHECKED = (  # identity keys compared on --resume, in this order, with the name shown
    ("n_paths", "simulation.n_paths"),
    ("seed", "simulation.seed"),
    ("block_size", "simulation.block_size"),
    ("task_blocks", "task_blocks"),
)


class StoreError(InputError):
    """A store that cannot be created or resumed as asked."""


def run_identity(config: Config, plan: TaskPlan) -> dict[str, Any]:
    """What fixes a run's numbers and its task plan: recorded when its store is made."""
    sim = config.simulation
    return {
        "store_format": STORE_FORMAT,
        "config_sha256": config.sha256,
        "seed": sim.seed,
        "n_paths": sim.n_paths,
        "block_size": sim.block_size,
        "task_blocks": plan.task_blocks,
        "n_tasks": plan.n_tasks,
        "config_json": config.to_json(),
    }


def check_new_store(path: Path, overwrite: bool) -> None:
    """StoreError unless a new store may be made at ``path``."""
    if path.exists() and not overwrite:
        raise StoreError(
            f"{path}: already exists (continue that run with --resume, "
            "or replace it with --overwrite)"
        )
    if path.exists() and not (path / ".zgroup").is_file():
        raise StoreError(f"{path}: exists and is not a Zarr store; not replacing it")


class RunStore:
    """A run's store: its identity, which tasks are done (``done``, bool (T,)) and the sum of
    their counts (``total``). Make one with ``create`` or ``open``."""

    def __init__(self, path: Path, identity: dict[str, Any], empty: Accumulators):
        self.path, self.identity = path, identity
        self.progress = path / PROGRESS
        self.done = np.zeros(int(identity["n_tasks"]), dtype=bool)
        self.total = copy.deepcopy(empty)
        self._journal: list[str] = []  # task entries not folded into the newest total
        self._totals: list[str] = []  # total entries on disk, oldest first
        self._sequence = 0
        self.dropped: list[str] = []  # damaged entries found on opening, one line each

    @property
    def plan(self) -> TaskPlan:
        ident = self.identity
        return TaskPlan(int(ident["n_paths"]), int(ident["block_size"]), int(ident["task_blocks"]))

    @property
    def finished(self) -> bool:
        """The cube has been written (possibly by an earlier session)."""
        return (self.path / ".zmetadata").is_file()

    @classmethod
    def create(
        cls,
        path: str | Path,
        identity: dict[str, Any],
        empty: Accumulators,
        overwrite: bool = False,
    ) -> RunStore:
        """A new, empty store at ``path``; an existing one is replaced only if ``overwrite``."""
        import zarr

        path = Path(path)
        check_new_store(path, overwrite)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{PARTIAL}{path.name}-{os.getpid()}")
        try:
            root = zarr.open_group(tmp, mode="w", zarr_format=ZARR_FORMAT)
            root.attrs["title"] = "rmp-risk: a run in progress (see progress/.zattrs)"
            root.create_group(PROGRESS).attrs.update(identity)
            replace_dir(tmp, path)
        finally:
            remove_path(tmp)
        return cls(path, identity, empty)

    @classmethod
    def open(cls, path: str | Path, expected: dict[str, Any], empty: Accumulators) -> RunStore:
        """The store at ``path`` with its finished tasks loaded, after checking that it was made
        by the run ``expected`` describes (keys of ``run_identity``; ``task_blocks`` optional)."""
        import zarr

        path = Path(path)
        try:
            group = zarr.open_group(path / PROGRESS, mode="r", zarr_format=ZARR_FORMAT)
            identity = dict(group.attrs)
        except (FileNotFoundError, KeyError, ValueError, json.JSONDecodeError):
            raise StoreError(f"{path}: not an rmp-risk run store (no progress group)") from None
        _check_identity(path, identity, expected)
        store = cls(path, identity, empty)
        store._load()
        return store

    def record(self, tasks: Sequence[int], acc: Accumulators) -> None:
        """Add ``acc``, the counts of the finished ``tasks``: durable once this returns."""
        tasks = [int(t) for t in tasks]
        if self.done[tasks].any():
            raise RuntimeError(f"{self.path}: tasks {tasks} recorded twice")
        self._sequence += 1
        name = f"group-{self._sequence:06d}"
        self._write_entry(name, acc, {"tasks": tasks})
        self.total += acc
        self.done[tasks] = True
        self._journal.append(name)
        if len(self._journal) >= JOURNAL_LIMIT:
            self.fold()

    def fold(self) -> None:
        """Write the total of every finished task as one entry; drop the entries it replaces."""
        if self._totals and not self._journal:
            return
        self._sequence += 1
        name = f"total-{self._sequence:06d}"
        self._write_entry(name, self.total, {}, done=self.done)
        for old in self._journal + self._totals:
            self._delete(old)
        self._journal, self._totals = [], [name]

    def finish(self, cube: xr.Dataset) -> None:
        """Write ``cube`` (of every task) into the store's root; this marks the run finished."""
        if not self.done.all():
            raise RuntimeError(f"{self.path}: {int((~self.done).sum())} tasks are not done")
        self.fold()
        remove_path(self.path / ".zmetadata")  # "finished" again only once the cube is whole
        remove_path(self.path / ".zattrs")  # the cube's attributes are written anew below
        for name in cube.variables:  # left by an earlier finish: derived, so safe to redo
            remove_path(self.path / str(name))
        write_zarr(cube, self.path, mode="a")

    def _load(self) -> None:
        entries = sorted(os.listdir(self.progress))
        for name in entries:
            if name.startswith(PARTIAL):
                remove_path(self.progress / name)
        named = sorted((n for n in entries if n.startswith(("total-", "group-"))), key=_number)
        totals = [name for name in named if name.startswith("total-")]
        if totals:
            entry = self._verified(totals[-1])
            if entry is not None:
                acc, done = entry
                self.total += acc
                self.done[:] = done
                self._totals = totals[-1:]
            for old in totals[:-1]:
                self._delete(old)
        for name in named:
            if not name.startswith("group-"):
                continue
            entry = self._verified(name)
            if entry is None:
                continue
            acc, tasks = entry
            if self.done[tasks].all():
                self._delete(name)  # already in the total
            elif self.done[tasks].any():
                self._drop(name, "its tasks overlap others already counted")
            else:
                self.total += acc
                self.done[tasks] = True
                self._journal.append(name)
        self._sequence = _number(named[-1]) if named else 0

    def _verified(self, name: str):
        """An entry's (counts, done tasks) once its checksums and its path count agree with
        its tasks; None, the entry deleted and its tasks left to run again, if damaged."""
        try:
            group = self._read(name)
            attrs = dict(group.attrs)
            counts = group["counts"][...]
            if _sha256(counts) != attrs["counts_sha256"]:
                return self._drop(name, "its counts do not match their checksum")
            if name.startswith("total-"):
                done = group["done"][...]
                if done.shape != self.done.shape or _sha256(done) != attrs["done_sha256"]:
                    return self._drop(name, "its list of done tasks does not match its checksum")
                tasks = [int(t) for t in done.nonzero()[0]]
            else:
                tasks = [int(t) for t in attrs["tasks"]]
                if not tasks or min(tasks) < 0 or max(tasks) >= self.done.size:
                    return self._drop(name, "its tasks are not tasks of this run")
                done = tasks
            acc = self._accumulators(counts, int(attrs["n_paths"]))
        except Exception as err:  # any damage: unreadable chunks, metadata, attributes
            reason = f"unreadable ({type(err).__name__}: {str(err).splitlines()[0][:80]})"
            return self._drop(name, reason)
        expected = sum(self.plan.paths(t) for t in tasks)
        if acc.n_paths != expected:
            return self._drop(name, f"it counts {acc.n_paths} paths, its tasks {expected}")
        return acc, done

    def _drop(self, name: str, reason: str) -> None:
        self.dropped.append(f"{self.path}: dropped damaged entry {PROGRESS}/{name} ({reason})")
        self._delete(name)
        return None

    def _read(self, name: str):
        import zarr

        return zarr.open_group(self.progress / name, mode="r", zarr_format=ZARR_FORMAT)

    def _write_entry(self, name: str, acc: Accumulators, attrs: dict, done=None) -> None:
        import zarr

        tmp = self.progress / f"{PARTIAL}{name}-{os.getpid()}"
        try:
            group = zarr.open_group(tmp, mode="w", zarr_format=ZARR_FORMAT)
            arrays = {"counts": np.concatenate([a.ravel() for a in acc.arrays])}
            if done is not None:
                arrays["done"] = done
            for key, array in arrays.items():
                group.create_array(key, data=array, chunks=array.shape)
            sums = {f"{key}_sha256": _sha256(array) for key, array in arrays.items()}
            group.attrs.update(n_paths=acc.n_paths, **sums, **attrs)
            os.rename(tmp, self.progress / name)
        finally:
            remove_path(tmp)

    def _accumulators(self, flat: np.ndarray, n_paths: int) -> Accumulators:
        """An entry's raveled counts, shaped like ``total``'s arrays."""
        arrays, start = [], 0
        for like in self.total.arrays:
            arrays.append(flat[start : start + like.size].reshape(like.shape))
            start += like.size
        if start != flat.size:
            raise ValueError(f"counts of another shape ({flat.size} values, not {start})")
        return Accumulators(n_paths, *arrays)

    def _delete(self, name: str) -> None:
        doomed = self.progress / f"{PARTIAL}deleted-{name}-{os.getpid()}"
        os.rename(self.progress / name, doomed)
        remove_path(doomed)


def _sha256(array: np.ndarray) -> str:
    """Checksum of an array's values (little-endian bytes of its dtype)."""
    data = np.ascontiguousarray(array)
    return hashlib.sha256(data.astype(data.dtype.newbyteorder("<")).tobytes()).hexdigest()


def _number(name: str) -> int:
    return int(name.split("-")[1])


def _check_identity(path: Path, found: dict[str, Any], expected: dict[str, Any]) -> None:
    if found.get("store_format") != STORE_FORMAT:
        raise StoreError(f"{path}: store format {found.get('store_format')!r} is not supported")
    for key, label in CHECKED:
        if key in expected and expected[key] != found.get(key):
            raise StoreError(
                f"{path}: cannot resume: {label} differs "
                f"(store: {found.get(key)}, this run: {expected[key]})"
            )
    if expected["config_sha256"] != found.get("config_sha256"):
        diff = first_difference(
            json.loads(found["config_json"]), json.loads(expected["config_json"])
        )
        key, was, now = diff if diff else ("config_sha256", found["config_sha256"], "?")
        raise StoreError(
            f"{path}: cannot resume: config key {key} differs (store: {was}, this run: {now})"
        )
