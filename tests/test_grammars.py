"""The Lark grammars: plain LALR Lark, canonical vs lenient, and robustness to mutated input."""

from __future__ import annotations

import math
import random
import re
import sys
from pathlib import Path

import lark
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from hlx_formats import (
    FORMATS,
    HLXError,
    ParseError,
    from_hlxl,
    from_lcb,
    from_lcr,
    from_lct,
    grammar_text,
    hlxl,
    lcb,
    lcr,
    lct,
    to_hlxl,
    to_lcb,
    to_lcb_text,
    to_lcr,
    to_lct,
    values_equal,
)
from hlx_formats.grammar import lark_parser, parse_reference
from hlx_formats.strategies import examples, values

ENCODERS = {"hlxl": to_hlxl, "lc-t": to_lct, "lc-r": to_lcr, "lc-b": to_lcb_text}
DECODERS = {"hlxl": from_hlxl, "lc-t": from_lct, "lc-r": from_lcr, "lc-b": from_lcb}


def check_parse_error(error: ParseError, fmt: str, text: str) -> None:
    """A ParseError's position is inside the text and its line, column and caret agree."""
    assert error.format == fmt
    assert 0 <= error.offset <= len(text)
    assert error.line == text.count("\n", 0, error.offset) + 1
    assert error.column == error.offset - (text.rfind("\n", 0, error.offset) + 1) + 1
    assert error.reason and error.reason in str(error)
    assert f"line {error.line}, column {error.column}" in str(error)
    assert error.excerpt and error.excerpt in str(error)
    shown, caret_line = error.excerpt.split("\n")
    caret = caret_line.index("^")
    assert caret_line.strip() == "^"
    if error.offset < len(text) and text[error.offset] != "\n":
        assert shown[caret] == text[error.offset].replace("\t", " ").replace("\r", " ")


# --- the grammar files ---------------------------------------------------------------------

GRAMMARS = [(fmt, canonical) for fmt in FORMATS for canonical in (False, True)]


@pytest.mark.parametrize("fmt, canonical", GRAMMARS)
def test_grammar_uses_only_plain_lark(fmt, canonical):
    text = grammar_text(fmt, canonical=canonical)
    code = "\n".join(line.split("//", 1)[0] for line in text.splitlines())
    directives = set(re.findall(r"^\s*%(\w+)", code, re.M))
    assert directives <= {"ignore"}, directives  # no %import, %override, %extend, %declare
    assert "%import" not in text and "%override" not in text
    # No priorities (NAME.2: / rule.2:) and no templates.
    definitions = re.findall(r"^\s*[?!]?([A-Za-z_][A-Za-z0-9_]*)([^:\s]*)\s*:", code, re.M)
    assert definitions, "no rules found"
    for name, suffix in definitions:
        assert suffix == "", f"{name}{suffix}: priorities and templates are not plain Lark"
    # No look-around in the regular expressions.
    for marker in ("(?=", "(?!", "(?<"):
        assert marker not in code
    # No regex flags that a constrained decoder might not support either.
    assert not re.search(r"/[imslux]+\s*$", code, re.M)
    if canonical:
        assert "%ignore" not in code
        for line in text.splitlines():
            if not line.lstrip().startswith("//"):  # (comments may mention the markers)
                assert "//lenient-only" not in line and "//canonical" not in line, line


@pytest.mark.parametrize("fmt, canonical", GRAMMARS)
def test_grammar_is_lalr(fmt, canonical):
    # Lark refuses to build an LALR parser from a grammar with conflicts.
    parser = lark.Lark(grammar_text(fmt, canonical=canonical), parser="lalr", lexer="contextual")
    assert parser.options.parser == "lalr"
    assert lark_parser(fmt, canonical).options.parser == "lalr"
    assert lark_parser(fmt, canonical) is lark_parser(fmt, canonical)  # built once


def test_grammar_text_names_and_files():
    for fmt in FORMATS:
        lenient = grammar_text(fmt)
        assert lenient == grammar_text(fmt, canonical=False)
        assert "%ignore WS" in lenient
        assert grammar_text(fmt.upper()) == lenient
        assert grammar_text(fmt, canonical=True) != lenient
    assert grammar_text("lct") == grammar_text("lc-t")
    with pytest.raises(HLXError):
        grammar_text("json")


