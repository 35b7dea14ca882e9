"""Extension hooks, as json has them: ``default`` when encoding a value outside the data
model, ``object_hook``, ``contract_hook`` and ``handle_hook`` when decoding.

The codecs themselves know only the data model; these functions rewrite a value before it
is encoded or after it is decoded, so that the codecs' own loops stay as fast as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ._encoder import UnsupportedTypeError, plain_kind
from .errors import EncodeError
from .model import MAX_DEPTH, Contract, Handle, kind_of, safe_repr

__all__ = ["Default", "encode_with", "prepare", "apply_hooks"]

#: ``default(obj)``: an HLX value to write in place of ``obj``, a value outside the data model.
Default = Callable[[Any], Any]
_T = TypeVar("_T")
_SCALARS = frozenset({type(None), bool, int, float, str, bytes, Handle})


def encode_with(encoder: Callable[[Any], _T], value: Any, default: Default | None, sort_keys: bool) -> _T:
    """``encoder(value)`` with ``default`` applied to values outside the data model and object
    keys sorted when ``sort_keys``; a value that needs no ``default`` is encoded only once."""
    if sort_keys:
        return encoder(prepare(value, default, sort_keys=True))
    if default is None:
        return encoder(value)
    try:
        return encoder(value)
    except UnsupportedTypeError:
        pass  # encoded again below, with default applied
    return encoder(prepare(value, default, sort_keys=False))


def prepare(value: Any, default: Default | None, sort_keys: bool) -> Any:
    """``value`` with each value outside the data model replaced by ``default(value)`` (when
    given) and each object's keys in sorted order (when ``sort_keys``).

    ``default`` must return an HLX value (whose members may use ``default`` again); anything
    else is an UnsupportedTypeError at the path of the value it was given. Exceptions that
    ``default`` raises itself pass through, as with json.
    """
    return _prepare(value, default, sort_keys, 0)


def _prepare(value: Any, default: Default | None, sort_keys: bool, depth: int) -> Any:
    """:func:`prepare` at nesting ``depth`` (at most MAX_DEPTH + 1 frames deep)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list or kind is dict or kind is Contract:
        if depth >= MAX_DEPTH:
            raise EncodeError(kind_of(value), f"nesting deeper than {MAX_DEPTH} levels")
        return _prepare_container(value, default, sort_keys, depth + 1)
    plain = plain_kind(value)
    if plain is not None:
        return _prepare(plain, default, sort_keys, depth)
    if default is None:
        return value  # the encoder reports it
    replaced = default(value)
    if type(replaced) not in _SCALARS and type(replaced) not in (list, dict, Contract) and plain_kind(replaced) is None:
        raise UnsupportedTypeError(
            kind_of(value), f"default returned {kind_of(replaced)} ({type(replaced).__name__}), which is not an HLX value"
        )
    return _prepare(replaced, default, sort_keys, depth)


def _prepare_container(value: Any, default: Default | None, sort_keys: bool, depth: int) -> Any:
    """A list, dict or Contract with its members prepared (an error names the member's path)."""
    if type(value) is list:
        items: list[Any] = []
        for position, item in enumerate(value):
            try:
                items.append(_prepare(item, default, sort_keys, depth))
            except EncodeError as error:
                raise error._inside(f"[{position}]") from None
        return items
    if type(value) is dict:
        pairs = list(value.items())
        if sort_keys and all(type(key) is str for key in value):
            pairs.sort(key=lambda pair: pair[0])  # a key that is not a str is left for the encoder to report
        result: dict[Any, Any] = {}
        for key, item in pairs:
            try:
                result[key] = _prepare(item, default, sort_keys, depth)
            except EncodeError as error:
                raise error._inside(f"[{safe_repr(key)}]") from None
        return result
    fields: list[tuple[int, Any]] = []
    for index, item in value.items():
        try:
            fields.append((index, _prepare(item, default, sort_keys, depth)))
        except EncodeError as error:
            raise error._inside(f"@{index}") from None
    return Contract(value.id, fields)


def apply_hooks(
    value: Any,
    object_hook: Callable[[dict[str, Any]], Any] | None = None,
    contract_hook: Callable[[Contract], Any] | None = None,
    handle_hook: Callable[[Handle], Any] | None = None,
) -> Any:
    """``value`` (a decoded value) rebuilt from the innermost out, each object, contract and
    handle replaced by what its hook returns (a contract's fields hold its members' results).

    With no hook, ``value`` itself. Decoded values are at most MAX_DEPTH deep, which bounds
    the recursion.
    """
    if object_hook is None and contract_hook is None and handle_hook is None:
        return value
    return _hooked(value, object_hook, contract_hook, handle_hook)


def _hooked(value: Any, object_hook: Any, contract_hook: Any, handle_hook: Any) -> Any:
    kind = type(value)
    if kind is list:
        return [_hooked(item, object_hook, contract_hook, handle_hook) for item in value]
    if kind is dict:
        result = {key: _hooked(item, object_hook, contract_hook, handle_hook) for key, item in value.items()}
        return result if object_hook is None else object_hook(result)
    if kind is Contract:
        contract = Contract(value.id, [(index, _hooked(item, object_hook, contract_hook, handle_hook)) for index, item in value.items()])
        return contract if contract_hook is None else contract_hook(contract)
    if kind is Handle and handle_hook is not None:
        return handle_hook(value)
    return value
