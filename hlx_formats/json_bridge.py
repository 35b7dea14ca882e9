"""The JSON bridge: every HLX value as JSON and back, without loss.

The mapping (docs/api.md, "The JSON bridge"): null, booleans, strings and arrays are
themselves; an integer is a JSON integer and a float a JSON number with a fraction or an
exponent (``1.0``), which is how the two stay apart; an object is an object whose keys that
start with ``@`` get one more ``@``; the other kinds are one-tag objects whose first key starts
with a single ``@``: ``{"@bytes": "00ff"}`` (lower-case hex), ``{"@handle": "documents"}``
and ``{"@contract": 14, "fields": {"0": 42}}``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._encoder import indent_text, plain_kind
from .errors import HLXError
from .grammar import error_at, strip_bom
from .hooks import Default, encode_with
from .lct import to_lct
from .model import FIELD_INDEX_MAX, IDENTIFIER, INT_MAX, INT_MIN, MAX_DEPTH, Contract, Handle

__all__ = ["to_json", "from_json", "to_plain_json", "from_plain_json"]

_BYTES, _HANDLE, _CONTRACT, _FIELDS = "@bytes", "@handle", "@contract", "fields"


def to_json(value: Any, *, default: Default | None = None, indent: int | str | None = None, sort_keys: bool = False) -> str:
    """The JSON text of ``value`` in the bridge's mapping (UTF-8 characters unescaped).

    ``value`` is checked as the HLX encoders check it (the same EncodeError at the same path);
    ``default``, ``indent`` and ``sort_keys`` mean what they mean to :func:`~hlx_formats.dumps`
    (``indent`` as json's: spaces, or a string).
    """
    checked = encode_with(_checked, value, default, sort_keys)
    spaces = None if indent is None else indent_text(indent)
    return json.dumps(to_plain_json(checked), ensure_ascii=False, allow_nan=False, check_circular=False, indent=spaces)


def _checked(value: Any) -> Any:
    """``value`` itself, once the LC-T encoder has found it to be an HLX value (else its error)."""
    to_lct(value)
    return value


def to_plain_json(value: Any) -> Any:
    """``value`` (a checked HLX value) in the kinds ``json`` writes, in the bridge's mapping."""
    kind = type(value)
    if kind is list:
        return [to_plain_json(item) for item in value]
    if kind is dict:
        return {("@" + key if key.startswith("@") else key): to_plain_json(item) for key, item in value.items()}
    if kind is bytes:
        return {_BYTES: value.hex()}
    if kind is Handle:
        return {_HANDLE: value.name}
    if kind is Contract:
        return {_CONTRACT: value.id, _FIELDS: {str(index): to_plain_json(item) for index, item in value.items()}}
    if value is None or kind in (bool, int, float, str):
        return value
    return to_plain_json(plain_kind(value))  # a subclass: an IntEnum, an OrderedDict...


def from_json(data: str | bytes) -> Any:
    """The HLX value of a JSON text (``str``, or UTF-8 ``bytes``) in the bridge's mapping.

    A ParseError (format ``"json"``, with line and column) for text that is not JSON, and for
    JSON that is no HLX value: NaN or an infinity, an integer outside -2**63 .. 2**64-1, a
    duplicate key, a lone surrogate, nesting deeper than MAX_DEPTH, a malformed tag.
    """
    text = _json_text(data)
    try:
        plain = json.loads(text, object_pairs_hook=_Pairs, parse_constant=_constant, parse_int=_integer, parse_float=_float)
    except json.JSONDecodeError as error:
        raise error_at("json", text, error.pos, error.msg) from None
    except RecursionError:
        raise error_at("json", text, _too_deep(text), f"nesting deeper than {MAX_DEPTH} levels") from None
    try:
        return from_plain_json(plain)
    except _Invalid as invalid:
        raise error_at("json", text, _locate(text, invalid.path), invalid.reason) from None


def _json_text(data: str | bytes) -> str:
    """The text of ``data``, less a byte-order mark at the start (as the HLX decoders)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        try:
            data = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            good = raw[: error.start].decode("utf-8")
            raise error_at("json", good, len(good), f"invalid UTF-8 at byte {error.start}") from None
    if not isinstance(data, str):
        raise HLXError(f"JSON input must be str or bytes, not {type(data).__name__}")
    return strip_bom(data)


# --- reading: json's kinds to HLX values ---------------------------------------------


class _Pairs(list[tuple[str, Any]]):
    """An object's pairs as json read them (duplicates and order kept, for the checks)."""


class _Bad:
    """A number json read that is no HLX value, told when its path is known."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Invalid(Exception):
    """JSON that is no HLX value: why, and where (each container's member position)."""

    def __init__(self, reason: str, path: list[int]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


def _constant(name: str) -> _Bad:
    return _Bad(f"{name} is not allowed (NaN and infinities are rejected)")


def _integer(digits: str) -> int | _Bad:
    if len(digits.lstrip("-")) <= 20:  # longer ones are out of range; int() is never asked
        value = int(digits)
        if INT_MIN <= value <= INT_MAX:
            return value
    shown = digits if len(digits) <= 30 else f"{digits[:27]}..."
    return _Bad(f"integer {shown} is outside the range -2**63 .. 2**64-1")


def _float(digits: str) -> float | _Bad:
    value = float(digits)
    if value in (float("inf"), float("-inf")):
        return _Bad(f"{digits} is too large for a float (infinities are rejected)")
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*\Z")
_INDEX = re.compile(r"(?:0|[1-9][0-9]{0,2})\Z")


def from_plain_json(plain: Any, path: list[int] | None = None, depth: int = 0) -> Any:
    """The HLX value of what ``json.loads`` read (objects as :class:`_Pairs`); _Invalid if none."""
    path = [] if path is None else path
    kind = type(plain)
    if kind is str:
        _check_text(plain, "string", path)
        return plain
    if kind is _Bad:
        raise _Invalid(plain.reason, path)
    if kind is list or kind is _Pairs:
        if depth >= MAX_DEPTH:
            raise _Invalid(f"nesting deeper than {MAX_DEPTH} levels", path)
        if kind is list:
            return [from_plain_json(item, [*path, position], depth + 1) for position, item in enumerate(plain)]
        if plain and plain[0][0].startswith("@") and not plain[0][0].startswith("@@"):
            return _tagged(plain, path, depth)
        return _object(plain, path, depth)
    return plain  # None, bool, int, float


def _check_text(text: str, what: str, path: list[int]) -> None:
    if not text.isascii() and (found := _SURROGATE.search(text)):
        raise _Invalid(f"{what} holds a lone surrogate U+{ord(found.group()):04X}, which is not a Unicode scalar value", path)


def _object(pairs: _Pairs, path: list[int], depth: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for position, (key, item) in enumerate(pairs):
        where = [*path, position]
        _check_text(key, "object key", where)
        if key.startswith("@"):
            if not key.startswith("@@"):
                raise _Invalid(f"object key {key!r}: a key that starts with '@' is written '@{key}' (a single '@' starts a tag)", where)
            key = key[1:]
        if key in result:
            raise _Invalid(f"duplicate key {key!r}", where)
        result[key] = from_plain_json(item, where, depth + 1)
    return result


def _tagged(pairs: _Pairs, path: list[int], depth: int) -> Any:
    """A bytes, handle or contract value written as a tag object."""
    tag, content = pairs[0]
    keys = [key for key, _ in pairs]
    if tag == _BYTES and keys == [_BYTES]:
        if type(content) is not str or not _HEX.match(content):
            raise _Invalid('"@bytes" takes a string of hex digits, two per byte', [*path, 0])
        return bytes.fromhex(content)
    if tag == _HANDLE and keys == [_HANDLE]:
        if type(content) is not str or not IDENTIFIER.match(content):
            raise _Invalid(f'"@handle" takes an identifier [A-Za-z_][A-Za-z0-9_]*, not {content!r}', [*path, 0])
        return Handle(content)
    if tag == _CONTRACT and keys == [_CONTRACT, _FIELDS]:
        return _contract(content, pairs[1][1], path, depth)
    shapes = '{"@bytes": HEX}, {"@handle": NAME}, {"@contract": ID, "fields": {...}}'
    raise _Invalid(
        f"tag object {{{', '.join(map(repr, keys))}}} is none of {shapes} (an object key that starts with '@' is written '@@...')", path
    )


def _contract(contract_id: Any, fields: Any, path: list[int], depth: int) -> Contract:
    if type(contract_id) is not int or not 0 <= contract_id <= 65535:
        raise _Invalid(f'"@contract" takes an id 0..65535, not {contract_id!r}', [*path, 0])
    if type(fields) is not _Pairs or not fields:
        raise _Invalid('"fields" takes an object of one or more fields {"0": value, ...}', [*path, 1])
    collected: dict[int, Any] = {}
    for position, (key, item) in enumerate(fields):
        where = [*path, 1, position]
        if not _INDEX.match(key) or int(key) > FIELD_INDEX_MAX:
            raise _Invalid(f"field index {key!r} is not a decimal integer 0..{FIELD_INDEX_MAX}", where)
        if int(key) in collected:
            raise _Invalid(f"duplicate field index {key}", where)
        collected[int(key)] = from_plain_json(item, where, depth + 1)
    return Contract(contract_id, collected)


# --- positions of errors found after json read the text ------------------------------

_TOKEN = re.compile(r'[ \t\n\r]*(?:"(?:[^"\\]|\\.)*"|[^ \t\n\r\[\]{},:"]+|.)', re.S)
_SPACE = re.compile(r"[ \t\n\r]*")


def _locate(text: str, path: list[int]) -> int:
    """The offset in ``text`` (valid JSON) of the member at ``path``: each step a position in
    an array or object (an object's member starts at its key)."""
    pos = _SPACE.match(text).end()  # type: ignore[union-attr]  # matches the empty string
    for step, target in enumerate(path):
        is_object = text[pos] == "{"
        pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
        for _ in range(target):
            if is_object:
                pos = _skip(text, _skip(text, pos))  # the key, then the ':'
            pos = _skip(text, _skip(text, pos))  # the value, then the ','
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
        if is_object and step < len(path) - 1:
            pos = _SPACE.match(text, _skip(text, _skip(text, pos))).end()  # type: ignore[union-attr]
    return pos


def _skip(text: str, pos: int) -> int:
    """The offset after the token, or the whole array or object, that starts at ``pos``."""
    depth = 0
    while True:
        token = _TOKEN.match(text, pos)
        assert token is not None  # "." takes any one character
        pos = token.end()
        char = token.group().strip()
        if char in ("[", "{"):
            depth += 1
        elif char in ("]", "}"):
            depth -= 1
        if depth <= 0:
            return pos


def _too_deep(text: str) -> int:
    """The offset of the first ``[`` or ``{`` (outside strings) nested deeper than MAX_DEPTH."""
    depth = 0
    for token in _TOKEN.finditer(text):
        char = token.group().strip()
        if char in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                return token.end() - 1
        elif char in ("]", "}"):
            depth -= 1
    return len(text)