def test_grammar_files_are_package_data_read_through_importlib_resources():
    import importlib.resources

    from hlx_formats import grammar

    folder = grammar._grammar_folder()
    assert folder == importlib.resources.files("hlx_formats.grammars")
    assert {fmt: grammar._grammar_file_text(fmt) for fmt in FORMATS}  # every format's file is there
    assert folder.joinpath("common.lark").is_file()


def test_grammar_files_are_not_read_from_the_source_tree_when_not_installed(monkeypatch):
    # Without the package data (a source tree put on sys.path without installing it), the
    # grammars are missing: nothing falls back to the repository's grammars/ folder, which
    # exists beside this test.
    import importlib.resources

    from hlx_formats import grammar

    real_files = importlib.resources.files

    def files(package):
        if package == "hlx_formats.grammars":
            raise ModuleNotFoundError(f"No module named {package!r}")
        return real_files(package)

    monkeypatch.setattr(importlib.resources, "files", files)
    grammar._grammar_file_text.cache_clear()
    grammar._shared_terminals.cache_clear()
    try:
        assert (Path(grammar.__file__).resolve().parent.parent / "grammars" / "lct.lark").is_file()
        with pytest.raises(HLXError, match=r"the grammar files are missing: hlx_formats\.grammars is not installed"):
            grammar._grammar_file_text("lc-t")
        with pytest.raises(HLXError, match=r"the grammar files are missing"):
            grammar._shared_terminals()
    finally:
        grammar._grammar_file_text.cache_clear()
        grammar._shared_terminals.cache_clear()


# --- canonical grammars accept every encoding ------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=examples(200))
@given(value=values())
def test_canonical_grammar_accepts_every_encoding(fmt, value):
    text = ENCODERS[fmt](value)
    assert values_equal(parse_reference(fmt, text, canonical=True), value)
    assert values_equal(parse_reference(fmt, text, canonical=False), value)


WHITESPACE = st.sampled_from([" ", "  ", "\t", "\n", "\r\n", " \n\t"])


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=examples(100))
@given(value=values(), data=st.data())
def test_whitespace_between_tokens_is_lenient_only(fmt, value, data):
    text = ENCODERS[fmt](value)
    tokens = list(lark_parser(fmt, canonical=True).parse_interactive(text).iter_parse())
    boundaries = sorted({0, len(text), *(token.start_pos for token in tokens), *(token.end_pos for token in tokens)})
    chosen = data.draw(st.lists(st.sampled_from(boundaries), min_size=1, max_size=4, unique=True))
    spaced = text
    for position in sorted(chosen, reverse=True):
        spaced = spaced[:position] + data.draw(WHITESPACE) + spaced[position:]
    assert values_equal(DECODERS[fmt](spaced), value)
    with pytest.raises(ParseError) as info:
        parse_reference(fmt, spaced, canonical=True)
    check_parse_error(info.value, fmt, spaced)


