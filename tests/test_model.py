"""The data model: Handle, Contract, values_equal, value_depth, value_size, and the strategies."""

from __future__ import annotations

import copy
import enum
import pickle
import subprocess
import sys
from collections import OrderedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hlx_formats
from hlx_formats import (
    MAX_DEPTH,
    Contract,
    EncodeError,
    Handle,
    HLXError,
    iter_values,
    value_depth,
    value_size,
    values_equal,
)
from hlx_formats import strategies as hs
from hlx_formats.strategies import examples

# --- Handle --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["documents", "x", "_", "_0", "h_", "A9_z", "null", "C", "T", "a" * 300])
def test_handle_accepts_identifiers(name):
    assert Handle(name).name == name


@pytest.mark.parametrize("name", ["", "1bad", "a b", "a-b", "é", "x\n", " x", "x ", "&h_x", "@x", "a.b", "٣"])
def test_handle_refuses_non_identifiers(name):
    with pytest.raises(EncodeError) as info:
        Handle(name)
    assert info.value.kind == "handle"
    assert repr(name) in str(info.value)


@pytest.mark.parametrize("name", [42, None, b"abc", Handle("x")])
def test_handle_refuses_non_str(name):
    with pytest.raises(EncodeError):
        Handle(name)


def test_handle_is_immutable():
    handle = Handle("documents")
    with pytest.raises(AttributeError):
        handle.name = "other"
    with pytest.raises(AttributeError):
        del handle.name
    with pytest.raises(AttributeError):
        handle.extra = 1
    assert handle.name == "documents"


def test_handle_equality_hash_repr():
    assert Handle("a") == Handle("a")
    assert Handle("a") != Handle("b")
    assert Handle("a") != "a" and "a" != Handle("a")
    assert hash(Handle("a")) == hash(Handle("a"))
    assert len({Handle("a"), Handle("a"), Handle("b")}) == 2
    assert repr(Handle("documents")) == "Handle('documents')"
    assert eval(repr(Handle("x_1")), {"Handle": Handle}) == Handle("x_1")


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_handle_pickles(protocol):
    handle = Handle("documents")
    again = pickle.loads(pickle.dumps(handle, protocol))
    assert type(again) is Handle and again == handle
    assert copy.copy(handle) == handle and copy.deepcopy(handle) == handle


# --- Contract ------------------------------------------------------------------------


def test_contract_from_mapping_sorts_fields():
    contract = Contract(1000, {2: "c", 0: "a", 1: "b"})
    assert contract.id == 1000
    assert contract.items() == ((0, "a"), (1, "b"), (2, "c"))
    assert list(contract.fields) == [0, 1, 2]
    assert contract.fields == {0: "a", 1: "b", 2: "c"}
    assert len(contract) == 3
    assert contract[1] == "b"
    with pytest.raises(KeyError):
        contract[3]


def test_contract_from_pairs_sorts_fields():
    from_pairs = Contract(14, [(1, "b"), (0, "a")])
    assert from_pairs.items() == ((0, "a"), (1, "b"))
    assert from_pairs == Contract(14, {0: "a", 1: "b"})
    assert Contract(14, iter([(5, None)])) == Contract(14, {5: None})
    assert Contract(14, ((255, 1), (0, 2))).items() == ((0, 2), (255, 1))


def test_contract_limits_inclusive():
    assert Contract(0, {0: None}).id == 0
    assert Contract(65535, {255: None}).items() == ((255, None),)
    assert len(Contract(1, {i: i for i in range(256)})) == 256


@pytest.mark.parametrize(
    "contract_id, fields, message",
    [
        (-1, {0: 1}, "id -1"),
        (65536, {0: 1}, "id 65536"),
        (True, {0: 1}, "id True"),
        (1.0, {0: 1}, "id 1.0"),
        ("14", {0: 1}, "id '14'"),
        (None, {0: 1}, "id None"),
        (14, {}, "at least one field"),
        (14, [], "at least one field"),
        (14, {-1: 1}, "field index -1"),
        (14, {256: 1}, "field index 256"),
        (14, {"0": 1}, "field index '0'"),
        (14, {True: 1}, "field index True"),
        (14, {0.0: 1}, "field index 0.0"),
        (14, [(0, "a"), (0, "b")], "duplicate field index 0"),
        (14, [(1, "a"), (0, "b"), (1, "c")], "duplicate field index 1"),
        (14, 5, "mapping or (index, value) pairs"),
        (14, [(0,)], "mapping or (index, value) pairs"),
        (14, [(0, 1, 2)], "mapping or (index, value) pairs"),
        (14, None, "mapping or (index, value) pairs"),
    ],
)
def test_contract_refuses(contract_id, fields, message):
    with pytest.raises(EncodeError) as info:
        Contract(contract_id, fields)
    assert info.value.kind == "contract"
    assert message in str(info.value)


