"""One entry point by format name, shaped like json's: ``dumps``, ``loads``, ``dump``, ``load``.

They add hooks (:mod:`hlx_formats.hooks`), the pretty form (``indent``) and file objects to
the codecs of :mod:`hlx_formats.formats`, with the same values, semantics and errors.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any

from ._encoder import encode_indented, indent_text
from .errors import HLXError
from .formats import ENCODERS, decode_as, detect_value
from .hooks import Default, apply_hooks, encode_with
from .lcb import to_lcb
from .model import Contract, Handle
from .registry import get_format, normalize_format

__all__ = ["dumps", "loads", "dump", "load", "is_binary_file", "INDENTED_FORMATS"]

#: The formats ``indent`` applies to. LC-B text is written on one line (its frame would need
#: a layout of its own, and its readers are programs); LC-B binary has no whitespace.
INDENTED_FORMATS = ("hlxl", "lc-t", "lc-r")


def dumps(
    value: Any,
    format: str = "hlxl",
    *,
    default: Default | None = None,
    indent: int | str | None = None,
    sort_keys: bool = False,
) -> str:
    """The text of ``value`` in ``format`` (``lc-b``: its text notation): canonical, or with
    ``indent`` the pretty form (one member a line; HLXL, LC-T and LC-R).

    ``default(obj)`` is called for each value outside the data model and returns an HLX value
    to write instead; without it such a value is an UnsupportedTypeError (an EncodeError and a
    TypeError). ``sort_keys`` writes each object's keys in sorted order.
    """
    fmt = normalize_format(format)
    return encode_with(_text_encoder(fmt, indent), value, default, sort_keys)


def _text_encoder(fmt: str, indent: int | str | None) -> Callable[[Any], str]:
    """The canonical encoder of ``fmt``, or its pretty encoder with ``indent``."""
    if indent is None:
        return ENCODERS[fmt]
    if fmt not in INDENTED_FORMATS:
        raise HLXError(f"indent applies to {', '.join(INDENTED_FORMATS)}; {fmt} is written on one line")
    spelling, unit = get_format(fmt).spelling, indent_text(indent)
    return lambda value: encode_indented(value, spelling, unit)


def loads(
    data: str | bytes,
    format: str | None = None,
    *,
    object_hook: Callable[[dict[str, Any]], Any] | None = None,
    contract_hook: Callable[[Contract], Any] | None = None,
    handle_hook: Callable[[Handle], Any] | None = None,
) -> Any:
    """The value of ``data`` (``str``, or ``bytes``: UTF-8 text first, else LC-B binary) in
    ``format``, detected when None (:func:`~hlx_formats.detect_format`).

    Each hook, when given, is called with every decoded object (a dict), contract or handle,
    from the innermost out, and what it returns takes that value's place.
    """
    if not isinstance(data, (str, bytes, bytearray, memoryview)):
        raise HLXError(f"loads() reads str or bytes, not {type(data).__name__}")
    value = detect_value(data)[1] if format is None else decode_as(data, format)
    return apply_hooks(value, object_hook, contract_hook, handle_hook)


def dump(
    value: Any,
    fp: IO[Any],
    format: str = "hlxl",
    *,
    default: Default | None = None,
    indent: int | str | None = None,
    sort_keys: bool = False,
) -> None:
    """Write ``value`` to the file object ``fp`` as :func:`dumps` writes it (no newline after).

    A binary file gets UTF-8 text, except for ``format="lc-b"``: the LC-B binary bytes.
    """
    fmt = normalize_format(format)
    if not is_binary_file(fp):
        fp.write(dumps(value, fmt, default=default, indent=indent, sort_keys=sort_keys))
    elif fmt == "lc-b":
        if indent is not None:
            raise HLXError("indent applies to text; LC-B binary has no layout")
        fp.write(encode_with(to_lcb, value, default, sort_keys))
    else:
        fp.write(dumps(value, fmt, default=default, indent=indent, sort_keys=sort_keys).encode("utf-8"))


def load(
    fp: IO[Any],
    format: str | None = None,
    *,
    object_hook: Callable[[dict[str, Any]], Any] | None = None,
    contract_hook: Callable[[Contract], Any] | None = None,
    handle_hook: Callable[[Handle], Any] | None = None,
) -> Any:
    """The value in the file object ``fp`` (read to its end), as :func:`loads` reads it: a
    binary file holds UTF-8 text or, failing that, LC-B binary."""
    return loads(fp.read(), format, object_hook=object_hook, contract_hook=contract_hook, handle_hook=handle_hook)


def is_binary_file(fp: Any) -> bool:
    """Whether ``fp`` takes and gives bytes: an ``io`` binary stream, or a ``mode`` with ``b``."""
    if isinstance(fp, io.TextIOBase):
        return False
    if isinstance(fp, (io.RawIOBase, io.BufferedIOBase)):
        return True
    return "b" in str(getattr(fp, "mode", ""))
