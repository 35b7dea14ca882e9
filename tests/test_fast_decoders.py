"""The fast decoders agree with the Lark reference parsers on every input.

For any text, valid or not: the fast decoder returns a value exactly when the reference
parser does, and the same value (strictly, by ``values_equal``); when it gives up, the
public ``from_*`` function raises the reference parser's ParseError. Where the compiled
decoder is installed (``hlx_formats._accelerated``), every text is also read by it: it never
accepts what the reference rejects, returns the reference's value when it accepts, and does
not give up on a canonical text.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlx_formats import HLXError, ParseError, _accelerated, from_hlxl, from_lcb, from_lcr, from_lct, repeats_key, values_equal
from hlx_formats._fast import Reject
from hlx_formats.api import ENCODERS
from hlx_formats.grammar import parse_reference
from hlx_formats.hlxl import _FastHLXL
from hlx_formats.lcb import _FastLCBText
from hlx_formats.lcr import _FastLCR
from hlx_formats.lct import _FastLCT
from hlx_formats.model import MAX_DEPTH
from hlx_formats.strategies import examples, values

FAST = {"hlxl": _FastHLXL, "lc-t": _FastLCT, "lc-r": _FastLCR, "lc-b": _FastLCBText}
PUBLIC = {"hlxl": from_hlxl, "lc-t": from_lct, "lc-r": from_lcr, "lc-b": from_lcb}
FORMATS = tuple(FAST)


def agree(fmt: str, text: str) -> None:
    """The fast decoder and the reference parser agree on ``text``."""
    try:
        expected = parse_reference(fmt, text)
    except ParseError:
        expected = Reject
    try:
        got = FAST[fmt].parse(text)
    except Reject:
        got = Reject
    except (IndexError, ValueError, HLXError):  # the public functions treat these like Reject
        got = Reject
    if expected is Reject or got is Reject:
        assert got is expected, (fmt, text, got, expected)
    else:
        assert values_equal(got, expected), (fmt, text, got, expected)
    agree_compiled(fmt, text, expected)
    # The public function: the same value, or the reference parser's error.
    try:
        public = PUBLIC[fmt](text)
    except ParseError as error:
        assert expected is Reject
        with pytest.raises(ParseError) as reference_error:
            PUBLIC[fmt](text, strict_reference=True)
        assert str(reference_error.value) == str(error)
    else:
        assert expected is not Reject and values_equal(public, expected)


def agree_compiled(fmt: str, text: str, expected: Any) -> None:
    """The compiled decoder holds to the reference on ``text`` (``expected``: the reference's
    value, or ``Reject``): a value it returns is the reference's, strictly; it gives up only
    on a text that is not the canonical encoding of a valid value. Nothing when it is not
    installed."""
    compiled = _accelerated.decode_text
    if compiled is None:
        return
    got = compiled(text, _accelerated.FORMAT_CODES[fmt])  # never raises: it gives up instead
    if got is _accelerated.NOT_DECODED:
        assert expected is Reject or ENCODERS[fmt](expected) != text, ("compiled gave up on a canonical text", fmt, text)
    else:
        assert expected is not Reject, ("compiled accepted what the reference rejects", fmt, text, got)
        assert values_equal(got, expected), ("compiled decoded another value", fmt, text, got, expected)


def _lenient(text: str, data: st.DataObject) -> str:
    """``text`` with whitespace inserted at a few positions (valid or not)."""
    for _ in range(data.draw(st.integers(0, 3))):
        position = data.draw(st.integers(0, len(text)))
        text = text[:position] + data.draw(st.sampled_from([" ", "\n", "\t", "  "])) + text[position:]
    return text


def _mutate(text: str, data: st.DataObject) -> str:
    if not text:
        return text
    position = data.draw(st.integers(0, len(text) - 1))
    kind = data.draw(st.sampled_from(["drop", "duplicate", "swap", "replace"]))
    if kind == "drop":
        return text[:position] + text[position + 1 :]
    if kind == "duplicate":
        return text[: position + 1] + text[position:]
    if kind == "swap" and position + 1 < len(text):
        return text[:position] + text[position + 1] + text[position] + text[position + 2 :]
    replacement = data.draw(st.sampled_from(list('"\\[]{}():,|=@#&_-0123456789 xeE.CTFbnul🜊🜁🜂🜃🜄◇◆🐊∅⊤⊠⟁')))
    return text[:position] + replacement + text[position + 1 :]


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=examples(150))
@given(value=values(), data=st.data())
def test_agree_on_encodings_and_their_mutations(fmt: str, value, data: st.DataObject) -> None:
    text = ENCODERS[fmt](value)
    agree(fmt, text)
    agree(fmt, _lenient(text, data))
    agree(fmt, _mutate(text, data))
    agree(fmt, _mutate(_mutate(text, data), data))


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=examples(150))
@given(text=st.text(alphabet=st.sampled_from(list('"\\[]{}:,|=@#&_-019 \nxeE.CTFNULRbnul🜊🜁🜂🜃🜄◇◆🐊🐁∅⊤⊥⊠⟁')), max_size=24))
def test_agree_on_random_text(fmt: str, text: str) -> None:
    agree(fmt, text)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=examples(60), deadline=None)
@given(items=st.lists(values(max_depth=3), min_size=4, max_size=10), data=st.data())
def test_agree_on_errors_at_the_end_of_long_inputs(fmt: str, items, data: st.DataObject) -> None:
    """The error the public function reports from where the fast decoder gave up (Lark goes
    on from there, after stand-ins for what was read) is the reference's, whole-text one."""
    text = _lenient(ENCODERS[fmt](items), data)
    for _ in range(2):
        end = data.draw(st.integers(max(0, len(text) - 12), len(text)))
        agree(fmt, text[:end] + _mutate(text[end:], data))  # a mutation in the last 12 characters
        agree(fmt, text[:end])  # the text cut short