def test_contract_is_immutable():
    contract = Contract(14, {0: [1, 2]})
    with pytest.raises(AttributeError):
        contract.id = 15
    with pytest.raises(AttributeError):
        del contract.id
    with pytest.raises(AttributeError):
        contract._fields = ()
    with pytest.raises(AttributeError):
        contract.other = 1
    fields = contract.fields
    fields[1] = "added"
    del fields[0]
    assert contract.items() == ((0, [1, 2]),)
    assert not hasattr(contract, "__dict__")


def test_contract_does_not_keep_the_callers_mapping():
    fields = {0: "a"}
    contract = Contract(14, fields)
    fields[1] = "b"
    fields[0] = "changed"
    assert contract == Contract(14, {0: "a"})


@pytest.mark.parametrize(
    "left, right",
    [
        (Contract(1, {0: 1}), Contract(1, {0: 1.0})),
        (Contract(1, {0: 1}), Contract(1, {0: True})),
        (Contract(1, {0: 0}), Contract(1, {0: False})),
        (Contract(1, {0: 0.0}), Contract(1, {0: -0.0})),
        (Contract(1, {0: 1}), Contract(2, {0: 1})),
        (Contract(1, {0: 1}), Contract(1, {1: 1})),
        (Contract(1, {0: 1}), Contract(1, {0: 1, 1: 1})),
        (Contract(1, {0: "a"}), Contract(1, {0: b"a"})),
        (Contract(1, {0: "a"}), Contract(1, {0: Handle("a")})),
        (Contract(1, {0: [1]}), Contract(1, {0: [1.0]})),
        (Contract(1, {0: {"a": 1, "b": 2}}), Contract(1, {0: {"b": 2, "a": 1}})),
        (Contract(1, {0: None}), Contract(1, {0: []})),
    ],
)
def test_contract_equality_is_strict(left, right):
    assert left != right and right != left
    assert not left == right
    assert left == copy.deepcopy(left)


def test_contract_equality_and_hash():
    a = Contract(1000, {0: "search", 1: Handle("documents")})
    b = Contract(1000, [(1, Handle("documents")), (0, "search")])
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != 1000 and a != {0: "search", 1: Handle("documents")} and a is not None
    # Fields holding unhashable Python values still hash (by value).
    c = Contract(1, {0: [1, {"k": b"x"}], 1: {"a": [None]}})
    assert hash(c) == hash(copy.deepcopy(c))
    # Values that differ only where == is lenient hash apart rarely, but must compare unequal.
    assert Contract(1, {0: 0.0}) != Contract(1, {0: -0.0})
    assert {Contract(1, {0: 0.0}), Contract(1, {0: -0.0}), Contract(1, {0: 0}), Contract(1, {0: False})}.__len__() == 4


def test_contract_repr():
    contract = Contract(1000, {1: Handle("documents"), 0: "search"})
    assert repr(contract) == "Contract(1000, {0: 'search', 1: Handle('documents')})"
    namespace = {"Contract": Contract, "Handle": Handle}
    assert eval(repr(contract), namespace) == contract
    nested = Contract(14, {0: Contract(16, {3: [b"\x00", -0.0, None]})})
    assert eval(repr(nested), namespace) == nested


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_contract_pickles(protocol):
    contract = Contract(902, {0: "render", 1: [Handle("vs"), Handle("fs")], 3: Contract(14, {0: -0.0})})
    again = pickle.loads(pickle.dumps(contract, protocol))
    assert type(again) is Contract and values_equal(again, contract)
    assert again.items() == contract.items()
    assert values_equal(copy.deepcopy(contract), contract)


# --- values_equal, value_depth, value_size ---------------------------------------------


@pytest.mark.parametrize(
    "left, right",
    [
        (1, 1.0),
        (1, True),
        (0, False),
        (1.0, True),
        (0.0, -0.0),
        (None, False),
        ("a", b"a"),
        ("a", Handle("a")),
        ([1, 2], [2, 1]),
        ([1], [1, 1]),
        ([], {}),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
        ({"a": 1}, {"a": 1.0}),
        ({"a": 1}, {"b": 1}),
        ([[0.0]], [[-0.0]]),
        (Contract(1, {0: 1}), {"1": {"0": 1}}),
        ((1,), [1]),
    ],
)
def test_values_equal_is_strict(left, right):
    assert not values_equal(left, right)
    assert not values_equal(right, left)


