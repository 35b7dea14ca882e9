"""Rejecting a text costs no more than accepting it (issue 29).

A syntax error: the fast decoder gives up where the text goes wrong, and the Lark reference
goes on from there (``hlx_formats._fast.resume_point``) instead of reading the whole text
again. A token the data model refuses (a number out of range, a reserved key, a repeat...):
the fast decoder reads on to the end in its checking mode, and the reference's tree builder
words the error of the first such token (``hlx_formats._fast.noted_error``) with no Lark pass.
These tests hold that structurally, without a clock: they count the passes Lark makes over a
whole text and the tokens its parser takes. The messages are the reference's, character for
character (tests/test_fast_decoders.py holds the two paths to each other on random input).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlx_formats import Contract, ParseError, from_hlxl, from_lcb, from_lcr, from_lct, to_hlxl, to_lcb_text, to_lcr, to_lct
from hlx_formats.grammar import LARK_PASSES, check_reference, lark_parser
from hlx_formats.strategies import examples, values

DECODERS = {"hlxl": from_hlxl, "lc-t": from_lct, "lc-r": from_lcr, "lc-b": from_lcb}
ENCODERS = {"hlxl": to_hlxl, "lc-t": to_lct, "lc-r": to_lcr, "lc-b": to_lcb_text}
#: An integer no format holds (LC-B text writes integers in hex).
HUGE = {
    "hlxl": "99999999999999999999999",
    "lc-t": "99999999999999999999999",
    "lc-r": "99999999999999999999999",
    "lc-b": "0x1ffffffffffffffffff",
}
MARK = {"hlxl": "7777777", "lc-t": "7777777", "lc-r": "7777777", "lc-b": "0x76adf1"}  # 7777777 as each writes it


class _TokenCount:
    """Counts the tokens Lark's LALR parser takes (every parse, whole or resumed)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
        self.tokens = 0
        state_class = type(lark_parser(fmt).parse_interactive("").parser_state)
        feed = state_class.feed_token

        def counted(state, token, is_end=False):  # type: ignore[no-untyped-def]
            self.tokens += 1
            return feed(state, token, is_end)

        monkeypatch.setattr(state_class, "feed_token", counted)


def _long(fmt: str, items: int = 3000) -> str:
    """A valid text of ``items`` objects (each with a nested array and a contract), then 7777777."""
    value = [{"a": index, "b": "xy", "c": [1.5, True, None], "d": Contract(7, {0: index})} for index in range(items)]
    return ENCODERS[fmt]([*value, 7777777])


def _reference_message(fmt: str, text: str) -> str:
    with pytest.raises(ParseError) as reference:
        DECODERS[fmt](text, strict_reference=True)
    return str(reference.value)


