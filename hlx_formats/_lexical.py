"""Spelling of the scalar kinds, shared by the formats: strings, bytes, numbers.

Encoders raise EncodeError. Decoders take the text of one token, already matched by the
grammar, and raise LexicalError with an offset inside the token; the parser turns that
into a ParseError with line and column.
"""

from __future__ import annotations

import re

from .errors import EncodeError
from .model import INT_MAX, INT_MIN, MAX_INT_DIGITS, check_float, safe_repr

__all__ = [
    "LexicalError",
    "quote_string",
    "quote_string_ascii",
    "unquote_string",
    "quote_bytes",
    "unquote_bytes",
    "bytes_from_hex",
    "check_int",
    "read_decimal",
    "parse_int",
    "parse_hex_int",
    "parse_float",
    "format_float",
    "format_hex_int",
    "parse_index",
]

_SURROGATE = re.compile("[\ud800-\udfff]")


class LexicalError(Exception):
    """A token that matched the grammar but breaks a rule of the data model."""

    def __init__(self, reason: str, offset: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


# --- strings -------------------------------------------------------------------------

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_CONTROL_ESCAPES = {chr(code): f"\\u{code:04x}" for code in [*range(0x20), 0x7F]}
_STRING_ESCAPES = {**_CONTROL_ESCAPES, **_SHORT_ESCAPES}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')
_NEEDS_ESCAPE_ASCII = re.compile('["\\\\\x00-\x1f\x7f-\U0010ffff]')


def _escape_char(match: re.Match[str]) -> str:
    return _STRING_ESCAPES[match.group()]


def _escape_char_ascii(match: re.Match[str]) -> str:
    char = match.group()
    escape = _STRING_ESCAPES.get(char)
    if escape is not None:
        return escape
    code = ord(char)
    if code > 0xFFFF:  # a surrogate pair, as JSON writes it
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _check_no_surrogate(text: str, kind: str) -> None:
    if not text.isascii():
        found = _SURROGATE.search(text)
        if found:
            raise EncodeError(kind, f"lone surrogate U+{ord(found.group()):04X} at index {found.start()} is not a Unicode scalar value")


def quote_string(text: str, kind: str = "string") -> str:
    """``"..."`` with the short escapes and ``\\u00XX`` for other controls; the rest raw."""
    _check_no_surrogate(text, kind)
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, text) + '"'


def quote_string_ascii(text: str, kind: str = "string") -> str:
    """Like :func:`quote_string`, but every non-ASCII character as ``\\uXXXX``."""
    _check_no_surrogate(text, kind)
    return '"' + _NEEDS_ESCAPE_ASCII.sub(_escape_char_ascii, text) + '"'


