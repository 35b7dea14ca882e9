"""The compiled codecs (``hlx_formats._speedups``) are held to the pure-Python reference.

What is held, for the four text formats and LC-B binary:

* an encoder writes exactly the pure-Python encoder's text (bytes), and gives up (None) only
  on what is not a plain HLX value: never on a valid value, never with an exception;
* a decoder returns exactly (strictly, ``values_equal``) the reference's value when it
  accepts, never accepts what the reference rejects, and accepts every canonical encoding;
* on every limit (nesting 256/257 levels, integers at -2**63 and 2**64-1, contract ids and
  field indices, the LC-B binary length fields) and on bad values, the public functions give
  the same value, text or error (type and wording) with the compiled path on and off;
* no input crashes the process (checked in a child process: a crash is a negative exit code).

The whole module is skipped where the compiled codecs are not in use.
"""

from __future__ import annotations

import collections
import enum
import math
import os
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlx_formats import (
    Contract,
    Handle,
    _accelerated,
    _encoder,
    from_hlxl,
    from_lcb,
    from_lcr,
    from_lct,
    lcb,
    to_hlxl,
    to_lcb,
    to_lcb_text,
    to_lcr,
    to_lct,
    values_equal,
)
from hlx_formats.errors import ParseError
from hlx_formats.grammar import parse_reference
from hlx_formats.model import MAX_DEPTH
from hlx_formats.registry import get_format
from hlx_formats.strategies import (
    INT_EDGES,
    contracts,
    examples,
    floats,
    integers,
    objects,
    oversized_values,
    strings,
    values,
)

if _accelerated.decode_text is None:
    pytest.skip(
        "the compiled codecs are not in use (HLX_PURE_PYTHON=1 is set, or hlx_formats._speedups is not built: "
        "python setup.py build_ext --inplace)",
        allow_module_level=True,
    )

# The compiled functions, kept here: pure_python() switches the package's own references off.
DECODE_TEXT: Callable[[str, int], Any] = _accelerated.decode_text
ENCODE_TEXT: Callable[[Any, int], str | None] = _accelerated.encode_text  # type: ignore[assignment]
DECODE_LCB: Callable[[bytes, int], Any] = _accelerated.decode_lcb  # type: ignore[assignment]
ENCODE_LCB: Callable[[Any], bytes | None] = _accelerated.encode_lcb  # type: ignore[assignment]
NOT_DECODED = _accelerated.NOT_DECODED
CODES = _accelerated.FORMAT_CODES
FORMATS = tuple(CODES)
SPELLINGS = {fmt: get_format(fmt).spelling for fmt in FORMATS}
TO = {"hlxl": to_hlxl, "lc-t": to_lct, "lc-r": to_lcr, "lc-b": to_lcb_text}
FROM = {"hlxl": from_hlxl, "lc-t": from_lct, "lc-r": from_lcr, "lc-b": from_lcb}
ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def switched(switches: list[tuple[Any, str]], value: Any) -> Iterator[None]:
    """Each module global of ``switches`` set to ``value`` for the block, then restored."""
    saved = [getattr(module, name) for module, name in switches]
    for module, name in switches:
        setattr(module, name, value)
    try:
        yield
    finally:
        for (module, name), old in zip(switches, saved):
            setattr(module, name, old)


def pure_python() -> AbstractContextManager[None]:
    """The compiled path off, as with ``HLX_PURE_PYTHON=1`` (a context manager, not a
    fixture: Hypothesis tests switch it for each example)."""
    return _accelerated.pure_python()


@contextmanager
def no_depth_limit() -> Iterator[None]:
    """The pure-Python encoders without their nesting limit: to write a text or binary one
    level too deep, which the decoders must refuse."""
    with switched([(_encoder, "MAX_DEPTH"), (lcb, "MAX_DEPTH")], 10 * MAX_DEPTH), pure_python():
        yield


