"""Robustness and differential fuzzing of the public functions: ``python -m benchmarks.fuzz``.

Every public function gets random, mutated and crafted inputs from Hypothesis for an equal
share of the time budget, and each input is checked for three things:

* the function returns or raises an ``HLXError`` (anything else is a finding);
* for the text decoders, the fast decoder and the Lark reference agree (both accept with the
  same value, or both reject; the public function raises the reference's error);
* for the encoders, the text decodes back to the same value.

By default (``--path both``) this runs twice, once per codec path, each in a child process of
its own with half of the budget (the first child's unused time goes to the second): the
compiled path (``python -m benchmarks.fuzz --path compiled``: ``hlx_formats._speedups``, what
the public functions try first) and the pure-Python path (``--path pure``, run with
``HLX_PURE_PYTHON=1``). The compiled child writes each input to a small file before it tries
it (overwritten each time), so that a child killed by a signal (a segfault) is counted as a
crash, a finding, and reported with the function and input it was trying; so is a child that
hangs past its share or exits without a report. Without the compiled extension, the run says
so in one line and fuzzes the pure path alone, with the whole budget (not a failure).
``--path compiled`` or ``--path pure`` fuzzes that one path in this process (``pure`` needs
``HLX_PURE_PYTHON=1``), as the children do.

The report gives, per path and function, the inputs tried, the findings, the fast/reference
disagreements and the slowest input per kilobyte (seconds per KiB, with the input's start);
each finding line names its path. Exit status 1 when there is a finding, a disagreement or a
crash.

    python -m benchmarks.fuzz --budget 60              # one minute over every function, both paths (CI)
    python -m benchmarks.fuzz --budget 3600 --json f.json
    python -m benchmarks.fuzz --budget 600 --atheris   # coverage-guided (compiled path, in process), with atheris
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hlx_formats import (
    ACCELERATED,
    Contract,
    HLXError,
    ParseError,
    convert,
    detect_format,
    from_hlxl,
    from_lcb,
    from_lcr,
    from_lct,
    iter_values,
    to_hlxl,
    to_lcb,
    to_lcb_text,
    to_lcr,
    to_lct,
    translate,
    value_depth,
    value_size,
    values_equal,
)
from hlx_formats._fast import Reject
from hlx_formats.grammar import parse_reference
from hlx_formats.hlxl import _FastHLXL
from hlx_formats.lcb import _FastLCBText
from hlx_formats.lcr import _FastLCR
from hlx_formats.lct import _FastLCT
from hlx_formats.model import MAX_DEPTH, safe_repr
from hlx_formats.strategies import values

__all__ = ["PATHS", "Report", "main", "run", "run_paths"]

_FAST = {"hlxl": _FastHLXL, "lc-t": _FastLCT, "lc-r": _FastLCR, "lc-b": _FastLCBText}
_DECODERS: dict[str, Callable[..., Any]] = {"hlxl": from_hlxl, "lc-t": from_lct, "lc-r": from_lcr, "lc-b": from_lcb}
_ENCODERS: dict[str, Callable[[Any], Any]] = {
    "hlxl": to_hlxl, "lc-t": to_lct, "lc-r": to_lcr, "lc-b": to_lcb_text, "lc-b-bin": to_lcb,
}  # fmt: skip
_ENCODER_DECODER = {"hlxl": from_hlxl, "lc-t": from_lct, "lc-r": from_lcr, "lc-b": from_lcb, "lc-b-bin": from_lcb}

# --- inputs ---------------------------------------------------------------------------

_SHAPES = [
    "[",
    "]",
    "{",
    "}",
    "{a:",
    "{C:1,0=",
    "[1|0:",
    "{1: {@0: ",
    "🜊1🜁0 ",
    "🜂",
    "🜃",
    "🜄",
    "◇",
    "◆",
    ",",
    ":",
    "@0",
    "=",
    "|",
    '"',
    "\\",
    "\\u",
    "\\ud800",
    "#",
    "⊠",
    "⟁",
    "&h_",
    "0x",
    "-",
    "e",
    ".",
]


@st.composite
def _crafted_text(draw: st.DrawFn) -> str:
    """The kinds of input an attacker tries: deep nesting, long numbers, long strings, a BOM,
    surrogates and controls, openers that never close, a valid value with garbage after it."""
    kind = draw(st.sampled_from(["deep", "number", "string", "prefix", "garbage"]))
    depth = draw(st.integers(MAX_DEPTH - 3, MAX_DEPTH + 3) | st.integers(0, 3000))
    if kind == "deep":
        opener, closer = draw(
            st.sampled_from(
                [("[", "]"), ("{a:", "}"), ("{C:1,0=", "}"), ("[1|0:", "]"), ("{1: {@0: ", "}}"), ("🜊1🜁0 ", "🜂"), ("🜃", "🜄"), ("◇a: ", "◆")]
            )
        )
        closes = draw(st.integers(0, depth))
        return opener * depth + draw(st.sampled_from(["1", "", "x", "[]"])) + closer * closes
    if kind == "number":
        digits = draw(st.sampled_from([1, 19, 20, 21, 4299, 4300, 4301, 5000, 20000]))
        number = draw(st.sampled_from(["1", "0", "9"])) * digits
        return draw(
            st.sampled_from(["{}", "[{}]", "{{C:{},0=1}}", "{{1: {{@{}: 1}}}}", "[1|{}:1]", "[{}|0:1]", "🜊{}🜁0 1🜂", "-{}", "{}.5", "0x{}"])
        ).format(number)
    if kind == "string":
        body = draw(st.text(st.characters() | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=64))
        return draw(st.sampled_from(['"{}"', '["{}"]', '{{"{}": 1}}', 'b"{}"'])).format(body * draw(st.integers(1, 200)))
    if kind == "prefix":
        value = draw(values(max_depth=3, max_leaves=12))
        text = _ENCODERS[draw(st.sampled_from(["hlxl", "lc-t", "lc-r", "lc-b"]))](value)
        return "\ufeff" * draw(st.integers(0, 2)) + text[: draw(st.integers(0, len(text)))]
    value = draw(values(max_depth=3, max_leaves=12))
    text = _ENCODERS[draw(st.sampled_from(["hlxl", "lc-t", "lc-r", "lc-b"]))](value)
    return text + draw(st.text(max_size=8))


@st.composite
def _mutated_text(draw: st.DrawFn) -> str:
    """A valid text in some format with a few characters dropped, doubled, swapped or replaced."""
    value = draw(values(max_depth=4, max_leaves=24))
    text = _ENCODERS[draw(st.sampled_from(["hlxl", "lc-t", "lc-r", "lc-b"]))](value)
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        position = draw(st.integers(0, len(text) - 1))
        kind = draw(st.sampled_from(["drop", "double", "swap", "replace", "insert"]))
        if kind == "drop":
            text = text[:position] + text[position + 1 :]
        elif kind == "double":
            text = text[: position + 1] + text[position:]
        elif kind == "swap" and position + 1 < len(text):
            text = text[:position] + text[position + 1] + text[position] + text[position + 2 :]
        else:
            piece = draw(st.sampled_from(_SHAPES) | st.characters())
            text = text[:position] + piece + text[position + (kind == "replace") :]
    return text


def _random_text() -> st.SearchStrategy[str]:
    surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
    return st.text(st.characters() | surrogates, max_size=64) | st.lists(st.sampled_from(_SHAPES) | st.characters(), max_size=40).map(
        "".join
    )


def text_inputs() -> st.SearchStrategy[str]:
    """Random, mutated and crafted texts."""
    return st.one_of(_random_text(), _mutated_text(), _crafted_text())


def byte_inputs() -> st.SearchStrategy[bytes]:
    """Random bytes, LC-B binary with bytes changed, and text as UTF-8 (valid or cut)."""
    mutated = st.tuples(values(max_depth=4, max_leaves=24), st.integers(0, 64), st.binary(max_size=4)).map(_mutate_binary)
    return st.one_of(st.binary(max_size=128), mutated, text_inputs().map(lambda text: text.encode("utf-8", "surrogatepass")))


def _mutate_binary(args: tuple[Any, int, bytes]) -> bytes:
    value, position, piece = args
    data = to_lcb(value)
    position = min(position, len(data))
    return data[:position] + piece + data[position + len(piece) :]


class _Small(IntEnum):
    ONE = 1


def _nest(value: Any, depth: int, wrap: Callable[[Any], Any]) -> Any:
    for _ in range(depth):
        value = wrap(value)
    return value


@st.composite
def value_inputs(draw: st.DrawFn) -> Any:
    """Values to encode: valid ones, and crafted ones (subclasses nested near the depth limit,
    integers over the int/str limit, cycles, keys that are not str)."""
    kind = draw(st.sampled_from(["plain", "plain", "subclass", "big", "cycle", "odd"]))
    if kind == "plain":
        return draw(values(max_depth=4, max_leaves=24))
    if kind == "subclass":
        depth = draw(st.integers(MAX_DEPTH - 2, MAX_DEPTH + 2))
        wrap = draw(st.sampled_from([lambda v: OrderedDict(a=v), lambda v: [v], lambda v: Contract(1, {0: v})]))
        return _nest(_Small.ONE, depth, wrap)
    if kind == "big":
        number = 10 ** draw(st.sampled_from([19, 20, 4300, 5000]))
        return draw(st.sampled_from([number, -number, [number], {"a": number}, {number: 1}]))
    if kind == "cycle":
        loop: list[Any] = [1]
        loop.append(loop)
        return loop
    return draw(st.sampled_from([(1, 2), {1: 2}, float("nan"), "\ud800", object(), b"x" * 70000, {"k" * 300: 1}]))


# --- checks ---------------------------------------------------------------------------


@dataclass
class Tally:
    """What one function's fuzzing found."""

    inputs: int = 0
    findings: list[str] = field(default_factory=list)  # exceptions other than HLXError
    disagreements: list[str] = field(default_factory=list)
    slowest_s_per_kib: float = 0.0
    slowest_input: str = ""


