"""The json-shaped entry points: dumps/loads/dump/load, default and the hooks, sort_keys,
the pretty form (indent), and the package's exported names and metadata."""

from __future__ import annotations

import datetime
import decimal
import enum
import io
import re
import subprocess
import sys
import typing
from collections import OrderedDict
from importlib import metadata
from pathlib import Path

import pytest
from hypothesis import given, settings

import hlx_formats
from hlx_formats import (
    FORMATS,
    MAX_DEPTH,
    Contract,
    EncodeError,
    FormatName,
    Handle,
    HLXError,
    ParseError,
    UnsupportedTypeError,
    Value,
    convert,
    decode_as,
    dump,
    dumps,
    encode_as,
    from_hlxl,
    from_lcr,
    from_lct,
    load,
    loads,
    to_hlxl,
    to_lcb,
    to_lct,
    values_equal,
)
from hlx_formats.strategies import values

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = {"user": {"name": "Bob", "age": 30}, "call": Contract(1000, {0: "search", 1: Handle("documents")}), "raw": b"\x00hi"}


# --- dumps / loads ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_dumps_is_the_canonical_encoder_and_loads_reads_it_back(fmt):
    assert dumps(EXAMPLE, fmt) == encode_as(EXAMPLE, fmt)
    assert values_equal(loads(dumps(EXAMPLE, fmt), fmt), EXAMPLE)
    assert values_equal(loads(dumps(EXAMPLE, fmt)), EXAMPLE)  # detected


def test_dumps_defaults_to_hlxl_and_takes_any_format_name():
    assert dumps([1, 2]) == "[1, 2]"
    assert dumps([1, 2], "LCT") == dumps([1, 2], "ascii") == "[1,2]"
    with pytest.raises(HLXError, match="unknown format 'yaml'"):
        dumps(1, "yaml")


def test_encode_as_and_decode_as_are_exported():
    assert encode_as(Contract(14, {0: 42}), "lc-r") == "🜊14🜁0 42🜂"
    assert decode_as("{C:14,0=42}", "LC-T") == Contract(14, {0: 42})


def test_loads_reads_bytes_and_refuses_other_types():
    assert loads(b"[1, 2]") == [1, 2]
    assert loads(to_lcb([1, 2])) == [1, 2]
    assert loads(bytearray(b"{C:14,0=42}"), "lc-t") == Contract(14, {0: 42})
    with pytest.raises(HLXError, match="loads\\(\\) reads str or bytes, not int"):
        loads(42)


def test_loads_errors_are_the_decoders_errors():
    with pytest.raises(ParseError) as info:
        loads("{a: 1,\n a: 2}", "hlxl")
    assert (info.value.format, info.value.line, info.value.column) == ("hlxl", 2, 2)


# --- default and unsupported types ---------------------------------------------------------


class Color(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    "value",
    [(1, 2), {1, 2}, decimal.Decimal("1.5"), datetime.date(2026, 12, 7), Color.RED, object(), 1j, frozenset()],
)
def test_an_unsupported_type_is_an_encode_error_and_a_type_error(value):
    for fmt in FORMATS:
        with pytest.raises(UnsupportedTypeError) as info:
            dumps({"a": [value]}, fmt)
        assert isinstance(info.value, EncodeError) and isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
        assert info.value.path == "$['a'][0]"
    with pytest.raises(TypeError):
        to_lcb([value])


def test_default_is_called_for_values_outside_the_data_model():
    value = {"when": datetime.date(2026, 12, 7), "amount": decimal.Decimal("1.50"), "pair": (1, 2), "color": Color.RED}

    def default(obj):
        if isinstance(obj, tuple):
            return list(obj)
        if isinstance(obj, enum.Enum):
            return obj.value
        return str(obj)

    expected = {"when": "2026-12-07", "amount": "1.50", "pair": [1, 2], "color": "red"}
    for fmt in FORMATS:
        assert dumps(value, fmt, default=default) == encode_as(expected, fmt)
    assert dumps((1, (2, 3)), default=list) == "[1, [2, 3]]"  # default's result may need default again
    assert to_hlxl([1]) == dumps([1], default=str)  # a value that needs no default is not touched


def test_default_that_returns_no_hlx_value_is_an_unsupported_type_error():
    with pytest.raises(UnsupportedTypeError, match="default returned") as info:
        dumps({"x": [object()]}, default=lambda obj: obj)
    assert info.value.path == "$['x'][0]"


