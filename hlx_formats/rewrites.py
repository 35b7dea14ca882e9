"""The rewrite step's language: the canonical instructions a free-form request may become.

A request that the request description (:mod:`hlx_formats.requests`) does not read is
rewritten by a learned model into one canonical instruction (:mod:`hlx_formats.instructions`).
The model only chooses: :func:`rewrite_space` lists every instruction it may choose for a
request, a finite grammar in which the value part is always a value written in the request,
copied as written. So a rewrite can name the wrong task or format, but it cannot invent,
alter or drop a value. :data:`NOT_A_REQUEST` is the choice for a request that asks for none
of the tasks.

Values are found by :func:`values_in`: spans that open like a value (a bracket, a brace, a
quote, a digit, a glyph, ``&``, ``@``, ``#``, ``b"``, a literal word) and parse in at least one
format, the longest first. A span that opens a container or a string but parses in no format
is a broken value (:attr:`RewriteSpace.broken`). A request with a broken value may ask to
repair it: its rewrites are then the completions and fixes of the broken text (``Complete
this <F>: ...``, ``Fix this <F>: ...``, each format, the text from where it opens to the end of
the request or to where only words follow) and :data:`NOT_A_REQUEST`, which there means "no
repair asked": the request is refused with the broken value's error, as the reference refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from . import facts
from .errors import HLXError, ParseError
from .formats import detect_value
from .grammar import FORMAT_TITLES
from .instructions import ALL_FORMATS_ORDER, first_form, match_instruction, render
from .lcr import GLYPHS, LEGACY_GLYPHS
from .registry import all_formats
from .requests import render_instruction

__all__ = [
    "GLYPH_QUESTION_NAMES", "MAX_REWRITE_CHARS", "NOT_A_REQUEST", "REWRITE_PREFIX", "RewriteSpace", "ValueSpan", "choice_grammar", "rewrite_grammar",
    "rewrite_prompt", "rewrite_space", "values_in",
]  # fmt: skip

REWRITE_PREFIX = "Rewrite as an instruction: "
#: The rewrite of a request that asks for none of the tasks (weather, a poem, miles to km).
NOT_A_REQUEST = "Not an HLX request."
#: Longest request (characters) the rewrite step reads: every corpus request is shorter, and
#: finding the values costs a parse per opening and ending position.
MAX_REWRITE_CHARS = 400

_GLYPH_CHARS = frozenset(GLYPHS) | frozenset(LEGACY_GLYPHS)
_OPENERS = frozenset('[{"-0123456789&#@') | _GLYPH_CHARS
_CONTAINER_OPENERS = frozenset('[{"') | frozenset("🜃◇🜊🐃🐊")
_WORD_VALUES = re.compile(r"(?:null|true|false|NULL|TRUE|FALSE)(?![\w-])")
_BEFORE_VALUE = frozenset(" \t\r\n:(`'=")  # what may stand just before a value
_AFTER_VALUE = frozenset(" \t\r\n,.?!;:`')")  # what may stand just after one
_INTEGER = re.compile(r"(?<![\w.-])#?([0-9]{1,6})(?![\w.])")
#: The glyph names a glyph_for rewrite may ask for: each glyph's canonical name.
GLYPH_QUESTION_NAMES = tuple(dict.fromkeys(name.removeprefix("the ") for name in facts.GLYPH_NAMES.values()))
#: The tasks a rewrite may choose besides conversions, as their first canonical forms.
_EXPERTS = ("coordinator", "ascii", "runic")


@dataclass(frozen=True)
class ValueSpan:
    """A value written in a request: ``text`` at ``start:end``, and the formats it parses
    in (the one :func:`~hlx_formats.detect_format` picks first)."""

    start: int
    end: int
    text: str
    formats: tuple[str, ...]


@dataclass(frozen=True)
class RewriteSpace:
    """What a request may be rewritten as: ``candidates`` (canonical instructions, then
    :data:`NOT_A_REQUEST`), the ``values`` they copy, and ``broken``: the error of a value the
    request opens but that parses in no format (None when there is none); a request with a
    broken value may only be rewritten as a repair of it (or :data:`NOT_A_REQUEST`)."""

    request: str
    values: tuple[ValueSpan, ...]
    candidates: tuple[str, ...]
    broken: ParseError | None = None


def rewrite_prompt(request: str) -> str:
    """The rewrite task's instruction for ``request`` (the model input, inside the prompt wrapper)."""
    return REWRITE_PREFIX + " ".join(request.split())