def outcome(call: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """``("value", result)``, or the exception's type name and text."""
    try:
        return "value", call(*args)
    except Exception as error:  # noqa: BLE001 - the outcome is compared, whatever it is
        return type(error).__name__, str(error)


def same_on_and_off(call: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """``call(*args)`` gives the same value (strictly) or the same error (type and text) with
    the compiled path on and off; that outcome."""
    on = outcome(call, *args)
    with pure_python():
        off = outcome(call, *args)
    assert on[0] == off[0], (call.__name__, on, off)
    if on[0] == "value":
        assert values_equal(on[1], off[1]), (call.__name__, on[1], off[1])
    else:
        assert on[1] == off[1], (call.__name__, on[1], off[1])
    return on


def pure_text(value: Any, fmt: str) -> str:
    """The pure-Python encoder's text (for LC-B: the notation without the outer frame)."""
    with pure_python():
        return _encoder.encode(value, SPELLINGS[fmt])


def pure_canonical(value: Any, fmt: str) -> str:
    """The canonical text of ``value`` written by the pure-Python encoder (LC-B: framed)."""
    with pure_python():
        return TO[fmt](value)


def pure_binary(value: Any) -> bytes:
    with pure_python():
        return to_lcb(value)


# --- the checks -------------------------------------------------------------------------


def check_encoders(value: Any) -> None:
    """Every compiled encoder writes what the pure-Python encoder writes, and does not give
    up on ``value`` (a valid value that fits the LC-B binary layout)."""
    for fmt in FORMATS:
        text = ENCODE_TEXT(value, CODES[fmt])
        assert text is not None, ("compiled encoder gave up on a valid value", fmt, value)
        assert text == pure_text(value, fmt), (fmt, value)
    data = ENCODE_LCB(value)
    assert data is not None, ("compiled binary encoder gave up on a valid value", value)
    assert data == pure_binary(value), value


def check_text(fmt: str, text: str) -> None:
    """The compiled decoder holds to the reference on ``text``: a value it returns is the
    reference's, strictly; it gives up only on a text that is not the canonical encoding of
    a valid value."""
    got = DECODE_TEXT(text, CODES[fmt])
    try:
        expected = parse_reference(fmt, text)
    except ParseError as error:
        assert got is NOT_DECODED, ("compiled accepted what the reference rejects", fmt, text, got, str(error))
        return
    if got is NOT_DECODED:
        assert pure_canonical(expected, fmt) != text, ("compiled gave up on a canonical text", fmt, text)
    else:
        assert values_equal(got, expected), ("compiled decoded another value", fmt, text, got, expected)


def checked(data: bytes) -> Any:
    """The pure-Python checked binary decoder's value, or NOT_DECODED where it refuses."""
    try:
        return lcb._decode_binary_checked(data)
    except ParseError:
        return NOT_DECODED


def check_binary(data: bytes, canonical: bool = False) -> None:
    """The compiled binary decoder holds to the checked decoder on ``data``: what it reads
    (up to its end) the checked decoder reads as the same value; on the whole of ``data`` it
    accepts exactly what the checked decoder accepts, less only non-canonical encodings; it
    reads the same value at any offset; and ``canonical`` input it never gives up on."""
    found = DECODE_LCB(data, 0)
    expected = checked(data)
    if found is NOT_DECODED:
        assert not canonical, ("compiled gave up on a canonical encoding", data.hex(" "))
        if expected is not NOT_DECODED:
            assert pure_binary(expected) != data, ("compiled gave up on a canonical encoding", data.hex(" "))
        return
    value, end = found
    assert 0 < end <= len(data), (data.hex(" "), end)
    if end == len(data):
        assert expected is not NOT_DECODED, ("compiled accepted what the checked decoder rejects", data.hex(" "), value)
        assert values_equal(value, expected), ("compiled decoded another value", data.hex(" "), value, expected)
    else:  # a value followed by more bytes: the value is the checked decoder's of its bytes
        assert expected is NOT_DECODED, ("the checked decoder read on past the compiled decoder's end", data.hex(" "), end)
        alone = checked(data[:end])
        assert alone is not NOT_DECODED, ("compiled accepted what the checked decoder rejects", data[:end].hex(" "), value)
        assert values_equal(value, alone), ("compiled decoded another value", data[:end].hex(" "), value, alone)
    # The same value at an offset, after other bytes.
    shifted = DECODE_LCB(b"\x01\xff" + data, 2)
    assert shifted is not NOT_DECODED and shifted[1] == end + 2 and values_equal(shifted[0], value), data.hex(" ")


# --- encoders ---------------------------------------------------------------------------


@settings(max_examples=examples(300))
@given(value=values())
def test_compiled_encoders_write_the_python_text_and_bytes(value: Any) -> None:
    check_encoders(value)


@settings(max_examples=examples(60))
@given(value=values(max_depth=12, max_leaves=80, max_size=8))
def test_compiled_encoders_on_larger_values(value: Any) -> None:
    check_encoders(value)


@settings(max_examples=examples(200))
@given(
    value=st.one_of(
        integers(),
        floats(),
        strings(max_size=200),
        objects(max_size=8),
        contracts(max_fields=8),
        st.lists(st.one_of(integers(), floats()), max_size=20),
    )
)
def test_compiled_encoders_on_scalars_and_flat_containers(value: Any) -> None:
    check_encoders(value)


@settings(max_examples=examples(12))
@given(case=oversized_values())
def test_compiled_encoders_on_values_over_the_binary_limits(case: tuple[str, Any]) -> None:
    """Valid in the text formats (the compiled text encoders write them); the compiled binary
    encoder gives up, and ``to_lcb`` raises the pure path's EncodeError."""
    _, value = case
    for fmt in FORMATS:
        text = ENCODE_TEXT(value, CODES[fmt])
        assert text is not None and text == pure_text(value, fmt), fmt
    assert ENCODE_LCB(value) is None
    kind, _ = same_on_and_off(to_lcb, value)
    assert kind == "EncodeError"


# --- text decoders ----------------------------------------------------------------------

TOKENS = {
    "hlxl": ["null", "true", "false", "nul", "[", "]", "{", "}", ", ", ",", ": ", ":", "@", "@0", "&h_", "&h_x", "b\"", "\\x0",
             "\\x4a", "14: {", "}}", "-", "0", "1", "7", "01", "18446744073709551615", "18446744073709551616",
             "-9223372036854775808", "-9223372036854775809", "e", "E+", ".", "1e400", "\"", "\\\"", "\\u00e9", "\\ud800",
             "\\udc00", "\\n", "\\q", " ", "\n", "\t", "é", "\x00", "\ufeff", "a", "key"],
    "lc-t": ["NULL", "TRUE", "FALSE", "[", "]", "{", "}", ",", ":", "=", "{C:", "C", "0=", "255=", "256=", "@", "@doc", "#",
             "#ab", "#a", "-", "0", "1", "65535", "65536", "01", "18446744073709551615", "18446744073709551616", "e", ".",
             "\"", "\\u00e9", "\\ud83d\\ude00", "\\ud800", "é", " ", "\n", "a", "key"],
    "lc-r": ["∅", "⊤", "⊥", "⊠", "⊠ab", "⟁", "⟁x", "🜊", "🜁", "🜂", "🜃", "🜄", "◇", "◆", "🐊", "🐁", "🐂", "🐃", "🐄", ", ", ",",
             ": ", ":", " ", "0", "1", "14", "255", "256", "-", "\"", "\\u00e9", "\\ud800", "e", ".", "a", "key", "\n"],
    "lc-b": ["[", "]", "{", "}", ",", ":", "|", "_", "T", "F", "&", "&x", "#", "#00", "0x", "0x2a", "0x0", "-0x", "0xffffffffffffffff",
             "0x010000000000000000", "-0x8000000000000000", "-0x8000000000000001", "14", "0", "1", "255", "256", "65535",
             "65536", "-", "\"", "\\u00e9", "\\ud800", "é", " ", "e", ".", "a", "C", "null"],
}  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, text: str, fmt: str) -> str:
    """``text`` changed in one to three places: a character dropped, doubled, swapped, case
    flipped, a token put in or over it, the text cut short, whitespace or a BOM added."""
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["drop", "double", "swap", "case", "insert", "replace", "cut", "space", "bom"]))
        token = draw(st.sampled_from(TOKENS[fmt]))
        if kind == "drop":
            text = text[:position] + text[position + 1 :]
        elif kind == "double":
            text = text[: position + 1] + text[position:]
        elif kind == "swap" and position + 1 < len(text):
            text = text[:position] + text[position + 1] + text[position] + text[position + 2 :]
        elif kind == "case":
            text = text[:position] + text[position : position + 1].swapcase() + text[position + 1 :]
        elif kind == "insert":
            text = text[:position] + token + text[position:]
        elif kind == "replace":
            text = text[:position] + token + text[position + 1 :]
        elif kind == "cut":
            text = text[:position]
        elif kind == "space":
            text = text[:position] + draw(st.sampled_from([" ", "\n", "\t", "\r\n", "  "])) + text[position:]
        else:
            text = "\ufeff" + text
    return text


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=examples(150))
@given(value=values())
def test_compiled_decoder_reads_every_canonical_text(fmt: str, value: Any) -> None:
    text = pure_canonical(value, fmt)
    got = DECODE_TEXT(text, CODES[fmt])
    assert got is not NOT_DECODED, ("compiled gave up on a canonical text", fmt, text)
    assert values_equal(got, value), (fmt, text, got, value)
    assert values_equal(got, parse_reference(fmt, text))


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=examples(200))
@given(value=values(), data=st.data())
def test_compiled_decoder_on_mutated_texts(fmt: str, value: Any, data: st.DataObject) -> None:
    text = pure_canonical(value, fmt)
    check_text(fmt, data.draw(mutated(text, fmt)))
    check_text(fmt, data.draw(mutated(text, fmt)))


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=examples(200))
@given(data=st.data())
def test_compiled_decoder_on_random_texts(fmt: str, data: st.DataObject) -> None:
    check_text(fmt, "".join(data.draw(st.lists(st.sampled_from(TOKENS[fmt]), max_size=16))))


