"""The fuzzing harness (``benchmarks/fuzz.py``): CI's one-minute run finds nothing."""

from __future__ import annotations

import pytest

from benchmarks import fuzz


@pytest.mark.slow(longest=True)
def test_one_minute_of_fuzzing_finds_nothing():
    report = fuzz.run(60.0, seed=29)
    assert set(report.functions) == set(fuzz._checks())
    assert all(tally.inputs > 0 for tally in report.functions.values()), report.table()
    assert report.clean, report.table()


def test_the_harness_reports_a_finding():
    tally = fuzz.Tally()
    fuzz._call(tally, lambda text: int(text), "x")  # a ValueError is not an HLXError
    fuzz._call(tally, lambda text: text, "fine")
    assert tally.inputs == 2 and len(tally.findings) == 1 and "ValueError" in tally.findings[0]


def test_variants_of_text_and_values():
    import random

    rng = random.Random(1)
    assert len(list(fuzz.variants("[1,2]", rng, 10))) == 11
    assert len(list(fuzz.variants([1, [2]], rng, 10))) == 11