CASES = [
    ("hlxl", "{14: {@0: 42}}"), ("hlxl", "{ 14 : { @0 : 42 } }"), ("hlxl", "{14: {@0: 42, @0: 1}}"),
    ("hlxl", "{01: {@0: 1}}"), ("hlxl", "{14: {@01: 1}}"), ("hlxl", "{14: {@ 0: 1}}"), ("hlxl", "{null: 1}"),
    ("hlxl", '{"null": 1}'), ("hlxl", "nullx"), ("hlxl", "[1,]"), ("hlxl", "-0"), ("hlxl", "1e400"),
    ("hlxl", 'b"\\x4"'), ("hlxl", "&h_"), ("hlxl", "{a: 1, a: 2}"), ("hlxl", '"\\ud800"'), ("hlxl", "{14: {}}"),
    ("lc-t", "{C:14,0=42}"), ("lc-t", "{C:14}"), ("lc-t", "{Cat:1}"), ("lc-t", "{C :14 , 0 = 42}"),
    ("lc-t", '{"C":1}'), ("lc-t", "{a:1,C:2}"), ("lc-t", "#abc"), ("lc-t", '"caf\u00e9"'), ("lc-t", "@1x"),
    ("lc-r", "🜊14🜁042🜂"), ("lc-r", "🜊14🜁0-5🜂"), ("lc-r", "🜊14🜁0 42🜂"), ("lc-r", "🐊14🐁0 42🐂"),
    ("lc-r", "🜊 14🜁0 1🜂"), ("lc-r", "🜊14🜂"), ("lc-r", "◇null: 1◆"), ("lc-r", "🜃1, 2🐄"), ("lc-r", "⊠abc"),
    ("lc-b", "[14|0:0x2a]"), ("lc-b", "[[14|0:0x2a]]"), ("lc-b", "[0x10|0:1]"), ("lc-b", "[14|0x0:1]"),
    ("lc-b", "[42]"), ("lc-b", "[]"), ("lc-b", "[{T:1}]"), ("lc-b", "[{C:1}]"), ("lc-b", "[0x1ffffffffffffffff]"),
    ("lc-b", "[-0x8000000000000001]"), ("lc-b", "[ [ 1 , 2 ] ]"), ("lc-b", "[14 | 0 : _ ]"), ("lc-b", "[14|0:1|0:2]"),
]  # fmt: skip


