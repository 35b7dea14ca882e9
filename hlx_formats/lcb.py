"""LC-B, the binary wire format (``to_lcb``/``from_lcb`` on bytes) and its text notation.

Binary layout (little-endian): see ``docs/formats.md``. ``{14: {@0: 42}}`` is
``50 0e 00 01 00 10 2a``; in the text notation it is ``[14|0:0x2a]``.
"""

from __future__ import annotations

import re
import struct
from typing import Any

from . import _lexical as lex
from ._accelerated import FORMAT_CODES, NOT_DECODED
from ._accelerated import decode_lcb as _compiled_decode
from ._accelerated import encode_lcb as _compiled_encode
from ._encoder import _ARRAY, _CONTRACT, _OBJECT, Spelling, at_path, encode, plain_value
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
from .errors import EncodeError, HLXError, ParseError
from .grammar import text_input
from .model import CONTRACT_ID_MAX, IDENTIFIER, MAX_DEPTH, Contract, Handle, kind_of, safe_repr
from .registry import get_format, register_codec

__all__ = ["to_lcb", "from_lcb", "to_lcb_text", "read_binary", "read_binary_at", "text_of_bytes", "opens_with_tag", "TruncatedInput"]

# --- tags ----------------------------------------------------------------------------
NULL, TRUE, FALSE = 0x00, 0x01, 0x02
INT8, INT16, INT32, INT64 = 0x10, 0x11, 0x12, 0x13
UINT8, UINT16, UINT32, UINT64 = 0x14, 0x15, 0x16, 0x17
FLOAT32, FLOAT64 = 0x20, 0x21
STRING, BYTES, HANDLE, CONTRACT, ARRAY, OBJECT = 0x30, 0x31, 0x40, 0x50, 0x60, 0x70

#: Limits of the binary layout (the length fields); the text formats have none of these.
MAX_STRING_BYTES = 65535
MAX_BYTES = 65535
MAX_ARRAY_LENGTH = 65535
MAX_OBJECT_PAIRS = 255
MAX_KEY_BYTES = 255
MAX_HANDLE_BYTES = 255
MAX_CONTRACT_FIELDS = 255

_INTEGER_TAGS = {
    INT8: struct.Struct("<b"), INT16: struct.Struct("<h"), INT32: struct.Struct("<i"), INT64: struct.Struct("<q"),
    UINT8: struct.Struct("<B"), UINT16: struct.Struct("<H"), UINT32: struct.Struct("<I"), UINT64: struct.Struct("<Q"),
}  # fmt: skip
_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_CONTRACT_HEAD = struct.Struct("<HB")


# --- binary encoder ------------------------------------------------------------------


def to_lcb(value: Any) -> bytes:
    """The canonical LC-B binary encoding of ``value``.

    EncodeError if it is not an HLX value or does not fit a length field of the layout.
    """
    if _compiled_encode is not None:
        data = _compiled_encode(value)
        if data is not None:
            return data
    out = bytearray()
    _put(value, out)
    return bytes(out)


def _length(kind: str, what: str, size: int, limit: int) -> None:
    if size > limit:
        raise EncodeError(kind, f"{what} {size} is over the LC-B binary limit of {limit}")


def _put_int(value: int, out: bytearray) -> None:
    if -0x80 <= value <= 0x7F:
        out += bytes((INT8, value & 0xFF))
    elif -0x8000 <= value <= 0x7FFF:
        out.append(INT16)
        out += _INTEGER_TAGS[INT16].pack(value)
    elif -0x80000000 <= value <= 0x7FFFFFFF:
        out.append(INT32)
        out += _INTEGER_TAGS[INT32].pack(value)
    elif -(2**63) <= value <= 2**63 - 1:
        out.append(INT64)
        out += _INTEGER_TAGS[INT64].pack(value)
    else:
        lex.check_int(value)
        out.append(UINT64)
        out += _INTEGER_TAGS[UINT64].pack(value)


