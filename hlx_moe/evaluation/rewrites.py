"""Evaluating the rewrite step on ``corpora/rewrites/``: is each free-form request
understood as its intended instruction, answered, refused, or answered wrongly?

A request the request description reads is routed directly (its canonical instruction); any
other is rewritten by the coordinator. A rewrite is *right* when the reference answers it
exactly as it answers the intended instruction (two spellings of one conversion are both
right; for an off-topic request only :data:`~hlx_formats.rewrites.NOT_A_REQUEST` is), and it
is *refused* below the confidence threshold. :func:`choose_threshold` picks the threshold on
the validation split; with ``answers``, the mixture also answers a seeded sample end to end,
and that final answer is compared with the intended instruction's reference answer.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from typing import Any

from hlx_formats.errors import HLXError, NotUnderstood, WrongAnswer
from hlx_formats.rewrites import NOT_A_REQUEST
from hlx_moe.evaluation.grading import checked_answer

__all__ = ["evaluate_rewrites", "same_meaning", "choose_threshold", "summarise_rewrites", "rewrite_table", "wilson"]

#: The largest share of wrong answers (of the rewritten requests) a chosen threshold may leave
#: on the validation split: three quarters of the 2% the project allows, as a margin.
MAX_WRONG_SHARE = 0.015


def _reference(instruction: str) -> str | None:
    from hlx_formats import translate

    if instruction == NOT_A_REQUEST:
        return None
    try:
        return translate(instruction)
    except HLXError:
        return None


def same_meaning(chosen: str, intended: str) -> bool:
    """Whether ``chosen`` asks what ``intended`` asks: the same text, or the same reference answer."""
    if chosen == intended:
        return True
    if NOT_A_REQUEST in (chosen, intended):
        return False
    expected = _reference(intended)
    return expected is not None and _reference(chosen) == expected


def evaluate_rewrites(moe: Any, rows: list[dict[str, Any]], *, answers: int = 0, seed: int = 0) -> list[dict[str, Any]]:
    """One record per row: the route, the chosen instruction, its confidence, and whether it
    is right; for a seeded sample of ``answers`` rows also the mixture's final answer
    (``answer_right``: it equals the intended instruction's reference answer; ``refused``)."""
    from hlx_formats.requests import parse_request

    answered = set(random.Random(seed).sample(range(len(rows)), min(answers, len(rows))))
    records = []
    for index, row in enumerate(rows):
        request, intended = row["request"], row["output"]
        record: dict[str, Any] = {
            "request": request, "intended": intended, "variation": row.get("variation"), "family": row.get("family"),
            "held_out_phrasing": bool(row.get("held_out_phrasing")),
        }  # fmt: skip
        try:  # as the mixture reads it: directly when the description reads it, else rewritten
            _decision, rewrite = moe.understand(request)
        except HLXError as error:  # a value that parses in no format: refused with its error
            record.update(route="refused", chosen=None, confidence=0.0, seconds=0.0, error=str(error).split("\n")[0])
        else:
            if rewrite is None:
                record.update(route="direct", chosen=parse_request(request).render(), confidence=1.0, seconds=0.0)
            else:
                record.update(route="rewrite", chosen=rewrite.instruction, confidence=rewrite.confidence, seconds=rewrite.seconds)
        record["right"] = record["chosen"] is not None and same_meaning(record["chosen"], intended)
        # a chosen instruction the mixture does not answer (a task the experts do not learn) is refused
        record["answerable"] = record["chosen"] is not None and record["chosen"] != NOT_A_REQUEST and moe.answers(record["chosen"])
        record["intent_answerable"] = intended != NOT_A_REQUEST and moe.answers(intended)
        if index in answered:
            record.update(_final_answer(moe, request, intended, row.get("original")))
        records.append(record)
    return records


def _final_answer(moe: Any, request: str, intended: str, original: str | None = None) -> dict[str, Any]:
    """The mixture's answer to ``request`` as ``translate(backend="moe")`` returns it (refused
    where its own check rejects it, ``answer_rejected``), against the intended instruction's
    reference; a completion or fix against ``original``, the value before it was damaged
    (:mod:`hlx_formats.repairs` grades it). For a request that asks for none of the tasks, or
    converts a broken value, a refusal is right."""
    expected = _reference(intended)
    try:
        result = moe.query(request)
    except NotUnderstood:
        return {"answered": True, "refused": True, "answer_right": intended == NOT_A_REQUEST, "answer_seconds": None}
    except HLXError as error:
        return {
            "answered": True, "refused": True, "answer_right": intended == NOT_A_REQUEST, "answer_error": str(error).split("\n")[0],
            "answer_seconds": None,
        }  # fmt: skip
    seconds = result.latency_seconds + ((result.rewrite or {}).get("seconds") or 0.0)
    try:  # as translate() returns it: an answer its own grading rejects is refused
        text = checked_answer(result)
    except WrongAnswer as error:
        return {
            "answered": True, "refused": True, "answer_right": False, "answer": result.answer, "answer_rejected": True,
            "answer_error": str(error).split("\n")[0], "answer_seconds": seconds,
        }  # fmt: skip
    right = _repaired_right(intended, original, text) if original is not None else expected is not None and text == expected
    return {
        "answered": True, "refused": False, "answer": text, "answer_right": right, "answer_parses": result.parses,
        "answer_seconds": seconds,
    }  # fmt: skip


def _repaired_right(intended: str, original: str, answer: str) -> bool:
    """Whether ``answer`` is a right completion or fix for ``intended`` (``Complete this <F>:
    ...`` or ``Fix this <F>: ...``) of the value whose text was ``original``."""
    from hlx_formats.instructions import match_instruction
    from hlx_formats.repairs import grade_completion, grade_fix

    parsed = match_instruction(intended)
    if parsed is None or parsed.form.task not in ("complete", "fix") or parsed.target_format is None:
        return False
    if parsed.form.task == "complete":
        return grade_completion(parsed.value_text or "", original, answer, parsed.target_format).right
    return grade_fix(original, answer, parsed.target_format).right


def _decide(record: dict[str, Any], threshold: float) -> str:
    """``right``, ``wrong`` or ``refused`` for a record at ``threshold``."""
    off_topic = record["intended"] == NOT_A_REQUEST
    below = record["route"] == "rewrite" and record["confidence"] < threshold
    if record["chosen"] in (None, NOT_A_REQUEST) or below or not record.get("answerable", True):
        return "right" if off_topic else "refused"
    return "right" if record["right"] else "wrong"


def choose_threshold(records: list[dict[str, Any]], max_wrong_share: float = MAX_WRONG_SHARE) -> dict[str, Any]:
    """The lowest confidence threshold that leaves at most ``max_wrong_share`` of the rewritten
    requests (the threshold judges no other) answered wrongly, in each phrasing group apart (the
    seen families, and the held-out ones when there are any: a threshold that holds on seen
    phrasings only lets unseen ones through), with the precision (right of answered) and
    recall (right of all) it gives overall and in each group."""
    rewritten = [record for record in records if record["route"] == "rewrite"]
    groups = {
        name: members
        for name, members in (
            ("seen phrasing families", [record for record in rewritten if not record["held_out_phrasing"]]),
            ("held-out phrasing", [record for record in rewritten if record["held_out_phrasing"]]),
        )
        if members
    }
    options = sorted({0.0, *(record["confidence"] for record in rewritten)})
    found = next(
        (
            option for option in options
            if all(_outcomes(members, option)["wrong"] <= max_wrong_share * len(members) for members in groups.values())
        ),
        None,
    )  # fmt: skip
    cut = 1.01 if found is None else found  # none holds: the threshold 1.0, as good as refusing all
    return {
        "threshold": 1.0 if found is None else found, "max_wrong_share": max_wrong_share, **_rates(_outcomes(rewritten, cut), len(rewritten)),
        "groups": {name: _rates(_outcomes(members, cut), len(members)) for name, members in groups.items()},
    }  # fmt: skip


def _outcomes(records: list[dict[str, Any]], threshold: float) -> dict[str, int]:
    counts = {"right": 0, "wrong": 0, "refused": 0}
    for record in records:
        counts[_decide(record, threshold)] += 1
    return counts


def _rates(outcome: dict[str, int], total: int) -> dict[str, Any]:
    answered = outcome["right"] + outcome["wrong"]
    return {
        "requests": total, **outcome,
        "precision": round(outcome["right"] / answered, 4) if answered else None,
        "recall": round(outcome["right"] / total, 4) if total else None,
    }  # fmt: skip


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a rate."""
    if total == 0:
        return (0.0, 1.0)
    rate = successes / total
    centre = (rate + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(rate * (1 - rate) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (max(0.0, centre - half), min(1.0, centre + half))


def summarise_rewrites(records: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """Right / wrong / refused at ``threshold``, overall, by held-out phrasing, variation and
    route; and the end-to-end answers of the sampled rows."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups["all"].append(record)
        phrasing = "held-out phrasing" if record["held_out_phrasing"] else "seen phrasing families"
        groups[phrasing].append(record)
        groups[f"{phrasing}, route {record['route']}"].append(record)
        groups[f"variation: {record['variation']}"].append(record)
        if record.get("intent_answerable"):  # what the mixture can answer at all: a learned task
            groups[f"{phrasing}, a learned task"].append(record)
    summary: dict[str, Any] = {"threshold": threshold, "groups": {}}
    for name, members in groups.items():
        outcome = _outcomes(members, threshold)
        low, high = wilson(outcome["right"], len(members))
        summary["groups"][name] = {**_rates(outcome, len(members)), "right_ci95": [round(low, 4), round(high, 4)]}
        ends = _end_to_end([record for record in members if record.get("answered")])
        if ends is not None:
            summary["groups"][name]["end_to_end"] = ends
    answers = _end_to_end([record for record in records if record.get("answered")])
    if answers is not None:
        summary["answers"] = answers
    rewritten = sorted(record["seconds"] for record in records if record["route"] == "rewrite" and record.get("seconds"))
    summary["rewrite_p50_seconds"] = rewritten[len(rewritten) // 2] if rewritten else None
    return summary


def _end_to_end(answered: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Right, wrong and refused final answers of the rows answered end to end (None if none),
    with the 95% interval of the right share, the unparseable answers returned and the p50."""
    if not answered:
        return None
    seconds = sorted(record["answer_seconds"] for record in answered if record.get("answer_seconds") is not None)
    right = sum(bool(record["answer_right"]) for record in answered)  # an off-topic request's refusal is right
    low, high = wilson(right, len(answered))
    return {
        "requests": len(answered),
        "right": right,
        "refused": sum(record["refused"] and not record["answer_right"] for record in answered),
        "wrong": sum(not record["answer_right"] and not record["refused"] for record in answered),
        "right_ci95": [round(low, 4), round(high, 4)],
        "unparsed_returned": sum(record.get("answer_parses") is False for record in answered),
        "rejected": sum(bool(record.get("answer_rejected")) for record in answered),  # refused by the answer's own check
        "p50_seconds": seconds[len(seconds) // 2] if seconds else None,
    }


def rewrite_table(summary: dict[str, Any]) -> str:
    """The summary as a Markdown table."""
    lines = [
        f"Threshold {summary['threshold']:.4f}.",
        "",
        "| requests | n | right | 95% CI | wrong | refused |",
        "|---|---|---|---|---|---|",
    ]
    for name, group in sorted(summary["groups"].items(), key=lambda item: (item[0] != "all", item[0])):
        n = group["requests"]
        low, high = group["right_ci95"]
        lines.append(
            f"| {name} | {n} | {group['right'] / n:.1%} | {low:.1%}-{high:.1%} | {group['wrong'] / n:.1%} | {group['refused'] / n:.1%} |"
        )
    ends = {name: group["end_to_end"] for name, group in summary["groups"].items() if "end_to_end" in group}
    if ends:
        a = summary["answers"]
        p50 = f"{a['p50_seconds']:.2f} s" if a["p50_seconds"] is not None else "none answered"
        lines += [
            "",
            "End to end: the mixture's final answer against the intended instruction's reference answer "
            f"({a['unparsed_returned']} unparseable answers returned; {a['rejected']} answers that differ from their instruction's "
            f"reference refused by their own check; p50 {p50}).",
            "",
            "| requests answered end to end | n | right | 95% CI | wrong | refused |",
            "|---|---|---|---|---|---|",
        ]
        for name, group in sorted(ends.items(), key=lambda item: (item[0] != "all", item[0])):
            n = group["requests"]
            low, high = group["right_ci95"]
            lines.append(
                f"| {name} | {n} | {group['right'] / n:.1%} | {low:.1%}-{high:.1%} | {group['wrong'] / n:.1%} | {group['refused'] / n:.1%} |"
            )
    return "\n".join(lines)
