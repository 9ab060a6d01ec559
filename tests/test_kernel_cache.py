"""The disk cache of compiled kernels: when it is on, how it is keyed, that it locks its writes,
that a damaged entry is a miss, that ``rmp-risk cache`` shows and clears it, and that a warm
cache gives the same bits as compiling.

The suite runs with the cache off (``tests/conftest.py``); these tests turn it on in a temporary
folder, in this process for one small function or in their own subprocesses for the kernels.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numba
import pytest
from numba.core.caching import IndexDataCacheFile

from engine import kernel_cache
from engine.cli import main
from engine.kernel_cache import (
    BATCH_JOB_ENVS,
    DIR_ENV,
    ENV,
    LOCK_NAME,
    Policy,
    attach,
    cache_key,
    cache_root,
    clear,
    filesystem_type,
    key_folders,
    module_sources,
    policy,
)

from .conftest import MODEL_CONFIG, ROOT

ENGINE = ROOT / "engine"


@pytest.fixture
def mounts(tmp_path):
    """A mounts table (as /proc/mounts writes it) of folders made under ``tmp_path``: ``root``
    on ext4 and, inside it, a folder for each of several file systems."""
    root = Path(os.path.realpath(tmp_path))
    kinds = {"nfs": "nfs4", "lustre": "lustre", "sshfs": "fuse.sshfs", "odd": "somefs"}
    kinds |= {"scratch space": "xfs", "ram": "tmpfs"}
    lines = ["/dev/vda / ext4 rw 0 0", f"/dev/vdb {root} ext4 rw 0 0"]
    for name, kind in kinds.items():
        (root / name).mkdir()
        lines.append(f"src {str(root / name).replace(' ', chr(92) + '040')} {kind} rw 0 0")
    lines.append(f"/dev/vdc {root / 'ram'} nfs rw 0 0")  # mounted over by the tmpfs below
    lines.append(f"tmpfs {root / 'ram'} tmpfs rw 0 0")
    (root / "link").symlink_to(root / "nfs")
    table = root / "mounts"
    table.write_text("\n".join(lines) + "\n")
    return root, str(table)


@pytest.mark.parametrize(
    ("folder", "value", "job", "enabled", "reason"),
    [
        ("local/rmp", None, None, True, "local disk (ext4)"),
        ("local/rmp", "auto", None, True, "local disk (ext4)"),
        ("scratch space/a/b", None, None, True, "local disk (xfs)"),
        ("ram/c", None, None, True, "local disk (tmpfs)"),
        ("nfs/home/u/.cache", None, None, False, "on nfs4, not a local disk"),
        ("link/u", None, None, False, "on nfs4"),  # the folder's real path decides
        ("lustre/u", None, None, False, "on lustre"),
        ("sshfs/u", None, None, False, "on fuse.sshfs"),
        ("odd/u", None, None, False, "on somefs"),  # unknown: not known to be local
        ("nfs/u", "1", None, True, f"on: {ENV}=1"),
        ("nfs/u", "on", None, True, f"on: {ENV}=on"),
        ("local/rmp", "0", None, False, f"off: {ENV}=0"),
        ("local/rmp", "OFF", None, False, f"off: {ENV}=OFF"),
        ("local/rmp", "maybe", None, False, "none of 0, 1, auto"),
        ("local/rmp", None, "SLURM_JOB_ID", False, "a batch job (SLURM_JOB_ID is set)"),
        ("local/rmp", None, "PBS_JOBID", False, "a batch job (PBS_JOBID is set)"),
        ("local/rmp", "1", "SLURM_JOB_ID", True, f"on: {ENV}=1"),
    ],
)
def test_policy_follows_the_switch_the_file_system_and_batch_jobs(
    mounts, folder, value, job, enabled, reason
):
    root, table = mounts
    environ = {DIR_ENV: str(root / folder)}
    if value is not None:
        environ[ENV] = value
    if job is not None:
        environ[job] = "4242"
    rule = policy(environ, table)
    assert (rule.enabled, rule.root) == (enabled, root / folder)
    assert reason in rule.reason, rule.reason


def test_without_a_mounts_table_the_file_system_is_unknown_and_the_cache_off(tmp_path):
    assert filesystem_type(tmp_path, str(tmp_path / "none")) is None
    rule = policy({DIR_ENV: str(tmp_path)}, str(tmp_path / "none"))
    assert not rule.enabled and "unknown" in rule.reason
    assert policy({DIR_ENV: str(tmp_path), ENV: "1"}, str(tmp_path / "none")).enabled


def test_batch_jobs_are_recognised_by_their_variables():
    for name in BATCH_JOB_ENVS:
        assert not policy({name: "1"}).enabled


def test_the_folder_is_the_override_else_under_xdg_cache_home_else_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home_cache = tmp_path / "home" / ".cache" / "rmp-risk" / "numba"
    assert cache_root({}) == home_cache
    assert cache_root({"XDG_CACHE_HOME": "relative/ignored"}) == home_cache  # the spec's rule
    xdg = tmp_path / "xdg"
    assert cache_root({"XDG_CACHE_HOME": str(xdg)}) == xdg / "rmp-risk" / "numba"
    both = {"XDG_CACHE_HOME": str(xdg), DIR_ENV: str(tmp_path / "mine")}
    assert cache_root(both) == tmp_path / "mine"


def _engine_module_files(*modules: str) -> set[Path]:
    """The engine files loaded by importing ``modules`` in a fresh process."""
    code = (
        f"import sys\nimport {', '.join(modules)}\n"
        "print('\\n'.join(m.__file__ for n, m in sys.modules.items()"
        " if n.startswith('engine') and getattr(m, '__file__', None)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return {Path(line).resolve() for line in done.stdout.splitlines()}


@pytest.mark.parametrize(
    ("module", "path"),
    [
        ("engine.kernels.paths", "kernels/paths.py"),
        ("engine.testing.draw_only", "testing/draw_only.py"),
    ],
)
def test_the_key_covers_every_engine_module_a_kernel_module_imports(module, path):
    """numba checks only the compiled function's own file; the key also covers what it inlines
    and the constants it reads: every engine module its module loads."""
    covered = set(module_sources(str(ENGINE / path)))
    loaded = _engine_module_files(module)
    assert loaded <= covered, sorted(map(str, loaded - covered))
    expected = {"accelerate.py", "kernel_cache.py", "parameters.py", "curves.py"}
    expected |= {"kernels/layout.py", "kernels/draws.py", "kernels/random.py"}
    assert {ENGINE / name for name in expected} <= covered
    assert not {ENGINE / "cli.py", ENGINE / "pipeline.py"} & covered


@pytest.fixture
def engine_copy(tmp_path, monkeypatch):
    """A copy of the engine's sources, which ``kernel_cache`` keys instead of the engine."""
    copy = tmp_path / "engine"
    shutil.copytree(ENGINE, copy, ignore=shutil.ignore_patterns("__pycache__", "data"))
    monkeypatch.setattr(kernel_cache, "_ENGINE", copy)
    caches = (kernel_cache._engine_imports, kernel_cache.module_sources, cache_key)
    for cached in caches:
        cached.cache_clear()
    yield copy
    for cached in caches:
        cached.cache_clear()


