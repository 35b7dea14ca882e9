"""Several values in one input: LC-B binary values written one after another, or text with
one value a line (as JSON Lines).

Text is read a line at a time and binary a chunk at a time, so a stream of any length is
read in memory proportional to its largest record. An error names the record: its line (text)
or its byte offset and number (binary).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from .errors import HLXError, ParseError
from .formats import DECODERS, detect_value
from .grammar import text_input
from .hooks import apply_hooks
from .lcb import TruncatedInput, opens_with_tag, read_binary_at, text_of_bytes
from .model import Contract, Handle
from .registry import normalize_format

__all__ = ["iter_load", "decode_lines", "iter_binary", "CHUNK_SIZE"]

#: Bytes read from a binary file at a time (more when one record is longer).
CHUNK_SIZE = 1 << 16


def iter_load(
    source: str | bytes | bytearray | memoryview | IO[Any],
    format: str | None = None,
    *,
    object_hook: Callable[[dict[str, Any]], Any] | None = None,
    contract_hook: Callable[[Contract], Any] | None = None,
    handle_hook: Callable[[Handle], Any] | None = None,
) -> Iterator[Any]:
    """The values of ``source`` (``str``, ``bytes`` or a text or binary file object), one by one.

    Text holds one value a line, in ``format`` (detected line by line when None); lines of
    only whitespace are skipped. Bytes are read as UTF-8 lines when their first line reads
    as a value, and otherwise, when ``format`` is None or ``lc-b``, as LC-B binary values
    one after another. The hooks are those of :func:`~hlx_formats.loads`.
    """
    fmt = None if format is None else normalize_format(format)
    records = _records(source, fmt)
    if object_hook is None and contract_hook is None and handle_hook is None:
        return records
    return (apply_hooks(value, object_hook, contract_hook, handle_hook) for value in records)


def _records(source: str | bytes | bytearray | memoryview | IO[Any], fmt: str | None) -> Iterator[Any]:
    """The values of ``source``, read as :func:`iter_load` says."""
    decode = _decoder(fmt)
    if isinstance(source, str):
        return decode_lines(source.split("\n"), decode, fmt)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        first = data[: data.find(b"\n") + 1 or len(data)]
        if _binary_stream(first, fmt, decode):
            return iter_binary(data)
        return decode_lines(data.split(b"\n"), decode, fmt)
    if not callable(getattr(source, "read", None)):
        raise HLXError(f"iter_load() reads str, bytes or a file object, not {type(source).__name__}")
    first = source.readline(CHUNK_SIZE)
    if isinstance(first, str):
        return decode_lines(_chain_lines(first, source), decode, fmt)
    if _binary_stream(first, fmt, decode):
        return iter_binary(first, source.read)
    return decode_lines(_chain_lines(first, source), decode, fmt)


def _decoder(fmt: str | None) -> Callable[[str], Any]:
    """The decoder of one text record: ``fmt``'s, or detection when None."""
    if fmt is None:
        return lambda text: detect_value(text)[1]
    return DECODERS[fmt]


def _binary_stream(first: bytes, fmt: str | None, decode: Callable[[str], Any]) -> bool:
    """Whether bytes whose first line is ``first`` are LC-B binary values: text is tried first."""
    if fmt not in (None, "lc-b") or not opens_with_tag(first):
        return False
    text = text_of_bytes(first)
    if text is None:
        return True
    try:
        decode(text)
    except ParseError:
        return True
    return False


def _chain_lines(first: Any, source: IO[Any]) -> Iterator[Any]:
    """The lines of a file whose first line (or its first CHUNK_SIZE characters) is read."""
    newline = "\n" if isinstance(first, str) else b"\n"
    if first and not first.endswith(newline):
        first += source.readline()  # a first line longer than the peek
    if first:
        yield first
        yield from source


def decode_lines(lines: Iterable[str | bytes], decode: Callable[[str], Any], fmt: str | None) -> Iterator[Any]:
    """The value of each line of ``lines`` that is not blank, read by ``decode``; a ParseError
    gives the line's number and the offset in the whole input (characters, or bytes for bytes)."""
    offset = 0
    for number, raw in enumerate(lines, 1):
        start, offset = offset, offset + len(raw) + (0 if raw[-1:] in ("\n", b"\n") else 1)
        text = _line_text(raw, fmt, number, start)
        if not text.strip():
            continue
        try:
            value = decode(text)
        except ParseError as error:
            at = start + (len(text[: error.offset].encode("utf-8")) if isinstance(raw, bytes) else error.offset)
            raise ParseError(error.format, error.reason, line=number, column=error.column, offset=at, excerpt=error.excerpt) from None
        yield value


def _line_text(raw: str | bytes, fmt: str | None, number: int, start: int) -> str:
    """One line as text, without its line end; a ParseError at the line for bad UTF-8."""
    try:
        text = text_input(raw, fmt or "hlxl")
    except ParseError as error:
        raise ParseError(
            error.format, error.reason, line=number, column=error.column, offset=start + error.offset, excerpt=error.excerpt
        ) from None
    return text.removesuffix("\n").removesuffix("\r")


def iter_binary(data: bytes, read: Callable[[int], bytes] | None = None) -> Iterator[Any]:
    """The LC-B binary values in ``data`` and then in what ``read(size)`` gives, one after
    another; a ParseError names the record and its byte offset in the whole input."""
    buffer, base, pos, record = bytes(data), 0, 0, 0
    while True:
        if pos == len(buffer):
            chunk = read(CHUNK_SIZE) if read is not None else b""
            if not chunk:
                return
            buffer, base, pos = bytes(chunk), base + pos, 0
        try:
            value, pos = read_binary_at(buffer, pos)
        except TruncatedInput as error:
            chunk = read(max(CHUNK_SIZE, len(buffer) - pos)) if read is not None else b""
            if not chunk:
                raise _in_record(error, base, record) from None
            buffer, base, pos = buffer[pos:] + chunk, base + pos, 0
            continue
        except ParseError as error:
            raise _in_record(error, base, record) from None
        record += 1
        yield value


def _in_record(error: ParseError, base: int, record: int) -> ParseError:
    """``error`` of a binary record, told its number and its offset in the whole input."""
    at = base + error.offset
    reason = f"record {record + 1}: {error.reason}"
    return ParseError("lc-b", reason, line=1, column=at + 1, offset=at, excerpt=error.excerpt)