def _put(value: Any, out: bytearray) -> None:
    """Append the encoding of ``value``, without recursion (see :func:`_encoder.encode`)."""
    frames: list[list[Any]] = []  # per open container: [kind, items, position of the next item]
    item = value
    try:
        while True:
            kind = type(item)
            if item is None:
                out.append(NULL)
            elif kind is bool:
                out.append(TRUE if item else FALSE)
            elif kind is int:
                _put_int(item, out)
            elif kind is float:
                lex.format_float(item)  # rejects NaN and infinities
                out.append(FLOAT64)
                out += _F64.pack(item)
            elif kind is str:
                _put_string(item, out)
            elif kind is bytes:
                _length("bytes", "length", len(item), MAX_BYTES)
                out.append(BYTES)
                out += _U16.pack(len(item))
                out += item
            elif kind is Handle:
                _length("handle", "name length", len(item.name), MAX_HANDLE_BYTES)
                out.append(HANDLE)
                out.append(len(item.name))
                out += item.name.encode("ascii")
            elif kind is list or kind is dict or kind is Contract:
                if len(frames) >= MAX_DEPTH:
                    raise EncodeError(kind_of(item), f"nesting deeper than {MAX_DEPTH} levels")
                frames.append(_open(item, kind, out))
            else:
                item = plain_value(item)  # a subclass (IntEnum, OrderedDict...) encodes as its kind
                continue
            while frames:  # the next item to write
                frame = frames[-1]
                container, items, position = frame
                if position == len(items):
                    frames.pop()
                    continue
                frame[2] = position + 1
                if container == _ARRAY:
                    item = items[position]
                elif container == _OBJECT:
                    key, item = items[position]
                    _put_key(key, out)
                else:
                    index, item = items[position]
                    out.append(index)
                break
            else:
                return
    except EncodeError as error:
        raise at_path(error, frames) from None


def _open(value: Any, kind: type, out: bytearray) -> list[Any]:
    """Write a container's header; its frame for :func:`_put`."""
    if kind is list:
        _length("array", "length", len(value), MAX_ARRAY_LENGTH)
        out.append(ARRAY)
        out += _U16.pack(len(value))
        return [_ARRAY, value, 0]
    if kind is dict:
        _length("object", "pair count", len(value), MAX_OBJECT_PAIRS)
        out.append(OBJECT)
        out.append(len(value))
        return [_OBJECT, list(value.items()), 0]
    fields = value.items()
    _length("contract", "field count", len(fields), MAX_CONTRACT_FIELDS)
    out.append(CONTRACT)
    out += _CONTRACT_HEAD.pack(value.id, len(fields))
    return [_CONTRACT, fields, 0]


def _put_string(value: str, out: bytearray) -> None:
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError:
        lex.quote_string(value)  # raises the EncodeError that names the surrogate
        raise
    _length("string", "UTF-8 length", len(encoded), MAX_STRING_BYTES)
    out.append(STRING)
    out += _U16.pack(len(encoded))
    out += encoded


def _put_key(key: Any, out: bytearray) -> None:
    if type(key) is not str:
        raise EncodeError("object", f"key {safe_repr(key)} is {kind_of(key)}; object keys must be str")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:
        lex.quote_string(key, "object key")
        raise
    _length("object key", "UTF-8 length", len(encoded), MAX_KEY_BYTES)
    out.append(len(encoded))
    out += encoded


# --- binary decoder ------------------------------------------------------------------


class TruncatedInput(ParseError):
    """LC-B binary that ends inside a value: more bytes may complete it (see :mod:`hlx_formats.streams`)."""


