"""The public operations: the codecs by format name (:mod:`hlx_formats.formats`) and
``translate``, which answers requests (:mod:`hlx_formats.requests`) with the reference codecs
or with a backend another package installs (:mod:`hlx_formats.plugins`)."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import HLXError, ParseError
from .formats import DECODERS, ENCODERS, convert, decode_as, detect_format, detect_value, encode_as, repeats_key
from .grammar import FORMAT_TITLES
from .instructions import answer
from .model import MAX_INPUT_SIZE
from .plugins import load_backend
from .requests import Request, parse_request, render_instruction

__all__ = [
    "ENCODERS", "DECODERS", "encode_as", "decode_as", "detect_format", "detect_value", "convert", "translate", "translate_many",
    "answer_instruction", "repeats_key",
]  # fmt: skip


def answer_instruction(instruction: str) -> str:
    """The reference answer to a request (see :func:`translate`)."""
    request = parse_request(instruction)
    if request.has_value:
        return answer(request.instruction, value=request.value)
    try:
        return answer(request.instruction)
    except ParseError as error:
        raise _with_hint(error, request) from None


def _with_hint(error: ParseError, request: Request) -> ParseError:
    """``error`` (a canonical instruction's value that is not in the format the instruction
    names), told which instruction would read it when the value is valid in another format."""
    parsed = request.instruction
    if parsed.value_text is None or parsed.source_format is None or parsed.target_format in ("text", "many"):
        return error
    try:
        source = detect_value(parsed.value_text)[0]
    except ParseError:
        return error
    targets = "all" if parsed.target_format == "all" else parsed.targets
    better = render_instruction("convert", value_text=parsed.value_text, source=source, targets=targets)
    hint = f"{error.reason}; the value is {FORMAT_TITLES[source]}: did you mean `{better[:120]}`?"
    return ParseError(error.format, hint, line=error.line, column=error.column, offset=error.offset, excerpt=error.excerpt)


def translate_many(texts: Iterable[str], to: str | None = None, *, backend: str = "reference") -> list[str]:
    """:func:`translate` for several texts, the answers in their order. A backend that answers
    in batches (its callable has a ``many(texts, to)`` method, as ``moe`` has) gets them all at
    once; any other answers them one by one. Every text is checked against
    ``MAX_INPUT_SIZE`` first."""
    texts = list(texts)
    for text in texts:
        _check_size(text)
    if backend == "reference":
        return [translate(text, to) for text in texts]
    if not isinstance(backend, str):
        raise HLXError(f"unknown backend {backend!r}; expected a name such as 'reference' or 'moe'")
    answer_one = load_backend(backend)
    many = getattr(answer_one, "many", None)
    if callable(many):
        answers: list[str] = many(texts, to)
        return answers
    return [answer_one(text, to) for text in texts]


def _check_size(text: object) -> None:
    if isinstance(text, (str, bytes)) and len(text) > MAX_INPUT_SIZE:
        raise HLXError(f"the input is {len(text):,} characters; translate() reads at most {MAX_INPUT_SIZE:,} (MAX_INPUT_SIZE)")


def translate(text: str, to: str | None = None, *, backend: str = "reference") -> str:
    """Translate between the formats.

    With ``to``: the same as :func:`convert` (source detected). Without ``to``: ``text``
    is an instruction in the corpus style, such as ``Convert to LC-R: [1, 2]`` or
    ``Parse LC-T: {C:14,0=42}`` (answered ``HLXL: {14: {@0: 42}}``), a question about the
    formats (``What is contract 900?``) or a plain-English intent (``Search for documents``);
    see ``hlx_formats.instructions.FORMS``.

    ``backend="reference"`` answers with the deterministic codecs; ``backend="moe"`` with
    the mixture of experts of ``hlx_moe`` (needs the ``[moe]`` extra).
    """
    _check_size(text)
    if backend == "reference":
        return convert(text, to) if to is not None else answer_instruction(text)
    if not isinstance(backend, str):
        raise HLXError(f"unknown backend {backend!r}; expected a name such as 'reference' or 'moe'")
    return load_backend(backend)(text, to)