def _parses_in(text: str) -> tuple[str, ...]:
    """The formats whose fast decoder accepts ``text``, the detected one first."""
    formats = []
    for record in all_formats():
        assert record.fast_parser is not None  # every built-in format registers its decoder
        try:
            record.fast_parser.parse(text)
        except Exception:  # noqa: BLE001 - any rejection: not this format
            continue
        formats.append(record.name)
    if len(formats) > 1:
        try:
            detected = detect_value(text)[0]
        except HLXError:
            detected = formats[0]
        formats.sort(key=lambda fmt: fmt != detected)
    return tuple(formats)


def _opens_value(text: str, index: int) -> bool:
    if index > 0 and text[index - 1] not in _BEFORE_VALUE:
        return False
    char = text[index]
    if char in _GLYPH_CHARS and text[index + 1 : index + 2] in ("", " ", "?", ".", "!", ","):
        return char in "∅⊤⊥⊠"  # a glyph on its own is named, not a value opened (but null, true, false, empty bytes)
    if char in _OPENERS:
        return True
    if char == "b" and text[index + 1 : index + 2] == '"':
        return True
    return _WORD_VALUES.match(text, index) is not None


def _ends(text: str, start: int) -> list[int]:
    """Where a value starting at ``start`` may end, the furthest first."""
    ends = [end for end in range(start + 1, len(text)) if text[end] in _AFTER_VALUE]
    ends.append(len(text))
    return sorted(set(ends), reverse=True)


def values_in(request: str) -> tuple[list[ValueSpan], ParseError | None]:
    """The values written in ``request`` (the longest span from each opening position that
    parses in some format, not overlapping), and the error of the first span that opens a
    container or a string but parses in no format (None when there is none)."""
    spans, broken, _start = _scan(request)
    return spans, broken


def _scan(request: str) -> tuple[list[ValueSpan], ParseError | None, int]:
    """:func:`values_in`, and where the broken value opens (-1 when there is none)."""
    spans: list[ValueSpan] = []
    broken: ParseError | None = None
    broken_start = -1
    index = 0
    while index < len(request):
        if not _opens_value(request, index):
            index += 1
            continue
        found = None
        for end in _ends(request, index):
            span = request[index:end]
            formats = _parses_in(span)
            if formats:
                found = ValueSpan(index, end, span, formats)
                break
        if found is None:
            if broken is None and request[index] in _CONTAINER_OPENERS and not spans:
                broken = _error_of(request[index:].rstrip(" \t\r\n?.!"))
                broken_start = index if broken is not None else -1
            index += 1
            continue
        spans.append(found)
        index = found.end
    return spans, broken, broken_start


def _error_of(text: str) -> ParseError | None:
    try:
        detect_value(text)
    except ParseError as error:
        return error
    return None  # the full decoders read what the fast ones gave up on: not broken


def _conversions(value: ValueSpan) -> list[str]:
    """Every instruction that converts, validates or explains ``value``, for each format it
    parses in."""
    found = []
    for source in value.formats:
        for target in (*ALL_FORMATS_ORDER, "all"):
            targets = "all" if target == "all" else (target,)
            found.append(render_instruction("convert", value_text=value.text, source=source, targets=targets))
        found.append(render_instruction("validate", value_text=value.text, source=source))
        found.append(render_instruction("explain", value_text=value.text, source=source))
    return found