def test_default_exceptions_pass_through_and_runaway_nesting_is_bounded():
    def refuse(obj):
        raise TypeError(f"cannot encode {type(obj).__name__}")

    with pytest.raises(TypeError, match="cannot encode object"):
        dumps([object()], default=refuse)
    with pytest.raises(EncodeError, match=f"nesting deeper than {MAX_DEPTH} levels"):
        dumps(object(), default=lambda obj: [obj])


def test_subclasses_of_the_plain_kinds_need_no_default():
    class Level(enum.IntEnum):
        HIGH = 3

    assert dumps(OrderedDict(a=Level.HIGH), "lc-t") == "{a:3}"


def test_keys_are_never_passed_to_default():
    with pytest.raises(EncodeError, match="object keys must be str"):
        dumps({1: "a"}, default=str)


def test_sort_keys_sorts_object_keys_only():
    value = {"b": 1, "a": {"d": 2, "c": Contract(14, {1: 1, 0: 0})}}
    assert dumps(value, sort_keys=True) == "{a: {c: {14: {@0: 0, @1: 1}}, d: 2}, b: 1}"
    assert dumps(value, "lc-t", sort_keys=True, default=str) == "{a:{c:{C:14,0=0,1=1},d:2},b:1}"


# --- hooks ------------------------------------------------------------------------------


def test_hooks_replace_objects_contracts_and_handles_innermost_first():
    text = "{outer: {inner: 1}, call: {14: {@0: &h_x, @1: {k: 2}}}}"
    seen = []

    def object_hook(obj):
        seen.append(dict(obj))
        return ("obj", tuple(obj))

    value = loads(text, object_hook=object_hook, contract_hook=lambda c: ("contract", c.id, c[0], c[1]), handle_hook=lambda h: h.name)
    assert value == ("obj", ("outer", "call"))
    assert seen[0] == {"inner": 1} and seen[1] == {"k": 2}
    assert seen[2]["call"] == ("contract", 14, "x", ("obj", ("k",)))


def test_no_hook_returns_the_decoded_value_itself():
    assert loads("[1, &h_a]", handle_hook=None) == [1, Handle("a")]


# --- dump / load ------------------------------------------------------------------------------


def test_dump_and_load_text_files(tmp_path):
    path = tmp_path / "value.hlxl"
    with open(path, "w", encoding="utf-8") as fp:
        dump(EXAMPLE, fp, indent=2)
    with open(path, encoding="utf-8") as fp:
        assert values_equal(load(fp), EXAMPLE)
    stream = io.StringIO()
    dump([1, 2], stream, "lc-b")
    assert stream.getvalue() == "[[0x01,0x02]]"


def test_dump_to_a_binary_file_writes_lcb_binary_or_utf8_text(tmp_path):
    path = tmp_path / "value.lcb"
    with open(path, "wb") as fp:
        dump(EXAMPLE, fp, "lc-b")
    assert path.read_bytes() == to_lcb(EXAMPLE)
    with open(path, "rb") as fp:
        assert values_equal(load(fp, "lc-b"), EXAMPLE)
    with open(path, "rb") as fp:
        assert values_equal(load(fp), EXAMPLE)
    stream = io.BytesIO()
    dump({"é": 1}, stream, "hlxl")
    assert stream.getvalue() == '{"é": 1}'.encode()
    assert load(io.BytesIO(stream.getvalue())) == {"é": 1}


def test_dump_binary_takes_default_and_sort_keys_but_no_indent():
    stream = io.BytesIO()
    dump({"b": (1,), "a": 2}, stream, "lc-b", default=list, sort_keys=True)
    assert stream.getvalue() == to_lcb({"a": 2, "b": [1]})
    with pytest.raises(HLXError, match="LC-B binary has no layout"):
        dump(1, io.BytesIO(), "lc-b", indent=2)


# --- indent -----------------------------------------------------------------------------------


