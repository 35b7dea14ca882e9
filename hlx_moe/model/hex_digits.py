"""Hex digits as single tokens: one consistent tokenisation of every hex literal.

The embedded base's tokenizer splits decimal numbers into digits but merges some pairs of
hex digits and letters into one token: ``#59bf74a9`` is ``# 5 9 bf 7 4 a 9`` and
``\\xba\\xc5`` is ``\\ x ba \\ xc 5``. So the same byte is a different token sequence in
different places, and the model must learn each spelling's hex-to-character table apart.
With ``hex_digit_tokens`` (a preset field, ``--set hex_digit_tokens=true``), every hex digit
of a hex literal -- the digits after ``0x``, ``#``, ``⊠``, ``\\x`` (two) and ``\\u`` (four)
-- is its own token, in training and when the expert reads a prompt or scores an answer;
the rest of the text is tokenised as before. No token is added: single characters are
already in the vocabulary.

An expert trained so generates hex digits one at a time because that is all it has seen;
decoding does not forbid the merged tokens.
"""

from __future__ import annotations

import re
from typing import Any

from hlx_formats.errors import HLXError

__all__ = ["HEX_DIGIT_RUN", "hex_runs", "encode"]

# The digits of a hex literal in any of the four formats (the grammars' BYTES, LC-B's
# integers and the \x and \u escapes), upper or lower case, as the lenient grammars read them.
HEX_DIGIT_RUN = re.compile(r"(?:(?<=0x)|(?<=#)|(?<=⊠))[0-9a-fA-F]+|(?<=\\x)[0-9a-fA-F]{2}|(?<=\\u)[0-9a-fA-F]{4}")


def hex_runs(text: str) -> list[tuple[int, int]]:
    """The (start, end) spans of ``text``'s hex digit runs, in order."""
    return [match.span() for match in HEX_DIGIT_RUN.finditer(text)]


def encode(tokenizer: Any, text: str, *, hex_digits: bool) -> list[int]:
    """``text``'s token ids without special tokens; with ``hex_digits`` every hex digit of a
    hex literal is one token and the text between runs is tokenised piece by piece."""
    if not hex_digits:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])
    ids: list[int] = []
    position = 0
    for start, end in hex_runs(text):
        if start > position:
            ids += tokenizer(text[position:start], add_special_tokens=False)["input_ids"]
        ids += [_single_token(tokenizer, digit) for digit in text[start:end]]
        position = end
    if position < len(text):
        ids += tokenizer(text[position:], add_special_tokens=False)["input_ids"]
    return ids


def _single_token(tokenizer: Any, character: str) -> int:
    ids = tokenizer(character, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:  # every byte-level BPE vocabulary has each ASCII character as a token
        raise HLXError(f"hex_digit_tokens needs a single token for each hex digit; this tokenizer has none for {character!r}")
    return int(ids[0])
