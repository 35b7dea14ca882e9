"""Round-trip reranking: of a beam search's best answers, the one that translates back best.

A beam search ranks its answers by their own log-probability, and a model that is sure of a
wrong digit in a hex byte ranks the slip first. The experts also know the way back: the
runic expert that writes ``Convert to LC-R: X`` also answers ``Parse LC-R: Y``. Adding,
for each candidate answer ``Y``, the log-probability that the mixture translates ``Y`` back
to the instruction's own value ``X`` (the noisy-channel reranking of machine translation)
asks the model a second question whose answer is known, and a candidate with a slip in it
makes that answer improbable where the slip is.

Nothing here reads the reference encoders: the way back is scored on the value as the user
wrote it, so every candidate is scored against the same text.
"""

from __future__ import annotations

from hlx_formats.grammar import normalize_format
from hlx_formats.instructions import Instruction, instruction_for, parse_instruction

__all__ = ["reverse_queries"]


def _answer_values(instruction: Instruction, answer: str) -> list[tuple[str, str]]:
    """(format, value text) of each value in ``answer``: one, or four for an all-formats
    answer (one line each, ``TITLE: value``; canonical values have no raw newline)."""
    if instruction.target_format != "all":
        return [(instruction.target_format, answer.removeprefix(instruction.prefix))]
    values = []
    for line in answer.split("\n"):
        title, separator, text = line.partition(": ")
        if separator:
            values.append((normalize_format(title), text))
    return values


def reverse_queries(instruction: Instruction | str, answer: str) -> list[tuple[str, str]]:
    """``(instruction, expected answer)`` pairs that translate ``answer`` back to the value
    of ``instruction``: one for a one-format answer, one for each line of an all-formats
    answer but the line in the source format. Empty where there is no way back: no value
    (questions, intents), an answer in the value's own format, or LC-B to or from LC-T or
    LC-R (no single instruction goes there)."""
    if not isinstance(instruction, Instruction):
        instruction = parse_instruction(instruction)
    source, value = instruction.source_format, instruction.value_text
    if source is None or value is None or instruction.target_format == "text":
        return []
    pairs = []
    for answer_format, answer_value in _answer_values(instruction, answer):
        back = instruction_for(answer_format, source, answer_value) if answer_format != source else None
        if back is not None:
            pairs.append((back, parse_instruction(back).prefix + value))
    return pairs
