"""numba kernels only: arrays in, arrays out; no dask, xarray or config objects here."""
