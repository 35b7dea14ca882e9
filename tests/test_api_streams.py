"""Several values in one input: iter_load over line-delimited text and concatenated LC-B
binary, from str, bytes and file objects, with the position of a bad record."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlx_formats import Contract, Handle, HLXError, ParseError, dumps, iter_load, streams, to_lcb, to_lcb_text, values_equal
from hlx_formats.strategies import values

VALUES = [[1, 2], Contract(14, {0: 42}), "x", None, {"a": b"\x00"}]


def test_lines_of_text_one_value_a_line():
    text = '[1, 2]\n{C:14,0=42}\n\n  \n"x"\r\nnull\n{a: b"\\x00"}\n'
    assert list(iter_load(text)) == VALUES  # detected line by line; blank lines skipped, CRLF too
    assert list(iter_load(text.encode())) == VALUES
    assert list(iter_load(io.StringIO(text))) == VALUES
    assert list(iter_load(io.BytesIO(text.encode()))) == VALUES


def test_a_named_format_reads_every_line_in_it():
    text = "\n".join(dumps(value, "lc-t") for value in VALUES)
    assert list(iter_load(text, "lc-t")) == VALUES
    lcb_text = "\n".join(to_lcb_text(value) for value in VALUES)
    assert list(iter_load(lcb_text.encode(), "lc-b")) == VALUES  # LC-B text notation, a line each
    with pytest.raises(ParseError) as info:
        list(iter_load("[1,2]\n[null]\n", "lc-t"))
    assert (info.value.format, info.value.line) == ("lc-t", 2)


def test_concatenated_binary():
    data = b"".join(to_lcb(value) for value in VALUES)
    assert list(iter_load(data)) == VALUES
    assert list(iter_load(data, "lc-b")) == VALUES
    assert list(iter_load(io.BytesIO(data))) == VALUES
    assert list(iter_load(b"")) == [] and list(iter_load(io.BytesIO())) == []


def test_binary_read_in_small_chunks(monkeypatch):
    monkeypatch.setattr(streams, "CHUNK_SIZE", 3)
    many = [list(range(n)) for n in range(40)] + ["s" * 300, {"k": b"\xff" * 70}]
    data = b"".join(to_lcb(value) for value in many)
    assert list(iter_load(io.BytesIO(data))) == many
    text = "\n".join(dumps(value) for value in many) + "\n"
    assert list(iter_load(io.BytesIO(text.encode()))) == many  # a first line longer than the peek


def test_a_bad_text_record_names_its_line_and_offset():
    with pytest.raises(ParseError) as info:
        list(iter_load("[1, 2]\n\n[3, 4\n[5]\n"))
    error = info.value
    assert (error.format, error.line, error.column, error.offset) == ("hlxl", 3, 6, 13)
    with pytest.raises(ParseError) as info:
        list(iter_load('"é"\n["é", 4\n'.encode()))
    assert (info.value.line, info.value.column, info.value.offset) == (2, 8, len('"é"\n["é", 4'.encode()))
    with pytest.raises(ParseError, match="invalid UTF-8") as info:
        list(iter_load(b"1\n[2, \xff]\n", "hlxl"))
    assert info.value.line == 2


def test_a_bad_binary_record_names_its_number_and_byte_offset():
    data = to_lcb([1, 2]) + to_lcb("hello")
    with pytest.raises(ParseError) as info:
        list(iter_load(data + b"\x30\x05\x00ab"))
    error = info.value
    assert error.format == "lc-b" and error.reason.startswith("record 3: truncated input")
    assert error.offset == len(data) + 3 and error.column == error.offset + 1
    with pytest.raises(ParseError, match="record 2: unknown tag 0x99") as info:
        list(iter_load(io.BytesIO(to_lcb(1) + b"\x99")))
    assert info.value.offset == 2


def test_values_before_a_bad_record_are_yielded():
    records = iter_load(to_lcb(1) + to_lcb(2) + b"\x99")
    assert next(records) == 1 and next(records) == 2
    with pytest.raises(ParseError):
        next(records)


def test_hooks_apply_to_each_record():
    records = iter_load("&h_a\n[&h_b]\n", handle_hook=lambda handle: handle.name)
    assert list(records) == ["a", ["b"]]
    assert list(iter_load("{x: 1}\n", object_hook=len)) == [1]


def test_bad_arguments_fail_at_once():
    with pytest.raises(HLXError, match="unknown format"):
        iter_load("1", "yaml")
    with pytest.raises(HLXError, match="not int"):
        iter_load(42)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.lists(values(), max_size=5))
def test_any_values_round_trip_through_a_stream(many):
    binary = b"".join(to_lcb(value) for value in many)
    # "lc-b": without it, binary whose first line reads as a value is read as text lines
    # (a 10-character string's record starts b"0\n", and "0" is HLXL; the next test)
    assert all(values_equal(a, b) for a, b in zip(iter_load(binary, "lc-b"), many, strict=True))
    for fmt in ("hlxl", "lc-t", "lc-r", "lc-b"):
        text = "\n".join(dumps(value, fmt) for value in many)
        assert all(values_equal(a, b) for a, b in zip(iter_load(text, fmt), many, strict=True))


def test_binary_whose_first_line_reads_as_text_needs_its_format():
    binary = to_lcb("0123456789")  # tag "0", then its length, whose first byte is a newline
    assert binary.startswith(b"0\n")
    assert list(iter_load(binary, "lc-b")) == ["0123456789"]
    with pytest.raises(ParseError, match="line 2, column 1"):  # "0" is HLXL: text is tried first
        list(iter_load(binary))


def test_handles_and_contracts_survive_lines():
    value = Contract(1000, {0: "search", 1: Handle("documents")})
    assert list(iter_load(dumps(value, "lc-r") + "\n" + dumps(value, "lc-r"))) == [value, value]
