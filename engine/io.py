"""Cubes to and from NetCDF (h5netcdf), written atomically: a failed write leaves no file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf")
COMPRESSION = {"compression": "gzip", "compression_opts": 4}


class OutputError(ValueError):
    """An output path the engine cannot write."""


def write_cube(ds: xr.Dataset, path: str | Path) -> Path:
    """Write ``ds`` to ``path`` (NetCDF-4 via h5netcdf) through a temporary file and a rename."""
    path = Path(path)
    if path.suffix.lower() not in NETCDF_SUFFIXES:
        raise OutputError(f"{path}: unsupported output format (use a .nc path)")
    if path.is_dir():
        raise OutputError(f"{path}: is a directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=_encoding(ds))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _encoding(ds: xr.Dataset) -> dict:
    encoding = {}
    for name, var in ds.variables.items():
        if var.dtype.kind in "iuf" and var.ndim >= 2:
            encoding[name] = dict(COMPRESSION)
    encoding["time"] = {"units": "days since 1970-01-01", "calendar": "proleptic_gregorian",
                        "dtype": np.float64}  # fmt: skip
    return encoding


def open_cube(path: str | Path) -> xr.Dataset:
    """Load a cube written by ``write_cube`` fully into memory (the file is closed)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such cube")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()
