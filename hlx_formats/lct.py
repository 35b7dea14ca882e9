"""LC-T, the compact ASCII form: ``{C:1000,0="search",1=@documents}``."""

from __future__ import annotations

from typing import Any

from . import _lexical as lex
from ._encoder import Spelling, encode
from ._fast import FastParser, Reject, decode_text, new_index
from .grammar import text_input
from .model import MAX_DEPTH

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
    reserved_keys=frozenset({"NULL", "TRUE", "FALSE", "C"}),
    contract_open="{{C:{}",
    field_open=",{}=",
    field_separator="",
    contract_close="}",
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


class _FastLCT(FastParser):
    ascii_strings = True
    reserved_keys = SPELLING.reserved_keys
    __slots__ = ()

    def value(self, depth: int) -> Any:
        text, pos = self.text, self.pos
        char = text[pos]
        if char == '"':
            return self.string()
        if char == "[":
            self.pos = pos + 1
            return self.items(depth + 1, "]")
        if char == "{":
            self.pos = pos + 1
            return self.brace(depth + 1)
        if char in "-0123456789":
            return self.number()
        for word, result in (("NULL", None), ("TRUE", True), ("FALSE", False)):
            if text.startswith(word, pos):
                self.pos = pos + len(word)
                return result
        if char == "#":
            return self.hex_bytes(1)
        if char == "@":
            return self.handle(1)
        raise Reject

    def brace(self, depth: int) -> Any:
        self.skip()
        text = self.text
        if text[self.pos] == "}" or text[self.pos] == '"':
            return self.pairs(depth, "}")
        name = self.name()
        if name != "C":
            if name in self.reserved_keys:
                raise Reject
            return self.pairs(depth, "}", first_key=name)
        if depth > MAX_DEPTH:
            raise Reject
        self.expect(":")
        contract_id = self.contract_id()
        fields: list[tuple[int, Any]] = []
        seen: set[int] = set()
        while True:
            self.skip()
            char = text[self.pos]
            self.pos += 1
            if char == "}" and fields:
                return self.contract(contract_id, fields)
            if char != ",":
                raise Reject
            self.skip()
            index = self.field_index()
            self.expect("=")
            fields.append((new_index(index, seen), self.value(depth)))
