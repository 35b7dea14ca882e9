"""No exception but HLXError from a public function, whatever the input; limits held at their
edges; rejection no costlier than acceptance; checked and atomic writes (issue 29)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tracemalloc
from collections import OrderedDict
from enum import IntEnum

import pytest

from hlx_formats import (
    MAX_DEPTH,
    Contract,
    EncodeError,
    HLXError,
    ParseError,
    _atomic,
    convert,
    detect_format,
    from_hlxl,
    from_lcb,
    from_lcr,
    from_lct,
    grammar_text,
    to_hlxl,
    to_lcb,
    to_lcb_text,
    to_lcr,
    to_lct,
    value_depth,
    value_size,
    values_equal,
)
from hlx_formats.grammar import lark_parser, parse_reference
from hlx_formats.model import MAX_INPUT_SIZE, MAX_INT_DIGITS

DECODERS = {"hlxl": from_hlxl, "lc-t": from_lct, "lc-r": from_lcr, "lc-b": from_lcb}
ENCODERS = [to_hlxl, to_lct, to_lcr, to_lcb_text, to_lcb]
TEXT_ENCODERS = {"hlxl": to_hlxl, "lc-t": to_lct, "lc-r": to_lcr, "lc-b": to_lcb_text}

# --- integers over Python's int/str limit --------------------------------------------

LONG = "1" * (MAX_INT_DIGITS + 1)
AT_LIMIT = "1" * MAX_INT_DIGITS
LONG_INTEGER_TEXTS = {
    "hlxl": [LONG, f"[{LONG}]", f"{{{LONG}: {{@0: 1}}}}", f"{{1: {{@{LONG}: 1}}}}"],
    "lc-t": [LONG, f"{{C:{LONG},0=1}}", f"{{C:1,{LONG}=1}}"],
    "lc-r": [LONG, f"🜊{LONG}🜁0 1🜂", f"🜊1🜁{LONG} 1🜂"],
    "lc-b": [f"[{LONG}]", f"[1|{LONG}:1]", f"[{LONG}|0:1]"],
}


@pytest.mark.parametrize("fmt", DECODERS)
def test_an_integer_over_the_digit_limit_is_a_parse_error_naming_it(fmt):
    for text in LONG_INTEGER_TEXTS[fmt]:
        for strict in (False, True):
            with pytest.raises(ParseError) as error:
                DECODERS[fmt](text, strict_reference=strict)
            assert f"limit of {MAX_INT_DIGITS} digits" in error.value.reason, text[:20]


@pytest.mark.parametrize("fmt", DECODERS)
def test_an_integer_at_the_digit_limit_is_out_of_range(fmt):
    text = AT_LIMIT if fmt != "lc-b" else f"[{AT_LIMIT}]"
    with pytest.raises(ParseError, match="outside the range"):
        DECODERS[fmt](text)


def test_detect_and_convert_on_a_long_integer():
    for call in (detect_format, lambda text: convert(text, "lc-t")):
        with pytest.raises(ParseError):
            call(LONG)


@pytest.mark.parametrize("encoder", ENCODERS)
def test_encoders_refuse_a_huge_integer_with_a_message(encoder):
    for value in (10**5000, -(10**5000), [10**5000], {"a": 10**5000}):
        with pytest.raises(EncodeError, match="bits"):
            encoder(value)
    with pytest.raises(EncodeError, match="object keys must be str"):
        encoder({10**5000: 1})


def test_contract_with_a_huge_id_or_index():
    with pytest.raises(EncodeError, match="bits"):
        Contract(10**5000, {0: 1})
    with pytest.raises(EncodeError, match="bits"):
        Contract(1, {10**5000: 1})


# --- the encoders' stack -------------------------------------------------------------


class Small(IntEnum):
    ONE = 1


def nested(depth, wrap, leaf=Small.ONE):
    value = leaf
    for _ in range(depth):
        value = wrap(value)
    return value


WRAPPERS = {
    "OrderedDict": lambda value: OrderedDict(a=value),
    "list subclass": lambda value: type("L", (list,), {})([value]),
    "contract": lambda value: Contract(1, {0: value}),
}


def _deep_call(levels, function, *args):
    """``function(*args)`` called from ``levels`` Python frames deep."""
    if levels:
        return _deep_call(levels - 1, function, *args)
    return function(*args)


@pytest.mark.parametrize("wrap", WRAPPERS.values(), ids=WRAPPERS)
@pytest.mark.parametrize("encoder", ENCODERS)
def test_subclass_nesting_at_the_limit_encodes_whatever_the_callers_stack(encoder, wrap):
    frames = sys.getrecursionlimit() - 60  # the caller has used almost all of Python's stack
    result = _deep_call(frames, encoder, nested(MAX_DEPTH, wrap))
    assert result
    with pytest.raises(EncodeError, match=f"deeper than {MAX_DEPTH}"):
        _deep_call(frames, encoder, nested(MAX_DEPTH + 1, wrap))


def test_encoder_error_path_is_kept():
    with pytest.raises(EncodeError) as error:
        to_hlxl({"a": [1, Contract(3, {2: float("nan")})]})
    assert error.value.path == "$['a'][1]@2"


# --- nesting: the fast path reports it; rejection costs no more than acceptance ------

DEEP_OPENERS = {"hlxl": ("{1: {@0: ", "}}"), "lc-t": ("{a:", "}"), "lc-r": ("🜊1🜁0 ", "🜂"), "lc-b": ("[1|0:", "]")}


@pytest.mark.parametrize("fmt", DECODERS)
def test_nesting_at_the_limit_parses_and_one_more_is_an_error_at_its_opener(fmt):
    opener, closer = DEEP_OPENERS[fmt]
    assert value_depth(DECODERS[fmt](opener * MAX_DEPTH + "1" + closer * MAX_DEPTH)) == MAX_DEPTH
    text = opener * (MAX_DEPTH + 1) + "1" + closer * (MAX_DEPTH + 1)
    for strict in (False, True):
        with pytest.raises(ParseError, match="nesting deeper") as error:
            DECODERS[fmt](text, strict_reference=strict)
        assert error.value.offset == len(opener) * MAX_DEPTH


@pytest.mark.parametrize("fmt", DECODERS)
def test_the_depth_error_comes_first_even_when_the_input_never_closes(fmt):
    opener, _ = DEEP_OPENERS[fmt]
    text = opener * 5000
    for strict in (False, True):
        with pytest.raises(ParseError, match="nesting deeper"):
            DECODERS[fmt](text, strict_reference=strict)


def _peak(function, *args):
    tracemalloc.start()
    try:
        function(*args)
    except HLXError:
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_rejecting_very_deep_input_reads_only_its_first_levels():
    text = "{a:" * 300_000 + "1" + "}" * 300_000
    lark_parser("lc-t")
    assert _peak(from_lct, text) < 2_000_000
    assert _peak(detect_format, text) < 2_000_000


@pytest.mark.parametrize("fmt", DECODERS)
def test_rejecting_a_flat_input_invalid_at_its_end_costs_no_more_memory_than_accepting_it(fmt):
    good = TEXT_ENCODERS[fmt]([{"a": index, "b": "xy"} for index in range(4000)])
    bad = good[:-1] + "\x01"
    lark_parser(fmt)
    accepted, rejected = _peak(DECODERS[fmt], good), _peak(DECODERS[fmt], bad)
    assert rejected <= 1.5 * accepted + 200_000, (accepted, rejected)


@pytest.mark.parametrize("fmt", DECODERS)
def test_a_rejection_without_a_tree_gives_the_references_error(fmt):
    bad = TEXT_ENCODERS[fmt]([1, {"a": [2, 3]}, "x"])[:-2] + "\x01]"
    with pytest.raises(ParseError) as public:
        DECODERS[fmt](bad)
    with pytest.raises(ParseError) as reference:
        DECODERS[fmt](bad, strict_reference=True)
    assert str(public.value) == str(reference.value)


# --- the model's helpers ---------------------------------------------------------------


def test_helpers_terminate_on_a_value_that_contains_itself():
    loop = [1]
    loop.append(loop)
    assert values_equal(loop, loop)
    with pytest.raises(EncodeError, match="contains itself"):
        value_depth(loop)
    with pytest.raises(EncodeError, match="contains itself"):
        value_size(loop)
    for encoder in ENCODERS:
        with pytest.raises(EncodeError, match="deeper"):
            encoder(loop)


def test_shared_parts_are_not_cycles():
    part = [1, 2]
    assert value_depth([part, part]) == 2
    assert value_size([part, part]) == 7


def test_repr_of_a_deep_contract():
    value = nested(10_000, lambda inner: Contract(1, {0: inner}), 1)
    assert repr(value).startswith("Contract(1, {0: Contract(1, {0: ")
    assert repr(Contract(1, {0: 10**5000})) == "Contract(1, {0: <integer of 16610 bits>})"


def test_grammar_text_with_an_unhashable_name_is_an_hlx_error():
    with pytest.raises(HLXError):
        grammar_text([])
    with pytest.raises(HLXError):
        lark_parser({})


@pytest.mark.parametrize("fmt", DECODERS)
def test_a_byte_order_mark_before_a_value_is_ignored(fmt):
    text = TEXT_ENCODERS[fmt]([1, "a"])
    assert DECODERS[fmt]("\ufeff" + text) == [1, "a"]
    assert parse_reference(fmt, "\ufeff" + text) == [1, "a"]
    if fmt != "lc-b":
        assert DECODERS[fmt](("\ufeff" + text).encode("utf-8")) == [1, "a"]
    with pytest.raises(ParseError):
        DECODERS[fmt]("\ufeff\ufeff" + text)  # one mark only


# --- writes ---------------------------------------------------------------------------


class ShortWriter(io.RawIOBase):
    """A raw stream that takes at most 3 bytes per write, like a pipe under PYTHONUNBUFFERED."""

    def __init__(self):
        self.taken = bytearray()

    def writable(self):
        return True

    def write(self, data):
        chunk = bytes(data[:3])
        self.taken += chunk
        return len(chunk)


def test_write_all_loops_over_short_writes():
    stream = ShortWriter()
    _atomic.write_all(stream, b"0123456789")
    assert stream.taken == b"0123456789"


def test_cli_fails_when_the_reader_goes_away(tmp_path):
    value = tmp_path / "big.txt"
    value.write_text("[" + ",".join(["1"] * 200_000) + "]")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
    pipeline = f"{sys.executable} -m hlx_formats.cli convert --to lc-r -i {value} | head -c1 >/dev/null; echo ${{PIPESTATUS[0]}}"
    status = subprocess.run(["bash", "-c", pipeline], env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert status == "1"


def test_cli_refuses_input_over_the_size_limit(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as handle:
        handle.truncate(MAX_INPUT_SIZE + 1)
    done = subprocess.run([sys.executable, "-m", "hlx_formats.cli", "detect", "-i", str(big)], capture_output=True, text=True)
    assert done.returncode == 1 and "larger than the limit" in done.stderr


def test_an_interrupted_atomic_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with _atomic.atomic_open(target) as handle:
            handle.write("new, half written")
            raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["report.json"]
    _atomic.atomic_write_text(target, "new")
    assert target.read_text() == "new"


def test_an_interrupted_atomic_folder_leaves_the_old_folder(tmp_path):
    target = tmp_path / "adapter"
    target.mkdir()
    (target / "adapter_config.json").write_text("old")
    with pytest.raises(RuntimeError):
        with _atomic.atomic_folder(target) as staging:
            (staging / "adapter_config.json").write_text("new")
            raise RuntimeError("killed")
    assert (target / "adapter_config.json").read_text() == "old"
    with _atomic.atomic_folder(target) as staging:
        (staging / "adapter_config.json").write_text("new")
    assert (target / "adapter_config.json").read_text() == "new"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["adapter"]


def test_cli_output_file_is_replaced_atomically(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("old")
    done = subprocess.run(
        [sys.executable, "-m", "hlx_formats.cli", "convert", "--to", "lc-t", "-o", str(out), "[1, 2]"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text() == "[1,2]\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.txt"]


# --- the learned path's requests ------------------------------------------------------


def test_moe_requests_are_checked_before_tokenisation():
    mixture = pytest.importorskip("hlx_moe.serving.mixture")
    for text in ("", "   ", "x" * (mixture.MAX_REQUEST_CHARS + 1), "Convert to LC-T: [\ud800]", 42, None):
        with pytest.raises(HLXError):
            mixture.check_request(text)
    assert mixture.check_request("x" * mixture.MAX_REQUEST_CHARS)
    assert mixture.check_request("Convert to LC-T: [1]\x00\x1f")