class _Reader:
    """A cursor over the input that turns every problem into a ParseError at an offset."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def error(self, reason: str, offset: int | None = None) -> ParseError:
        at = self.pos if offset is None else offset
        return ParseError("lc-b", reason, line=1, column=at + 1, offset=at, excerpt=_hex_excerpt(self.data, at))

    def take(self, count: int, what: str) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            reason = f"truncated input: {what} needs {count} bytes, {len(self.data) - self.pos} left"
            raise TruncatedInput("lc-b", reason, line=1, column=self.pos + 1, offset=self.pos, excerpt=_hex_excerpt(self.data, self.pos))
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def unpack(self, layout: struct.Struct, what: str) -> Any:
        return layout.unpack(self.take(layout.size, what))[0]


def _hex_excerpt(data: bytes, offset: int, width: int = 16) -> str:
    start = max(0, offset - width // 2)
    shown = data[start : start + width]
    caret = 3 * (offset - start)
    return f"  {shown.hex(' ')}{' ...' if start + width < len(data) else ''}\n  {' ' * caret}^"


def _decode_binary(data: bytes) -> Any:
    if _compiled_decode is not None:
        found = _compiled_decode(data, 0)
        if found is not NOT_DECODED and found[1] == len(data):
            return found[0]
    try:
        value, end = _fast_get(data, 0, 0)
        if end == len(data):
            return value
    except Exception:  # noqa: BLE001 - anything the fast path does not take, the checked decoder judges
        pass
    return _decode_binary_checked(data)


_unpack_from = struct.unpack_from
_INTEGER_LAYOUTS = {tag: (layout.format, layout.size) for tag, layout in _INTEGER_TAGS.items()}


def _fast_get(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    """The fast path of the binary decoder: valid input only; anything else raises, and
    :func:`_decode_binary_checked` then reports it with its offset."""
    tag = data[pos]
    pos += 1
    if tag == STRING:
        end = pos + 2 + _unpack_from("<H", data, pos)[0]
        if end > len(data):
            raise IndexError
        return data[pos + 2 : end].decode("utf-8"), end
    if tag == INT8:
        value = data[pos]
        return (value - 256 if value > 127 else value), pos + 1
    if tag == ARRAY or tag == OBJECT or tag == CONTRACT:
        if depth >= MAX_DEPTH:
            raise ValueError
        depth += 1
        if tag == ARRAY:
            count = _unpack_from("<H", data, pos)[0]
            pos += 2
            items: list[Any] = []
            append = items.append
            for _ in range(count):
                item, pos = _fast_get(data, pos, depth)
                append(item)
            return items, pos
        if tag == OBJECT:
            count = data[pos]
            pos += 1
            result: dict[str, Any] = {}
            for _ in range(count):
                end = pos + 1 + data[pos]
                if end > len(data):
                    raise IndexError
                key = data[pos + 1 : end].decode("utf-8")
                if key in result:
                    raise ValueError
                result[key], pos = _fast_get(data, end, depth)
            return result, pos
        contract_id, count = _unpack_from("<HB", data, pos)
        pos += 3
        fields: dict[int, Any] = {}
        for _ in range(count):
            index = data[pos]
            if index in fields:
                raise ValueError
            fields[index], pos = _fast_get(data, pos + 1, depth)
        return Contract(contract_id, fields), pos
    if tag == NULL:
        return None, pos
    if tag == TRUE:
        return True, pos
    if tag == FALSE:
        return False, pos
    if tag == FLOAT64 or tag == FLOAT32:
        value = _unpack_from("<d" if tag == FLOAT64 else "<f", data, pos)[0]
        if value != value or value in (_INF, -_INF):
            raise ValueError
        return value, pos + (8 if tag == FLOAT64 else 4)
    layout = _INTEGER_LAYOUTS.get(tag)
    if layout is not None:
        return _unpack_from(layout[0], data, pos)[0], pos + layout[1]
    if tag == BYTES:
        end = pos + 2 + _unpack_from("<H", data, pos)[0]
        if end > len(data):
            raise IndexError
        return data[pos + 2 : end], end
    if tag == HANDLE:
        end = pos + 1 + data[pos]
        if end > len(data):
            raise IndexError
        return Handle(data[pos + 1 : end].decode("ascii")), end
    raise ValueError


_INF = float("inf")


def _decode_binary_checked(data: bytes) -> Any:
    reader = _Reader(data)
    value = _get(reader, 0)
    if reader.pos != len(data):
        raise reader.error(f"trailing bytes after the value ({len(data) - reader.pos} bytes)")
    return value


def read_binary(data: bytes) -> Any:
    """The value of LC-B binary ``data`` (one value, nothing after it); never the text notation."""
    return _decode_binary(bytes(data))


def read_binary_at(data: bytes, pos: int) -> tuple[Any, int]:
    """The LC-B binary value that starts at byte ``pos`` of ``data``, and the offset after it:
    one value of several written one after another. A ParseError's offset is in ``data``."""
    if _compiled_decode is not None and type(data) is bytes and 0 <= pos <= len(data):
        found = _compiled_decode(data, pos)
        if found is not NOT_DECODED:
            return found  # type: ignore[no-any-return]  # (value, end)
    try:
        value, end = _fast_get(data, pos, 0)
        if end <= len(data):
            return value, end
    except Exception:  # noqa: BLE001 - anything the fast path does not take, the checked decoder judges
        pass
    reader = _Reader(data)
    reader.pos = pos
    return _get(reader, 0), reader.pos


