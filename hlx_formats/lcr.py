"""LC-R, the runic glyph form: ``🜊1000🜁0 "search"🜁1 ⟁documents🜂``."""

from __future__ import annotations

import re
from typing import Any

from . import _lexical as lex
from ._accelerated import FORMAT_CODES
from ._encoder import Spelling, encode
from ._fast import FastParser, Frame, Reject, check_depth, contract_frame, decode_text, framed
from .grammar import text_input
from .model import MAX_DEPTH
from .registry import get_format, register_codec

__all__ = ["to_lcr", "from_lcr", "GLYPHS", "LEGACY_GLYPHS"]

#: The glyphs of LC-R and what each means.
GLYPHS = {
    "∅": "null",
    "⊤": "true",
    "⊥": "false",
    "⊠": "the bytes prefix, followed by lower-case hex",
    "⟁": "the handle prefix, followed by the name",
    "🜊": "the contract start, followed by the id",
    "🜁": "the field marker, followed by the index, one space and the value",
    "🜂": "the contract end",
    "🜃": "the array start",
    "🜄": "the array end",
    "◇": "the object start",
    "◆": "the object end",
}
#: Legacy glyphs of the first published corpora: accepted on input, never emitted.
LEGACY_GLYPHS = {"🐊": "🜊", "🐁": "🜁", "🐂": "🜂", "🐃": "🜃", "🐄": "🜄"}

SPELLING = Spelling(
    null="∅",
    true="⊤",
    false="⊥",
    integer=str,
    string=lex.quote_string,
    bytes_=lambda data: "⊠" + data.hex(),
    handle_prefix="⟁",
    array_open="🜃",
    array_close="🜄",
    object_open="◇",
    object_close="◆",
    separator=", ",
    pair_separator=": ",
    reserved_keys=get_format("lc-r").reserved_keys,
    contract_open="🜊{}",
    field_open="🜁{} ",
    field_separator="",
    contract_close="🜂",
    compiled=FORMAT_CODES["lc-r"],
)


def to_lcr(value: Any) -> str:
    """The canonical LC-R text of ``value``; EncodeError if it is not an HLX value."""
    return encode(value, SPELLING)


def from_lcr(text: str | bytes, *, strict_reference: bool = False) -> Any:
    """The value of an LC-R text (whitespace and legacy glyphs accepted); ParseError if invalid.

    ``strict_reference=True`` uses the Lark parser only (see :func:`~hlx_formats.from_hlxl`).
    """
    return decode_text(_FastLCR, "lc-r", text_input(text, "lc-r"), strict_reference)


# --- fast decoder --------------------------------------------------------------------


_FIELD = re.compile(r"[ \t\r\n]*[🜁🐁](-?[0-9]+)[ \t\r\n]*")
_CONTRACT_END = re.compile(r"[ \t\r\n]*[🜂🐂]")
_ASCII_DIGITS = frozenset("0123456789")


class _FastLCR(FastParser):
    spelling = SPELLING
    signed_fields = False  # the field token is the glyph and its digits
    field_prefix = 1
    __slots__ = ()

    def value(self, depth: int) -> Any:
        text, pos = self.text, self.pos
        char = text[pos]
        if char == '"':
            return self.string()
        if char in "-0123456789":
            return self.number()
        if char in "🜃🐃":
            check_depth(depth, pos)
            self.pos = pos + 1
            return self.items(depth + 1, "🜄🐄")
        if char == "◇":
            check_depth(depth, pos)
            self.pos = pos + 1
            return self.pairs(depth + 1, "◆")
        if char in "🜊🐊":
            if text[pos + 1 : pos + 2] in _ASCII_DIGITS:  # a contract token only with its id
                check_depth(depth, pos)
            self.pos = pos + 1
            return self.contract_body(depth + 1)
        if char == "∅":
            self.pos = pos + 1
            return None
        if char == "⊤":
            self.pos = pos + 1
            return True
        if char == "⊥":
            self.pos = pos + 1
            return False
        if char == "⊠":
            return self.hex_bytes(1)
        if char == "⟁":
            return self.handle(1)
        raise Reject

    def contract_body(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise Reject
        contract_id = self.contract_id()
        text = self.text
        fields: list[tuple[int, Any]] = []
        seen: set[int] = set()
        pos = content = start = self.pos  # pos: where the next field begins
        match = None
        try:
            while True:
                match = _FIELD.match(text, pos)
                if match is None:
                    end = _CONTRACT_END.match(text, pos)
                    if end is None:
                        raise Reject
                    self.pos = end.end()
                    if self.pending:
                        self.closed(seen)
                    return self.contract(contract_id, fields)
                if match.end(1) == len(text):
                    raise Reject  # the digits may go on: the index is not complete yet
                self.pos = match.end()
                index = self.new_field(match, seen)
                try:
                    fields.append((index, self.value(depth)))
                except Exception as error:  # noqa: BLE001 - given up inside this field's value
                    raise framed(error, Frame("contract", content, len(fields), pos, match.end(), None, None, fields)) from None
                start, pos = pos, self.pos
        except Exception as error:  # noqa: BLE001 - given up in a field's index or after a field
            in_field = not fields or (match is not None and pos < match.end())  # before a field, or in its index
            raise framed(error, contract_frame(content, fields, start, pos, in_field=in_field)) from None


register_codec("lc-r", spelling=SPELLING, encode=to_lcr, decode=from_lcr, fast_parser=_FastLCR)
