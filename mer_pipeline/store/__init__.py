"""Zarr stores: the only package that imports zarr."""
