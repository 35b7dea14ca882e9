"""LC-T, the compact ASCII form: ``{C:1000,0="search",1=@documents}``."""

from __future__ import annotations

import re
from typing import Any

from . import _lexical as lex
from ._accelerated import FORMAT_CODES
from ._encoder import Spelling, encode
from ._fast import (
    FastParser,
    Frame,
    Reject,
    check_depth,
    contract_frame,
    decode_text,
    framed,
    skip_whitespace,
)
from .grammar import text_input
from .model import CONTRACT_ID_MAX, MAX_DEPTH
from .registry import get_format, register_codec

__all__ = ["to_lct", "from_lct"]

SPELLING = Spelling(
    null="NULL",
    true="TRUE",
    false="FALSE",
    integer=str,
    string=lex.quote_string_ascii,
    bytes_=lambda data: "#" + data.hex(),
    handle_prefix="@",
    array_open="[",
    array_close="]",
    object_open="{",
    object_close="}",
    separator=",",
    pair_separator=":",
    reserved_keys=get_format("lc-t").reserved_keys,
    contract_open="{{C:{}",
    field_open=",{}=",
    field_separator="",
    contract_close="}",
    compiled=FORMAT_CODES["lc-t"],
)


def to_lct(value: Any) -> str:
    """The canonical LC-T text of ``value`` (pure ASCII); EncodeError if not an HLX value."""
    return encode(value, SPELLING)


def from_lct(text: str | bytes, *, strict_reference: bool = False) -> Any:
    """The value of an LC-T text (lenient spelling accepted); ParseError if invalid.

    ``strict_reference=True`` uses the Lark parser only (see :func:`~hlx_formats.from_hlxl`).
    """
    return decode_text(_FastLCT, "lc-t", text_input(text, "lc-t"), strict_reference)


# --- fast decoder --------------------------------------------------------------------


_WORDS = {"N": ("NULL", None), "T": ("TRUE", True), "F": ("FALSE", False)}
_CONTRACT_HEAD = re.compile(r"C[ \t\r\n]*:[ \t\r\n]*(-?[0-9]+)")  # "{C:" always opens a contract
_FIELD = re.compile(r"[ \t\r\n]*,[ \t\r\n]*(-?[0-9]+)[ \t\r\n]*=[ \t\r\n]*")
_CONTRACT_END = re.compile(r"[ \t\r\n]*\}")


class _FastLCT(FastParser):
    ascii_strings = True
    reserved_keys = SPELLING.reserved_keys
    contract_keys = frozenset({"C"})  # "{C:" opens a contract
    spelling = SPELLING
    __slots__ = ()

    def value(self, depth: int) -> Any:
        text, pos = self.text, self.pos
        char = text[pos]
        if char == '"':
            return self.string()
        if char == "[":
            check_depth(depth, pos)
            self.pos = pos + 1
            return self.items(depth + 1, "]")
        if char == "{":
            check_depth(depth, pos)
            return self.brace(pos + 1, depth + 1)
        if char in "-0123456789":
            return self.number()
        if char == "@":
            return self.handle(1)
        word = _WORDS.get(char)
        if word is not None and text.startswith(word[0], pos):
            self.pos = pos + len(word[0])
            return word[1]
        if char == "#":
            return self.hex_bytes(1)
        raise Reject

    def brace(self, pos: int, depth: int) -> Any:
        text = self.text
        pos = skip_whitespace(text, pos)
        head = _CONTRACT_HEAD.match(text, pos)
        if head is None:
            self.pos = pos
            return self.pairs(depth, "}")
        if depth > MAX_DEPTH:
            raise Reject
        contract_id = self.index_at(head.group(1), CONTRACT_ID_MAX, "contract id", head.start(1), head.end(1))
        pos = content = start = head.end()  # pos: where the next field begins
        fields: list[tuple[int, Any]] = []
        seen: set[int] = set()
        try:
            while True:
                match = _FIELD.match(text, pos)
                if match is None:
                    end = _CONTRACT_END.match(text, pos)
                    if end is None or not fields:
                        raise Reject
                    self.pos = end.end()
                    if self.pending:
                        self.closed(seen)
                    return self.contract(contract_id, fields)
                self.pos = match.end()
                index = self.new_field(match, seen)
                try:
                    fields.append((index, self.value(depth)))
                except Exception as error:  # noqa: BLE001 - given up inside this field's value
                    raise framed(error, Frame("contract", content, len(fields), pos, match.end(), None, None, fields)) from None
                start, pos = pos, self.pos
        except Exception as error:  # noqa: BLE001 - given up in a field's index or after a field
            in_field = pos == content or (match is not None and pos < match.end())  # before a field, or in its index
            raise framed(error, contract_frame(content, fields, start, pos, in_field=in_field)) from None


register_codec("lc-t", spelling=SPELLING, encode=to_lct, decode=from_lct, fast_parser=_FastLCT)
