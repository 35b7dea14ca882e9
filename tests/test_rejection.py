"""Rejecting a text costs what reading it up to the error costs (issue 29).

The fast decoder gives up where the text goes wrong, and the Lark reference goes on from
there (``hlx_formats._fast.resume_point``) instead of reading the whole text again. These
tests hold that structurally, without a clock: they count the passes Lark makes over a whole
text and the tokens its parser takes. The messages are the reference's, character for
character (tests/test_fast_decoders.py holds the two paths to each other on random input).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlx_formats import Contract, ParseError, from_hlxl, from_lcb, from_lcr, from_lct, to_hlxl, to_lcb_text, to_lcr, to_lct
from hlx_formats.grammar import LARK_PASSES, lark_parser
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


@pytest.mark.parametrize("fmt", DECODERS)
def test_a_data_model_error_at_the_end_of_a_long_text_builds_no_tree_of_the_rest(fmt, monkeypatch):
    bad = _long(fmt).replace(MARK[fmt], HUGE[fmt])
    error, tokens, passes = _rejection(fmt, bad, monkeypatch)
    assert passes["whole"] == 0 and passes["resumed"] == 2 and passes["prefix failed"] == 0, passes  # no tree, then a tree
    assert tokens < 80, tokens
    assert "out of range" in error.reason or "integer" in error.reason
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
def test_a_repeated_key_is_reported_as_the_reference_reports_it(fmt):
    """A repeated key's first occurrence is before the resume point: the reference reads
    the whole text for it (the one rejection that costs a Lark pass; docs/reliability.md)."""
    good = ENCODERS[fmt]([*[{"a": index} for index in range(200)], {"b": 1, "c": 7777777}])
    bad = good.replace("c", "b")
    with pytest.raises(ParseError, match="duplicate key") as error:
        DECODERS[fmt](bad)
    assert str(error.value) == _reference_message(fmt, bad)


CORRUPTIONS = list('"\\[]{}():,|=@#&_-0 xeE.CTFbnul🜊🜁🜂🜃🜄◇◆∅⊠⟁\n') + ["", "99999999999999999999999", "0x1ffffffffffffffffff"]


@pytest.mark.parametrize("fmt", DECODERS)
@settings(max_examples=examples(100), deadline=None)
@given(items=st.lists(values(max_depth=3), min_size=3, max_size=8), data=st.data())
def test_errors_late_in_a_long_text_are_the_references(fmt, items, data):
    """Corrupt a text in its second half (or just before its end): the public decoder's
    error is the reference's, and Lark never needs to re-read the text from its start."""
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
        if "duplicate" not in error.reason:
            assert after["whole"] == before["whole"]
        assert str(error) == _reference_message(fmt, bad)
    else:
        DECODERS[fmt](bad, strict_reference=True)  # accepted by both
