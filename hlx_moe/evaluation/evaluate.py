"""Evaluation of the mixture on corpus files: ``hlx moe eval``.

For every example: the constrained answer (graded exact / same value / parses) and, for
format answers, the unconstrained answer's parse rate, so the report shows what the
constraint adds. Results are aggregated by expert, task and depth, with the
out-of-distribution slice apart, and written as JSON, a Markdown table and a plot.
"""

from __future__ import annotations

import json
import os
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hlx_formats._atomic import atomic_open, atomic_write_text
from hlx_moe.corpus import EXPERTS, default_root, instruction_of, load
from hlx_moe.evaluation.grading import grade
from hlx_moe.evaluation.rewrites import wilson

__all__ = ["evaluate", "regrade", "summarise", "markdown_report", "card_table", "plot_accuracy_by_depth", "write_report"]


def _sample(rows: list[dict[str, Any]], limit: int | None, seed: int) -> list[dict[str, Any]]:
    if limit is None or limit >= len(rows):
        return rows
    return random.Random(seed).sample(rows, limit)


def evaluate(
    moe: Any,
    files: Iterable[Path] | None = None,
    *,
    limit: int | None = None,
    unconstrained: bool = True,
    seed: int = 0,
    batch_size: int = 32,
    log: Callable[[str], object] = lambda message: None,
) -> list[dict[str, Any]]:
    """Answer every example of ``files`` (default: each expert's test split) with ``moe``,
    ``batch_size`` requests at a time (``HLXMoE.query_batch``; the same answers as one at a
    time), the shortest instructions first, and with ``unconstrained`` each format answer once
    more without the constraint.

    ``limit`` samples that many examples per file (seeded). Returns one record per example.
    """
    files = list(files) if files is not None else [default_root() / expert / "test.jsonl" for expert in EXPERTS]
    records: list[dict[str, Any]] = []
    chunk = max(32, 4 * batch_size)  # rows between progress lines
    for path in files:
        rows = _sample(load(path), limit, seed)
        # Decoded shortest instruction first, so that a batch holds answers of about one length
        # (a batch lasts as long as its longest answer); the records keep the file's order.
        order = sorted(range(len(rows)), key=lambda index: len(instruction_of(rows[index])))
        done: dict[int, dict[str, Any]] = {}
        for first in range(0, len(order), chunk):
            part = order[first : first + chunk]
            instructions = [instruction_of(rows[index]) for index in part]
            results = moe.query_batch(instructions, batch_size=batch_size)
            free_results: dict[int, Any] = {}
            if unconstrained:
                constrained = [position for position, result in enumerate(results) if result.constrained]
                free = moe.query_batch(
                    [instructions[position] for position in constrained], moe.options.replace(constrained=False), batch_size=batch_size
                )
                free_results = dict(zip(constrained, free))
            for position, (index, instruction, result) in enumerate(zip(part, instructions, results)):
                done[index] = _record(path, rows[index], instruction, result, free_results.get(position))
            log(f"{path}: {len(done)}/{len(rows)}, exact so far {sum(r['exact'] for r in done.values()) / len(done):.1%}")
        records += [done[index] for index in range(len(rows))]
    return records


def _record(path: Path, row: dict[str, Any], instruction: str, result: Any, free: Any | None) -> dict[str, Any]:
    """One example's record: the answer, how it grades, and the unconstrained answer's."""
    record = {
        "file": str(path),
        "instruction": instruction,
        "expected": row["output"],
        "answer": result.answer,
        "expert": result.expert,
        "corpus_expert": row.get("expert"),
        "task": row.get("task"),
        "depth": row.get("depth"),
        "ood": bool(row.get("ood")),
        "exact": result.answer == row["output"],
        "first_difference": first_difference(result.answer, row["output"]),
        "same_value": bool(result.same_value),
        "same_shape": bool(result.same_shape),
        "wrong_scalars": list(result.wrong_scalars),
        "parses": result.parses,
        "latency_seconds": result.latency_seconds,
        "new_tokens": result.new_tokens,
        "parses_unconstrained": None,
    }
    if result.round_trip:
        record["beam_answer_exact"] = result.beam_answer == row["output"]
    if free is not None:
        record["parses_unconstrained"] = free.parses
        record["exact_unconstrained"] = free.answer == row["output"]
    return record


