"""Grading answers to the repair tasks (``corpora/repairs/``) and the bar a non-learned
strategy sets on them.

Each row is graded by :mod:`hlx_formats.repairs`: a completion must start with the given
text and parse (and be the original value when the truncation is recoverable); a fix must
read as the original value. :func:`summarise_repairs` counts the right answers overall, by
task, format, edit, recoverability and task and format together, each with its 95% Wilson
interval. :func:`reference_baseline` answers every row without a model: a completion closes
the given text's open string and containers (:func:`~hlx_formats.repairs.close_completion`),
a fix takes the first text one edit away that parses
(:func:`~hlx_formats.repairs.one_edit_fixes`).

``python -m hlx_moe.evaluation.repairs [--split test]`` prints the baseline's table;
``hlx moe eval --repairs`` grades the mixture's answers (:func:`evaluate_repairs`).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from hlx_formats.grammar import FORMAT_TITLES
from hlx_formats.repairs import close_completion, grade_completion, grade_fix, one_edit_fixes

from .rewrites import wilson

__all__ = [
    "grade_repair",
    "grade_repairs",
    "summarise_repairs",
    "repair_table",
    "baseline_answer",
    "reference_baseline",
    "evaluate_repairs",
]


def grade_repair(row: dict[str, Any], answer: str) -> dict[str, Any]:
    """One record: the row's task, format, edit and recoverability, and the grade of ``answer``."""
    if row["task"] == "complete":
        grade = grade_completion(row["given"], row["original"], answer, row["fmt"])
    else:
        grade = grade_fix(row["original"], answer, row["fmt"])
    return {
        "task": row["task"], "fmt": row["fmt"], "edit": row.get("edit"), "recoverable": row.get("recoverable"),
        "answer": answer, **grade.as_dict(),
    }  # fmt: skip


def grade_repairs(rows: Sequence[dict[str, Any]], answers: Sequence[str]) -> list[dict[str, Any]]:
    """:func:`grade_repair` for each row and its answer (a model's, in the rows' order)."""
    if len(rows) != len(answers):
        from hlx_formats.errors import HLXError

        raise HLXError(f"{len(answers)} answers for {len(rows)} repair rows")
    return [grade_repair(row, answer) for row, answer in zip(rows, answers)]


def _groups(record: dict[str, Any]) -> list[str]:
    """The slices a record counts in."""
    title = FORMAT_TITLES[record["fmt"]]
    groups = ["all", f"task: {record['task']}", f"format: {title}", f"{record['task']}, {title}"]
    if record["task"] == "complete":
        groups.append("complete, " + ("recoverable" if record["recoverable"] else "not recoverable"))
    else:
        groups.append(f"fix, {record['edit']}")
    return groups


def summarise_repairs(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Right answers per slice (see :func:`_groups`): ``{slice: {n, right, rate, right_ci95,
    parses, equals_original}}``."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        for name in _groups(record):
            groups[name].append(record)
    summary = {}
    for name, members in groups.items():
        right = sum(record["right"] for record in members)
        low, high = wilson(right, len(members))
        summary[name] = {
            "n": len(members), "right": right, "rate": round(right / len(members), 4), "right_ci95": [round(low, 4), round(high, 4)],
            "parses": sum(record["parses"] for record in members), "equals_original": sum(bool(record["equals_original"]) for record in members),
        }  # fmt: skip
    return summary


def repair_table(summary: dict[str, dict[str, Any]]) -> str:
    """The summary as a Markdown table, ``all`` first."""
    lines = ["| slice | n | right | 95% CI | parses | original value |", "|---|---|---|---|---|---|"]
    for name, group in sorted(summary.items(), key=lambda item: (item[0] != "all", item[0])):
        n = group["n"]
        low, high = group["right_ci95"]
        lines.append(
            f"| {name} | {n} | {group['rate']:.1%} | {low:.1%}-{high:.1%} | {group['parses'] / n:.1%} | {group['equals_original'] / n:.1%} |"
        )
    return "\n".join(lines)


def baseline_answer(row: dict[str, Any]) -> str:
    """The non-learned answer: the given text closed (completions), or the first text one
    edit away that parses (fixes; the given text itself when there is none)."""
    if row["task"] == "complete":
        return close_completion(row["given"], row["fmt"])
    fixes = one_edit_fixes(row["given"], row["fmt"])
    return fixes[0] if fixes else row["given"]


def reference_baseline(
    rows: Sequence[dict[str, Any]], answer: Callable[[dict[str, Any]], str] = baseline_answer
) -> dict[str, dict[str, Any]]:
    """The summary (:func:`summarise_repairs`) of a non-learned strategy (``answer``, by
    default :func:`baseline_answer`) on ``rows``: the bar a learned expert must pass."""
    return summarise_repairs([grade_repair(row, answer(row)) for row in rows])


def evaluate_repairs(moe: Any, rows: Sequence[dict[str, Any]], *, batch_size: int = 32) -> list[dict[str, Any]]:
    """The mixture's answers to ``rows`` (``corpora/repairs/`` rows), graded: the rows of the
    experts that learned the repair tasks (``moe.repair_experts``), shortest instruction
    first, in batches of ``batch_size``; the records in the rows' order."""
    from hlx_moe.corpus import instruction_of

    learned = [row for row in rows if row["expert"] in moe.repair_experts]
    order = sorted(range(len(learned)), key=lambda index: len(learned[index]["input"]))
    results = moe.query_batch([instruction_of(learned[index]) for index in order], batch_size=batch_size)
    answers = [""] * len(learned)
    for index, result in zip(order, results):
        answers[index] = result.answer
    return grade_repairs(learned, answers)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hlx_moe.evaluation.repairs``: the baseline's table on a split."""
    from hlx_moe.corpus import default_root, load

    parser = argparse.ArgumentParser(prog="python -m hlx_moe.evaluation.repairs", description=main.__doc__)
    parser.add_argument("--split", default="test", choices=("train", "validation", "test"))
    args = parser.parse_args(argv)
    rows = load(default_root() / "repairs" / f"{args.split}.jsonl")
    print(repair_table(reference_baseline(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