# Lenient spellings: each parses with the lenient grammar and is refused by the canonical one.
LENIENT_ONLY = [
    ("hlxl", "[1,2]", [1, 2]),
    ("hlxl", "[1,  2]", [1, 2]),
    ("hlxl", "[ 1, 2]", [1, 2]),
    ("hlxl", " 42", 42),
    ("hlxl", "42\n", 42),
    ("hlxl", "{a:1}", {"a": 1}),
    ("hlxl", "{a : 1}", {"a": 1}),
    ("hlxl", "{14: {@0:42}}", None),
    ("hlxl", "{14:{@0: 42}}", None),
    ("hlxl", "-0", 0),
    ("hlxl", "1e5", 100000.0),
    ("hlxl", "1.0E+5", 100000.0),
    ("hlxl", "3.140", 3.14),
    ("hlxl", "1.5e-7", 1.5e-07),
    ("hlxl", '"\\u00E9"', "é"),
    ("hlxl", 'b"\\n"', b"\n"),
    ("hlxl", 'b"\\xFF"', b"\xff"),
    ("hlxl", 'b"\\x2e"', b"."),
    ("hlxl", '"\\u000a"', "\n"),
    ("lc-t", "[1, 2]", [1, 2]),
    ("lc-t", "{C:14, 0=42}", None),
    ("lc-t", "{C: 14,0=42}", None),
    ("lc-t", " NULL", None),
    ("lc-t", "#AB", b"\xab"),
    ("lc-t", '"\\u00E9"', "é"),
    ("lc-t", '"\\u0041"', "A"),
    ("lc-t", "1.0E+5", 100000.0),
    ("lc-t", "-0", 0),
    ("lc-r", "🜃1,2🜄", [1, 2]),
    ("lc-r", "🜃1,  2🜄", [1, 2]),
    ("lc-r", "🐃1, 2🐄", [1, 2]),
    ("lc-r", "🐃1, 2🜄", [1, 2]),
    ("lc-r", "🐊14🐁0 42🐂", None),
    ("lc-r", "🜊14🜁0 42🐂", None),
    ("lc-r", '🜊14🜁0"x"🜂', None),
    ("lc-r", "🜊14🜁0  42🜂", None),
    ("lc-r", "🜊14🜁0\t42🜂", None),
    ("lc-r", "🜊14 🜁0 42🜂", None),
    ("lc-r", "◇a:1◆", {"a": 1}),
    ("lc-r", "⊠AB", b"\xab"),
    ("lc-r", '"\\u0009"', "\t"),
    ("lc-b", "[ 0x2a]", 42),
    ("lc-b", "[42]", 42),
    ("lc-b", "[0x2]", 2),
    ("lc-b", "[0x2A]", 42),
    ("lc-b", "[[14|0:0x2a]]", None),
    ("lc-b", "[14|0:42]", None),
    ("lc-b", "[14 |0:0x2a]", None),
    ("lc-b", "[[0x01, 0x02]]", [1, 2]),
    ("lc-b", "[#AB]", b"\xab"),
    ("lc-b", '["\\u00E9"]', "é"),
]


@pytest.mark.parametrize("fmt, text, expected", LENIENT_ONLY)
def test_canonical_grammar_refuses_lenient_spellings(fmt, text, expected):
    value = parse_reference(fmt, text)
    assert values_equal(value, DECODERS[fmt](text))
    if expected is not None:
        assert values_equal(value, expected)
    with pytest.raises(ParseError) as info:
        parse_reference(fmt, text, canonical=True)
    check_parse_error(info.value, fmt, text)
    # The encoder writes it the canonical way, which both grammars accept.
    canonical = ENCODERS[fmt](value)
    assert canonical != text
    assert values_equal(parse_reference(fmt, canonical, canonical=True), value)


# Spellings that the lenient grammar reads (and the parser then refuses) but that the
# canonical grammar cannot produce at all: it is bounded like the data model, so that a
# decoder constrained by it only writes values that exist.
OUTSIDE_THE_MODEL = [
    ("hlxl", "18446744073709551616"),
    ("hlxl", "-9223372036854775809"),
    ("hlxl", "[99999999999999999999]"),
    ("hlxl", "{65536: {@0: 1}}"),
    ("hlxl", "{1: {@256: 1}}"),
    ("hlxl", "1.0e+309"),
    ("lc-t", "18446744073709551616"),
    ("lc-t", "-9223372036854775809"),
    ("lc-t", "{C:65536,0=1}"),
    ("lc-t", "{C:1,256=1}"),
    ("lc-t", '"\\udc00"'),
    ("lc-r", "18446744073709551616"),
    ("lc-r", "-9223372036854775809"),
    ("lc-r", "🜊65536🜁0 1🜂"),
    ("lc-r", "🜊1🜁256 1🜂"),
    ("lc-r", "1.0e+309"),
    ("lc-b", "[0x010000000000000000]"),
    ("lc-b", "[-0x8000000000000001]"),
    ("lc-b", "[65536|0:_]"),
    ("lc-b", "[1|256:_]"),
    ("lc-b", "[1.0e+309]"),
    ("lc-b", '["\\ud800"]'),
    # floats past the largest double, with a mantissa the exponent's bound does not catch
    ("hlxl", "1.7976931348623159e+308"),
    ("lc-t", "[1.8e+308]"),
    ("lc-r", "-2.0e+308"),
    ("lc-b", "[1.9e+308]"),
    # reserved words as bare keys
    ("hlxl", "{null: 1}"),
    ("hlxl", "{false: 1}"),
    ("lc-t", "{TRUE:1}"),
    ("lc-t", "{a:1,C:2}"),
    ("lc-b", "[{T:0x01}]"),
    ("lc-b", "[{_:0x01}]"),
]


