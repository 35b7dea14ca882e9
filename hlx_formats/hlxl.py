"""HLXL, the human-readable ASCII form: ``{1000: {@0: "search", @1: &h_documents}}``."""

from __future__ import annotations

import re
from typing import Any

from . import _lexical as lex
from ._encoder import Spelling, encode
from ._fast import FastParser, Reject
from .grammar import parse_reference, text_input
from .model import MAX_DEPTH

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
    reserved_keys=frozenset({"null", "true", "false"}),
    contract_open="{{{}: {{",
    field_open="@{}: ",
    field_separator=", ",
    contract_close="}}",
)


def to_hlxl(value: Any) -> str:
    """The canonical HLXL text of ``value``; EncodeError if it is not an HLX value."""
    return encode(value, SPELLING)


def from_hlxl(text: str | bytes, *, strict_reference: bool = False) -> Any:
    """The value of an HLXL text (lenient spelling accepted); ParseError if invalid.

    The fast decoder reads it; ``strict_reference=True`` uses the Lark parser only (the two
    agree on every input; errors always come from the Lark parser).
    """
    text = text_input(text, "hlxl")
    if not strict_reference:
        try:
            return _FastHLXL.parse(text)
        except Exception:  # noqa: BLE001 - anything the fast path does not take, the reference judges
            pass
    return parse_reference("hlxl", text)


# --- fast decoder --------------------------------------------------------------------

_BYTES = re.compile(r'b"(?:[ !#-\[\]-~]|\\x[0-9a-fA-F]{2}|\\["\\nrt])*"')


class _FastHLXL(FastParser):
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
            self.skip()
            if text[self.pos] in "-0123456789":
                return self.contract_body(depth + 1)
            return self.pairs(depth + 1, "}")
        if char in "-0123456789":
            return self.number()
        for word, result in (("null", None), ("true", True), ("false", False)):
            if text.startswith(word, pos):
                self.pos = pos + len(word)
                return result
        if text.startswith('b"', pos):
            match = _BYTES.match(text, pos)
            if match is None:
                raise Reject
            self.pos = match.end()
            return lex.unquote_bytes(match.group())
        if text.startswith("&h_", pos):
            return self.handle(3)
        raise Reject

    def contract_body(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise Reject
        contract_id = self.contract_id()
        self.expect(":")
        self.expect("{")
        fields = []
        while True:
            if self.text[self.pos] != "@":
                raise Reject
            self.pos += 1
            index = self.field_index()
            self.expect(":")
            fields.append((index, self.value(depth)))
            self.skip()
            char = self.text[self.pos]
            self.pos += 1
            if char == ",":
                self.skip()
                continue
            if char == "}":
                break
            raise Reject
        self.expect("}")
        return self.contract(contract_id, fields)