def regrade(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records of an earlier evaluation with their answers graded again by today's
    grader (the model is not run; the unconstrained comparison is kept as it was)."""
    regraded = []
    for record in records:
        graded = grade(record["instruction"], record["answer"])
        known = graded.reference is not None
        regraded.append({
            **record,
            "exact": record["answer"] == record["expected"],
            "first_difference": first_difference(record["answer"], record["expected"]),
            "same_value": bool(graded.same_value and known),
            "same_shape": bool(graded.same_shape and known),
            "wrong_scalars": list(graded.wrong_scalars),
            "parses": graded.parses if known else record.get("parses"),
        })  # fmt: skip
    return regraded


def first_difference(answer: str, expected: str) -> int | None:
    """The character offset where ``answer`` first departs from ``expected`` (None when they
    are equal): how much of the reference a wrong answer got right before it went wrong."""
    if answer == expected:
        return None
    return len(os.path.commonprefix([answer, expected]))  # noqa: RUF071 - strings, compared character by character on purpose


def _right_prefix(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Of the wrong answers: the median share of the reference each got right before its
    first difference, and the median reference length in characters."""
    wrong = [r for r in records if r["answer"] != r["expected"]]
    if not wrong:
        return None
    return {
        "wrong_answers": len(wrong),
        "median_share_right": round(
            statistics.median((first_difference(r["answer"], r["expected"]) or 0) / max(1, len(r["expected"])) for r in wrong), 4
        ),
        "median_reference_characters": statistics.median(len(r["expected"]) for r in wrong),
    }


def _rate(records: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in records if r.get(key) is not None]
    return round(sum(bool(v) for v in values) / len(values), 4) if values else None


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 4)


