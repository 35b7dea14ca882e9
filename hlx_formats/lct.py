"""LC-T, the compact ASCII form: ``{C:1000,0="search",1=@documents}``."""

from __future__ import annotations

from typing import Any

from . import _lexical as lex
from ._encoder import Spelling, encode
from .grammar import parse_reference, text_input

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


def from_lct(text: str | bytes) -> Any:
    """The value of an LC-T text (lenient spelling accepted); ParseError if invalid."""
    return parse_reference("lc-t", text_input(text, "lc-t"))
