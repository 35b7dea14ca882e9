"""The repair tasks without a model: truncations and typos (hlx_formats.repairs), their
grading, the committed corpus of them (corpora/repairs/), its evaluation and the baseline."""

from __future__ import annotations

import json
import random
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlx_formats import repairs
from hlx_formats.api import DECODERS, ENCODERS
from hlx_formats.instructions import route
from hlx_formats.repairs import (
    EDITS,
    RepairError,
    close_completion,
    closing,
    grade_completion,
    grade_fix,
    is_completion,
    is_recoverable,
    parses,
    truncate,
    typo,
)
from hlx_formats.strategies import values
from hlx_moe.corpus import DEFAULT_SPEC, CorpusSpec
from hlx_moe.corpus.examples import ExampleBuilder
from hlx_moe.corpus.repairs import REPAIR_COUNTS, REPAIR_EXPERTS, REPAIR_FORMATS, repair_instruction, repair_rows
from hlx_moe.evaluation.repairs import baseline_answer, grade_repairs, reference_baseline, repair_table, summarise_repairs

CORPORA = Path(__file__).resolve().parent.parent / "corpora" / "repairs"
SPLITS = ("train", "validation", "test")
formats = st.sampled_from(REPAIR_FORMATS)
seeds = st.integers(0, 2**32 - 1)


