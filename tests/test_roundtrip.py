"""Round trips: every value through every format, every pair of formats, and deep nesting."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from hlx_formats import (
    FORMATS,
    MAX_DEPTH,
    Contract,
    EncodeError,
    ParseError,
    convert,
    detect_format,
    from_hlxl,
    from_lcb,
    from_lcr,
    from_lct,
    to_hlxl,
    to_lcb,
    to_lcb_text,
    to_lcr,
    to_lct,
    value_depth,
    values_equal,
)
from hlx_formats.strategies import examples, oversized_values, values

#: The five spellings: (encoder, decoder).
CODECS = {
    "hlxl": (to_hlxl, from_hlxl),
    "lc-t": (to_lct, from_lct),
    "lc-r": (to_lcr, from_lcr),
    "lc-b-text": (to_lcb_text, from_lcb),
    "lc-b-binary": (to_lcb, from_lcb),
}
#: The text spellings under the names convert() knows.
TEXT_ENCODERS = {"hlxl": to_hlxl, "lc-t": to_lct, "lc-r": to_lcr, "lc-b": to_lcb_text}
TEXT_DECODERS = {"hlxl": from_hlxl, "lc-t": from_lct, "lc-r": from_lcr, "lc-b": from_lcb}


@pytest.mark.parametrize("name", CODECS)
@settings(max_examples=examples(300))
@given(value=values())
def test_round_trip(name, value):
    encode, decode = CODECS[name]
    encoded = encode(value)
    decoded = decode(encoded)
    assert values_equal(decoded, value), (encoded, decoded)
    assert encode(decoded) == encoded
    if name in ("hlxl", "lc-t", "lc-r"):
        # Text may also be given as UTF-8 bytes.
        assert values_equal(decode(encoded.encode("utf-8")), value)
    if name == "lc-t" or name == "lc-b-text":
        assert encoded.isascii()


@settings(max_examples=examples(150))
@given(value=values())
def test_conversion_through_every_pair_of_formats(value):
    for a, (encode_a, decode_a) in CODECS.items():
        through_a = decode_a(encode_a(value))
        for b, (encode_b, decode_b) in CODECS.items():
            assert values_equal(decode_b(encode_b(through_a)), value), (a, b)


@settings(max_examples=examples(100))
@given(value=values())
def test_convert_between_every_pair_of_text_formats(value):
    texts = {fmt: encode(value) for fmt, encode in TEXT_ENCODERS.items()}
    binary = to_lcb(value)
    for source, text in texts.items():
        detected = detect_format(text)
        # The detected format reads the text as a value that is canonical there (the text of
        # one format can be canonical in an earlier one: LC-B text "[[]]" is HLXL too).
        seen_as = TEXT_DECODERS[detected](text)
        for target, expected in texts.items():
            assert convert(text, to=target, frm=source) == expected, (source, target)
            assert convert(text, to=target.upper(), frm=source.upper()) == expected
            assert convert(text, to=target) == TEXT_ENCODERS[target](seen_as)
            assert convert(binary, to=target) == expected
            if source != "lc-b":  # for LC-B, bytes are the binary format
                assert convert(text.encode("utf-8"), to=target, frm=source) == expected
        if detected == source:
            assert values_equal(seen_as, value)


@settings(max_examples=examples(200))
@given(value=values())
def test_detect_format_of_canonical_text(value):
    texts = {fmt: encode(value) for fmt, encode in TEXT_ENCODERS.items()}
    assert detect_format(texts["hlxl"]) == "hlxl"
    assert detect_format(to_lcb(value)) == "lc-b"
    for fmt, text in texts.items():
        detected = detect_format(text)
        # Never a later format than the one it is canonical in ...
        assert FORMATS.index(detected) <= FORMATS.index(fmt)
        # ... and an earlier one only where the text is canonical there too.
        assert TEXT_ENCODERS[detected](TEXT_DECODERS[detected](text)) == text
        # Surrounding whitespace does not change the verdict.
        assert detect_format(f" \n{text}\t ") == detected


@settings(max_examples=examples(200))
@given(value=values())
def test_binary_and_text_notation_agree(value):
    binary = to_lcb(value)
    assert isinstance(binary, bytes)
    assert values_equal(from_lcb(binary), from_lcb(to_lcb_text(value)))
    assert to_lcb(from_lcb(to_lcb_text(value))) == binary
    assert to_lcb_text(from_lcb(binary)) == to_lcb_text(value)
    # bytearray and memoryview are binary input too.
    assert values_equal(from_lcb(bytearray(binary)), value)
    assert values_equal(from_lcb(memoryview(binary)), value)


@pytest.mark.slow
@settings(max_examples=examples(8))
@given(case=oversized_values())
def test_values_over_the_binary_limits_round_trip_in_text(case):
    limit, value = case
    with pytest.raises(EncodeError, match="over the LC-B binary limit"):
        to_lcb(value)
    for fmt, encode in TEXT_ENCODERS.items():
        text = encode(value)
        assert values_equal(TEXT_DECODERS[fmt](text), value), (limit, fmt)
    # Detection falls back to a format in which the text parses (and is canonical).
    assert detect_format(TEXT_ENCODERS["lc-r"](value)) in ("hlxl", "lc-r")


# --- nesting -----------------------------------------------------------------------------

KINDS = ("array", "object", "contract", "mixed")


def nest(depth: int, kind: str):
    """``depth`` levels of ``kind`` around the integer 1 (``mixed`` cycles the three)."""
    value = 1
    for level in range(depth):
        shape = kind if kind != "mixed" else KINDS[level % 3]
        if shape == "array":
            value = [value]
        elif shape == "object":
            value = {"k": value}
        else:
            value = Contract(1, {0: value})
    return value


# How each format writes one level around the text x of the level inside (LC-B text: inside
# the frame).
_OPEN_CLOSE = {
    "hlxl": {"array": ("[", "]"), "object": ("{k: ", "}"), "contract": ("{1: {@0: ", "}}")},
    "lc-t": {"array": ("[", "]"), "object": ("{k:", "}"), "contract": ("{C:1,0=", "}")},
    "lc-r": {"array": ("🜃", "🜄"), "object": ("◇k: ", "◆"), "contract": ("🜊1🜁0 ", "🜂")},
    "lc-b": {"array": ("[", "]"), "object": ("{k:", "}"), "contract": ("[1|0:", "]")},
}


def nested_text(fmt: str, depth: int, kind: str) -> tuple[str, int]:
    """The text of :func:`nest` written by hand, and the offset of the innermost opening."""
    text = "0x01" if fmt == "lc-b" else "1"
    last_open = 0
    shapes = [kind if kind != "mixed" else KINDS[level % 3] for level in range(depth)]
    for shape in shapes:
        opening, closing = _OPEN_CLOSE[fmt][shape]
        text = opening + text + closing
    framed = fmt == "lc-b" and (not shapes or shapes[-1] != "contract")
    if framed:
        text = "[" + text + "]"
    # The innermost container opens after the openings of all levels around it.
    last_open = int(framed) + sum(len(_OPEN_CLOSE[fmt][shape][0]) for shape in shapes[1:])
    return text, last_open


_BINARY_OPEN = {"array": b"\x60\x01\x00", "object": b"\x70\x01\x01k", "contract": b"\x50\x01\x00\x01\x00"}


def nested_binary(depth: int, kind: str) -> tuple[bytes, int]:
    shapes = [kind if kind != "mixed" else KINDS[level % 3] for level in range(depth)]
    data = b"".join(_BINARY_OPEN[shape] for shape in reversed(shapes)) + b"\x10\x01"
    return data, sum(len(_BINARY_OPEN[shape]) for shape in shapes[1:])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", CODECS)
def test_max_depth_round_trips(name, kind):
    encode, decode = CODECS[name]
    value = nest(MAX_DEPTH, kind)
    assert value_depth(value) == MAX_DEPTH
    encoded = encode(value)
    if name == "lc-b-binary":
        assert encoded == nested_binary(MAX_DEPTH, kind)[0]
    else:
        assert encoded == nested_text(name.replace("-text", ""), MAX_DEPTH, kind)[0]
    assert values_equal(decode(encoded), value)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", CODECS)
def test_encoding_past_max_depth_is_an_encode_error(name, kind):
    encode, _ = CODECS[name]
    for depth in (MAX_DEPTH + 1, 10_000):
        with pytest.raises(EncodeError, match=f"nesting deeper than {MAX_DEPTH} levels"):
            encode(nest(depth, kind))
    # A list nested in itself is infinitely deep.
    loop: list = []
    loop.append(loop)
    with pytest.raises(EncodeError, match="nesting deeper"):
        encode(loop)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", ["hlxl", "lc-t", "lc-r", "lc-b"])
def test_decoding_past_max_depth_is_a_parse_error(fmt, kind):
    text, innermost = nested_text(fmt, MAX_DEPTH + 1, kind)
    with pytest.raises(ParseError) as info:
        TEXT_DECODERS[fmt](text)
    error = info.value
    assert error.format == fmt
    assert error.reason == f"nesting deeper than {MAX_DEPTH} levels"
    # At the first container past the limit: the innermost one.
    assert (error.line, error.column, error.offset) == (1, innermost + 1, innermost)


@pytest.mark.parametrize("kind", KINDS)
def test_decoding_binary_past_max_depth_is_a_parse_error(kind):
    data, innermost = nested_binary(MAX_DEPTH + 1, kind)
    with pytest.raises(ParseError) as info:
        from_lcb(data)
    assert info.value.format == "lc-b"
    assert info.value.reason == f"nesting deeper than {MAX_DEPTH} levels"
    assert (info.value.offset, info.value.column) == (innermost, innermost + 1)


_DEEP = 10_000
DEEP_TEXTS = [
    ("hlxl", "[" * _DEEP),
    ("hlxl", "[" * _DEEP + "]" * _DEEP),
    ("hlxl", "{" * _DEEP),
    ("hlxl", "{k: " * _DEEP + "1" + "}" * _DEEP),
    ("hlxl", "{1: {@0: " * _DEEP + "1" + "}}" * _DEEP),
    ("lc-t", "[" * _DEEP),
    ("lc-t", "[" * _DEEP + "1" + "]" * _DEEP),
    ("lc-t", '{"k":' * _DEEP + "1" + "}" * _DEEP),
    ("lc-t", "{C:1,0=" * _DEEP + "1" + "}" * _DEEP),
    ("lc-r", "🜃" * _DEEP),
    ("lc-r", "🜃" * _DEEP + "🜄" * _DEEP),
    ("lc-r", "🐃" * _DEEP + "🐄" * _DEEP),
    ("lc-r", "◇" * _DEEP),
    ("lc-r", "◇k:" * _DEEP + "1" + "◆" * _DEEP),
    ("lc-r", "🜊1🜁0 " * _DEEP + "1" + "🜂" * _DEEP),
    ("lc-b", "[" * _DEEP),
    ("lc-b", "[" * _DEEP + "]" * _DEEP),
    ("lc-b", "[" + "{k:" * _DEEP + "1" + "}" * _DEEP + "]"),
    ("lc-b", "[1|0:" * _DEEP + "1" + "]" * _DEEP),
]


@pytest.mark.parametrize("fmt, text", DEEP_TEXTS, ids=[f"{fmt}-{text[:6]}" for fmt, text in DEEP_TEXTS])
def test_very_deep_text_is_a_parse_error_not_a_recursion_error(fmt, text):
    with pytest.raises(ParseError) as info:
        TEXT_DECODERS[fmt](text)
    assert info.value.format == fmt


@pytest.mark.parametrize(
    "data",
    [
        b"\x60\x01\x00" * _DEEP + b"\x00",
        b"\x60" * _DEEP,
        b"\x70\x01\x01k" * _DEEP + b"\x00",
        b"\x50\x01\x00\x01\x00" * _DEEP + b"\x00",
    ],
    ids=["arrays", "array-tags", "objects", "contracts"],
)
def test_very_deep_binary_is_a_parse_error_not_a_recursion_error(data):
    with pytest.raises(ParseError) as info:
        from_lcb(data)
    assert info.value.format == "lc-b"


def test_nested_text_helper_matches_the_encoders():
    # The hand-written texts above are what the encoders write (so the deep-input tests
    # test what they claim to).
    for kind in KINDS:
        for depth in (1, 2, 5):
            value = nest(depth, kind)
            for fmt, encode in TEXT_ENCODERS.items():
                assert nested_text(fmt, depth, kind)[0] == encode(value)
            assert nested_binary(depth, kind)[0] == to_lcb(value)
