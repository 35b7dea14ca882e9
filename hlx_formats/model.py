"""The HLX data model: two small value types and the limits every format shares.

Every other kind is a plain Python value: ``None``, ``bool``, ``int``, ``float``, ``str``,
``bytes``, ``list`` and ``dict`` with ``str`` keys. See ``docs/formats.md``.
"""

from __future__ import annotations

import math
import operator
import re
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Union, cast

from .errors import EncodeError

__all__ = [
    "Handle",
    "Contract",
    "Value",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_INPUT_SIZE",
    "INT_MIN",
    "INT_MAX",
    "kind_of",
    "values_equal",
    "value_depth",
    "value_size",
    "iter_values",
    "CONTRACT_ID_MAX",
    "FIELD_INDEX_MAX",
    "IDENTIFIER",
    "check_float",
    "safe_repr",
]

#: Deepest nesting of arrays, objects and contracts that every parser and encoder accepts.
#: ``[[1]]`` has depth 2; a scalar has depth 0. Deeper input is a ParseError/EncodeError.
MAX_DEPTH = 256
#: Integer range of the data model (what LC-B binary can carry: int64 and uint64).
INT_MIN = -(2**63)
INT_MAX = 2**64 - 1
#: Longest integer literal (in digits, leading zeros included, sign aside) that a parser reads:
#: Python's default limit on int/str conversion (``sys.int_info.default_max_str_digits``).
#: Every literal of more than 20 significant digits is out of range anyway and is read without
#: conversion; a longer one is a ParseError that names this limit.
MAX_INT_DIGITS = 4300
#: Largest input the ``hlx`` command reads (bytes) and ``translate()`` answers (characters):
#: 16 MiB. Larger input is refused with an error before it is parsed; the library decoders
#: themselves take any length (time and memory linear in it).
MAX_INPUT_SIZE = 16 * 2**20
#: Contract ids and field indices.
CONTRACT_ID_MAX = 65535
FIELD_INDEX_MAX = 255

_first = operator.itemgetter(0)

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

Value = Union[None, bool, int, float, str, bytes, "Handle", "Contract", list[Any], dict[str, Any]]


