"""Cubes to and from NetCDF (h5netcdf) and Zarr, written atomically: a failed write leaves no cube.

Zarr cubes are Zarr format 2 directories with consolidated metadata (``.zmetadata``), which is
written last: a Zarr directory without it is not a finished cube (e.g. a run still in progress).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import xarray as xr

from .errors import InputError

NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf")
ZARR_SUFFIXES = (".zarr",)
ZARR_FORMAT = 2
COMPRESSION = {"compression": "gzip", "compression_opts": 4}
DIGEST_ATTR = "metadata_sha256"
DATA_DIGEST_ATTR = "data_sha256"
DIGEST_ATTRS = (DIGEST_ATTR, DATA_DIGEST_ATTR)
TIME_ENCODING = {
    "units": "days since 1970-01-01",
    "calendar": "proleptic_gregorian",
    "dtype": np.float64,
}


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
            ds = with_digest(file_layout(ds))
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
    ds = with_digest(file_layout(ds))
    from zarr.errors import ZarrUserWarning

    with warnings.catch_warnings():
        # A run store's progress/ folder holds entries being renamed or deleted, and damaged
        # ones (their counts already dropped); consolidating the metadata walks past them and
        # zarr warns about each. The cube's own arrays are written and checked as always.
        warnings.simplefilter("ignore", ZarrUserWarning)
        ds.to_zarr(path, mode=mode, consolidated=True, zarr_format=ZARR_FORMAT, encoding=encoding)


def metadata_digest(ds: xr.Dataset) -> str:
    """sha256 of what a file's own checksums do not cover: the global attributes (but this
    digest), every variable's attributes and the values of text variables (names of regimes
    and events). Numbers are compared as JSON, so a file's types (int64, arrays) match."""

    def plain(value):
        if isinstance(value, np.ndarray | list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        return value

    content = {
        "attrs": {k: plain(v) for k, v in ds.attrs.items() if k not in DIGEST_ATTRS},
        "variables": {
            str(name): {
                "attrs": {k: plain(v) for k, v in var.attrs.items()},
                "text": [str(v) for v in var.values.ravel()] if var.dtype.kind in "OUST" else None,
            }
            for name, var in sorted(ds.variables.items(), key=lambda item: str(item[0]))
        },
    }
    text = json.dumps(content, sort_keys=True, default=str, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def data_digest(ds: xr.Dataset) -> str:
    """sha256 of every numeric variable's values (name, dtype, shape and bytes, in the file's
    layout). A file's own checksums miss some damage: a flipped bit in a chunk's address makes
    HDF5 read the chunk as never written, that is as its fill value, without an error."""
    digest = hashlib.sha256()
    for name, var in sorted(ds.variables.items(), key=lambda item: str(item[0])):
        if var.dtype.kind in "OUST":
            continue  # text: in ``metadata_digest``
        values = np.ascontiguousarray(var.values)
        digest.update(f"{name}|{values.dtype.str}|{values.shape}|".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


def with_digest(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` (a shallow copy) carrying ``metadata_digest`` and ``data_digest`` as attributes."""
    out = ds.copy()
    out.attrs[DIGEST_ATTR] = metadata_digest(ds)
    out.attrs[DATA_DIGEST_ATTR] = data_digest(ds)
    return out


def _check_digest(ds: xr.Dataset, path: Path) -> None:
    """OutputError when a file's metadata or values no longer match the digests it was written
    with (a file written before values had a digest has its metadata checked alone)."""
    recorded = ds.attrs.get(DIGEST_ATTR)
    if recorded is not None and recorded != metadata_digest(ds):
        raise OutputError(f"{path}: damaged (its attributes or names do not match their checksum)")
    recorded = ds.attrs.get(DATA_DIGEST_ATTR)
    if recorded is not None and recorded != data_digest(ds):
        raise OutputError(f"{path}: damaged (its values do not match their checksum)")


def file_layout(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with ``time`` the last dimension of every variable that has it, as the CF
    conventions ask (T after the dimensions without a spatiotemporal meaning)."""
    return ds.transpose(..., "time", missing_dims="ignore")


def memory_layout(ds: xr.Dataset) -> xr.Dataset:
    """A cube read from a file in the engine's own order: (…, time, quantile), (…, time, bin)
    and (…, time, limb), the order its code and ``Accumulators`` use."""
    return ds.transpose(..., "time", "quantile", "bin", "limb", missing_dims="ignore")


def _netcdf_encoding(ds: xr.Dataset) -> dict:
    encoding: dict[str, dict] = {}
    for name, var in ds.variables.items():
        if var.dtype.kind in "iufbM" and var.ndim >= 1:  # HDF5 checks these on every read
            encoding[name] = {"fletcher32": True}
        if var.dtype.kind in "iuf" and var.ndim >= 2:
            encoding[name].update(COMPRESSION)
    for name in ds.coords:  # coordinates have no missing values: no _FillValue (CF)
        if ds[name].dtype.kind in "fM":
            encoding.setdefault(name, {})["_FillValue"] = None
    if "time" in ds.variables:
        encoding.setdefault("time", {}).update(TIME_ENCODING)
    return encoding


def _open_netcdf(path: Path) -> xr.Dataset:
    """A NetCDF file loaded in memory; OutputError (one line) when it cannot be read."""
    failure = None
    with _h5netcdf_close_errors_ignored():
        try:
            with xr.open_dataset(path, engine="h5netcdf") as ds:
                return ds.load()
        except Exception as err:  # any damage: HDF5 errors, checksum failures, bad metadata
            lines = str(err).strip().splitlines()
            failure = lines[0] if lines else type(err).__name__
        gc.collect()  # the half-made file object goes here, quietly
    raise OutputError(f"{path}: not a readable NetCDF-4 file ({failure})")


@contextmanager
def _h5netcdf_close_errors_ignored() -> Iterator[None]:
    """h5netcdf leaves a half-made File behind when a damaged file fails to open; its close at
    collection raises an error Python would print. Those (only those) are dropped here."""
    previous = sys.unraisablehook

    def hook(unraisable):
        module = getattr(unraisable.object, "__module__", "") or ""
        if not module.startswith("h5netcdf"):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


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
            ds = ds.load()
    else:
        ds = _open_netcdf(path)
    _check_digest(ds, path)
    for name in DIGEST_ATTRS:  # the file's, not the cube's: a cube read back is the cube
        ds.attrs.pop(name, None)
    return memory_layout(ds)
