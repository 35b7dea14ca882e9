"""The repair tasks (``corpora/repairs/``): completing a truncated value and fixing a typo.

A row's input is ``Complete this <F>: <truncated>`` or ``Fix this <F>: <broken>`` for a
format ``F`` (HLXL, LC-T, LC-R, LC-B text), made by :mod:`hlx_formats.repairs` from the
canonical text of a generated value; the output is that canonical text (for a completion:
the given text followed by the rest). ``expert`` is the expert that owns the format as
:func:`hlx_formats.instructions.route` routes a format task (LC-T: ascii, LC-R: runic,
HLXL and LC-B: coordinator). Each split has as many rows of each task and format as
the others (within one row); about a third of the completions are recoverable
(:func:`hlx_formats.repairs.is_recoverable`), and the fixes' edits are dealt in turn.
Split by the value's canonical HLXL, as the experts' corpora are; a value is used once.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from hlx_formats import to_hlxl
from hlx_formats.api import ENCODERS
from hlx_formats.grammar import FORMAT_TITLES
from hlx_formats.repairs import EDITS, truncate, typo

from .examples import MAX_VALUE_CHARS, ExampleBuilder
from .spec import REPAIR_COUNTS, SPLITS, CorpusSpec, prompt_of
from .values import ValueGenerator

__all__ = ["REPAIR_COUNTS", "REPAIR_EXPERTS", "REPAIR_FORMATS", "REPAIR_TASKS", "repair_instruction", "repair_rows", "repair_stats"]

#: Rows per split; each split is half completions, half fixes, a quarter of each format.
REPAIR_TASKS = ("complete", "fix")
REPAIR_FORMATS = ("hlxl", "lc-t", "lc-r", "lc-b")
#: The expert of each format's repairs: the one a format task in that format goes to.
REPAIR_EXPERTS = {"hlxl": "coordinator", "lc-t": "ascii", "lc-r": "runic", "lc-b": "coordinator"}
_VERBS = {"complete": "Complete", "fix": "Fix"}
RECOVERABLE_SHARE = 1 / 3  # of the completions


def repair_instruction(task: str, fmt: str, given: str) -> str:
    """``Complete this LC-T: [1,2`` or ``Fix this LC-T: [1,,2]``."""
    return f"{_VERBS[task]} this {FORMAT_TITLES[fmt]}: {given}"


class _Dealer:
    """Which task, format, recoverability and edit the next row of a split gets: the one with
    the fewest rows so far (in order), so that every split stays balanced."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, ...]] = Counter()

    def pair(self, split: str) -> tuple[str, str]:
        pairs = [(task, fmt) for task in REPAIR_TASKS for fmt in REPAIR_FORMATS]
        return min(pairs, key=lambda pair: self.counts[(split, pair[0], pair[1])])

    def wants_recoverable(self, split: str, fmt: str) -> bool:
        done = self.counts[(split, "complete", fmt)]
        return self.counts[(split, "recoverable", fmt)] < RECOVERABLE_SHARE * (done + 1)

    def edit(self, split: str, fmt: str) -> str:
        return min(EDITS, key=lambda edit: self.counts[(split, edit, fmt)])

    def count(self, split: str, row: dict[str, Any]) -> None:
        self.counts[(split, row["task"], row["fmt"])] += 1
        if row["recoverable"]:
            self.counts[(split, "recoverable", row["fmt"])] += 1
        if row["edit"]:
            self.counts[(split, row["edit"], row["fmt"])] += 1


def _row(task: str, fmt: str, value: Any, rng: random.Random, dealer: _Dealer, split: str) -> dict[str, Any] | None:
    """One repair row for ``value``, or None when its text allows no such task."""
    original = ENCODERS[fmt](value)
    recoverable: bool | None = None
    edit: str | None = None
    if task == "complete":
        cut = truncate(original, fmt, rng, recoverable=dealer.wants_recoverable(split, fmt)) or truncate(original, fmt, rng)
        if cut is None:
            return None
        given, recoverable = cut.text, cut.recoverable
    else:
        broken = typo(original, fmt, rng, edit=dealer.edit(split, fmt))
        if broken is None:
            return None
        given, edit = broken.text, broken.edit
    return {
        "input": prompt_of(repair_instruction(task, fmt, given)), "output": original, "expert": REPAIR_EXPERTS[fmt],
        "task": task, "fmt": fmt, "given": given, "original": original, "recoverable": recoverable, "edit": edit, "split": split,
    }  # fmt: skip


def repair_rows(spec: CorpusSpec) -> dict[str, list[dict[str, Any]]]:
    """The repair rows of every split (see the module's docstring)."""
    rng = random.Random(f"{spec.seed}-repairs")
    values = ValueGenerator(rng)
    builder = ExampleBuilder(spec)
    counts = spec.repairs or REPAIR_COUNTS
    rows: dict[str, list[dict[str, Any]]] = {split: [] for split in SPLITS}
    dealer = _Dealer()
    seen: set[str] = set()
    budget = 30 * sum(counts.values())
    while any(len(rows[split]) < counts[split] for split in SPLITS):
        budget -= 1
        if budget < 0:
            raise RuntimeError("repair generation does not converge")
        value = values.value(rng.choice((0, 1, 1, 2, 2, 3)))
        key = to_hlxl(value)
        split = builder.split_for(key)
        if key in seen or len(key) > MAX_VALUE_CHARS or len(rows[split]) >= counts[split]:
            continue
        task, fmt = dealer.pair(split)
        row = _row(task, fmt, value, rng, dealer, split)
        if row is None:
            continue
        seen.add(key)
        dealer.count(split, row)
        rows[split].append(row)
    return rows


def repair_stats(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Counter[str]]:
    """Rows of each kind (``complete, recoverable``, ``fix, swap`` ...) in each split, for the dataset card."""
    return {
        split: Counter(
            f"{row['task']}, "
            + (("recoverable" if row["recoverable"] else "not recoverable") if row["task"] == "complete" else row["edit"])
            for row in rows[split]
        )
        for split in SPLITS
    }
