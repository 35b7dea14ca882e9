"""The integers an answer may hold: those written in the instruction's value.

A translation between HLX notations keeps every scalar of the value and changes only its
spelling. For an integer the spelling changes by arithmetic -- decimal in HLXL, LC-T and
LC-R, hex in LC-B -- and a small language model converts bases badly: a wrong integer was
the only mistake of 16 of the coordinator's 41 wrong answers to its format tasks
(docs/moe-results.md). So, with ``source_integers`` on (the mixture's default), the answer
constraint allows an integer value only from the integers written in the instruction's
value, each in the answer format's canonical spelling: the model still chooses which one
goes where, and everything else in the answer.

The integers are found lexically, not by parsing the value (which may not parse): every
decimal or ``0x`` hex literal that is not part of a word, a float, a byte string in hex or an
escape, so digits inside a string count too. This errs on the side of allowing more: every
integer value of every reference answer of the corpora is among the integers of its
instruction (tests/test_moe.py checks them all). What it does not cover is an instruction
whose answer holds integers its value does not (``Write an array of the numbers 1 to 5 in
LC-T``): such an instruction has no value the router can read, so no restriction applies.
A value with no integer literal at all also leaves the integers unrestricted.
"""

from __future__ import annotations

import re

from hlx_formats.errors import HLXError
from hlx_formats.lcb import to_lcb_text

__all__ = ["integers_in", "restrict_integers"]

# A decimal or hex integer literal, signed or not, that is not glued to a word, a number
# (".5", "5.", "1e+5"), a hex byte string ("#5912") or an escape ("\x41", "\u0041").
_INTEGER_LITERAL = re.compile(r"(?<![\w.+#\\])-?(?:0[xX][0-9a-fA-F]+|[0-9]+)(?![\w.])")
_SMALLEST, _LARGEST = -(2**63), 2**64 - 1  # the data model's integers

# The terminal of an integer value in each format's canonical grammar (ids and field indices
# have terminals of their own).
_INTEGER_TERMINAL = {"hlxl": "INT", "lc-t": "INT", "lc-r": "INT", "lc-b": "HEX"}


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


def spelling(number: int, fmt: str) -> str:
    """``number`` as the canonical grammar of ``fmt`` spells an integer value."""
    return to_lcb_text(number)[1:-1] if fmt == "lc-b" else str(number)


def restrict_integers(grammar: str, fmt: str, integers: frozenset[int]) -> str:
    """``grammar`` (the canonical Lark grammar of ``fmt``) with its integer-value terminal
    replaced by the alternatives ``integers``, spelled as ``fmt`` spells them."""
    terminal = _INTEGER_TERMINAL[fmt] + ":"
    lines = grammar.splitlines()
    found = [index for index, line in enumerate(lines) if line.startswith(terminal)]
    if len(found) != 1:  # the grammar file changed under this module
        raise HLXError(f"the canonical {fmt} grammar has {len(found)} lines defining {terminal[:-1]}, expected 1")
    alternatives = " | ".join(f'"{spelling(number, fmt)}"' for number in sorted(integers))
    lines[found[0]] = f"{terminal} {alternatives}"
    return "\n".join(lines) + "\n"
