"""LC-R, the runic glyph form: ``🜊1000🜁0 "search"🜁1 ⟁documents🜂``."""

from __future__ import annotations

from typing import Any

from . import _lexical as lex
from ._encoder import Spelling, encode
from .grammar import parse_reference, text_input

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
    reserved_keys=frozenset(),
    contract_open="🜊{}",
    field_open="🜁{} ",
    field_separator="",
    contract_close="🜂",
)


def to_lcr(value: Any) -> str:
    """The canonical LC-R text of ``value``; EncodeError if it is not an HLX value."""
    return encode(value, SPELLING)


def from_lcr(text: str | bytes) -> Any:
    """The value of an LC-R text (whitespace and legacy glyphs accepted); ParseError if invalid."""
    return parse_reference("lc-r", text_input(text, "lc-r"))
