"""Robustness and differential fuzzing of the public functions: ``python -m benchmarks.fuzz``.

Every public function gets random, mutated and crafted inputs from Hypothesis for an equal
share of the time budget, and each input is checked for three things:

* the function returns or raises an ``HLXError`` (anything else is a finding);
* for the text decoders, the fast decoder and the Lark reference agree (both accept with the
  same value, or both reject; the public function raises the reference's error);
* for the encoders, the text decodes back to the same value.

The report gives, per function, the inputs tried, the findings, the fast/reference
disagreements and the slowest input per kilobyte (seconds per KiB, with the input's start).
Exit status 1 when there is a finding or a disagreement.

    python -m benchmarks.fuzz --budget 60              # one minute over every function (CI)
    python -m benchmarks.fuzz --budget 3600 --json f.json
    python -m benchmarks.fuzz --budget 600 --atheris   # coverage-guided, with atheris installed
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hlx_formats import (
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

__all__ = ["Report", "run", "main"]

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
    """The tallies of a run, per function."""

    budget_s: float
    functions: dict[str, Tally] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return all(not tally.findings and not tally.disagreements for tally in self.functions.values())

    def table(self) -> str:
        rows = [f"{'function':<22}{'inputs':>10}{'findings':>10}{'disagree':>10}{'slowest s/KiB':>15}  slowest input"]
        for name, tally in self.functions.items():
            rows.append(
                f"{name:<22}{tally.inputs:>10,}{len(tally.findings):>10}{len(tally.disagreements):>10}"
                f"{tally.slowest_s_per_kib:>15.4f}  {tally.slowest_input}"
            )
        for name, tally in self.functions.items():
            rows += [f"FINDING {name}: {line}" for line in tally.findings[:5]]
            rows += [f"DISAGREEMENT {name}: {line}" for line in tally.disagreements[:5]]
        return "\n".join(rows)


def _shown(data: Any) -> str:
    text = safe_repr(data)
    return text[:60] + ("..." if len(text) > 60 else "") + f" ({len(data) if isinstance(data, (str, bytes)) else '-'} long)"


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
) -> None:
    """Feed ``check`` inputs for ``seconds`` (or until ``inputs`` were tried): Hypothesis draws batches of seed inputs, and
    each seed is checked with cheap random variants of it (see :func:`variants`)."""
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


def run(budget_s: float, only: list[str] | None = None, seed: int = 0, inputs: int | None = None) -> Report:
    """Fuzz every public function (or those in ``only``) for an equal share of ``budget_s``;
    with ``inputs``, each function until it has tried that many (within the whole budget)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    checks = _checks()
    names = [name for name in checks if not only or name in only]
    report = Report(budget_s=budget_s)
    deadline = time.monotonic() + budget_s
    for position, name in enumerate(names):
        report.functions[name] = Tally()
        strategy, check = checks[name]
        left = deadline - time.monotonic()
        share = left if inputs is not None else left / (len(names) - position)
        _fuzz_one(strategy, check, report.functions[name], share, seed, inputs)
        print(f"{name}: {report.functions[name].inputs:,} inputs", file=sys.stderr, flush=True)
    return report


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=60.0, help="seconds in all (default 60)")
    parser.add_argument("--inputs", type=int, help="fuzz each function until it has tried this many inputs (within --budget)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random variants (default 0)")
    parser.add_argument("--only", nargs="*", help="fuzz only these functions (names as in the report)")
    parser.add_argument("--json", help="also write the report as JSON to this file")
    parser.add_argument("--atheris", action="store_true", help="coverage-guided fuzzing with atheris instead")
    args = parser.parse_args(argv)
    if args.atheris:
        return run_atheris(args.budget)
    started = time.monotonic()
    report = run(args.budget, args.only, args.seed, args.inputs)
    print(report.table())
    print(f"{sum(t.inputs for t in report.functions.values()):,} inputs in {time.monotonic() - started:.0f} s; "
          f"{'no findings' if report.clean else 'FINDINGS'}")  # fmt: skip
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"budget_s": report.budget_s, "functions": {n: asdict(t) for n, t in report.functions.items()}}, handle, indent=1)
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
