"""Format-independent operations: detection, conversion and instruction answering."""

from __future__ import annotations

from typing import Any, Callable

from .errors import BackendUnavailable, HLXError, ParseError
from .grammar import FORMAT_TITLES, FORMATS, normalize_format, text_input
from ._fast import repeats_in_prefix
from .hlxl import _FastHLXL, from_hlxl, to_hlxl
from .lcb import _FastLCBText, from_lcb, to_lcb_text
from .lcr import _FastLCR, from_lcr, to_lcr
from .lct import _FastLCT, from_lct, to_lct

__all__ = ["ENCODERS", "DECODERS", "encode_as", "decode_as", "detect_format", "convert", "translate", "answer_instruction", "repeats_key"]

#: Text encoder of each format (LC-B: the text notation).
ENCODERS: dict[str, Callable[[Any], str]] = {
    "hlxl": to_hlxl,
    "lc-t": to_lct,
    "lc-r": to_lcr,
    "lc-b": to_lcb_text,
}
#: Decoder of each format (LC-B: bytes are binary, str is the text notation).
DECODERS: dict[str, Callable[[Any], Any]] = {
    "hlxl": from_hlxl,
    "lc-t": from_lct,
    "lc-r": from_lcr,
    "lc-b": from_lcb,
}


def encode_as(value: Any, fmt: str) -> str:
    """The canonical text of ``value`` in ``fmt`` (any name :func:`normalize_format` knows)."""
    return ENCODERS[normalize_format(fmt)](value)


def decode_as(data: str | bytes, fmt: str) -> Any:
    """The value of ``data`` read as ``fmt``."""
    return DECODERS[normalize_format(fmt)](data)


_FAST_PARSERS = {"hlxl": _FastHLXL, "lc-t": _FastLCT, "lc-r": _FastLCR, "lc-b": _FastLCBText}


def repeats_key(text: str, fmt: str) -> bool:
    """Whether ``text`` -- a whole text or only its beginning, in format ``fmt`` -- repeats an
    object key or a contract field index that is already complete: a key counts once the
    separator after it is written (``{a: 1, a`` does not repeat yet, ``{a: 1, a:`` does).

    A context-free grammar cannot forbid repeated keys, so constrained decoding asks this
    after each token and steers away from a repeat. Text that is not in the format is simply
    ``False``: this answers only about repeats.

    >>> repeats_key('{a: 1, a', "hlxl"), repeats_key('{a: 1, a:', "hlxl")
    (False, True)
    >>> repeats_key("🜊7🜁0 1🜁0 ", "lc-r")
    True
    """
    return repeats_in_prefix(_FAST_PARSERS[normalize_format(fmt)], text)


def detect_value(data: str | bytes) -> tuple[str, Any]:
    """``(format, value)`` of an input, the format found as :func:`detect_format` finds it."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return "lc-b", from_lcb(bytes(data))
    text = text_input(data, "hlxl")
    stripped = text.strip()
    parsed: list[tuple[str, Any]] = []
    furthest: ParseError | None = None
    for fmt in FORMATS:
        try:
            value = DECODERS[fmt](text)
        except ParseError as error:
            if furthest is None or error.offset > furthest.offset:
                furthest = error
            continue
        try:
            if ENCODERS[fmt](value) == stripped:
                return fmt, value
        except HLXError:
            pass  # parses but cannot be re-encoded (e.g. over a limit): not canonical
        parsed.append((fmt, value))
    if parsed:
        return parsed[0]
    assert furthest is not None
    raise ParseError(
        furthest.format,
        "input is not valid HLXL, LC-T, LC-R or LC-B text; the longest valid prefix is "
        f"{FORMAT_TITLES[furthest.format]}, which fails here: {furthest.reason}",
        line=furthest.line,
        column=furthest.column,
        offset=furthest.offset,
        excerpt=furthest.excerpt,
    )


def detect_format(data: str | bytes) -> str:
    """The format of an input: ``"hlxl"``, ``"lc-t"``, ``"lc-r"`` or ``"lc-b"``.

    ``bytes`` are LC-B binary. For text: the first format, in the order HLXL, LC-T, LC-R,
    LC-B text, in which the input (less surrounding whitespace) is canonical; else the first
    in that order in which it parses; else a ParseError from the format that read furthest.
    So ``42`` and ``[1, 2, 3]`` are HLXL, ``[1,2,3]`` is LC-T and ``[[0x01]]`` is LC-B.
    """
    return detect_value(data)[0]


def convert(text: str | bytes, to: str, frm: str | None = None) -> str:
    """Rewrite ``text`` in format ``to`` (canonical); the source is detected when ``frm`` is None.

    ``to="lc-b"`` gives the LC-B text notation; use :func:`to_lcb` for the binary bytes.
    """
    target = normalize_format(to)
    if frm is None:
        _, value = detect_value(text)
    else:
        value = DECODERS[normalize_format(frm)](text)
    return ENCODERS[target](value)


from .instructions import answer  # noqa: E402 - these read api's tables lazily, so import after them
from .requests import parse_request  # noqa: E402


def answer_instruction(instruction: str) -> str:
    """The reference answer to a request (see :func:`translate`)."""
    request = parse_request(instruction)
    if request.has_value:
        return answer(request.instruction, value=request.value)
    return answer(request.instruction)


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
    if backend == "reference":
        return convert(text, to) if to is not None else answer_instruction(text)
    if backend == "moe":
        return _moe_backend()(text, to)
    raise HLXError(f"unknown backend {backend!r}; expected 'reference' or 'moe'")


def _moe_backend() -> Callable[[str, str | None], str]:
    try:
        from hlx_moe import translate_with_moe
    except ImportError as error:
        raise BackendUnavailable(
            "backend='moe' needs the [moe] extra (torch, transformers, peft, llguidance): "
            "pip install torch==2.13.0 && pip install 'hlx[moe]'  "
            f"(import failed: {error})"
        ) from None
    return translate_with_moe