#: How many ends a broken value's text may have in its repairs (the longest first).
MAX_DAMAGED_ENDS = 6
# each word but the last followed by a separator: one way to match, so no backtracking blow-up
_WORDS_ONLY = re.compile(r"[\s,.;:!?]*(?:[A-Za-z'-]+[\s,.;:!?]+)*(?:[A-Za-z'-]+)?")


def _damaged_texts(request: str, start: int) -> list[str]:
    """The texts a broken value opening at ``start`` may be: to the end of the request, and to
    each earlier end after which only words or punctuation follow (``fix [1,,2] for me.``: also
    ``[1,,2] for me`` and ``[1,,2]``), the longest first."""
    texts = []
    for end in _ends(request, start):
        if _WORDS_ONLY.fullmatch(request, end) is None:
            continue
        text = request[start:end].rstrip()  # "[0." or "[1, 2," may end in punctuation: kept
        if text and text not in texts:
            texts.append(text)
        if len(texts) == MAX_DAMAGED_ENDS:
            break
    return texts


def _repairs(request: str, start: int) -> list[str]:
    """Every completion and fix of the broken value opening at ``start``, in each format."""
    found = []
    for text in _damaged_texts(request, start):
        for task in ("complete", "fix"):
            found += [render(first_form(task), target=FORMAT_TITLES[fmt], value=text) for fmt in ALL_FORMATS_ORDER]
    return found


def _questions(request: str) -> list[str]:
    """Every question a request may be asking: about each format, each expert, each glyph
    name, each glyph and each number (as a contract id) it writes."""
    found = []
    for fmt in ALL_FORMATS_ORDER:
        found.append(render_instruction("format_info", format=fmt))
        found.append(render_instruction("expert_info", format=fmt))
    found += [render_instruction("expert_use", expert=expert) for expert in _EXPERTS]
    found += [render(first_form("glyph_for"), name=name) for name in GLYPH_QUESTION_NAMES]
    found += [render(first_form("glyph_meaning"), glyph=glyph) for glyph in dict.fromkeys(c for c in request if c in GLYPHS)]
    found += [render(first_form("contract_info"), id=str(int(m.group(1)))) for m in _INTEGER.finditer(request)]
    return found


def rewrite_space(request: str) -> RewriteSpace:
    """Every canonical instruction ``request`` may be rewritten as (HLXError when it is
    longer than :data:`MAX_REWRITE_CHARS` or empty)."""
    if not isinstance(request, str):
        raise HLXError(f"a request must be str, not {type(request).__name__}")
    text = request.strip()  # not collapsed: a value is copied as written (`["a  b"]` keeps its two spaces)
    collapsed = " ".join(text.split())
    if not collapsed:
        raise HLXError("the request is empty")
    if len(collapsed) > MAX_REWRITE_CHARS:
        raise HLXError(f"the request has {len(collapsed)} characters; the rewrite step reads at most {MAX_REWRITE_CHARS}")
    values, broken, broken_start = _scan(text)
    candidates: list[str] = []
    if broken is not None:
        candidates += _repairs(text, broken_start)
    else:
        for value in values:
            candidates += _conversions(value)
        candidates += _questions(text)
    candidates = [candidate for candidate in dict.fromkeys(candidates) if match_instruction(candidate) is not None]
    candidates.append(NOT_A_REQUEST)
    return RewriteSpace(text, tuple(values), tuple(candidates), broken)


def rewrite_grammar(space: RewriteSpace) -> str:
    """The rewrite's grammar for one request, in Lark syntax: one alternative per candidate."""
    return choice_grammar(space.candidates)


def choice_grammar(texts: Iterable[str]) -> str:
    """A Lark grammar whose sentences are exactly ``texts``: one alternative each."""
    alternatives = "\n    | ".join(_lark_string(text) for text in texts)
    return f"start: {alternatives}\n"


def _lark_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
