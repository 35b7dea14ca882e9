"""Shared parts of the fast decoders (one per format, beside each format's Lark parser).

A fast decoder reads valid input quickly and gives up on anything else by raising
:class:`Reject`; the caller then runs the Lark reference parser, which produces the value or
the ParseError (with its position and message). So a fast decoder never decides what an
error says, and the differential tests hold it to the reference on every input.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

from . import _lexical as lex
from .model import CONTRACT_ID_MAX, FIELD_INDEX_MAX, INT_MAX, INT_MIN, MAX_DEPTH, Contract, Handle

__all__ = [
    "Reject",
    "Repeated",
    "TooDeep",
    "check_depth",
    "FastParser",
    "decode_text",
    "index_value",
    "new_field_index",
    "repeats_in_prefix",
    "skip_whitespace",
]


class Reject(Exception):
    """The fast decoder does not accept this input (the reference parser will say why)."""


class TooDeep(Reject):
    """An opener past MAX_DEPTH, at ``offset``: the reference parser reports exactly this
    (it stops at the first such opener), so the fast path raises its ParseError itself."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


def check_depth(depth: int, offset: int) -> None:
    """TooDeep if a container opened at ``offset`` inside ``depth`` levels is one too many."""
    if depth >= MAX_DEPTH:
        raise TooDeep(offset)


class Repeated(Reject):
    """A key or field index repeats. Raised as soon as the repeat's separator is read, so the
    beginning of a text shows it (constrained decoding steers away from it that way)."""


