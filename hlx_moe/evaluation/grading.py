"""Grading an answer against the reference codecs: exact, same value, or wrong."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from hlx_formats.api import DECODERS
from hlx_formats.errors import HLXError, WrongAnswer
from hlx_formats.grammar import FORMAT_TITLES
from hlx_formats.instructions import REPAIR_TASKS, Instruction, answer, split_labelled
from hlx_formats.model import Contract, kind_of, values_equal
from hlx_formats.requests import parse_request

__all__ = ["GradedAnswer", "Grade", "checked_answer", "grade", "same_shape", "wrong_scalars"]


@dataclass(frozen=True)
class Grade:
    """How an answer compares with the reference answer of its instruction.

    ``exact``: identical to the reference text. ``same_value``: a format answer that reads
    as the same value as the reference (another spelling of it, e.g. with extra spaces);
    ``exact`` implies it. ``same_shape``: the answer's value has the reference's structure
    (containers, lengths, object keys, contract ids and field indices) and the same kind
    of scalar at every leaf, whatever the scalars are: a near miss that got a number, a
    string or a name wrong; ``same_value`` implies it. ``wrong_scalars``: for a same-shape
    answer, the kind of each wrong leaf (``("integer", "string")``). ``parses``: the answer is valid in its target format (with its
    prefix); None for free-text answers. ``reference``: the reference answer, or None when
    the instruction has none (not a known instruction form). ``error``: why the answer does
    not parse.
    """

    exact: bool
    same_value: bool
    parses: bool | None
    reference: str | None
    error: str | None = None
    same_shape: bool = False
    wrong_scalars: tuple[str, ...] = ()  # kinds of the wrong leaves of a same-shape answer

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _grade_repair(parsed: Instruction, answer_text: str) -> Grade:
    """A completion or fix has no reference answer (only the original value, which the request
    does not hold, says which answer is right: ``hlx_moe.evaluation.repairs``): graded on
    whether it parses in its format and, for a completion, starts with the given text."""
    given = parsed.value_text or ""
    if parsed.form.task == "complete" and not answer_text.startswith(given):
        return Grade(False, False, False, None, "a completion must start with the given text")
    try:
        _reference_read(answer_text, parsed.target_format)
    except HLXError as error:
        return Grade(False, False, False, None, str(error))
    return Grade(False, False, True, None)


def _read_answer(text: str, instruction: Instruction) -> Any:
    """The value(s) an answer spells, in the instruction's target format (lenient parse)."""
    target = instruction.target_format
    if target in ("all", "many"):
        formats = instruction.targets
        texts = split_labelled(text, formats)
        if texts is None:
            labels = ", ".join(f"{FORMAT_TITLES[fmt]}:" for fmt in formats)
            raise HLXError(f"this answer is {len(formats)} lines, labelled in this order: {labels}")
        return [_reference_read(line, fmt) for line, fmt in zip(texts, formats)]
    if instruction.prefix:
        if not text.startswith(instruction.prefix):
            raise HLXError(f"the answer must start with {instruction.prefix!r}")
        text = text[len(instruction.prefix) :]
    return [_reference_read(text, target)]


def _reference_read(text: str, fmt: str) -> Any:
    # The grader reads with the Lark reference parsers, not the fast decoders.
    return DECODERS[fmt](text, strict_reference=True)


def same_shape(a: Any, b: Any) -> bool:
    """Whether two values have one structure, with scalars compared by kind only."""
    return wrong_scalars(a, b) is not None


def wrong_scalars(a: Any, b: Any) -> list[str] | None:
    """The kind of each scalar leaf that differs between two values of one shape (see
    :func:`same_shape`), in document order; None when the shapes differ."""
    wrong = []
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        kind = type(x)
        if kind is not type(y):
            return None
        if kind is list:
            if len(x) != len(y):
                return None
            stack.extend(reversed(list(zip(x, y))))
        elif kind is dict:
            if list(x) != list(y):
                return None
            stack.extend((x[key], y[key]) for key in reversed(list(x)))
        elif kind is Contract:
            if x.id != y.id or [index for index, _ in x._fields] != [index for index, _ in y._fields]:
                return None
            stack.extend((vx, vy) for (_, vx), (_, vy) in reversed(list(zip(x._fields, y._fields))))
        elif not values_equal(x, y):
            wrong.append(kind_of(x))
    return wrong


def grade(instruction: str | Instruction, answer_text: str) -> Grade:
    """Grade ``answer_text`` as an answer to ``instruction`` (any model's output): an
    ``Instruction``, or any request ``hlx_formats.parse_request`` reads."""
    try:
        parsed = instruction if isinstance(instruction, Instruction) else parse_request(instruction).instruction
        if parsed.form.task in REPAIR_TASKS:
            return _grade_repair(parsed, answer_text)
        reference = answer(parsed)
    except HLXError:
        return Grade(False, False, None, None, "no reference answer: not a known instruction (or its value is invalid)")
    exact = answer_text == reference
    if parsed.target_format == "text":
        return Grade(exact, exact, None, reference, same_shape=exact)
    try:
        got = _read_answer(answer_text, parsed)
    except HLXError as error:
        return Grade(exact, exact, False, reference, str(error), same_shape=exact)
    expected = _read_answer(reference, parsed)
    # One walk per value answers both questions: equal values are the same shape with no wrong leaf.
    wrong = [wrong_scalars(a, b) for a, b in zip(got, expected)] if len(got) == len(expected) else [None]
    shape = all(leaves is not None for leaves in wrong)
    kinds = tuple(kind for leaves in wrong if leaves for kind in leaves) if shape else ()
    same = shape and not kinds
    return Grade(exact, exact or same, True, reference, same_shape=exact or shape, wrong_scalars=kinds)


class GradedAnswer(Protocol):
    """What :func:`checked_answer` reads of an answer graded against the reference (a
    ``hlx_moe.serving.mixture.QueryResult``)."""

    expert: str
    instruction: str
    answer: str
    parses: bool | None
    reference: str | None
    same_value: bool | None


def checked_answer(result: GradedAnswer) -> str:
    """``result.answer``, unless its grading rejects it: a format answer that does not parse
    (possible only when decoding was unconstrained), or an answer whose instruction has a
    reference answer and that differs from it (another value, or another sentence; a spelling
    of the same value passes): then :class:`~hlx_formats.errors.WrongAnswer`, never a wrong
    answer as if it were right."""
    shown = f"the {result.expert} expert's answer to {result.instruction[:60]!r}, {result.answer[:80]!r},"
    if result.parses is False:
        raise WrongAnswer(f"{shown} does not parse; not returned", answer=result.answer, reference=result.reference)
    if result.reference is not None and result.same_value is False:
        what = "another value than" if result.parses else "another answer than"
        raise WrongAnswer(f"{shown} holds {what} the reference's; not returned", answer=result.answer, reference=result.reference)
    return result.answer
