"""Benchmarks of the project: ``python -m benchmarks.codecs`` and ``python -m benchmarks.moe``."""
