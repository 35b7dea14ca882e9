"""HLXL, the human-readable ASCII form: ``{1000: {@0: "search", @1: &h_documents}}``."""

from __future__ import annotations

import re
from typing import Any

from . import _lexical as lex
from ._accelerated import FORMAT_CODES
from ._encoder import Spelling, encode
from ._fast import FastParser, Frame, Reject, check_depth, decode_text, framed, skip_whitespace
from .grammar import text_input
from .model import CONTRACT_ID_MAX, MAX_DEPTH
from .registry import get_format, register_codec

__all__ = ["to_hlxl", "from_hlxl"]

SPELLING = Spelling(
    null="null",
    true="true",
    false="false",
    integer=str,
    string=lex.quote_string,
    bytes_=lex.quote_bytes,
    handle_prefix="&h_",
    array_open="[",
    array_close="]",
    object_open="{",
    object_close="}",
    separator=", ",
    pair_separator=": ",
    reserved_keys=get_format("hlxl").reserved_keys,
    contract_open="{{{}: {{",
    field_open="@{}: ",
    field_separator=", ",
    contract_close="}}",
    compiled=FORMAT_CODES["hlxl"],
)


def to_hlxl(value: Any) -> str:
    """The canonical HLXL text of ``value``; EncodeError if it is not an HLX value."""
    return encode(value, SPELLING)


def from_hlxl(text: str | bytes, *, strict_reference: bool = False) -> Any:
    """The value of an HLXL text (lenient spelling accepted); ParseError if invalid.

    The fast decoder reads it; ``strict_reference=True`` uses the Lark parser only (the two
    agree on every input; errors are always worded by the reference).
    """
    return decode_text(_FastHLXL, "hlxl", text_input(text, "hlxl"), strict_reference)


# --- fast decoder --------------------------------------------------------------------

_CONTRACT_OPEN = re.compile(r"(-?[0-9]+)[ \t\r\n]*:[ \t\r\n]*\{[ \t\r\n]*")
_FIELD = re.compile(r"@([0-9]+)[ \t\r\n]*:[ \t\r\n]*")
_NEXT_FIELD = re.compile(r"[ \t\r\n]*,[ \t\r\n]*@([0-9]+)[ \t\r\n]*:[ \t\r\n]*")
_CONTRACT_END = re.compile(r"[ \t\r\n]*\}[ \t\r\n]*\}")
_WORDS = {"n": ("null", None), "t": ("true", True), "f": ("false", False)}
_BYTES = re.compile(r'b"(?:[ !#-\[\]-~]|\\x[0-9a-fA-F]{2}|\\["\\nrt])*"')


class _FastHLXL(FastParser):
    reserved_keys = SPELLING.reserved_keys
    spelling = SPELLING
    field_prefix = 1  # the field token is "@" and its digits
    __slots__ = ()

    def value(self, depth: int) -> Any:
        text, pos = self.text, self.pos
        char = text[pos]
        if char == '"':
            return self.string()
        if char == "{":
            check_depth(depth, pos)
            pos = skip_whitespace(text, pos + 1)
            self.pos = pos
            if text[pos] in "-0123456789":
                return self.contract_body(depth + 1)
            return self.pairs(depth + 1, "}")
        if char == "[":
            check_depth(depth, pos)
            self.pos = pos + 1
            return self.items(depth + 1, "]")
        if char in "-0123456789":
            return self.number()
        if char == "&":
            if not text.startswith("&h_", pos):
                raise Reject
            return self.handle(3)
        word = _WORDS.get(char)
        if word is not None and text.startswith(word[0], pos):
            self.pos = pos + len(word[0])
            return word[1]
        if char == "b":
            match = _BYTES.match(text, pos)
            if match is None:
                raise Reject
            self.pos = match.end()
            return lex.unquote_bytes(match.group())
        raise Reject

    def contract_body(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise Reject
        text = self.text
        match = _CONTRACT_OPEN.match(text, self.pos)
        if match is None:
            raise Reject
        contract_id = self.index_at(match.group(1), CONTRACT_ID_MAX, "contract id", match.start(1), match.end(1))
        fields: list[tuple[int, Any]] = []
        seen: set[int] = set()
        content, end = match.end(), -1  # end: where the last whole field's value ends
        field = match = _FIELD.match(text, content)
        try:
            while match is not None:
                field = match
                self.pos = match.end()
                index = self.new_field(match, seen)
                try:
                    fields.append((index, self.value(depth)))
                except Exception as error:  # noqa: BLE001 - given up inside this field's value
                    frame = Frame("contract", content, len(fields), match.start(1) - 1, match.end(), None, None, fields)
                    raise framed(error, frame) from None
                end = self.pos
                match = _NEXT_FIELD.match(text, end)
            close = _CONTRACT_END.match(text, self.pos)
            if close is None:
                raise Reject
            self.pos = close.end()
            if self.pending:
                self.closed(seen)
            return self.contract(contract_id, fields)
        except Exception as error:  # noqa: BLE001 - given up in a field's index or after a field
            if field is None:
                frame = Frame("contract", content, 0, content, content, None, None, fields)
            elif end < field.end():  # in this field's index
                frame = Frame("contract", content, len(fields), field.start(1) - 1, field.end(), None, None, fields)
            else:
                frame = Frame("contract", content, len(fields), field.start(1) - 1, field.end(), end, fields[-1][1], fields)
            raise framed(error, frame) from None


register_codec("hlxl", spelling=SPELLING, encode=to_hlxl, decode=from_hlxl, fast_parser=_FastHLXL)
