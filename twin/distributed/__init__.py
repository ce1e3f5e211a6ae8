"""Distributed builds: the city's tiles as dask.distributed tasks over partitions of the input (docs/scaleout.md)."""