def test_the_key_changes_with_every_source_it_covers_and_only_those(engine_copy):
    kernel = str(engine_copy / "kernels" / "paths.py")

    def key_after(edit: str | None) -> str:
        if edit is not None:
            with open(engine_copy / edit, "a") as f:
                f.write("\n# edited\n")
        for cached in (kernel_cache._engine_imports, kernel_cache.module_sources, cache_key):
            cached.cache_clear()
        return cache_key(kernel, False)

    keys = [key_after(None)]
    assert cache_key(kernel, True) != keys[0]  # the libm rebinding
    for covered in ("kernels/paths.py", "kernels/draws.py", "parameters.py", "accelerate.py"):
        keys.append(key_after(covered))
    assert len(set(keys)) == len(keys)
    assert key_after("cli.py") == keys[-1]  # not imported by the kernels


def test_clear_removes_the_key_folders_and_nothing_else(tmp_path):
    keys = [tmp_path / "0123456789abcdef", tmp_path / "fedcba9876543210"]
    for folder in keys:
        (folder / "kernels_x").mkdir(parents=True)
        (folder / "kernels_x" / "f.nbi").write_bytes(b"x")
    others = [tmp_path / "notes", tmp_path / "0123", tmp_path / "0123456789ABCDEF"]
    for folder in others:
        folder.mkdir()
    (tmp_path / "0123456789abcdee").write_text("a file, not a folder")
    assert key_folders(tmp_path) == keys
    assert clear(tmp_path) == 2
    assert not any(folder.exists() for folder in keys)
    assert all(folder.exists() for folder in others)
    assert (tmp_path / "0123456789abcdee").exists()
    assert clear(tmp_path / "missing") == 0


def _cached(py_func, folder: Path):
    dispatcher = numba.njit(py_func)
    assert attach(dispatcher, False, Policy(True, folder, "test"))
    return dispatcher


