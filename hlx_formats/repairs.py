"""Two repair tasks on values: completing a truncated value, and fixing a value with one typo.

*Completion.* :func:`truncate` cuts a value's text inside it, so that the given text is the
beginning of a value (the original) but does not parse as a whole. An answer completes it
(:func:`is_completion`) when it starts with the given text and parses in the format. A
truncation is *recoverable* (:func:`is_recoverable`) when closing what the given text leaves
open -- the string it is inside, then its open containers, innermost first (:func:`closing`)
-- gives back the original value: the cut removed only closing quotes and brackets, so the
original is the shortest completion. :func:`grade_completion` wants the original value for a
recoverable truncation, and any completion for the others (nothing says what was cut).

*Fix.* :func:`typo` makes one deletion, insertion or swap of two neighbouring characters
that stops the text parsing (an edit that leaves a valid value is no repair task), and
records which (:class:`Typo`). :func:`grade_fix` wants an answer that reads as the original
value (compared by :func:`~hlx_formats.model.values_equal`, so any spelling of it is right).

Parsing is the fast decoders' (:data:`~hlx_formats.formats.DECODERS`); LC-B is its text
notation throughout. The cuts and typos are drawn from a ``random.Random`` the caller seeds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from .errors import HLXError
from .formats import DECODERS, ENCODERS
from .model import values_equal
from .registry import FORMAT_TITLES, codec_of, normalize_format

__all__ = [
    "EDITS", "RepairError", "RepairGrade", "Truncation", "Typo", "closing", "grade_completion", "grade_fix",
    "is_completion", "is_recoverable", "parses", "truncate", "typo", "close_completion", "one_edit_fixes",
]  # fmt: skip

#: The edits of a typo.
EDITS = ("delete", "insert", "swap")

#: Each format's container openers and the closer of each (LC-R: legacy glyphs too).
_CLOSERS: dict[str, dict[str, str]] = {
    "hlxl": {"[": "]", "{": "}"},
    "lc-t": {"[": "]", "{": "}"},
    "lc-b": {"[": "]", "{": "}"},
    "lc-r": {"🜃": "🜄", "🐃": "🜄", "◇": "◆", "🜊": "🜂", "🐊": "🜂"},
}
#: Characters a typo may insert: each format's punctuation, digits and a few letters.
_INSERTABLE: dict[str, str] = {
    "hlxl": '[]{},:"@&.-0123456789abenxz_',
    "lc-t": '[]{},:="#@.-0123456789ACNTabxz_',
    "lc-b": '[]{},:|"#&.-0123456789TFabxz_',
    "lc-r": '🜃🜄◇◆🜊🜁🜂∅⊤⊥⊠⟁,:".-0123456789abxz_',
}
_ATTEMPTS = 64  # draws before a typo or a cut is given up


class RepairError(HLXError):
    """A repair function called with arguments that make no task: an unknown format, an
    original that does not parse, a given text that is not the original's beginning..."""


@dataclass(frozen=True)
class Truncation:
    """A value's text cut short: ``text`` (what is given) is ``original[:len(text)]``."""

    fmt: str
    original: str
    text: str
    recoverable: bool


@dataclass(frozen=True)
class Typo:
    """A value's text with one edit that stops it parsing: ``edit`` (one of :data:`EDITS`) at
    ``at`` in ``original``; ``char`` is the inserted character (insert) or the deleted one
    (delete), and the two characters as they were (swap)."""

    fmt: str
    original: str
    text: str
    edit: str
    at: int
    char: str


@dataclass(frozen=True)
class RepairGrade:
    """How an answer to a repair task compares: ``right`` or not, and ``reason`` in words.

    ``parses``: the answer is a value of the format. ``prefix_kept``: it starts with the given
    text (completions; None for fixes). ``equals_original``: its value is the original's
    (None when the answer does not parse). ``needs_original``: the grade wanted the original
    value (fixes, recoverable completions), not only a completion.
    """

    right: bool
    reason: str
    parses: bool
    prefix_kept: bool | None
    equals_original: bool | None
    needs_original: bool

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _format(fmt: str) -> str:
    try:
        return normalize_format(fmt)
    except HLXError as error:
        raise RepairError(str(error)) from None


def _read(text: str, fmt: str) -> tuple[bool, Any]:
    """``(True, value)`` when ``text`` parses in ``fmt``, else ``(False, None)``."""
    if not isinstance(text, str):
        raise RepairError(f"a repair task's texts are str, not {type(text).__name__}")
    try:
        return True, DECODERS[fmt](text)
    except HLXError:
        return False, None


