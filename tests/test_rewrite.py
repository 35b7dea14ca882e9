"""The rewrite step without a model: the rewrites a request allows, the corpus of rewrites,
the choice and its confidence, the threshold, and the evaluation's arithmetic."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlx_formats import HLXError, ParseError
from hlx_formats.api import ENCODERS
from hlx_formats.instructions import match_instruction
from hlx_formats.rewrites import MAX_REWRITE_CHARS, NOT_A_REQUEST, rewrite_grammar, rewrite_prompt, rewrite_space, values_in
from hlx_formats.strategies import values
from hlx_moe.corpus.rewrites import HELD_OUT_ALIASES, HELD_OUT_VERBS, REPAIR_REQUEST_SHARE, REPAIR_VARIATIONS, REWRITE_COUNTS
from hlx_moe.decoding.choices import ChoiceDistribution
from hlx_moe.evaluation.rewrites import choose_threshold, rewrite_table, same_meaning, summarise_rewrites, wilson
from hlx_moe.serving.rewrite import DEFAULT_REWRITE_THRESHOLD, reading_of, rewrite_from, rewrite_threshold, write_threshold

CORPORA = Path(__file__).resolve().parent.parent / "corpora" / "rewrites"


def _value_parts(space) -> set[str]:
    """The value part of every candidate that has one."""
    found = set()
    for candidate in space.candidates:
        parsed = match_instruction(candidate)
        if parsed is not None and parsed.value_text is not None:
            found.add(parsed.value_text)
    return found


@pytest.mark.parametrize(
    "request_text, expected_values",
    [
        ("convert [1,2,3] to LC-R", ["[1,2,3]"]),
        ("please translate {a: 1} into runic", ["{a: 1}"]),
        ("Please translate this into LCR: 4678", ["4678"]),
        ("turn 🜃1, 2🜄 into lct pls", ["🜃1, 2🜄"]),
        ("translate {C:14,0=42} to hlxl", ["{C:14,0=42}"]),
        ("what is LC-T?", []),
        ("what does 🜊 mean", []),  # a glyph on its own is named, not a value
        ('show me `{"two words": 1}` as LC-B', ['{"two words": 1}']),
    ],
)
def test_the_values_of_a_request_are_found_and_copied(request_text: str, expected_values: list[str]) -> None:
    space = rewrite_space(request_text)
    assert [value.text for value in space.values] == expected_values
    assert space.broken is None
    assert _value_parts(space) <= set(expected_values)  # no candidate holds a value the request does not write
    assert space.candidates[-1] == NOT_A_REQUEST
    assert all(match_instruction(candidate) is not None for candidate in space.candidates[:-1])


def test_every_candidate_is_one_alternative_of_the_rewrite_grammar() -> None:
    from lark import Lark

    space = rewrite_space('convert {a: "x"} to runes')
    parser = Lark(rewrite_grammar(space), parser="lalr")
    for candidate in space.candidates:
        parser.parse(candidate)
    with pytest.raises(Exception):  # noqa: B017 - any Lark error: a changed value is no alternative
        parser.parse('Convert to LC-R: {a: "y"}')


@settings(max_examples=60, deadline=None)
@given(
    value=values(max_leaves=6),
    fmt=st.sampled_from(["hlxl", "lc-t", "lc-r", "lc-b"]),
    words=st.sampled_from(["turn", "pls convert", "gimme"]),
)
def test_a_written_value_is_found_and_no_other_is_invented(value, fmt: str, words: str) -> None:
    text = ENCODERS[fmt](value)
    request = f"{words} {text} into the runic thing"
    if len(" ".join(request.split())) > MAX_REWRITE_CHARS or "\n" in text:
        return
    space = rewrite_space(request)
    assert text in {span.text for span in space.values}  # as written, whitespace and all
    for part in _value_parts(space):
        assert part in space.request  # every value part is copied from the request


def test_a_value_is_copied_as_written_whitespace_and_all() -> None:
    space = rewrite_space('gimme ["a  b", "\u00a0c"]\tas runes')
    assert [span.text for span in space.values] == ['["a  b", "\u00a0c"]']
    assert 'Convert to LC-R: ["a  b", "\u00a0c"]' in space.candidates
    assert rewrite_prompt(space.request) == 'Rewrite as an instruction: gimme ["a b", " c"] as runes'  # what the model reads


def test_a_broken_value_is_reported_with_its_parse_error() -> None:
    _spans, broken = values_in("Convert to LC-R: [1, 2,")
    assert isinstance(broken, ParseError) and "not valid HLXL, LC-T, LC-R or LC-B" in str(broken)
    assert rewrite_space("translate {a: 1 into runic").broken is not None


@settings(max_examples=60, deadline=None)
@given(
    value=values(max_leaves=6, max_depth=2),
    fmt=st.sampled_from(["hlxl", "lc-t", "lc-r", "lc-b"]),
    cut=st.floats(0.3, 0.95),
    after=st.sampled_from(["", " for me", " thanks!", "?"]),
)
def test_a_broken_value_may_only_be_repaired_as_written(value, fmt: str, cut: float, after: str) -> None:
    text = ENCODERS[fmt](value)
    given_text = text[: max(1, int(len(text) * cut))].rstrip()
    request = f"please finish this: {given_text}{after}"
    space = rewrite_space(request)
    if space.broken is None or "\n" in text:  # a cut that still parses, or a broken value read otherwise
        return
    start = space.request.index(given_text)
    assert space.candidates[-1] == NOT_A_REQUEST
    for candidate in space.candidates[:-1]:
        parsed = match_instruction(candidate)
        assert parsed is not None and parsed.form.task in ("complete", "fix")
        # the repaired text is copied from the request, from where the broken value opens
        assert space.request.startswith(parsed.value_text, start), candidate
    assert any(match_instruction(candidate).value_text == given_text for candidate in space.candidates[:-1])


def test_finding_where_a_broken_value_ends_takes_time_linear_in_the_request() -> None:
    # a broken value then a long word ending in a digit: the words-only check once backtracked
    # exponentially over the ways to split the word (30 letters took half a minute)
    space = rewrite_space("fix [1,,2 " + "a" * 300 + "1")
    assert space.broken is not None and space.candidates[0] == "Complete this HLXL: [1,,2 " + "a" * 300 + "1"


def test_the_rewrite_space_limits_its_input() -> None:
    with pytest.raises(HLXError, match=f"reads at most {MAX_REWRITE_CHARS}"):
        rewrite_space("convert " + "x" * MAX_REWRITE_CHARS)
    with pytest.raises(HLXError, match="empty"):
        rewrite_space("  \n ")
    with pytest.raises(HLXError, match="must be str"):
        rewrite_space(b"convert 1")  # type: ignore[arg-type]
    assert rewrite_prompt("convert\n 1   to lcr") == "Rewrite as an instruction: convert 1 to lcr"


def test_rewrites_the_reference_answers_alike_are_one_reading() -> None:
    space = rewrite_space("gimme [1] as the rune thing")
    split = {  # the LC-R reading is split over two spellings; the likeliest single rewrite is another reading
        "Translate HLXL to all formats: [1]": 0.4, "Convert to LC-R: [1]": 0.35, "Convert this to Runic glyphs: [1]": 0.2, NOT_A_REQUEST: 0.04,
    }  # fmt: skip
    rewrite = rewrite_from(space, ChoiceDistribution(split, 0.01, 3, 0.2), lambda text: 5)
    assert rewrite.instruction == "Convert to LC-R: [1]" and rewrite.confidence == pytest.approx(0.55)
    assert rewrite.readings[0] == ("Convert to LC-R: [1]", 0.55) and rewrite.readings[1] == ("Translate HLXL to all formats: [1]", 0.4)
    assert rewrite.log_probability == pytest.approx(math.log(0.55), abs=1e-4)
    assert rewrite.mean_log_probability == pytest.approx(math.log(0.55) / 5, abs=1e-4)
    assert rewrite.candidates == len(space.candidates) and rewrite.unexplored == 0.01 and rewrite.is_request
    assert reading_of("Convert to LC-R: [1]") == reading_of("Convert this to Runic glyphs: [1]") != reading_of("Convert to LC-T: [1]")
    off = rewrite_from(space, ChoiceDistribution({NOT_A_REQUEST: 0.9, "Convert to LC-R: [1]": 0.1}, 0.0, 2, 0.1), len)
    assert not off.is_request and off.confidence == 0.9
    with pytest.raises(HLXError, match="none of the"):  # a value the request does not write
        rewrite_from(space, ChoiceDistribution({"Convert to LC-R: 7": 1.0}, 0.0, 1, 0.1), len)


def test_the_threshold_file(tmp_path: Path) -> None:
    assert rewrite_threshold(tmp_path) == DEFAULT_REWRITE_THRESHOLD
    write_threshold(tmp_path, {"threshold": 0.73, "precision": 0.99})
    assert rewrite_threshold(tmp_path) == 0.73
    (tmp_path / "rewrite_threshold.json").write_text('{"threshold": 7}')
    with pytest.raises(HLXError, match="from 0 to 1"):
        rewrite_threshold(tmp_path)
    (tmp_path / "rewrite_threshold.json").write_text("{")
    with pytest.raises(HLXError, match="not a threshold file"):
        rewrite_threshold(tmp_path)


def test_decoding_options_check_the_threshold() -> None:
    from hlx_moe.decoding.options import DecodingOptions

    assert DecodingOptions(rewrite_threshold=0.2).rewrite_threshold == 0.2
    for bad in (-0.1, 1.5, True, "0.5"):
        with pytest.raises(HLXError, match="rewrite_threshold"):
            DecodingOptions(rewrite_threshold=bad)  # type: ignore[arg-type]


def _record(confidence: float, right: bool, intended: str = "Convert to LC-R: 1", chosen: str | None = None) -> dict:
    return {
        "route": "rewrite", "confidence": confidence, "right": right, "intended": intended,
        "chosen": chosen or (intended if right else "Convert to LC-T: 1"), "held_out_phrasing": False, "variation": "free",
    }  # fmt: skip


def test_the_threshold_is_the_lowest_that_keeps_wrong_answers_under_the_limit() -> None:
    records = [_record(0.9, True)] * 97 + [_record(0.4, False), _record(0.5, False), _record(0.95, True)]
    chosen = choose_threshold(records, max_wrong_share=0.01)
    assert chosen["threshold"] == 0.5  # at 0.5 one wrong answer is left: 1% of 100
    assert (chosen["right"], chosen["wrong"], chosen["refused"]) == (98, 1, 1)
    assert chosen["precision"] == pytest.approx(98 / 99, abs=1e-4) and chosen["recall"] == 0.98
    off_topic = [_record(0.9, False, intended=NOT_A_REQUEST, chosen=NOT_A_REQUEST), _record(0.3, False, intended=NOT_A_REQUEST)]
    held_out = [{**record, "held_out_phrasing": True} for record in [_record(0.9, True)] * 18 + [_record(0.7, False), _record(0.8, False)]]
    both = choose_threshold(records + held_out, max_wrong_share=0.01)
    assert both["threshold"] == 0.9  # seen phrasings alone allow 0.5: the held-out group's wrong rewrites decide it
    assert both["groups"]["held-out phrasing"]["wrong"] == 0 and both["groups"]["seen phrasing families"]["wrong"] == 0
    summary = summarise_rewrites(off_topic, 0.5)
    assert summary["groups"]["all"]["right"] == 2  # an off-topic request is right when it is refused


def test_the_summary_counts_final_answers_by_group() -> None:
    answered = [
        {**_record(0.9, True), "answered": True, "refused": False, "answer_right": True, "answer_parses": True, "answer_seconds": 1.0},
        {**_record(0.9, False), "answered": True, "refused": False, "answer_right": False, "answer_parses": True, "answer_seconds": 3.0},
        {**_record(0.2, True), "answered": True, "refused": True, "answer_right": False, "answer_seconds": None},
        {**_record(0.2, False, intended=NOT_A_REQUEST), "answered": True, "refused": True, "answer_right": True, "answer_seconds": None},
        _record(0.9, True),  # not answered end to end
    ]
    summary = summarise_rewrites(answered, 0.5)
    ends = summary["groups"]["all"]["end_to_end"]
    assert (ends["requests"], ends["right"], ends["wrong"], ends["refused"]) == (4, 2, 1, 1)  # the off-topic refusal is right
    assert summary["answers"] == ends and ends["p50_seconds"] == 3.0 and ends["unparsed_returned"] == 0
    assert "| all | 4 | 50.0% |" in rewrite_table(summary)


def test_same_meaning_compares_reference_answers() -> None:
    assert same_meaning("Convert to LC-R: 42", "Convert to LC-R: 42")
    assert same_meaning("Convert this to Runic glyphs: 42", "Convert to LC-R: 42")  # LC-T 42 and HLXL 42: one value
    assert not same_meaning("Convert to LC-T: [1, 2]", "Convert to LC-R: [1, 2]")
    assert not same_meaning(NOT_A_REQUEST, "Convert to LC-R: 42")


def test_wilson_interval() -> None:
    low, high = wilson(90, 100)
    assert 0.82 < low < 0.84 and 0.94 < high < 0.95
    assert wilson(0, 0) == (0.0, 1.0)


def _rows(split: str) -> list[dict]:
    return [json.loads(line) for line in (CORPORA / f"{split}.jsonl").read_text("utf-8").splitlines()]


def test_the_committed_rewrite_corpus() -> None:
    splits = {split: _rows(split) for split in ("train", "validation", "test")}
    assert {split: len(rows) for split, rows in splits.items()} == {
        split: count + count // REPAIR_REQUEST_SHARE for split, count in REWRITE_COUNTS.items()
    }
    assert len(splits["train"]) >= 4000
    assert not any(row["held_out_phrasing"] for row in splits["train"] + splits["validation"])
    held_out = [row for row in splits["test"] if row["held_out_phrasing"]]
    assert len(held_out) >= 300
    trained = " ".join(row["request"].lower() for row in splits["train"])
    for word in HELD_OUT_VERBS + tuple(alias for aliases in HELD_OUT_ALIASES.values() for alias in aliases):
        assert re.search(rf"(?<![\w-]){re.escape(word.lower())}(?![\w-])", trained) is None, word
    for rows in splits.values():
        for row in rows[::7]:  # every seventh row: the whole check is the generator's own
            space = rewrite_space(row["request"])
            assert row["output"] in space.candidates
            assert (space.broken is not None) == (row["variation"] in REPAIR_VARIATIONS)
    assert sum(row["output"] == NOT_A_REQUEST for row in splits["train"]) >= 50


def test_a_free_request_that_names_no_source_means_the_value_as_detected() -> None:
    # `I need ["a"] as runic` names no source: its label is the conversion from the format the
    # description detects (HLXL here), never another format in which the text also parses
    from hlx_formats import detect_format
    from hlx_formats.requests import FORMAT_ALIASES
    from hlx_moe.corpus.rewrites import EXTRA_ALIASES, VALIDATION_FAMILIES

    spellings = {
        fmt: [name.lower() for name in FORMAT_ALIASES[fmt] + EXTRA_ALIASES[fmt] + HELD_OUT_ALIASES[fmt] + VALIDATION_FAMILIES.aliases[fmt]]
        for fmt in FORMAT_ALIASES
    }
    checked = 0
    for split in ("train", "validation", "test", "validation_held_out"):
        for row in _rows(split):
            parsed = match_instruction(row["output"])
            if row["variation"] not in ("free", "foreign") or parsed is None or parsed.source_format is None:
                continue
            words = row["request"].replace(parsed.value_text, " ").lower()
            if any(re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", words) for name in spellings[parsed.source_format]):
                continue
            checked += 1
            assert detect_format(parsed.value_text) == parsed.source_format, row["request"]
    assert checked > 1000


def test_the_validation_splits_held_out_half_has_families_no_other_row_has() -> None:
    from hlx_moe.corpus.rewrites import HELD_OUT_VALIDATION, VALIDATION_FAMILIES

    held_out = _rows(HELD_OUT_VALIDATION)
    half = REWRITE_COUNTS["validation"] // 2
    assert len(held_out) == half + half // REPAIR_REQUEST_SHARE
    assert all(row["held_out_phrasing"] and row["split"] == "validation" for row in held_out)
    assert {row["variation"] for row in held_out} == {"free", "typo", "question", "off_topic", "repair", "broken"}
    others = " ".join(row["request"].lower() for split in ("train", "validation", "test") for row in _rows(split))
    words = VALIDATION_FAMILIES.verbs + tuple(alias for aliases in VALIDATION_FAMILIES.aliases.values() for alias in aliases)
    for word in words:
        assert re.search(rf"(?<![\w.-]){re.escape(word.lower())}(?![\w-])", others) is None, word
    used = " ".join(row["request"].lower() for row in held_out)
    assert sum(re.search(rf"(?<![\w.-]){re.escape(word.lower())}(?![\w-])", used) is not None for word in words) >= len(words) - 2
    requests = [row["request"] for split in ("train", "validation", "test") for row in _rows(split)]
    for pattern in VALIDATION_FAMILIES.patterns:  # filled in, with or without a verb before it
        regex = re.compile("(?:\\S+ )?" + re.escape(pattern).replace(r"\{value\}", ".+").replace(r"\{target\}", ".+"), re.DOTALL)
        assert not any(regex.fullmatch(request) for request in requests), pattern
        assert any(regex.fullmatch(row["request"]) for row in held_out), pattern
    assert set(VALIDATION_FAMILIES.off_topic).isdisjoint(row["request"] for split in ("train", "test") for row in _rows(split))
    for row in held_out[::5]:
        space = rewrite_space(row["request"])
        assert row["output"] in space.candidates
        assert (space.broken is not None) == (row["variation"] in REPAIR_VARIATIONS)


def test_requests_with_a_broken_value_ask_to_repair_it_or_are_refused() -> None:
    from hlx_formats.repairs import grade_completion, grade_fix
    from hlx_moe.corpus.rewrites import REPAIR_PATTERNS

    def family_of(request: str) -> str:
        found = [
            where for _task, pattern, where in REPAIR_PATTERNS
            if re.fullmatch(re.escape(pattern).replace(r"\{format\}", ".+").replace(r"\{given\}", ".+"), request, re.DOTALL)
        ]  # fmt: skip
        assert found, request
        return found[0]

    for split in ("train", "validation", "test", "validation_held_out"):
        rows = [row for row in _rows(split) if row["variation"] in REPAIR_VARIATIONS]
        assert len(rows) >= 10, split
        for row in rows:
            assert (row["output"] == NOT_A_REQUEST) == (row["variation"] == "broken")
            if row["variation"] == "broken":
                assert row["original"] is None
                continue
            parsed = match_instruction(row["output"])
            assert parsed is not None and parsed.form.task in ("complete", "fix") and row["family"] == parsed.form.task
            fmt = parsed.target_format
            # the label's text is the damaged one, and the original value is the right answer to it
            grade = (grade_completion(parsed.value_text, row["original"], row["original"], fmt) if parsed.form.task == "complete"
                     else grade_fix(row["original"], row["original"], fmt))  # fmt: skip
            assert grade.right, row
            expected = {"validation_held_out": "validation", "test": "test" if row["held_out_phrasing"] else "seen"}.get(split, "seen")
            assert family_of(row["request"]) == expected, row["request"]


def test_the_shipped_coordinator_was_trained_on_the_committed_rewrites() -> None:
    import hashlib

    from hlx_moe.model.base import shipped_adapters_dir

    report = json.loads((shipped_adapters_dir() / "coordinator" / "training_report.json").read_text("utf-8"))
    digest = hashlib.sha256()
    for split in ("train", "validation"):
        digest.update((CORPORA / f"{split}.jsonl").read_bytes())
    assert report["rewrites_sha256"] == digest.hexdigest()
    lineage, start = [], report.get("initialized_from")
    while start:
        lineage.append(start["steps"])
        start = start.get("initialized_from")
    assert lineage[-1] == 1550  # it started from the earlier coordinator, whose tasks stay in its mix
    assert rewrite_threshold(shipped_adapters_dir() / "coordinator") < 1.0  # chosen on the validation split


def test_end_to_end_a_repair_is_graded_against_the_original_and_a_broken_conversion_is_refused() -> None:
    from hlx_moe.evaluation.rewrites import _final_answer, _repaired_right

    assert _repaired_right("Complete this HLXL: [1, [2", "[1, [2]]", "[1, [2]]")
    assert not _repaired_right("Complete this HLXL: [1, [2", "[1, [2]]", "[1, [2, 3]]")  # the cut was recoverable: the original only
    assert _repaired_right("Fix this LC-T: [1,,2]", "[1,2]", "[1,2]")
    assert not _repaired_right("Fix this LC-T: [1,,2]", "[1,2]", "[1,3,2]")
    assert not _repaired_right("Convert to LC-R: [1]", "[1]", "🜃1🜄")

    class Refusing:  # refuses as the mixture refuses a conversion of a broken value
        def query(self, request: str) -> None:
            broken = rewrite_space(request).broken
            assert broken is not None
            raise broken

    assert _final_answer(Refusing(), "I need [1, 2 as runic", NOT_A_REQUEST)["answer_right"] is True
    wrong = _final_answer(Refusing(), "finish this HLXL: [1, [2", "Complete this HLXL: [1, [2", "[1, [2]]")
    assert wrong["refused"] and wrong["answer_right"] is False
