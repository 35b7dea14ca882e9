"""Invalid input and values: each is refused with the right error, at the right place."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings

from hlx_formats import (
    Contract,
    EncodeError,
    Handle,
    HLXError,
    ParseError,
    from_hlxl,
    from_lcb,
    from_lcr,
    from_lct,
    to_hlxl,
    to_lcb,
    to_lcb_text,
    to_lcr,
    to_lct,
    values_equal,
)
from hlx_formats.strategies import examples, values

DECODERS = {"hlxl": from_hlxl, "lc-t": from_lct, "lc-r": from_lcr, "lc-b": from_lcb}
TEXT_ENCODERS = {"hlxl": to_hlxl, "lc-t": to_lct, "lc-r": to_lcr, "lc-b": to_lcb_text}
ALL_ENCODERS = [to_hlxl, to_lct, to_lcr, to_lcb_text, to_lcb]


def check_excerpt(error: ParseError, text: str) -> None:
    """The message holds the excerpt of the line, with a caret under the offending character."""
    assert error.reason in str(error)
    assert error.excerpt and error.excerpt in str(error)
    shown, caret_line = error.excerpt.split("\n")
    caret = caret_line.index("^")
    assert caret_line.strip() == "^"
    if error.offset < len(text) and text[error.offset] != "\n":
        assert shown[caret] == text[error.offset].replace("\t", " ").replace("\r", " ")


# (format, input, line, column, part of the reason). Columns count characters (an LC-R glyph
# is one), from 1.
BAD_TEXT = [
    # --- HLXL ---
    ("hlxl", '"abc', 1, 1, "unterminated string"),
    ("hlxl", "[1, 2", 1, 6, "unexpected end of input"),
    ("hlxl", "{a: 1", 1, 6, "unexpected end of input"),
    ("hlxl", "{14: {@0: 1}", 1, 13, "unexpected end of input"),
    ("hlxl", '"a\tb"', 1, 3, "raw control character U+0009"),
    ("hlxl", '"a\x01"', 1, 3, "raw control character U+0001"),
    ("hlxl", '"\x7f"', 1, 2, "raw control character U+007F"),
    ("hlxl", '"a\\qb"', 1, 3, "invalid escape '\\\\q'"),
    ("hlxl", '"a\ud800"', 1, 3, "lone surrogate"),  # a raw lone surrogate in a Python str
    ("hlxl", '{"\udfff": 1}', 1, 3, "lone surrogate"),
    ("hlxl", "[1,\r\n2,,]", 2, 3, "unexpected ','"),
    ("hlxl", '"\\ud800"', 1, 2, "lone surrogate"),
    ("hlxl", '"ok\\udc00"', 1, 4, "lone surrogate"),
    ("hlxl", '"\\ud83dx"', 1, 2, "lone surrogate"),
    ("hlxl", "{a: 1,\n b: 2,\n a: 3}", 3, 2, "duplicate key 'a'"),
    ("hlxl", '{"a": 1, "a": 2}', 1, 10, "duplicate key 'a'"),
    ("hlxl", '{a: 1, "a": 2}', 1, 8, "duplicate key 'a'"),
    ("hlxl", "{14: {@0: 1, @0: 2}}", 1, 14, "duplicate field index 0"),
    ("hlxl", "18446744073709551616", 1, 1, "outside the range"),
    ("hlxl", "[-9223372036854775809]", 1, 2, "outside the range"),
    ("hlxl", "{65536: {@0: 1}}", 1, 2, "contract id 65536 is outside 0..65535"),
    ("hlxl", "{1: {@256: 1}}", 1, 7, "field index 256 is outside 0..255"),
    ("hlxl", "{1: {@01: 1}}", 1, 7, "leading zero"),
    ("hlxl", "{01: {@0: 1}}", 1, 2, "contract id 01 has a leading zero"),
    ("hlxl", "[01]", 1, 3, "unexpected '1'"),
    ("hlxl", "{null: 1}", 1, 2, "must be quoted"),
    ("hlxl", "{a: 1, true: 2}", 1, 8, "must be quoted"),
    ("hlxl", "NaN", 1, 1, "unexpected 'NaN'"),
    ("hlxl", "-Infinity", 1, 1, "unexpected character '-'"),
    ("hlxl", "1e400", 1, 1, "float outside the range"),
    ("hlxl", "[1, 2] x", 1, 8, "unexpected 'x'; expected end of input"),
    ("hlxl", "[1, 2]]", 1, 7, "unexpected"),
    ("hlxl", "", 1, 1, "unexpected end of input"),
    ("hlxl", "  \n  ", 2, 3, "unexpected end of input"),
    ("hlxl", 'b"\\xZZ"', 1, 3, "invalid \\x escape"),
    ("hlxl", 'b"é"', 1, 3, "non-ASCII character"),
    ("hlxl", '[b"ab', 1, 2, "unterminated bytes literal"),
    ("hlxl", "&h_", 1, 1, "unexpected character '&'"),
    ("hlxl", "&h_1x", 1, 1, "unexpected character '&'"),
    ("hlxl", "[\n  1,\n  2,,\n]", 3, 5, "unexpected ','"),
    ("hlxl", "{a: 1 b: 2}", 1, 7, "unexpected 'b'"),
    ("hlxl", "{14: {}}", 1, 7, "unexpected '}'"),
    ("hlxl", "NULL", 1, 1, "unexpected 'NULL'"),
    ("hlxl", "[1,\x0b2]", 1, 4, "unexpected character '\\x0b'"),  # only space, tab, CR, LF are whitespace
    ("hlxl", '{"a\\q": 1}', 1, 4, "invalid escape"),
    ("hlxl", '[1,\n "\\u12G4"]', 2, 3, "invalid \\u escape"),
    # --- LC-T ---
    ("lc-t", '"abc', 1, 1, "unterminated string"),
    ("lc-t", "[1,2", 1, 5, "unexpected end of input"),
    ("lc-t", "{a:1", 1, 5, "unexpected end of input"),
    ("lc-t", "{C:14,0=1", 1, 10, "unexpected end of input"),
    ("lc-t", '"café"', 1, 5, "non-ASCII character 'é'"),
    ("lc-t", '"a\nb"', 1, 3, "raw control character U+000A"),
    ("lc-t", '"\\x41"', 1, 2, "invalid escape"),
    ("lc-t", '"\\u12"', 1, 2, "invalid \\u escape"),
    ("lc-t", '"\\udfff"', 1, 2, "lone surrogate"),
    ("lc-t", "{a:1,a:2}", 1, 6, "duplicate key 'a'"),
    ("lc-t", "{C:14,0=1,0=2}", 1, 11, "duplicate field index 0"),
    ("lc-t", "{C:1,256=1}", 1, 6, "field index 256 is outside 0..255"),
    ("lc-t", "{C:65536,0=1}", 1, 4, "contract id 65536 is outside 0..65535"),
    ("lc-t", "{C:-1,0=1}", 1, 4, "must not be negative"),
    ("lc-t", "{C:1,-1=1}", 1, 6, "must not be negative"),
    ("lc-t", "{C:01,0=1}", 1, 4, "contract id 01 has a leading zero"),
    ("lc-t", "{C:14,01=1}", 1, 7, "field index 01 has a leading zero"),
    ("lc-t", "{NULL:1}", 1, 2, "must be quoted"),
    ("lc-t", "{a:1,C:2}", 1, 6, "must be quoted"),
    ("lc-t", '"a\ud800"', 1, 3, "non-ASCII character"),
    ("lc-t", "{a:1,TRUE:2}", 1, 6, "must be quoted"),
    ("lc-t", "{C:1}", 1, 5, "unexpected '}'"),
    ("lc-t", "#abc", 1, 4, "odd number of hex digits"),
    ("lc-t", "[1,-18446744073709551615]", 1, 4, "outside the range"),
    ("lc-t", "NaN", 1, 1, "unexpected 'NaN'"),
    ("lc-t", "Infinity", 1, 1, "unexpected 'Infinity'"),
    ("lc-t", "null", 1, 1, "unexpected 'null'"),
    ("lc-t", "NULL x", 1, 6, "unexpected 'x'"),
    ("lc-t", "", 1, 1, "unexpected end of input"),
    ("lc-t", "@1x", 1, 1, "unexpected character '@'"),
    ("lc-t", "\xa042", 1, 1, "unexpected character '\\xa0'"),
    ("lc-t", '{\n"a":1,\n"b":2\n"c":3}', 4, 1, "unexpected"),
    ("lc-t", "[TRUE,FALSE,]", 1, 13, "unexpected ']'"),
    ("lc-t", "[1,2] [3]", 1, 7, "unexpected"),
    # --- LC-R ---
    ("lc-r", '"abc', 1, 1, "unterminated string"),
    ("lc-r", "🜃1, 2", 1, 6, "unexpected end of input"),
    ("lc-r", "◇a: 1", 1, 6, "unexpected end of input"),
    ("lc-r", "🜊14🜁0 1", 1, 8, "unexpected end of input"),
    ("lc-r", '"a\x00"', 1, 3, "raw control character U+0000"),
    ("lc-r", '"\\z"', 1, 2, "invalid escape"),
    ("lc-r", '"\\ud800\\ud800"', 1, 2, "lone surrogate"),
    ("lc-r", '"\\u00"', 1, 2, "invalid \\u escape"),
    ("lc-r", '◇"\ud800": 1◆', 1, 3, "lone surrogate"),
    ("lc-r", "◇a: 1, a: 2◆", 1, 8, "duplicate key 'a'"),
    ("lc-r", "🜊14🜁0 1🜁0 2🜂", 1, 8, "duplicate field index 0"),
    ("lc-r", "🜊65536🜁0 1🜂", 1, 2, "contract id 65536 is outside 0..65535"),
    ("lc-r", "🜊1🜁256 1🜂", 1, 4, "field index 256 is outside 0..255"),
    ("lc-r", "🜊1🜁042 5🜂", 1, 4, "leading zero"),
    ("lc-r", "🜊1🜁042🜂", 1, 7, "unexpected '🜂'"),  # 🜁042 is field 042, never field 0 = 42
    ("lc-r", "🜊01🜁0 1🜂", 1, 2, "leading zero"),
    ("lc-r", "🜊14🜂", 1, 4, "unexpected"),
    ("lc-r", "🜊 14🜁0 1🜂", 1, 1, "unexpected character '🜊'"),
    ("lc-r", "⊠abc", 1, 4, "odd number of hex digits"),
    ("lc-r", "🜃1🜄 🜃2🜄", 1, 5, "unexpected"),
    ("lc-r", "", 1, 1, "unexpected end of input"),
    ("lc-r", "NaN", 1, 1, "unexpected 'NaN'"),
    ("lc-r", "∞", 1, 1, "unexpected character '∞'"),
    ("lc-r", '◇"a" 1◆', 1, 6, "unexpected '1'"),
    ("lc-r", "🜃\n1,\n2\n3🜄", 4, 1, "unexpected '3'"),
    ("lc-r", "18446744073709551616", 1, 1, "outside the range"),
    ("lc-r", "🜃1, 01🜄", 1, 6, "unexpected '1'"),
    ("lc-r", "⟁", 1, 1, "unexpected character '⟁'"),
    ("lc-r", "🜃1,\u30002🜄", 1, 4, "unexpected character"),
    # --- LC-B text ---
    ("lc-b", '["abc]', 1, 2, "unterminated string"),
    ("lc-b", "[[0x01,0x02]", 1, 13, "unexpected end of input"),
    ("lc-b", "[{a:0x01]", 1, 9, "unexpected ']'"),
    ("lc-b", "[14|0:0x2a", 1, 11, "unexpected end of input"),
    ("lc-b", '["é"]', 1, 3, "non-ASCII character"),
    ("lc-b", '["a\tb"]', 1, 4, "raw control character U+0009"),
    ("lc-b", '["\\u00zz"]', 1, 3, "invalid \\u escape"),
    ("lc-b", '["\\udc00"]', 1, 3, "lone surrogate"),
    ("lc-b", "[{a:_,a:T}]", 1, 7, "duplicate key 'a'"),
    ("lc-b", "[14|0:_|0:T]", 1, 9, "duplicate field index 0"),
    ("lc-b", "[65536|0:_]", 1, 2, "contract id 65536 is outside 0..65535"),
    ("lc-b", "[1|256:_]", 1, 4, "field index 256 is outside 0..255"),
    ("lc-b", "[1|0x01:_]", 1, 4, "must be a decimal integer"),
    ("lc-b", "[0x01|0:_]", 1, 2, "must be a decimal integer"),
    ("lc-b", "[0x010000000000000000]", 1, 2, "outside the range"),
    ("lc-b", "[-0x8000000000000001]", 1, 2, "outside the range"),
    ("lc-b", "[{T:_}]", 1, 3, "must be quoted"),
    ("lc-b", "[{a:_,_:_}]", 1, 7, "must be quoted"),
    ("lc-b", "[#abc]", 1, 5, "odd number of hex digits"),
    ("lc-b", "[_]x", 1, 4, "unexpected 'x'"),
    ("lc-b", "[_][_]", 1, 4, "unexpected"),
    ("lc-b", "", 1, 1, "unexpected end of input"),
    ("lc-b", "_", 1, 1, "unexpected '_'; expected '['"),
    ("lc-b", "[NaN]", 1, 2, "unexpected 'NaN'"),
    ("lc-b", "[01]", 1, 3, "unexpected '1'"),
    ("lc-b", "[\n{a:0x01,\n a:0x02}]", 3, 2, "duplicate key 'a'"),
    ("lc-b", "[&1x]", 1, 2, "unexpected character '&'"),
    ("lc-b", "[14|]", 1, 5, "unexpected ']'"),
    ("lc-b", "[null]", 1, 2, "unexpected 'null'"),
    ("lc-b", "[\x0c_]", 1, 2, "unexpected character '\\x0c'"),
]


@pytest.mark.parametrize("fmt, text, line, column, reason", BAD_TEXT, ids=[f"{row[0]}:{row[1][:20]!r}" for row in BAD_TEXT])
def test_bad_text_is_a_parse_error_at_the_right_place(fmt, text, line, column, reason):
    with pytest.raises(ParseError) as info:
        DECODERS[fmt](text)
    error = info.value
    assert error.format == fmt
    assert (error.line, error.column) == (line, column), str(error)
    assert reason in error.reason, error.reason
    # offset, line and column agree
    line_start = text.rfind("\n", 0, error.offset) + 1
    assert error.line == text.count("\n", 0, error.offset) + 1
    assert error.column == error.offset - line_start + 1
    check_excerpt(error, text)
    assert str(error).startswith(f"{fmt}: line {line}, column {column}: ")


def test_table_has_enough_cases_per_format():
    for fmt in DECODERS:
        assert sum(row[0] == fmt for row in BAD_TEXT) >= 15, fmt


def test_long_lines_are_shortened_in_the_excerpt():
    text = "[" + "1, " * 100 + "x]"
    with pytest.raises(ParseError) as info:
        from_hlxl(text)
    error = info.value
    assert (error.line, error.column) == (1, 302)
    shown, caret_line = error.excerpt.split("\n")
    assert shown.startswith("  ...") and len(shown) < 80
    assert shown[caret_line.index("^")] == "x"


# --- bytes input to the text formats ---------------------------------------------------------


@pytest.mark.parametrize(
    "fmt, data, column",
    [
        ("hlxl", b'"\xff"', 2),
        ("hlxl", b"[1, 2, \xc3]", 8),
        ("lc-t", b"[\xc3]", 2),
        ("lc-r", b"\xf0\x9f\x9c", 1),  # a glyph cut short
        ("lc-r", b"\xf0\x9f\x9c\x83\x80", 2),  # a glyph, then a stray continuation byte
        ("hlxl", b'"\xed\xa0\x80"', 2),  # an encoded surrogate is not UTF-8
        ("lc-t", b'"\xc0\x80"', 2),  # an overlong encoding is not UTF-8
    ],
)
def test_bytes_that_are_not_utf8(fmt, data, column):
    with pytest.raises(ParseError) as info:
        DECODERS[fmt](data)
    assert info.value.format == fmt
    assert "invalid UTF-8" in info.value.reason
    assert (info.value.line, info.value.column) == (1, column)


def test_bytes_input_counts_lines_and_columns_in_characters():
    with pytest.raises(ParseError) as info:
        from_hlxl('["é",\n "ü", x]'.encode())
    assert (info.value.line, info.value.column) == (2, 7)


@pytest.mark.parametrize("decode", [from_hlxl, from_lct, from_lcr, from_lcb])
@pytest.mark.parametrize("data", [42, None, 1.5, ["[1]"], {"a": 1}, Handle("x")])
def test_wrong_python_type_is_an_hlx_error(decode, data):
    with pytest.raises(HLXError) as info:
        decode(data)
    assert "must be" in str(info.value)
    assert type(data).__name__ in str(info.value)


# --- binary LC-B -----------------------------------------------------------------------------

NAN64 = struct.pack("<d", math.nan)
NAN32 = struct.pack("<f", math.nan)

# (input, offset, part of the reason)
BAD_BINARY = [
    (b"", 0, "truncated input"),
    (b"\x03", 0, "unknown tag 0x03"),
    (b"\xff", 0, "unknown tag 0xff"),
    (b"\x22\x00", 0, "unknown tag 0x22"),
    (b"\x60\x01\x00\x99", 3, "unknown tag 0x99"),
    (b"\x00\x00", 1, "trailing bytes"),
    (b"\x10\x2a\x01\x02", 2, "trailing bytes after the value (2 bytes)"),
    (b"\x11\x01", 1, "truncated input"),
    (b"\x30\x05\x00abc", 3, "truncated input"),
    (b"\x30\x02\x00\xc3\x28", 3, "invalid UTF-8 in string"),
    (b"\x30\x03\x00ab\xff", 5, "invalid UTF-8 in string"),
    (b"\x30\x03\x00\xed\xa0\x80", 3, "invalid UTF-8 in string"),  # an encoded surrogate
    (b"\x30\x02\x00\xc0\x80", 3, "invalid UTF-8 in string"),  # overlong
    (b"\x70\x01\x01\xff\x00", 3, "invalid UTF-8 in object key"),
    (b"\x70\x01\x02a\xff\x00", 4, "invalid UTF-8 in object key"),
    (b"\x40\x031ab", 2, "not an ASCII identifier"),
    (b"\x40\x02\xc3\xa9", 2, "not an ASCII identifier"),
    (b"\x40\x00", 2, "not an ASCII identifier"),
    (b"\x40\x03a b", 2, "not an ASCII identifier"),
    (b"\x70\x02\x01a\x00\x01a\x01", 5, "duplicate key 'a'"),
    (b"\x50\x0e\x00\x02\x00\x00\x00\x01", 6, "duplicate field index 0"),
    (b"\x50\x0e\x00\x03\x05\x00\x01\x00\x05\x01", 8, "duplicate field index 5"),
    (b"\x21" + NAN64, 0, "NaN and infinities"),
    (b"\x21" + struct.pack("<d", math.inf), 0, "NaN and infinities"),
    (b"\x21" + struct.pack("<d", -math.inf), 0, "NaN and infinities"),
    (b"\x20" + NAN32, 0, "NaN and infinities"),
    (b"\x20" + struct.pack("<f", -math.inf), 0, "NaN and infinities"),
    (b"\x60\x02\x00\x00\x21" + NAN64, 4, "NaN and infinities"),
    (b"\x50\x0e\x00\x00", 0, "contract with no fields"),
    (b"\x70\x01\x01k\x50\x01\x00\x00", 4, "contract with no fields"),
    (b"\x50\x0e\x00\x01", 4, "truncated input"),
    (b"\x50\x0e", 1, "truncated input"),
]


@pytest.mark.parametrize("data, offset, reason", BAD_BINARY, ids=[row[0].hex(" ")[:30] for row in BAD_BINARY])
def test_bad_binary_is_a_parse_error_at_the_right_offset(data, offset, reason):
    with pytest.raises(ParseError) as info:
        from_lcb(data)
    error = info.value
    assert error.format == "lc-b"
    assert error.offset == offset, str(error)
    assert (error.line, error.column) == (1, offset + 1)
    assert reason in error.reason, error.reason
    assert error.excerpt in str(error)
    hex_line, caret_line = error.excerpt.split("\n")
    # The caret sits under the byte at the offset (when there is one).
    if offset < len(data):
        caret = caret_line.index("^")
        assert hex_line[caret : caret + 2] == f"{data[offset]:02x}"


VALID_ENCODINGS = [
    None, 42, -1000, 2**64 - 1, 1.5, "héllo", b"\x00\x01", Handle("documents"), [1, [2, None]],
    {"a": 1, "é": [True]}, Contract(1000, {0: "search", 1: Handle("documents")}),
    Contract(902, {0: "p", 1: [Handle("vs"), Handle("fs")], 3: {"k": b"x"}}),
]  # fmt: skip


@pytest.mark.parametrize("value", VALID_ENCODINGS, ids=repr)
def test_binary_truncated_at_every_position(value):
    data = to_lcb(value)
    for end in range(len(data)):
        with pytest.raises(ParseError) as info:
            from_lcb(data[:end])
        assert "truncated input" in info.value.reason
        assert info.value.offset <= end
    assert values_equal(from_lcb(data), value)


@settings(max_examples=examples(100))
@given(value=values())
def test_binary_prefixes_and_extensions_are_refused(value):
    data = to_lcb(value)
    for end in range(len(data)):
        with pytest.raises(ParseError):
            from_lcb(data[:end])
    with pytest.raises(ParseError) as info:
        from_lcb(data + b"\x00")
    assert info.value.offset == len(data)
    assert "trailing bytes" in info.value.reason


# --- values that are not HLX values ----------------------------------------------------------

# (value, part of the message, path)
BAD_VALUES = [
    (math.nan, "nan is not allowed", "$"),
    (math.inf, "inf is not allowed", "$"),
    (-math.inf, "-inf is not allowed", "$"),
    ([1.5, math.nan], "nan", "$[1]"),
    (2**64, "outside the range", "$"),
    (-(2**63) - 1, "outside the range", "$"),
    ({"n": 10**30}, "outside the range", "$['n']"),
    ("\ud800", "lone surrogate U+D800", "$"),
    (["ok", "a\udfffb"], "lone surrogate U+DFFF", "$[1]"),
    ({"\udc00": 1}, "lone surrogate U+DC00", "$['\\udc00']"),
    ({1: "a"}, "object keys must be str", "$[1]"),
    ({None: 1}, "object keys must be str", "$[None]"),
    ({b"k": 1}, "object keys must be str", "$[b'k']"),
    ({Handle("k"): 1}, "object keys must be str", "$[Handle('k')]"),
    ((1, 2), "use a list", "$"),
    ({1, 2}, "not an HLX value", "$"),
    (frozenset({1}), "not an HLX value", "$"),
    (object(), "not an HLX value", "$"),
    (1 + 2j, "not an HLX value", "$"),
    (bytearray(b"x"), "not an HLX value", "$"),
    ([1, 2, {"name": math.nan}], "nan", "$[2]['name']"),
    ([1, 2, {"name": (1,)}], "tuple", "$[2]['name']"),
    (Contract(1, {0: 1, 3: [None, 2**64]}), "outside the range", "$@3[1]"),
    ({"a": {"b": [{"c": Contract(14, {7: {1, 2}})}]}}, "set", "$['a']['b'][0]['c']@7"),
]


# ids: the object's type, not its repr (which holds an address, different in each xdist worker)
@pytest.mark.parametrize(
    "value, message, path",
    BAD_VALUES,
    ids=[type(row[0]).__name__ + ":" + (repr(row[0])[:30] if type(row[0]) is not object else "") for row in BAD_VALUES],
)
@pytest.mark.parametrize("encode", ALL_ENCODERS)
def test_bad_values_are_encode_errors(encode, value, message, path):
    with pytest.raises(EncodeError) as info:
        encode(value)
    error = info.value
    assert message in str(error), str(error)
    assert error.path == path
    if path != "$":
        assert f" at {path}:" in str(error)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Handle("1bad"), "not an identifier"),
        (lambda: Handle(""), "not an identifier"),
        (lambda: Contract(65536, {0: 1}), "id 65536"),
        (lambda: Contract(-1, {0: 1}), "id -1"),
        (lambda: Contract(1, {256: 1}), "field index 256"),
        (lambda: Contract(1, {}), "at least one field"),
        (lambda: Contract(1, [(0, "a"), (0, "b")]), "duplicate field index 0"),
    ],
)
def test_bad_handles_and_contracts_are_encode_errors(make, message):
    with pytest.raises(EncodeError, match=message):
        make()


# --- the LC-B binary limits --------------------------------------------------------------------

# (value over the limit, kind named, the limit, a value just at the limit)
LIMITS = [
    pytest.param("x" * 65536, "string", 65535, "x" * 65535, id="string"),
    pytest.param("é" * 32768, "string", 65535, "é" * 32767 + "x", id="string-utf8-bytes"),
    pytest.param(b"\x00" * 65536, "bytes", 65535, b"\x00" * 65535, id="bytes"),
    pytest.param([None] * 65536, "array", 65535, [None] * 65535, id="array", marks=pytest.mark.slow),
    pytest.param({f"k{i}": i for i in range(256)}, "object", 255, {f"k{i}": i for i in range(255)}, id="object"),
    pytest.param({"k" * 256: 1}, "object key", 255, {"k" * 255: 1}, id="key"),
    pytest.param({"é" * 128: 1}, "object key", 255, {"é" * 127 + "x": 1}, id="key-utf8-bytes"),
    pytest.param(Handle("h" * 256), "handle", 255, Handle("h" * 255), id="handle"),
    pytest.param(Contract(1, {i: i for i in range(256)}), "contract", 255, Contract(1, {i: i for i in range(255)}), id="contract"),
]


@pytest.mark.parametrize("value, kind, limit, at_limit", LIMITS)
def test_binary_limits_are_refused_by_name(value, kind, limit, at_limit):
    with pytest.raises(EncodeError) as info:
        to_lcb(value)
    error = info.value
    assert error.kind == kind
    assert f"over the LC-B binary limit of {limit}" in str(error)
    # The same value one level down says where it is.
    with pytest.raises(EncodeError) as nested:
        to_lcb([None, {"v": value}])
    assert nested.value.path.startswith("$[1]['v']")
    # Just at the limit is fine.
    assert values_equal(from_lcb(to_lcb(at_limit)), at_limit)


@pytest.mark.parametrize("value, kind, limit, at_limit", LIMITS)
def test_text_formats_accept_values_over_the_binary_limits(value, kind, limit, at_limit):
    for fmt, encode in TEXT_ENCODERS.items():
        text = encode(value)
        assert values_equal(DECODERS[fmt](text), value), fmt