@dataclass
class Report:
    """The tallies of a run of one codec path, per function."""

    budget_s: float
    functions: dict[str, Tally] = field(default_factory=dict)
    path: str = "compiled" if ACCELERATED else "pure"  # the codec path fuzzed
    crash: str = ""  # how its child process died (a signal, a hang, no report), and on which input
    crash_input: str = ""  # that input in full (repr), to reproduce it

    @property
    def clean(self) -> bool:
        return not self.crash and all(not tally.findings and not tally.disagreements for tally in self.functions.values())

    @property
    def inputs(self) -> int:
        return sum(tally.inputs for tally in self.functions.values())

    def table(self) -> str:
        rows = [f"{self.path} path ({_PATH_NAMES.get(self.path, self.path)}), {self.budget_s:.0f} s"]
        rows.append(f"{'function':<22}{'inputs':>10}{'findings':>10}{'disagree':>10}{'slowest s/KiB':>15}  slowest input")
        for name, tally in self.functions.items():
            rows.append(
                f"{name:<22}{tally.inputs:>10,}{len(tally.findings):>10}{len(tally.disagreements):>10}"
                f"{tally.slowest_s_per_kib:>15.4f}  {tally.slowest_input}"
            )
        for name, tally in self.functions.items():
            rows += [f"FINDING [{self.path}] {name}: {line}" for line in tally.findings[:5]]
            rows += [f"DISAGREEMENT [{self.path}] {name}: {line}" for line in tally.disagreements[:5]]
        if self.crash:
            rows.append(f"CRASH [{self.path}] {self.crash}")
        return "\n".join(rows)

    def summary(self) -> str:
        found = sum(len(tally.findings) for tally in self.functions.values())
        disagreements = sum(len(tally.disagreements) for tally in self.functions.values())
        return f"{self.path} path: {self.inputs:,} inputs, {found} findings, {disagreements} disagreements, {int(bool(self.crash))} crashes"

    def as_json(self) -> dict[str, Any]:
        return {
            "budget_s": self.budget_s,
            "path": self.path,
            "crash": self.crash,
            "crash_input": self.crash_input,
            "functions": {name: asdict(tally) for name, tally in self.functions.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        functions = {name: Tally(**tally) for name, tally in data["functions"].items()}
        return cls(data["budget_s"], functions, data["path"], data.get("crash", ""), data.get("crash_input", ""))


_PATH_NAMES = {"compiled": "hlx_formats._speedups", "pure": "HLX_PURE_PYTHON=1"}


def _shown(data: Any) -> str:
    return _clipped(safe_repr(data), len(data) if isinstance(data, (str, bytes)) else "-")


def _clipped(text: str, length: int | str) -> str:
    return text[:60] + ("..." if len(text) > 60 else "") + f" ({length} long)"


def _call(tally: Tally, function: Callable[..., Any], data: Any, *args: Any) -> tuple[bool, Any]:
    """Run ``function(data, *args)``: (True, result), (False, the HLXError), or a finding."""
    tally.inputs += 1
    start = time.perf_counter()
    try:
        result = True, function(data, *args)
    except HLXError as error:
        result = False, error
    except Exception as error:  # noqa: BLE001 - exactly what the harness looks for
        tally.findings.append(f"{type(error).__name__}: {str(error)[:80]} on {_shown(data)}")
        result = False, error
    elapsed = time.perf_counter() - start
    size = len(data) if isinstance(data, (str, bytes)) else 1
    per_kib = elapsed / max(1.0, size / 1024)
    if per_kib > tally.slowest_s_per_kib:
        tally.slowest_s_per_kib, tally.slowest_input = per_kib, _shown(data)
    return result


def _check_decoder(fmt: str, tally: Tally, text: str) -> None:
    accepted, public = _call(tally, _DECODERS[fmt], text)
    try:
        reference: Any = parse_reference(fmt, text)
    except ParseError as error:
        reference = error
    except Exception as error:  # noqa: BLE001 - a crash of the reference parser is a finding
        tally.findings.append(f"reference parser: {type(error).__name__}: {str(error)[:80]} on {_shown(text)}")
        return
    try:
        fast: Any = _FAST[fmt].parse(text)
    except (Reject, RecursionError, IndexError, ValueError):
        fast = Reject
    reference_accepts = not isinstance(reference, ParseError)
    if (fast is not Reject) != reference_accepts or (fast is not Reject and not values_equal(fast, reference)):
        tally.disagreements.append(
            f"fast {'accepts' if fast is not Reject else 'rejects'}, reference {'accepts' if reference_accepts else 'rejects'}: {_shown(text)}"
        )
    elif accepted != reference_accepts or (accepted and not values_equal(public, reference)):
        tally.disagreements.append(f"public and reference differ: {_shown(text)}")
    elif not accepted and isinstance(public, ParseError) and str(public) != str(reference):
        tally.disagreements.append(f"errors differ ({public.reason!r} / {reference.reason!r}): {_shown(text)}")


def _check_encoder(fmt: str, tally: Tally, value: Any) -> None:
    accepted, text = _call(tally, _ENCODERS[fmt], value)
    if accepted:
        try:
            back = _ENCODER_DECODER[fmt](text)
        except Exception as error:  # noqa: BLE001 - any failure to decode its own output is a finding
            tally.disagreements.append(f"its own output does not decode ({type(error).__name__}): {_shown(text)}")
            return
        if not values_equal(back, value) and _plain_equal(back, value) is False:
            tally.disagreements.append(f"round trip changes the value: {_shown(text)}")


def _plain_equal(back: Any, value: Any) -> bool | None:
    """Whether ``back`` equals ``value`` once subclasses are read as their kind (None: unsure)."""
    try:
        return values_equal(back, from_hlxl(to_hlxl(value)))
    except HLXError:
        return None


def _checks() -> dict[str, tuple[st.SearchStrategy[Any], Callable[[Tally, Any], object]]]:
    """Each fuzzed function: its inputs and its check."""
    checks: dict[str, tuple[st.SearchStrategy[Any], Callable[[Tally, Any], object]]] = {}
    for fmt in _DECODERS:
        checks[f"from_{fmt.replace('-', '')}"] = (text_inputs(), functools.partial(_check_decoder, fmt))
    checks["from_lcb(bytes)"] = (byte_inputs(), lambda tally, data: _call(tally, from_lcb, data))
    checks["detect_format"] = (text_inputs() | byte_inputs(), lambda tally, data: _call(tally, detect_format, data))
    checks["convert"] = (text_inputs(), lambda tally, text: _call(tally, convert, text, "lc-r"))
    checks["translate"] = (
        st.builds(
            lambda prefix, text: prefix + text,
            st.sampled_from(["", "Convert to LC-R: ", "Parse LC-T: ", "What is contract ", "### Instruction:\n"]),
            text_inputs(),
        ),
        lambda tally, text: _call(tally, translate, text),
    )
    for fmt in _ENCODERS:
        checks[f"to_{fmt.replace('-', '')}"] = (value_inputs(), functools.partial(_check_encoder, fmt))
    checks["value_depth/size"] = (value_inputs(), lambda tally, value: (_call(tally, value_depth, value), _call(tally, value_size, value)))
    return checks


def _fuzz_one(
    strategy: st.SearchStrategy[Any],
    check: Callable[[Tally, Any], object],
    tally: Tally,
    seconds: float,
    seed: int,
    inputs: int | None = None,
    record: Callable[[Any], None] | None = None,
) -> None:
    """Feed ``check`` inputs for ``seconds`` (or until ``inputs`` were tried): Hypothesis draws batches of seed inputs, and
    each seed is checked with cheap random variants of it (see :func:`variants`); ``record`` is given each input first."""
    deadline = time.monotonic() + seconds
    rng = random.Random(seed)
    seeds: list[Any] = []

    @settings(max_examples=50, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def batch(item: Any) -> None:
        seeds.append(item)

    while time.monotonic() < deadline:
        seeds.clear()
        batch()
        for item in seeds:
            for variant in variants(item, rng, _VARIANTS):
                if time.monotonic() >= deadline or (inputs is not None and tally.inputs >= inputs):
                    return
                if record is not None:
                    record(variant)
                check(tally, variant)


_VARIANTS = 40  # cheap variants checked per Hypothesis-drawn seed


def variants(item: Any, rng: random.Random, count: int) -> Iterator[Any]:
    """``item`` and ``count`` random variants: for text and bytes, pieces dropped, doubled,
    swapped or replaced by format punctuation; for a value, its parts and wrappings."""
    yield item
    if isinstance(item, (str, bytes)):
        pieces = (
            _SHAPES
            if isinstance(item, str)
            else [shape.encode() for shape in _SHAPES] + [bytes([n]) for n in (0, 0x30, 0x50, 0x60, 0x70, 0xFF)]
        )
        for _ in range(count):
            variant: Any = item  # str or bytes, as the pieces are
            for _ in range(rng.randint(1, 3)):
                position = rng.randint(0, len(variant))
                end = position + rng.randint(0, 4)
                choice = rng.random()
                if choice < 0.3:
                    variant = variant[:position] + variant[end:]
                elif choice < 0.5:
                    variant = variant[:end] + variant[position:]
                else:
                    variant = variant[:position] + rng.choice(pieces) + variant[position + (choice < 0.75) :]
            yield variant
        return
    parts = list(iter_values(item)) if value_depth_safe(item) else [item]
    for _ in range(count):
        part = rng.choice(parts)
        wrap = rng.random()
        yield (
            part
            if wrap < 0.5
            else [part]
            if wrap < 0.7
            else {"k": part}
            if wrap < 0.9
            else Contract(rng.randint(0, 70000) % 65536, {rng.randint(0, 255): part})
        )


def value_depth_safe(value: Any) -> bool:
    """Whether ``value`` is a tree of reasonable size (no cycle), to take parts of."""
    try:
        return value_size(value) < 10_000
    except HLXError:
        return False


def run(budget_s: float, only: list[str] | None = None, seed: int = 0, inputs: int | None = None, last_input: str | None = None) -> Report:
    """Fuzz every public function (or those in ``only``) for an equal share of ``budget_s``, on the codec path this
    process imported; with ``inputs``, each function until it has tried that many (within the whole budget). With
    ``last_input``, each input is written to that file before it is tried (see :func:`_recorder`)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    checks = _checks()
    names = [name for name in checks if not only or name in only]
    report = Report(budget_s=budget_s)
    deadline = time.monotonic() + budget_s
    descriptor = os.open(last_input, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) if last_input else None
    try:
        for position, name in enumerate(names):
            report.functions[name] = Tally()
            strategy, check = checks[name]
            left = deadline - time.monotonic()
            share = left if inputs is not None else left / (len(names) - position)
            record = None if descriptor is None else functools.partial(_recorder, descriptor, name)
            _fuzz_one(strategy, check, report.functions[name], share, seed, inputs, record)
            print(f"{report.path} {name}: {report.functions[name].inputs:,} inputs", file=sys.stderr, flush=True)
    finally:
        if descriptor is not None:
            os.close(descriptor)
    return report


# --- both paths, each in a child process ------------------------------------------------

#: The codec paths: the compiled one (what the public functions try first) and the pure-Python one.
PATHS = ("compiled", "pure")
UNAVAILABLE = 3  # exit status of a compiled-path child without the compiled extension
_GRACE_S = 120.0  # a child's time past its share before it counts as hung (one slow input, its start)
_ROOT = Path(__file__).resolve().parent.parent

ChildCommand = Callable[[str, float, Path, Path, list[str]], list[str]]


def _recorder(descriptor: int, name: str, data: Any) -> None:
    """Write the function's name and ``data`` over the file's content: two system calls, no flush needed (what
    was written survives the process). A tag byte says what follows: ``s`` text, ``b`` bytes, ``v`` a value's repr."""
    if isinstance(data, str):
        payload = b"s" + data.encode("utf-8", "surrogatepass")
    elif isinstance(data, bytes):
        payload = b"b" + data
    else:
        payload = b"v" + safe_repr(data)[:10_000].encode("utf-8", "surrogatepass")
    written = name.encode() + b"\n" + payload
    os.pwrite(descriptor, written, 0)
    os.ftruncate(descriptor, len(written))


def _recorded(path: Path) -> tuple[str, str, str]:
    """What :func:`_recorder` last wrote: the function, the input as the report shows it, and its repr in full."""
    try:
        name, _, payload = path.read_bytes().partition(b"\n")
    except OSError:
        return "", "", ""
    if not payload:
        return name.decode(errors="replace"), "", ""
    tag, body = payload[:1], payload[1:]
    data: Any = body if tag == b"b" else body.decode("utf-8", "surrogatepass")
    if tag == b"v":
        return name.decode(errors="replace"), _clipped(data, "-"), data
    return name.decode(errors="replace"), _shown(data), safe_repr(data)


def _child_command(path: str, budget_s: float, json_path: Path, last_input: Path, options: list[str]) -> list[str]:
    """``python -m benchmarks.fuzz --path PATH`` for one path's child, writing its report to ``json_path``."""
    command = [sys.executable, "-m", "benchmarks.fuzz", "--path", path, "--budget", f"{budget_s:.3f}", "--json", str(json_path)]
    return command + ["--last-input", str(last_input), *options]


def _child_environment(path: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.pop("HLX_PURE_PYTHON", None)
    if path == "pure":
        environment["HLX_PURE_PYTHON"] = "1"
    return environment


def _death(returncode: int | None, timeout_s: float) -> str:
    if returncode is None:
        return f"hung: no report within {timeout_s:.0f} s, killed"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode} without a report"


def _run_child(path: str, budget_s: float, command: list[str], json_path: Path, last_input: Path) -> Report | None:
    """Run one path's child: its report, a report of its crash, or None where the compiled extension is missing."""
    timeout_s = budget_s + _GRACE_S
    try:
        returncode: int | None = subprocess.run(
            command, env=_child_environment(path), cwd=_ROOT, stdout=subprocess.DEVNULL, timeout=timeout_s, check=False
        ).returncode
    except subprocess.TimeoutExpired:
        returncode = None
    if path == "compiled" and returncode == UNAVAILABLE:
        return None
    if returncode in (0, 1) and json_path.exists():
        return Report.from_json(json.loads(json_path.read_text(encoding="utf-8")))
    name, shown, full = _recorded(last_input)
    crash = _death(returncode, timeout_s) + (f" in {name} on {shown}" if name else " before its first input")
    return Report(budget_s=budget_s, path=path, crash=crash, crash_input=full)


def run_paths(
    budget_s: float,
    paths: tuple[str, ...] = PATHS,
    only: list[str] | None = None,
    seed: int = 0,
    inputs: int | None = None,
    command: ChildCommand = _child_command,
) -> list[Report]:
    """Fuzz each of ``paths`` in a child process of its own (``command`` builds its command line), each for an
    equal share of what is left of ``budget_s``: one report per path fuzzed (a child that died is reported as a
    crash). Without the compiled extension, says so in one line and leaves the compiled path out."""
    options = ["--seed", str(seed)] + (["--inputs", str(inputs)] if inputs is not None else []) + (["--only", *only] if only else [])
    reports = []
    deadline = time.monotonic() + budget_s
    with tempfile.TemporaryDirectory(prefix="hlx-fuzz-") as folder:
        for position, path in enumerate(paths):
            share = max(0.0, deadline - time.monotonic()) / (len(paths) - position)
            json_path, last_input = Path(folder, f"{path}.json"), Path(folder, f"{path}.last")
            report = _run_child(path, share, command(path, share, json_path, last_input, options), json_path, last_input)
            if report is None:
                print("compiled path: hlx_formats._speedups is not built here; fuzzing the pure-Python path only", flush=True)
            else:
                reports.append(report)
    return reports


# --- coverage-guided mode (atheris) ----------------------------------------------------


def run_atheris(budget_s: float) -> int:
    """Coverage-guided fuzzing of the decoders with atheris (libFuzzer); a finding stops it."""
    try:
        import atheris
    except ImportError:
        print("atheris is not installed (pip install atheris)", file=sys.stderr)
        return 2

    with atheris.instrument_imports():
        import hlx_formats  # noqa: F401 - instrumented for coverage

    def one_input(data: bytes) -> None:
        provider = atheris.FuzzedDataProvider(data)
        text = provider.ConsumeUnicodeNoSurrogates(len(data))
        tally = Tally()
        for fmt in _DECODERS:
            _check_decoder(fmt, tally, text)
        _call(tally, from_lcb, data)
        _call(tally, detect_format, text)
        if tally.findings or tally.disagreements:
            raise AssertionError("; ".join(tally.findings + tally.disagreements))

    atheris.Setup([sys.argv[0], f"-max_total_time={int(budget_s)}"], one_input)
    atheris.Fuzz()
    return 0


def _wrong_path(path: str) -> str:
    """Why this process cannot fuzz ``path`` ("" when it can)."""
    if path == "compiled" and not ACCELERATED:
        return "compiled path: hlx_formats._speedups is not built here (or HLX_PURE_PYTHON=1 is set)"
    if path == "pure" and ACCELERATED:
        return "--path pure needs HLX_PURE_PYTHON=1 in the environment (the default --path both sets it for its child)"
    return ""


def _write_json(name: str, data: dict[str, Any]) -> None:
    with open(name, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=60.0, help="seconds in all (default 60)")
    parser.add_argument("--inputs", type=int, help="fuzz each function until it has tried this many inputs (within --budget)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random variants (default 0)")
    parser.add_argument("--only", nargs="*", help="fuzz only these functions (names as in the report)")
    parser.add_argument("--json", help="also write the report as JSON to this file")
    parser.add_argument("--atheris", action="store_true", help="coverage-guided fuzzing with atheris instead (in this process)")
    parser.add_argument(
        "--path",
        choices=["both", *PATHS],
        default="both",
        help="both (default: each in a child process, half the budget each), or one, here",
    )
    parser.add_argument("--last-input", help=argparse.SUPPRESS)  # a child's file of the input it is trying
    args = parser.parse_args(argv)
    if args.path != "both" and _wrong_path(args.path):
        print(_wrong_path(args.path))
        return UNAVAILABLE if args.path == "compiled" else 2
    if args.atheris:
        return run_atheris(args.budget)
    started = time.monotonic()
    if args.path == "both":
        reports = run_paths(args.budget, PATHS, args.only, args.seed, args.inputs)
    else:
        reports = [run(args.budget, args.only, args.seed, args.inputs, args.last_input)]
    for report in reports:
        print(report.table() + "\n" + report.summary() + "\n")
    clean = bool(reports) and all(report.clean for report in reports)
    print(f"{sum(r.inputs for r in reports):,} inputs in {time.monotonic() - started:.0f} s on {len(reports)} path(s); "
          f"{'no findings' if clean else 'FINDINGS'}")  # fmt: skip
    if args.json:
        _write_json(
            args.json,
            reports[0].as_json() if args.path != "both" else {"budget_s": args.budget, "paths": {r.path: r.as_json() for r in reports}},
        )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
