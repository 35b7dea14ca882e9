"""HLXL, the human-readable ASCII form: ``{1000: {@0: "search", @1: &h_documents}}``."""

from __future__ import annotations

from typing import Any

from . import _lexical as lex
from ._encoder import Spelling, encode
from .grammar import parse_reference, text_input

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


def from_hlxl(text: str | bytes) -> Any:
    """The value of an HLXL text (lenient spelling accepted); ParseError if invalid."""
    return parse_reference("hlxl", text_input(text, "hlxl"))