class Handle:
    """A named reference, such as ``Handle("documents")`` (HLXL ``&h_documents``).

    The name is an identifier ``[A-Za-z_][A-Za-z0-9_]*``; anything else is an EncodeError.
    """

    __slots__ = ("name",)
    name: str

    def __init__(self, name: str) -> None:
        if type(name) is not str or not IDENTIFIER.match(name):
            raise EncodeError("handle", f"name {name!r} is not an identifier [A-Za-z_][A-Za-z0-9_]*")
        object.__setattr__(self, "name", name)

    @classmethod
    def _from_checked(cls, name: str) -> Handle:
        """A handle whose name a parser has already matched as an identifier."""
        handle = object.__new__(cls)
        object.__setattr__(handle, "name", name)
        return handle

    def __setattr__(self, attr: str, value: object) -> None:
        raise AttributeError("Handle is immutable")

    def __delattr__(self, attr: str) -> None:
        raise AttributeError("Handle is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is Handle:
            return self.name == other.name
        return NotImplemented

    def __hash__(self) -> int:
        return hash((Handle, self.name))

    def __repr__(self) -> str:
        return f"Handle({self.name!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Handle, (self.name,))


class Contract:
    """A typed operation: an id (0..65535) and one or more fields indexed 0..255.

    ``fields`` is a mapping from index to value, or an iterable of ``(index, value)`` pairs
    (where a repeated index is an error). Fields are kept in ascending index order, which
    is the canonical order of every format. ``Contract(1000, {0: "search", 1:
    Handle("documents")})`` is HLXL ``{1000: {@0: "search", @1: &h_documents}}``.

    Equality is by value and strict about kinds (``1``, ``1.0`` and ``True`` differ, as do
    ``0.0`` and ``-0.0``), like :func:`values_equal`. A contract is hashable; its hash is
    taken from its fields, so do not mutate a list or dict held in a field after hashing.
    """

    __slots__ = ("id", "_fields", "_hash")
    id: int
    _fields: tuple[tuple[int, Any], ...]  # sorted by index; set once, through object.__setattr__
    _hash: int | None  # computed on the first hash()

    def __init__(self, id: int, fields: Mapping[int, Any] | Iterable[tuple[int, Any]]) -> None:
        if type(id) is not int or not 0 <= id <= CONTRACT_ID_MAX:
            raise EncodeError("contract", f"id {safe_repr(id)} is not an integer in 0..{CONTRACT_ID_MAX}")
        pairs = fields.items() if isinstance(fields, Mapping) else fields
        collected: dict[int, Any] = {}
        try:
            for index, value in pairs:
                if type(index) is not int or not 0 <= index <= FIELD_INDEX_MAX:
                    raise EncodeError("contract", f"field index {safe_repr(index)} is not an integer in 0..{FIELD_INDEX_MAX}")
                if index in collected:
                    raise EncodeError("contract", f"duplicate field index {index}")
                collected[index] = value
        except (TypeError, ValueError) as exc:
            if isinstance(exc, EncodeError):
                raise
            raise EncodeError("contract", f"fields must be a mapping or (index, value) pairs: {exc}") from None
        if not collected:
            raise EncodeError("contract", "a contract needs at least one field")
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "_fields", tuple(sorted(collected.items(), key=lambda item: item[0])))
        object.__setattr__(self, "_hash", None)

    @classmethod
    def _from_checked(cls, id: int, fields: list[tuple[int, Any]]) -> Contract:
        """A contract from an id and at least one field that a parser has already checked
        (id and indices in range, no index twice)."""
        contract = object.__new__(cls)
        object.__setattr__(contract, "id", id)
        object.__setattr__(contract, "_fields", tuple(sorted(fields, key=_first)))
        object.__setattr__(contract, "_hash", None)
        return contract

    @property
    def fields(self) -> dict[int, Any]:
        """The fields as a new ``{index: value}`` dict in ascending index order."""
        return dict(self._fields)

    def items(self) -> tuple[tuple[int, Any], ...]:
        """The ``(index, value)`` pairs in ascending index order."""
        return self._fields

    def __getitem__(self, index: int) -> Any:
        for key, value in self._fields:
            if key == index:
                return value
        raise KeyError(index)

    def __len__(self) -> int:
        return len(self._fields)

    def __setattr__(self, attr: str, value: object) -> None:
        raise AttributeError("Contract is immutable")

    def __delattr__(self, attr: str) -> None:
        raise AttributeError("Contract is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not Contract:
            return NotImplemented
        return values_equal(self, other)

    def __hash__(self) -> int:
        cached = self._hash
        if cached is None:
            cached = hash(_freeze(self))
            object.__setattr__(self, "_hash", cached)
        return cached

    def __repr__(self) -> str:
        return value_repr(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Contract, (self.id, dict(self._fields)))


def kind_of(value: object) -> str:
    """The data-model kind of a Python value, or its type name when it is not one."""
    if value is None:
        return "null"
    kind = _KINDS.get(type(value))
    if kind is not None:
        return kind
    return type(value).__name__


_KINDS = {
    bool: "boolean",
    int: "integer",
    float: "float",
    str: "string",
    bytes: "bytes",
    Handle: "handle",
    Contract: "contract",
    list: "array",
    dict: "object",
}


def _float_key(value: float) -> bytes:
    # Compare floats by their bits, so that -0.0 and 0.0 differ.
    return struct.pack("<d", value)


def values_equal(a: Any, b: Any) -> bool:
    """Strict equality of two HLX values, as the data model means it.

    Unlike ``==``, kinds must match (``1``, ``1.0`` and ``True`` differ), ``-0.0`` differs
    from ``0.0``, and object key order matters (it is data). Works without recursion, so
    any depth is fine; a pair of containers already under comparison counts as equal, so a
    value that contains itself terminates.
    """
    stack = [(a, b)]
    compared: set[tuple[int, int]] = set()
    while stack:
        x, y = stack.pop()
        tx = type(x)
        if tx is not type(y):
            return False
        if tx is list or tx is dict or tx is Contract:
            pair = (id(x), id(y))
            if pair in compared:
                continue
            compared.add(pair)
        if tx is list:
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif tx is dict:
            if len(x) != len(y) or list(x) != list(y):
                return False
            stack.extend((x[key], y[key]) for key in x)
        elif tx is Contract:
            if x.id != y.id or len(x._fields) != len(y._fields):
                return False
            for (ix, vx), (iy, vy) in zip(x._fields, y._fields):
                if ix != iy:
                    return False
                stack.append((vx, vy))
        elif tx is float:
            if _float_key(x) != _float_key(y):
                return False
        elif x != y:
            return False
    return True


def _shallow_key(value: Any) -> Any:
    """A hashable summary of a value, one level deep, that keeps the distinctions
    values_equal makes: equal values give equal keys, and nothing recurses."""
    kind = type(value)
    if kind is list:
        return ("array", len(value))
    if kind is dict:
        return ("object", tuple(value))
    if kind is Contract:
        return ("contract", value.id, tuple(index for index, _ in value._fields))
    if kind is float:
        return ("float", _float_key(value))
    return (kind.__name__, value)


def _freeze(contract: Contract) -> Any:
    return ("contract", contract.id, tuple((index, _shallow_key(item)) for index, item in contract._fields))


def _children(value: Any) -> Iterable[Any]:
    kind = type(value)
    if kind is list:
        return cast("list[Any]", value)
    if kind is dict:
        return cast("dict[str, Any]", value).values()
    if kind is Contract:
        return (item for _, item in value._fields)
    return ()


_CONTAINER_TYPES = (list, dict, Contract)


def _fold(value: Any, leaf: int, combine: Callable[[list[int]], int]) -> int:
    """Fold a value bottom-up without recursion: ``leaf`` for a scalar, ``combine`` of the
    children's results for a container. A container held twice is folded once; a container
    inside itself is an EncodeError (the value would be infinite)."""
    done: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        item, leaving = stack.pop()
        if type(item) not in _CONTAINER_TYPES:
            continue
        key = id(item)
        if leaving:
            open_.discard(key)
            done[key] = combine([done[id(child)] if type(child) in _CONTAINER_TYPES else leaf for child in _children(item)])
        elif key not in done:
            if key in open_:
                raise EncodeError(kind_of(item), "the value contains itself")
            open_.add(key)
            stack.append((item, True))
            stack.extend((child, False) for child in _children(item))
    return done[id(value)] if type(value) in _CONTAINER_TYPES else leaf


def value_depth(value: Any) -> int:
    """Nesting depth: 0 for a scalar, 1 for ``[1, 2]``, 2 for ``[[1]]`` (no recursion).

    EncodeError for a container that contains itself.
    """
    return _fold(value, 0, lambda depths: 1 + max(depths, default=0))


def iter_values(value: Any) -> Iterator[Any]:
    """Every value in the tree, containers included, the root first (no recursion).

    EncodeError, when it comes to it, for a container inside itself.
    """
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        item, leaving = stack.pop()
        if leaving:
            open_.discard(id(item))
            continue
        yield item
        if type(item) in _CONTAINER_TYPES:
            if id(item) in open_:
                raise EncodeError(kind_of(item), "the value contains itself")
            open_.add(id(item))
            stack.append((item, True))
            stack.extend((child, False) for child in _children(item))


def value_size(value: Any) -> int:
    """Number of values in the tree, containers included (``[1, [2]]`` has 4).

    A container held twice counts twice, as it would once encoded; EncodeError for a
    container inside itself.
    """
    return _fold(value, 1, lambda sizes: 1 + sum(sizes))


def safe_repr(value: Any) -> str:
    """``repr(value)`` for a message, never raising (an int over Python's int/str limit is
    described by its size)."""
    try:
        return repr(value)
    except Exception:  # noqa: BLE001 - a message must not fail
        if isinstance(value, int):
            return f"<integer of {value.bit_length()} bits>"
        return f"<{type(value).__name__} object>"


def value_repr(value: Any) -> str:
    """``repr`` of a value, without recursion, so that any depth prints (``[...]`` for a
    container inside itself, as Python writes it)."""
    out: list[str] = []
    open_: set[int] = set()
    stack: list[tuple[int, Any]] = [(_VALUE, value)]
    while stack:
        what, item = stack.pop()
        if what == _TEXT:
            out.append(item)
            continue
        if what == _LEAVE:
            open_.discard(item)
            continue
        kind = type(item)
        if kind not in _CONTAINER_TYPES:
            out.append(safe_repr(item))
            continue
        if id(item) in open_:
            out.append("[...]" if kind is list else "{...}" if kind is dict else "Contract(...)")
            continue
        open_.add(id(item))
        parts: list[tuple[str | None, Any]]
        if kind is list:
            opener, closer, parts = "[", "]", [(None, child) for child in item]
        elif kind is dict:
            opener, closer, parts = "{", "}", [(safe_repr(key) + ": ", child) for key, child in item.items()]
        else:
            opener, closer = f"Contract({item.id}, {{", "})"
            parts = [(f"{index}: ", child) for index, child in item._fields]
        stack.append((_LEAVE, id(item)))
        stack.append((_TEXT, closer))
        for position in range(len(parts) - 1, -1, -1):
            prefix, child = parts[position]
            stack.append((_VALUE, child))
            if prefix is not None:
                stack.append((_TEXT, prefix))
            if position:
                stack.append((_TEXT, ", "))
        stack.append((_TEXT, opener))
    return "".join(out)


_VALUE, _TEXT, _LEAVE = 0, 1, 2


def check_float(value: float) -> None:
    if math.isnan(value) or math.isinf(value):
        raise EncodeError("float", f"{value!r} is not allowed (NaN and infinities are rejected)")