def one_edit_apart(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one character deleted, inserted, or two different neighbours swapped."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long = sorted((a, b), key=len)
    if len(long) - len(short) != 1:
        return False
    return any(long[:at] + long[at + 1 :] == short for at in range(len(long)))


@cache
def committed(split: str) -> list[dict]:
    return [json.loads(line) for line in (CORPORA / f"{split}.jsonl").read_text("utf-8").splitlines()]


# --- truncations and typos ---------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(values(max_depth=3, max_leaves=12), formats, seeds, st.sampled_from([None, True, False]))
def test_a_truncation_is_a_beginning_of_the_original_that_does_not_parse(value, fmt, seed, recoverable) -> None:
    original = ENCODERS[fmt](value)
    cut = truncate(original, fmt, random.Random(seed), recoverable=recoverable)
    if cut is None:
        return
    assert original.startswith(cut.text) and len(original) // 3 <= len(cut.text) < len(original)
    assert not parses(cut.text, fmt) and cut.text == cut.text.rstrip()
    assert recoverable is None or cut.recoverable == recoverable
    assert cut.recoverable == is_recoverable(cut.text, original, fmt)
    assert is_completion(cut.text, original, fmt)
    assert grade_completion(cut.text, original, original, fmt).right
    closed = grade_completion(cut.text, original, close_completion(cut.text, fmt), fmt)
    assert closed.right == closed.parses if not cut.recoverable else closed.right and closed.equals_original
    assert not grade_completion(cut.text, original, cut.text, fmt).right  # the given text does not parse
    elsewhere = ENCODERS[fmt]([value])
    assert not grade_completion(cut.text, original, elsewhere, fmt).right or elsewhere.startswith(cut.text)


@settings(max_examples=60, deadline=None)
@given(values(max_depth=3, max_leaves=12), formats, seeds, st.sampled_from([None, *EDITS]))
def test_a_typo_is_one_edit_that_breaks_parsing(value, fmt, seed, edit) -> None:
    original = ENCODERS[fmt](value)
    broken = typo(original, fmt, random.Random(seed), edit=edit)
    if broken is None:
        return
    assert edit is None or broken.edit == edit
    assert one_edit_apart(original, broken.text) and not parses(broken.text, fmt)
    assert broken.text and broken.text == broken.text.strip()
    assert grade_fix(original, original, fmt).right and grade_fix(original, f" {original}\n", fmt).right  # any spelling of the value
    wrong = grade_fix(original, broken.text, fmt)
    assert not wrong.right and not wrong.parses and wrong.reason.startswith("does not parse")
    other = grade_fix(original, ENCODERS[fmt]([value]), fmt)
    assert not other.right and other.parses and other.equals_original is False


@pytest.mark.parametrize(
    ("fmt", "text", "closers"),
    [
        ("hlxl", '{a: [1, "x', '"]}'), ("hlxl", '[b"\\x0', '"]'), ("hlxl", '["]", [', "]]"), ("lc-t", '{C:14,0="a\\"', '"}'),
        ("lc-r", "🜊7🜁0 🜃1", "🜄🜂"), ("lc-r", "◇a: 🐃1", "🜄◆"), ("lc-b", "[1000|0:[0x01", "]]"), ("lc-b", '[{x:"', '"}]'),
    ],
)  # fmt: skip
def test_closing_closes_the_open_string_then_the_containers_innermost_first(fmt: str, text: str, closers: str) -> None:
    assert closing(text, fmt) == closers


def test_recoverable_means_closing_gives_the_original_value() -> None:
    assert is_recoverable("[1, [2, 3", "[1, [2, 3]]", "hlxl")
    assert not is_recoverable("[1, 2", "[1, 23]", "hlxl")  # a digit was cut too
    assert not is_recoverable('["a', '["a]"]', "hlxl")  # the bracket was inside the string
    grade = grade_completion("[1, 2", "[1, 23]", "[1, 2]", "hlxl")
    assert grade.right and not grade.needs_original and grade.equals_original is False
    grade = grade_completion("[1, [2, 3", "[1, [2, 3]]", "[1, [2, 3, 4]]", "hlxl")
    assert not grade.right and grade.needs_original and grade.parses and "recoverable" in grade.reason
    assert not grade_completion("[1, 2", "[1, 23]", "[1, 3]", "hlxl").prefix_kept


def test_bad_arguments_are_repair_errors() -> None:
    rng = random.Random(0)
    cases = [
        lambda: truncate("[1, 2]", "json", rng),
        lambda: truncate("[1, 2", "hlxl", rng),  # the original does not parse
        lambda: typo("[1, 2]", "hlxl", rng, edit="replace"),
        lambda: grade_completion("[2", "[1, 2]", "[1, 2]", "hlxl"),  # not a beginning of the original
        lambda: grade_completion("[1]", "[1]", "[1]", "hlxl"),  # not cut at all
        lambda: grade_completion("[1, 2]", "[1, 2], ", "[1, 2]", "hlxl"),  # the original does not parse
        lambda: grade_fix("[1, 2]", None, "hlxl"),
        lambda: parses(b"[1]", "hlxl"),
    ]
    for case in cases:
        with pytest.raises(RepairError):
            case()
    assert issubclass(RepairError, ValueError)
    assert truncate("7", "hlxl", rng) is None  # every cut of a one-character scalar is nothing
    assert truncate("42", "hlxl", rng, recoverable=True) is None  # nothing to close


def test_one_edit_fixes_find_the_original_among_the_texts_that_parse() -> None:
    fixes = repairs.one_edit_fixes("[1, 2,]", "hlxl")
    assert "[1, 2]" in fixes and all(parses(text, "hlxl") and one_edit_apart("[1, 2,]", text) for text in fixes)
    assert repairs.one_edit_fixes("🜃1, 2🜄🜄", "lc-r")[0] == "🜃1, 2🜄"


# --- the committed corpus ----------------------------------------------------------------


def test_the_committed_repair_files_are_what_the_generator_writes() -> None:
    rows = repair_rows(DEFAULT_SPEC)
    for split in SPLITS:
        assert rows[split] == committed(split), split
    assert {split: len(rows[split]) for split in SPLITS} == REPAIR_COUNTS


def test_every_split_is_balanced_and_holds_each_value_once() -> None:
    builder = ExampleBuilder(DEFAULT_SPEC)
    seen: set[str] = set()
    for split in SPLITS:
        rows = committed(split)
        pairs: dict[tuple[str, str], int] = {}
        for row in rows:
            pairs[(row["task"], row["fmt"])] = pairs.get((row["task"], row["fmt"]), 0) + 1
            key = ENCODERS["hlxl"](DECODERS[row["fmt"]](row["original"]))
            assert key not in seen and builder.split_for(key) == split == row["split"]
            seen.add(key)
        assert len(pairs) == 8 and max(pairs.values()) - min(pairs.values()) <= 1, (split, pairs)
        completions = [row for row in rows if row["task"] == "complete"]
        assert 0.25 <= sum(row["recoverable"] for row in completions) / len(completions) <= 0.4
        assert {row["edit"] for row in rows if row["task"] == "fix"} == set(EDITS)


def test_every_row_is_its_own_instruction_and_its_output_is_graded_right() -> None:
    rows = committed("test") + committed("validation") + committed("train")[::10]
    for row in rows:
        fmt, given_text = row["fmt"], row["given"]
        assert row["input"] == f"### Instruction:\n{repair_instruction(row['task'], fmt, given_text)}\n\n### Response:\n"
        assert row["output"] == row["original"] == ENCODERS[fmt](DECODERS[fmt](row["original"]))  # canonical
        assert row["expert"] == REPAIR_EXPERTS[fmt] == route(f"Parse {repair_instruction('fix', fmt, '')[9:]}{row['output']}")[0]
        assert not parses(given_text, fmt)
        if row["task"] == "complete":
            assert row["edit"] is None and row["output"].startswith(given_text)
            grade = grade_completion(given_text, row["original"], row["output"], fmt)
            assert grade.right and grade.needs_original == row["recoverable"]
        else:
            assert row["recoverable"] is None and row["edit"] in EDITS and one_edit_apart(row["original"], given_text)
            assert grade_fix(row["original"], row["output"], fmt).right


def test_a_spec_sets_the_sizes_of_the_repair_splits() -> None:
    small = CorpusSpec(train={}, repairs={"train": 16, "validation": 8, "test": 8})
    rows = repair_rows(small)
    assert {split: len(rows[split]) for split in SPLITS} == small.repairs
    assert repair_rows(small) == rows  # seeded
    assert repair_rows(CorpusSpec(**{**small.__dict__, "seed": small.seed + 1}))["test"] != rows["test"]


# --- evaluation and the baseline ---------------------------------------------------------


def test_the_reference_outputs_score_everything_and_the_baseline_less() -> None:
    rows = committed("test")
    perfect = summarise_repairs(grade_repairs(rows, [row["output"] for row in rows]))
    assert perfect["all"]["rate"] == 1.0 and perfect["all"]["n"] == len(rows)
    assert {"task: complete", "task: fix", "format: LC-R", "fix, swap", "complete, recoverable", "complete, LC-B"} <= set(perfect)
    assert perfect["all"]["right_ci95"][0] > 0.99
    unchanged = summarise_repairs(grade_repairs(rows, [row["given"] for row in rows]))  # the given texts never parse
    assert unchanged["all"]["right"] == 0 and unchanged["all"]["parses"] == 0
    sample = [row for row in rows if row["task"] == "complete"][:60] + [row for row in rows if row["task"] == "fix"][:12]
    baseline = reference_baseline(sample)
    assert baseline["complete, recoverable"]["rate"] == 1.0  # closing is exact where the truncation is recoverable
    assert baseline["complete, not recoverable"]["rate"] < 1.0 and baseline["task: fix"]["n"] == 12
    assert "| all |" in repair_table(baseline)
    assert baseline_answer(sample[0]).startswith(sample[0]["given"])
    with pytest.raises(ValueError, match="2 answers for 3"):
        grade_repairs(rows[:3], ["", ""])


def test_task_rows_give_each_expert_its_own_repair_rows() -> None:
    pytest.importorskip("transformers")
    from hlx_moe.training.train import task_rows

    train, validation = task_rows(CORPORA, "runic", 0, 0, 10)
    assert train and all(row["expert"] == "runic" and row["fmt"] == "lc-r" for row in train + validation) and len(validation) == 10
    sample, _ = task_rows(CORPORA, "coordinator", 50, 7, 0)
    assert len(sample) == 50 and sample == task_rows(CORPORA, "coordinator", 50, 7, 0)[0]
    assert {row["fmt"] for row in sample} <= {"hlxl", "lc-b"}
    assert task_rows(CORPORA / "missing", "runic", 0, 0, 10) is None


# --- the repair instructions: read, routed, refused by the reference, graded (no model) -------


def test_repair_instructions_are_read_without_reading_their_value() -> None:
    from hlx_formats import HLXError, translate
    from hlx_formats.requests import parse_request
    from hlx_moe.evaluation.grading import grade
    from hlx_moe.serving.router import route_instruction

    request = parse_request("complete this lc-r: 🜃1, 2")
    assert (request.task, request.render(), request.instruction.target_format) == ("repair", "Complete this LC-R: 🜃1, 2", "lc-r")
    for text, expert in (("Complete this LC-T: {C:14,0=[1,2", "ascii"), ("Fix this LC-R: 🜃1, 2🜄🜄", "runic"),
                         ("Fix this HLXL: [1,, 2]", "coordinator"), ("Complete this LC-B: [0x01,", "coordinator")):  # fmt: skip
        routed = route_instruction(text)
        assert routed.expert == expert and routed.instruction is not None and routed.instruction.form.task in ("complete", "fix")
        with pytest.raises(HLXError, match="which the reference does not make: the mixture of experts answers it"):
            translate(text)
    # graded without a reference answer: it parses, and a completion keeps the given text
    assert grade("Complete this LC-T: [1,2", "[1,2]").parses is True
    assert grade("Complete this LC-T: [1,2", "[1,3]").error == "a completion must start with the given text"
    assert grade("Complete this LC-T: [1,2", "[1,2").parses is False
    fixed = grade("Fix this LC-T: [1,,2]", "[1,2]")
    assert fixed.parses is True and fixed.reference is None and fixed.exact is False
