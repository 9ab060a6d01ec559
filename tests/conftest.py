"""Shared fixtures: the default config and small, fast variants of it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from engine.config import Config, load_config
from engine.schedule import build_schedule

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "configs" / "default.toml"


@pytest.fixture(scope="session")
def default_config() -> Config:
    return load_config(DEFAULT_CONFIG)


@pytest.fixture(scope="session")
def default_schedule(default_config):
    return build_schedule(default_config)


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
