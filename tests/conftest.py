"""Shared settings of the test suite.

Hypothesis profiles (choose with ``HYPOTHESIS_PROFILE=...``):

* ``default``: moderate example counts (the suite's property tests in about a minute on two
  cores; the model tests take most of ``make test``'s time);
* ``thorough``: ten times as many examples, for a long run before a release;
* ``ci``: like ``default`` but derandomized, so that a CI failure reproduces.

Tests that set their own ``max_examples`` scale it by the profile's ``max_examples / 100``
with ``hlx_formats.strategies.examples``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

settings.register_profile("default", max_examples=100, **_COMMON)
settings.register_profile("ci", max_examples=100, derandomize=True, **_COMMON)
settings.register_profile("thorough", max_examples=1000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# The model fixtures (a tiny base, a small corpus, trained adapters) shared by test_moe.py and
# test_training.py: a plugin, so that each session-scoped fixture is built once for the run.
pytest_plugins = ["moe_fixtures"]
