"""The codecs by format name: encoding, decoding, detection and conversion of any format."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from . import hlxl, lcb, lcr, lct  # noqa: F401 - imported to register their codecs in the registry
from ._encoder import encode, key_text
from ._fast import repeats_in_prefix
from .errors import HLXError, ParseError
from .grammar import FORMAT_TITLES, FORMATS, normalize_format, text_input
from .lcb import opens_with_tag, read_binary, text_of_bytes
from .registry import all_formats, codec_of, get_format

__all__ = [
    "FormatName",
    "ENCODERS",
    "DECODERS",
    "encode_as",
    "encode_key",
    "encode_member",
    "decode_as",
    "detect_format",
    "detect_value",
    "convert",
    "repeats_key",
]

#: The names of the four formats, for type checkers (``FORMATS`` holds the same at run time).
FormatName = Literal["hlxl", "lc-t", "lc-r", "lc-b"]

#: Text encoder of each format (LC-B: the text notation), from the registry.
ENCODERS: dict[str, Callable[[Any], str]] = {record.name: codec_of(record.name)[0] for record in all_formats()}
#: Decoder of each format (LC-B: bytes are binary, str is the text notation).
DECODERS: dict[str, Callable[..., Any]] = {record.name: codec_of(record.name)[1] for record in all_formats()}


def encode_key(key: str, fmt: str) -> str:
    """An object key as ``fmt`` writes it: bare where it may be, else quoted.

    >>> encode_key("name", "lc-t"), encode_key("C", "lc-t"), encode_key("two words", "hlxl")
    ('name', '"C"', '"two words"')
    """
    return key_text(key, get_format(fmt).spelling)


def encode_member(value: Any, fmt: str) -> str:
    """``value`` as ``fmt`` writes it inside a value: the canonical text, except that LC-B
    text has no outer frame (``0x2a``, where ``to_lcb_text(42)`` is ``[0x2a]``)."""
    return encode(value, get_format(fmt).spelling)


def encode_as(value: Any, fmt: str) -> str:
    """The canonical text of ``value`` in ``fmt`` (any name :func:`normalize_format` knows)."""
    return ENCODERS[normalize_format(fmt)](value)


def decode_as(data: str | bytes, fmt: str) -> Any:
    """The value of ``data`` read as ``fmt``."""
    return DECODERS[normalize_format(fmt)](data)


def repeats_key(text: str, fmt: str) -> bool:
    """Whether ``text`` -- a whole text or only its beginning, in format ``fmt`` -- repeats an
    object key or a contract field index that is already complete: a key counts once the
    separator after it is written (``{a: 1, a`` does not repeat yet, ``{a: 1, a:`` does).

    A context-free grammar cannot forbid repeated keys, so constrained decoding asks this
    after each token and steers away from a repeat. Text that is not in the format is simply
    ``False``: this answers only about repeats.

    >>> repeats_key('{a: 1, a', "hlxl"), repeats_key('{a: 1, a:', "hlxl")
    (False, True)
    >>> repeats_key("🜊7🜁0 1🜁0 ", "lc-r")
    True
    """
    return repeats_in_prefix(codec_of(fmt)[2].parse, text)


def detect_value(data: str | bytes) -> tuple[str, Any]:
    """``(format, value)`` of an input, the format found as :func:`detect_format` finds it."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return _detect_bytes(bytes(data))
    return _detect_text(text_input(data, "hlxl"))


def _detect_bytes(data: bytes) -> tuple[str, Any]:
    """Bytes: UTF-8 text first (as :func:`_detect_text`) when it reads as a value, else LC-B
    binary. When neither reads, the text's error, or the binary one for bytes no text holds."""
    text = text_of_bytes(data)
    if text is None:
        if not opens_with_tag(data):  # not binary: the text's own error (invalid UTF-8, a control character)
            return _detect_text(text_input(data, "hlxl"))
        return "lc-b", read_binary(data)
    try:
        return _detect_text(text)
    except ParseError as text_error:
        try:
            return "lc-b", read_binary(data)
        except ParseError:
            raise text_error from None


def _detect_text(text: str) -> tuple[str, Any]:
    """``(format, value)`` of a text (see :func:`detect_format`)."""
    stripped = text.strip()
    parsed: list[tuple[str, Any]] = []
    furthest: ParseError | None = None
    for fmt in FORMATS:
        try:
            value = DECODERS[fmt](text)
        except ParseError as error:
            if furthest is None or error.offset > furthest.offset:
                furthest = error
            continue
        try:
            if ENCODERS[fmt](value) == stripped:
                return fmt, value
        except HLXError:
            pass  # parses but cannot be re-encoded (e.g. over a limit): not canonical
        parsed.append((fmt, value))
    if parsed:
        return parsed[0]
    assert furthest is not None
    raise ParseError(
        furthest.format,
        "input is not valid HLXL, LC-T, LC-R or LC-B text; the longest valid prefix is "
        f"{FORMAT_TITLES[furthest.format]}, which fails here: {furthest.reason}",
        line=furthest.line,
        column=furthest.column,
        offset=furthest.offset,
        excerpt=furthest.excerpt,
    )


def detect_format(data: str | bytes) -> str:
    """The format of an input: ``"hlxl"``, ``"lc-t"``, ``"lc-r"`` or ``"lc-b"``.

    For text: the first format, in the order HLXL, LC-T, LC-R, LC-B text, in which the input
    (less surrounding whitespace) is canonical; else the first in that order in which it
    parses; else a ParseError from the format that read furthest. So ``42`` and ``[1, 2, 3]``
    are HLXL, ``[1,2,3]`` is LC-T and ``[[0x01]]`` is LC-B. ``bytes`` are read as UTF-8 text
    first, when they decode to a value so; otherwise they are LC-B binary (``lc-b``).
    """
    return detect_value(data)[0]


def convert(text: str | bytes, to: str, frm: str | None = None) -> str:
    """Rewrite ``text`` in format ``to`` (canonical); the source is detected when ``frm`` is None.

    ``to="lc-b"`` gives the LC-B text notation; use :func:`to_lcb` for the binary bytes.
    ``bytes`` input is read as :func:`detect_format` reads it: UTF-8 text first, else LC-B
    binary (with ``frm``: that format's decoder, which reads bytes the same way).
    """
    target = normalize_format(to)
    if frm is None:
        _, value = detect_value(text)
    else:
        value = DECODERS[normalize_format(frm)](text)
    return ENCODERS[target](value)