def test_a_save_holds_the_lock_and_a_damaged_entry_is_a_miss(tmp_path, monkeypatch):
    def scaled(x):
        return 3.0 * x + 1.0

    held = []
    save = IndexDataCacheFile.save

    def probing_save(self, key, data):  # another open file cannot take the lock meanwhile
        fd = os.open(os.path.join(self._cache_path, LOCK_NAME), os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held.append(False)
        except BlockingIOError:
            held.append(True)
        finally:
            os.close(fd)
        return save(self, key, data)

    monkeypatch.setattr(IndexDataCacheFile, "save", probing_save)
    first = _cached(scaled, tmp_path)
    assert first(2.0) == 7.0
    assert held == [True]
    assert sum(first.stats.cache_misses.values()) == 1
    assert first.stats.cache_path.startswith(str(tmp_path / cache_key(__file__, False)))

    second = _cached(scaled, tmp_path)
    assert second(2.0) == 7.0
    assert sum(second.stats.cache_hits.values()) == 1 and not second.stats.cache_misses

    (data,) = Path(first.stats.cache_path).glob("*.nbc")
    data.write_bytes(b"damaged")
    third = _cached(scaled, tmp_path)
    assert third(2.0) == 7.0
    assert not third.stats.cache_hits and sum(third.stats.cache_misses.values()) == 1


def test_an_unwritable_folder_compiles_without_a_cache(tmp_path):
    blocked = tmp_path / "a file"
    blocked.write_text("a file where the folder would be")
    dispatcher = numba.njit(lambda x: x + 1)
    assert not attach(dispatcher, False, Policy(True, blocked, "test"))
    with pytest.warns(RuntimeWarning, match="cannot write"):
        assert not attach(numba.njit(lambda x: x), False, Policy(True, blocked, "t", asked=True))
    assert dispatcher(1) == 2


def test_the_cache_command_shows_and_clears_the_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(DIR_ENV, str(tmp_path))
    monkeypatch.delenv(ENV)
    for name in BATCH_JOB_ENVS:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "0123456789abcdef" / "kernels_x").mkdir(parents=True)
    (tmp_path / "0123456789abcdef" / "kernels_x" / "f.nbc").write_bytes(b"x" * 2_000_000)
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    assert f"numba cache {policy().reason}" in out
    assert f"folder: {tmp_path} (1 keys, 1 files, 2.0 MB)" in out
    assert main(["cache", "--clear"]) == 0
    assert "removed 1 folder of compiled kernels" in capsys.readouterr().out
    assert key_folders(tmp_path) == []
    monkeypatch.setenv(ENV, "0")
    assert main(["cache"]) == 0
    assert f"numba cache off: {ENV}=0" in capsys.readouterr().out


PROBE = """
import dataclasses, hashlib, json, sys
import numpy as np
from numba.core.dispatcher import Dispatcher
from engine.cluster import LocalBackend
from engine.config import load_config
from engine.run import plan_tasks, run_plan
from engine.schedule import build_schedule

config = load_config(sys.argv[1])
sim = dataclasses.replace(config.simulation, n_paths=2048, block_size=512, horizon_months=3)
schedule = build_schedule(dataclasses.replace(config, simulation=sim))
acc = run_plan(LocalBackend(workers=1), schedule, 20251201, plan_tasks(2048, 512, 1))
digest = hashlib.sha256()
for array in acc.arrays:
    digest.update(f"{array.dtype}{array.shape}".encode())
    digest.update(np.ascontiguousarray(array).tobytes())
hits = misses = 0
for name, module in list(sys.modules.items()):
    if name.startswith("engine.kernels"):
        for value in vars(module).values():
            if isinstance(value, Dispatcher):
                hits += sum(value.stats.cache_hits.values())
                misses += sum(value.stats.cache_misses.values())
print(json.dumps({"digest": digest.hexdigest(), "hits": hits, "misses": misses}))
"""


def _probe(environ: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", PROBE, str(MODEL_CONFIG)],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    return json.loads(out.splitlines()[-1])


@pytest.mark.slow  # compiles the kernels in three processes
def test_processes_fill_one_folder_at_once_and_a_warm_cache_gives_the_same_bits(tmp_path):
    """Two processes compile into one empty folder at the same time; a third loads the kernel
    from it and compiles nothing; all three count the same bits as a run without the cache."""
    base = {k: v for k, v in os.environ.items() if k not in BATCH_JOB_ENVS}
    cached = base | {ENV: "1", DIR_ENV: str(tmp_path / "cache")}
    cold = [_probe(cached), _probe(cached)]
    cold = [_result(process) for process in cold]
    assert list((tmp_path / "cache").rglob("*.nbi")) and list((tmp_path / "cache").rglob("*.nbc"))
    warm = _result(_probe(cached))
    off = _result(_probe(base | {ENV: "0"}))
    assert all(run["misses"] > 0 for run in cold)
    assert warm["hits"] > 0 and warm["misses"] == 0
    assert off["hits"] == 0 and off["misses"] > 0
    assert {run["digest"] for run in [*cold, warm, off]} == {off["digest"]}