@pytest.mark.parametrize("fmt, text", OUTSIDE_THE_MODEL)
def test_canonical_grammar_is_bounded_like_the_data_model(fmt, text):
    lark_parser(fmt, canonical=False).parse(text)  # the syntax is fine ...
    with pytest.raises(ParseError):  # ... the value is not
        DECODERS[fmt](text)
    with pytest.raises(lark.exceptions.LarkError):
        lark_parser(fmt, canonical=True).parse(text)


@pytest.mark.parametrize(
    "fmt, text",
    [
        ("hlxl", "[18446744073709551615, -9223372036854775808, 1.7976931348623157e+308, 5.0e-324, -0.0]"),
        ("hlxl", "{65535: {@0: 0, @255: 1}}"),
        ("lc-t", "[18446744073709551615,-9223372036854775808,1.7976931348623157e+308]"),
        ("lc-t", '{C:65535,0="\\ud83d\\ude00",255=1}'),
        ("lc-r", "🜊65535🜁0 18446744073709551615🜁255 -9223372036854775808🜂"),
        ("lc-b", "[65535|0:0xffffffffffffffff|255:-0x8000000000000000]"),
    ],
)
def test_canonical_grammar_reaches_the_ends_of_the_data_model(fmt, text):
    value = parse_reference(fmt, text, canonical=True)
    assert ENCODERS[fmt](value) == text


def _canonical_terminal(fmt: str, name: str) -> re.Pattern[str]:
    """The regular expression of terminal ``name`` in a format's canonical grammar."""
    (line,) = [line for line in grammar_text(fmt, canonical=True).splitlines() if line.startswith(f"{name}:")]
    return re.compile(line.split(":", 1)[1].strip()[1:-1])


@pytest.mark.parametrize("fmt, spelling", [("hlxl", hlxl.SPELLING), ("lc-t", lct.SPELLING), ("lc-r", lcr.SPELLING), ("lc-b", lcb._TEXT)])
def test_canonical_name_is_an_identifier_other_than_the_reserved_words(fmt, spelling):
    # Every prefix of a reserved word, followed by every short tail: the trie the regex encodes.
    alphabet = sorted(set("".join(spelling.reserved_keys)) | set("xZ_09"))
    prefixes = {word[:cut] for word in spelling.reserved_keys for cut in range(len(word) + 1)}
    tails = [""] + alphabet + [a + b for a in alphabet for b in alphabet]
    regex, identifier = _canonical_terminal(fmt, "NAME"), re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
    for text in sorted({prefix + tail for prefix in prefixes for tail in tails}):
        expected = bool(identifier.fullmatch(text)) and text not in spelling.reserved_keys
        assert bool(regex.fullmatch(text)) == expected, text


@pytest.mark.parametrize("fmt", ["hlxl", "lc-t", "lc-r", "lc-b"])
def test_canonical_float_ends_at_the_largest_double(fmt):
    regex = _canonical_terminal(fmt, "FLOAT")
    largest = sys.float_info.max
    doubles = [largest, -largest, math.nextafter(largest, 0.0), 1e308, 1.0e308 * 1.5]
    doubles += [random.Random(seed).uniform(1e308, largest) for seed in range(500)]
    for number in doubles:
        text = ENCODERS[fmt](number).removeprefix("[").removesuffix("]")  # LC-B frames a value
        assert regex.fullmatch(text), text
    for text in ("1.7976931348623159e+308", "1.79769313486232e+308", "1.8e+308", "2.0e+308", "9.9e+308"):
        assert float(text) == math.inf and not regex.fullmatch(text), text


