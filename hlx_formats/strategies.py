"""Hypothesis strategies for the HLX data model, for property tests (yours and ours).

``import hlx_formats`` never imports Hypothesis; importing this module does (Hypothesis is
in the ``[dev]`` extra)::

    from hypothesis import given
    from hlx_formats import from_lcr, to_lcr, values_equal
    from hlx_formats.strategies import values

    @given(values())
    def test_lcr_round_trip(value):
        assert values_equal(from_lcr(to_lcr(value)), value)

The strategies lean towards the awkward corners of every format: integers at the edges of
each LC-B integer tag, ``-0.0`` and subnormal floats, strings full of quotes, backslashes,
control characters, non-ASCII and astral-plane characters and the LC-R glyphs, object keys
that are reserved words in some format, contracts with the known ids.

By default every value also fits the LC-B binary layout (:func:`values`), so it can be
written in all five spellings. :func:`oversized_values` generates values that break
exactly one limit of the binary layout, to check that ``to_lcb`` refuses them by name and
that the text formats accept them.
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from .model import CONTRACT_ID_MAX, FIELD_INDEX_MAX, INT_MAX, INT_MIN, MAX_DEPTH, Contract, Handle

__all__ = [
    "examples",
    "INT_EDGES",
    "FLOAT_EDGES",
    "AWKWARD_CHARACTERS",
    "RESERVED_KEYS",
    "AWKWARD_KEYS",
    "KNOWN_CONTRACT_IDS",
    "integers",
    "floats",
    "characters",
    "strings",
    "byte_strings",
    "handle_names",
    "handles",
    "scalars",
    "keys",
    "field_indices",
    "contract_ids",
    "arrays",
    "objects",
    "contracts",
    "values",
    "oversized_values",
]

#: Integers at the edges of every LC-B integer tag and of the data model's range.
INT_EDGES: tuple[int, ...] = tuple(
    sorted(
        {
            0, 1, -1, 42, -42,
            127, 128, -128, -129, 255, 256,
            32767, 32768, -32768, -32769, 65535, 65536,
            2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**32 - 1, 2**32,
            2**63 - 1, 2**63, -(2**63), 2**64 - 1,
        }
    )
)  # fmt: skip

#: Floats that stress the shortest-repr spelling: signed zeros, subnormals, the extremes,
#: and the points where ``repr`` switches to and from the exponent form (1e-4, 1e16).
FLOAT_EDGES: tuple[float, ...] = (
    0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308,
    1.7976931348623157e308, -1.7976931348623157e308,
    1e-4, 9.999999999999999e-05, 1e-05, 1.5e-07, 1e16, 9999999999999998.0, 1e15,
    1e22, 1e23, 1e100, -1e100, 0.1, 0.5, -0.5, 1.0, -1.0, 100.0, 3.14, 2.0**53, 2.0**64,
    123456789.0, 1.2345678901234567e-300,
)  # fmt: skip

#: Characters that some format must escape, or that look like syntax of some format.
AWKWARD_CHARACTERS: tuple[str, ...] = (
    '"', "\\", "'", "/", " ", "\t", "\n", "\r", "\b", "\f", "\x00", "\x01", "\x1b", "\x1f", "\x7f",
    "\x80", "\x9f", "\xa0", "é", "ß", "\u2028", "\u2029", "\ufeff", "\ufffd", "\uffff",
    "\U00010000", "\U0001f600", "\U0010ffff",
    # Syntax of the formats.
    "[", "]", "{", "}", ",", ":", "=", "|", "@", "&", "#", "_", "b", "x", "0", "-", "+", "e", "E", ".",
    # LC-R glyphs, and the legacy ones.
    "∅", "⊤", "⊥", "⊠", "⟁", "🜊", "🜁", "🜂", "🜃", "🜄", "◇", "◆", "🐊", "🐁", "🐂", "🐃", "🐄",
)  # fmt: skip

#: Words that are reserved as bare keys in some format (HLXL, LC-T, LC-B text).
RESERVED_KEYS: tuple[str, ...] = ("null", "true", "false", "NULL", "TRUE", "FALSE", "C", "T", "F", "_")

#: Keys that must be quoted somewhere, or look like they might need to be.
AWKWARD_KEYS: tuple[str, ...] = RESERVED_KEYS + (
    "", " ", "two words", "1abc", "0", "-1", "1.5", "a-b", "a.b", "é", "café", "naïve", "日本",
    "🜊", "∅", "◇", "🐊", 'say "hi"', "back\\slash", "\n", "\x00", "\x7f", "@0", "&h_x", "h_x",
    "#ff", "b", "x", "c", "t", "Null", "nulls", "True_", "_0", "__", "C0", "NaN", "Infinity",
)  # fmt: skip

#: The contract ids of the spec's table of known contracts.
KNOWN_CONTRACT_IDS: tuple[int, ...] = (14, 16, 900, 901, 902, 1000)

_IDENTIFIER_START = string.ascii_letters + "_"
_IDENTIFIER_REST = _IDENTIFIER_START + string.digits


def integers() -> st.SearchStrategy[int]:
    """Integers over the whole range -2**63 .. 2**64-1, with the edges of every LC-B tag."""
    return st.one_of(
        st.sampled_from(INT_EDGES),
        st.integers(-300, 300),
        st.integers(INT_MIN, INT_MAX),
    )


def floats() -> st.SearchStrategy[float]:
    """Finite floats: ``-0.0``, subnormals, huge and tiny magnitudes, exponent forms."""
    return st.one_of(
        st.sampled_from(FLOAT_EDGES),
        st.floats(allow_nan=False, allow_infinity=False),
        # Short decimals, the kind people write.
        st.builds(lambda m, e: float(f"{m}e{e}"), st.integers(-99999, 99999), st.integers(-30, 30)),
    )


def characters() -> st.SearchStrategy[str]:
    """One Unicode scalar value (never a surrogate), often an awkward one."""
    return st.one_of(
        st.sampled_from(AWKWARD_CHARACTERS),
        st.characters(codec="utf-8"),  # every scalar value, no surrogates
    )


def strings(max_size: int = 16) -> st.SearchStrategy[str]:
    """Strings of Unicode scalar values with quotes, escapes, controls, glyphs, astral characters.

    ``max_size`` counts characters; the default keeps far below the LC-B binary limit of
    65,535 UTF-8 bytes.
    """
    # A list joined, not st.text: st.text would merge the alphabet into one set of code
    # points and lose the weight on the awkward characters.
    return st.lists(characters(), max_size=max_size).map("".join)


def byte_strings(max_size: int = 24) -> st.SearchStrategy[bytes]:
    """``bytes`` values, often with the bytes that HLXL spells specially (``"``, ``\\``, controls)."""
    return st.one_of(
        st.binary(max_size=max_size),
        st.lists(st.sampled_from(b'\x00"\\\n\r\t\x7f\x80\xffa #'), max_size=max_size).map(bytes),
    )


def handle_names(max_size: int = 24) -> st.SearchStrategy[str]:
    """Identifiers ``[A-Za-z_][A-Za-z0-9_]*``; ``max_size`` bounds the length (at least 1)."""
    return st.one_of(
        st.sampled_from(("documents", "model", "data", "x", "_", "C", "T", "NULL", "null", "h_", "vs", "fs")),
        st.builds(
            lambda first, rest: first + rest,
            st.sampled_from(_IDENTIFIER_START),
            st.text(st.sampled_from(_IDENTIFIER_REST), max_size=max(0, max_size - 1)),
        ),
    )


def handles(max_size: int = 24) -> st.SearchStrategy[Handle]:
    """``Handle`` values with identifier names (see :func:`handle_names`)."""
    return handle_names(max_size).map(Handle)


def scalars() -> st.SearchStrategy[Any]:
    """Every kind that is not a container: None, bool, int, float, str, bytes, Handle."""
    return st.one_of(
        st.none(),
        st.booleans(),
        integers(),
        floats(),
        strings(),
        byte_strings(),
        handles(),
    )


def keys(max_size: int = 12) -> st.SearchStrategy[str]:
    """Object keys: identifiers, reserved words of each format, the empty key, keys that
    need quotes, non-ASCII keys. Always within the LC-B limit of 255 UTF-8 bytes."""
    return st.one_of(
        st.sampled_from(AWKWARD_KEYS),
        handle_names(max_size),
        strings(max_size),
    )


def field_indices() -> st.SearchStrategy[int]:
    """Contract field indices 0..255, often at the ends."""
    return st.one_of(st.sampled_from((0, 1, 2, 3, FIELD_INDEX_MAX)), st.integers(0, FIELD_INDEX_MAX))


def contract_ids() -> st.SearchStrategy[int]:
    """Contract ids 0..65535: the known ids (14, 16, 900, 901, 902, 1000), the ends, any."""
    return st.one_of(
        st.sampled_from(KNOWN_CONTRACT_IDS + (0, 1, CONTRACT_ID_MAX)),
        st.integers(0, CONTRACT_ID_MAX),
    )


def arrays(elements: st.SearchStrategy[Any] | None = None, max_size: int = 5) -> st.SearchStrategy[list[Any]]:
    """Lists of ``elements`` (default: :func:`scalars`)."""
    return st.lists(scalars() if elements is None else elements, max_size=max_size)


def objects(
    elements: st.SearchStrategy[Any] | None = None,
    max_size: int = 5,
    key_strategy: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts with awkward ``str`` keys (:func:`keys`) in the order drawn (it is data)."""
    return st.dictionaries(
        keys() if key_strategy is None else key_strategy,
        scalars() if elements is None else elements,
        max_size=max_size,
    )


def contracts(
    elements: st.SearchStrategy[Any] | None = None,
    *,
    ids: st.SearchStrategy[int] | None = None,
    max_fields: int = 4,
) -> st.SearchStrategy[Contract]:
    """``Contract`` values: an id from ``ids`` (default :func:`contract_ids`) and 1 to
    ``max_fields`` fields with indices 0..255 and values from ``elements`` (default
    :func:`scalars`). Built from a mapping or from pairs, in the order drawn (the contract
    sorts them)."""
    fields = st.dictionaries(field_indices(), scalars() if elements is None else elements, min_size=1, max_size=max_fields)
    as_pairs = fields.map(lambda mapping: list(mapping.items()))
    return st.builds(
        Contract,
        contract_ids() if ids is None else ids,
        st.one_of(fields, as_pairs),
    )


def _containers(children: st.SearchStrategy[Any], max_size: int) -> st.SearchStrategy[Any]:
    return st.one_of(
        arrays(children, max_size),
        objects(children, max_size),
        contracts(children, max_fields=max_size),
    )


def values(max_depth: int = 4, max_leaves: int = 24, *, max_size: int = 5) -> st.SearchStrategy[Any]:
    """Any HLX value, of every kind (see :func:`scalars`, :func:`arrays`, :func:`objects`,
    :func:`contracts`), with at most ``max_depth`` levels of nested containers and at most
    ``max_leaves`` scalars; ``max_size`` bounds the length of each container.

    Every value fits the LC-B binary layout, so it can be written in all five spellings;
    use :func:`oversized_values` for values that do not.
    """
    if not 0 <= max_depth <= MAX_DEPTH:
        raise ValueError(f"max_depth must be in 0..{MAX_DEPTH}, not {max_depth}")
    if max_leaves < 1:
        raise ValueError(f"max_leaves must be at least 1, not {max_leaves}")
    leaves = scalars()
    if max_depth == 0:
        return leaves
    # st.recursive bounds the leaves (and draws shallow trees most of the time); the rare
    # deeper one has its innermost containers replaced by one of their scalars. A quarter
    # of the values are a bare scalar (st.recursive alone draws few).
    tree = st.recursive(leaves, lambda children: _containers(children, max_size), max_leaves=max_leaves)
    pruned = tree.map(lambda value: _prune(value, max_depth))
    return st.one_of(leaves, pruned, pruned, pruned)


def _prune(value: Any, room: int) -> Any:
    """``value`` with every container nested deeper than ``room`` levels replaced by its
    first scalar (or None when it has none)."""
    kind = type(value)
    if kind is not list and kind is not dict and kind is not Contract:
        return value
    if room == 0:
        stack = [value]
        while stack:
            item = stack.pop()
            if type(item) is list:
                stack.extend(reversed(item))
            elif type(item) is dict:
                stack.extend(reversed(list(item.values())))
            elif type(item) is Contract:
                stack.extend(reversed([field for _, field in item.items()]))
            else:
                return item
        return None
    if kind is list:
        return [_prune(item, room - 1) for item in value]
    if kind is dict:
        return {key: _prune(item, room - 1) for key, item in value.items()}
    return Contract(value.id, {index: _prune(item, room - 1) for index, item in value.items()})


# --- over the binary limits ---------------------------------------------------------

#: Each entry: a name for the limit broken, and how to build an oversize value of it.
_OVERSIZE_BUILDERS: dict[str, Any] = {
    "string": lambda n: "x" * (65536 + n),
    # 2 UTF-8 bytes a character: under 65,536 characters but over 65,535 bytes.
    "string-utf8": lambda n: "é" * (32768 + n),
    "bytes": lambda n: b"\x00" * (65536 + n),
    "array": lambda n: [None] * (65536 + n),
    "object": lambda n: {f"k{i}": i for i in range(256 + n)},
    "key": lambda n: {"k" * (256 + n): 1},
    "key-utf8": lambda n: {"é" * (128 + n): 1},
    "handle": lambda n: Handle("h" * (256 + n)),
    "contract": lambda n: Contract(1000, {i: i for i in range(256)}),
}


def oversized_values(kinds: tuple[str, ...] | None = None) -> st.SearchStrategy[tuple[str, Any]]:
    """Pairs ``(limit, value)`` where ``value`` breaks one limit of the LC-B binary layout.

    ``limit`` is one of ``"string"`` (over 65,535 UTF-8 bytes; also ``"string-utf8"``,
    under 65,536 characters but over 65,535 bytes), ``"bytes"``, ``"array"`` (over 65,535
    elements), ``"object"`` (over 255 pairs), ``"key"`` / ``"key-utf8"`` (over 255 bytes),
    ``"handle"`` (a name over 255 bytes) and ``"contract"`` (256 fields). The oversize part
    sits at the top or inside a small array, object or contract. Such values are valid in
    the text formats, and ``to_lcb`` refuses them with an EncodeError that names the limit.
    The values are large: keep ``max_examples`` small.
    """
    names = tuple(_OVERSIZE_BUILDERS) if kinds is None else kinds
    unknown = set(names) - set(_OVERSIZE_BUILDERS)
    if unknown:
        raise ValueError(f"unknown limits {sorted(unknown)}; expected some of {sorted(_OVERSIZE_BUILDERS)}")

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, Any]:
        name = draw(st.sampled_from(names))
        big = _OVERSIZE_BUILDERS[name](draw(st.integers(0, 3)))
        wrapper = draw(st.sampled_from(("top", "array", "object", "contract")))
        if wrapper == "array":
            before = draw(st.lists(scalars(), max_size=2))
            return name, [*before, big]
        if wrapper == "object":
            return name, {draw(keys()): big}
        if wrapper == "contract":
            return name, Contract(draw(contract_ids()), {draw(field_indices()): big})
        return name, big

    return build()


def examples(count: int) -> int:
    """``count`` scaled by the loaded Hypothesis profile (``max_examples`` / 100), for tests
    that set their own ``max_examples`` (see tests/conftest.py for the profiles)."""
    profile = settings.default
    assert profile is not None  # Hypothesis always has a loaded profile (its own default at least)
    return max(1, count * profile.max_examples // 100)
