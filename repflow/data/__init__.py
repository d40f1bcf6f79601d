"""Datasets, clip sampling and transforms."""