# --- mutations and garbage ------------------------------------------------------------------


def check_decoding(fmt: str, text: str) -> None:
    """``text`` is either refused with a well-placed ParseError or decodes to a value whose
    canonical encoding the canonical grammar accepts and that round-trips."""
    decode, encode = DECODERS[fmt], ENCODERS[fmt]
    try:
        value = decode(text)
    except ParseError as error:
        check_parse_error(error, fmt, text)
        event("parse error")
        return
    event("valid")
    canonical = encode(value)
    assert values_equal(parse_reference(fmt, canonical, canonical=True), value)
    assert values_equal(decode(canonical), value)
    assert encode(decode(canonical)) == canonical


@st.composite
def mutations(draw, text: str) -> str:
    operation = draw(st.sampled_from(("drop", "duplicate", "swap", "insert")))
    if operation == "swap" and len(text) < 2:
        operation = "duplicate"
    if operation == "insert":
        position = draw(st.integers(0, len(text)))
        extra = draw(st.sampled_from(list(SYNTAX_CHARACTERS)))
        return text[:position] + extra + text[position:]
    if not text:
        return text
    if operation == "swap":
        position = draw(st.integers(0, len(text) - 2))
        return text[:position] + text[position + 1] + text[position] + text[position + 2 :]
    position = draw(st.integers(0, len(text) - 1))
    if operation == "drop":
        return text[:position] + text[position + 1 :]
    return text[:position] + text[position] + text[position:]


SYNTAX_CHARACTERS = '[]{}(),:;=|@&#"\\ \n\tbhx0123456789-+.eE_aCTFNUL\x00\x7féÿ🜊🜁🜂🜃🜄◇◆∅⊤⊥⊠⟁🐊🐁🐂🐃🐄'


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=examples(500))
@given(value=values(), data=st.data())
def test_mutated_text_is_a_parse_error_or_valid(fmt, value, data):
    text = ENCODERS[fmt](value)
    mutated = data.draw(mutations(text))
    for _ in range(data.draw(st.integers(0, 2))):
        mutated = data.draw(mutations(mutated))
    check_decoding(fmt, mutated)


@st.composite
def byte_mutations(draw, data: bytes) -> bytes:
    operation = draw(st.sampled_from(("drop", "duplicate", "flip", "insert")))
    if operation == "insert":
        position = draw(st.integers(0, len(data)))
        return data[:position] + bytes([draw(st.integers(0, 255))]) + data[position:]
    position = draw(st.integers(0, len(data) - 1))
    if operation == "drop":
        return data[:position] + data[position + 1 :]
    if operation == "duplicate":
        return data[:position] + data[position : position + 1] + data[position:]
    flipped = data[position] ^ draw(st.integers(1, 255))
    return data[:position] + bytes([flipped]) + data[position + 1 :]


def check_binary_decoding(data: bytes) -> None:
    try:
        value = from_lcb(data)
    except ParseError as error:
        assert error.format == "lc-b"
        assert 0 <= error.offset <= len(data)
        assert (error.line, error.column) == (1, error.offset + 1)
        assert error.excerpt in str(error) and "^" in error.excerpt
        event("parse error")
        return
    event("valid")
    encoded = to_lcb(value)
    assert values_equal(from_lcb(encoded), value)
    assert to_lcb(from_lcb(encoded)) == encoded
    assert values_equal(from_lcb(to_lcb_text(value)), value)


@settings(max_examples=examples(1000))
@given(value=values(), data=st.data())
def test_mutated_binary_is_a_parse_error_or_valid(value, data):
    mutated = data.draw(byte_mutations(to_lcb(value)))
    for _ in range(data.draw(st.integers(0, 2))):
        if mutated:
            mutated = data.draw(byte_mutations(mutated))
    check_binary_decoding(mutated)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=examples(300))
@given(text=st.one_of(st.text(), st.text(st.sampled_from(SYNTAX_CHARACTERS))))
def test_garbage_text_is_a_parse_error_or_valid(fmt, text):
    check_decoding(fmt, text)