def _group(records: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = [r["latency_seconds"] for r in records]
    return {
        "examples": len(records),
        "exact": _rate(records, "exact"),
        "exact_interval": _interval(records, "exact"),
        "same_value": _rate(records, "same_value"),
        "same_shape": _rate(records, "same_shape"),
        "parse_rate_constrained": _rate(records, "parses"),
        "parse_rate_unconstrained": _rate(records, "parses_unconstrained"),
        "latency_p50": _percentile(latencies, 0.5),
        "latency_p95": _percentile(latencies, 0.95),
        "mean_new_tokens": round(statistics.fmean(r["new_tokens"] for r in records), 1) if records else None,
        "wrong_scalars": dict(Counter(kind for r in records for kind in r.get("wrong_scalars", ())).most_common()),
        "right_prefix": _right_prefix(records),
        **_round_trip_counts(records),
    }


def _interval(records: list[dict[str, Any]], key: str) -> list[float] | None:
    """The 95% Wilson interval of the rate of ``key`` (rounded to 0.1 point); None without records."""
    if not records:
        return None
    low, high = wilson(sum(bool(r[key]) for r in records), len(records))
    return [round(low, 3), round(high, 3)]


def _round_trip_counts(records: list[dict[str, Any]]) -> dict[str, Any]:
    """What round-trip reranking changed, where it ran (records with ``beam_answer_exact``):
    how often, and the answers right only after it or only before it (the beams' own choice)."""
    reranked = [r for r in records if "beam_answer_exact" in r]
    if not reranked:
        return {}
    return {
        "round_trip": {
            "reranked": len(reranked),
            "right_only_after": sum(bool(r["exact"] and not r["beam_answer_exact"]) for r in reranked),
            "right_only_before": sum(bool(r["beam_answer_exact"] and not r["exact"]) for r in reranked),
        }
    }


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregates: overall, by expert, by task and by depth, in-distribution and OOD apart."""
    summary: dict[str, Any] = {}
    for slice_name, chosen in (("in_distribution", [r for r in records if not r["ood"]]), ("ood", [r for r in records if r["ood"]])):
        by: dict[str, dict[str, list[dict[str, Any]]]] = {
            "expert": defaultdict(list),
            "task": defaultdict(list),
            "depth": defaultdict(list),
        }
        for record in chosen:
            by["expert"][record["corpus_expert"] or record["expert"]].append(record)
            by["task"][record["task"]].append(record)
            by["depth"][str(record["depth"])].append(record)
        summary[slice_name] = {
            "overall": _group(chosen),
            **{f"by_{key}": {name: _group(group) for name, group in sorted(groups.items())} for key, groups in by.items()},
        }
    summary["routing_agreement"] = _rate([{"ok": r["expert"] == r["corpus_expert"]} for r in records if r["corpus_expert"]], "ok")
    return summary


def _fmt(value: float | None, percent: bool = True) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if percent else f"{value:.3f}"


def _fmt_interval(interval: list[float] | None) -> str:
    """`` (lo-hi)``: a rate's 95% interval in points, as the exact cells show it."""
    return "" if interval is None else f" ({interval[0]:.1%}-{interval[1]:.1%})".replace("%-", "-")


def _cells(group: dict[str, Any]) -> str:
    """A group's cells from examples to p50 latency, as both the report and the cards show them."""
    return (
        f"{group['examples']} | {_fmt(group['exact'])}{_fmt_interval(group.get('exact_interval'))} | {_fmt(group['same_value'])} | {_fmt(group.get('same_shape'))} | "
        f"{_fmt(group['parse_rate_constrained'])} | {_fmt(group['parse_rate_unconstrained'])} | {_fmt(group['latency_p50'], False)}"
    )


def markdown_report(summary: dict[str, Any]) -> str:
    lines = []
    for slice_name, title in (
        ("in_distribution", "In-distribution test examples"),
        ("ood", "Out-of-distribution slice (depth 5-6, longer)"),
    ):
        data = summary[slice_name]
        if not data["overall"]["examples"]:
            continue
        lines += [f"### {title}", ""]
        header = "| {} | examples | exact (95% interval) | same value | same shape | parses (constrained) | parses (unconstrained) | p50 s | p95 s |"
        for key in ("expert", "task", "depth"):
            lines += [header.format(key), "|---|---|---|---|---|---|---|---|---|"]
            groups = dict(data[f"by_{key}"])
            groups["**all**"] = data["overall"]
            for name, group in groups.items():
                lines.append(f"| {name} | {_cells(group)} | {_fmt(group['latency_p95'], False)} |")
            lines.append("")
        wrong = data["overall"].get("wrong_scalars")
        if wrong:
            counted = ", ".join(f"{kind} {count}" for kind, count in wrong.items())
            lines += [f"Wrong scalars in same-shape answers, by kind (leaves): {counted}.", ""]
        prefix = data["overall"].get("right_prefix")
        if prefix:
            lines += [
                f"The {prefix['wrong_answers']} wrong answers depart from the reference after a median of "
                f"{_fmt(prefix['median_share_right'])} of it (references of a median {prefix['median_reference_characters']:g} characters).",
                "",
            ]
        round_trip = data["overall"].get("round_trip")
        if round_trip:
            lines += [
                f"Round-trip reranking ran on {round_trip['reranked']} answers: right only after it "
                f"{round_trip['right_only_after']}, right only before it (the beam search's own first choice) "
                f"{round_trip['right_only_before']}.",
                "",
            ]
    lines.append(f"Router agreement with the corpus's expert: {_fmt(summary['routing_agreement'])}")
    return "\n".join(lines) + "\n"


def card_table(summary: dict[str, Any], expert: str) -> str | None:
    """One expert's rows (in distribution, out of distribution) for its model card; None when
    the summary has no example of that expert."""
    rows = []
    for slice_name, title in (("in_distribution", "in distribution"), ("ood", "out of distribution")):
        group = summary[slice_name]["by_expert"].get(expert)
        if group:
            rows.append(f"| {title} | {_cells(group)} |")
    if not rows:
        return None
    header = [
        "| slice | examples | exact (95% interval) | same value | same shape | parses (constrained) | parses (unconstrained) | p50 s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    return "\n".join(header + rows) + "\n"


def plot_accuracy_by_depth(summary: dict[str, Any], path: Path) -> Path | None:
    """Exact-match rate by value depth (in-distribution and OOD) as a PNG; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    figure, axis = plt.subplots(figsize=(6, 3.5))
    for slice_name, label in (("in_distribution", "in distribution"), ("ood", "out of distribution")):
        groups = {depth: group for depth, group in summary[slice_name]["by_depth"].items() if depth != "None"}
        if groups:
            depths = sorted(groups, key=int)
            axis.plot([int(d) for d in depths], [100 * (groups[d]["exact"] or 0) for d in depths], marker="o", label=label)
    axis.set_xlabel("value depth")
    axis.set_ylabel("exact match (%)")
    axis.set_ylim(0, 105)
    axis.grid(alpha=0.3)
    axis.legend()
    axis.set_title("HLX mixture: exact match by depth")
    figure.tight_layout()
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, dpi=120, format="png")
    plt.close(figure)
    return path


def write_report(records: list[dict[str, Any]], output_dir: Path, meta: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write ``eval.json`` (records and summary), ``eval.md`` and ``accuracy_by_depth.png``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    summary = summarise(records)
    paths = {"json": output_dir / "eval.json", "markdown": output_dir / "eval.md"}
    atomic_write_text(
        paths["json"], json.dumps({"meta": meta or {}, "summary": summary, "records": records}, indent=1, ensure_ascii=False) + "\n"
    )
    atomic_write_text(paths["markdown"], markdown_report(summary))
    plot = plot_accuracy_by_depth(summary, output_dir / "accuracy_by_depth.png")
    if plot is not None:
        paths["plot"] = plot
    return paths