@pytest.mark.parametrize(
    "value",
    [None, True, 0, -0.0, 5e-324, "", "é🜊", b"", Handle("x"), [], {}, [1, [2.5, {"a": b"z"}]], Contract(1, {0: []})],
)
def test_values_equal_reflexive(value):
    assert values_equal(value, value)
    assert values_equal(value, copy.deepcopy(value))


def test_values_equal_nan_by_bits():
    # NaN is not an HLX value, but comparing by bits keeps values_equal reflexive on it.
    nan = float("nan")
    assert values_equal([nan], [nan])


def _nest(depth: int, kind: str = "array"):
    value = 1
    for level in range(depth):
        if kind == "array":
            value = [value]
        elif kind == "object":
            value = {"k": value}
        elif kind == "contract":
            value = Contract(1, {0: value})
        else:  # mixed
            value = [value] if level % 3 == 0 else {"k": value} if level % 3 == 1 else Contract(1, {0: value})
    return value


def test_value_depth():
    assert value_depth(None) == 0
    assert value_depth("x") == 0
    assert value_depth(Handle("x")) == 0
    assert value_depth([]) == 1
    assert value_depth({}) == 1
    assert value_depth([1, 2]) == 1
    assert value_depth([[1]]) == 2
    assert value_depth([[1], {"a": 2}]) == 2
    assert value_depth([1, [2, [3]], [4]]) == 3
    assert value_depth(Contract(1, {0: 1})) == 1
    assert value_depth(Contract(1, {0: [1], 1: {"a": Contract(2, {0: 0})}})) == 3
    for kind in ("array", "object", "contract", "mixed"):
        assert value_depth(_nest(MAX_DEPTH, kind)) == MAX_DEPTH


def test_value_size():
    assert list(iter_values([1, {"a": b"z"}])) == [[1, {"a": b"z"}], {"a": b"z"}, b"z", 1]
    assert list(iter_values(Contract(1, {0: 2}))) == [Contract(1, {0: 2}), 2]
    assert value_size(None) == 1
    assert value_size([]) == 1
    assert value_size([1, [2]]) == 4
    assert value_size([[1], {"a": 2}]) == 5
    assert value_size({"a": 1, "b": [2, 3]}) == 5
    assert value_size(Contract(1, {0: 1, 1: 2})) == 3
    assert value_size(Contract(1, {0: [None, None]})) == 4


def test_model_functions_need_no_recursion():
    deep = _nest(100_000, "mixed")
    assert value_depth(deep) == 100_000
    assert value_size(deep) == 100_001
    assert values_equal(deep, _nest(100_000, "mixed"))
    assert not values_equal(deep, _nest(99_999, "mixed"))


# --- the strategies ----------------------------------------------------------------------


@settings(max_examples=examples(200))
@given(hs.values())
def test_strategy_values_are_hlx_values(value):
    assert value_depth(value) <= 4
    assert values_equal(value, copy.deepcopy(value))
    assert values_equal(value, pickle.loads(pickle.dumps(value)))
    # Every value fits the binary layout by default.
    hlx_formats.to_lcb(value)


@settings(max_examples=examples(50))
@given(st.integers(0, 6).flatmap(lambda depth: st.tuples(st.just(depth), hs.values(max_depth=depth, max_leaves=8))))
def test_strategy_values_respects_max_depth(case):
    depth, value = case
    assert value_depth(value) <= depth


@settings(max_examples=examples(100))
@given(hs.strings(), hs.keys())
def test_strategy_strings_have_no_surrogates(text, key):
    for item in (text, key):
        assert not any(0xD800 <= ord(char) <= 0xDFFF for char in item)
        assert len(item.encode("utf-8")) <= 255


def test_strategy_arguments_checked():
    with pytest.raises(ValueError):
        hs.values(max_depth=-1)
    with pytest.raises(ValueError):
        hs.values(max_depth=MAX_DEPTH + 1)
    with pytest.raises(ValueError):
        hs.values(max_leaves=0)
    with pytest.raises(ValueError):
        hs.oversized_values(("no such limit",))


def _reachable(strategy, condition, tries: int = 2000) -> bool:
    """Whether Hypothesis finds an example of ``strategy`` meeting ``condition``."""
    from hypothesis import Phase, find
    from hypothesis.errors import NoSuchExample

    try:
        quick = settings(max_examples=tries, database=None, deadline=None, phases=[Phase.generate])
        find(strategy, condition, settings=quick)
    except NoSuchExample:
        return False
    return True