#: Number spellings: every leniency, the rounding edges, underflow to a signed zero, overflow.
NUMBERS = [
    "0", "-0", "0.0", "-0.0", "1e5", "1E5", "1.0E+5", "1e-5", "3.140", "100.0", "1e400", "-1e400", "1e-400", "-1e-400",
    "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "4.9e-324", "2e-324", "3e-324", "-2.5e-324",
    "2.2250738585072011e-308", "9007199254740993", "9007199254740993.0", "0." + "9" * 800, "1" + "0" * 400 + ".0",
    "0." + "0" * 400 + "1", "1" * 4300, "1" * 4301, "-" + "9" * 30, "123456789012345678901234567890.0", "1.", ".5", "1.e5",
    "01.5", "00", "-", "1e", "1e+", "1e-", "--1", "+1", "1_000", "0x10", "-0x10", "0x", "0X10", "1.5e+07", "1E-07", "Infinity", "NaN",
]  # fmt: skip

#: String spellings: escapes in every case, surrogate pairs and lone halves, raw controls.
STRINGS = [
    '""', '"\\u0000"', '"\\uD83D\\uDE00"', '"\\ud83d\\ude00"', '"\\ud83d\\u0041"', '"\\ude00\\ud83d"', '"\\ud83d"',
    '"\\u00E9"', '"\\u00e"', '"\\/"', '"\\a"', '"\\"', '"\\\\"', '"\\"\\""', '"\x00"', '"\x1f"', '"\x7f"', '"\x80"', '"\t"',
    '"é"', '"😀"', '"\u2028"', '"\\b\\f\\n\\r\\t"', '"a', 'a"', '"\\u12"', '"\\x41"', '"' + "x" * 70000 + '"',
]  # fmt: skip