#: Bytes that no text value holds (controls other than tab, LF and CR): input with one is binary.
_CONTROL_BYTE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


_TAGS = frozenset((NULL, TRUE, FALSE, *_INTEGER_TAGS, FLOAT32, FLOAT64, STRING, BYTES, HANDLE, CONTRACT, ARRAY, OBJECT))


def opens_with_tag(data: bytes) -> bool:
    """Whether ``data`` starts with an LC-B tag byte (so a failure to read it is best told as binary)."""
    return bool(data) and data[0] in _TAGS


def text_of_bytes(data: bytes) -> str | None:
    """``data`` as text when it may be a text value (UTF-8 with no control character but tab,
    LF and CR); None when it can only be LC-B binary. Bytes are read as text first."""
    if _CONTROL_BYTE.search(data) is not None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _get(reader: _Reader, depth: int) -> Any:
    start = reader.pos
    tag = reader.unpack(_U8, "a tag")
    if tag == NULL:
        return None
    if tag == TRUE:
        return True
    if tag == FALSE:
        return False
    layout = _INTEGER_TAGS.get(tag)
    if layout is not None:
        return reader.unpack(layout, "an integer")
    if tag == FLOAT64 or tag == FLOAT32:
        value = reader.unpack(_F64 if tag == FLOAT64 else _F32, "a float")
        if value != value or value in (float("inf"), float("-inf")):
            raise reader.error("NaN and infinities are not allowed", start)
        return value
    if tag == STRING:
        raw = reader.take(reader.unpack(_U16, "a string length"), "a string")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise reader.error("invalid UTF-8 in string", reader.pos - len(raw) + error.start) from None
    if tag == BYTES:
        return reader.take(reader.unpack(_U16, "a bytes length"), "bytes")
    if tag == HANDLE:
        raw = reader.take(reader.unpack(_U8, "a handle length"), "a handle name")
        name = raw.decode("latin-1")
        if not (raw.isascii() and IDENTIFIER.match(name)):
            raise reader.error(f"handle name {name!r} is not an ASCII identifier", reader.pos - len(raw))
        return Handle(name)
    if tag in (ARRAY, OBJECT, CONTRACT):
        if depth >= MAX_DEPTH:
            raise reader.error(f"nesting deeper than {MAX_DEPTH} levels", start)
        if tag == ARRAY:
            return [_get(reader, depth + 1) for _ in range(reader.unpack(_U16, "an array length"))]
        if tag == OBJECT:
            return _get_object(reader, depth + 1)
        return _get_contract(reader, depth + 1, start)
    raise reader.error(f"unknown tag 0x{tag:02x}", start)


