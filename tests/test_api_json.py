"""The JSON bridge: its mapping, lossless round trips for the whole data model, and errors
with line and column for JSON that is no HLX value."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from hlx_formats import MAX_DEPTH, Contract, EncodeError, Handle, ParseError, UnsupportedTypeError, from_json, to_json, values_equal
from hlx_formats.strategies import values


def test_the_mapping():
    value = {"n": None, "t": True, "i": 1, "f": 1.0, "z": -0.0, "s": "é", "b": b"\x00\xff", "h": Handle("documents")}
    assert json.loads(to_json(value)) == {
        "n": None, "t": True, "i": 1, "f": 1.0, "z": -0.0, "s": "é", "b": {"@bytes": "00ff"}, "h": {"@handle": "documents"},
    }  # fmt: skip
    assert to_json(Contract(1000, {1: [1], 0: "search"})) == '{"@contract": 1000, "fields": {"0": "search", "1": [1]}}'
    assert to_json({"@id": 1, "@@x": 2, "a@": 3}) == '{"@@id": 1, "@@@x": 2, "a@": 3}'


def test_ints_and_floats_stay_apart():
    assert to_json([1, 1.0, 1e100, 2**64 - 1, -(2**63)]) == "[1, 1.0, 1e+100, 18446744073709551615, -9223372036854775808]"
    back = from_json("[1, 1.0, 1e100, 1E2, -0.0]")
    assert values_equal(back, [1, 1.0, 1e100, 100.0, -0.0])


@settings(max_examples=300, deadline=None)
@given(values())
def test_every_value_round_trips_through_json(value):
    text = to_json(value)
    assert values_equal(from_json(text), value)
    assert values_equal(from_json(text.encode("utf-8")), value)
    assert values_equal(from_json(to_json(value, indent=2)), value)


def test_deep_values_round_trip():
    value: object = 1
    for step in range(MAX_DEPTH):
        value = Contract(7, {0: value}) if step % 2 else {"@k": [value][0]}
    assert values_equal(from_json(to_json(value)), value)


def test_encoding_checks_as_the_hlx_encoders_do():
    with pytest.raises(EncodeError) as info:
        to_json({"a": [float("inf")]})
    assert info.value.path == "$['a'][0]"
    with pytest.raises(UnsupportedTypeError):
        to_json((1, 2))
    assert to_json((1, 2), default=list) == "[1, 2]"
    assert to_json({"b": 1, "a": 2}, sort_keys=True) == '{"a": 2, "b": 1}'
    with pytest.raises(EncodeError, match="lone surrogate"):
        to_json("\ud800")


@pytest.mark.parametrize(
    "text, line, column, reason",
    [
        ("[1, 2", 1, 6, "Expecting ',' delimiter"),
        ("[1, NaN]", 1, 5, "NaN is not allowed"),
        ("[-Infinity]", 1, 2, "-Infinity is not allowed"),
        ("[1e999]", 1, 2, "too large for a float"),
        ("[18446744073709551616]", 1, 2, "outside the range"),
        ("[" + "9" * 5000 + "]", 1, 2, "outside the range"),
        ('{"a": 1,\n "a": 2}', 2, 2, "duplicate key 'a'"),
        ('"\\udc00"', 1, 1, "lone surrogate U+DC00"),
        ('{"\\ud800": 1}', 1, 2, "object key holds a lone surrogate"),
        ('{"x": 1, "@y": 2}', 1, 10, "is written '@@y'"),
        ('{"@foo": 1}', 1, 1, "tag object {'@foo'} is none of"),
        ('{"@handle": "x", "extra": 1}', 1, 1, "tag object"),
        ('[{"@bytes": "abc"}]', 1, 3, '"@bytes" takes a string of hex digits'),
        ('{"@handle": "9x"}', 1, 2, '"@handle" takes an identifier'),
        ('{"@contract": 70000, "fields": {"0": 1}}', 1, 2, "an id 0..65535"),
        ('{"@contract": 1, "fields": {}}', 1, 18, "one or more fields"),
        ('{"@contract": 1, "fields": {"0": 1, "256": 2}}', 1, 37, "field index '256'"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), 1, MAX_DEPTH + 1, f"nesting deeper than {MAX_DEPTH} levels"),
        ("[" * 5000 + "]" * 5000, 1, MAX_DEPTH + 1, f"nesting deeper than {MAX_DEPTH} levels"),
        ("", 1, 1, "Expecting value"),
    ],
)
def test_json_that_is_no_hlx_value(text, line, column, reason):
    with pytest.raises(ParseError) as info:
        from_json(text)
    error = info.value
    assert (error.format, error.line, error.column) == ("json", line, column), str(error)
    assert reason in error.reason
    assert "^" in error.excerpt


def test_input_kinds():
    assert from_json("\ufeff[1]") == [1]  # a byte-order mark is ignored, as by the HLX decoders
    with pytest.raises(ParseError, match="invalid UTF-8 at byte 1"):
        from_json(b"[\xff]")
    with pytest.raises(Exception, match="must be str or bytes"):
        from_json(42)  # type: ignore[arg-type]
