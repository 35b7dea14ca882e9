"""One encoder for the four text spellings: each format supplies a :class:`Spelling`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import _lexical as lex
from .errors import EncodeError
from .model import IDENTIFIER, MAX_DEPTH, Contract, Handle, kind_of


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


def encode(value: Any, spelling: Spelling) -> str:
    parts: list[str] = []
    _encode(value, spelling, parts, 0)
    return "".join(parts)


def _key(key: Any, spelling: Spelling) -> str:
    if type(key) is not str:
        raise EncodeError("object", f"key {key!r} is {kind_of(key)}; object keys must be str")
    if IDENTIFIER.match(key) and key not in spelling.reserved_keys:
        return key
    return spelling.string(key)


def _encode(value: Any, sp: Spelling, out: list[str], depth: int) -> None:
    kind = type(value)
    if value is None:
        out.append(sp.null)
    elif kind is bool:
        out.append(sp.true if value else sp.false)
    elif kind is int:
        lex.check_int(value)
        out.append(sp.integer(value))
    elif kind is float:
        out.append(lex.format_float(value))
    elif kind is str:
        out.append(sp.string(value))
    elif kind is bytes:
        out.append(sp.bytes_(value))
    elif kind is Handle:
        out.append(sp.handle_prefix + value.name)
    elif kind is list or kind is dict or kind is Contract:
        if depth >= MAX_DEPTH:
            raise EncodeError(kind_of(value), f"nesting deeper than {MAX_DEPTH} levels")
        if kind is list:
            _encode_array(value, sp, out, depth + 1)
        elif kind is dict:
            _encode_object(value, sp, out, depth + 1)
        else:
            _encode_contract(value, sp, out, depth + 1)
    else:
        _encode_other(value, sp, out, depth)


def _encode_array(value: list[Any], sp: Spelling, out: list[str], depth: int) -> None:
    out.append(sp.array_open)
    for position, item in enumerate(value):
        if position:
            out.append(sp.separator)
        try:
            _encode(item, sp, out, depth)
        except EncodeError as error:
            raise error._inside(f"[{position}]")
    out.append(sp.array_close)


def _encode_object(value: dict[Any, Any], sp: Spelling, out: list[str], depth: int) -> None:
    out.append(sp.object_open)
    first = True
    for key, item in value.items():
        if not first:
            out.append(sp.separator)
        first = False
        try:
            out.append(_key(key, sp))
            out.append(sp.pair_separator)
            _encode(item, sp, out, depth)
        except EncodeError as error:
            raise error._inside(f"[{key!r}]")
    out.append(sp.object_close)


def _encode_contract(value: Contract, sp: Spelling, out: list[str], depth: int) -> None:
    out.append(sp.contract_open.format(value.id))
    first = True
    for index, item in value.items():
        if not first:
            out.append(sp.field_separator)
        first = False
        out.append(sp.field_open.format(index))
        try:
            _encode(item, sp, out, depth)
        except EncodeError as error:
            raise error._inside(f"@{index}")
    out.append(sp.contract_close)


def plain_kind(value: Any) -> Any:
    """The plain-kind value of a subclass instance (an IntEnum, a str enum, an OrderedDict), or None."""
    if isinstance(value, str):
        return str.__str__(value)  # str() of a str enum would give its name, not its value
    for base in (int, float, bytes, list, dict):  # bool cannot be subclassed
        if isinstance(value, base):
            return base(value)
    return None


def _encode_other(value: Any, sp: Spelling, out: list[str], depth: int) -> None:
    # Subclasses of the plain kinds (IntEnum, str enums, OrderedDict...) encode as the kind.
    plain = plain_kind(value)
    if plain is not None:
        _encode(plain, sp, out, depth)
        return
    hint = "; use a list for an array" if isinstance(value, tuple) else ""
    raise EncodeError(
        kind_of(value),
        "not an HLX value (expected None, bool, int, float, str, bytes, Handle, Contract, list or dict)" + hint,
    )
