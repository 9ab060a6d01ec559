"""Fixtures of the benchmark suite: the default config and its schedule, compiled once."""

from __future__ import annotations

import os

import pytest

from engine.config import default_config_path, load_config
from engine.run import compile_kernels
from engine.schedule import build_schedule

PATHS = int(os.environ.get("RMP_RISK_BENCH_PATHS", "100000"))  # paths per measured run


@pytest.fixture(scope="session")
def config():
    return load_config(default_config_path())


@pytest.fixture(scope="session")
def schedule(config):
    schedule = build_schedule(config)
    compile_kernels(schedule)
    return schedule