def _read_quickly(text: str, fmt: str) -> tuple[bool, Any]:
    """:func:`_read` by the fast decoder alone: no Lark pass to word the error of a text that
    does not parse (the differential tests hold the fast decoders to the reference on every
    input). Only the generators read so; the graders read with :data:`DECODERS`."""
    try:
        return True, codec_of(fmt)[2].parse(text)
    except Exception:  # noqa: BLE001 - the fast decoder's Reject: not a value
        return False, None


def _original_value(original: str, fmt: str) -> Any:
    ok, value = _read(original, fmt)
    if not ok:
        raise RepairError(f"the original is not a {FORMAT_TITLES[fmt]} value: {original[:80]!r}")
    return value


def parses(text: str, fmt: str) -> bool:
    """Whether ``text`` is a value in format ``fmt`` (any name :func:`normalize_format` knows)."""
    return _read(text, _format(fmt))[0]


def closing(text: str, fmt: str) -> str:
    """What closes the string and containers ``text`` leaves open: a closing quote if it ends
    inside a string, then the closer of each open container, innermost first.

    >>> closing('{a: [1, "x', "hlxl"), closing("🜊7🜁0 🜃1", "lc-r")
    ('"]}', '🜄🜂')

    Only quotes and brackets are counted (the text need not be valid): a text that ends inside
    an escape or a word is closed all the same, and may not parse after it.
    """
    fmt = _format(fmt)
    closers = _CLOSERS[fmt]
    ends = set(closers.values()) | ({"🐄", "🐂"} if fmt == "lc-r" else set())
    stack: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in closers:
            stack.append(closers[char])
        elif char in ends and stack:
            stack.pop()
    return ('"' if in_string else "") + "".join(reversed(stack))


def close_completion(text: str, fmt: str) -> str:
    """The completion a non-learned strategy gives: ``text`` followed by :func:`closing`."""
    return text + closing(text, fmt)


def is_completion(truncated: str, answer: str, fmt: str) -> bool:
    """Whether ``answer`` starts with ``truncated`` and parses in ``fmt``."""
    fmt = _format(fmt)
    return isinstance(answer, str) and answer.startswith(truncated) and _read(answer, fmt)[0]


def _check_truncation(truncated: str, original: str, fmt: str) -> Any:
    """The original's value, once ``truncated`` is checked to be a cut of it that does not parse."""
    value = _original_value(original, fmt)
    if not isinstance(truncated, str) or not original.startswith(truncated) or len(truncated) >= len(original):
        raise RepairError(f"the truncated text is not a proper beginning of the original: {str(truncated)[:80]!r}")
    if _read(truncated, fmt)[0]:
        raise RepairError(f"the truncated text is a whole {FORMAT_TITLES[fmt]} value: {truncated[:80]!r}")
    return value


def is_recoverable(truncated: str, original: str, fmt: str) -> bool:
    """Whether closing ``truncated`` (:func:`closing`) gives the original's value: the cut
    removed only closing quotes and brackets, so the original is the shortest completion."""
    fmt = _format(fmt)
    return _closes_to(truncated, _check_truncation(truncated, original, fmt), fmt)


def _closes_to(truncated: str, value: Any, fmt: str, quickly: bool = False) -> bool:
    ok, closed = (_read_quickly if quickly else _read)(close_completion(truncated, fmt), fmt)
    return ok and values_equal(closed, value)


