"""Benchmarks behind ``repflow bench``: each prints what it measured on this machine."""
