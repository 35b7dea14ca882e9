"""Lenient spellings of canonical values: the inputs a specialist learns to read."""

from __future__ import annotations

import json
import random

from lark import Lark, Token

from hlx_formats.grammar import grammar_text
from hlx_formats.lcr import LEGACY_GLYPHS

__all__ = ["lenient_spelling"]

_TOKEN_PARSERS: dict[str, Lark] = {}
_LEGACY = {canonical: legacy for legacy, canonical in LEGACY_GLYPHS.items()}


def _tokens(text: str, fmt: str) -> list[Token]:
    parser = _TOKEN_PARSERS.get(fmt)
    if parser is None:
        parser = _TOKEN_PARSERS[fmt] = Lark(grammar_text(fmt), parser="lalr", keep_all_tokens=True, maybe_placeholders=False)
    tree = parser.parse(text)
    return sorted(tree.scan_values(lambda item: isinstance(item, Token)), key=lambda token: token.start_pos or 0)


def lenient_spelling(text: str, fmt: str, rng: random.Random) -> str:
    """A non-canonical spelling of a canonical text that reads as the same value.

    Whitespace is added or removed between tokens, some bare keys are quoted and, in LC-R,
    some structural glyphs are replaced by their legacy forms.
    """
    tokens = _tokens(text, fmt)
    legacy = fmt == "lc-r" and rng.random() < 0.6
    pieces: list[str] = []
    for position, token in enumerate(tokens):
        spelling = str(token)
        if token.type == "NAME" and rng.random() < 0.5:
            spelling = json.dumps(spelling)
        if legacy and spelling[:1] in _LEGACY and rng.random() < 0.7:
            spelling = _LEGACY[spelling[0]] + spelling[1:]
        pieces.append(spelling)
        if position + 1 < len(tokens):
            between = text[token.end_pos : tokens[position + 1].start_pos]
            roll = rng.random()
            if roll < 0.25:
                between = rng.choice((" ", "  ", "\n", "\t", " \n  "))
            elif roll < 0.4 and not (token.type == "FIELD" and tokens[position + 1].type in ("INT", "FLOAT")):
                between = ""
            pieces.append(between)
    return "".join(pieces)