def _get_object(reader: _Reader, depth: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for _ in range(reader.unpack(_U8, "an object pair count")):
        key_at = reader.pos
        raw = reader.take(reader.unpack(_U8, "a key length"), "a key")
        try:
            key = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise reader.error("invalid UTF-8 in object key", key_at + 1 + error.start) from None
        if key in result:
            raise reader.error(f"duplicate key {key!r}", key_at)
        result[key] = _get(reader, depth)
    return result


def _get_contract(reader: _Reader, depth: int, start: int) -> Contract:
    contract_id, count = _CONTRACT_HEAD.unpack(reader.take(3, "a contract header"))
    if count == 0:
        raise reader.error("contract with no fields", start)
    fields: dict[int, Any] = {}
    for _ in range(count):
        index_at = reader.pos
        index = reader.unpack(_U8, "a field index")
        if index in fields:
            raise reader.error(f"duplicate field index {index}", index_at)
        fields[index] = _get(reader, depth)
    return Contract(contract_id, fields)


# --- text notation -------------------------------------------------------------------

_TEXT = Spelling(
    null="_",
    true="T",
    false="F",
    integer=lex.format_hex_int,
    string=lex.quote_string_ascii,
    bytes_=lambda data: "#" + data.hex(),
    handle_prefix="&",
    array_open="[",
    array_close="]",
    object_open="{",
    object_close="}",
    separator=",",
    pair_separator=":",
    reserved_keys=get_format("lc-b").reserved_keys,
    contract_open="[{}",
    field_open="|{}:",
    field_separator="",
    contract_close="]",
    compiled=FORMAT_CODES["lc-b"],
)


def to_lcb_text(value: Any) -> str:
    """The canonical LC-B text notation of ``value``: ``[0x2a]``, ``[14|0:0x2a]``."""
    text = encode(value, _TEXT)
    return text if type(value) is Contract else f"[{text}]"


def from_lcb(data: bytes | str, *, strict_reference: bool = False) -> Any:
    """The value of LC-B input: ``str`` is the text notation; ``bytes`` are the text notation
    in UTF-8 when they read as one, and the binary format otherwise (:func:`text_of_bytes`).

    For the text notation, ``strict_reference=True`` uses the Lark parser only (see
    :func:`~hlx_formats.from_hlxl`); binary input has one decoder.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = data if type(data) is bytes else bytes(data)
        if raw[:1] not in _MAY_OPEN_TEXT:  # no frame, whitespace or byte-order mark first: binary
            return _decode_binary(raw)
        text = text_of_bytes(raw)
        if text is None or not text.lstrip(" \t\r\n\ufeff").startswith("["):  # the notation opens with its frame
            return _decode_binary(raw)
        try:
            return decode_text(_FastLCBText, "lc-b", text, strict_reference)
        except ParseError as text_error:
            try:
                return _decode_binary(raw)
            except ParseError:
                raise text_error from None
    if isinstance(data, str):
        return decode_text(_FastLCBText, "lc-b", text_input(data, "lc-b"), strict_reference)
    raise HLXError(f"LC-B input must be bytes (binary) or str (text notation), not {type(data).__name__}")


#: The first bytes that LC-B text notation in UTF-8 may start with: its frame, whitespace, a BOM.
_MAY_OPEN_TEXT = frozenset(bytes((byte,)) for byte in b"[ \t\r\n\xef")


# --- fast decoder of the text notation -----------------------------------------------

_ID = re.compile(r"-?[0-9]+")
_FIELD = re.compile(r"\|[ \t\r\n]*(-?(?:0x[0-9a-fA-F]+|[0-9]+))[ \t\r\n]*:[ \t\r\n]*")  # a hex index is invalid
_HEX_INT = re.compile(r"-?0x([0-9a-fA-F]+)")
_CONTRACT_START = re.compile(r"[ \t\r\n]*-?(?:0x[0-9a-fA-F]+|[0-9]+)[ \t\r\n]*\|")


class _FastLCBText(FastParser):
    ascii_strings = True
    reserved_keys = _TEXT.reserved_keys
    spelling = _TEXT
    __slots__ = ("framed",)  # framed: the top-level value is in brackets (not a contract, its own)

    def top(self) -> Any:
        text = self.text
        if text[self.pos] != "[":
            raise Reject
        self.pos += 1
        self.framed = not _CONTRACT_START.match(text, self.pos)
        if not self.framed:
            self.skip()
            return self.contract_body(1)
        self.skip()
        content = self.pos
        try:
            value = self.value(0)
        except Exception as error:  # noqa: BLE001 - given up inside the framed value
            raise framed(error, Frame("frame", content, 0, content, content, None, None, self)) from None
        end = self.pos
        try:
            self.expect("]")
        except Exception as error:  # noqa: BLE001 - given up after it
            raise framed(error, Frame("frame", content, 1, content, content, end, value, self)) from None
        return value

    def after_top(self, value: Any, start: int, end: int) -> tuple[str, int]:
        if not self.framed:  # a contract, its own frame
            return self.stand_in(value), end
        inner = self.stand_in(value) if type(value) in (list, dict, Contract) else "_"
        return f"[{inner}]", end

    def value(self, depth: int) -> Any:
        text, pos = self.text, self.pos
        char = text[pos]
        if char == '"':
            return self.string()
        if char == "[":
            check_depth(depth, pos)
            self.pos = pos + 1
            if _CONTRACT_START.match(text, self.pos):
                self.skip()
                return self.contract_body(depth + 1)
            return self.items(depth + 1, "]")
        if char == "{":
            check_depth(depth, pos)
            self.pos = pos + 1
            return self.pairs(depth + 1, "}")
        if char in "-0123456789":
            match = _HEX_INT.match(text, pos)
            if match is None:
                return self.number()
            self.pos = match.end()
            value = int(match.group(), 16)
            if not -(2**63) <= value <= 2**64 - 1:
                return self.refuse("value", "INT", match.start(), match.end())
            return value
        if char == "_":
            self.pos = pos + 1
            return None
        if char == "T":
            self.pos = pos + 1
            return True
        if char == "F":
            self.pos = pos + 1
            return False
        if char == "#":
            return self.hex_bytes(1)
        if char == "&":
            return self.handle(1)
        raise Reject

    def contract_body(self, depth: int) -> Contract:
        if depth > MAX_DEPTH:
            raise Reject
        text = self.text
        match = _ID.match(text, self.pos)
        if match is None:
            raise Reject
        pos = match.end()
        if text.startswith("x", pos):  # a hex id: the grammar's integer token goes on past the digits
            hex_id = _HEX_INT.match(text, match.start())
            if hex_id is None:
                raise Reject
            pos = hex_id.end()
            self.refuse("contract id", "INT", match.start(), pos)
            contract_id = 0
        else:
            digits = match.group().lstrip("-")
            if len(digits) > 1 and digits[0] == "0":
                raise Reject  # the grammar's integer token ends at a leading zero
            contract_id = self.index_at(match.group(), CONTRACT_ID_MAX, "contract id", match.start(), pos)
        content = start = pos  # pos: where the next field begins
        fields: list[tuple[int, Any]] = []
        seen: set[int] = set()
        field = None
        try:
            while True:
                pos = skip_whitespace(text, pos)
                char = text[pos]
                if char == "]" and fields:
                    self.pos = pos + 1
                    if self.pending:
                        self.closed(seen)
                    return self.contract(contract_id, fields)
                field = _FIELD.match(text, pos)
                if field is None:
                    raise Reject
                self.pos = field.end()
                index = self.new_field(field, seen)
                try:
                    fields.append((index, self.value(depth)))
                except Exception as error:  # noqa: BLE001 - given up inside this field's value
                    raise framed(error, Frame("contract", content, len(fields), pos, field.end(), None, None, fields)) from None
                start, pos = pos, self.pos
        except Exception as error:  # noqa: BLE001 - given up in a field's index or after a field
            in_field = not fields or (field is not None and pos < field.end())  # before a field, or in its index
            raise framed(error, contract_frame(content, fields, start, pos, in_field=in_field)) from None


register_codec("lc-b", spelling=_TEXT, encode=to_lcb_text, decode=from_lcb, fast_parser=_FastLCBText)
