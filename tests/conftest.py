"""Shared fixtures: the judgement config and small, fast variants of it; a dask cluster."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
import xarray as xr

from engine.accelerate import CACHE_ENV
from engine.config import Config, load_config
from engine.kernel_cache import DIR_ENV as CACHE_DIR_ENV
from engine.schedule import build_schedule

ROOT = Path(__file__).resolve().parent.parent
# The engine's mechanics are tested on the judgement config (MODEL.md's starting values), which
# does not move when the shipped default is calibrated again on newer data.
MODEL_CONFIG = ROOT / "configs" / "judgement.toml"
SHIPPED_DEFAULT = ROOT / "configs" / "default.toml"  # calibrated: `rmp-risk calibrate`
PREVIOUS_DEFAULT = ROOT / "tests" / "data" / "previous_default.toml"  # frequent stress
# and computed_*: how a cube was computed, written
RUN_ATTRS = ("history", "metadata_sha256", "data_sha256")

# No numba disk cache here nor in the processes tests start (the command line, local process
# pools): every process compiles, as a user's first run does, and nothing is written to the
# user's cache. The cache's own tests turn it on in a temporary folder, in their own
# subprocesses. The one exception is `worker_kernel_cache`, below.
os.environ[CACHE_ENV] = "0"


@pytest.fixture(scope="session")
def worker_kernel_cache(tmp_path_factory) -> dict[str, str]:
    """The environment of the worker processes of the distributed LocalClusters and the SLURM
    jobs (stand-in and real) the tests start: the disk cache of compiled kernels on, in one
    temporary folder for the session, so that the kernels compile once for all those workers
    rather than in each one (about 15 s of a core apiece). What the tests of clusters prove
    does not depend on it: a warm cache gives the bits of a compile
    (tests/test_kernel_cache.py), and the user's cache is not touched."""
    return {CACHE_ENV: "1", CACHE_DIR_ENV: str(tmp_path_factory.mktemp("kernel-cache"))}


@pytest.fixture(scope="session")
def dask_client(worker_kernel_cache):
    """A distributed LocalCluster of 2 single-threaded worker processes, closed after the run;
    its workers share the session's kernel cache."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            env=worker_kernel_cache,
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client


def write_short_config(path: Path, paths: int = 400, block: int = 64, months: int = 3) -> Path:
    """A TOML config based on the default with a short horizon, few paths and small blocks."""
    path.write_text(
        f'base = "{MODEL_CONFIG}"\n'
        f"[simulation]\nhorizon_months = {months}  # months\n"
        f"n_paths = {paths}  # paths\nblock_size = {block}  # paths\n"
    )
    return path


def assert_same_cube(a: xr.Dataset, b: xr.Dataset) -> None:
    """Every number, coordinate and variable attribute identical, and every global attribute
    except those that say how (and when) the cube was computed."""

    def numbers(ds: xr.Dataset) -> xr.Dataset:
        out = ds.copy()
        out.attrs = {
            k: v
            for k, v in ds.attrs.items()
            if k not in RUN_ATTRS and not k.startswith("computed_")
        }
        return out

    xr.testing.assert_identical(numbers(a), numbers(b))


@pytest.fixture(scope="session")
def model_config() -> Config:
    return load_config(MODEL_CONFIG)


@pytest.fixture(scope="session")
def model_schedule(model_config):
    return build_schedule(model_config)


def small(config: Config, *, months: int | None = None, paths: int = 1000, block: int = 128):
    """The config with fewer paths, a smaller block and optionally a shorter horizon."""
    sim = dataclasses.replace(config.simulation, n_paths=paths, block_size=block)
    if months is not None:
        sim = dataclasses.replace(sim, horizon_months=months)
    return dataclasses.replace(config, simulation=sim)


def tweak(config: Config, **changes) -> Config:
    """A copy of ``config`` with dotted fields replaced: ``tweak(c, **{"spread.jump_p0": 0.0})``."""
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        chain = [config]
        for name in parents:
            chain.append(getattr(chain[-1], name))
        new = dataclasses.replace(chain[-1], **{leaf: value})
        for owner, name in zip(reversed(chain[:-1]), reversed(parents), strict=True):
            new = dataclasses.replace(owner, **{name: new})
        config = new
    return config


def with_regimes(config: Config, *regimes) -> Config:
    """``config`` simulating exactly ``regimes`` (engine.config.Regime objects)."""
    sim = dataclasses.replace(config.simulation, regimes=None)
    return dataclasses.replace(config, simulation=sim, regimes=tuple(regimes))


def tasks_in_store(out: Path) -> set[int]:
    """The tasks a run store holds now, read without changing it (a run may be writing it)."""
    import zarr

    progress = out / "progress"
    for _ in range(10):  # entries are renamed away while a run folds them: look again
        try:
            names = os.listdir(progress) if progress.is_dir() else []
            tasks: set[int] = set()
            for name in names:
                if name.startswith("group-"):
                    tasks.update(zarr.open_group(progress / name, mode="r").attrs["tasks"])
                elif name.startswith("total-"):
                    done = zarr.open_group(progress / name, mode="r")["done"][...]
                    tasks.update(int(i) for i in done.nonzero()[0])
            return tasks
        except (FileNotFoundError, KeyError):
            continue
    raise AssertionError(f"{out}: the store kept changing")
