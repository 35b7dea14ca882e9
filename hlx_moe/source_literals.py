"""The literals an answer may hold: those written in the instruction's value.

A translation between HLX notations keeps every scalar of the value and changes only its
spelling: an integer is decimal in HLXL, LC-T and LC-R and hex in LC-B, a string is escaped
to ASCII in LC-T and LC-B and raw in HLXL and LC-R, a byte string is ``b"..."`` in HLXL and
hex in the others (a float is spelled the same in all four). A small language model respells badly -- converting bases above all: a
wrong integer was the only mistake of 16 of the shipped coordinator's 41 wrong answers to
its format tasks (docs/moe-results.md). So, with ``source_literals`` on (the mixture's
default), the answer constraint allows an integer, float, string or byte-string value only
from those written in the instruction's value, each in the answer format's canonical
spelling (floats too: held to the integers alone, the model wrote the integer it wanted as a
float, ``528.3`` for ``514``). The model still chooses which goes where, and everything
else: the structure, the keys, handles, contract ids and field indices. Keys are not restricted, so an answer can
always be written; a kind the value holds none of is not restricted either.

The literals are found lexically, not by parsing the value (which may not parse): strings,
byte strings and floats by the source format's own ``STRING``, ``BYTES`` and ``FLOAT``
terminals (from ``grammars/``), scanned left to right, and integers as every decimal or ``0x`` hex literal
that is not glued to a word, a float, a hex byte string or an escape, so digits inside a
string count too. This errs on the side of allowing more: every integer, float, string and
byte string of every reference answer of the corpora is among those of its instruction
(tests/test_source_literals.py checks them all). An instruction whose answer holds values
its value does not (``Write an array of the numbers 1 to 5 in LC-T``) has no value the
router can read, so nothing is restricted.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass

from hlx_formats._lexical import LexicalError, bytes_from_hex, unquote_bytes, unquote_string
from hlx_formats.api import ENCODERS
from hlx_formats.errors import HLXError
from hlx_formats.grammar import lark_parser

__all__ = ["SourceLiterals", "literals_in", "integers_in", "restrict_literals", "spelling"]

# A decimal or hex integer literal, signed or not, that is not glued to a word, a number
# (".5", "5.", "1e+5"), a hex byte string ("#5912") or an escape ("\x41", "\u0041").
_INTEGER_LITERAL = re.compile(r"(?<![\w.+#\\])-?(?:0[xX][0-9a-fA-F]+|[0-9]+)(?![\w.])")
_SMALLEST, _LARGEST = -(2**63), 2**64 - 1  # the data model's integers

# The terminal of each kind of value in each format's canonical grammar (keys, ids and field
# indices have terminals of their own).
_TERMINALS = {
    "integers": {"hlxl": "INT", "lc-t": "INT", "lc-r": "INT", "lc-b": "HEX"},
    "strings": dict.fromkeys(("hlxl", "lc-t", "lc-r", "lc-b"), "STRING"),
    "byte_strings": dict.fromkeys(("hlxl", "lc-t", "lc-r", "lc-b"), "BYTES"),
    "floats": dict.fromkeys(("hlxl", "lc-t", "lc-r", "lc-b"), "FLOAT"),
}


@dataclass(frozen=True)
class SourceLiterals:
    """The integers, strings, byte strings and floats written in an instruction's value
    (``floats`` as their canonical spelling, the same in every format, so that ``0.0`` and
    ``-0.0`` stay two)."""

    integers: frozenset[int] = frozenset()
    strings: frozenset[str] = frozenset()
    byte_strings: frozenset[bytes] = frozenset()
    floats: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.integers or self.strings or self.byte_strings or self.floats)


def integers_in(value_text: str) -> frozenset[int]:
    """The integers written in ``value_text``, in decimal or ``0x`` hex, within the data
    model's range (-2**63 .. 2**64-1)."""
    found = set()
    for match in _INTEGER_LITERAL.finditer(value_text):
        literal = match.group()
        number = int(literal, 16 if "x" in literal.lower() else 10)
        if _SMALLEST <= number <= _LARGEST:
            found.add(number)
    return frozenset(found)


@functools.cache
def _literal_token(source_format: str) -> re.Pattern[str]:
    """A regex matching a string, a byte string or a float of ``source_format`` (lenient, as
    its grammar file writes them), in named groups, in that order (a string's insides are
    never read as the others)."""
    patterns = {terminal.name: terminal.pattern.to_regexp() for terminal in lark_parser(source_format).terminals}
    return re.compile(f"(?P<string>{patterns['STRING']})|(?P<bytes>{patterns['BYTES']})|(?P<float>{patterns['FLOAT']})")


def literals_in(value_text: str, source_format: str) -> SourceLiterals:
    """The integers, strings, byte strings and floats written in ``value_text``, a value in
    ``source_format``. A string or byte string whose escapes do not decode, and a float
    beyond a double's range, are left out."""
    strings, byte_strings, floats = set(), set(), set()
    for match in _literal_token(source_format).finditer(value_text):
        token = match.group()
        try:
            if match.group("float") is not None:
                if math.isfinite(float(token)):
                    floats.add(spelling(float(token), "hlxl"))
            elif match.group("string") is not None:
                strings.add(unquote_string(token))
            elif token.startswith('b"'):
                byte_strings.add(unquote_bytes(token))
            else:  # "#" or "⊠" and hex digits
                byte_strings.add(bytes_from_hex(token, 1))
        except LexicalError:  # not a value the data model has (a lone surrogate, odd hex digits)
            continue
    return SourceLiterals(integers_in(value_text), frozenset(strings), frozenset(byte_strings), frozenset(floats))


def spelling(value: int | float | str | bytes, fmt: str) -> str:
    """``value`` as the canonical grammar of ``fmt`` spells it inside a value."""
    text = ENCODERS[fmt](value)
    return text[1:-1] if fmt == "lc-b" else text  # LC-B frames a top-level value in brackets


def restrict_literals(grammar: str, fmt: str, literals: SourceLiterals) -> str:
    """``grammar`` (the canonical Lark grammar of ``fmt``) with the terminal of each kind of
    value that ``literals`` holds some of replaced by the alternatives it holds, spelled as
    ``fmt`` spells them."""
    lines = grammar.splitlines()
    for kind, terminals in _TERMINALS.items():
        values = getattr(literals, kind)
        if not values:
            continue
        definition = terminals[fmt] + ":"
        found = [index for index, line in enumerate(lines) if line.startswith(definition)]
        if len(found) != 1:  # the grammar file changed under this module
            raise HLXError(f"the canonical {fmt} grammar has {len(found)} lines defining {definition[:-1]}, expected 1")
        spellings = sorted(values if kind == "floats" else (spelling(value, fmt) for value in values))
        lines[found[0]] = f"{definition} " + " | ".join(json.dumps(text, ensure_ascii=False) for text in spellings)
    return "\n".join(lines) + "\n"