_UNESCAPE = re.compile(r'\\(?:u([0-9a-fA-F]{4})|(["\\bfnrt]))')
_SHORT_UNESCAPES = {'"': '"', "\\": "\\", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def unquote_string(token: str) -> str:
    """The value of a string token (quotes included) that the grammar has matched."""
    body = token[1:-1]
    if "\\" not in body:
        if not body.isascii():
            found = _SURROGATE.search(body)
            if found:
                raise LexicalError("lone surrogate in string", found.start() + 1)
        return body
    pieces: list[str] = []
    position = 0
    pending_high = -1  # offset (in body) of a \uD8xx escape waiting for its low half
    high_code = 0
    for match in _UNESCAPE.finditer(body):
        start = match.start()
        if pending_high >= 0 and start != position:
            raise LexicalError("lone surrogate escape in string", pending_high + 1)
        pieces.append(body[position:start])
        position = match.end()
        hex_digits = match.group(1)
        if hex_digits is None:
            if pending_high >= 0:
                raise LexicalError("lone surrogate escape in string", pending_high + 1)
            pieces.append(_SHORT_UNESCAPES[match.group(2)])
            continue
        code = int(hex_digits, 16)
        if 0xD800 <= code <= 0xDBFF:
            if pending_high >= 0:
                raise LexicalError("lone surrogate escape in string", pending_high + 1)
            pending_high, high_code = start, code
        elif 0xDC00 <= code <= 0xDFFF:
            if pending_high < 0:
                raise LexicalError("lone surrogate escape in string", start + 1)
            pieces.append(chr(0x10000 + ((high_code - 0xD800) << 10) + (code - 0xDC00)))
            pending_high = -1
        else:
            pieces.append(chr(code))
    if pending_high >= 0:
        raise LexicalError("lone surrogate escape in string", pending_high + 1)
    tail = body[position:]
    found = _SURROGATE.search(tail) if tail and not tail.isascii() else None
    if found:
        raise LexicalError("lone surrogate in string", position + found.start() + 1)
    pieces.append(tail)
    result = "".join(pieces)
    return result


# --- bytes ---------------------------------------------------------------------------

# HLXL b"...": printable ASCII raw except " and \, everything else \xHH.
_BYTE_SPELLING = [chr(b) if 0x20 <= b <= 0x7E and b not in (0x22, 0x5C) else f"\\x{b:02x}" for b in range(256)]


def quote_bytes(data: bytes) -> str:
    return 'b"' + "".join([_BYTE_SPELLING[b] for b in data]) + '"'


_BYTES_UNESCAPE = re.compile(r'\\(?:x([0-9a-fA-F]{2})|(["\\nrt]))')
_BYTES_SHORT = {'"': b'"', "\\": b"\\", "n": b"\n", "r": b"\r", "t": b"\t"}


def _unescape_byte(match: re.Match[str]) -> str:
    hex_digits = match.group(1)
    if hex_digits is not None:
        return chr(int(hex_digits, 16))
    return chr(_BYTES_SHORT[match.group(2)][0])


def unquote_bytes(token: str) -> bytes:
    """The value of an HLXL ``b"..."`` token that the grammar has matched."""
    body = token[2:-1]
    if "\\" in body:
        body = _BYTES_UNESCAPE.sub(_unescape_byte, body)
    return body.encode("latin-1")


def bytes_from_hex(token: str, prefix_length: int) -> bytes:
    digits = token[prefix_length:]
    if len(digits) % 2:
        raise LexicalError("odd number of hex digits in bytes", len(token) - 1)
    return bytes.fromhex(digits)


# --- numbers -------------------------------------------------------------------------


def check_int(value: int) -> None:
    if not INT_MIN <= value <= INT_MAX:
        raise EncodeError("integer", f"{safe_repr(value)} is outside the range -2**63 .. 2**64-1")


# Digits of INT_MAX: a literal with more significant digits is outside every range of the model.
_SIGNIFICANT_DIGITS = len(str(INT_MAX))


def read_decimal(token: str) -> int:
    """The integer of a decimal literal ``-?[0-9]+``, read without Python's int/str limit.

    A literal of more than MAX_INT_DIGITS digits is a LexicalError that names the limit; one
    with more significant digits than INT_MAX is read as INT_MAX + 1 (its sign kept), which
    every range check of the model rejects, so no long conversion ever runs.
    """
    negative = token.startswith("-")
    digits = token[1:] if negative else token
    if len(digits) > MAX_INT_DIGITS:
        raise LexicalError(f"integer literal of {len(digits)} digits is longer than the limit of {MAX_INT_DIGITS} digits")
    significant = digits.lstrip("0")
    magnitude = INT_MAX + 1 if len(significant) > _SIGNIFICANT_DIGITS else int(significant or "0")
    return -magnitude if negative else magnitude


def parse_int(token: str) -> int:
    value = read_decimal(token)
    if not INT_MIN <= value <= INT_MAX:
        raise LexicalError("integer outside the range -2**63 .. 2**64-1")
    return value


def parse_hex_int(token: str) -> int:
    """A hex literal ``-?0x[0-9a-fA-F]+`` (Python's int/str limit does not apply to base 16)."""
    value = int(token, 16)
    if not INT_MIN <= value <= INT_MAX:
        raise LexicalError("integer outside the range -2**63 .. 2**64-1")
    return value


def parse_float(token: str) -> float:
    value = float(token)
    if value in (float("inf"), float("-inf")):
        raise LexicalError("float outside the range of an IEEE-754 double")
    return value


def format_float(value: float) -> str:
    """Python's repr, with ``.0`` before an exponent whose mantissa has no point."""
    check_float(value)
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        return f"{mantissa}e{exponent}"
    return text


def format_hex_int(value: int) -> str:
    """LC-B text integers: lower-case hex padded to whole bytes, sign first."""
    digits = f"{abs(value):x}"
    if len(digits) % 2:
        digits = "0" + digits
    return f"-0x{digits}" if value < 0 else f"0x{digits}"


def parse_index(token: str, maximum: int, what: str) -> int:
    """A contract id or field index, possibly behind a glyph or '@' and before a space."""
    text = token.rstrip()
    if "x" in text:
        raise LexicalError(f"{what} must be a decimal integer", 0)
    start = len(text)
    while start > 0 and (text[start - 1].isdigit() or text[start - 1] == "-"):
        start -= 1
    digits = text[start:]
    if digits.startswith("-"):
        raise LexicalError(f"{what} must not be negative", start)
    if len(digits) > 1 and digits[0] == "0":
        raise LexicalError(f"{what} {digits} has a leading zero", start)
    try:
        value = read_decimal(digits)
    except LexicalError as error:
        raise LexicalError(error.reason, start) from None
    if value > maximum:
        raise LexicalError(f"{what} {digits} is outside 0..{maximum}", start)
    return value