def _rejection(fmt: str, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[ParseError, int, dict[str, int]]:
    """The public decoder's error on ``text``, the tokens Lark took for it and its passes."""
    lark_parser(fmt)
    counter = _TokenCount(monkeypatch, fmt)
    before = dict(LARK_PASSES)
    with pytest.raises(ParseError) as error:
        DECODERS[fmt](text)
    passes = {kind: LARK_PASSES[kind] - before[kind] for kind in LARK_PASSES}
    monkeypatch.undo()
    return error.value, counter.tokens, passes


@pytest.mark.parametrize("fmt", DECODERS)
@pytest.mark.parametrize("where", ["last character", "after the last item", "inside the last item"])
def test_a_syntax_error_at_the_end_of_a_long_text_reads_only_its_last_tokens(fmt, where, monkeypatch):
    good = _long(fmt)
    bad = {
        "last character": good[:-1] + "\x01",
        "after the last item": good.replace(MARK[fmt], MARK[fmt] + " ?"),
        "inside the last item": good.replace(MARK[fmt], '"unterminated'),
    }[where]
    error, tokens, passes = _rejection(fmt, bad, monkeypatch)
    assert passes["whole"] == 0 and passes["resumed"] == 1 and passes["prefix failed"] == 0, passes
    assert tokens < 40, tokens  # the text has about 90,000 tokens
    assert error.offset > len(bad) - 40
    assert str(error) == _reference_message(fmt, bad)


NO_PASS = {"whole": 0, "resumed": 0, "prefix failed": 0}


def _spelt(fmt: str, value: object) -> str:
    """``value`` as the format spells it inside a text (LC-B text: without its frame)."""
    text = ENCODERS[fmt](value)
    return text[1:-1] if fmt == "lc-b" and type(value) is not Contract else text


@pytest.mark.parametrize("fmt", DECODERS)
def test_a_data_model_error_at_the_end_of_a_long_text_costs_no_lark_pass(fmt, monkeypatch):
    bad = _long(fmt).replace(MARK[fmt], HUGE[fmt])
    error, tokens, passes = _rejection(fmt, bad, monkeypatch)
    assert passes == NO_PASS and tokens == 0, (passes, tokens)
    assert error.reason == "integer outside the range -2**63 .. 2**64-1"
    assert str(error) == _reference_message(fmt, bad)


#: Per format: a token the data model refuses, by kind, as (what the valid text of _early
#: holds, what replaces it). _early's first object is {"a": 4242, "b": "s", "c": b"\x01", "d":
#: Contract(4343, {201: 1, 202: 2})}; "first" replaces in that object only.
REFUSED = {
    "integer out of range": lambda fmt: (_spelt(fmt, 4242), HUGE[fmt]),
    "integer of 4,301 digits": lambda fmt: (_spelt(fmt, 4242), "1" * 4301),
    "float out of range": lambda fmt: (_spelt(fmt, 4242), "1e999"),
    "lone surrogate escape": lambda fmt: ('"s"', '"\\ud800"'),
    "odd hex digits": lambda fmt: (_spelt(fmt, b"\x01"), {"hlxl": None, "lc-t": "#abc", "lc-r": "⊠abc", "lc-b": "#abc"}[fmt]),
    "reserved key": lambda fmt: (_spelt(fmt, {"b": 0})[1:2], {"hlxl": "null", "lc-t": "NULL", "lc-r": None, "lc-b": "T"}[fmt]),
    "repeated key": lambda fmt: (_spelt(fmt, {"b": 0})[1:2], "a"),
    "contract id out of range": lambda fmt: ("4343", "99999"),
    "contract id with a leading zero": lambda fmt: ("4343", None if fmt == "lc-b" else "04343"),  # LC-B: a syntax error
    "hex contract id": lambda fmt: ("4343", "0x10f7" if fmt == "lc-b" else None),
    "field index out of range": lambda fmt: ("202", "256"),
    "negative field index": lambda fmt: ("202", {"hlxl": None, "lc-t": "-1", "lc-r": None, "lc-b": "-1"}[fmt]),
    "hex field index": lambda fmt: ("202", {"hlxl": None, "lc-t": None, "lc-r": None, "lc-b": "0xca"}[fmt]),
    "repeated field index": lambda fmt: ("202", "201"),
}


def _early(fmt: str, kind: str, items: int = 3000) -> str:
    """A text of ``items`` objects whose first one holds the refused token of ``kind``."""
    first = {"a": 4242, "b": "s", "c": b"\x01", "d": Contract(4343, {201: 1, 202: 2})}
    good = ENCODERS[fmt]([first, *[{"x": index, "y": [1.5, None]} for index in range(items)]])
    old, new = REFUSED[kind](fmt)
    assert new is not None, f"no such token in {fmt}"  # SPELT_REFUSALS leaves those out
    head = ENCODERS[fmt]([first])[: -2 if fmt == "lc-b" else -1]  # the first object, as the text spells it
    assert good.startswith(head) and old in head, (head, old)
    return head.replace(old, new, 1) + good[len(head) :]


#: The (format, kind) pairs of REFUSED that the format can spell.
SPELT_REFUSALS = [(fmt, kind) for kind, make in REFUSED.items() for fmt in DECODERS if make(fmt)[1] is not None]


@pytest.mark.parametrize(("fmt", "kind"), SPELT_REFUSALS)
def test_a_data_model_error_early_in_a_long_text_costs_no_lark_pass(fmt, kind, monkeypatch):
    """The fast decoder reads the rest of the text (it may hold a syntax error, which would
    come first) and the reference's builder words the error: no Lark pass at all."""
    bad = _early(fmt, kind)
    error, tokens, passes = _rejection(fmt, bad, monkeypatch)
    assert passes == NO_PASS and tokens == 0, (passes, tokens)
    assert error.offset < 80
    assert str(error) == _reference_message(fmt, bad)


@pytest.mark.parametrize("fmt", DECODERS)
@pytest.mark.parametrize("kind", ["integer out of range", "repeated key", "repeated field index"])
def test_a_syntax_error_after_a_data_model_error_is_lark_s_from_where_it_is(fmt, kind, monkeypatch):
    """The syntax error wins (the reference reports it, the tree is never built): Lark reads
    only the last tokens, where the fast decoder gave up."""
    bad = _early(fmt, kind)[:-1] + "\x01"
    error, tokens, passes = _rejection(fmt, bad, monkeypatch)
    assert passes == {"whole": 0, "resumed": 1, "prefix failed": 0} and tokens < 40, (passes, tokens)
    assert error.offset == len(bad) - 1 and "unexpected" in error.reason
    assert str(error) == _reference_message(fmt, bad)


@pytest.mark.parametrize("fmt", DECODERS)
def test_nesting_past_the_limit_after_a_data_model_error_costs_no_lark_pass(fmt, monkeypatch):
    good = _early(fmt, "integer out of range")
    at = good.index(_spelt(fmt, 7))  # in the eighth object, after the refused integer
    deep = _spelt(fmt, [])[:-1]
    bad = good[:at] + deep * 300 + good[at:]
    error, tokens, passes = _rejection(fmt, bad, monkeypatch)
    assert passes == NO_PASS and tokens == 0, (passes, tokens)
    assert error.reason == "nesting deeper than 256 levels"
    assert str(error) == _reference_message(fmt, bad)


ORDER = {  # the reference reports a repeat where its container closes: a token refused before that comes first
    "a refused value after a repeated key": ({"a": 1, "b": 2, "c": 7777777}, [("b", "a"), ("7777777", HUGE)]),
    "a repeat in an inner object closes first": ({"a": 1, "b": {"p": 1, "q": 2}, "c": 3}, [("b", "a"), ("q", "p")]),
    "a repeated key before a refused value in a later object": ([{"a": 1, "b": 2}, 7777777], [("b", "a"), ("7777777", HUGE)]),
}


@pytest.mark.parametrize("fmt", DECODERS)
@pytest.mark.parametrize("case", ORDER)
def test_the_first_error_is_the_one_the_reference_finds_first(fmt, case, monkeypatch):
    value, replacements = ORDER[case]
    bad = ENCODERS[fmt](value)
    for old, new in replacements:
        old = _spelt(fmt, int(old)) if old.isdigit() else old
        bad = bad.replace(old, new if isinstance(new, str) else new[fmt], 1)
    error, tokens, passes = _rejection(fmt, bad, monkeypatch)
    assert passes == NO_PASS and tokens == 0, (passes, tokens)
    assert str(error) == _reference_message(fmt, bad)


@pytest.mark.parametrize("fmt", DECODERS)
def test_a_deep_error_reads_only_the_open_containers(fmt, monkeypatch):
    """Items read whole before the error stand in as one or two small items each."""
    inner = ENCODERS[fmt]([list(range(500)), {"k": [Contract(3, {index: index for index in range(200)})]}])
    good = ENCODERS[fmt]([list(range(2000)), {"x": 7777777}])
    at = good.index(MARK[fmt])
    bad = good[:at] + inner + ", ]" + good[at + len(MARK[fmt]) :]  # an inner array ends in ", ]"
    if fmt == "lc-r":
        bad = bad.replace(", ]", ", 🜄")
    error, tokens, passes = _rejection(fmt, bad, monkeypatch)
    assert passes["whole"] == 0 and passes["prefix failed"] == 0, passes
    assert tokens < 80, tokens
    assert str(error) == _reference_message(fmt, bad)


@pytest.mark.parametrize("fmt", DECODERS)
def test_a_repeated_key_at_the_end_costs_no_lark_pass(fmt, monkeypatch):
    good = ENCODERS[fmt]([*[{"a": index} for index in range(200)], {"b": 1, "c": 7777777}])
    bad = good.replace("c", "b")
    error, tokens, passes = _rejection(fmt, bad, monkeypatch)
    assert passes == NO_PASS and tokens == 0, (passes, tokens)
    assert error.reason == "duplicate key 'b'"
    assert str(error) == _reference_message(fmt, bad)


CORRUPTIONS = list('"\\[]{}():,|=@#&_-0 xeE.CTFbnul🜊🜁🜂🜃🜄◇◆∅⊠⟁\n') + ["", "99999999999999999999999", "0x1ffffffffffffffffff"]


@pytest.mark.parametrize("fmt", DECODERS)
@settings(max_examples=examples(100), deadline=None)
@given(items=st.lists(values(max_depth=3), min_size=3, max_size=8), data=st.data())
def test_errors_late_in_a_long_text_are_the_references(fmt, items, data):
    """Corrupt a text in its second half (or just before its end): the public decoder's
    error is the reference's, and Lark never needs to re-read the text from its start (a
    repeated key or field index included)."""
    text = ENCODERS[fmt](items)
    if len(text) < 4:
        return
    at = data.draw(st.integers(len(text) // 2, len(text) - 1))
    corruption = data.draw(st.sampled_from(CORRUPTIONS))
    bad = text[:at] + corruption + text[at + data.draw(st.integers(0, 2)) :]
    before = dict(LARK_PASSES)
    try:
        DECODERS[fmt](bad)
    except ParseError as error:
        after = dict(LARK_PASSES)
        assert after["prefix failed"] == before["prefix failed"]
        assert after["whole"] == before["whole"]
        assert str(error) == _reference_message(fmt, bad)
    else:
        DECODERS[fmt](bad, strict_reference=True)  # accepted by both


#: Tokens the data model refuses, by format (a marker in the text is replaced by one).
BAD_TOKENS = {
    "hlxl": ["99999999999999999999999", "-9999999999999999999999", "1e999", '"\\udc00"', "1" * 4301],
    "lc-t": ["99999999999999999999999", "-1e999", '"\\ud800x"', "#abc"],
    "lc-r": ["99999999999999999999999", "1E999", '"\\ud800"', "⊠0"],
    "lc-b": ["0x1ffffffffffffffffff", "-0x8000000000000001", "99999999999999999999999", "1e999", "#0"],
}


@pytest.mark.parametrize("fmt", DECODERS)
@settings(max_examples=examples(100), deadline=None)
@given(items=st.lists(values(max_depth=3), min_size=2, max_size=6), data=st.data())
def test_data_model_errors_anywhere_cost_no_lark_pass(fmt, items, data):
    """A refused token (or a repeated key) anywhere in a text, perhaps with a syntax error
    before or after it: the public decoder's error is the reference's; with no syntax error,
    Lark never runs, and with one, it never reads the text from its start."""
    marker = 7777777
    items = list(items)
    items.insert(data.draw(st.integers(0, len(items))), data.draw(st.sampled_from([marker, {"m": marker}, {"m": 1, "n": 2}])))
    text = ENCODERS[fmt](items)
    mark = MARK[fmt]
    if mark in text:
        bad = text.replace(mark, data.draw(st.sampled_from(BAD_TOKENS[fmt])), 1)
    else:  # the repeat: {"m": 1, "n": 2} as {"m": 1, "m": 2}
        at = text.index(_spelt(fmt, {"m": 1, "n": 2})[:-1])
        bad = text[:at] + text[at:].replace("n", "m", 1)
    if data.draw(st.booleans()):  # a syntax error too, before or after it
        at = data.draw(st.integers(0, len(bad) - 1))
        bad = bad[:at] + data.draw(st.sampled_from(CORRUPTIONS)) + bad[at + data.draw(st.integers(0, 2)) :]
    with pytest.MonkeyPatch.context() as monkeypatch:
        counter = _TokenCount(monkeypatch, fmt)
        before = dict(LARK_PASSES)
        try:
            DECODERS[fmt](bad)
        except ParseError as error:
            passes = {kind: LARK_PASSES[kind] - before[kind] for kind in LARK_PASSES}
            tokens = counter.tokens
            monkeypatch.undo()
            assert passes["whole"] == 0 and passes["prefix failed"] == 0, passes
            assert str(error) == _reference_message(fmt, bad)
            try:
                check_reference(fmt, bad)
            except ParseError:
                return  # a syntax error: Lark read from where the fast decoder gave up
            assert passes == NO_PASS and tokens == 0, (passes, tokens)
        else:
            monkeypatch.undo()
            DECODERS[fmt](bad, strict_reference=True)  # accepted by both
