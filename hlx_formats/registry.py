"""The formats, one record each: the table every per-format lookup is derived from.

A :class:`Format` holds a format's name, title, aliases, grammar file and the bare keys it
must quote; its codec module (``hlxl``, ``lct``, ``lcr``, ``lcb``) adds its spelling table,
encoder, decoder and fast decoder when it is imported (:func:`register_codec`), as PEFT's
methods register themselves with its core. Importing :mod:`hlx_formats` imports all four, so
every record is complete once the package is loaded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import HLXError

__all__ = [
    "Format",
    "FORMATS",
    "FORMAT_TITLES",
    "get_format",
    "normalize_format",
    "register_codec",
    "all_formats",
    "codec_of",
    "FastDecoder",
]


class FastDecoder(Protocol):
    """What the registry needs of a fast decoder class (hlx_formats._fast.FastParser, which
    this module does not import: _fast imports the grammar, which imports the registry)."""

    def parse(self, text: str) -> Any: ...


@dataclass(frozen=True)
class Format:
    """One HLX notation: what names it, where its grammar is, how it is written and read."""

    name: str  # the library's name: "lc-t"
    title: str  # as people write it: "LC-T"
    aliases: tuple[str, ...]  # lower-case names normalize_format accepts (the name included)
    grammar_file: str  # in grammars/ (installed as hlx_formats.grammars)
    reserved_keys: frozenset[str]  # identifiers that must be quoted as object keys
    spelling: Any = None  # the encoder's Spelling table (LC-B: of its text notation)
    encode: Callable[[Any], str] | None = None  # the canonical text of a value
    decode: Callable[..., Any] | None = None  # the value of a text (LC-B: or binary bytes)
    fast_parser: FastDecoder | None = None  # the fast decoder's class


_REGISTRY: dict[str, Format] = {
    "hlxl": Format("hlxl", "HLXL", ("hlxl",), "hlxl.lark", frozenset({"null", "true", "false"})),
    "lc-t": Format("lc-t", "LC-T", ("lc-t", "lct", "lc_t", "ascii"), "lct.lark", frozenset({"NULL", "TRUE", "FALSE", "C"})),
    "lc-r": Format("lc-r", "LC-R", ("lc-r", "lcr", "lc_r", "runic"), "lcr.lark", frozenset()),
    "lc-b": Format("lc-b", "LC-B", ("lc-b", "lcb", "lc_b"), "lcb.lark", frozenset({"T", "F", "_"})),
}
#: The four formats, by their names in this library, in detection-preference order.
FORMATS: tuple[str, ...] = tuple(_REGISTRY)
#: ``"lc-t"`` -> ``"LC-T"``.
FORMAT_TITLES: dict[str, str] = {name: record.title for name, record in _REGISTRY.items()}
_ALIASES = {alias: record.name for record in _REGISTRY.values() for alias in record.aliases}


def normalize_format(name: str) -> str:
    """``"LC-T"``, ``"lct"``, ``"lc_t"`` → ``"lc-t"``; an unknown name is an HLXError."""
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in _ALIASES:
        raise HLXError(f"unknown format {name!r}; expected one of: {', '.join(FORMATS)}")
    return _ALIASES[key]


def get_format(name: str) -> Format:
    """The record of a format, by any name :func:`normalize_format` knows."""
    return _REGISTRY[normalize_format(name)]


def all_formats() -> tuple[Format, ...]:
    """Every record, in detection-preference order."""
    return tuple(_REGISTRY.values())


def register_codec(
    name: str, *, spelling: Any, encode: Callable[[Any], str], decode: Callable[..., Any], fast_parser: FastDecoder
) -> Format:
    """Attach a format's codec (called once by its module on import); the completed record."""
    record = _REGISTRY[name]
    if spelling.reserved_keys != record.reserved_keys:
        raise HLXError(f"{record.title}: the spelling's reserved keys differ from the registry's")
    _REGISTRY[name] = dataclasses.replace(record, spelling=spelling, encode=encode, decode=decode, fast_parser=fast_parser)
    return _REGISTRY[name]


def codec_of(name: str) -> tuple[Callable[[Any], str], Callable[..., Any], FastDecoder]:
    """A format's encoder, decoder and fast decoder class; an HLXError if its codec module has
    not registered them (importing :mod:`hlx_formats` registers all four)."""
    record = get_format(name)
    if record.encode is None or record.decode is None or record.fast_parser is None:
        raise HLXError(f"{record.title}: no codec registered (its module is not imported)")
    return record.encode, record.decode, record.fast_parser