def test_indent_writes_one_member_a_line():
    value = {"name": "Alice", "tags": ["a", "b"], "empty": [], "call": Contract(14, {0: 42, 1: {}})}
    assert dumps(value, indent=2) == (
        '{\n  name: "Alice",\n  tags: [\n    "a",\n    "b"\n  ],\n  empty: [],\n  call: {14: {\n    @0: 42,\n    @1: {}\n  }}\n}'
    )
    assert dumps(value, "lc-t", indent="\t") == (
        '{\n\tname:"Alice",\n\ttags:[\n\t\t"a",\n\t\t"b"\n\t],\n\tempty:[],\n\tcall:{C:14,\n\t\t0=42,\n\t\t1={}\n\t}\n}'
    )
    assert dumps(42, indent=4) == "42" and dumps([], indent=4) == "[]"
    assert dumps([1], indent=0) == "[\n1\n]"


@pytest.mark.parametrize("indent", [-1, 17, "x", " \n", 1.5, True])
def test_indent_must_be_spaces_or_tabs(indent):
    with pytest.raises(HLXError, match="indent must be"):
        dumps([1], indent=indent)


def test_indent_does_not_apply_to_lcb():
    with pytest.raises(HLXError, match="indent applies to hlxl, lc-t, lc-r"):
        dumps([1], "lc-b", indent=2)


def test_indent_errors_name_the_path():
    with pytest.raises(EncodeError) as info:
        dumps({"a": [1, float("nan")]}, indent=2)
    assert info.value.path == "$['a'][1]"
    deep: Value = 1
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(EncodeError, match="nesting deeper"):
        dumps(deep, indent=1)


def _without_whitespace(text: str) -> str:
    return re.sub(r"[ \t\n]", "", text)


@settings(max_examples=150, deadline=None)
@given(values())
def test_the_pretty_form_reads_back_and_is_canonical_apart_from_whitespace(value):
    for fmt, decode in (("hlxl", from_hlxl), ("lc-t", from_lct), ("lc-r", from_lcr)):
        pretty = dumps(value, fmt, indent=2)
        assert values_equal(decode(pretty), value)
        assert _without_whitespace(pretty) == _without_whitespace(encode_as(value, fmt))
    assert values_equal(from_hlxl(dumps(value, indent=1), strict_reference=True), value)


def test_the_pretty_form_is_read_by_the_reference_parsers_at_depth():
    value: Value = Contract(1, {0: "x"})
    wrappers = [lambda v: [v], lambda v: {"k": v}, lambda v: Contract(2, {0: v, 1: 1})]
    for step in range(MAX_DEPTH - 1):  # one level a step: MAX_DEPTH in all
        value = wrappers[step % 3](value)
    for fmt, decode in (("hlxl", from_hlxl), ("lc-t", from_lct), ("lc-r", from_lcr)):
        assert values_equal(decode(dumps(value, fmt, indent=1)), value)


def test_the_canonical_encoders_are_unchanged():
    assert dumps(EXAMPLE) == to_hlxl(EXAMPLE) and dumps(EXAMPLE, "lc-t") == to_lct(EXAMPLE)
    assert convert(dumps(EXAMPLE, indent=2), to="hlxl") == to_hlxl(EXAMPLE)


# --- exported names and metadata --------------------------------------------------------------


def test_format_names_for_type_checkers():
    assert typing.get_args(FormatName) == FORMATS
    assert Value is hlx_formats.model.Value


def test_all_lists_the_new_names():
    for name in (
        "dumps",
        "loads",
        "dump",
        "load",
        "iter_load",
        "to_json",
        "from_json",
        "encode_as",
        "decode_as",
        "Value",
        "FormatName",
        "UnsupportedTypeError",
    ):
        assert name in hlx_formats.__all__ and hasattr(hlx_formats, name)


def test_version_comes_from_the_installed_metadata():
    assert hlx_formats.__version__ == metadata.version("hlx")


def test_project_metadata():
    # (the built wheel's METADATA is checked by tests/test_api_wheel.py)
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert "MIT License" in (ROOT / "LICENSE").read_text("utf-8")
    assert "Typing :: Typed" in project["classifiers"]
    assert not any(classifier.startswith("License ::") for classifier in project["classifiers"])  # the SPDX string says it
    assert "urls" not in project


def test_python_dash_m_runs_the_command():
    codecs = "compiled codecs" if hlx_formats.ACCELERATED else "pure-Python codecs"
    done = subprocess.run([sys.executable, "-m", "hlx_formats", "--version"], capture_output=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, f"hlx {hlx_formats.__version__} ({codecs})\n".encode())
    done = subprocess.run([sys.executable, "-m", "hlx_formats", "convert", "--to", "lc-t", "[1, 2]"], capture_output=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, b"[1,2]\n")
