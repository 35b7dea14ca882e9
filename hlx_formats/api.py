"""The public operations: the codecs by format name (:mod:`hlx_formats.formats`) and
``translate``, which answers requests (:mod:`hlx_formats.requests`) with the reference codecs
or with a backend another package installs (:mod:`hlx_formats.plugins`)."""

from __future__ import annotations

from .errors import HLXError
from .formats import DECODERS, ENCODERS, convert, decode_as, detect_format, detect_value, encode_as, repeats_key
from .instructions import answer
from .plugins import load_backend
from .requests import parse_request

__all__ = [
    "ENCODERS", "DECODERS", "encode_as", "decode_as", "detect_format", "detect_value", "convert", "translate",
    "answer_instruction", "repeats_key",
]  # fmt: skip

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
    if not isinstance(backend, str):
        raise HLXError(f"unknown backend {backend!r}; expected a name such as 'reference' or 'moe'")
    return load_backend(backend)(text, to)
