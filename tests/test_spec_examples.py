"""Every worked example of the specification (HLX_FORMATS.md), as tables, in both directions.

The expected spellings are the spec's own examples, or follow from its rules where a table
row adds a value the spec does not spell out in every format.
"""

from __future__ import annotations

import doctest
import math
import struct
from pathlib import Path

import pytest

import hlx_formats
from hlx_formats import (
    Contract,
    Handle,
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

H = Handle
SEARCH = Contract(1000, {0: "search", 1: H("documents")})

# value, HLXL, LC-T, LC-R, LC-B text
WORKED_EXAMPLES = [
    (None, "null", "NULL", "∅", "[_]"),
    (True, "true", "TRUE", "⊤", "[T]"),
    ([1, 2, 3], "[1, 2, 3]", "[1,2,3]", "🜃1, 2, 3🜄", "[[0x01,0x02,0x03]]"),
    (Contract(14, {0: 42}), "{14: {@0: 42}}", "{C:14,0=42}", "🜊14🜁0 42🜂", "[14|0:0x2a]"),
    (
        SEARCH,
        '{1000: {@0: "search", @1: &h_documents}}',
        '{C:1000,0="search",1=@documents}',
        '🜊1000🜁0 "search"🜁1 ⟁documents🜂',
        '[1000|0:"search"|1:&documents]',
    ),
    (
        {"user": {"name": "Bob", "age": 30}},
        '{user: {name: "Bob", age: 30}}',
        '{user:{name:"Bob",age:30}}',
        '◇user: ◇name: "Bob", age: 30◆◆',
        '[{user:{name:"Bob",age:0x1e}}]',
    ),
    ([True, 42, "hello", None], '[true, 42, "hello", null]', '[TRUE,42,"hello",NULL]', '🜃⊤, 42, "hello", ∅🜄', '[[T,0x2a,"hello",_]]'),
]

# The examples of the per-format tables, each written in all four formats by the spec's rules.
FORMAT_TABLE_EXAMPLES = [
    (False, "false", "FALSE", "⊥", "[F]"),
    (42, "42", "42", "42", "[0x2a]"),
    (-17, "-17", "-17", "-17", "[-0x11]"),
    (0, "0", "0", "0", "[0x00]"),
    (1000, "1000", "1000", "1000", "[0x03e8]"),
    (-42, "-42", "-42", "-42", "[-0x2a]"),
    (255, "255", "255", "255", "[0xff]"),
    (256, "256", "256", "256", "[0x0100]"),
    (-128, "-128", "-128", "-128", "[-0x80]"),
    (2**64 - 1, "18446744073709551615", "18446744073709551615", "18446744073709551615", "[0xffffffffffffffff]"),
    (-(2**63), "-9223372036854775808", "-9223372036854775808", "-9223372036854775808", "[-0x8000000000000000]"),
    (3.14, "3.14", "3.14", "3.14", "[3.14]"),
    (-0.5, "-0.5", "-0.5", "-0.5", "[-0.5]"),
    (100.0, "100.0", "100.0", "100.0", "[100.0]"),
    (1e100, "1.0e+100", "1.0e+100", "1.0e+100", "[1.0e+100]"),
    (1.5e-07, "1.5e-07", "1.5e-07", "1.5e-07", "[1.5e-07]"),
    (-0.0, "-0.0", "-0.0", "-0.0", "[-0.0]"),
    (0.0001, "0.0001", "0.0001", "0.0001", "[0.0001]"),  # repr switches to exponents below 1e-4
    (1e-05, "1.0e-05", "1.0e-05", "1.0e-05", "[1.0e-05]"),
    (1e16, "1.0e+16", "1.0e+16", "1.0e+16", "[1.0e+16]"),  # ... and from 1e16 up
    (1e15, "1000000000000000.0", "1000000000000000.0", "1000000000000000.0", "[1000000000000000.0]"),
    (5e-324, "5.0e-324", "5.0e-324", "5.0e-324", "[5.0e-324]"),
    (1.7976931348623157e308, "1.7976931348623157e+308", "1.7976931348623157e+308",
     "1.7976931348623157e+308", "[1.7976931348623157e+308]"),
    (1.25e-300, "1.25e-300", "1.25e-300", "1.25e-300", "[1.25e-300]"),
    ("hello", '"hello"', '"hello"', '"hello"', '["hello"]'),
    ("café", '"café"', '"caf\\u00e9"', '"café"', '["caf\\u00e9"]'),
    ("", '""', '""', '""', '[""]'),
    ("😀", '"😀"', '"\\ud83d\\ude00"', '"😀"', '["\\ud83d\\ude00"]'),
    ('"\\\n\r\t\b\f', r'"\"\\\n\r\t\b\f"', r'"\"\\\n\r\t\b\f"', r'"\"\\\n\r\t\b\f"', r'["\"\\\n\r\t\b\f"]'),
    ("\x00\x1f\x7f", r'"\u0000\u001f\u007f"', r'"\u0000\u001f\u007f"', r'"\u0000\u001f\u007f"', r'["\u0000\u001f\u007f"]'),
    ("🜊∅\u2028", '"🜊∅\u2028"', r'"\ud83d\udf0a\u2205\u2028"', '"🜊∅\u2028"', r'["\ud83d\udf0a\u2205\u2028"]'),
    (b"data", 'b"data"', "#64617461", "⊠64617461", "[#64617461]"),
    (b"", 'b""', "#", "⊠", "[#]"),
    (b"\x00\xff", r'b"\x00\xff"', "#00ff", "⊠00ff", "[#00ff]"),
    (b'"', r'b"\x22"', "#22", "⊠22", "[#22]"),
    (b'a\\ ~\n', r'b"a\x5c ~\x0a"', "#615c207e0a", "⊠615c207e0a", "[#615c207e0a]"),
    (H("documents"), "&h_documents", "@documents", "⟁documents", "[&documents]"),
    (H("ast"), "&h_ast", "@ast", "⟁ast", "[&ast]"),
    ([], "[]", "[]", "🜃🜄", "[[]]"),
    ({}, "{}", "{}", "◇◆", "[{}]"),
    ({"x": 10}, "{x: 10}", "{x:10}", "◇x: 10◆", "[{x:0x0a}]"),
    ({"name": "Alice", "age": 30}, '{name: "Alice", age: 30}', '{name:"Alice",age:30}',
     '◇name: "Alice", age: 30◆', '[{name:"Alice",age:0x1e}]'),
    ({"two words": 1}, '{"two words": 1}', '{"two words":1}', '◇"two words": 1◆', '[{"two words":0x01}]'),
    # Reserved words as keys: quoted exactly where the format reserves them.
    ({"null": 1, "true": 2, "false": 3}, '{"null": 1, "true": 2, "false": 3}', "{null:1,true:2,false:3}",
     "◇null: 1, true: 2, false: 3◆", "[{null:0x01,true:0x02,false:0x03}]"),
    ({"NULL": 1, "TRUE": 2, "FALSE": 3, "C": 4}, "{NULL: 1, TRUE: 2, FALSE: 3, C: 4}",
     '{"NULL":1,"TRUE":2,"FALSE":3,"C":4}', "◇NULL: 1, TRUE: 2, FALSE: 3, C: 4◆",
     "[{NULL:0x01,TRUE:0x02,FALSE:0x03,C:0x04}]"),
    ({"T": 1, "F": 2, "_": 3}, "{T: 1, F: 2, _: 3}", "{T:1,F:2,_:3}", "◇T: 1, F: 2, _: 3◆", '[{"T":0x01,"F":0x02,"_":0x03}]'),
    ({"": 1, "é": 2, "1a": 3}, '{"": 1, "é": 2, "1a": 3}', '{"":1,"\\u00e9":2,"1a":3}', '◇"": 1, "é": 2, "1a": 3◆',
     '[{"":0x01,"\\u00e9":0x02,"1a":0x03}]'),
    ({"b": 1, "a": 2}, "{b: 1, a: 2}", "{b:1,a:2}", "◇b: 1, a: 2◆", "[{b:0x01,a:0x02}]"),  # key order is data
    ([[1, 2], [3, 4]], "[[1, 2], [3, 4]]", "[[1,2],[3,4]]", "🜃🜃1, 2🜄, 🜃3, 4🜄🜄", "[[[0x01,0x02],[0x03,0x04]]]"),
    (
        Contract(902, {0: "render_pipeline", 1: [H("vs"), H("fs")]}),
        '{902: {@0: "render_pipeline", @1: [&h_vs, &h_fs]}}',
        '{C:902,0="render_pipeline",1=[@vs,@fs]}',
        '🜊902🜁0 "render_pipeline"🜁1 🜃⟁vs, ⟁fs🜄🜂',
        '[902|0:"render_pipeline"|1:[&vs,&fs]]',
    ),
    (
        Contract(1000, {0: "train", 1: H("model"), 2: H("data")}),
        '{1000: {@0: "train", @1: &h_model, @2: &h_data}}',
        '{C:1000,0="train",1=@model,2=@data}',
        '🜊1000🜁0 "train"🜁1 ⟁model🜁2 ⟁data🜂',
        '[1000|0:"train"|1:&model|2:&data]',
    ),
    (Contract(16, {0: "x"}), '{16: {@0: "x"}}', '{C:16,0="x"}', '🜊16🜁0 "x"🜂', '[16|0:"x"]'),
    # Contracts nested in arrays, objects and contracts use the same form.
    ([Contract(14, {0: 42})], "[{14: {@0: 42}}]", "[{C:14,0=42}]", "🜃🜊14🜁0 42🜂🜄", "[[[14|0:0x2a]]]"),
    ({"op": Contract(14, {0: 42})}, "{op: {14: {@0: 42}}}", "{op:{C:14,0=42}}", "◇op: 🜊14🜁0 42🜂◆", "[{op:[14|0:0x2a]}]"),
    (
        Contract(0, {255: Contract(65535, {0: None})}),
        "{0: {@255: {65535: {@0: null}}}}",
        "{C:0,255={C:65535,0=NULL}}",
        "🜊0🜁255 🜊65535🜁0 ∅🜂🜂",
        "[0|255:[65535|0:_]]",
    ),
    # Fields are written in ascending index order, however the contract was built.
    (Contract(1000, [(2, 2), (0, 0), (1, 1)]), "{1000: {@0: 0, @1: 1, @2: 2}}", "{C:1000,0=0,1=1,2=2}",
     "🜊1000🜁0 0🜁1 1🜁2 2🜂", "[1000|0:0x00|1:0x01|2:0x02]"),
]  # fmt: skip

ALL_EXAMPLES = WORKED_EXAMPLES + FORMAT_TABLE_EXAMPLES
_IDS = [repr(row[0])[:40] for row in ALL_EXAMPLES]

ENCODERS = (to_hlxl, to_lct, to_lcr, to_lcb_text)
DECODERS = (from_hlxl, from_lct, from_lcr, from_lcb)


@pytest.mark.parametrize("value, hlxl, lct, lcr, lcbt", ALL_EXAMPLES, ids=_IDS)
def test_example_encodes(value, hlxl, lct, lcr, lcbt):
    assert (to_hlxl(value), to_lct(value), to_lcr(value), to_lcb_text(value)) == (hlxl, lct, lcr, lcbt)


@pytest.mark.parametrize("value, hlxl, lct, lcr, lcbt", ALL_EXAMPLES, ids=_IDS)
def test_example_decodes(value, hlxl, lct, lcr, lcbt):
    for decode, text in zip(DECODERS, (hlxl, lct, lcr, lcbt)):
        assert values_equal(decode(text), value), (decode.__name__, text)
    assert lct.isascii() and lcbt.isascii()


@pytest.mark.parametrize("value, hlxl, lct, lcr, lcbt", ALL_EXAMPLES, ids=_IDS)
def test_example_converts_between_all_spellings(value, hlxl, lct, lcr, lcbt):
    texts = {"hlxl": hlxl, "lc-t": lct, "lc-r": lcr, "lc-b": lcbt}
    for source, text in texts.items():
        for target, expected in texts.items():
            assert hlx_formats.convert(text, to=target, frm=source) == expected


def test_binary_worked_example():
    data = bytes.fromhex("50 0e 00 01 00 10 2a")
    value = Contract(14, {0: 42})
    assert to_lcb(value) == data
    assert values_equal(from_lcb(data), value)
    assert from_lcb(data) == from_lcb("[14|0:0x2a]") == from_hlxl("{14: {@0: 42}}")
    assert hlx_formats.convert(data, to="lc-r") == "🜊14🜁0 42🜂"


# value, canonical binary (hex)
BINARY_EXAMPLES = [
    (None, "00"),
    (True, "01"),
    (False, "02"),
    (0, "10 00"),
    (42, "10 2a"),
    (-1, "10 ff"),
    (127, "10 7f"),
    (-128, "10 80"),
    (128, "11 80 00"),
    (1000, "11 e8 03"),
    (-129, "11 7f ff"),
    (32767, "11 ff 7f"),
    (32768, "12 00 80 00 00"),
    (-32769, "12 ff 7f ff ff"),
    (2**31 - 1, "12 ff ff ff 7f"),
    (2**31, "13 00 00 00 80 00 00 00 00"),
    (2**63 - 1, "13 ff ff ff ff ff ff ff 7f"),
    (-(2**63), "13 00 00 00 00 00 00 00 80"),
    (2**63, "17 00 00 00 00 00 00 00 80"),
    (2**64 - 1, "17 ff ff ff ff ff ff ff ff"),
    (1.5, "21 00 00 00 00 00 00 f8 3f"),
    (-0.0, "21 00 00 00 00 00 00 00 80"),
    (1.0, "21 00 00 00 00 00 00 f0 3f"),
    ("hi", "30 02 00 68 69"),
    ("é", "30 02 00 c3 a9"),
    ("", "30 00 00"),
    (b"\x01", "31 01 00 01"),
    (b"", "31 00 00"),
    (H("ab"), "40 02 61 62"),
    ([], "60 00 00"),
    ([1, None], "60 02 00 10 01 00"),
    ({}, "70 00"),
    ({"a": None, "é": True}, "70 02 01 61 00 02 c3 a9 01"),
    (SEARCH, "50 e8 03 02 00 30 06 00 73 65 61 72 63 68 01 40 09 64 6f 63 75 6d 65 6e 74 73"),
    (Contract(65535, {255: False}), "50 ff ff 01 ff 02"),
]


@pytest.mark.parametrize("value, data", BINARY_EXAMPLES, ids=[repr(row[0])[:30] for row in BINARY_EXAMPLES])
def test_binary_examples(value, data):
    assert to_lcb(value).hex(" ") == data
    assert values_equal(from_lcb(bytes.fromhex(data)), value)


# Every tag decodes, the non-canonical ones too (input hex, value, canonical re-encoding).
BINARY_TAGS = [
    ("14 ff", 255, "11 ff 00"),
    ("14 2a", 42, "10 2a"),
    ("15 34 12", 0x1234, "11 34 12"),
    ("15 ff ff", 65535, "12 ff ff 00 00"),
    ("16 78 56 34 12", 0x12345678, "12 78 56 34 12"),
    ("16 ff ff ff ff", 2**32 - 1, "13 ff ff ff ff 00 00 00 00"),
    ("17 01 00 00 00 00 00 00 00", 1, "10 01"),
    ("17 ff ff ff ff ff ff ff ff", 2**64 - 1, "17 ff ff ff ff ff ff ff ff"),
    ("11 2a 00", 42, "10 2a"),
    ("12 ff ff ff ff", -1, "10 ff"),
    ("13 2a 00 00 00 00 00 00 00", 42, "10 2a"),
    ("20 00 00 c0 3f", 1.5, "21 00 00 00 00 00 00 f8 3f"),
    ("20 00 00 00 80", -0.0, "21 00 00 00 00 00 00 00 80"),
    ("20 " + struct.pack("<f", 0.1).hex(" "), struct.unpack("<f", struct.pack("<f", 0.1))[0], None),
    ("20 01 00 00 00", 1.401298464324817e-45, None),  # the smallest float32 subnormal
    # Contract fields in any index order; canonical output sorts them.
    ("50 0e 00 02 01 10 01 00 10 00", Contract(14, {0: 0, 1: 1}), "50 0e 00 02 00 10 00 01 10 01"),
]


@pytest.mark.parametrize("data, value, canonical", BINARY_TAGS, ids=[row[0] for row in BINARY_TAGS])
def test_every_binary_tag_decodes(data, value, canonical):
    decoded = from_lcb(bytes.fromhex(data))
    assert values_equal(decoded, value)
    if canonical is None:
        canonical = "21 " + struct.pack("<d", value).hex(" ")
    assert to_lcb(decoded).hex(" ") == canonical


@pytest.mark.parametrize(
    "data, reason, offset",
    [
        ("50 0e 00 00", "contract with no fields", 0),
        ("60 01 00 50 0e 00 00", "contract with no fields", 3),
        ("00 00", "trailing bytes", 1),
        ("10 2a 00", "trailing bytes", 2),
        ("50 0e 00 01 00 10 2a 2a", "trailing bytes", 7),
    ],
)
def test_binary_rejections_from_the_spec(data, reason, offset):
    with pytest.raises(ParseError) as info:
        from_lcb(bytes.fromhex(data))
    assert reason in info.value.reason
    assert info.value.offset == offset


# --- lenient input --------------------------------------------------------------------------

# decoder, lenient text, value, canonical re-encoding
LENIENT_EXAMPLES = [
    (from_lct, '{C:1000, 0="test", 1=@x}', Contract(1000, {0: "test", 1: H("x")}), '{C:1000,0="test",1=@x}'),
    (from_lcr, '🜊1000 🜁0 "test" 🜁1 ⟁x🜂', Contract(1000, {0: "test", 1: H("x")}), '🜊1000🜁0 "test"🜁1 ⟁x🜂'),
    (from_lcb, "[[14|0:0x2a]]", Contract(14, {0: 42}), "[14|0:0x2a]"),
    (from_lcb, " [ [ 14 | 0 : 0x2a ] ] ", Contract(14, {0: 42}), "[14|0:0x2a]"),
    # LC-R: between a field's index and its value the space may be absent, except before a number.
    (from_lcr, '🜊14🜁0"x"🜂', Contract(14, {0: "x"}), '🜊14🜁0 "x"🜂'),
    (from_lcr, "🜊14🜁0⟁x🜁1🜃🜄🜁2◇◆🜁3∅🜂", Contract(14, {0: H("x"), 1: [], 2: {}, 3: None}), "🜊14🜁0 ⟁x🜁1 🜃🜄🜁2 ◇◆🜁3 ∅🜂"),
    (from_lcr, "🜊14🜁0 \n 42 🜂", Contract(14, {0: 42}), "🜊14🜁0 42🜂"),
    # Whitespace everywhere.
    (from_hlxl, ' { 14 :\n{ @0 :\t42 } } ', Contract(14, {0: 42}), "{14: {@0: 42}}"),
    (from_hlxl, "[1,2,\r\n3]", [1, 2, 3], "[1, 2, 3]"),
    (from_lct, " [ 1 , 2 ] ", [1, 2], "[1,2]"),
    (from_lcr, " 🜃 1 ,2 🜄 ", [1, 2], "🜃1, 2🜄"),
    (from_lcb, "[ [ 0x01 , 0x02 ] ]", [1, 2], "[[0x01,0x02]]"),
    # Quoted keys, also for reserved words (where they must be).
    (from_hlxl, '{"name": 1, "null": 2}', {"name": 1, "null": 2}, '{name: 1, "null": 2}'),
    (from_lct, '{"name":1,"C":2,"NULL":3}', {"name": 1, "C": 2, "NULL": 3}, '{name:1,"C":2,"NULL":3}'),
    (from_lcr, '◇"name": 1, null: 2◆', {"name": 1, "null": 2}, "◇name: 1, null: 2◆"),
    (from_lcb, '[{"x":0x01,"T":0x02,C:0x03,NULL:0x04,null:0x05}]', {"x": 1, "T": 2, "C": 3, "NULL": 4, "null": 5},
     '[{x:0x01,"T":0x02,C:0x03,NULL:0x04,null:0x05}]'),
    # LC-B text: decimal integers and any number of hex digits.
    (from_lcb, "[42]", 42, "[0x2a]"),
    (from_lcb, "[-42]", -42, "[-0x2a]"),
    (from_lcb, "[0x2]", 2, "[0x02]"),
    (from_lcb, "[0x0000002a]", 42, "[0x2a]"),
    (from_lcb, "[0x2A]", 42, "[0x2a]"),
    (from_lcb, "[-0x0]", 0, "[0x00]"),
    (from_lcb, "[[1,0x2,-3]]", [1, 2, -3], "[[0x01,0x02,-0x03]]"),
    (from_lcb, "[14|0:42]", Contract(14, {0: 42}), "[14|0:0x2a]"),
    (from_lcb, "[1000|1:0x01|0:0x00]", Contract(1000, {0: 0, 1: 1}), "[1000|0:0x00|1:0x01]"),
    # Fields in any order in every format; the canonical output sorts them.
    (from_hlxl, "{14: {@1: 1, @0: 0}}", Contract(14, {0: 0, 1: 1}), "{14: {@0: 0, @1: 1}}"),
    (from_lct, "{C:14,1=1,0=0}", Contract(14, {0: 0, 1: 1}), "{C:14,0=0,1=1}"),
    (from_lcr, "🜊14🜁1 1🜁0 0🜂", Contract(14, {0: 0, 1: 1}), "🜊14🜁0 0🜁1 1🜂"),
    # Upper-case hex on input, lower case on output.
    (from_hlxl, 'b"\\xFF\\xaB"', b"\xff\xab", 'b"\\xff\\xab"'),
    (from_lct, "#DEADBEEF", b"\xde\xad\xbe\xef", "#deadbeef"),
    (from_lcr, "⊠DEADbeef", b"\xde\xad\xbe\xef", "⊠deadbeef"),
    (from_lcb, "[#DEADBEEF]", b"\xde\xad\xbe\xef", "[#deadbeef]"),
    (from_lct, '"\\u00E9"', "é", '"\\u00e9"'),
    (from_hlxl, '"\\u00E9\\u00e9"', "éé", '"éé"'),
    # HLXL bytes: \" \\ \n \r \t are accepted on input too.
    (from_hlxl, 'b"\\"\\\\\\n\\r\\t"', b'"\\\n\r\t', 'b"\\x22\\x5c\\x0a\\x0d\\x09"'),
    (from_hlxl, 'b"\\x22"', b'"', 'b"\\x22"'),
    # \uXXXX escapes anywhere; a surrogate pair is one character.
    (from_hlxl, '"\\u0041\\u00e9\\ud83d\\ude00"', "Aé😀", '"Aé😀"'),
    (from_lcr, '"\\uD83D\\uDE00"', "😀", '"😀"'),
    (from_lct, '"\\ud83d\\ude00"', "😀", '"\\ud83d\\ude00"'),
    (from_lcb, '["\\u0041"]', "A", '["A"]'),
    (from_hlxl, '"\\u0008\\u000a"', "\b\n", '"\\b\\n"'),
    # Astral and other non-ASCII characters raw in HLXL and LC-R strings and keys.
    (from_hlxl, '{"é": "😀"}', {"é": "😀"}, '{"é": "😀"}'),
    (from_lcr, '◇"日本": "語"◆', {"日本": "語"}, '◇"日本": "語"◆'),
]  # fmt: skip


@pytest.mark.parametrize(
    "decode, text, value, canonical",
    LENIENT_EXAMPLES,
    ids=[f"{row[0].__name__}:{row[1][:24]}" for row in LENIENT_EXAMPLES],
)
def test_lenient_input(decode, text, value, canonical):
    decoded = decode(text)
    assert values_equal(decoded, value)
    encoder = {from_hlxl: to_hlxl, from_lct: to_lct, from_lcr: to_lcr, from_lcb: to_lcb_text}[decode]
    assert encoder(decoded) == canonical
    assert values_equal(decode(canonical), value)


# --- LC-R legacy glyphs -----------------------------------------------------------------------

LEGACY = {"🐊": "🜊", "🐁": "🜁", "🐂": "🜂", "🐃": "🜃", "🐄": "🜄"}


@pytest.mark.parametrize(
    "legacy, value",
    [
        ("🐃1, 2, 3🐄", [1, 2, 3]),
        ("🐊14🐁0 42🐂", Contract(14, {0: 42})),
        ('🐊1000🐁0 "search"🐁1 ⟁documents🐂', SEARCH),
        ("🐃🐃1, 2🐄, 🜃3, 4🐄🜄", [[1, 2], [3, 4]]),
        ('🐊902🜁0 "render_pipeline"🐁1 🐃⟁vs, ⟁fs🜄🜂', Contract(902, {0: "render_pipeline", 1: [H("vs"), H("fs")]})),
        ("◇a: 🐃🐄, b: 🐊1🐁0 ∅🐂◆", {"a": [], "b": Contract(1, {0: None})}),
        ('"🐊🐁🐂🐃🐄"', "🐊🐁🐂🐃🐄"),  # inside a string they are just characters
    ],
)
def test_legacy_glyphs_decode_like_the_canonical_ones(legacy, value):
    assert values_equal(from_lcr(legacy), value)
    canonical = legacy
    if not legacy.startswith('"'):
        for old, new in LEGACY.items():
            canonical = canonical.replace(old, new)
        assert values_equal(from_lcr(canonical), value)
    assert to_lcr(value) == canonical  # the canonical glyphs, never the legacy ones


@pytest.mark.parametrize("row", ALL_EXAMPLES, ids=_IDS)
def test_legacy_glyphs_are_never_emitted(row):
    assert not any(glyph in to_lcr(row[0]) for glyph in LEGACY)


# --- numbers on input ---------------------------------------------------------------------

# text (in HLXL, LC-T and LC-R; inside a frame in LC-B), value
NUMBERS = [
    ("3.140", 3.14),
    ("1e5", 100000.0),
    ("1E5", 100000.0),
    ("1.0E+5", 100000.0),
    ("1e-5", 1e-05),
    ("-2.5e-3", -0.0025),
    ("0.0", 0.0),
    ("-0.0", -0.0),
    ("-0e0", -0.0),
    ("1.7976931348623157e308", 1.7976931348623157e308),
    ("4.9e-324", 5e-324),
    ("-0", 0),
    ("0", 0),
    ("7", 7),
    ("-17", -17),
    ("18446744073709551615", 2**64 - 1),
    ("-9223372036854775808", -(2**63)),
    ("100000000000000000000.0", 1e20),
]


@pytest.mark.parametrize("text, value", NUMBERS)
def test_number_input_forms(text, value):
    for decode, spelled in ((from_hlxl, text), (from_lct, text), (from_lcr, text), (from_lcb, f"[{text}]")):
        decoded = decode(spelled)
        assert type(decoded) is type(value)
        assert values_equal(decoded, value), (decode.__name__, spelled, decoded)


@pytest.mark.parametrize("text", ["01", "-01", "00", "012.5", "01e5", "0x2a", "+1", ".5", "5.", "1e", "1.e5", "- 1"])
def test_number_spellings_that_are_not_numbers(text):
    for decode, spelled in ((from_hlxl, text), (from_lct, text), (from_lcr, text)):
        with pytest.raises(ParseError):
            decode(spelled)


@pytest.mark.parametrize("text", ["[01]", "[-01]", "[00]", "[0x]", "[+1]", "[.5]", "[0x-2a]"])
def test_lcb_integer_spellings_that_are_not_numbers(text):
    with pytest.raises(ParseError):
        from_lcb(text)


def test_floats_keep_their_bits():
    for value in (5e-324, -5e-324, 2.2250738585072014e-308, 0.1, 1 / 3, -1e-300, 2.0**-1074, math.pi):
        for encode, decode in ((to_hlxl, from_hlxl), (to_lct, from_lct), (to_lcr, from_lcr), (to_lcb_text, from_lcb)):
            assert struct.pack("<d", decode(encode(value))) == struct.pack("<d", value)
        assert struct.pack("<d", from_lcb(to_lcb(value))) == struct.pack("<d", value)


# --- the documentation's examples --------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("document", ["README.md", "docs/api.md", "docs/formats.md"])
def test_documentation_examples_run(document):
    path = ROOT / document
    if not path.exists():
        pytest.skip(f"{document} is not in this checkout")
    result = doctest.testfile(str(path), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_package_docstring_examples_run():
    result = doctest.testmod(hlx_formats, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