def truncate(original: str, fmt: str, rng: random.Random, *, recoverable: bool | None = None) -> Truncation | None:
    """``original`` (a value's text) cut at a random place: the given text is at least a third
    of it, does not parse and does not end in whitespace. ``recoverable``: only such cuts
    (True), only the others (False) or either (None). None when the text has no such cut (a
    short scalar; no recoverable cut in a text that ends in no quote or bracket)."""
    fmt = _format(fmt)
    value = _original_value(original, fmt)
    cuts = [cut for cut in range(max(1, len(original) // 3), len(original)) if not original[cut - 1].isspace()]
    if recoverable:
        ends = set(_CLOSERS[fmt].values()) | {'"'}
        run = len(original) - len(original.rstrip("".join(ends)))
        cuts = [cut for cut in cuts if cut >= len(original) - run]
    for _ in range(min(_ATTEMPTS, 2 * len(cuts))):
        cut = rng.choice(cuts)
        text = original[:cut]
        if _read_quickly(text, fmt)[0]:
            continue
        found = _closes_to(text, value, fmt, quickly=True)
        if recoverable is None or found == recoverable:
            return Truncation(fmt, original, text, found)
    return None


def typo(original: str, fmt: str, rng: random.Random, *, edit: str | None = None) -> Typo | None:
    """``original`` with one edit (``edit``, or one of :data:`EDITS` drawn) that stops it
    parsing: a character deleted, one of the format's characters inserted, or two different
    neighbours swapped. The result is never empty and neither starts nor ends with
    whitespace. None when no draw breaks the text."""
    fmt = _format(fmt)
    _original_value(original, fmt)
    if edit is not None and edit not in EDITS:
        raise RepairError(f"unknown edit {edit!r}; expected one of: {', '.join(EDITS)}")
    for _ in range(_ATTEMPTS):
        kind = edit or rng.choice(EDITS)
        if kind == "delete":
            at = rng.randrange(len(original))
            char, text = original[at], original[:at] + original[at + 1 :]
        elif kind == "insert":
            at = rng.randrange(len(original) + 1)
            char = rng.choice(_INSERTABLE[fmt])
            text = original[:at] + char + original[at:]
        else:
            if len(original) < 2:
                continue
            at = rng.randrange(len(original) - 1)
            char = original[at : at + 2]
            if char[0] == char[1]:
                continue
            text = original[:at] + char[1] + char[0] + original[at + 2 :]
        if text and text == text.strip() and not _read_quickly(text, fmt)[0]:
            return Typo(fmt, original, text, kind, at, char)
    return None


def grade_completion(truncated: str, original: str, answer: str, fmt: str) -> RepairGrade:
    """Grade ``answer`` to ``Complete this <F>: <truncated>``: it must start with the given
    text and parse; for a recoverable truncation (:func:`is_recoverable`) its value must also
    be the original's. RepairError when ``truncated`` is no truncation of ``original``."""
    fmt = _format(fmt)
    value = _check_truncation(truncated, original, fmt)
    needs_original = _closes_to(truncated, value, fmt)
    if not isinstance(answer, str):
        raise RepairError(f"an answer is a str, not {type(answer).__name__}")
    ok, got = _read(answer, fmt)
    kept = answer.startswith(truncated)
    same = values_equal(got, value) if ok else None
    if not kept:
        reason = "does not start with the given text"
    elif not ok:
        reason = f"does not parse as {FORMAT_TITLES[fmt]}"
    elif needs_original and not same:
        reason = "parses, but is not the original value (the truncation is recoverable)"
    else:
        reason = "equals the original value" if same else "a completion (parses, prefix kept)"
    right = kept and ok and (bool(same) or not needs_original)
    return RepairGrade(right, reason, ok, kept, same, needs_original)


def grade_fix(original: str, answer: str, fmt: str) -> RepairGrade:
    """Grade ``answer`` to ``Fix this <F>: <broken>``: it must parse as the original value."""
    fmt = _format(fmt)
    value = _original_value(original, fmt)
    if not isinstance(answer, str):
        raise RepairError(f"an answer is a str, not {type(answer).__name__}")
    ok, got = _read(answer, fmt)
    same = values_equal(got, value) if ok else None
    if not ok:
        reason = f"does not parse as {FORMAT_TITLES[fmt]}"
    else:
        reason = "equals the original value" if same else "parses, but is not the original value"
    return RepairGrade(bool(same), reason, ok, None, same, True)


def one_edit_fixes(broken: str, fmt: str, *, canonical: bool = False) -> list[str]:
    """Every text one deletion, insertion or neighbour swap away from ``broken`` that parses in
    ``fmt``, in the order tried: deletions, swaps, then insertions (of the format's
    punctuation, digits, a few letters and the characters of ``broken``), left to right. The
    search a non-learned fixer can make; each candidate costs one fast read. ``canonical``:
    only the texts that are their value's canonical spelling in ``fmt``."""
    fmt = _format(fmt)
    if not isinstance(broken, str):
        raise RepairError(f"a repair task's texts are str, not {type(broken).__name__}")
    alphabet = sorted(set(_INSERTABLE[fmt]) | set(broken))
    candidates = [broken[:at] + broken[at + 1 :] for at in range(len(broken))]
    candidates += [
        broken[:at] + broken[at + 1] + broken[at] + broken[at + 2 :] for at in range(len(broken) - 1) if broken[at] != broken[at + 1]
    ]
    candidates += [broken[:at] + char + broken[at:] for at in range(len(broken) + 1) for char in alphabet]
    fixes = []
    for text in dict.fromkeys(candidates):
        ok, value = _read_quickly(text, fmt)
        if ok and (not canonical or ENCODERS[fmt](value) == text):
            fixes.append(text)
    return fixes