@settings(max_examples=examples(600))
@given(
    data=st.one_of(
        st.binary(),
        st.lists(st.sampled_from(b"\x00\x01\x02\x10\x13\x17\x20\x21\x30\x31\x40\x50\x60\x70\xff"), max_size=40).map(bytes),
    )
)
def test_garbage_bytes_are_a_parse_error_or_valid(data):
    check_binary_decoding(data)
    # Bytes given to the text decoders are UTF-8 text (or a ParseError).
    for fmt in ("hlxl", "lc-t", "lc-r"):
        try:
            DECODERS[fmt](data)
        except ParseError as error:
            assert error.format == fmt


# --- canonical grammars spell each character one way ----------------------------------------
# A character or byte can be written several ways (raw, a short escape, \u or \x in either
# case); the canonical grammar accepts the one the encoder writes and no other, so that a
# decoder constrained by it writes canonical text, not just the right value.

CHARACTERS = [chr(code) for code in range(0x250)] + [
    chr(code) for code in (0x2205, 0x22A0, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x1F70A, 0x10FFFF)
]
SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _u_escapes(character: str) -> list[str]:
    code = ord(character)
    if code < 0x10000:
        units = [code]
    else:
        code -= 0x10000
        units = [0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)]
    lower = "".join(f"\\u{unit:04x}" for unit in units)
    return [lower, lower.upper().replace("\\U", "\\u")]


def _spellings_of_character(character: str) -> set[str]:
    spellings = {character, *_u_escapes(character)}
    if character in SHORT_ESCAPES:
        spellings.add(SHORT_ESCAPES[character])
    return spellings


def _encoded_string(fmt: str, text: str) -> str:
    """The encoder's spelling of the string ``text``, quotes included, without LC-B's top-level frame."""
    encoded = ENCODERS[fmt](text)
    encoded = encoded[1:-1] if fmt == "lc-b" else encoded
    assert encoded[0] == encoded[-1] == '"', encoded
    return encoded


@pytest.mark.parametrize("fmt", ["hlxl", "lc-t", "lc-r", "lc-b"])
def test_canonical_string_spells_each_character_one_way(fmt):
    regex = _canonical_terminal(fmt, "STRING")
    for character in CHARACTERS:
        canonical = _encoded_string(fmt, character)[1:-1]
        for spelling in _spellings_of_character(character):
            assert bool(regex.fullmatch(f'"{spelling}"')) == (spelling == canonical), (character, spelling)


def test_canonical_hlxl_bytes_spell_each_byte_one_way():
    regex = _canonical_terminal("hlxl", "BYTES")
    short = {ord(k): v for k, v in SHORT_ESCAPES.items() if k in '"\\\n\r\t'}
    for byte in range(256):
        canonical = to_hlxl(bytes([byte]))[2:-1]
        spellings = {f"\\x{byte:02x}", f"\\x{byte:02X}", chr(byte)} | ({short[byte]} if byte in short else set())
        for spelling in spellings:
            assert bool(regex.fullmatch(f'b"{spelling}"')) == (spelling == canonical), (byte, spelling)


KEYS = ["a", "_x", "a1", "nul", "nullx", "C1", "Tx", "null", "true", "false", "NULL", "TRUE", "FALSE", "C", "T", "F", "_"]
KEYS += ["", "1a", "a b", "a-b", "é", "a\n", "🜊", '"', "x\\"]


@pytest.mark.parametrize("fmt", ["hlxl", "lc-t", "lc-r", "lc-b"])
def test_canonical_grammar_quotes_a_key_only_where_it_must(fmt):
    identifier = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
    for key in KEYS:
        canonical = ENCODERS[fmt]({key: 1})
        assert values_equal(parse_reference(fmt, canonical, canonical=True), {key: 1})
        quoted = _encoded_string(fmt, key)
        if not identifier.fullmatch(key):
            assert quoted in canonical, (key, canonical)
            continue
        other = canonical.replace(quoted, key, 1) if quoted in canonical else canonical.replace(key, quoted, 1)
        assert other != canonical
        with pytest.raises(HLXError):
            parse_reference(fmt, other, canonical=True)
