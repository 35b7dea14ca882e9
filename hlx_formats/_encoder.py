"""One encoder for the four text spellings: each format supplies a :class:`Spelling`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import _accelerated
from . import _lexical as lex
from .errors import EncodeError, HLXError
from .model import IDENTIFIER, MAX_DEPTH, Contract, Handle, kind_of, safe_repr

__all__ = [
    "Spelling",
    "UnsupportedTypeError",
    "encode",
    "encode_indented",
    "indent_text",
    "at_path",
    "key_text",
    "plain_kind",
    "plain_value",
]


class UnsupportedTypeError(EncodeError, TypeError):
    """A Python value of a type outside the data model (a tuple, a set, a Decimal...): an
    EncodeError that is also a TypeError, so ``except TypeError`` catches it as with json."""


@dataclass(frozen=True)
class Spelling:
    """How one text format writes each kind. Templates use ``{}`` for the number."""

    null: str
    true: str
    false: str
    integer: Callable[[int], str]
    string: Callable[[str], str]
    bytes_: Callable[[bytes], str]
    handle_prefix: str
    array_open: str
    array_close: str
    object_open: str
    object_close: str
    separator: str  # between array elements and between object pairs
    pair_separator: str  # between a key and its value
    reserved_keys: frozenset[str]  # identifiers that must still be quoted as keys
    contract_open: str  # template, e.g. "{{C:{}" for LC-T
    field_open: str  # template, e.g. ",{}=" for LC-T
    field_separator: str
    contract_close: str
    #: The compiled codec's number for this spelling (``_accelerated.FORMAT_CODES``); -1: none.
    compiled: int = -1


def encode(value: Any, spelling: Spelling) -> str:
    """The text of ``value`` in ``spelling``, written without recursion: the stack in use
    is the same for every depth and every Python type of container.

    The compiled encoder writes it where it can (every value it is sure of); where it gives
    up, this code does the work and words the error.
    """
    if spelling.compiled >= 0 and _compiled_encode is not None:
        text = _compiled_encode(value, spelling.compiled)
        if text is not None:
            return text
    sp = spelling
    out: list[str] = []
    append = out.append
    frames: list[list[Any]] = []  # per open container: [kind, items, position of the next item]
    item = value
    try:
        while True:
            kind = type(item)
            if item is None:
                append(sp.null)
            elif kind is bool:
                append(sp.true if item else sp.false)
            elif kind is int:
                lex.check_int(item)
                append(sp.integer(item))
            elif kind is float:
                append(lex.format_float(item))
            elif kind is str:
                append(sp.string(item))
            elif kind is bytes:
                append(sp.bytes_(item))
            elif kind is Handle:
                append(sp.handle_prefix + item.name)
            elif kind is list or kind is dict or kind is Contract:
                if len(frames) >= MAX_DEPTH:
                    raise EncodeError(kind_of(item), f"nesting deeper than {MAX_DEPTH} levels")
                if kind is list:
                    append(sp.array_open)
                    frames.append([_ARRAY, item, 0])
                elif kind is dict:
                    append(sp.object_open)
                    frames.append([_OBJECT, list(item.items()), 0])
                else:
                    append(sp.contract_open.format(item.id))
                    frames.append([_CONTRACT, item._fields, 0])
            else:
                item = plain_value(item)  # a subclass (IntEnum, OrderedDict...) encodes as its kind
                continue
            while frames:  # the next item to write, closing the containers that are done
                frame = frames[-1]
                container, items, position = frame
                if position == len(items):
                    append(sp.array_close if container == _ARRAY else sp.object_close if container == _OBJECT else sp.contract_close)
                    frames.pop()
                    continue
                frame[2] = position + 1
                if container == _ARRAY:
                    if position:
                        append(sp.separator)
                    item = items[position]
                elif container == _OBJECT:
                    if position:
                        append(sp.separator)
                    key, item = items[position]
                    append(key_text(key, sp))
                    append(sp.pair_separator)
                else:
                    index, item = items[position]
                    if position:
                        append(sp.field_separator)
                    append(sp.field_open.format(index))
                break
            else:
                return "".join(out)
    except EncodeError as error:
        raise at_path(error, frames) from None


_ARRAY, _OBJECT, _CONTRACT = 0, 1, 2
_compiled_encode = _accelerated.encode_text

#: Longest indentation of one level that the pretty form takes (spaces and tabs).
MAX_INDENT = 16


def indent_text(indent: int | str) -> str:
    """One level of indentation: ``indent`` spaces (an int), or ``indent`` itself (a string
    of spaces and tabs), at most MAX_INDENT characters; HLXError for anything else."""
    if type(indent) is int and 0 <= indent <= MAX_INDENT:
        return " " * indent
    if type(indent) is str and len(indent) <= MAX_INDENT and not indent.strip(" \t"):
        return indent
    raise HLXError(f"indent must be a number of spaces 0..{MAX_INDENT} or a string of at most {MAX_INDENT} spaces and tabs, not {indent!r}")


def encode_indented(value: Any, spelling: Spelling, indent: str) -> str:
    """The pretty text of ``value``: each member of a non-empty array, object or contract on
    a line of its own, indented ``indent`` per level; the canonical text apart from whitespace.

    Scalars are written by :func:`encode`; like it, this uses no recursion.
    """
    sp = spelling
    out: list[str] = []
    append = out.append
    separator = sp.separator.rstrip()
    frames: list[list[Any]] = []  # per open container: [kind, items, position of the next item]
    item = value
    try:
        while True:
            kind = type(item)
            if kind is not list and kind is not dict and kind is not Contract and isinstance(item, (list, dict)):
                item = plain_value(item)  # a list or dict subclass is written as its kind
                kind = type(item)
            if kind is list or kind is dict or kind is Contract:
                if len(frames) >= MAX_DEPTH:
                    raise EncodeError(kind_of(item), f"nesting deeper than {MAX_DEPTH} levels")
                if kind is list:
                    append(sp.array_open)
                    frames.append([_ARRAY, item, 0])
                elif kind is dict:
                    append(sp.object_open)
                    frames.append([_OBJECT, list(item.items()), 0])
                else:
                    append(sp.contract_open.format(item.id))
                    frames.append([_CONTRACT, item._fields, 0])
            else:
                append(encode(item, sp))
            while frames:  # the next item to write, closing the containers that are done
                frame = frames[-1]
                container, items, position = frame
                if position == len(items):
                    close = sp.array_close if container == _ARRAY else sp.object_close if container == _OBJECT else sp.contract_close
                    append("\n" + indent * (len(frames) - 1) + close if items else close)
                    frames.pop()
                    continue
                frame[2] = position + 1
                newline = "\n" + indent * len(frames)
                if container == _ARRAY:
                    append(separator + newline if position else newline)
                    item = items[position]
                elif container == _OBJECT:
                    append(separator + newline if position else newline)
                    key, item = items[position]
                    append(key_text(key, sp))
                    append(sp.pair_separator)
                else:
                    index, item = items[position]
                    lead = (sp.field_separator if position else "") + sp.field_open.format(index)
                    label = lead.lstrip(", ")  # "@1: " of ", @1: ", "1=" of ",1=": the comma ends the line before
                    append(lead[: len(lead) - len(label)].strip() + newline + label)
                break
            else:
                return "".join(out)
    except EncodeError as error:
        raise at_path(error, frames) from None


def at_path(error: EncodeError, frames: list[list[Any]]) -> EncodeError:
    """``error`` with the path of the item being written in each open frame, innermost first."""
    for container, items, position in reversed(frames):
        if container == _ARRAY:
            error._inside(f"[{position - 1}]")
        elif container == _OBJECT:
            error._inside(f"[{safe_repr(items[position - 1][0])}]")
        else:
            error._inside(f"@{items[position - 1][0]}")
    return error


def key_text(key: Any, spelling: Spelling) -> str:
    if type(key) is not str:
        raise EncodeError("object", f"key {safe_repr(key)} is {kind_of(key)}; object keys must be str")
    if IDENTIFIER.match(key) and key not in spelling.reserved_keys:
        return key
    return spelling.string(key)


_PLAIN_BASES: tuple[type[Any], ...] = (int, float, bytes, list, dict)  # bool cannot be subclassed


def plain_kind(value: Any) -> Any:
    """The plain-kind value of a subclass instance (an IntEnum, a str enum, an OrderedDict), or None."""
    if isinstance(value, str):
        return str.__str__(value)  # str() of a str enum would give its name, not its value
    for base in _PLAIN_BASES:
        if isinstance(value, base):
            return base(value)
    return None


def plain_value(value: Any) -> Any:
    """The plain-kind value of a subclass instance; EncodeError for anything else."""
    plain = plain_kind(value)
    if plain is not None:
        return plain
    hint = "; use a list for an array (or default=list)" if isinstance(value, tuple) else ""
    raise UnsupportedTypeError(
        kind_of(value),
        "not an HLX value (expected None, bool, int, float, str, bytes, Handle, Contract, list or dict)" + hint,
    )
