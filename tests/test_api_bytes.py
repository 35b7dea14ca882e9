"""``bytes`` input is read one way at every entry point: UTF-8 text first when it reads as a
value, LC-B binary otherwise (issue 30, point 5)."""

from __future__ import annotations

import pytest

from hlx_formats import (
    Contract,
    ParseError,
    convert,
    decode_as,
    detect_format,
    from_hlxl,
    from_lcb,
    from_lcr,
    from_lct,
    iter_load,
    loads,
    to_lcb,
)
from hlx_formats.cli import main

TEXT = b"[1, 2]"
BINARY = to_lcb([1, 2])
# 0x20 is the FLOAT32 tag and a space: these five bytes are both a float and the text " 123 ".
BOTH = b" 123 "


def test_convert():
    assert convert(TEXT, to="lc-t") == "[1,2]"
    assert convert(BINARY, to="lc-t") == "[1,2]"
    assert convert(BOTH, to="hlxl") == "123"
    assert convert(b"[[0x01]]", to="hlxl", frm="lc-b") == "[1]"


def test_detect_format():
    assert detect_format(TEXT) == "hlxl"
    assert detect_format(b"[1,2]") == "lc-t"
    assert detect_format("🜃1🜄".encode()) == "lc-r"
    assert detect_format(b"[[0x01]]") == "lc-b"
    assert detect_format(BINARY) == "lc-b"
    assert detect_format(BOTH) == "hlxl"


def test_detect_format_errors_tell_text_from_binary():
    with pytest.raises(ParseError) as info:
        detect_format(b"[1, 2")  # looks like text: the text error
    assert (info.value.format, info.value.column) == ("hlxl", 6)
    with pytest.raises(ParseError) as info:
        detect_format(b"\x60\x02\x00\x10")  # starts with a tag and holds controls: the binary error
    assert info.value.format == "lc-b" and "truncated" in info.value.reason
    with pytest.raises(ParseError, match="invalid UTF-8 at byte 4"):
        detect_format(b"[1, \xff]")


@pytest.mark.parametrize("decode", [from_hlxl, from_lct, from_lcr])
def test_text_decoders_read_utf8(decode):
    assert decode(b"[1,2]" if decode is not from_lcr else "🜃1, 2🜄".encode()) == [1, 2]
    with pytest.raises(ParseError, match="invalid UTF-8"):
        decode(b"[\xff]")


def test_from_lcb():
    assert from_lcb(b"[[0x01,0x02]]") == [1, 2]  # the text notation, in UTF-8
    assert from_lcb(BINARY) == [1, 2]
    assert from_lcb(b"[14|0:0x2a]") == Contract(14, {0: 42})
    assert from_lcb(b" [_] ") is None  # both a float32 and the text notation: text first
    with pytest.raises(ParseError) as info:
        from_lcb(b"[[0x01,")  # the text notation's error
    assert info.value.column == 8
    with pytest.raises(ParseError, match="unknown tag 0x34"):
        from_lcb(b"42")  # not the notation: binary


def test_loads_decode_as_and_iter_load():
    assert loads(TEXT) == loads(BINARY) == [1, 2]
    assert decode_as(TEXT, "hlxl") == decode_as(BINARY, "lc-b") == [1, 2]
    assert loads(BOTH) == 123
    assert list(iter_load(TEXT + b"\n" + TEXT)) == [[1, 2], [1, 2]]
    assert list(iter_load(BINARY + BINARY)) == [[1, 2], [1, 2]]


def test_the_command(tmp_path, capsys):
    for data, expected in ((TEXT, "[1,2]\n"), (BINARY, "[1,2]\n"), (BOTH, "123\n")):
        path = tmp_path / "input"
        path.write_bytes(data)
        assert main(["convert", "--to", "lc-t", "-i", str(path)]) == 0
        assert capsys.readouterr().out == expected
