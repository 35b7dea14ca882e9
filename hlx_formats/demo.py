"""The demo behind ``hlx demo`` (and ``make demo``): real values in every format, checked.

:func:`main` prints two kinds of section:

* values: each example value in HLXL, LC-T, LC-R, LC-B text and LC-B binary (hex, with
  its size), and whether it round-trips through every format (computed here, each time);
* instructions: corpus-style instructions and the answers of one *source*, each checked
  against the value in the instruction and the reference answer. :func:`translation_sources`
  lists the sources; add one there (a title and a function from instruction to answer) to
  get one more section;
* the sections other packages add through the ``hlx.demo`` entry points
  (:mod:`hlx_formats.plugins`): ``hlx_moe`` adds the mixture of experts answering.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

from . import __version__, plugins
from .api import decode_as, encode_as, translate
from .errors import BackendUnavailable, HLXError
from .grammar import FORMAT_TITLES, FORMATS
from .instructions import ALL_FORMATS_ORDER, split_labelled
from .lcb import from_lcb, to_lcb
from .model import Contract, Handle, values_equal

__all__ = ["EXAMPLES", "INSTRUCTIONS", "OK", "FAIL", "main", "heading", "translation_sources", "round_trip", "answer_is_correct"]

OK = "\u2713"  # ✓
FAIL = "\u2717"  # ✗

#: (title, value) of each example value.
EXAMPLES: list[tuple[str, Any]] = [
    ("contract 14: a basic invocation", Contract(14, {0: 42})),
    (
        "contract 900: a Vulkan shader",
        Contract(900, {0: Handle("shader_spv"), 1: "main", 2: "fragment"}),
    ),
    (
        "contract 902: a pipeline configuration",
        Contract(902, {0: "render_pipeline", 1: [Handle("vs"), Handle("fs")], 2: 1, 3: Handle("framebuffer")}),
    ),
    ("contract 1000: a general operation", Contract(1000, {0: "search", 1: Handle("documents")})),
    (
        "nested contracts",
        Contract(1000, {0: "pipeline", 1: [Contract(1000, {0: "filter", 1: Handle("docs")}), Contract(16, {0: "done"})]}),
    ),
    (
        "nested objects and arrays",
        {"user": {"name": "Bob", "age": 30, "admin": True}, "grid": [[1, 2], [3, 4]], "two words": None},
    ),
    ("strings with escapes and non-ASCII", ['say "hi"\n\tback\\slash', "café ☕ 日本", "party 🎉"]),
    ("bytes", [b"data", b"\x00\xff\x22", b""]),
    ("floats", [3.14, -0.0, 1e100, 1.5e-07, 100.0]),
    ("big integers", [2**63 - 1, -(2**63), 2**64 - 1, -1000]),
]

#: Instructions in the corpus style, answered by each translation source, each with the
#: format of its value part and what the answer must be: a format, ``"parse"`` (``HLXL: ``
#: and the HLXL) or ``"all"`` (four lines). The value part follows the first ": ".
INSTRUCTIONS: list[tuple[str, str, str]] = [
    ('Convert to LC-R: {1000: {@0: "search", @1: &h_documents}}', "hlxl", "lc-r"),
    ('Convert to LC-T: {user: {name: "Bob", age: 30}}', "hlxl", "lc-t"),
    ("Convert to LC-B: {14: {@0: 42}}", "hlxl", "lc-b"),
    ("Parse LC-T: {C:14,0=42}", "lc-t", "parse"),
    ('Parse LC-R: 🜊902🜁0 "render_pipeline"🜁1 🜃⟁vs, ⟁fs🜄🜂', "lc-r", "parse"),
    ('Convert this to Runic glyphs: {C:1000,0="train",1=@model,2=@data}', "lc-t", "lc-r"),
    ('Translate HLXL to all formats: [true, 42, "hello", null]', "hlxl", "all"),
]

#: Row labels of a value section: the four text notations, then the binary.
_LABELS = [FORMAT_TITLES[fmt] + (" text" if fmt == "lc-b" else "") for fmt in FORMATS] + ["LC-B binary"]
_LABEL_WIDTH = max(len(label) for label in _LABELS)
_INDENT = "     "
_HEX_PER_LINE = 16


def translation_sources() -> list[tuple[str, Callable[[str], str]]]:
    """The sources of answers, one instructions section each: (title, answer function)."""
    return [("reference codecs", lambda instruction: translate(instruction, backend="reference"))]


# --- checks --------------------------------------------------------------------------


def round_trip(value: Any) -> dict[str, bool]:
    """For each encoding of ``value`` (the four text formats and ``"binary"``): does it
    decode to the value, and convert to every other encoding exactly as encoding the
    value would? Computed, never assumed.
    """
    try:
        texts = {fmt: encode_as(value, fmt) for fmt in FORMATS}
        binary = to_lcb(value)
    except HLXError:
        return {fmt: False for fmt in (*FORMATS, "binary")}
    results: dict[str, bool] = {}
    encoded: list[tuple[str, str | bytes]] = [*texts.items(), ("binary", binary)]
    for fmt, text in encoded:
        try:
            decoded = from_lcb(binary) if fmt == "binary" else decode_as(text, fmt)
            results[fmt] = (
                values_equal(decoded, value)
                and all(encode_as(decoded, other) == texts[other] for other in FORMATS)
                and to_lcb(decoded) == binary
            )
        except Exception:  # noqa: BLE001 - a decoder bug is a failed round trip, not a crash of the demo
            results[fmt] = False
    return results


def answer_is_correct(instruction: str, source: str, target: str, answer: str) -> bool:
    """Whether ``answer`` means the value of ``instruction`` in the ``target`` form (see
    :data:`INSTRUCTIONS`) and is the canonical (reference) answer.
    """
    try:
        value = decode_as(instruction.split(": ", 1)[1], source)
        if target == "all":
            texts = split_labelled(answer, ALL_FORMATS_ORDER)
            if texts is None:
                return False
            meant = [decode_as(text, fmt) for fmt, text in zip(ALL_FORMATS_ORDER, texts)]
        elif target == "parse":
            if not answer.startswith("HLXL: "):
                return False
            meant = [decode_as(answer[len("HLXL: ") :], "hlxl")]
        else:
            meant = [decode_as(answer, target)]
        return all(values_equal(item, value) for item in meant) and answer == translate(instruction)
    except Exception:  # noqa: BLE001 - HLXError, or a bug: either way not a correct answer
        return False


# --- printing ------------------------------------------------------------------------


def heading(out: TextIO, title: str) -> None:
    """A section title, underlined."""
    print(f"\n{title}\n{'=' * len(title)}", file=out)


def _hex_rows(data: bytes) -> list[str]:
    rows = [data[start : start + _HEX_PER_LINE].hex(" ") for start in range(0, len(data), _HEX_PER_LINE)]
    rows[-1] += f"   ({len(data)} byte{'s' if len(data) != 1 else ''})"
    return rows


def show_value(out: TextIO, number: int, title: str, value: Any) -> bool:
    """Print one value in every format and its round-trip check; True if all round-trip."""
    print(f"\n{number:2d}. {title}", file=out)
    rows = [encode_as(value, fmt) for fmt in FORMATS]
    for label, text in zip(_LABELS, rows):
        print(f"{_INDENT}{label:<{_LABEL_WIDTH}}  {text}", file=out)
    pad = " " * (len(_INDENT) + _LABEL_WIDTH + 2)
    hex_rows = _hex_rows(to_lcb(value))
    print(f"{_INDENT}{_LABELS[-1]:<{_LABEL_WIDTH}}  {hex_rows[0]}", file=out)
    for row in hex_rows[1:]:
        print(f"{pad}{row}", file=out)
    checks = round_trip(value)
    marks = "  ".join(f"{OK if passed else FAIL} {FORMAT_TITLES.get(fmt, fmt)}" for fmt, passed in checks.items())
    passed = all(checks.values())
    verdict = f"{OK} round trip ok" if passed else f"{FAIL} round trip FAILED"
    print(f"{_INDENT}{'check':<{_LABEL_WIDTH}}  {marks}   {verdict}", file=out)
    return passed


def show_values(out: TextIO, examples: list[tuple[str, Any]] = EXAMPLES) -> int:
    """Print the values section; the number of values that do not round-trip."""
    heading(out, "Values in every format")
    print(
        "Each value below is written in all four notations and as LC-B binary. The check line\n"
        "says whether each encoding decodes back to the value and converts to every other\n"
        "encoding exactly as encoding the value directly does.",
        file=out,
    )
    failures = 0
    for number, (title, value) in enumerate(examples, 1):
        failures += not show_value(out, number, title, value)
    return failures


def show_translations(
    out: TextIO, title: str, answer: Callable[[str], str], instructions: list[tuple[str, str, str]] = INSTRUCTIONS
) -> int:
    """Print one instructions section answered by ``answer``; the number of wrong answers."""
    heading(out, f"Instructions answered by the {title}")
    failures = 0
    for instruction, source, target in instructions:
        try:
            reply = answer(instruction)
        except BackendUnavailable as error:
            print(f"  (skipped: {error})", file=out)
            return 0
        except HLXError as error:
            reply, correct = f"error: {error}", False
        else:
            correct = answer_is_correct(instruction, source, target, reply)
        failures += not correct
        print(f"\n  {OK if correct else FAIL} {instruction}", file=out)
        for line in reply.split("\n"):
            print(f"      {line}", file=out)
    return failures


def main(out: TextIO | None = None) -> int:
    """Print the demo to ``out`` (default: stdout); 0 if every check passed, else 1."""
    out = sys.stdout if out is None else out
    print(f"HLX value formats: a demo (hlx {__version__})", file=out)
    print(
        "One data model, four notations: HLXL (readable), LC-T (compact ASCII),\n"
        "LC-R (runic glyphs) and LC-B (binary, also written as a text notation).",
        file=out,
    )
    value_failures = show_values(out)
    sources = translation_sources()
    answer_failures = 0
    for title, answer in sources:
        answer_failures += show_translations(out, title, answer)
    for section in plugins.load_all(plugins.DEMO_SECTIONS):
        section(out)

    heading(out, "Summary")
    count = len(EXAMPLES)
    print(
        f"  {OK if not value_failures else FAIL} {count - value_failures} of {count} values "
        f"round-trip through all {len(FORMATS)} formats and LC-B binary",
        file=out,
    )
    asked = len(INSTRUCTIONS) * len(sources)
    print(
        f"  {OK if not answer_failures else FAIL} {asked - answer_failures} of {asked} instructions answered correctly",
        file=out,
    )
    return 0 if not (value_failures or answer_failures) else 1


if __name__ == "__main__":
    sys.exit(main())