_WS = re.compile(r"[ \t\r\n]*")
# Patterns ending in * match at every position: their match() is typed as never returning None.
_WS_MATCH = cast("Callable[[str, int], re.Match[str]]", _WS.match)
_WS_CHARS = frozenset(" \t\r\n")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_DIGITS = re.compile(r"-?[0-9]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEX = re.compile(r"[0-9a-fA-F]*")
_HEX_MATCH = cast("Callable[[str, int], re.Match[str]]", _HEX.match)
_PLAIN_STRING = re.compile(r'"([^"\\\x00-\x1f\x7f]*)"')
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f\x7f]|\\["\\bfnrt]|\\u[0-9a-fA-F]{4})*"')
_PLAIN_ASCII_STRING = re.compile(r'"([ !#-\[\]-~]*)"')
_ASCII_STRING = re.compile(r'"(?:[ !#-\[\]-~]|\\["\\bfnrt]|\\u[0-9a-fA-F]{4})*"')
_SURROGATE = re.compile("[\ud800-\udfff]")


def index_value(digits: str, maximum: int) -> int:
    """A contract id or field index from its digits: no sign, no leading zero, in range."""
    if digits[0] == "-" or (len(digits) > 1 and digits[0] == "0") or len(digits) > 5:
        raise Reject
    value = int(digits)
    if value > maximum:
        raise Reject
    return value


def skip_whitespace(text: str, pos: int) -> int:
    """``pos`` moved past any whitespace."""
    return _WS_MATCH(text, pos).end() if text[pos] in _WS_CHARS else pos


def decode_text(parser: type[FastParser], fmt: str, text: str, strict_reference: bool) -> Any:
    """The value of ``text``: the fast decoder's when it accepts the text, else the Lark
    reference parser's (which also raises every ParseError but one: nesting past MAX_DEPTH,
    which the fast decoder reports at the same opener the reference would)."""
    from .grammar import check_reference, error_at, parse_reference, strip_bom

    if not strict_reference:
        try:
            return parser.parse(text)
        except TooDeep as too_deep:
            raise error_at(fmt, strip_bom(text), too_deep.offset, f"nesting deeper than {MAX_DEPTH} levels") from None
        except Exception:  # noqa: BLE001 - anything the fast path does not take, the reference judges
            pass
        check_reference(fmt, text)  # a syntax error costs no tree
    return parse_reference(fmt, text)


def repeats_in_prefix(parse: Callable[[str], Any], text: str) -> bool:
    """Whether ``text``, the beginning of a text in the format of ``parse`` (a fast parser's
    ``parse``), already repeats a key or a field index (a key counts once the separator after
    it is written)."""
    try:
        parse(text)
    except Repeated:
        return True
    except Exception:  # noqa: BLE001 - the text ends early (or is not the format): no repeat seen
        return False
    return False


def new_field_index(digits: str, seen: set[int]) -> int:
    """A field index from its digits (no sign, no leading zero, 0..255), recorded in ``seen``;
    :class:`Repeated` if it is there already."""
    index = index_value(digits, FIELD_INDEX_MAX)
    if index in seen:
        raise Repeated
    seen.add(index)
    return index


class FastParser:
    """Recursive descent over a ``str``; subclasses supply ``value`` for their format."""

    ascii_strings = False
    reserved_keys: frozenset[str] = frozenset()

    __slots__ = ("text", "pos")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    @classmethod
    def parse(cls, text: str) -> Any:
        if text.startswith("\ufeff"):  # a byte-order mark, read as the reference reads it
            text = text[1:]
        parser = cls(text)
        parser.skip()
        value = parser.top()
        parser.skip()
        if parser.pos != len(text):
            raise Reject
        return value

    def top(self) -> Any:
        return self.value(0)

    def value(self, depth: int) -> Any:  # pragma: no cover - every format overrides it
        raise NotImplementedError

    # --- whitespace and punctuation ------------------------------------------------

    def skip(self) -> None:
        text, pos = self.text, self.pos
        if pos < len(text) and text[pos] in _WS_CHARS:
            self.pos = _WS_MATCH(text, pos).end()

    def expect(self, literal: str) -> None:
        self.skip()
        if not self.text.startswith(literal, self.pos):
            raise Reject
        self.pos += len(literal)
        self.skip()

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos : self.pos + 1]

    # --- scalars -------------------------------------------------------------------

    def number(self) -> Any:
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            raise Reject
        self.pos = match.end()
        if match.lastindex is None:  # neither a fraction nor an exponent
            try:
                value = lex.read_decimal(match.group())
            except lex.LexicalError:
                raise Reject from None
            if not INT_MIN <= value <= INT_MAX:
                raise Reject
            return value
        result = float(match.group())
        if result in (float("inf"), float("-inf")):
            raise Reject
        return result

    def string(self) -> str:
        text, pos = self.text, self.pos
        plain = (_PLAIN_ASCII_STRING if self.ascii_strings else _PLAIN_STRING).match(text, pos)
        if plain is not None:
            self.pos = plain.end()
            body = plain.group(1)
            if not body.isascii() and _SURROGATE.search(body):
                raise Reject
            return body
        match = (_ASCII_STRING if self.ascii_strings else _STRING).match(text, pos)
        if match is None:
            raise Reject
        self.pos = match.end()
        try:
            return lex.unquote_string(match.group())
        except lex.LexicalError:
            raise Reject from None

    def name(self) -> str:
        match = _NAME.match(self.text, self.pos)
        if match is None:
            raise Reject
        self.pos = match.end()
        return match.group()

    def handle(self, prefix_length: int) -> Handle:
        match = _NAME.match(self.text, self.pos + prefix_length)
        if match is None:
            raise Reject
        self.pos = match.end()
        return Handle._from_checked(match.group())

    def hex_bytes(self, prefix_length: int) -> bytes:
        self.pos += prefix_length
        match = _HEX_MATCH(self.text, self.pos)
        digits = match.group()
        if len(digits) % 2:
            raise Reject
        self.pos = match.end()
        return bytes.fromhex(digits)

    def index(self, maximum: int) -> int:
        """A contract id or field index: decimal digits, no sign, no leading zero."""
        match = _DIGITS.match(self.text, self.pos)
        if match is None:
            raise Reject
        value = index_value(match.group(), maximum)
        self.pos = match.end()
        return value

    def contract_id(self) -> int:
        return self.index(CONTRACT_ID_MAX)

    def field_index(self) -> int:
        return self.index(FIELD_INDEX_MAX)

    def key(self) -> str:
        if self.text.startswith('"', self.pos):
            return self.string()
        name = self.name()
        if name in self.reserved_keys:
            raise Reject
        return name

    # --- containers ----------------------------------------------------------------

    def items(self, depth: int, closers: str) -> list[Any]:
        """Comma-separated values up to one of ``closers`` (the opener already read)."""
        if depth > MAX_DEPTH:
            raise Reject
        text = self.text
        result: list[Any] = []
        pos = self.pos
        if text[pos] in _WS_CHARS:
            pos = _WS_MATCH(text, pos).end()
        if text[pos] in closers:
            self.pos = pos + 1
            return result
        append, value = result.append, self.value
        while True:
            self.pos = pos
            append(value(depth))
            pos = self.pos
            char = text[pos]
            if char in _WS_CHARS:
                pos = _WS_MATCH(text, pos).end()
                char = text[pos]
            pos += 1
            if char == ",":
                if text[pos] in _WS_CHARS:
                    pos += 1  # one space (canonical HLXL); more is rare
                    if text[pos] in _WS_CHARS:
                        pos = _WS_MATCH(text, pos).end()
                continue
            if char in closers:
                self.pos = pos
                return result
            raise Reject

    def pairs(self, depth: int, closers: str) -> dict[str, Any]:
        """``key: value`` pairs up to one of ``closers`` (the opener already read)."""
        if depth > MAX_DEPTH:
            raise Reject
        text = self.text
        result: dict[str, Any] = {}
        pos = self.pos
        if text[pos] in _WS_CHARS:
            pos = _WS_MATCH(text, pos).end()
        if text[pos] in closers:
            self.pos = pos + 1
            return result
        value, reserved = self.value, self.reserved_keys
        while True:
            if text[pos] == '"':
                self.pos = pos
                key = self.string()
                pos = self.pos
            else:
                match = _NAME.match(text, pos)
                if match is None:
                    raise Reject
                key = match.group()
                if key in reserved:
                    raise Reject
                pos = match.end()
            if text[pos] in _WS_CHARS:
                pos = _WS_MATCH(text, pos).end()
            if text[pos] != ":":
                raise Reject
            if key in result:
                raise Repeated
            pos += 1
            if text[pos] in _WS_CHARS:
                pos += 1  # one space (canonical HLXL); more is rare
                if text[pos] in _WS_CHARS:
                    pos = _WS_MATCH(text, pos).end()
            self.pos = pos
            result[key] = value(depth)
            pos = self.pos
            char = text[pos]
            if char in _WS_CHARS:
                pos = _WS_MATCH(text, pos).end()
                char = text[pos]
            pos += 1
            if char == ",":
                if text[pos] in _WS_CHARS:
                    pos += 1  # one space (canonical HLXL); more is rare
                    if text[pos] in _WS_CHARS:
                        pos = _WS_MATCH(text, pos).end()
                continue
            if char in closers:
                self.pos = pos
                return result
            raise Reject

    @staticmethod
    def contract(contract_id: int, fields: list[tuple[int, Any]]) -> Contract:
        """A contract from fields whose indices :func:`new_index` has checked."""
        if not fields:
            raise Reject
        return Contract._from_checked(contract_id, fields)