@pytest.mark.parametrize("fmt, text", CASES)
def test_agree_on_edge_cases(fmt: str, text: str) -> None:
    agree(fmt, text)


@pytest.mark.parametrize("fmt", FORMATS)
def test_deep_input_falls_back_to_the_reference(fmt: str) -> None:
    opener, closer = {"hlxl": ("[", "]"), "lc-t": ("[", "]"), "lc-r": ("🜃", "🜄"), "lc-b": ("[", "]")}[fmt]
    depth = MAX_DEPTH + (1 if fmt != "lc-b" else 2)  # LC-B text has one more bracket: the frame
    text = opener * depth + closer * depth
    with pytest.raises(ParseError, match="nesting deeper"):
        PUBLIC[fmt](text)
    agree(fmt, opener * 10_000 + closer * 10_000)


# --- LC-B binary: the fast path and the checked decoder -------------------------------------

from hlx_formats.lcb import _decode_binary_checked, _fast_get, to_lcb  # noqa: E402 - the LC-B section's own imports, kept with it


def agree_binary(data: bytes) -> None:
    try:
        expected = _decode_binary_checked(data)
    except ParseError:
        expected = Reject
    try:
        value, end = _fast_get(data, 0, 0)
        got = value if end == len(data) else Reject
    except Exception:  # noqa: BLE001 - the public decoder treats every failure of the fast path alike
        got = Reject
    if expected is Reject or got is Reject:
        assert got is expected, (data.hex(" "), got, expected)
    else:
        assert values_equal(got, expected)


@settings(max_examples=examples(200))
@given(value=values(), data=st.data())
def test_binary_fast_path_agrees(value, data: st.DataObject) -> None:
    encoded = to_lcb(value)
    agree_binary(encoded)
    position = data.draw(st.integers(0, max(0, len(encoded) - 1)))
    agree_binary(encoded[:position] + encoded[position + 1 :])
    agree_binary(encoded[:position] + bytes([data.draw(st.integers(0, 255))]) + encoded[position + 1 :])
    agree_binary(encoded + b"\x00")


@settings(max_examples=examples(200))
@given(data=st.binary(max_size=40))
def test_binary_fast_path_agrees_on_garbage(data: bytes) -> None:
    agree_binary(data)


# --- repeated keys in the beginning of a text (what constrained decoding asks) -------------


@settings(max_examples=examples(150), deadline=None)
@given(value=values(), fmt=st.sampled_from(FORMATS))
def test_no_prefix_of_a_valid_text_repeats_a_key(value, fmt):
    text = ENCODERS[fmt](value)
    assert not any(repeats_key(text[:cut], fmt) for cut in range(len(text) + 1))


@pytest.mark.parametrize(
    "fmt, text, separator",
    [
        ("hlxl", "{a: 1, b: [{a: 2}], a: 3}", ":"),
        ("hlxl", '{a: 1, "a": 3}', ":"),
        ("hlxl", "{7: {@1: 1, @10: 2, @1: 3}}", ":"),
        ("lc-t", "{a:1,a:2}", ":"),
        ("lc-t", "{C:7,0=1,1={C:7,0=1},1=3}", "="),
        ("lc-r", "◇a: 1, a: 2◆", ":"),
        ("lc-r", "🜊7🜁1 1🜁12 2🜁1 3🜂", " "),
        ("lc-b", "[{a:_,a:_}]", ":"),
        ("lc-b", "[7|0:_|1:[7|0:_]|0:_]", ":"),
    ],
)
def test_a_repeat_shows_as_soon_as_its_separator_is_written(fmt, text, separator):
    # The last key or index in each text repeats an earlier one of its own container.
    first = next(cut for cut in range(len(text) + 1) if repeats_key(text[:cut], fmt))
    assert text[first - 1] == separator and text.rindex(separator, 0, first) == first - 1
    assert all(repeats_key(text[:cut], fmt) for cut in range(first, len(text) + 1))
    with pytest.raises(ParseError, match="duplicate"):
        PUBLIC[fmt](text)