@pytest.mark.parametrize(
    "strategy, condition",
    [
        (hs.integers(), lambda v: v == 2**64 - 1),
        (hs.integers(), lambda v: v == -(2**63)),
        (hs.integers(), lambda v: 2**63 <= v < 2**64 - 1),
        (hs.integers(), lambda v: -(2**63) < v < -(2**31)),
        (hs.floats(), lambda v: v == 0.0 and str(v) == "-0.0"),
        (hs.floats(), lambda v: 0 < abs(v) < 2.2250738585072014e-308),  # subnormal
        (hs.floats(), lambda v: abs(v) >= 1e16),
        (hs.floats(), lambda v: 0 < abs(v) < 1e-4),
        (hs.strings(), lambda v: any(ord(c) > 0xFFFF for c in v)),
        (hs.strings(), lambda v: '"' in v and "\\" in v),
        (hs.strings(), lambda v: any(ord(c) < 0x20 for c in v)),
        (hs.strings(), lambda v: "\x7f" in v),
        (hs.strings(), lambda v: "🜊" in v or "∅" in v or "◇" in v),
        (hs.keys(), lambda v: v == ""),
        (hs.keys(), lambda v: v == "C"),
        (hs.keys(), lambda v: v == "null"),
        (hs.keys(), lambda v: v == "_"),
        (hs.keys(), lambda v: not v.isascii()),
        (hs.keys(), lambda v: " " in v),
        (hs.contracts(), lambda v: v.id in (900, 901, 902)),
        (hs.contracts(), lambda v: v.id > 1000),
        (hs.contracts(), lambda v: 255 in v.fields and len(v) > 1),
        (hs.handles(), lambda v: len(v.name) > 10),
        (hs.byte_strings(), lambda v: b'"' in v and b"\\" in v),
        (hs.values(), lambda v: value_depth(v) == 4),
        (hs.values(), lambda v: isinstance(v, Contract) and isinstance(v[v.items()[0][0]], dict)),
    ],
)
def test_strategies_reach_the_corners(strategy, condition):
    assert _reachable(strategy, condition)


@pytest.mark.parametrize(
    "strategy, condition",
    [
        (hs.integers(), lambda v: not -(2**63) <= v <= 2**64 - 1),
        (hs.floats(), lambda v: v != v or v in (float("inf"), float("-inf"))),
        (hs.strings(), lambda v: any(0xD800 <= ord(c) <= 0xDFFF for c in v)),
        (hs.keys(), lambda v: any(0xD800 <= ord(c) <= 0xDFFF for c in v)),
        (hs.contracts(), lambda v: not 0 <= v.id <= 65535 or not all(0 <= i <= 255 for i in v.fields)),
    ],
)
def test_strategies_stay_in_the_data_model(strategy, condition):
    assert not _reachable(strategy, condition, tries=examples(300))


def test_strategy_values_reach_every_kind():
    for kind in (type(None), bool, int, float, str, bytes, Handle, list, dict, Contract):
        assert _reachable(hs.values(), lambda v, kind=kind: type(v) is kind), kind


@settings(max_examples=examples(10))
@given(hs.oversized_values())
def test_strategy_oversized_values_break_a_binary_limit(case):
    limit, value = case
    assert limit in ("string", "string-utf8", "bytes", "array", "object", "key", "key-utf8", "handle", "contract")
    with pytest.raises(EncodeError, match="over the LC-B binary limit"):
        hlx_formats.to_lcb(value)


def test_import_hlx_formats_does_not_import_hypothesis():
    code = (
        "import sys, hlx_formats; hlx_formats.to_lcr([1]); "
        "assert 'hypothesis' not in sys.modules, 'hypothesis imported'; "
        "import hlx_formats.strategies; assert 'hypothesis' in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


# --- subclasses of the plain kinds encode as the kind --------------------------------------


class Colour(enum.IntEnum):
    RED = 1


class Name(str, enum.Enum):
    ALICE = "Alice"


def test_subclasses_of_plain_kinds_encode_as_their_kind():
    value = OrderedDict([("colour", Colour.RED), ("name", Name.ALICE)])
    assert hlx_formats.to_hlxl(value) == '{colour: 1, name: "Alice"}'
    assert hlx_formats.to_lcb(value) == hlx_formats.to_lcb({"colour": 1, "name": "Alice"})


@pytest.mark.parametrize("value", [(1, 2), {1, 2}, frozenset(), object(), 1j, bytearray(b"x"), range(3)])
def test_other_python_values_are_not_hlx_values(value):
    for encode in (hlx_formats.to_hlxl, hlx_formats.to_lct, hlx_formats.to_lcr, hlx_formats.to_lcb_text,
                   hlx_formats.to_lcb):  # fmt: skip
        with pytest.raises(HLXError) as info:
            encode(value)
        assert isinstance(info.value, EncodeError)
        assert type(value).__name__ in str(info.value)