_IN_ARRAY = {"hlxl": "[{}]", "lc-t": "[{}]", "lc-r": "🜃{}🜄", "lc-b": "[[{}]]"}
_AT_TOP = {"hlxl": "{}", "lc-t": "{}", "lc-r": "{}", "lc-b": "[{}]"}
_AS_KEY = {"hlxl": "{{{}: 1}}", "lc-t": "{{{}:1}}", "lc-r": "◇{}: 1◆", "lc-b": "[{{{}:_}}]"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_compiled_decoder_on_number_spellings(fmt: str) -> None:
    for number in NUMBERS:
        for text in (_AT_TOP[fmt].format(number), _IN_ARRAY[fmt].format(number)):
            check_text(fmt, text)
            same_on_and_off(FROM[fmt], text)


@pytest.mark.parametrize("fmt", FORMATS)
def test_compiled_decoder_on_string_spellings(fmt: str) -> None:
    for string in STRINGS:
        for text in (_AT_TOP[fmt].format(string), _IN_ARRAY[fmt].format(string), _AS_KEY[fmt].format(string)):
            check_text(fmt, text)
            same_on_and_off(FROM[fmt], text)


# --- the binary decoder -----------------------------------------------------------------


def _loose_int(value: int, draw: Callable[[st.SearchStrategy[Any]], Any]) -> bytes:
    """``value`` under any integer tag that holds it (LC-B decoders accept every one)."""
    fits = []
    for tag, layout in lcb._INTEGER_TAGS.items():
        bits = 8 * layout.size
        signed = layout.format[-1].islower()
        if (-(2 ** (bits - 1)) <= value < 2 ** (bits - 1)) if signed else (0 <= value < 2**bits):
            fits.append((tag, layout))
    tag, layout = draw(st.sampled_from(fits))
    packed: bytes = layout.pack(value)
    return bytes([tag]) + packed


def _float32(value: float) -> bytes | None:
    """``value`` as float32, where that is exact."""
    try:
        packed = struct.pack("<f", value)
    except OverflowError:
        return None
    return packed if struct.unpack("<f", packed)[0] == value else None


def loose_binary(value: Any, draw: Callable[[st.SearchStrategy[Any]], Any]) -> bytes:
    """An encoding of ``value`` that the decoders accept but is not always the canonical
    one: any integer tag that holds the integer, float32 where it is exact, fields in any order."""
    kind = type(value)
    if kind is int:
        return _loose_int(value, draw)
    if kind is float and _float32(value) is not None and draw(st.booleans()):
        return b"\x20" + struct.pack("<f", value)
    if kind is list:
        return b"\x60" + struct.pack("<H", len(value)) + b"".join(loose_binary(item, draw) for item in value)
    if kind is dict:
        pairs = [bytes([len(key.encode())]) + key.encode() + loose_binary(item, draw) for key, item in value.items()]
        return b"\x70" + bytes([len(value)]) + b"".join(pairs)
    if kind is Contract:
        fields = draw(st.permutations(list(value.items())))
        body = b"".join(bytes([index]) + loose_binary(item, draw) for index, item in fields)
        return b"\x50" + struct.pack("<HB", value.id, len(fields)) + body
    return pure_binary(value)


@settings(max_examples=examples(300))
@given(value=values())
def test_compiled_binary_decoder_reads_every_canonical_encoding(value: Any) -> None:
    data = pure_binary(value)
    found = DECODE_LCB(data, 0)
    assert found is not NOT_DECODED, ("compiled gave up on a canonical encoding", data.hex(" "))
    assert found[1] == len(data) and values_equal(found[0], value), (data.hex(" "), found, value)
    check_binary(data, canonical=True)
    check_binary(data + data)  # two values: the first, and its end


@settings(max_examples=examples(200))
@given(value=values(), data=st.data())
def test_compiled_binary_decoder_on_other_encodings(value: Any, data: st.DataObject) -> None:
    check_binary(loose_binary(value, data.draw))


@st.composite
def mutated_binary(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with one to three bytes flipped, put in or taken out, or cut short."""
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "append"]))
        byte = draw(st.sampled_from([0x00, 0x01, 0x10, 0x13, 0x17, 0x20, 0x21, 0x30, 0x31, 0x40, 0x50, 0x60, 0x70, 0x7F, 0x80, 0xC3, 0xFF]))
        if kind == "flip" and position < len(data):
            data = data[:position] + bytes([data[position] ^ (1 << draw(st.integers(0, 7)))]) + data[position + 1 :]
        elif kind == "set" and position < len(data):
            data = data[:position] + bytes([byte]) + data[position + 1 :]
        elif kind == "insert":
            data = data[:position] + bytes([byte]) + data[position:]
        elif kind == "delete":
            data = data[:position] + data[position + 1 :]
        elif kind == "truncate":
            data = data[:position]
        else:
            data += bytes([byte])
    return data


@settings(max_examples=examples(400))
@given(value=values(), data=st.data())
def test_compiled_binary_decoder_on_mutated_encodings(value: Any, data: st.DataObject) -> None:
    mutant = data.draw(mutated_binary(pure_binary(value)))
    if mutant:
        check_binary(mutant)


#: Bytes, often tags and small lengths.
_TAG_BYTES = b"\x00\x01\x02\x03\x10\x14\x17\x20\x21\x30\x31\x40\x50\x60\x70\xff\x80abc_"


@settings(max_examples=examples(300))
@given(data=st.one_of(st.binary(min_size=1, max_size=48), st.lists(st.sampled_from(_TAG_BYTES), min_size=1, max_size=40).map(bytes)))
def test_compiled_binary_decoder_on_random_bytes(data: bytes) -> None:
    check_binary(data)


def test_compiled_binary_decoder_at_the_end_of_the_data() -> None:
    """Nothing left to read at ``pos``: it gives up (the checked decoder reports the truncation)."""
    assert DECODE_LCB(b"", 0) is NOT_DECODED
    assert DECODE_LCB(b"\x00", 1) is NOT_DECODED
    same_on_and_off(lcb.read_binary_at, b"\x00", 1)
    same_on_and_off(lcb.read_binary_at, b"\x00\x01", 1)


# --- bad values and bad input ----------------------------------------------------------


class Color(enum.IntEnum):
    RED = 1


class Word(str, enum.Enum):
    HELLO = "hello"


class Ordered(collections.OrderedDict):  # type: ignore[type-arg]
    pass


class Text(str):
    pass


class Number(float):
    pass


class Items(list):  # type: ignore[type-arg]
    pass


class Name(Handle):
    __slots__ = ()


class Deal(Contract):
    __slots__ = ()


def _cyclic() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


def _handle_named(name: Any) -> Handle:
    handle = object.__new__(Handle)
    object.__setattr__(handle, "name", name)
    return handle


def _contract(id: Any, fields: Any) -> Contract:
    contract = object.__new__(Contract)
    object.__setattr__(contract, "id", id)
    object.__setattr__(contract, "_fields", fields)
    object.__setattr__(contract, "_hash", None)
    return contract


def check_encoders_against_pure(value: Any) -> list[str]:
    """Each compiled encoder gives up on ``value`` or writes exactly what the pure-Python
    encoder writes (it gives up wherever that one raises), and each public encoder gives the
    same text, bytes or error with the compiled path on and off. The pure outcomes' kinds."""
    kinds = []
    for fmt in FORMATS:
        with pure_python():
            expected = outcome(_encoder.encode, value, SPELLINGS[fmt])
        text = ENCODE_TEXT(value, CODES[fmt])
        assert text is None or (expected[0] == "value" and text == expected[1]), (fmt, text, expected)
        same_on_and_off(TO[fmt], value)
        kinds.append(expected[0])
    with pure_python():
        expected = outcome(to_lcb, value)
    data = ENCODE_LCB(value)
    assert data is None or (expected[0] == "value" and data == expected[1]), (data, expected)
    same_on_and_off(to_lcb, value)
    return [*kinds, expected[0]]


#: Values that the pure-Python encoders refuse in every format.
BAD_VALUES: dict[str, Callable[[], Any]] = {
    "nan": lambda: math.nan,
    "inf": lambda: math.inf,
    "-inf": lambda: -math.inf,
    "nan in an array": lambda: [1, math.nan],
    "inf in an object": lambda: {"a": {"b": math.inf}},
    "nan in a contract": lambda: Contract(14, {0: -math.nan}),
    "int below -2**63": lambda: -(2**63) - 1,
    "int 2**64": lambda: 2**64,
    "int 2**64 in an array": lambda: [0, 2**64],
    "huge int": lambda: 10**400,
    "tuple": lambda: (1, 2),
    "tuple in an array": lambda: [1, (2,)],
    "set": lambda: {1, 2},
    "frozenset in an object": lambda: {"a": frozenset()},
    "bytearray": lambda: bytearray(b"ab"),
    "memoryview": lambda: memoryview(b"ab"),
    "complex": lambda: 1j,
    "object": lambda: object(),
    "type": lambda: int,
    "int key": lambda: {1: 2},
    "bytes key": lambda: {b"a": 2},
    "None key": lambda: {None: 2},
    "Handle key": lambda: {Handle("x"): 2},
    "Contract key": lambda: {Contract(14, {0: 1}): 2},
    "str-subclass key": lambda: {Text("a"): 1},
    "str-enum key": lambda: {Word.HELLO: 1},
    "IntEnum key": lambda: {Color.RED: 1},
    "non-str key after a good one": lambda: {"a": 1, 2: 3},
    "lone surrogate": lambda: "\ud800",
    "lone low surrogate in a string": lambda: "ab\udfffcd",
    "lone surrogate in a key": lambda: {"k\ud800": 1},
    "lone surrogate in a nested key": lambda: [{"ok": {"\udc00": 1}}],
    "lone surrogate in a contract": lambda: Contract(1, {0: "\ud83d"}),
    "cycle": _cyclic,
    "Handle subclass": lambda: Name("x"),
    "Contract subclass": lambda: Deal(14, {0: 1}),
    "Handle subclass in an array": lambda: [Name("x")],
    "Handle without a name": lambda: object.__new__(Handle),
    "Handle with an int name": lambda: _handle_named(42),
    "Contract without fields": lambda: object.__new__(Contract),
}

#: Subclasses of the plain kinds: the pure-Python encoders write them as their kind.
SUBCLASS_VALUES: dict[str, Callable[[], Any]] = {
    "IntEnum": lambda: Color.RED,
    "str enum": lambda: Word.HELLO,
    "OrderedDict": lambda: collections.OrderedDict(a=1, b=[2]),
    "OrderedDict subclass": lambda: Ordered(a=1),
    "str subclass": lambda: Text('a"b'),
    "float subclass": lambda: Number(-0.0),
    "list subclass": lambda: Items([1, Color.RED]),
    "IntEnum in an array": lambda: [Color.RED, 2],
    "str enum in a contract": lambda: Contract(14, {0: Word.HELLO}),
    "OrderedDict in an object": lambda: {"x": collections.OrderedDict(y=Word.HELLO)},
}

#: Handle and Contract objects built around their constructors' checks: whatever the pure
#: path makes of them (it writes some, raises on others), the compiled path may only agree.
MALFORMED_VALUES: dict[str, Callable[[], Any]] = {
    "Handle with a str-subclass name": lambda: _handle_named(Text("x")),
    "Handle with a non-identifier name": lambda: _handle_named("two words"),
    "Handle with a non-ASCII name": lambda: _handle_named("naïve"),
    "Handle with an empty name": lambda: _handle_named(""),
    "Handle with a 300-byte name": lambda: _handle_named("h" * 300),
    "Contract with no fields": lambda: _contract(14, ()),
    "Contract with id 65536": lambda: _contract(65536, ((0, 1),)),
    "Contract with id -1": lambda: _contract(-1, ((0, 1),)),
    "Contract with a str id": lambda: _contract("14", ((0, 1),)),
    "Contract with a bool id": lambda: _contract(True, ((0, 1),)),
    "Contract with index 256": lambda: _contract(14, ((256, 1),)),
    "Contract with index -1": lambda: _contract(14, ((-1, 1),)),
    "Contract with a bool index": lambda: _contract(14, ((True, 1),)),
    "Contract with a repeated index": lambda: _contract(14, ((0, 1), (0, 2))),
    "Contract with unsorted fields": lambda: _contract(14, ((2, 1), (0, 2))),
    "Contract with a list of fields": lambda: _contract(14, [(0, 1)]),
    "Contract with a field of 3": lambda: _contract(14, ((0, 1, 2),)),
    "Contract with a non-pair field": lambda: _contract(14, (0,)),
    "Contract with 256 fields": lambda: _contract(14, tuple((i, i) for i in range(256))),
}


@pytest.mark.parametrize("name", BAD_VALUES)
def test_compiled_encoders_give_up_on_bad_values(name: str) -> None:
    value = BAD_VALUES[name]()
    assert "value" not in check_encoders_against_pure(value), name
    for fmt in FORMATS:
        assert ENCODE_TEXT(value, CODES[fmt]) is None, (name, fmt)
    assert ENCODE_LCB(value) is None, name


@pytest.mark.parametrize("name", SUBCLASS_VALUES)
def test_compiled_encoders_on_subclasses_of_the_kinds(name: str) -> None:
    """Written as their kind by the pure path; the compiled encoders give up or write the same."""
    assert set(check_encoders_against_pure(SUBCLASS_VALUES[name]())) == {"value"}, name


@pytest.mark.parametrize("name", MALFORMED_VALUES)
def test_compiled_encoders_on_malformed_handles_and_contracts(name: str) -> None:
    check_encoders_against_pure(MALFORMED_VALUES[name]())


#: Texts every reference parser refuses (a value the data model refuses, spelt validly).
BAD_TEXTS = {
    "hlxl": ['"\\ud800"', '"a\\udc00"', '{"\\ud800": 1}', "[1e400]", "-1e400", "NaN", "[inf]", "{a: 1, a: 2}", "{14: {@0: 1, @0: 2}}",
             "{14: {}}", '"\x00"', '"\x7f"', "-01", "&h_", "&h_1x", 'b"\\x4"', "[1,]", "[1 2]", "{1000: {@0: 1}", "\ufeff\ufeff1"],
    "lc-t": ['"\\ud800"', '{"\\ud800":1}', "1e400", "{a:1,a:2}", "{C:14,0=1,0=2}", "{C:14}", "{C:1}", "{C:1,}", "#abc", "#g0",
             "@1x", '"caf\u00e9"', '{C:1,a=1}', "{NULL:1}", "{C:1:0=1}"],
    "lc-r": ['"\\ud800"', '◇"\\udc00": 1◆', "1e400", "◇a: 1, a: 2◆", "🜊14🜁0 1🜁0 2🜂", "🜊14🜂", "🜊14🜁042🜂", "⊠abc", "⟁", "🜃1, 2🐄x",
             "◇null: 1"],
    "lc-b": ['["\\ud800"]', '[{"\\ud800":_}]', "[1e400]", "[{a:_,a:_}]", "[14|0:_|0:_]", "[[14]", "[0x]", "[-0x]", "[0xg]",
             "[14|0x0:1]", "[0x10|0:1]", '["caf\u00e9"]', "[{T:1}]", "[&1]", "_", "[_]]", "[#abc]"],
}  # fmt: skip


@pytest.mark.parametrize("fmt, text", [(fmt, text) for fmt, texts in BAD_TEXTS.items() for text in texts])
def test_compiled_decoder_gives_up_on_bad_text(fmt: str, text: str) -> None:
    assert DECODE_TEXT(text, CODES[fmt]) is NOT_DECODED, (fmt, text)
    kind, _ = same_on_and_off(FROM[fmt], text)
    assert kind == "ParseError", (fmt, text)


def _f64(value: float) -> bytes:
    return b"\x21" + struct.pack("<d", value)


#: Binary the checked decoder refuses (every reason the spec names).
BAD_BINARY = {
    "NaN": _f64(math.nan),
    "inf": _f64(math.inf),
    "-inf in an array": b"\x60\x01\x00" + _f64(-math.inf),
    "float32 NaN": b"\x20" + struct.pack("<f", math.nan),
    "unknown tag": b"\x03",
    "unknown tag 0xff": b"\xff",
    "truncated int": b"\x13\x00\x00",
    "truncated string": b"\x30\x05\x00ab",
    "truncated length": b"\x30\x05",
    "truncated array": b"\x60\x02\x00\x00",
    "truncated contract header": b"\x50\x0e\x00",
    "trailing byte": b"\x00\x00",
    "invalid UTF-8": b"\x30\x02\x00\xc3\x28",
    "surrogate in UTF-8": b"\x30\x03\x00\xed\xa0\x80",
    "invalid UTF-8 key": b"\x70\x01\x01\xff\x00",
    "overlong UTF-8": b"\x30\x02\x00\xc0\xaf",
    "duplicate key": b"\x70\x02\x01a\x00\x01a\x01",
    "duplicate field": b"\x50\x0e\x00\x02\x00\x00\x00\x01",
    "no fields": b"\x50\x0e\x00\x00",
    "handle not an identifier": b"\x40\x03a b",
    "handle starting with a digit": b"\x40\x021x",
    "empty handle": b"\x40\x00",
    "non-ASCII handle": b"\x40\x02\xc3\xa9",
    "nested too deep": b"\x60\x01\x00" * (MAX_DEPTH + 1) + b"\x00",
}


@pytest.mark.parametrize("name", BAD_BINARY)
def test_compiled_binary_decoder_gives_up_on_bad_binary(name: str) -> None:
    data = BAD_BINARY[name]
    found = DECODE_LCB(data, 0)
    assert found is NOT_DECODED or found[1] < len(data), (name, found)
    check_binary(data)
    kind, _ = same_on_and_off(from_lcb, data)
    assert kind in ("ParseError", "TruncatedInput"), (name, kind)
    same_on_and_off(lcb.read_binary, data)
    same_on_and_off(lcb.read_binary_at, b"\x00" + data, 1)


# --- limits, at each edge ----------------------------------------------------------------


def nest(depth: int, kinds: str, leaf: Any = 1) -> Any:
    """``depth`` levels of containers around ``leaf``: ``kinds`` cycles through a (array),
    o (object) and c (contract), innermost last."""
    value = leaf
    for level in reversed(range(depth)):
        kind = kinds[level % len(kinds)]
        value = [value] if kind == "a" else {"k": value} if kind == "o" else Contract(7, {3: value})
    return value


NESTINGS = ["a", "o", "c", "aoc", "coa", "oc"]


def check_depth_edge(fmt: str, kinds: str, leaf: Any) -> None:
    """At the nesting limit: 256 levels are written and read (compiled path too), 257 are
    refused; the public functions give the same results with the compiled path on and off."""
    wrappers = MAX_DEPTH - (type(leaf) in (list, dict))  # an innermost container is a level of its own
    deepest, too_deep = nest(wrappers, kinds, leaf), nest(wrappers + 1, kinds, leaf)
    if fmt == "binary":
        data = pure_binary(deepest)
        assert ENCODE_LCB(deepest) == data
        assert same_on_and_off(to_lcb, deepest) == ("value", data)
        found = DECODE_LCB(data, 0)
        assert found is not NOT_DECODED and found[1] == len(data) and values_equal(found[0], deepest)
        assert values_equal(same_on_and_off(from_lcb, data)[1], deepest)
        assert ENCODE_LCB(too_deep) is None
        assert same_on_and_off(to_lcb, too_deep)[0] == "EncodeError"
        with no_depth_limit():
            data = to_lcb(too_deep)
        assert DECODE_LCB(data, 0) is NOT_DECODED
        assert same_on_and_off(from_lcb, data)[0] == "ParseError"
        return
    text = pure_canonical(deepest, fmt)
    assert ENCODE_TEXT(deepest, CODES[fmt]) == pure_text(deepest, fmt)
    assert same_on_and_off(TO[fmt], deepest) == ("value", text)
    got = DECODE_TEXT(text, CODES[fmt])
    assert got is not NOT_DECODED and values_equal(got, deepest), (fmt, kinds)
    assert values_equal(same_on_and_off(FROM[fmt], text)[1], deepest)
    assert ENCODE_TEXT(too_deep, CODES[fmt]) is None
    assert same_on_and_off(TO[fmt], too_deep)[0] == "EncodeError"
    with no_depth_limit():
        text = TO[fmt](too_deep)
    assert DECODE_TEXT(text, CODES[fmt]) is NOT_DECODED, (fmt, kinds)
    assert same_on_and_off(FROM[fmt], text)[0] == "ParseError"


@pytest.mark.parametrize("fmt", [*FORMATS, "binary"])
@pytest.mark.parametrize("kinds", NESTINGS)
def test_nesting_limit(fmt: str, kinds: str) -> None:
    check_depth_edge(fmt, kinds, 1)


@pytest.mark.parametrize("fmt", [*FORMATS, "binary"])
@pytest.mark.parametrize("leaf", [[], {}, "s"], ids=["empty array", "empty object", "string"])
def test_nesting_limit_with_other_innermost_values(fmt: str, leaf: Any) -> None:
    """The innermost container counts as a level too (an empty array or object)."""
    check_depth_edge(fmt, "a" if type(leaf) is list else "o", leaf)


def test_nesting_limit_of_a_framed_contract_in_lcb_text() -> None:
    """``[[14|...]]`` (a top-level contract in a frame) is one level, as ``[14|...]``."""
    deepest = nest(MAX_DEPTH, "c")
    text = pure_canonical(deepest, "lc-b")
    assert text.startswith("[7|")
    for spelled in (text, "[" + text + "]"):
        got = DECODE_TEXT(spelled, CODES["lc-b"])
        assert got is NOT_DECODED or values_equal(got, deepest)
        assert values_equal(same_on_and_off(from_lcb, spelled)[1], deepest)
    too_deep = "[7|3:" + text + "]"
    assert DECODE_TEXT(too_deep, CODES["lc-b"]) is NOT_DECODED
    assert DECODE_TEXT("[" + too_deep + "]", CODES["lc-b"]) is NOT_DECODED
    assert same_on_and_off(from_lcb, too_deep)[0] == "ParseError"
    assert same_on_and_off(from_lcb, "[" + too_deep + "]")[0] == "ParseError"


INT_MIN, INT_MAX = -(2**63), 2**64 - 1
INT_LIMITS = [INT_MIN, INT_MAX, INT_MIN - 1, INT_MAX + 1, 2**63 - 1, 2**63, INT_MIN + 1, INT_MAX - 1]


@pytest.mark.parametrize("number", INT_LIMITS)
def test_integer_limits_when_encoding(number: int) -> None:
    inside = INT_MIN <= number <= INT_MAX
    for value in (number, [number], {"n": number}, Contract(1, {0: number})):
        for fmt in FORMATS:
            text = ENCODE_TEXT(value, CODES[fmt])
            assert (text == pure_text(value, fmt)) if inside else (text is None), (fmt, value, text)
            assert same_on_and_off(TO[fmt], value)[0] == ("value" if inside else "EncodeError")
        data = ENCODE_LCB(value)
        assert (data == pure_binary(value)) if inside else (data is None), (value, data)
        kind, data = same_on_and_off(to_lcb, value)
        assert kind == ("value" if inside else "EncodeError")
        if inside:
            check_binary(data, canonical=True)


def _int_texts(fmt: str, number: int) -> list[str]:
    """``number`` spelt in decimal in ``fmt`` at the top and in an array (LC-B text: also
    in hex, padded, unpadded and with leading zeros)."""
    decimal = str(number)
    if fmt == "lc-b":
        sign, digits = ("-" if number < 0 else ""), f"{abs(number):x}"
        spelled = [decimal, f"{sign}0x{digits}", f"{sign}0x{digits.upper()}", f"{sign}0x000{digits}"]
        return [text for item in spelled for text in (f"[{item}]", f"[[{item}]]", f"[5|0:{item}]")]
    array = {"hlxl": "[0, {}]", "lc-t": "[0,{}]", "lc-r": "🜃0, {}🜄"}[fmt]
    return [decimal, array.format(decimal)]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("number", INT_LIMITS)
def test_integer_limits_when_decoding(fmt: str, number: int) -> None:
    inside = INT_MIN <= number <= INT_MAX
    for text in _int_texts(fmt, number):
        got = DECODE_TEXT(text, CODES[fmt])
        if inside:
            assert got is not NOT_DECODED, (fmt, text)
            assert values_equal(got, parse_reference(fmt, text)), (fmt, text, got)
        else:
            assert got is NOT_DECODED, (fmt, text, got)
        assert same_on_and_off(FROM[fmt], text)[0] == ("value" if inside else "ParseError"), (fmt, text)


@pytest.mark.parametrize("number", INT_LIMITS)
def test_integer_limits_in_binary(number: int) -> None:
    """Each integer under every tag that holds it (the canonical one among them)."""
    for tag, layout in lcb._INTEGER_TAGS.items():
        try:
            data = bytes([tag]) + layout.pack(number)
        except struct.error:
            continue
        found = DECODE_LCB(data, 0)
        if tag == pure_binary(number)[0]:
            assert found is not NOT_DECODED
        assert found is NOT_DECODED or (found[1] == len(data) and values_equal(found[0], number)), (tag, found)
        assert same_on_and_off(from_lcb, data) == ("value", number)


#: Contract ids and field indices at their edges, in each format: (text, accepted).
CONTRACT_EDGES = {
    "hlxl": [("{65535: {@255: 1}}", True), ("{0: {@0: 1}}", True), ("{65536: {@0: 1}}", False), ("{0: {@256: 1}}", False),
             ("{-1: {@0: 1}}", False), ("{0: {@-1: 1}}", False), ("{99999999999999999999: {@0: 1}}", False),
             ("{14: {@0: 1, @255: 2}}", True), ("{14: {@0: 1, @256: 2}}", False), ("{14: {@99999999999999999999: 1}}", False)],
    "lc-t": [("{C:65535,255=1}", True), ("{C:0,0=1}", True), ("{C:65536,0=1}", False), ("{C:0,256=1}", False),
             ("{C:-1,0=1}", False), ("{C:0,-1=1}", False), ("{C:14,0=1,255=2}", True), ("{C:14,0=1,256=2}", False)],
    "lc-r": [("🜊65535🜁255 1🜂", True), ("🜊0🜁0 1🜂", True), ("🜊65536🜁0 1🜂", False), ("🜊0🜁256 1🜂", False),
             ("🜊-1🜁0 1🜂", False), ("🜊14🜁0 1🜁255 2🜂", True), ("🜊14🜁0 1🜁256 2🜂", False)],
    "lc-b": [("[65535|255:0x01]", True), ("[0|0:0x01]", True), ("[65536|0:0x01]", False), ("[0|256:0x01]", False),
             ("[[65535|255:0x01]]", True), ("[[65536|0:0x01]]", False), ("[[0|256:0x01]]", False), ("[-1|0:0x01]", False),
             ("[14|0:_|255:_]", True), ("[14|0:_|256:_]", False), ("[[0x01,[65536|0:_]]]", False)],
}  # fmt: skip


@pytest.mark.parametrize("fmt, text, accepted", [(fmt, *case) for fmt, cases in CONTRACT_EDGES.items() for case in cases])
def test_contract_id_and_field_index_limits(fmt: str, text: str, accepted: bool) -> None:
    got = DECODE_TEXT(text, CODES[fmt])
    if accepted:
        expected = parse_reference(fmt, text)
        assert got is NOT_DECODED or values_equal(got, expected), (fmt, text, got)
        if pure_canonical(expected, fmt) == text:
            assert got is not NOT_DECODED, ("compiled gave up on a canonical text", fmt, text)
    else:
        assert got is NOT_DECODED, (fmt, text, got)
    assert same_on_and_off(FROM[fmt], text)[0] == ("value" if accepted else "ParseError"), (fmt, text)


def test_contract_id_and_field_index_limits_when_encoding() -> None:
    for value in (Contract(65535, {255: 1}), Contract(0, {0: 1, 255: [Contract(65535, {0: None})]})):
        check_encoders(value)
        for fmt in FORMATS:
            check_text(fmt, pure_canonical(value, fmt))
        check_binary(pure_binary(value), canonical=True)


#: The LC-B binary layout's limits: a builder of the value at the limit and one past it.
BINARY_LIMITS: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
    "string": (lambda: "x" * 65535, lambda: "x" * 65536),
    "string-utf8": (lambda: "é" * 32767 + "x", lambda: "é" * 32768),
    "string-astral": (lambda: "😀" * 16383 + "abc", lambda: "😀" * 16384),
    "bytes": (lambda: b"\xff" * 65535, lambda: b"\xff" * 65536),
    "array": (lambda: [None] * 65535, lambda: [None] * 65536),
    "object": (lambda: {f"k{i}": i for i in range(255)}, lambda: {f"k{i}": i for i in range(256)}),
    "key": (lambda: {"k" * 255: 1}, lambda: {"k" * 256: 1}),
    "key-utf8": (lambda: {"é" * 127 + "k": 1}, lambda: {"é" * 128: 1}),
    "handle": (lambda: Handle("h" * 255), lambda: Handle("h" * 256)),
    "contract": (lambda: Contract(9, {i: i for i in range(255)}), lambda: Contract(9, {i: i for i in range(256)})),
}


def _wrapped(value: Any) -> list[Any]:
    """``value`` at the top, and inside an array, an object and a contract."""
    return [value, [1, value], {"a": 1, "b": value}, Contract(3, {0: 1, 7: value})]


@pytest.mark.parametrize("limit", BINARY_LIMITS)
def test_binary_layout_limits(limit: str) -> None:
    at_limit, past_limit = BINARY_LIMITS[limit]
    for value in _wrapped(at_limit()):
        data = ENCODE_LCB(value)
        assert data is not None and data == pure_binary(value), limit
        assert same_on_and_off(to_lcb, value) == ("value", data)
        found = DECODE_LCB(data, 0)
        assert found is not NOT_DECODED and found[1] == len(data) and values_equal(found[0], value), limit
        assert values_equal(same_on_and_off(from_lcb, data)[1], value)
    for value in _wrapped(past_limit()):
        assert ENCODE_LCB(value) is None, limit
        kind, error = same_on_and_off(to_lcb, value)
        assert kind == "EncodeError" and "LC-B binary limit" in error, (limit, error)
        for fmt in FORMATS:  # no limit in the text formats
            text = ENCODE_TEXT(value, CODES[fmt])
            assert text is not None and text == pure_text(value, fmt), (limit, fmt)
            assert same_on_and_off(FROM[fmt], pure_canonical(value, fmt))[0] == "value"


def test_binary_length_fields_past_the_data() -> None:
    """A length field that promises more than there is: the compiled decoder gives up."""
    for data in (
        b"\x30\xff\xff" + b"x" * 65534,
        b"\x31\xff\xff",
        b"\x60\xff\xff" + b"\x00" * 65534,
        b"\x70\xff" + b"\x01a\x00" * 3,
        b"\x40\xff" + b"h" * 254,
    ):
        assert DECODE_LCB(data, 0) is NOT_DECODED
        assert same_on_and_off(from_lcb, data)[0] in ("ParseError", "TruncatedInput")


# --- no input crashes the process ---------------------------------------------------------

_CRASH_SCRIPT = r"""
import random, struct, sys
from hlx_formats import _accelerated as A, Contract, Handle
assert A.ACCELERATED, "the compiled codecs are not in use"
from hlx_formats import to_hlxl, to_lct, to_lcr, to_lcb_text, to_lcb
rng = random.Random(int(sys.argv[1]))
count = int(sys.argv[2])
ENCODERS = (to_hlxl, to_lct, to_lcr, to_lcb_text)
TOKENS = ['[', ']', '{', '}', ',', ':', '=', '|', '@', '&h_', '&', '#', '"', '\\', '\\u', '\\ud800', '\\x', 'b"', '0x', '-',
          '0', '1', '9', '65536', '18446744073709551616', 'e', 'E', '.', 'null', 'NULL', 'T', 'F', '_', 'C', 'x', ' ', '\n',
          '\x00', '\ufeff', '\u00e9', '\U0001f600', '\ud800', '\u2205', '\u22a4', '\u22a5', '\u22a0', '\u27c1', '\U0001f70a',
          '\U0001f701', '\U0001f702', '\U0001f703', '\U0001f704', '\u25c7', '\u25c6', '\U0001f40a', '\U0001f401', '\U0001f402',
          '\U0001f403', '\U0001f404']
SCALARS = [None, True, False, 0, -1, 127, -129, 2**63, -(2**63), 2**64 - 1, 1.5, -0.0, 5e-324, 1e300, "", "a\"\\\n\x00",
           "\u00e9\U0001f600", b"", b"\x00\xff\"", Handle("x"), Handle("h" * 255)]

def value(depth):
    if depth <= 0 or rng.random() < 0.3:
        return rng.choice(SCALARS)
    kind = rng.randrange(3)
    size = rng.randrange(4)
    if kind == 0:
        return [value(depth - 1) for _ in range(size)]
    if kind == 1:
        return {rng.choice(["a", "C", "null", "T", "", "\u00e9", "k" + str(i)]): value(depth - 1) for i in range(size)}
    return Contract(rng.randrange(65536), {rng.randrange(256): value(depth - 1) for _ in range(size + 1)})

def mutate_text(text):
    for _ in range(rng.randrange(1, 4)):
        i = rng.randrange(len(text) + 1)
        op = rng.randrange(4)
        if op == 0:
            text = text[:i] + text[i + 1:]
        elif op == 1:
            text = text[:i] + rng.choice(TOKENS) + text[i:]
        elif op == 2:
            text = text[:i] + rng.choice(TOKENS) + text[i + 1:]
        else:
            text = text[:i]
    return text

def mutate_bytes(data):
    data = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        i = rng.randrange(len(data) + 1)
        op = rng.randrange(4)
        if op == 0 and i < len(data):
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            data.insert(i, rng.randrange(256))
        elif op == 2 and i < len(data):
            del data[i]
        else:
            del data[i:]
    return bytes(data)

def read_text(text):
    for code in range(4):
        got = A.decode_text(text, code)
        if got is not A.NOT_DECODED:
            for out in range(4):
                A.encode_text(got, out)
            A.encode_lcb(got)

def read_bytes(data):
    for pos in {0, len(data), rng.randrange(len(data) + 1)}:
        got = A.decode_lcb(data, pos)
        if got is not A.NOT_DECODED:
            A.encode_lcb(got[0])
            for out in range(4):
                A.encode_text(got[0], out)

for _ in range(count):
    v = value(rng.randrange(6))
    for out in range(4):
        A.encode_text(v, out)
    text = rng.choice(ENCODERS)(v)
    read_text(text)
    read_text(mutate_text(text))
    read_text("".join(rng.choice(TOKENS) for _ in range(rng.randrange(20))))
    data = to_lcb(v)
    read_bytes(data)
    read_bytes(mutate_bytes(data))
    read_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(40))))

# Deep and large input: the compiled code gives up without running out of stack.
for opener in ("[", "{a:", "\U0001f703", "\U0001f70a1\U0001f7010 ", "{1: {@0: ", "{C:1,0=", "[1|0:", "\u25c7a: "):
    read_text(opener * 200000)
read_bytes(b"\x60\x01\x00" * 200000)
read_bytes(b"\x50\x01\x00\x01\x00" * 200000)
read_bytes(b"\x70\x01\x01a" * 200000)
deep = None
for _ in range(100000):
    deep = [deep]
for out in range(4):
    assert A.encode_text(deep, out) is None
assert A.encode_lcb(deep) is None
loop = {}
loop["a"] = [loop]
assert A.encode_text(loop, 0) is None and A.encode_lcb(loop) is None
# Calls outside the contract: an exception is fine, a crash is not.
for call, args in ((A.decode_text, (b"[1]", 0)), (A.decode_text, ("[1]", 4)), (A.decode_text, ("[1]", -1)),
                   (A.decode_text, (None, 0)), (A.decode_lcb, (b"\x00", -1)), (A.decode_lcb, (b"\x00", 2)),
                   (A.decode_lcb, (bytearray(b"\x00"), 0)), (A.decode_lcb, ("\x00", 0)), (A.encode_text, (1, 9)),
                   (A.encode_text, (1, -1)), (A.decode_lcb, (b"\x00", 2**70)), (A.decode_text, ("1", 2**70))):
    try:
        call(*args)
    except Exception:
        pass
print("ok")
"""


@pytest.mark.parametrize("seed", [1, 2])
def test_no_input_crashes_the_compiled_codecs(seed: int) -> None:
    """A few thousand random, mutated and deep inputs through every compiled function, in a
    child process: a crash (a segfault, an abort) is a negative exit code there."""
    env = {name: value for name, value in os.environ.items() if name != "HLX_PURE_PYTHON"}
    count = str(examples(3000))
    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", _CRASH_SCRIPT, str(seed), count],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-4000:])
    assert done.stdout.strip() == "ok"


def test_int_edges_of_the_strategies_are_all_written_and_read() -> None:
    """Every integer edge the strategies know, through every compiled codec."""
    for number in INT_EDGES:
        check_encoders(number)
        for fmt in FORMATS:
            check_text(fmt, pure_canonical(number, fmt))
        check_binary(pure_binary(number), canonical=True)
