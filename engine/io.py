"""Cubes to and from NetCDF (h5netcdf) and Zarr, written atomically: a failed write leaves no cube.

Zarr cubes are Zarr format 2 directories with consolidated metadata (``.zmetadata``), which is
written last: a Zarr directory without it is not a finished cube (e.g. a run still in progress).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import xarray as xr

from .errors import InputError

NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf")
ZARR_SUFFIXES = (".zarr",)
ZARR_FORMAT = 2
COMPRESSION = {"compression": "gzip", "compression_opts": 4}
TIME_ENCODING = {"units": "days since 1970-01-01", "calendar": "proleptic_gregorian",
                 "dtype": np.float64}  # fmt: skip


class OutputError(InputError):
    """An output path the engine cannot write, or a path that holds no finished cube."""


def cube_format(path: str | Path) -> str:
    """``"netcdf"`` or ``"zarr"`` from the path's suffix; OutputError for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix in NETCDF_SUFFIXES:
        return "netcdf"
    if suffix in ZARR_SUFFIXES:
        return "zarr"
    raise OutputError(f"{path}: unsupported output format (use a .nc or .zarr path)")


def write_cube(ds: xr.Dataset, path: str | Path) -> Path:
    """Write ``ds`` to ``path`` (.nc: NetCDF-4 via h5netcdf; .zarr: a Zarr directory) through a
    temporary name and a rename; an existing cube at ``path`` is replaced."""
    path = Path(path)
    kind = cube_format(path)
    if kind == "netcdf" and path.is_dir():
        raise OutputError(f"{path}: is a directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        if kind == "netcdf":
            ds = file_layout(ds)
            ds.to_netcdf(tmp, engine="h5netcdf", encoding=_netcdf_encoding(ds))
            os.replace(tmp, path)
        else:
            write_zarr(ds, tmp, mode="w")
            replace_dir(tmp, path)
    finally:
        remove_path(tmp)
    return path


def write_zarr(ds: xr.Dataset, path: str | Path, mode: str = "w") -> None:
    """Write ``ds`` into the Zarr group at ``path`` (``mode="a"`` keeps its other members);
    the consolidated metadata is written last."""
    encoding = {"time": dict(TIME_ENCODING)} if "time" in ds.variables else {}
    ds = file_layout(ds)
    ds.to_zarr(path, mode=mode, consolidated=True, zarr_format=ZARR_FORMAT, encoding=encoding)


def file_layout(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with ``time`` the last dimension of every variable that has it, as the CF
    conventions ask (T after the dimensions without a spatiotemporal meaning)."""
    return ds.transpose(..., "time", missing_dims="ignore")


def memory_layout(ds: xr.Dataset) -> xr.Dataset:
    """A cube read from a file in the engine's own order: (…, time, quantile) and
    (…, time, bin), the order its code and ``Accumulators`` use."""
    return ds.transpose(..., "time", "quantile", "bin", missing_dims="ignore")


def _netcdf_encoding(ds: xr.Dataset) -> dict:
    encoding: dict[str, dict] = {}
    for name, var in ds.variables.items():
        if var.dtype.kind in "iuf" and var.ndim >= 2:
            encoding[name] = dict(COMPRESSION)
    for name in ds.coords:  # coordinates have no missing values: no _FillValue (CF)
        if ds[name].dtype.kind in "fM":
            encoding.setdefault(name, {})["_FillValue"] = None
    if "time" in ds.variables:
        encoding.setdefault("time", {}).update(TIME_ENCODING)
    return encoding


def replace_dir(new: Path, path: Path) -> None:
    """Put directory ``new`` at ``path``, removing what was there only once ``new`` is in place."""
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    if path.exists():
        os.rename(path, old)
    os.rename(new, path)
    remove_path(old)


def remove_path(path: Path) -> None:
    """Remove a file or directory tree, if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def open_cube(path: str | Path) -> xr.Dataset:
    """Load a cube (.nc file or finished .zarr directory) fully into memory."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such cube")
    if path.is_dir() or path.suffix.lower() in ZARR_SUFFIXES:
        if not (path / ".zmetadata").is_file():
            raise OutputError(
                f"{path}: not a finished cube (an interrupted run? finish it with --resume)"
            )
        with xr.open_dataset(path, engine="zarr", consolidated=True, chunks=None) as ds:
            return memory_layout(ds.load())
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return memory_layout(ds.load())
